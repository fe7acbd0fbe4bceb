/**
 * The watch hub: one Durable Object per cluster (`idFromName("cluster")`) that holds
 * every watch on the Worker as a hibernating WebSocket, so an idle watch costs nothing:
 * no database polling, no duration billing while the object sleeps.
 *
 * - A watch arrives (already authenticated, authorized and checked by the Worker) as a
 *   WebSocket upgrade. The hub reads what the watcher is owed from the libSQL change log
 *   (its start revision onwards, or the current state), sends it, and accepts the
 *   socket with the Hibernation API; the socket's attachment keeps its request (what to
 *   filter, how to render) and the last revision it was served.
 * - After a Worker invocation commits, it tells the hub (`POST /notify` with the
 *   revision). The hub reads the change log once, from the oldest revision any socket
 *   was served, for all resources, and fans the events out to the matching sockets
 *   (workers/registry/watch.ts hubEventFor: the same filtering as a polling watch). The
 *   change log stays the source of truth: resume from a resourceVersion, 410 Expired
 *   when compacted.
 * - Heartbeats: a node agent sends "ping" on its pod watch socket; the runtime answers
 *   "pong" without waking the object (setWebSocketAutoResponse) and keeps the time
 *   (getWebSocketAutoResponseTimestamp). `GET /liveness` tells node lifecycle when each
 *   node was last seen, and an alarm at (earliest last-seen + grace) runs node
 *   lifecycle for nodes past their grace period, so a dead node goes NotReady on time
 *   without waiting for the cron.
 *
 * Plain HTTP watches (kubectl get -w) are served by the Worker, which holds a WebSocket
 * to the hub for them and writes each message as a line of the HTTP stream
 * (hubWatchServer): the hub still hibernates; the Worker invocation stays open.
 */
import type { KObject, WatchEvent } from "../../shared/types";
import { listOptions } from "../api/options";
import { resolvePath, decodeSegment, type Target, type WatchServer } from "../api/rest";
import { tableRenderer } from "../api/table";
import type { User } from "../registry/user";
import { catchUp, hubEventFor, type WatchOptions, watchOptions } from "../registry/watch";
import { type Env, graceMs, runtime } from "../runtime";
import { type Store, StoreError } from "../store/store";

/** The hub's name: one per cluster (a Worker deployment is one cluster). */
export const HUB_NAME = "cluster";
/** idle watchers that asked for them get a BOOKMARK at a fan-out at most this often */
const BOOKMARK_MS = 60_000;
/** the longest watch the API grants (registry maxWatchSeconds) */
const MAX_WATCH_SECONDS = 1800;
/** the heartbeat: the agent's text message and the answer the runtime gives without waking the hub */
export const PING = "ping";
export const PONG = "pong";

/** What each socket keeps across hibernation (serializeAttachment). */
interface Attachment {
  /** the watch request's path and query, and its Accept header (Table rendering) */
  url: string;
  accept?: string;
  /** the node whose credential opened it (liveness), if any */
  node?: string;
  /** the revision this watcher has been served up to */
  rev: number;
  connectedAt: number;
  lastSent: number;
  /** watches with a timeoutSeconds end then (checked at fan-outs) */
  deadline?: number;
}

interface Watcher {
  target: Target;
  opts: WatchOptions;
  render: (ev: WatchEvent) => unknown;
}

// ---- the few Durable Object and workerd types used (no dependency on @cloudflare/workers-types)
interface HubSocket {
  send(message: string): void;
  close(code?: number, reason?: string): void;
  accept?(): void;
  serializeAttachment(v: unknown): void;
  deserializeAttachment(): unknown;
  addEventListener(type: string, listener: (ev: any) => void): void;
  readyState: number;
}
interface HubState {
  acceptWebSocket(ws: HubSocket, tags?: string[]): void;
  getWebSockets(tag?: string): HubSocket[];
  setWebSocketAutoResponse(pair?: unknown): void;
  getWebSocketAutoResponseTimestamp(ws: HubSocket): Date | null;
  storage: {
    get<T>(key: string): Promise<T | undefined>;
    put(key: string, value: unknown): Promise<void>;
    delete(key: string): Promise<boolean>;
    list<T>(o?: { prefix?: string }): Promise<Map<string, T>>;
    getAlarm(): Promise<number | null>;
    setAlarm(t: number): Promise<void>;
    deleteAlarm(): Promise<void>;
  };
}
declare const WebSocketPair: { new (): { 0: HubSocket; 1: HubSocket } };
declare const WebSocketRequestResponsePair: { new (request: string, response: string): unknown };

