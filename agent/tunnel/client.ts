/**
 * The agent's end of the tunnel (shared/tunnel.ts): one WebSocket to the control plane's
 * TUNNEL_PATH, opened outbound with the node credential and the cluster's CA like every
 * other request of the agent, kept alive with pings and opened again with back-off when
 * it drops. Each StreamOpen on it gets a connection of its own to STREAM_PATH, answered
 * and served by the StreamServer; at most MAX_STREAMS_PER_NODE at a time (more are
 * refused with 429). Closing the client ends its open streams.
 */
import { WebSocket } from "ws";
import { isStreamOpen, MAX_STREAMS_PER_NODE, STREAM_PATH, type StreamOpen, TUNNEL_PATH, TUNNEL_PROTOCOL } from "../../shared/tunnel";
import { secureContextFor } from "../api";
import { sleep, watchBackoffMs } from "../sleep";
import type { StreamServer } from "../streams/server";

export interface TunnelOptions {
  /** the control plane's URL (https://…), as the agent's ApiClient has it */
  server: string;
  token: string;
  caPem?: string;
  nodeName: string;
  streams: Pick<StreamServer, "serve">;
  log?: (m: string) => void;
  /** how often the control channel is pinged; two missed pongs drop it (default 20 s) */
  pingIntervalMs?: number;
  maxStreams?: number;
}

/** control messages are small; anything big on the control channel is an error */
const MAX_CONTROL_MESSAGE = 64 * 1024;

export class TunnelClient {
  private readonly ac = new AbortController();
  private ws: WebSocket | undefined;
  private readonly streams = new Set<WebSocket>();
  private loop: Promise<void> | undefined;
  /** resolves when the control channel is first connected (tests) */
  private onConnected: (() => void) | undefined;
  readonly connected = new Promise<void>((r) => (this.onConnected = r));

  constructor(private readonly o: TunnelOptions) {}

  private log = (m: string) => this.o.log?.(m);

  private url(path: string): string {
    const u = new URL(this.o.server);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.pathname = u.pathname.replace(/\/$/, "") + path;
    return u.toString();
  }

  private dial(path: string, maxPayload: number): WebSocket {
    return new WebSocket(this.url(path), [TUNNEL_PROTOCOL], {
      headers: { Authorization: `Bearer ${this.o.token}` },
      ...(this.o.caPem ? { ca: this.o.caPem, secureContext: secureContextFor(this.o.caPem) } : {}),
      perMessageDeflate: false,
      maxPayload,
      handshakeTimeout: 15_000,
    });
  }

  start(): void {
    this.loop ??= this.run();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  async stop(): Promise<void> {
    this.ac.abort();
    this.ws?.terminate();
    // an open stream ends with a close its client sees (1001: going away)
    for (const s of this.streams) s.close(1001, "agent stopping");
    await this.loop;
    await new Promise((r) => setTimeout(r, 100));
    for (const s of this.streams) s.terminate();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.ac.signal.aborted) {
      const since = Date.now();
      const why = await this.session().catch((e: Error) => e.message);
      if (this.ac.signal.aborted) return;
      // a channel that stayed up a while starts the back-off again
      failures = Date.now() - since > 60_000 ? 1 : failures + 1;
      if (failures === 1 || failures % 10 === 0) this.log(`tunnel: ${why}; reconnecting`);
      await sleep(watchBackoffMs(failures), this.ac.signal);
    }
  }

  /** One control channel, until it drops; resolves with why. */
  private session(): Promise<string> {
    return new Promise((resolve) => {
      const ws = this.dial(TUNNEL_PATH(this.o.nodeName), MAX_CONTROL_MESSAGE);
      this.ws = ws;
      let alive = true;
      let ping: NodeJS.Timeout | undefined;
      ws.on("unexpected-response", (_req, res) => {
        resolve(`control channel refused: HTTP ${res.statusCode}`);
        res.resume();
        ws.terminate();
      });
      ws.on("open", () => {
        this.log("tunnel: connected");
        this.onConnected?.();
        ping = setInterval(() => {
          if (!alive) return ws.terminate();
          alive = false;
          ws.ping();
        }, this.o.pingIntervalMs ?? 20_000);
      });
      ws.on("pong", () => (alive = true));
      ws.on("message", (data, isBinary) => {
        alive = true;
        if (isBinary) return;
        let msg: unknown;
        try {
          msg = JSON.parse(data.toString());
        } catch {
          return;
        }
        if (isStreamOpen(msg)) this.open(msg);
      });
      ws.on("error", (e) => resolve(e.message));
      ws.on("close", (code) => {
        clearInterval(ping);
        resolve(`control channel closed (${code})`);
      });
    });
  }

  /** A stream: its own connection, answered by the stream server (or refused when too many are open). */
  private open(open: StreamOpen): void {
    const ws = this.dial(STREAM_PATH(this.o.nodeName, open.id), 16 * 1024 * 1024);
    const tooMany = this.streams.size >= (this.o.maxStreams ?? MAX_STREAMS_PER_NODE);
    this.streams.add(ws);
    ws.on("error", (e) => this.log(`stream ${open.kind} ${open.namespace}/${open.pod}: ${e.message}`));
    ws.on("unexpected-response", (_req, res) => {
      this.log(`stream ${open.kind} ${open.namespace}/${open.pod}: refused, HTTP ${res.statusCode}`);
      res.resume();
      ws.terminate();
    });
    ws.on("close", () => this.streams.delete(ws));
    ws.on("open", () => {
      if (tooMany) {
        const message = `too many open streams on node ${this.o.nodeName} (at most ${this.o.maxStreams ?? MAX_STREAMS_PER_NODE})`;
        ws.send(
          JSON.stringify({ type: "reject", status: { kind: "Status", apiVersion: "v1", status: "Failure", code: 429, reason: "TooManyRequests", message } }),
        );
        ws.close(1000);
        return;
      }
      void this.o.streams.serve(open, ws).catch((e) => {
        this.log(`stream ${open.kind} ${open.namespace}/${open.pod}: ${(e as Error).message}`);
        ws.terminate();
      });
    });
  }
}
