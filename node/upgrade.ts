/**
 * The agent tunnel on the Node server (shared/tunnel.ts): the agents' control channels
 * and stream connections, and the client requests they serve: exec, attach and
 * port-forward upgrades (WebSocket, SPDY/3.1) spliced to a stream connection, and
 * pods/proxy and services/proxy requests sent over a `tcp` stream with http.request.
 * What a request may reach is decided in workers/tunnel/plan.ts.
 */
import { randomBytes } from "node:crypto";
import { type IncomingMessage, request as httpRequest, STATUS_CODES } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { Duplex, Readable } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { ApiError, badRequest, notFound, unauthorized } from "../shared/status";
import {
  isStatsSummary,
  isStreamAnswer,
  MAX_STATS_BYTES,
  MAX_STREAMS_PER_NODE,
  STREAM_ANSWER_TIMEOUT_MS,
  type StatsSummary,
  type StreamAnswer,
  type StreamOpen,
  TUNNEL_PROTOCOL,
} from "../shared/tunnel";
import type { Authenticator } from "../workers/api/auth";
import type { Registry } from "../workers/registry/registry";
import type { User } from "../workers/registry/user";
import {
  authorizeTunnel,
  dialError,
  HOP_HEADERS,
  matchStreamPath,
  planStream,
  relayedClose,
  type StreamPlan,
  type StreamRequest,
  type StreamTarget,
  tooManyStreams,
} from "../workers/tunnel/plan";

export interface TunnelOptions {
  registry: Registry;
  authenticate: Authenticator;
  /** how long an agent has to answer a StreamOpen (default STREAM_ANSWER_TIMEOUT_MS) */
  answerTimeoutMs?: number;
  /** open streams per node (default MAX_STREAMS_PER_NODE) */
  maxStreamsPerNode?: number;
  /** how often the server pings a control channel; one unanswered ping ends it (default 30 s) */
  pingIntervalMs?: number;
  log?: (msg: string) => void;
}

/** Bytes queued towards a slow side before the other side is paused. */
const HIGH_WATER = 1 << 20;

const toApiError = (e: unknown): ApiError => (e instanceof ApiError ? e : new ApiError(500, "InternalError", String((e as Error)?.message ?? e)));

