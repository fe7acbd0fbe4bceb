/**
 * The agent's HTTP client for the control plane: JSON requests and watch streams, like
 * any client. Built on node:https (keep-alive, the cluster's CA) rather than an HTTP
 * library: the agent lives on small boxes, and every module it loads costs memory.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { createSecureContext, type SecureContext } from "node:tls";
import WebSocket from "ws";
import type { KObject, WatchEvent } from "../shared/types";

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  server: string;
  token: string;
  /** PEM of the CA that signed the server's certificate (self-hosted control planes) */
  caPem?: string;
  timeoutMs?: number;
  /**
   * How watches travel: "websocket" (default; kube-apiserver's WebSocket watch, one JSON
   * event per text message, with heartbeats) or "http" (a chunked stream of lines).
   */
  watchTransport?: "websocket" | "http";
  /**
   * Requests in flight at once, each on a kept-alive connection of its own (default
   * MAX_CONNECTIONS); more wait for one to be free. Kubelet multiplexes its requests on
   * one HTTP/2 connection; without a cap, a burst (a node handed ten pods posts their
   * statuses and events at once) opened a TLS connection per request, each a handshake
   * on both sides. HTTP watches use connections of their own.
   */
  maxConnections?: number;
}

/** ApiClientOptions.maxConnections' default */
export const MAX_CONNECTIONS = 8;

/** A watch's extras on the WebSocket transport. */
export interface WatchSocketOptions {
  /** send the heartbeat ("ping") this often; the Worker's watch hub answers "pong" without waking */
  pingMs?: number;
  /** each "pong" the server answers with */
  onPong?: () => void;
}

/** What the agent and the control plane say on a watch socket besides events (workers/hub). */
export const HEARTBEAT = { ping: "ping", pong: "pong" } as const;