const USER_HEADER = "X-Kubeflare-Watch-User";

/** A watcher's options with its initial list read from `store`. */
const listed = (store: Store, o: WatchOptions): WatchOptions => ({
  ...o,
  listAll: async () => {
    const r = await store.list(o.resource, { namespace: o.namespace, labels: o.labels, fields: o.fields });
    return { items: r.items, revision: r.revision };
  },
});

/** The watch a request asks for: target, options and rendering (the Worker has checked it already). */
const watcherOf = (url: URL, accept: string | undefined): Watcher => {
  const parts = url.pathname.split("/").filter(Boolean);
  const [group, version, segs] = parts[0] === "api" ? ["", parts[1], parts.slice(2)] : [parts[1], parts[2], parts.slice(3)];
  const target = resolvePath(group, version, segs.map(decodeSegment));
  const { query, allowWatchBookmarks, timeoutSeconds } = listOptions(url.searchParams);
  // no store here: the initial list is read by whoever catches the watcher up (listed())
  const opts = watchOptions(
    undefined as never,
    target.info,
    target.namespace,
    { ...query, allowWatchBookmarks, timeoutSeconds },
    {
      pollMs: 0,
      bookmarkMs: BOOKMARK_MS,
      maxSeconds: MAX_WATCH_SECONDS,
    },
  );
  const includeObject = url.searchParams.get("includeObject") ?? undefined;
  const table = tableRenderer.wants(accept) ? tableRenderer : undefined;
  const render = (ev: WatchEvent): unknown =>
    table && ev.type !== "ERROR" && ev.type !== "BOOKMARK" ? { type: ev.type, object: table.object(target.info, ev.object, { includeObject }) } : ev;
  return { target, opts, render };
};

export class WatchHub {
  /** one read of the change log at a time: catch-ups and fan-outs never interleave */
  private chain: Promise<unknown> = Promise.resolve();
  /** parsed watch requests, per socket (rebuilt from the attachment after hibernation) */
  private watchers = new WeakMap<HubSocket, Watcher>();

  constructor(
    private readonly state: HubState,
    private readonly env: Env,
  ) {
    // heartbeats answered by the runtime itself: the hub is not woken for them
    state.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.chain.then(f);
    this.chain = p.catch(() => {});
    return p;
  }

  async fetch(req: Request): Promise<Response> {
    const url = new URL(req.url);
    try {
      if (url.pathname === "/notify" && req.method === "POST") {
        const { rev } = (await req.json()) as { rev: number };
        await this.serial(() => this.fanOut(Number(rev)));
        return new Response(null, { status: 204 });
      }
      if (url.pathname === "/liveness") return Response.json(await this.liveness());
      if (req.headers.get("Upgrade")?.toLowerCase() === "websocket") return await this.serial(() => this.connect(req, url));
      return new Response("the watch hub serves WebSocket watches", { status: 400 });
    } catch (e) {
      console.error(e);
      return Response.json(
        { kind: "Status", apiVersion: "v1", status: "Failure", code: 500, reason: "InternalError", message: String((e as Error)?.message ?? e) },
        { status: 500 },
      );
    }
  }

  private attachment(ws: HubSocket): Attachment {
    return ws.deserializeAttachment() as Attachment;
  }