/** An HTTP response with a Status body, written on a socket that never reached a 101. */
export const rejectSocket = (socket: Duplex, e: ApiError) => {
  if (!socket.writable) return socket.destroy();
  const body = JSON.stringify(e.toStatus());
  socket.end(
    `HTTP/1.1 ${e.code} ${STATUS_CODES[e.code] ?? ""}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  const t = setTimeout(() => socket.destroy(), 1000);
  t.unref();
  socket.once("close", () => clearTimeout(t));
};

const statusResponse = (e: ApiError) => new Response(JSON.stringify(e.toStatus()), { status: e.code, headers: { "Content-Type": "application/json" } });

const bearer = (h: string | undefined | null) => /^Bearer\s+(\S+)\s*$/i.exec(h ?? "")?.[1];

/** A header's comma-separated values, over all its lines. */
const headerList = (v: string | string[] | undefined): string[] =>
  (Array.isArray(v) ? v : v ? [v] : [])
    .flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter(Boolean);

/** An agent's stream connection after its answer; messages that came before a consumer are kept for it. */
class AgentStream {
  private early: { data: RawData; binary: boolean }[] = [];
  private handler?: (data: RawData, binary: boolean) => void;
  constructor(
    readonly ws: WebSocket,
    readonly answer: StreamAnswer & { type: "accept" },
  ) {}
  /** called by the hub for each message after the answer */
  deliver(data: RawData, binary: boolean) {
    if (this.handler) this.handler(data, binary);
    else this.early.push({ data, binary });
  }
  onMessage(h: (data: RawData, binary: boolean) => void) {
    this.handler = h;
    for (const m of this.early.splice(0)) h(m.data, m.binary);
  }
}

interface Pending {
  node: string;
  open: StreamOpen;
  taken: boolean;
  /** the agent's stream connection, once it dialled in */
  ws?: WebSocket;
  timer: ReturnType<typeof setTimeout>;
  resolve(s: AgentStream): void;
  reject(e: ApiError): void;
}

const asBuffer = (d: RawData): Buffer => (Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d));

/**
 * A `raw` stream as a Duplex: binary messages in are bytes read, bytes written go out as
 * binary messages, with backpressure both ways.
 */
const rawDuplex = (s: AgentStream): Duplex => {
  const { ws } = s;
  const d = new Duplex({
    read() {
      ws.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== WebSocket.OPEN) return cb(new Error("the stream is closed"));
      ws.send(chunk, { binary: true }, (err) => {
        if (err) d.destroy(err);
      });
      if (ws.bufferedAmount < HIGH_WATER) cb();
      else {
        const wait = () => (ws.bufferedAmount < HIGH_WATER || ws.readyState !== WebSocket.OPEN ? cb() : setTimeout(wait, 5));
        setTimeout(wait, 5);
      }
    },
    final(cb) {
      ws.close(1000);
      cb();
    },
    destroy(err, cb) {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(err ? 1011 : 1000);
      cb(err);
    },
  });
  s.onMessage((data) => {
    if (!d.push(asBuffer(data))) ws.pause();
  });
  ws.on("close", () => d.push(null));
  ws.on("error", (e) => d.destroy(e));
  return d;
};

/** Splice two WebSockets message by message (type kept), pausing a sender while its peer's queue is long. */
const spliceWebSockets = (client: WebSocket, agent: AgentStream) => {
  const forward = (to: WebSocket, from: WebSocket) => (data: RawData, binary: boolean) => {
    if (to.readyState !== WebSocket.OPEN) return;
    to.send(data, { binary }, () => {
      if (to.bufferedAmount < HIGH_WATER) from.resume();
    });
    if (to.bufferedAmount >= HIGH_WATER) from.pause();
  };
  client.on("message", forward(agent.ws, client));
  agent.onMessage(forward(client, agent.ws));
  const relayClose = (to: WebSocket) => (code: number, reason: Buffer) => {
    const c = relayedClose(code, reason.subarray(0, 123).toString());
    if (to.readyState === WebSocket.OPEN) to.close(c.code, c.reason);
    else if (to.readyState === WebSocket.CONNECTING) to.terminate();
  };
  client.on("close", relayClose(agent.ws));
  agent.ws.on("close", relayClose(client));
  client.on("error", () => agent.ws.terminate());
  agent.ws.on("error", () => client.terminate());
};

/** Splice an upgraded raw socket (SPDY) with a `raw` stream. */
const spliceRaw = (socket: Duplex, head: Buffer, agent: AgentStream) => {
  const d = rawDuplex(agent);
  if (head.length) d.write(head);
  socket.pipe(d).pipe(socket);
  socket.on("error", () => d.destroy());
  d.on("error", () => socket.destroy());
  socket.on("close", () => d.destroy());
  d.on("close", () => socket.destroy());
};

/** what a `stats` StreamOpen names: no pod */
const STATS_TARGET: StreamTarget = { kind: "stats", namespace: "", pod: "", uid: "" };

/** The summary on an accepted `stats` stream: its first message, a StatsSummary. */
const readStats = (node: string, ws: WebSocket, onMessage: (h: (data: RawData, binary: boolean) => void) => void, timeoutMs: number) =>
  new Promise<StatsSummary>((resolve, reject) => {
    const t = setTimeout(() => fail(dialError(node, `its agent sent no resource usage within ${timeoutMs / 1000}s`)), timeoutMs);
    const fail = (e: ApiError) => {
      clearTimeout(t);
      ws.terminate();
      reject(e);
    };
    onMessage((data) => {
      clearTimeout(t);
      const buf = asBuffer(data);
      let v: unknown;
      try {
        v = buf.length <= MAX_STATS_BYTES ? JSON.parse(buf.toString("utf8")) : undefined;
      } catch {}
      ws.close(1000);
      if (isStatsSummary(v)) resolve(v);
      else reject(dialError(node, "its agent sent resource usage that is not a StatsSummary"));
    });
    ws.once("close", () => fail(dialError(node, "its agent closed the stats stream without a summary")));
  });

/** The tunnels of all nodes on this server. */
export class NodeTunnels {
  private readonly controls = new Map<string, WebSocket>();
  private readonly pending = new Map<string, Pending>();
  private readonly openCount = new Map<string, number>();
  private readonly wss: WebSocketServer;
  private readonly answerTimeoutMs: number;
  private readonly maxStreams: number;
  private readonly pinger: ReturnType<typeof setInterval>;
  private readonly alive = new WeakSet<WebSocket>();
  /** every upgraded connection, ended on close() (the HTTP server no longer tracks them) */
  private readonly sockets = new Set<Duplex>();

  constructor(private readonly o: TunnelOptions) {
    this.answerTimeoutMs = o.answerTimeoutMs ?? STREAM_ANSWER_TIMEOUT_MS;
    this.maxStreams = o.maxStreamsPerNode ?? MAX_STREAMS_PER_NODE;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: 16 << 20,
      perMessageDeflate: false,
      // the subprotocol is the one chosen before the handshake (the tunnel's, or the agent's answer)
      handleProtocols: (_offered, req) => (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol || false,
    });
    this.pinger = setInterval(() => {
      for (const ws of this.controls.values()) {
        if (!this.alive.has(ws)) {
          ws.terminate();
          continue;
        }
        this.alive.delete(ws);
        ws.ping();
      }
    }, o.pingIntervalMs ?? 30_000);
    this.pinger.unref();
  }

  /** Is a node's control channel open? */
  connected(node: string): boolean {
    return this.controls.get(node)?.readyState === WebSocket.OPEN;
  }

  /** Open streams (answered or waiting) to a node. */
  streams(node: string): number {
    return this.openCount.get(node) ?? 0;
  }

  close() {
    clearInterval(this.pinger);
    for (const ws of this.controls.values()) ws.terminate();
    for (const p of this.pending.values()) p.reject(dialError(p.node, "the server is shutting down"));
    for (const s of this.sockets) s.destroy();
  }

  private async authenticate(authorization: string | undefined | null): Promise<User> {
    const token = bearer(authorization);
    const user = token ? await this.o.authenticate(token) : null;
    if (!user) throw unauthorized();
    return user;
  }

  private count(node: string, delta: number) {
    const n = (this.openCount.get(node) ?? 0) + delta;
    if (n > 0) this.openCount.set(node, n);
    else this.openCount.delete(node);
  }

  /**
   * Ask a node's agent for a stream and wait for its answer: an accepted stream
   * connection, or an ApiError (the agent's rejection, no tunnel, no answer in time, too
   * many streams). The stream counts against the node's limit until its connection closes.
   */
  dial(node: string, target: StreamTarget, transport: Pick<StreamOpen, "framing" | "protocols" | "upgrade">): Promise<AgentStream> {
    if (this.streams(node) >= this.maxStreams) return Promise.reject(tooManyStreams(node, this.maxStreams));
    const control = this.controls.get(node);
    if (control?.readyState !== WebSocket.OPEN) return Promise.reject(dialError(node, "its agent has no tunnel open"));
    const id = randomBytes(16).toString("hex");
    const open: StreamOpen = { type: "open", id, ...target, ...transport };
    this.count(node, 1);
    return new Promise<AgentStream>((resolve, reject) => {
      const done = () => {
        clearTimeout(p.timer);
        this.pending.delete(id);
      };
      const p: Pending = {
        node,
        open,
        taken: false,
        timer: setTimeout(() => p.reject(dialError(node, `its agent did not answer within ${this.answerTimeoutMs / 1000}s`)), this.answerTimeoutMs),
        resolve: (s) => {
          // an answer after the timeout: the client has its error already
          if (this.pending.get(id) !== p) return void s.ws.close(1000);
          done();
          s.ws.once("close", () => this.count(node, -1));
          resolve(s);
        },
        reject: (e) => {
          if (this.pending.get(id) !== p) return;
          done();
          this.count(node, -1);
          if (p.ws && p.ws.readyState !== WebSocket.CLOSED) p.ws.close(1000);
          reject(e);
        },
      };
      p.timer.unref?.();
      this.pending.set(id, p);
      control.send(JSON.stringify(open), (err) => {
        if (err) p.reject(dialError(node, `the tunnel failed: ${err.message}`));
      });
    });
  }

  /**
   * A node's resource summary (a `stats` stream, shared/tunnel.ts): the agent's one JSON
   * message, read up to MAX_STATS_BYTES, within the answer timeout.
   */
  async stats(node: string): Promise<StatsSummary> {
    const s = await this.dial(node, STATS_TARGET, { framing: "raw", protocols: [] });
    return readStats(node, s.ws, (h) => s.onMessage(h), this.answerTimeoutMs);
  }

  /**
   * The server's `upgrade` handler: true when the request is one of the tunnel's (it is
   * then answered here), false for anything else.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? "/", "http://x");
    const match = matchStreamPath(url.pathname);
    if (!match || match.type === "proxy") return false;
    socket.on("error", () => socket.destroy());
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    this.serveUpgrade(match, url, req, socket, head).catch((e) => rejectSocket(socket, toApiError(e)));
    return true;
  }

  private async serveUpgrade(match: Exclude<StreamRequest, { type: "proxy" }>, url: URL, req: IncomingMessage, socket: Duplex, head: Buffer) {
    const user = await this.authenticate(req.headers.authorization);
    const isWebSocket = (req.headers.upgrade ?? "").toLowerCase() === "websocket";
    const offered = headerList(req.headers["sec-websocket-protocol"]);
    if (match.type === "control" || match.type === "stream") {
      authorizeTunnel(user, match.node);
      if (!isWebSocket || !offered.includes(TUNNEL_PROTOCOL)) throw badRequest(`the tunnel is a WebSocket with the subprotocol ${TUNNEL_PROTOCOL}`);
      if (match.type === "control") return this.acceptControl(match.node, req, socket, head);
      return this.acceptStream(match.node, match.id, req, socket, head);
    }
    const upgrade = req.headers.upgrade ?? "";
    const spdy = upgrade.toLowerCase().startsWith("spdy/");
    if (!isWebSocket && !spdy) throw badRequest(`Upgrade request required (WebSocket or SPDY/3.1), got "${upgrade}"`);
    if (isWebSocket && (req.method !== "GET" || !req.headers["sec-websocket-key"] || req.headers["sec-websocket-version"] !== "13")) {
      throw badRequest("a WebSocket upgrade needs GET, Sec-WebSocket-Key and Sec-WebSocket-Version: 13");
    }
    const plan = await planStream(this.o.registry, user, match, req.method ?? "GET", url.search.slice(1));
    const agent = await this.dial(
      plan.node,
      plan.target,
      isWebSocket ? { framing: "websocket", protocols: offered } : { framing: "raw", protocols: headerList(req.headers["x-stream-protocol-version"]), upgrade },
    );
    if (socket.destroyed) {
      agent.ws.close(1000);
      return;
    }
    if (isWebSocket) {
      (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol = agent.answer.protocol;
      this.wss.handleUpgrade(req, socket, head, (client) => spliceWebSockets(client, agent));
      return;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\n${
        agent.answer.protocol ? `X-Stream-Protocol-Version: ${agent.answer.protocol}\r\n` : ""
      }\r\n`,
    );
    spliceRaw(socket, head, agent);
  }

  private acceptControl(node: string, req: IncomingMessage, socket: Duplex, head: Buffer) {
    (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol = TUNNEL_PROTOCOL;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // one control channel per node: a new one replaces the old (the agent reconnected)
      const old = this.controls.get(node);
      this.controls.set(node, ws);
      this.alive.add(ws);
      if (old) old.close(1000, "replaced by a newer tunnel");
      ws.on("pong", () => this.alive.add(ws));
      ws.on("ping", () => this.alive.add(ws));
      // the agent sends nothing but pings; anything else is ignored
      ws.on("message", () => this.alive.add(ws));
      ws.on("error", () => ws.terminate());
      ws.on("close", () => {
        if (this.controls.get(node) === ws) this.controls.delete(node);
      });
      this.o.log?.(`tunnel: node ${node} connected`);
    });
  }

  private acceptStream(node: string, id: string, req: IncomingMessage, socket: Duplex, head: Buffer) {
    const p = this.pending.get(id);
    if (!p || p.node !== node || p.taken) throw notFound("streams", "kubeflare.dev", id);
    p.taken = true;
    (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol = TUNNEL_PROTOCOL;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      p.ws = ws;
      let stream: AgentStream | undefined;
      ws.on("message", (data, binary) => {
        if (stream) return stream.deliver(data, binary);
        let answer: unknown;
        try {
          answer = binary ? undefined : JSON.parse(asBuffer(data).toString("utf8"));
        } catch {}
        if (!isStreamAnswer(answer)) {
          ws.close(1002, "the first message must be a StreamAnswer");
          return p.reject(dialError(node, "its agent answered with something that is not a StreamAnswer"));
        }
        if (answer.type === "reject") {
          ws.close(1000);
          const s = answer.status;
          return p.reject(new ApiError(s.code, s.reason || "InternalError", s.message));
        }
        stream = new AgentStream(ws, answer);
        p.resolve(stream);
      });
      ws.on("error", () => ws.terminate());
      ws.on("close", () => {
        if (!stream) p.reject(dialError(node, "its agent closed the stream without answering"));
      });
    });
  }

  /**
   * pods/proxy, services/proxy, and an exec/attach/portforward that is no upgrade: the
   * response, or undefined when the request is none of these.
   */
  fetch(req: Request): Promise<Response> | undefined {
    const url = new URL(req.url);
    const match = matchStreamPath(url.pathname);
    if (!match) return undefined;
    return this.serveHttp(match, url, req).catch((e) => statusResponse(toApiError(e)));
  }

  private async serveHttp(match: StreamRequest, url: URL, req: Request): Promise<Response> {
    const user = await this.authenticate(req.headers.get("authorization"));
    if (match.type === "control" || match.type === "stream") {
      authorizeTunnel(user, match.node);
      throw badRequest(`the tunnel is a WebSocket with the subprotocol ${TUNNEL_PROTOCOL}`);
    }
    if (match.type === "pod") {
      // authorization and the pod's checks first, as kube-apiserver answers them
      await planStream(this.o.registry, user, match, req.method, url.search.slice(1));
      throw badRequest("Upgrade request required");
    }
    const plan = await planStream(this.o.registry, user, match, req.method, url.search.slice(1));
    const agent = await this.dial(plan.node, plan.target, { framing: "raw", protocols: [] });
    return proxyOver(agent, plan, req);
  }
}