const readAll = async (res: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

/**
 * One TLS context per CA, made once: given `ca`, node:https and ws parse the PEM and build
 * a fresh context for every connection they open (a tenth of a hollow node's CPU in the
 * scale bench); given `secureContext`, they reuse it. Kept by PEM, so clients of one
 * cluster (a process running many hollow nodes, an agent's API client and its tunnel's
 * sockets) share it.
 */
const contexts = new Map<string, SecureContext>();
export const secureContextFor = (caPem: string): SecureContext => {
  let ctx = contexts.get(caPem);
  if (!ctx) contexts.set(caPem, (ctx = createSecureContext({ ca: caPem })));
  return ctx;
};

export class ApiClient {
  private readonly url: URL;
  private readonly agent: HttpAgent | HttpsAgent;
  /** for HTTP watches, which hold their connection: outside the request pool */
  private streamAgent?: HttpAgent | HttpsAgent;
  /** for requestUrgent: a kept-alive connection of its own, outside the request pool */
  private urgentAgent?: HttpAgent | HttpsAgent;

  constructor(private readonly o: ApiClientOptions) {
    this.url = new URL(o.server);
    this.agent = this.newAgent(o.maxConnections ?? MAX_CONNECTIONS);
  }

  private newAgent(maxSockets: number): HttpAgent | HttpsAgent {
    const tls = this.o.caPem ? { ca: this.o.caPem, secureContext: secureContextFor(this.o.caPem) } : {};
    return this.url.protocol === "https:" ? new HttpsAgent({ keepAlive: true, maxSockets, ...tls }) : new HttpAgent({ keepAlive: true, maxSockets });
  }

  /** Send a request; resolves with the response once its headers are in. */
  private send(
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
    signal: AbortSignal,
    agent: HttpAgent | HttpsAgent = this.agent,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = (this.url.protocol === "https:" ? httpsRequest : httpRequest)(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname.replace(/^\[|\]$/g, ""),
          port: this.url.port || undefined,
          path: this.url.pathname.replace(/\/$/, "") + path,
          method,
          agent,
          signal,
          headers: {
            Authorization: `Bearer ${this.o.token}`,
            Accept: "application/json",
            ...headers,
            ...(body !== undefined ? { "Content-Length": String(Buffer.byteLength(body)) } : {}),
          },
        },
        resolve,
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  request<T = any>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
    return this.call<T>(method, path, body, contentType, this.agent);
  }

  /**
   * A request that must not wait behind the others: the node's Lease renewals and status
   * posts. It goes on a kept-alive connection of its own (one at a time), outside the
   * pool of `maxConnections` that pod status writes, events and logs share: when the
   * server is slow and that pool's connections are all waiting, a renewal queued behind
   * them would arrive after the node's grace period and the node would go Unknown (its
   * pods marked not ready) though its agent is alive. Kubelet keeps its heartbeats apart
   * too (its lease client and node status posts do not wait on pod status writes).
   */
  requestUrgent<T = any>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
    return this.call<T>(method, path, body, contentType, (this.urgentAgent ??= this.newAgent(1)));
  }

  private async call<T>(method: string, path: string, body: unknown, contentType: string, agent: HttpAgent | HttpsAgent): Promise<T> {
    const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const signal = AbortSignal.timeout(this.o.timeoutMs ?? 30_000);
    const res = await this.send(method, path, text, text !== undefined ? { "Content-Type": contentType } : {}, signal, agent);
    const raw = await readAll(res);
    let json: any;
    try {
      json = raw ? JSON.parse(raw) : undefined;
    } catch {
      json = undefined;
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw new ApiRequestError(status, json?.reason ?? res.statusMessage ?? "", json?.message ?? raw);
    return json as T;
  }

  /** the control plane's URL and the CA it is trusted with, never the credential (the API relay forwards pods' own requests there) */
  get upstream(): { server: string; caPem?: string } {
    return { server: this.o.server, caPem: this.o.caPem };
  }

  /** where and as whom the agent connects (its tunnel opens WebSockets with the same credential and CA) */
  get credentials(): { server: string; token: string; caPem?: string } {
    return { server: this.o.server, token: this.o.token, caPem: this.o.caPem };
  }

  get = (path: string) => this.request<KObject>("GET", path);

  /** GET, or null on 404; `urgent`: on the urgent connection (requestUrgent) */
  async find(path: string, o: { urgent?: boolean } = {}): Promise<KObject | null> {
    try {
      return await (o.urgent ? this.requestUrgent<KObject>("GET", path) : this.get(path));
    } catch (e) {
      if (e instanceof ApiRequestError && e.status === 404) return null;
      throw e;
    }
  }

  /** WebSocket messages sent (heartbeats), for the edge bench's count of Durable Object requests */
  socketMessagesSent = 0;

  /**
   * Watch a collection from `resourceVersion`, calling `onEvent` for each event, until
   * the server ends the watch, `signal` aborts, or an error (410 Expired included) ends it.
   * Over a WebSocket by default (no timeout asked: the watch lasts until the server or
   * the connection ends it); `timeoutSeconds` applies to HTTP watches (default 300).
   */
  watch(
    path: string,
    resourceVersion: string,
    onEvent: (ev: WatchEvent) => void,
    signal: AbortSignal,
    timeoutSeconds?: number,
    o: WatchSocketOptions = {},
  ): Promise<void> {
    if (this.o.watchTransport === "http") return this.watchHttp(path, resourceVersion, onEvent, signal, timeoutSeconds ?? 300);
    return this.watchSocket(path, resourceVersion, onEvent, signal, timeoutSeconds, o);
  }

  /** A watch's ERROR event as the error it is (410 Expired: the caller lists again). */
  private static watchError(ev: WatchEvent): ApiRequestError {
    const st = ev.object as unknown as { code?: number; reason?: string; message?: string };
    return new ApiRequestError(st.code ?? 500, st.reason ?? "Error", st.message ?? "watch error");
  }

  /**
   * kube-apiserver's WebSocket watch: `GET …?watch=true` with `Upgrade: websocket`, one
   * JSON watch event per text message. Resolves when the server closes the socket
   * normally or `signal` aborts; rejects on a refused upgrade (its Status), an ERROR
   * event, or a connection that breaks.
   */
  private watchSocket(
    path: string,
    resourceVersion: string,
    onEvent: (ev: WatchEvent) => void,
    signal: AbortSignal,
    timeoutSeconds: number | undefined,
    o: WatchSocketOptions,
  ): Promise<void> {
    const sep = path.includes("?") ? "&" : "?";
    const base = new URL(this.url);
    base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
    const url = `${base.origin}${base.pathname.replace(/\/$/, "")}${path}${sep}watch=true&allowWatchBookmarks=true&resourceVersion=${resourceVersion}${timeoutSeconds ? `&timeoutSeconds=${timeoutSeconds}` : ""}`;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return resolve();
      const ws = new WebSocket(url, {
        headers: { Authorization: `Bearer ${this.o.token}`, Accept: "application/json" },
        perMessageDeflate: false,
        handshakeTimeout: this.o.timeoutMs ?? 30_000,
        ...(this.o.caPem ? { ca: this.o.caPem, secureContext: secureContextFor(this.o.caPem) } : {}),
      });
      let settled = false;
      let ping: ReturnType<typeof setInterval> | undefined;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearInterval(ping);
        signal.removeEventListener("abort", abort);
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
          try {
            ws.close(1000);
          } catch {
            ws.terminate();
          }
        }
        if (err) reject(err);
        else resolve();
      };
      const abort = () => finish();
      signal.addEventListener("abort", abort, { once: true });
      ws.on("unexpected-response", (_req, res) => {
        readAll(res).then(
          (text) => {
            let st: { reason?: string; message?: string } = {};
            try {
              st = JSON.parse(text);
            } catch {
              // not a Status
            }
            finish(new ApiRequestError(res.statusCode ?? 0, st.reason ?? res.statusMessage ?? "", st.message ?? text));
          },
          (e) => finish(e as Error),
        );
      });
      ws.on("open", () => {
        if (o.pingMs && o.pingMs > 0) {
          const beat = () => {
            if (ws.readyState !== WebSocket.OPEN) return;
            this.socketMessagesSent++;
            ws.send(HEARTBEAT.ping);
          };
          beat();
          ping = setInterval(beat, o.pingMs);
        }
      });
      ws.on("message", (data, isBinary) => {
        const text = isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString();
        if (text === HEARTBEAT.pong) {
          o.onPong?.();
          return;
        }
        let ev: WatchEvent;
        try {
          ev = JSON.parse(text) as WatchEvent;
        } catch {
          return finish(new Error(`watch ${path}: a message that is not a watch event`));
        }
        if (ev.type === "ERROR") return finish(ApiClient.watchError(ev));
        try {
          onEvent(ev);
        } catch (e) {
          finish(e as Error);
        }
      });
      ws.on("close", (code, reason) => {
        // a normal end (the server's timeout, a deploy) resolves: the caller resumes from its resourceVersion
        if (code === 1000 || code === 1001) finish();
        else finish(new Error(`watch ${path}: connection closed (${code}${reason.length ? ` ${reason.toString()}` : ""})`));
      });
      ws.on("error", (e) => finish(e));
    });
  }

  private async watchHttp(
    path: string,
    resourceVersion: string,
    onEvent: (ev: WatchEvent) => void,
    signal: AbortSignal,
    timeoutSeconds: number,
  ): Promise<void> {
    const sep = path.includes("?") ? "&" : "?";
    const res = await this.send(
      "GET",
      `${path}${sep}watch=true&allowWatchBookmarks=true&resourceVersion=${resourceVersion}&timeoutSeconds=${timeoutSeconds}`,
      undefined,
      {},
      signal,
      (this.streamAgent ??= this.newAgent(Number.POSITIVE_INFINITY)),
    );
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const text = await readAll(res);
      let st: { reason?: string; message?: string } = {};
      try {
        st = JSON.parse(text);
      } catch {
        // not a Status
      }
      throw new ApiRequestError(status, st.reason ?? res.statusMessage ?? "", st.message ?? text);
    }
    let buf = "";
    res.setEncoding("utf8");
    for await (const chunk of res) {
      buf += chunk as string;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const ev = JSON.parse(line) as WatchEvent;
        if (ev.type === "ERROR") {
          res.destroy();
          throw ApiClient.watchError(ev);
        }
        onEvent(ev);
      }
    }
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.streamAgent?.destroy();
    this.urgentAgent?.destroy();
  }
}
