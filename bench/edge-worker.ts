/**
 * The Worker (workers/index.ts) with a meter around it, for `npm run bench -- edge`:
 * invocations by kind (HTTP requests by method and route shape, queue consumer
 * batches, cron runs), the subrequests each makes (database pipelines over the DB
 * binding, queue sends; the most in one invocation), and the queue messages sent.
 * `GET /__bench/meter` answers the counters (`?reset=1` zeroes them) and is not counted.
 * Bench only: never deployed.
 */
import worker, { type Env } from "../workers/index";
import { WatchHub as Hub } from "../workers/hub/hub";

/** The agents' tunnels, as the Worker binds them (each agent holds one hibernating control channel). */
export { TunnelObject } from "../workers/tunnel/object";

interface Bucket {
  invocations: number;
  subrequests: number;
  /** the most subrequests one invocation of this kind made */
  maxSubrequests: number;
}

const fresh = () => ({
  since: Date.now(),
  buckets: {} as Record<string, Bucket>,
  queue: { messages: 0, delayed: 0, keys: 0, byResource: {} as Record<string, number> },
  consumer: { invocations: 0, messages: 0, keys: 0, byResource: {} as Record<string, number> },
  cron: 0,
  /** the watch hub: requests by what they were for, alarms, WebSocket messages that reached it (auto-responded ones do not) */
  hub: { requests: {} as Record<string, number>, alarms: 0, messages: 0 },
});
let meter = fresh();

const bucket = (kind: string): Bucket => (meter.buckets[kind] ??= { invocations: 0, subrequests: 0, maxSubrequests: 0 });

/** `PUT leases/{name}`, `GET pods watch`, `GET nodes/{name}/status`... */
export const routeKind = (method: string, url: URL): string => {
  const seg = url.pathname.split("/").filter(Boolean);
  let rest: string[];
  if (seg[0] === "api") rest = seg.slice(2);
  else if (seg[0] === "apis") rest = seg.slice(3);
  else return `${method} /${seg.slice(0, 2).join("/")}`;
  if (!rest.length) return `${method} discovery`;
  let shape: string;
  if (rest[0] === "namespaces" && rest.length >= 3) shape = [rest[2], rest[3] && "{name}", ...rest.slice(4)].filter(Boolean).join("/");
  else shape = [rest[0], rest[1] && "{name}", ...rest.slice(2)].filter(Boolean).join("/");
  const watch = ["true", "1"].includes(url.searchParams.get("watch") ?? "");
  return `${method} ${shape}${watch ? " watch" : ""}`;
};

/** The env with its DB and QUEUE bindings counted against `kind` (one invocation). */
const metered = (env: Env, kind: string): Env => {
  bucket(kind).invocations++;
  let n = 0;
  // looked up at each count: a watch outlives a reset of the meter
  const bump = () => {
    const b = bucket(kind);
    n++;
    b.subrequests++;
    if (n > b.maxSubrequests) b.maxSubrequests = n;
  };
  const db = env.DB;
  const queue = env.QUEUE;
  const hub = env.HUB;
  return {
    ...env,
    HUB: hub && {
      idFromName: (name: string) => hub.idFromName(name),
      get: (id: unknown) => {
        const stub = hub.get(id);
        return {
          fetch: (input: Request | string, init?: RequestInit) => {
            bump();
            const req = new Request(input, init);
            const path = new URL(req.url).pathname;
            const what = path === "/notify" || path === "/liveness" ? path.slice(1) : req.headers.get("Upgrade") ? "watch" : "other";
            meter.hub.requests[what] = (meter.hub.requests[what] ?? 0) + 1;
            return stub.fetch(req);
          },
        };
      },
    },
    DB: db && {
      fetch: (req: Request) => {
        bump();
        return db.fetch(req);
      },
    },
    QUEUE: queue && {
      send: (body: unknown, opts?: { delaySeconds?: number }) => {
        bump();
        meter.queue.messages++;
        if (opts?.delaySeconds) meter.queue.delayed++;
        const keys = (body as { keys?: { resource: string }[] } | null)?.keys ?? [];
        meter.queue.keys += keys.length;
        for (const k of keys) meter.queue.byResource[k.resource] = (meter.queue.byResource[k.resource] ?? 0) + 1;
        return queue.send(body, opts);
      },
    },
  };
};

export default {
  async fetch(req: Request, env: Env, ctx: any): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/__bench/meter") {
      const out = Response.json(meter);
      if (url.searchParams.get("reset")) meter = fresh();
      return out;
    }
    return worker.fetch(req, metered(env, routeKind(req.method, url)), ctx);
  },
  async scheduled(ctrl: any, env: Env, ctx: any): Promise<void> {
    meter.cron++;
    return worker.scheduled(ctrl, metered(env, "cron"), ctx);
  },
  async queue(batch: any, env: Env, ctx: any): Promise<void> {
    meter.consumer.invocations++;
    meter.consumer.messages += batch.messages.length;
    for (const m of batch.messages) {
      const keys = (m.body as { keys?: { resource: string }[] } | null)?.keys ?? [];
      meter.consumer.keys += keys.length;
      for (const k of keys) meter.consumer.byResource[k.resource] = (meter.consumer.byResource[k.resource] ?? 0) + 1;
    }
    return worker.queue(batch, metered(env, "queue consumer"), ctx);
  },
};

/** The watch hub with a meter: its alarms, the messages that woke it, and its database requests. */
export class WatchHub extends Hub {
  constructor(state: any, env: Env) {
    const db = env.DB;
    super(state, {
      ...env,
      DB: db && {
        fetch: (req: Request) => {
          const b = bucket("watch hub (fan-out, catch-up, alarm)");
          b.subrequests++;
          return db.fetch(req);
        },
      },
    });
  }
  override async alarm(): Promise<void> {
    meter.hub.alarms++;
    return super.alarm();
  }
  override async webSocketMessage(ws: any, message: string | ArrayBuffer): Promise<void> {
    meter.hub.messages++;
    return super.webSocketMessage(ws, message);
  }
}