  private watcher(ws: HubSocket, a: Attachment): Watcher {
    let w = this.watchers.get(ws);
    if (!w) {
      w = watcherOf(new URL(a.url, "https://hub"), a.accept);
      this.watchers.set(ws, w);
    }
    return w;
  }

  /** A new watcher: what it is owed first, then it joins the fan-out. */
  private async connect(req: Request, url: URL): Promise<Response> {
    const user = JSON.parse(req.headers.get(USER_HEADER) ?? "null") as User | null;
    const accept = req.headers.get("Accept") ?? undefined;
    // the runtime first: it loads the custom resource catalog the watched path may need
    const rt = await runtime(this.env);
    const w = watcherOf(url, accept);
    const first = await catchUp(rt.store, listed(rt.store, w.opts));
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    const now = Date.now();
    const node = user?.role === "node" ? user.nodeName : undefined;
    this.state.acceptWebSocket(server, node ? [`node:${node}`] : []);
    const a: Attachment = {
      url: url.pathname + url.search,
      accept,
      node,
      rev: first.revision,
      connectedAt: now,
      lastSent: now,
      ...(url.searchParams.get("timeoutSeconds") ? { deadline: now + w.opts.timeoutMs } : {}),
    };
    server.serializeAttachment(a);
    this.watchers.set(server, w);
    for (const ev of first.events) server.send(JSON.stringify(w.render(ev)));
    // closed once the upgrade is answered (a close before it is lost)
    if (first.expired) setTimeout(() => server.close(1000, "410 Expired"), 0);
    else if (node) await this.armAlarm(now + graceMs(this.env));
    return new Response(null, { status: 101, webSocket: client } as ResponseInit);
  }

  /** Read the change log once since the oldest revision served and send every socket its events. */
  private async fanOut(rev: number): Promise<void> {
    const sockets = this.state.getWebSockets();
    if (!sockets.length) return;
    const served = sockets.map((ws) => ({ ws, a: this.attachment(ws) }));
    const from = Math.min(...served.map((s) => s.a.rev));
    if (rev <= from) return; // every watcher has been served this far already
    const rt = await runtime(this.env);
    let cursor = from;
    const now = Date.now();
    for (;;) {
      let res: Awaited<ReturnType<typeof rt.store.changesSince>>;
      try {
        res = await rt.store.changesSince({}, cursor, 500);
      } catch (e) {
        if (e instanceof StoreError && e.code === "Expired") {
          // the oldest watcher's history is gone: each one catches up on its own (410 for those too far behind)
          for (const s of served) await this.resync(s.ws, s.a);
          return;
        }
        throw e;
      }
      for (const c of res.changes) {
        for (const s of served) {
          if (c.rev <= s.a.rev) continue;
          const ev = hubEventFor(this.watcher(s.ws, s.a).opts, c);
          if (ev) {
            this.send(s.ws, s.a, ev);
            s.a.lastSent = now;
          }
        }
        cursor = c.rev;
      }
      if (res.changes.length === 500) continue;
      cursor = Math.max(cursor, res.revision);
      break;
    }
    for (const s of served) {
      const w = this.watcher(s.ws, s.a);
      if (s.a.deadline && now >= s.a.deadline) {
        s.ws.close(1000, "watch timeout");
        continue;
      }
      if (cursor <= s.a.rev) continue;
      s.a.rev = cursor;
      if (w.opts.allowBookmarks && now - s.a.lastSent >= BOOKMARK_MS) {
        this.send(s.ws, s.a, {
          type: "BOOKMARK",
          object: { apiVersion: w.opts.typeMeta.apiVersion, kind: w.opts.typeMeta.kind, metadata: { resourceVersion: String(cursor) } } as KObject,
        });
        s.a.lastSent = now;
      }
      s.ws.serializeAttachment(s.a);
    }
  }

  private send(ws: HubSocket, a: Attachment, ev: WatchEvent) {
    try {
      ws.send(JSON.stringify(this.watcher(ws, a).render(ev)));
    } catch {
      // closed meanwhile: webSocketClose forgets it
    }
  }