/** One HTTP request to the pod port at the far end of a `tcp` stream. */
const proxyOver = (agent: AgentStream, plan: StreamPlan, req: Request): Promise<Response> => {
  const conn = rawDuplex(agent);
  const headers: Record<string, string | string[]> = {};
  req.headers.forEach((v, k) => {
    if (!HOP_HEADERS.has(k)) headers[k] = v;
  });
  const https = plan.scheme === "https";
  const host = `${plan.target.pod}:${plan.target.port}`;
  return new Promise<Response>((resolve, reject) => {
    const out = (https ? httpsRequest : httpRequest)({
      method: req.method,
      path: plan.path,
      headers: { ...headers, host },
      // the pod's certificate is not checked, as kube-apiserver's pod and service proxies do not
      createConnection: () => (https ? tlsConnect({ socket: conn as unknown as Socket, rejectUnauthorized: false }) : (conn as unknown as Socket)),
    });
    out.on("response", (res) => {
      const h = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (HOP_HEADERS.has(k) || v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
      }
      const bodyless = req.method === "HEAD" || res.statusCode === 204 || res.statusCode === 304;
      res.on("end", () => conn.destroy());
      res.on("close", () => conn.destroy());
      resolve(new Response(bodyless ? null : (Readable.toWeb(res) as ReadableStream), { status: res.statusCode ?? 502, headers: h }));
    });
    out.on("error", (e) => {
      conn.destroy();
      reject(new ApiError(503, "ServiceUnavailable", `error trying to reach service: ${e.message}`));
    });
    if (req.body && req.method !== "GET" && req.method !== "HEAD") Readable.fromWeb(req.body as never).pipe(out);
    else out.end();
  });
};
