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
import type { ControllerManager } from "./controllers/manager";
import { cloudflareQueue, discardQueue } from "./queue";
import { CredentialCache } from "./registry/credentials";
import type { Registry } from "./registry/registry";
import type { Store } from "./store/store";
import type { TunnelNamespace } from "./tunnel/edge";

/** Bindings and variables of the Worker (see wrangler.toml). */
export interface Env {
  /** libSQL endpoint: Turso/sqld URL (http(s):// or libsql://) */
  LIBSQL_URL: string;
  LIBSQL_AUTH_TOKEN?: string;
  /** admin bearer token (a Worker secret) */
  ADMIN_TOKEN: string;
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
  /** bindings per scheduling pass (default 100), within the subrequest budget of one invocation */
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
}

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

export const graceMs = (env: Env) => (env.NODE_GRACE_SECONDS ? Number(env.NODE_GRACE_SECONDS) * 1000 : 40_000);

/**
 * Everything for one invocation. Workers cancel work whose promise is settled from
 * another request's context, so nothing that holds pending promises (the libSQL
 * client's request queue) is shared between requests; all of it is cheap to build.
 * `watchServer` serves the app's watches (the hub); `nodeLiveness` is node lifecycle's
 * second source of node liveness besides Leases (the hub's sockets).
 */
export const runtime = async (env: Env, o: { watchServer?: WatchServer; nodeLiveness?: () => Promise<Record<string, number>> } = {}): Promise<Runtime> => {
  const db = env.DB;
  const client = createClient({
    url: env.LIBSQL_URL,
    authToken: env.LIBSQL_AUTH_TOKEN,
    intMode: "number",
    ...(db ? { fetch: (input: Request | string, init?: RequestInit) => db.fetch(new Request(input, init)) } : {}),
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
      // a Worker invocation may make 1,000 subrequests (50 on the free plan); a binding costs about five
      maxSchedulingWritesPerPass: env.MAX_SCHEDULING_WRITES_PER_PASS ? Number(env.MAX_SCHEDULING_WRITES_PER_PASS) : 100,
      ...(o.nodeLiveness ? { nodeLiveness: o.nodeLiveness } : {}),
    },
  });
  const { store, registry, manager } = cp;
  let committed = 0;
  store.onCommit((rev) => {
    committed = Math.max(committed, rev);
  });
  const tokens = staticTokens({
    adminToken: env.ADMIN_TOKEN,
    viewerTokens: env.VIEWER_TOKENS?.split(",").filter(Boolean),
    tokenFile: tokenFileEntries(env.TOKEN_AUTH_FILE),
  });
  const app = composeApp(cp, {
    tokens,
    maxBodyBytes: env.MAX_BODY_BYTES ? Number(env.MAX_BODY_BYTES) : undefined,
    watchServer: o.watchServer,
  });
  if (!bootstrapped) {
    await registry.bootstrap();
    bootstrapped = true;
  }
  return {
    client,
    store,
    registry,
    manager,
    app,
    committed: () => committed,
    authenticate: registry.auth.authenticate(anyOf(tokens, (t) => registry.nodes.authenticate(t))),
  };
};
