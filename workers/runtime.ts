/**
 * The Worker's control plane for one invocation (fetch, queue, cron, and the watch
 * hub's alarm): a libSQL client, store, registry, controllers and HTTP app, built from
 * the Worker's bindings. Shared by workers/index.ts and workers/hub.
 */
import { type Client, createClient } from "@libsql/client/web";
import { DEFAULT_NETWORK, networkConfigErrors } from "../shared/net/cidr";
import { AuthCaches } from "./registry/rbac/service";
import { anyOf, type Authenticator, parseTokenFile, staticTokens, type TokenFileEntry } from "./api/auth";
import type { WatchServer } from "./api/rest";
import { composeApp, composeControlPlane } from "./compose";
import { CONTROLLERS } from "./controllers";
import { type ControllerManager, SubrequestBudgetExhausted } from "./controllers/manager";
import { cloudflareQueue, discardQueue } from "./queue";
import { CredentialCache } from "./registry/credentials";
import type { Registry } from "./registry/registry";
import type { Store } from "./store/store";
import { refreshCustomKinds } from "./registry/crd/catalog";
import { type CachedSummary, ResourceMetrics } from "./registry/metrics-resources";
import { edgeStats, type TunnelNamespace } from "./tunnel/edge";

/** Bindings and variables of the Worker (see wrangler.toml). */
export interface Env {
  /** libSQL endpoint: Turso/sqld URL (http(s):// or libsql://) */
  LIBSQL_URL: string;
  LIBSQL_AUTH_TOKEN?: string;
  /** admin bearer token (a Worker secret) */
  ADMIN_TOKEN: string;
  /** the dashboard's session key material (optional secret; default ADMIN_TOKEN): changing it signs everyone out */
  DASHBOARD_SECRET?: string;
  /** comma-separated read-only tokens (optional secret) */
  VIEWER_TOKENS?: string;
  /** the `iss` of ServiceAccount tokens (default https://kubernetes.default.svc.cluster.local) */
  SERVICE_ACCOUNT_ISSUER?: string;
  /** static token file, kube-apiserver's --token-auth-file format (optional secret): `token,user,uid,"group1,group2"` lines */
  TOKEN_AUTH_FILE?: string;
  /** largest accepted request body in bytes */
  MAX_BODY_BYTES?: string;
  /** history kept by compaction */
  COMPACT_KEEP_REVISIONS?: string;
  COMPACT_KEEP_SECONDS?: string;
  /** the controllers' work queue (Cloudflare Queue producer) */
  QUEUE?: { send(body: unknown, opts?: { delaySeconds?: number }): Promise<unknown> };
  /** node lease grace period (s, default 40) and default pod tolerationSeconds (default 30) */
  NODE_GRACE_SECONDS?: string;
  /** bindings per scheduling pass (default: what SUBREQUESTS_PER_INVOCATION allows, about five each) */
  MAX_SCHEDULING_WRITES_PER_PASS?: string;
  /** "none" runs the API alone (controllers elsewhere, or tests of the API); default: all controllers */
  CONTROLLERS?: string;
  DEFAULT_TOLERATION_SECONDS?: string;
  /** the pod network, a /24 of it per node (default 10.42.0.0/16) */
  CLUSTER_CIDR?: string;
  /** the Services' virtual IPs (default 10.43.0.0/16) */
  SERVICE_CIDR?: string;
  /** without a watch hub only: longest interval (ms) between a quiet watch's polls of the change log (default 2000) */
  WATCH_POLL_MAX_MS?: string;
  /** optional service binding used as the libSQL transport (tests, dev) */
  DB?: { fetch(req: Request): Promise<Response> };
  /** the agents' tunnels: a Durable Object per node (workers/tunnel/object.ts); answer timeout and streams per node (tests) */
  TUNNEL?: TunnelNamespace;
  TUNNEL_ANSWER_TIMEOUT_MS?: string;
  TUNNEL_MAX_STREAMS?: string;
  /** the watch hub (workers/hub): one Durable Object per cluster; without it, watches poll the change log */
  HUB?: DurableObjectNamespaceLike;
  /** subrequests one invocation may make (default 50: Workers Free; Paid allows 1,000): the controllers stay under it */
  SUBREQUESTS_PER_INVOCATION?: string;
}

/**
 * Counts one invocation's subrequests: the database's HTTP requests, queue sends and
 * Durable Object calls, each of which Cloudflare counts against the invocation's limit.
 * `env` is the Worker's env with those bindings counted; `used` is the count so far.
 * With a `limit`, database requests are refused (SubrequestBudgetExhausted) once all but
 * DB_RESERVE of it is spent: the controller manager sends what it could not finish back
 * to the queue, and that send and the hub's notification still fit. (Cloudflare would
 * fail the request over the limit, and then the requeue too: the key would wait for a
 * resync.)
 */
