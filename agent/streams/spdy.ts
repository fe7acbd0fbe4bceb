/**
 * SPDY/3.1 as kubelet speaks it (k8s.io/apimachinery httpstream/spdy, on moby/spdystream),
 * with `spdy-transport`: the client opens one stream per purpose and names it in its
 * headers (`streamType`; port-forward adds `port` and `requestID`); the server answers
 * each with a SYN_REPLY. Exec/attach: kubelet's createHTTPStreamStreams; port-forward:
 * kubelet's portforward httpStreamHandler. The bytes come from the client's upgraded HTTP
 * connection (raw framing) or inside WebSocket binary messages (kubectl ≥ 1.31's
 * port-forward, subprotocol SPDY/3.1+portforward.k8s.io).
 */
import type { Duplex } from "node:stream";
// @ts-expect-error spdy-transport ships no types
import transport from "spdy-transport";
import type { ExecOptions } from "./options";
import type { SessionIO } from "./session";

/** the parts of spdy-transport's Stream used here (a Duplex with the client's headers) */
export type SpdyStream = Duplex & { headers: Record<string, string>; respond(status: number, headers: Record<string, string>, cb?: () => void): void };
interface SpdyConnection {
  on(ev: "stream", cb: (s: SpdyStream) => void): void;
  on(ev: "error" | "close", cb: (e?: Error) => void): void;
  end(cb?: () => void): void;
  start(version: number): void;
  _spdyState: {
    parser: { parseKVs(buf: unknown, cb: (err: Error | null, headers?: Record<string, string>) => void): void };
    window: { send: WindowSide };
  };
}

/** spdy-transport's flow-control window side */
interface WindowSide {
  update(size: number, cb?: () => void): void;
}

/** a send window that never holds data back (and ignores WINDOW_UPDATEs) */
const unlimited = (side: WindowSide) => {
  side.update = (_size, cb) => {
    if (cb) process.nextTick(cb);
  };
};

/** SPDY/3.1 server on `socket`; every stream the client opens is answered and handed to `onStream` */
export function spdyServer(socket: Duplex, onStream: (s: SpdyStream) => void): SpdyConnection {
  const conn: SpdyConnection = transport.connection.create(socket, { protocol: "spdy", isServer: true, windowSize: 1 << 20 });
  // Go's spdystream names its streams by headers alone; spdy-transport's parser wants HTTP's
  // :method and :path on every SYN_STREAM and refuses the frame without them: supply them
  const parser = conn._spdyState.parser;
  const parseKVs = parser.parseKVs;
  parser.parseKVs = function (this: unknown, buf, cb) {
    parseKVs.call(this, buf, (err, headers) => {
      if (!err && headers) {
        headers[":method"] ??= "POST";
        headers[":path"] ??= "/";
      }
      cb(err, headers);
    });
  };
  // Go's spdystream (kubelet, kubectl) has no flow control: it never sends WINDOW_UPDATE
  // (nor waits for one), so a sender that keeps to SPDY's windows stalls after the first
  // 64 KiB of a stream. Like kubelet, this side sends regardless: TCP (or the WebSocket)
  // underneath still pushes back. The session window is off with version 3 (3.1 adds it).
  unlimited(conn._spdyState.window.send);
  conn.on("error", () => undefined);
  conn.on("stream", (s) => {
    unlimited((s as unknown as { _spdyState: { window: { send: WindowSide } } })._spdyState.window.send);
    s.on("error", () => undefined);
    s.respond(200, {});
    onStream(s);
  });
  conn.start(3);
  return conn;
}

/** X-Stream-Protocol-Version values of exec/attach over SPDY, best first */
export const EXEC_SPDY_PROTOCOLS = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"];

const header = (s: SpdyStream, name: string): string | undefined => {
  const v: unknown = s.headers[name.toLowerCase()];
  return Array.isArray(v) ? String(v[0]) : typeof v === "string" ? v : undefined;
};

