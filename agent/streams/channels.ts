/**
 * The channel WebSocket protocols (k8s.io/apiserver wsstream, kubelet's streaming server):
 * each message is one channel's data, its first byte the channel number
 * (`channel.k8s.io`, `v4.channel.k8s.io`, `v5.channel.k8s.io`), or, in the base64
 * variants, a text message whose first character is the channel's digit and the rest
 * the data in base64. v5 adds the close signal: channel 255 with one byte, the channel
 * the client will send no more on (stdin's end).
 */
import { PassThrough, Writable } from "node:stream";
import type { WebSocket } from "ws";

export const CLOSE_CHANNEL = 255;

/** the WebSocket subprotocols of exec and attach, best first */
export const EXEC_WS_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io", "v4.base64.channel.k8s.io", "channel.k8s.io", "base64.channel.k8s.io"];
/** port-forward's (kubelet: no v5 there; portforward.k8s.io is taken as the binary one too) */
export const PORTFORWARD_WS_PROTOCOLS = ["v4.channel.k8s.io", "v4.base64.channel.k8s.io", "portforward.k8s.io", "channel.k8s.io", "base64.channel.k8s.io"];

/** The first protocol the client offered that the server speaks (wsstream's handshake), "" when it offered none. */
export function negotiate(offered: string[], supported: string[]): string | undefined {
  if (offered.length === 0) return "";
  return offered.map((p) => p.trim()).find((p) => supported.includes(p));
}

/** outgoing data above which a channel's writer waits for the socket to drain */
const HIGH_WATER = 1 << 20;

/** how long after a connection opens its first output waits (see ChannelConn.send) */
const GRACE_MS = 50;

export class ChannelConn {
  readonly base64: boolean;
  readonly v5: boolean;
  /** readers of the channels the client writes to, by number */
  private readonly readers = new Map<number, PassThrough>();
  /** reading from the client is paused until a channel's reader drains */
  private paused = false;
  readonly closed: Promise<void>;

  constructor(
    readonly ws: WebSocket,
    readonly protocol: string,
    /** exec/attach: hold the first output a moment (see send) */
    private readonly grace = false,
  ) {
    this.base64 = protocol.includes("base64");
    this.v5 = protocol === "v5.channel.k8s.io";
    this.closed = new Promise((resolve) => ws.once("close", () => resolve()));
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => this.onMessage(data, isBinary));
    ws.once("close", () => {
      for (const r of this.readers.values()) r.end();
    });
  }

  private onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const raw = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (raw.length === 0) return;
    let channel: number;
    let body: Buffer;
    if (this.base64 && !isBinary) {
      channel = raw[0] - 48;
      body = Buffer.from(raw.subarray(1).toString(), "base64");
    } else {
      channel = raw[0];
      body = raw.subarray(1);
    }
    if (this.v5 && channel === CLOSE_CHANNEL) {
      if (body.length > 0) this.readers.get(body[0])?.end();
      return;
    }
    const r = this.readers.get(channel);
    if (!r || r.writableEnded || body.length === 0) return;
    // a process that reads slowly holds the client back (the WebSocket, and so TCP, stop being read)
    if (!r.write(body) && !this.paused) {
      this.paused = true;
      this.ws.pause();
      r.once("drain", () => {
        this.paused = false;
        this.ws.resume();
      });
    }
  }

  /** what the client sends on `channel` */
  reader(channel: number): PassThrough {
    let r = this.readers.get(channel);
    if (!r) {
      r = new PassThrough();
      this.readers.set(channel, r);
    }
    return r;
  }

  /**
   * client-go's WebSocket executor starts reading before it has made its streams and
   * drops what arrives for a stream not made yet ("Unknown stream id 1, discarding
   * message"): what goes out in the first moments after the connection opens waits
   * until GRACE_MS after it, in order.
   */
  private readonly openedAt = Date.now();
  private held: Promise<void> | undefined;

  send(channel: number, data: Buffer, cb?: (err?: Error) => void): void {
    const wait = this.grace ? this.openedAt + GRACE_MS - Date.now() : 0;
    if (wait > 0 || this.held) {
      this.held ??= new Promise((r) => setTimeout(r, Math.max(0, wait)));
      const mine = this.held.then(() => this.sendNow(channel, data, cb));
      this.held = mine;
      void mine.then(() => {
        if (this.held === mine) this.held = undefined;
      });
      return;
    }
    this.sendNow(channel, data, cb);
  }

  private sendNow(channel: number, data: Buffer, cb?: (err?: Error) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) {
      cb?.(new Error("connection closed"));
      return;
    }
    if (this.base64) this.ws.send(String.fromCharCode(48 + channel) + data.toString("base64"), { binary: false }, cb);
    else this.ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true }, cb);
  }

  /** a Writable whose data goes out on `channel`, waiting for the socket when much is queued */
  writer(channel: number): Writable {
    const w = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (chunk.length === 0) return cb();
        if (this.ws.bufferedAmount < HIGH_WATER) {
          this.send(channel, chunk, () => undefined);
          cb();
        } else this.send(channel, chunk, (e) => cb(e ?? undefined));
      },
    });
    // a closed connection ends the writing; the session notices the close itself
    w.on("error", () => undefined);
    return w;
  }

  close(code = 1000, reason = ""): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }
}