  /** One watcher catches up on its own from its revision (after the shared read found history compacted). */
  private async resync(ws: HubSocket, a: Attachment): Promise<void> {
    const rt = await runtime(this.env); // first: it loads the custom resource catalog the watcher's path may need
    const w = this.watcher(ws, a);
    const r = await catchUp(rt.store, { ...listed(rt.store, w.opts), fromRevision: a.rev });
    for (const ev of r.events) this.send(ws, a, ev);
    if (r.expired) {
      ws.close(1000, "410 Expired");
      return;
    }
    a.rev = r.revision;
    ws.serializeAttachment(a);
  }

  // ---------------------------------------------------------------- liveness

  /** When each node was last seen: its sockets' last heartbeat (or connection), and those of sockets gone since. */
  async liveness(): Promise<Record<string, number>> {
    const seen: Record<string, number> = {};
    const departed = await this.state.storage.list<number>({ prefix: "seen:" });
    for (const [k, t] of departed) seen[k.slice(5)] = t;
    for (const ws of this.state.getWebSockets()) {
      const a = this.attachment(ws);
      if (!a?.node) continue;
      const t = Math.max(this.state.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0, a.connectedAt);
      seen[a.node] = Math.max(seen[a.node] ?? 0, t);
    }
    return seen;
  }

  private async armAlarm(at: number): Promise<void> {
    const cur = await this.state.storage.getAlarm();
    if (cur === null || cur > at) await this.state.storage.setAlarm(at);
  }

  async webSocketMessage(ws: HubSocket, message: string | ArrayBuffer): Promise<void> {
    // a kube-apiserver watch ignores what the client sends; a heartbeat that reaches the hub
    // (the runtime answers "ping" itself) is answered the same way
    if (message === PING) ws.send(PONG);
  }

  async webSocketClose(ws: HubSocket, code: number, _reason: string, _clean: boolean): Promise<void> {
    await this.departed(ws);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
    } catch {
      // already closed
    }
  }

  async webSocketError(ws: HubSocket, _err: unknown): Promise<void> {
    await this.departed(ws);
  }

  /** A node's socket went away: its last heartbeat is kept, and the alarm looks at the node when its grace period ends. */
  private async departed(ws: HubSocket): Promise<void> {
    const a = this.attachment(ws);
    if (!a?.node) return;
    const t = Math.max(this.state.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0, a.connectedAt);
    const key = `seen:${a.node}`;
    const prev = (await this.state.storage.get<number>(key)) ?? 0;
    if (t > prev) await this.state.storage.put(key, t);
    await this.armAlarm(Math.max(t, prev) + graceMs(this.env));
  }

  /**
   * The liveness alarm: nodes whose last sign of life (hub heartbeat) is older than the
   * grace period get node lifecycle's reconcile now (it also weighs the Lease, so a node
   * that renewed its Lease is left alone); the next alarm is set for the earliest
   * moment another node could pass its grace period.
   */
  async alarm(): Promise<void> {
    const grace = graceMs(this.env);
    const now = Date.now();
    const seen = await this.liveness();
    const live = new Set(
      this.state
        .getWebSockets()
        .map((ws) => this.attachment(ws)?.node)
        .filter(Boolean) as string[],
    );
    const due = Object.keys(seen).filter((n) => now - seen[n] > grace);
    let next = Infinity;
    for (const t of Object.values(seen)) if (now - t <= grace) next = Math.min(next, t + grace + 1);
    if (due.length) {
      const rt = await runtime(this.env, { nodeLiveness: async () => seen });
      await rt.manager.dispatch(due.map((name) => ({ resource: "nodes", namespace: "", name })));
      await this.serial(() => this.fanOut(rt.committed()));
      for (const name of due) {
        const node = await rt.store.get({ resource: "nodes", namespace: "", name });
        const ready = (node?.status?.conditions ?? []).find((c: { type?: string }) => c.type === "Ready");
        if (!node || ready?.status === "Unknown") {
          // marked (or gone): the cron's resync carries on with eviction; a departed node's record goes
          if (!live.has(name)) await this.state.storage.delete(`seen:${name}`);
        } else {
          // its Lease (or a Ready heartbeat) still vouches for it: look again a quarter grace later
          next = Math.min(next, now + grace / 4);
        }
      }
    }
    // nodes still connected keep the alarm going (their heartbeats move their deadline on)
    if (live.size) next = Math.min(next, now + grace);
    if (Number.isFinite(next)) await this.state.storage.setAlarm(next);
  }
}