export const countSubrequests = (env: Env, limit?: number): { env: Env; used: () => number } => {
  let n = 0;
  const counted = <T>(p: () => T): T => {
    n++;
    return p();
  };
  const database = <T>(p: () => Promise<T>): Promise<T> => {
    if (limit !== undefined && n >= limit - DB_RESERVE) return Promise.reject(new SubrequestBudgetExhausted(n, limit));
    return counted(p);
  };
  const { DB: db, QUEUE: queue, HUB: hub } = env;
  return {
    used: () => n,
    env: {
      ...env,
      ...(db && { DB: { fetch: (req: Request) => database(() => db.fetch(req)) } }),
      ...(queue && { QUEUE: { send: (body: unknown, opts?: { delaySeconds?: number }) => counted(() => queue.send(body, opts)) } }),
      ...(hub && {
        HUB: {
          idFromName: (name: string) => hub.idFromName(name),
          get: (id: unknown) => {
            const stub = hub.get(id);
            return { fetch: (input: Request | string, init?: RequestInit) => counted(() => stub.fetch(input, init)) };
          },
        },
      }),
      // the libSQL client's own fetches, without a DB binding
      [COUNT]: (f: () => Promise<Response>) => database(f),
    } as Env,
  };
};

/** Subrequests kept for what follows a refused database request: the deferral's queue send, the hub's notification, requeues of reconciles in flight. */
const DB_RESERVE = 8;

/** Where countSubrequests leaves its counter for the libSQL client built in `runtime`. */
const COUNT = Symbol("count subrequests");

/** The few Durable Object namespace methods used (no dependency on @cloudflare/workers-types). */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(input: Request | string, init?: RequestInit): Promise<Response> };
}

export interface Runtime {
  client: Client;
  store: Store;
  registry: Registry;
  manager: ControllerManager;
  app: ReturnType<typeof composeApp>;
  /** the newest revision this invocation committed (0: none) */
  committed(): number;
  /** bearer tokens and node credentials (the stream endpoints authenticate before the app) */
  authenticate: Authenticator;
}

/** nodes' resource summaries, kept per isolate (workers/registry/metrics-resources.ts) */
const metricsCache = new Map<string, CachedSummary>();

/** Set once this isolate has seen the system namespaces in place (a plain flag: no promise outlives its request). */
let bootstrapped = false;

/**
 * Node credential hashes, kept 30 s per isolate: a node's requests do not each read its
 * credential Secret. Longer than the agents' 20 s lease renewal (else an idle node's
 * every request would miss), and what bounds how long a credential revoked in another
 * isolate still works here (kube-apiserver keeps successful token checks 10 s, webhook ones 2 min).
 */
const credentialCache = new CredentialCache(30_000);

/** The ServiceAccount signing key and the RBAC objects, kept per isolate (the RBAC view is checked against the change log on each use). */
const authCaches = new AuthCaches();

/** TOKEN_AUTH_FILE parsed once per isolate (and again if the secret changes). */
let tokenFile: { text: string; entries: TokenFileEntry[] } | undefined;
const tokenFileEntries = (text: string | undefined): TokenFileEntry[] => {
  if (!text) return [];
  if (tokenFile?.text !== text) {
    const parsed = parseTokenFile(text, "TOKEN_AUTH_FILE");
    for (const w of parsed.warnings) console.warn(w);
    tokenFile = { text, entries: parsed.entries };
  }
  return tokenFile.entries;
};

/** Subrequests per invocation: Workers Free allows 50, Paid 1,000 (SUBREQUESTS_PER_INVOCATION). */
export const subrequestLimit = (env: Env) => (env.SUBREQUESTS_PER_INVOCATION ? Number(env.SUBREQUESTS_PER_INVOCATION) : 50);

export const graceMs = (env: Env) => (env.NODE_GRACE_SECONDS ? Number(env.NODE_GRACE_SECONDS) * 1000 : 40_000);

/**
 * Everything for one invocation. Workers cancel work whose promise is settled from
 * another request's context, so nothing that holds pending promises (the libSQL
 * client's request queue) is shared between requests; all of it is cheap to build.
 * `watchServer` serves the app's watches (the hub); `nodeLiveness` is node lifecycle's
 * second source of node liveness besides Leases (the hub's sockets).
 */
