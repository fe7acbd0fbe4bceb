import { statusResponse } from "./api/errors";
import { internalError } from "../shared/status";
import type { QueuedKey } from "./queue";
import { hubLiveness, hubOf, hubWatchServer, notifyHub } from "./hub/hub";
import { serveStreamsEdge } from "./tunnel/edge";
import { EXEC_PREFIX, execUpgrade } from "./dashboard/terminal";
import { countSubrequests, type Env, type Runtime, runtime, subrequestLimit } from "./runtime";

export type { Env } from "./runtime";
/** The watch hub's Durable Object class (wrangler.toml: binding HUB, a new_sqlite_classes migration). */
export { WatchHub } from "./hub/hub";
export { TunnelObject } from "./tunnel/object";

/**
 * The invocation's control plane. With the watch hub bound, watches are the hub's
 * (no polling here) and node lifecycle also weighs the hub's node liveness.
 */
const runtimeOf = (env: Env, subrequests?: () => number) =>
  runtime(env, { ...(hubOf(env) ? { watchServer: hubWatchServer(env), nodeLiveness: hubLiveness(env) } : {}), subrequests });

/** The cron's compaction and log sweep run at minutes divisible by this (each is a few subrequests; neither is urgent). */
const HOUSEKEEPING_MINUTES = 5;

/** A dashboard terminal's upgrade as the API's exec request, with the signed-in user's token (and without the session cookie). */
const dashboardExec = async (req: Request, secret: string): Promise<Request> => {
  const url = new URL(req.url);
  const { path, token } = await execUpgrade(secret, { url, cookie: req.headers.get("cookie"), origin: req.headers.get("origin"), host: url.host });
  const headers = new Headers(req.headers);
  headers.set("Authorization", `Bearer ${token}`);
  headers.delete("cookie");
  return new Request(new URL(path, url), { method: req.method, headers });
};

export default {
  async fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    let rt: Runtime;
    try {
      rt = await runtimeOf(env);
    } catch (e) {
      // e.g. a malformed TOKEN_AUTH_FILE or an unreachable database: a Status that says so
      console.error(e);
      return statusResponse(internalError(`the server could not start: ${(e as Error).message}`));
    }
    const maxBodyBytes = env.MAX_BODY_BYTES ? Number(env.MAX_BODY_BYTES) : undefined;
    // exec/attach/port-forward and the proxies go to the node's tunnel (workers/tunnel/edge.ts); so does the
    // dashboard's terminal, as the API's exec with its session's token (workers/dashboard/terminal.tsx)
    let streamReq = req;
    if (new URL(req.url).pathname.startsWith(EXEC_PREFIX)) {
      try {
        streamReq = await dashboardExec(req, env.DASHBOARD_SECRET || env.ADMIN_TOKEN);
      } catch (e) {
        return statusResponse(e);
      }
    }
    const streamed = await serveStreamsEdge(streamReq, { registry: rt.registry, authenticate: rt.authenticate, tunnel: env.TUNNEL, maxBodyBytes });
    const res = streamed ?? (await rt.app.fetch(req, env, ctx as Parameters<typeof rt.app.fetch>[2]));
    // After the response, not before it: the write is committed in libSQL (the watchers'
    // source of truth) whatever happens to the notification, the client does not wait
    // for the fan-out, and the hub is told once per invocation, not once per write.
    const rev = rt.committed();
    if (rev) ctx.waitUntil(notifyHub(env, rev));
    return res;
  },

  /** Cron: the controllers' resync (node leases, time-based work, GC sweep), then compaction. */
  async scheduled(ctrl: ScheduledController, rawEnv: Env, _ctx: ExecutionContext): Promise<void> {
    // its subrequests counted: the controllers stay within the plan's limit
    const { env, used } = countSubrequests(rawEnv, subrequestLimit(rawEnv));
    const rt = await runtimeOf(env, used);
    try {
      // the cron fires once a minute (wrangler.toml)
      const at = new Date(ctrl?.scheduledTime ?? Date.now());
      await rt.manager.resync({ at, intervalMs: 60_000 });
      // housekeeping every fifth minute: the change log's compaction and the log store's sweep
      if (Math.floor(at.getTime() / 60_000) % HOUSEKEEPING_MINUTES === 0) {
        await rt.store.compact({
          keepRevisions: env.COMPACT_KEEP_REVISIONS ? Number(env.COMPACT_KEEP_REVISIONS) : undefined,
          keepMs: env.COMPACT_KEEP_SECONDS ? Number(env.COMPACT_KEEP_SECONDS) * 1000 : undefined,
        });
        await rt.registry.logs.sweep();
      }
    } finally {
      await notifyHub(env, rt.committed());
    }
  },

  /** Queue consumer: keys of changed objects, dispatched to the controllers in one batch. */
  async queue(batch: MessageBatch<unknown>, rawEnv: Env, _ctx: ExecutionContext): Promise<void> {
    // its subrequests counted: the controllers stay within the plan's limit
    const { env, used } = countSubrequests(rawEnv, subrequestLimit(rawEnv));
    const rt = await runtimeOf(env, used);
    const keys: QueuedKey[] = [];
    for (const m of batch.messages) {
      const body = m.body as { keys?: QueuedKey[] } | null;
      if (Array.isArray(body?.keys)) keys.push(...body.keys);
    }
    // failures inside are requeued per key with backoff, so the batch is always acknowledged
    try {
      await rt.manager.dispatch(keys);
    } finally {
      await notifyHub(env, rt.committed());
    }
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
