/**
 * The agent tunnel on the Worker: one Durable Object per node (idFromName(node)) holds
 * that node's control channel and pairs each client WebSocket with the agent's stream
 * connection, relaying messages as they are (shared/tunnel.ts, framing `websocket`).
 * All sockets use the Hibernation API, so an idle tunnel costs no duration: the object
 * sleeps between messages, and what a socket is (control, agent stream, client) and its
 * stream id live in its tags and attachment, not in memory. Only a stream waiting for
 * its answer (at most STREAM_ANSWER_TIMEOUT_MS, while a request is open, so the object
 * stays awake) is held in memory.
 *
 * The Worker (workers/tunnel/edge.ts) authenticates and authorizes every request
 * before it reaches the object, and says what it is in X-Kubeflare-Tunnel.
 */
import { ApiError, notFound } from "../../shared/status";
import {
  isStatsSummary,
  isStreamAnswer,
  MAX_STATS_BYTES,
  MAX_STREAMS_PER_NODE,
  STREAM_ANSWER_TIMEOUT_MS,
  type StreamOpen,
  TUNNEL_PROTOCOL,
} from "../../shared/tunnel";
import { proxyHttp1 } from "./http1";
import { dialError, relayedClose, type StreamTarget, tooManyStreams } from "./plan";

/** What the Worker asks of the object (JSON in the X-Kubeflare-Tunnel header, URI-encoded). */
export type TunnelCall =
  | { op: "control"; node: string }
  | { op: "stream"; node: string; id: string }
  | { op: "open"; node: string; target: StreamTarget; protocols: string[] }
  | { op: "proxy"; node: string; target: StreamTarget; scheme: "http" | "https"; path: string; maxBodyBytes: number }
  /** the node's resource summary (a `stats` stream): answered with the agent's StatsSummary as JSON */
  | { op: "stats"; node: string };

export const TUNNEL_HEADER = "X-Kubeflare-Tunnel";

// The Workers runtime's types, as much of them as this file uses
interface EdgeSocket {
  send(m: string | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  serializeAttachment(v: unknown): void;
  deserializeAttachment(): unknown;
  readonly readyState: number;
}
interface State {
  acceptWebSocket(ws: EdgeSocket, tags?: string[]): void;
  getWebSockets(tag?: string): EdgeSocket[];
}
declare const WebSocketPair: new () => { 0: EdgeSocket; 1: EdgeSocket };

interface Attachment {
  role: "agent" | "client";
  id: string;
  answered?: boolean;
}

interface Pending {
  taken: boolean;
  timer: ReturnType<typeof setTimeout>;
  resolve(protocol: string): void;
  reject(e: ApiError): void;
  /** the agent's messages after its answer, before the client's socket exists */
  early: (string | ArrayBuffer)[];
}

const status = (e: ApiError) => new Response(JSON.stringify(e.toStatus()), { status: e.code, headers: { "Content-Type": "application/json" } });

const num = (v: unknown, d: number) => (v !== undefined && Number(v) > 0 ? Number(v) : d);

/** Close a socket with the code its peer closed with, as far as it may be sent again (else 1000). */
const closeWith = (ws: EdgeSocket, code: number, reason: string) => {
  try {
    const c = relayedClose(code, reason.slice(0, 120));
    ws.close(c.code, c.reason);
  } catch {
    try {
      ws.close(1000);
    } catch {}
  }
};

const randomId = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");

export class TunnelObject {
  private readonly pending = new Map<string, Pending>();
  private readonly answerTimeoutMs: number;
  private readonly maxStreams: number;

  constructor(
    private readonly ctx: State,
    env: { TUNNEL_ANSWER_TIMEOUT_MS?: string; TUNNEL_MAX_STREAMS?: string },
  ) {
    this.answerTimeoutMs = num(env.TUNNEL_ANSWER_TIMEOUT_MS, STREAM_ANSWER_TIMEOUT_MS);
    this.maxStreams = num(env.TUNNEL_MAX_STREAMS, MAX_STREAMS_PER_NODE);
  }

  async fetch(req: Request): Promise<Response> {
    let call: TunnelCall;
    try {
      call = JSON.parse(decodeURIComponent(req.headers.get(TUNNEL_HEADER) ?? ""));
    } catch {
      return status(new ApiError(400, "BadRequest", "not a tunnel call"));
    }
    try {
      switch (call.op) {
        case "control":
          return this.control();
        case "stream":
          return this.stream(call.id);
        case "open":
          return await this.open(call.node, call.target, call.protocols);
        case "proxy":
          return await this.proxy(req, call);
        case "stats":
          return await this.stats(call.node);
      }
    } catch (e) {
      return status(e instanceof ApiError ? e : new ApiError(500, "InternalError", String((e as Error)?.message ?? e)));
    }
    return status(new ApiError(400, "BadRequest", "not a tunnel call"));
  }