const endAll = (socket: Duplex) => {
  if (!socket.destroyed) socket.end();
  // the peer closes its side once it has read everything; one that does not is cut off
  setTimeout(() => socket.destroy(), 10_000).unref();
};

/**
 * An exec/attach session over SPDY: waits (up to `timeoutMs`, kubelet's stream creation
 * timeout) for the streams the options call for, then serves them.
 */
export function spdyExecSession(socket: Duplex, protocol: string, o: ExecOptions, timeoutMs = 30_000): Promise<SessionIO | undefined> {
  const streams = new Map<string, SpdyStream>();
  const resizing = o.tty && (protocol === "v4.channel.k8s.io" || protocol === "v3.channel.k8s.io");
  const expected = 1 + Number(o.stdin) + Number(o.stdout) + Number(o.stderr) + Number(resizing);
  const gone = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, timeoutMs);
    void gone.then(() => {
      clearTimeout(t);
      resolve(undefined);
    });
    const conn = spdyServer(socket, (s) => {
      const type = header(s, "streamType") ?? "";
      if (!["error", "stdin", "stdout", "stderr", "resize"].includes(type)) return void s.destroy();
      streams.set(type, s);
      if (streams.size < expected) return;
      clearTimeout(t);
      const error = streams.get("error");
      const writeStatus = (st: Record<string, unknown>) =>
        new Promise<void>((done) => {
          if (!error) return done();
          // v4: the Status as JSON; before v4: only a failure's message
          const text = protocol === "v4.channel.k8s.io" ? JSON.stringify(st) : st.status === "Success" ? "" : String(st.message ?? "");
          if (text) error.write(text);
          error.end(() => done());
        });
      resolve({
        stdin: o.stdin ? streams.get("stdin") : undefined,
        stdout: o.stdout ? streams.get("stdout") : undefined,
        stderr: o.stderr ? streams.get("stderr") : undefined,
        resize: resizing ? streams.get("resize") : undefined,
        writeStatus,
        end: () => {
          for (const s of streams.values()) if (!s.writableEnded) s.end();
          conn.end();
          endAll(socket);
        },
        gone,
      });
    });
  });
}

/**
 * Port-forward over SPDY: each connection the client forwards is a pair of streams with
 * one requestID, `error` and `data`, for the port its `port` header names. The data
 * stream carries the connection's bytes both ways; a failure to connect is reported on
 * the error stream, as kubelet words it.
 */
export function spdyPortForward(socket: Duplex, dial: (port: number) => Promise<Duplex>, describe: string): void {
  const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream }>();
  const open = new Set<Duplex>();
  socket.once("close", () => {
    for (const c of open) c.destroy();
  });
  spdyServer(socket, (s) => {
    const type = header(s, "streamType");
    const id = header(s, "requestID") ?? "";
    const port = Number(header(s, "port"));
    if ((type !== "data" && type !== "error") || !Number.isInteger(port) || port < 1 || port > 65535) {
      s.end(type === "error" ? `invalid port "${header(s, "port")}"` : undefined);
      return;
    }
    // a client may leave pairs half made; bounded like kubelet's (which expires them)
    if (!pairs.has(id) && pairs.size >= 1024) return void s.destroy();
    const pair = pairs.get(id) ?? {};
    pair[type] = s;
    pairs.set(id, pair);
    if (!pair.data || !pair.error) return;
    pairs.delete(id);
    const { data, error } = pair as { data: SpdyStream; error: SpdyStream };
    dial(port).then(
      (conn) => {
        open.add(conn);
        conn.on("error", () => conn.destroy());
        data.pipe(conn);
        conn.pipe(data);
        conn.on("close", () => {
          open.delete(conn);
          if (!data.writableEnded) data.end();
          if (!error.writableEnded) error.end();
        });
        data.on("close", () => conn.end());
      },
      (e: Error) => {
        error.end(`error forwarding port ${port} to pod ${describe}: ${e.message}`);
        data.end();
      },
    );
  });
}