export const runtime = async (
  env: Env,
  o: { watchServer?: WatchServer; nodeLiveness?: () => Promise<Record<string, number>>; subrequests?: () => number } = {},
): Promise<Runtime> => {
  const db = env.DB;
  const count = (env as { [COUNT]?: (f: () => Promise<Response>) => Promise<Response> })[COUNT];
  const client = createClient({
    url: env.LIBSQL_URL,
    authToken: env.LIBSQL_AUTH_TOKEN,
    intMode: "number",
    ...(db
      ? { fetch: (input: Request | string, init?: RequestInit) => db.fetch(new Request(input, init)) }
      : count
        ? {
            fetch: (input: Request | string, init?: RequestInit) => count(() => fetch(input, init)),
          }
        : {}),
  } as Parameters<typeof createClient>[0]);
  const network = {
    clusterCIDR: env.CLUSTER_CIDR || DEFAULT_NETWORK.clusterCIDR,
    serviceCIDR: env.SERVICE_CIDR || DEFAULT_NETWORK.serviceCIDR,
  };
  const networkErrors = networkConfigErrors(network, { cluster: "CLUSTER_CIDR", service: "SERVICE_CIDR" });
  if (networkErrors.length) throw new Error(networkErrors.join("; "));
  const tolerationSeconds = env.DEFAULT_TOLERATION_SECONDS ? Number(env.DEFAULT_TOLERATION_SECONDS) : undefined;
  const cp = composeControlPlane({
    client,
    // this invocation's own store: its commits tell the hub (no listener outlives the invocation)
    notifyListeners: true,
    queue: env.QUEUE ? cloudflareQueue(env.QUEUE) : discardQueue,
    controllers: env.CONTROLLERS === "none" ? [] : CONTROLLERS,
    ...(o.subrequests && { budget: { used: o.subrequests, limit: subrequestLimit(env) } }),
    // without a hub, a watch polls the change log every 500 ms while things change, backing off to 2 s
    registry: {
      watchPollMs: 500,
      watchPollMaxMs: env.WATCH_POLL_MAX_MS ? Number(env.WATCH_POLL_MAX_MS) : 2000,
      credentialCache,
      authCaches,
      ...(env.SERVICE_ACCOUNT_ISSUER ? { serviceAccountIssuer: env.SERVICE_ACCOUNT_ISSUER } : {}),
    },
    network,
    config: {
      ...(env.NODE_GRACE_SECONDS ? { nodeMonitorGracePeriodMs: graceMs(env) } : {}),
      ...(tolerationSeconds !== undefined ? { defaultTolerationSeconds: tolerationSeconds } : {}),
      // a binding costs about five subrequests: as many as fit the invocation's budget (8 on Workers Free, ~200 on Paid)
      maxSchedulingWritesPerPass: env.MAX_SCHEDULING_WRITES_PER_PASS
        ? Number(env.MAX_SCHEDULING_WRITES_PER_PASS)
        : Math.max(1, Math.floor((subrequestLimit(env) - 10) / 5)),
      ...(o.nodeLiveness ? { nodeLiveness: o.nodeLiveness } : {}),
    },
  });
  const { store, registry, manager } = cp;
  // resource usage (metrics.k8s.io, the HPA): asked of an agent through its tunnel object when read, kept 15 s per isolate
  if (env.TUNNEL) registry.resourceMetrics = new ResourceMetrics(edgeStats(env.TUNNEL), { cache: metricsCache });
  let committed = 0;
  store.onCommit((rev) => {
    committed = Math.max(committed, rev);
  });
  const tokens = staticTokens({
    adminToken: env.ADMIN_TOKEN,
    viewerTokens: env.VIEWER_TOKENS?.split(",").filter(Boolean),
    tokenFile: tokenFileEntries(env.TOKEN_AUTH_FILE),
  });
  // built when first asked for: the cron and the queue consumer serve no HTTP (building the routes is ~1 ms of CPU)
  let app: ReturnType<typeof composeApp> | undefined;
  const appOf = () =>
    (app ??= composeApp(cp, {
      tokens,
      maxBodyBytes: env.MAX_BODY_BYTES ? Number(env.MAX_BODY_BYTES) : undefined,
      watchServer: o.watchServer,
      dashboard: { secret: env.DASHBOARD_SECRET || env.ADMIN_TOKEN },
    }));
  if (!bootstrapped) {
    await registry.bootstrap();
    bootstrapped = true;
  }
  // this isolate's custom resource catalog: read again only when older than 5 s (workers/registry/crd/catalog.ts)
  await refreshCustomKinds(store);
  return {
    client,
    store,
    registry,
    manager,
    get app() {
      return appOf();
    },
    committed: () => committed,
    authenticate: registry.auth.authenticate(anyOf(tokens, (t) => registry.nodes.authenticate(t))),
  };
};