  /** The agent's control channel: a new one replaces the old. */
  private control(): Response {
    for (const old of this.ctx.getWebSockets("control")) closeWith(old, 1000, "replaced by a newer tunnel");
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], ["control"]);
    return new Response(null, { status: 101, webSocket: pair[0], headers: { "Sec-WebSocket-Protocol": TUNNEL_PROTOCOL } } as ResponseInit);
  }

  /** The agent's connection for one stream; its first message is the answer. */
  private stream(id: string): Response {
    const p = this.pending.get(id);
    if (!p || p.taken) throw notFound("streams", "kubeflare.dev", id);
    p.taken = true;
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], ["agent", `agent:${id}`]);
    pair[1].serializeAttachment({ role: "agent", id } satisfies Attachment);
    return new Response(null, { status: 101, webSocket: pair[0], headers: { "Sec-WebSocket-Protocol": TUNNEL_PROTOCOL } } as ResponseInit);
  }

  /** Streams open to this node: connected ones and those not yet connected. */
  private streams(): number {
    let waiting = 0;
    for (const p of this.pending.values()) if (!p.taken) waiting++;
    return this.ctx.getWebSockets("agent").length + waiting;
  }

  /** Ask the agent for a stream; resolves with the protocol it accepted, or throws its Status (or a dial error). */
  private dial(node: string, target: StreamTarget, framing: StreamOpen["framing"], protocols: string[]): Promise<{ id: string; protocol: string }> {
    if (this.streams() >= this.maxStreams) throw tooManyStreams(node, this.maxStreams);
    const control = this.ctx.getWebSockets("control")[0];
    if (!control) throw dialError(node, "its agent has no tunnel open");
    const id = randomId();
    const open: StreamOpen = { type: "open", id, ...target, framing, protocols };
    return new Promise((resolve, reject) => {
      const p: Pending = {
        taken: false,
        early: [],
        timer: setTimeout(() => p.reject(dialError(node, `its agent did not answer within ${this.answerTimeoutMs / 1000}s`)), this.answerTimeoutMs),
        resolve: (protocol) => {
          clearTimeout(p.timer);
          resolve({ id, protocol });
        },
        reject: (e) => {
          clearTimeout(p.timer);
          if (this.pending.get(id) !== p) return;
          this.pending.delete(id);
          for (const ws of this.ctx.getWebSockets(`agent:${id}`)) closeWith(ws, 1000, "");
          reject(e);
        },
      };
      this.pending.set(id, p);
      try {
        control.send(JSON.stringify(open));
      } catch (e) {
        p.reject(dialError(node, `the tunnel failed: ${(e as Error).message}`));
      }
    });
  }

  /** exec/attach/portforward over WebSocket: dial, then answer the client's handshake with the agent's protocol. */
  private async open(node: string, target: StreamTarget, protocols: string[]): Promise<Response> {
    const { id, protocol } = await this.dial(node, target, "websocket", protocols);
    const p = this.pending.get(id)!;
    this.pending.delete(id);
    const agent = this.ctx.getWebSockets(`agent:${id}`)[0];
    if (!agent) throw dialError(node, "its agent closed the stream");
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], ["client", `client:${id}`]);
    pair[1].serializeAttachment({ role: "client", id } satisfies Attachment);
    for (const m of p.early) pair[1].send(m);
    return new Response(null, { status: 101, webSocket: pair[0], headers: protocol ? { "Sec-WebSocket-Protocol": protocol } : {} } as ResponseInit);
  }

  /** pods/proxy, services/proxy: one HTTP/1.1 exchange over a tcp stream. */
  private async proxy(req: Request, call: Extract<TunnelCall, { op: "proxy" }>): Promise<Response> {
    if (call.scheme === "https")
      throw new ApiError(400, "BadRequest", "https to a pod or service port is not available on the edge; use http or the Node server");
    const { id } = await this.dial(call.node, call.target, "raw", []);
    const p = this.pending.get(id)!;
    this.pending.delete(id);
    const agent = this.ctx.getWebSockets(`agent:${id}`)[0];
    if (!agent) throw dialError(call.node, "its agent closed the stream");
    // the agent's bytes go to the exchange from here on
    const sink: { push(m: string | ArrayBuffer): void; end(): void } = { push: () => {}, end: () => {} };
    const early = p.early;
    this.sinks.set(id, sink);
    return proxyHttp1({
      req,
      host: `${call.target.pod}:${call.target.port}`,
      path: call.path,
      maxBodyBytes: call.maxBodyBytes,
      send: (bytes) => agent.send(bytes),
      close: () => closeWith(agent, 1000, ""),
      receive: (push, end) => {
        sink.push = push;
        sink.end = end;
        for (const m of early) push(m);
      },
    });
  }

  /** `stats`: the agent's one message on the stream, checked and answered as JSON (shared/tunnel.ts) */
  private async stats(node: string): Promise<Response> {
    const { id } = await this.dial(node, { kind: "stats", namespace: "", pod: "", uid: "" }, "raw", []);
    const p = this.pending.get(id)!;
    this.pending.delete(id);
    const agent = this.ctx.getWebSockets(`agent:${id}`)[0];
    if (!agent) throw dialError(node, "its agent closed the stream");
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const message =
        p.early[0] ??
        (await new Promise<string | ArrayBuffer>((resolve, reject) => {
          timer = setTimeout(() => reject(dialError(node, "its agent sent no resource usage in time")), this.answerTimeoutMs);
          this.sinks.set(id, { push: resolve, end: () => reject(dialError(node, "its agent closed the stats stream without a summary")) });
        }));
      const text = typeof message === "string" ? message : new TextDecoder().decode(message);
      let v: unknown;
      try {
        v = text.length <= MAX_STATS_BYTES ? JSON.parse(text) : undefined;
      } catch {}
      if (!isStatsSummary(v)) throw dialError(node, "its agent sent resource usage that is not a StatsSummary");
      return new Response(JSON.stringify(v), { headers: { "Content-Type": "application/json" } });
    } finally {
      clearTimeout(timer);
      this.sinks.delete(id);
      closeWith(agent, 1000, "");
    }
  }

  /** proxies' receivers, by stream id (in memory: a proxy's request keeps the object awake) */
  private readonly sinks = new Map<string, { push(m: string | ArrayBuffer): void; end(): void }>();

  async webSocketMessage(ws: EdgeSocket, message: string | ArrayBuffer): Promise<void> {
    const a = ws.deserializeAttachment() as Attachment | null;
    if (!a) return; // the control channel: the agent sends nothing but pings
    if (a.role === "client") {
      for (const peer of this.ctx.getWebSockets(`agent:${a.id}`)) peer.send(message);
      return;
    }
    if (!a.answered) {
      const p = this.pending.get(a.id);
      let answer: unknown;
      try {
        answer = typeof message === "string" ? JSON.parse(message) : undefined;
      } catch {}
      if (!p) return closeWith(ws, 1000, "");
      if (!isStreamAnswer(answer)) {
        closeWith(ws, 1002, "the first message must be a StreamAnswer");
        return p.reject(dialError("", "its agent answered with something that is not a StreamAnswer"));
      }
      if (answer.type === "reject") {
        const s = answer.status;
        return p.reject(new ApiError(s.code, s.reason || "InternalError", s.message));
      }
      ws.serializeAttachment({ ...a, answered: true } satisfies Attachment);
      return p.resolve(answer.protocol);
    }
    const sink = this.sinks.get(a.id);
    if (sink) return sink.push(message);
    const clients = this.ctx.getWebSockets(`client:${a.id}`);
    if (clients.length) for (const c of clients) c.send(message);
    else this.pending.get(a.id)?.early.push(message);
  }

  async webSocketClose(ws: EdgeSocket, code: number, reason: string): Promise<void> {
    closeWith(ws, code, reason);
    const a = ws.deserializeAttachment() as Attachment | null;
    if (!a) return;
    if (a.role === "agent") {
      if (!a.answered) this.pending.get(a.id)?.reject(dialError("", "its agent closed the stream without answering"));
      const sink = this.sinks.get(a.id);
      if (sink) {
        this.sinks.delete(a.id);
        sink.end();
      }
    }
    const peers = this.ctx.getWebSockets(a.role === "agent" ? `client:${a.id}` : `agent:${a.id}`);
    for (const peer of peers) closeWith(peer, code, reason);
  }

  async webSocketError(ws: EdgeSocket): Promise<void> {
    await this.webSocketClose(ws, 1011, "");
  }
}
