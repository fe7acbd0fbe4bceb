import { createClient, type Client } from "@libsql/client/web";
import { anyOf, type Authenticator, parseTokenFile, staticTokens, type TokenFileEntry } from "./api/auth";
import { statusResponse } from "./api/errors";
import { internalError } from "../shared/status";
import { DEFAULT_NETWORK, networkConfigErrors } from "../shared/net/cidr";
import { CONTROLLERS } from "./controllers";
import type { ControllerManager } from "./controllers/manager";
import { composeApp, composeControlPlane } from "./compose";
import { cloudflareQueue, discardQueue } from "./queue";
import type { ObjectKey } from "../shared/types";
import { CredentialCache } from "./registry/credentials";
import type { Registry } from "./registry/registry";
import type { Store } from "./store/store";
import { serveStreamsEdge, type TunnelNamespace } from "./tunnel/edge";

/** Bindings and variables of the Worker (see wrangler.toml). */
export interface Env {
  /** libSQL endpoint: Turso/sqld URL (http(s):// or libsql://) */
  LIBSQL_URL: string;
  LIBSQL_AUTH_TOKEN?: string;
  /** admin bearer token (a Worker secret) */
  ADMIN_TOKEN: string;
  /** comma-separated read-only tokens (optional secret) */
  VIEWER_TOKENS?: string;
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
  /** longest interval (ms) between a quiet watch's polls of the change log (default 2000; 500 for none) */
  WATCH_POLL_MAX_MS?: string;
  /** optional service binding used as the libSQL transport (tests, dev) */
  DB?: { fetch(req: Request): Promise<Response> };
  /** the agents' tunnels: a Durable Object per node (workers/tunnel/object.ts); answer timeout and streams per node (tests) */
  TUNNEL?: TunnelNamespace;
  TUNNEL_ANSWER_TIMEOUT_MS?: string;
  TUNNEL_MAX_STREAMS?: string;
}

export { TunnelObject } from "./tunnel/object";

interface Runtime {
  client: Client;
  store: Store;
  registry: Registry;
  manager: ControllerManager;
  app: ReturnType<typeof composeApp>;
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

/**
 * Everything for one invocation. Workers cancel work whose promise is settled from
 * another request's context, so nothing that holds pending promises (the libSQL
 * client's request queue, watch wake-ups) is shared between requests; all of it is
 * cheap to build.
 */
const runtime = async (env: Env): Promise<Runtime> => {
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
    notifyListeners: false,
    queue: env.QUEUE ? cloudflareQueue(env.QUEUE) : discardQueue,
    controllers: env.CONTROLLERS === "none" ? [] : CONTROLLERS,
    // a watch polls the change log every 500 ms while things change, backing off to 2 s
    // while they don't: a change after a quiet spell reaches watchers up to 2 s late
    registry: { watchPollMs: 500, watchPollMaxMs: env.WATCH_POLL_MAX_MS ? Number(env.WATCH_POLL_MAX_MS) : 2000, credentialCache },
    network,
    config: {
      ...(env.NODE_GRACE_SECONDS ? { nodeMonitorGracePeriodMs: Number(env.NODE_GRACE_SECONDS) * 1000 } : {}),
      ...(tolerationSeconds !== undefined ? { defaultTolerationSeconds: tolerationSeconds } : {}),
      // a Worker invocation may make 1,000 subrequests (50 on the free plan); a binding costs about five
      maxSchedulingWritesPerPass: env.MAX_SCHEDULING_WRITES_PER_PASS ? Number(env.MAX_SCHEDULING_WRITES_PER_PASS) : 100,
    },
  });
  const { store, registry, manager } = cp;
  const tokens = staticTokens({
    adminToken: env.ADMIN_TOKEN,
    viewerTokens: env.VIEWER_TOKENS?.split(",").filter(Boolean),
    tokenFile: tokenFileEntries(env.TOKEN_AUTH_FILE),
  });
  const app = composeApp(cp, {
    tokens,
    maxBodyBytes: env.MAX_BODY_BYTES ? Number(env.MAX_BODY_BYTES) : undefined,
  });
  if (!bootstrapped) {
    await registry.bootstrap();
    bootstrapped = true;
  }
  return { client, store, registry, manager, app, authenticate: anyOf(tokens, (t) => registry.nodes.authenticate(t)) };
};

export default {
  async fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    let rt: Runtime;
    try {
      rt = await runtime(env);
    } catch (e) {
      // e.g. a malformed TOKEN_AUTH_FILE or an unreachable database: a Status that says so
      console.error(e);
      return statusResponse(internalError(`the server could not start: ${(e as Error).message}`));
    }
    const maxBodyBytes = env.MAX_BODY_BYTES ? Number(env.MAX_BODY_BYTES) : undefined;
    const streamed = await serveStreamsEdge(req, { registry: rt.registry, authenticate: rt.authenticate, tunnel: env.TUNNEL, maxBodyBytes });
    return streamed ?? rt.app.fetch(req, env, ctx as Parameters<typeof rt.app.fetch>[2]);
  },

  /** Cron: the controllers' resync (node leases, time-based work, GC sweep), then compaction. */
  async scheduled(_ctrl: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
    const rt = await runtime(env);
    await rt.manager.resync();
    await rt.store.compact({
      keepRevisions: env.COMPACT_KEEP_REVISIONS ? Number(env.COMPACT_KEEP_REVISIONS) : undefined,
      keepMs: env.COMPACT_KEEP_SECONDS ? Number(env.COMPACT_KEEP_SECONDS) * 1000 : undefined,
    });
    await rt.registry.logs.sweep();
  },

  /** Queue consumer: keys of changed objects, dispatched to the controllers in one batch. */
  async queue(batch: MessageBatch<unknown>, env: Env, _ctx: ExecutionContext): Promise<void> {
    const rt = await runtime(env);
    const keys: ObjectKey[] = [];
    for (const m of batch.messages) {
      const body = m.body as { keys?: ObjectKey[] } | null;
      if (Array.isArray(body?.keys)) keys.push(...body.keys);
    }
    // failures inside are requeued per key with backoff, so the batch is always acknowledged
    await rt.manager.dispatch(keys);
    batch.ackAll();
  },
};

// Minimal Workers runtime types (avoid a dependency on @cloudflare/workers-types for three names)
interface ExecutionContext {
  waitUntil(p: Promise<unknown>): void;
  passThroughOnException(): void;
  props?: unknown;
}
interface ScheduledController {
  scheduledTime: number;
  cron: string;
}
interface MessageBatch<T> {
  readonly queue: string;
  readonly messages: readonly { id: string; body: T; ack(): void; retry(): void }[];
  ackAll(): void;
  retryAll(): void;
}