// ---------------------------------------------------------------- the Worker's side

/** The cluster's hub, or undefined without the binding (watches then poll the change log). */
export const hubOf = (env: Env) => env.HUB?.get(env.HUB.idFromName(HUB_NAME));

/** Tell the hub that this invocation committed up to `rev` (one Durable Object request). */
export const notifyHub = async (env: Env, rev: number): Promise<void> => {
  const hub = hubOf(env);
  if (!hub || rev <= 0) return;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const res = await hub.fetch("https://hub/notify", { method: "POST", body: JSON.stringify({ rev }) });
      if (res.ok || res.status < 500) return;
    } catch (e) {
      if (attempt) console.error(`watch hub notification failed: ${(e as Error).message}`);
    }
  }
};

/** Node liveness from the hub (node lifecycle's second source besides Leases), read at most once per invocation. */
export const hubLiveness = (env: Env): (() => Promise<Record<string, number>>) | undefined => {
  const hub = hubOf(env);
  if (!hub) return undefined;
  let seen: Promise<Record<string, number>> | undefined;
  return () =>
    (seen ??= hub
      .fetch("https://hub/liveness")
      .then((r) => (r.ok ? (r.json() as Promise<Record<string, number>>) : {}))
      .catch(() => ({})));
};

const STREAM_HEADERS = { "Cache-Control": "no-cache, no-transform, private", "Content-Encoding": "identity" };

/**
 * The Worker's watch server: a WebSocket watch goes to the hub as it is; a plain HTTP
 * watch (kubectl get -w) holds a WebSocket to the hub and streams each message as a
 * line, until its timeout, the client leaving, or the hub closing it.
 */
export const hubWatchServer =
  (env: Env): WatchServer =>
  async (req: Request, _target: Target, user: User): Promise<Response> => {
    const hub = hubOf(env)!;
    const url = new URL(req.url);
    const headers = new Headers({ Upgrade: "websocket", [USER_HEADER]: JSON.stringify(user) });
    const accept = req.headers.get("Accept");
    if (accept) headers.set("Accept", accept);
    const res = await hub.fetch(new Request(`https://hub${url.pathname}${url.search}`, { headers }));
    if (req.headers.get("Upgrade")?.toLowerCase() === "websocket") return res;
    const ws = (res as unknown as { webSocket?: HubSocket }).webSocket;
    if (!ws) return res;
    ws.accept!();
    const q = url.searchParams.get("timeoutSeconds");
    const seconds = Math.min(q && Number(q) > 0 ? Number(q) : MAX_WATCH_SECONDS, MAX_WATCH_SECONDS);
    const enc = new TextEncoder();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        let open = true;
        const end = () => {
          if (!open) return;
          open = false;
          clearTimeout(timer);
          try {
            controller.close();
          } catch {}
          try {
            ws.close(1000, "done");
          } catch {}
        };
        ws.addEventListener("message", (ev: { data: unknown }) => {
          if (open && typeof ev.data === "string") controller.enqueue(enc.encode(ev.data + "\n"));
        });
        ws.addEventListener("close", end);
        ws.addEventListener("error", end);
        timer = setTimeout(end, seconds * 1000);
      },
      cancel() {
        clearTimeout(timer);
        try {
          ws.close(1000, "client gone");
        } catch {}
      },
    });
    return new Response(stream, { status: 200, headers: { "Content-Type": "application/json", ...STREAM_HEADERS, "X-Content-Type-Options": "nosniff" } });
  };
