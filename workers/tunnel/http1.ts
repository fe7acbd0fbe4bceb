/**
 * One HTTP/1.1 exchange over a byte channel (a `tcp` stream of the agent tunnel), for
 * pods/proxy and services/proxy on the Worker. The Workers runtime has no HTTP client
 * over an arbitrary duplex (no http.request with createConnection, and fetch() dials
 * only the network), so this is the small part of HTTP/1.1 a proxy needs: the request
 * with a Content-Length body and `Connection: close`, and the response's status line,
 * headers and body (Content-Length, chunked, or until close). On the Node server
 * http.request does all this (node/upgrade.ts).
 */
import { ApiError } from "../../shared/status";
import { HOP_HEADERS } from "./plan";

export interface Http1Exchange {
  req: Request;
  /** the Host header to send */
  host: string;
  /** path and query to ask for */
  path: string;
  maxBodyBytes: number;
  send(bytes: ArrayBuffer): void;
  close(): void;
  /** called at once with where to deliver the channel's bytes and its end */
  receive(push: (m: string | ArrayBuffer) => void, end: () => void): void;
}

/** Longest response head accepted. */
const MAX_HEAD_BYTES = 64 * 1024;

const enc = new TextEncoder();
const dec = new TextDecoder();

const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

const indexOfCrlf = (b: Uint8Array, from = 0) => {
  for (let i = from; i + 1 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10) return i;
  return -1;
};

const unreachable = (why: string) => new ApiError(503, "ServiceUnavailable", `error trying to reach service: ${why}`);

/** The request's body, within the limit (413 past it). */
const readBody = async (req: Request, max: number): Promise<Uint8Array> => {
  if (!req.body) return new Uint8Array();
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > max) throw new ApiError(413, "RequestEntityTooLarge", `the request body is larger than the server limit of ${max} bytes`);
  const reader = req.body.getReader();
  let out = new Uint8Array();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    out = concat(out, value);
    if (out.length > max) {
      await reader.cancel();
      throw new ApiError(413, "RequestEntityTooLarge", `the request body is larger than the server limit of ${max} bytes`);
    }
  }
};

/** Decodes a chunked body as bytes arrive; calls out with data and done() after the last chunk. */
const dechunker = (out: (b: Uint8Array) => void, done: () => void, fail: (why: string) => void) => {
  let buf = new Uint8Array();
  let state: "size" | "data" | "crlf" | "trailer" | "done" = "size";
  let left = 0;
  return (b: Uint8Array) => {
    buf = concat(buf, b);
    for (;;) {
      if (state === "size" || state === "trailer" || state === "crlf") {
        const i = indexOfCrlf(buf);
        if (i < 0) {
          if (buf.length > 4096) fail("a chunk size line is too long");
          return;
        }
        const line = dec.decode(buf.subarray(0, i));
        buf = buf.subarray(i + 2);
        if (state === "crlf") state = "size";
        else if (state === "trailer") {
          if (line === "") {
            state = "done";
            return done();
          }
        } else {
          const size = Number.parseInt(line.split(";")[0].trim(), 16);
          if (!Number.isFinite(size) || size < 0) return fail(`a bad chunk size ${JSON.stringify(line.slice(0, 20))}`);
          if (size === 0) state = "trailer";
          else {
            state = "data";
            left = size;
          }
        }
      } else if (state === "data") {
        if (!buf.length) return;
        const n = Math.min(left, buf.length);
        out(buf.slice(0, n));
        buf = buf.subarray(n);
        left -= n;
        if (left === 0) state = "crlf";
      } else return;
    }
  };
};

/** Send the request over the channel and answer with the response it gets back. */
export const proxyHttp1 = async (x: Http1Exchange): Promise<Response> => {
  const method = x.req.method.toUpperCase();
  // the agent's bytes: the response head first, then its body
  let head = new Uint8Array();
  let onBody: ((b: Uint8Array) => void) | undefined;
  let onEnd: (() => void) | undefined;
  let settle: { resolve(r: Response): void; reject(e: unknown): void };
  const result = new Promise<Response>((resolve, reject) => {
    settle = { resolve, reject };
  });
  let answered = false;
  const fail = (e: ApiError) => {
    if (!answered) {
      answered = true;
      settle.reject(e);
    }
    x.close();
  };
  const onHead = (bytes: Uint8Array) => {
    head = concat(head, bytes);
    let end = -1;
    for (let i = 0; i + 3 < head.length; i++) {
      if (head[i] === 13 && head[i + 1] === 10 && head[i + 2] === 13 && head[i + 3] === 10) {
        end = i;
        break;
      }
    }
    if (end < 0) {
      if (head.length > MAX_HEAD_BYTES) fail(unreachable("the response head is too large"));
      return;
    }
    const lines = dec.decode(head.subarray(0, end)).split("\r\n");
    const rest = head.subarray(end + 4);
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) return fail(unreachable(`not an HTTP response: ${JSON.stringify(lines[0].slice(0, 40))}`));
    const code = Number(m[1]);
    if (code < 200) return fail(unreachable(`an interim response ${code} is not supported through the edge proxy`));
    const headers = new Headers();
    let chunked = false;
    let length: number | undefined;
    for (const line of lines.slice(1)) {
      const i = line.indexOf(":");
      if (i <= 0) continue;
      const k = line.slice(0, i).trim().toLowerCase();
      const v = line.slice(i + 1).trim();
      if (k === "transfer-encoding" && v.toLowerCase().includes("chunked")) chunked = true;
      if (k === "content-length") length = Number(v);
      if (HOP_HEADERS.has(k) || k === "content-length") continue;
      try {
        headers.append(k, v);
      } catch {}
    }
    answered = true;
    const bodyless = method === "HEAD" || code === 204 || code === 304;
    if (bodyless || length === 0) {
      x.close();
      onBody = () => {};
      onEnd = () => {};
      settle.resolve(new Response(null, { status: code, headers }));
      return;
    }
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        let finished = false;
        const finish = () => {
          if (finished) return;
          finished = true;
          controller.close();
          x.close();
        };
        if (chunked) {
          const feed = dechunker(
            (b) => controller.enqueue(b),
            finish,
            (why) => {
              finished = true;
              controller.error(new Error(why));
              x.close();
            },
          );
          onBody = feed;
          onEnd = () => {
            if (!finished) {
              finished = true;
              controller.error(new Error("the connection closed inside a chunked body"));
            }
          };
        } else if (length !== undefined && Number.isFinite(length)) {
          let left = length;
          onBody = (b) => {
            if (finished) return;
            const n = Math.min(left, b.length);
            controller.enqueue(b.slice(0, n));
            left -= n;
            if (left === 0) finish();
          };
          onEnd = () => {
            if (!finished) {
              finished = true;
              controller.error(new Error("the connection closed before the whole body came"));
            }
          };
        } else {
          onBody = (b) => controller.enqueue(b);
          onEnd = finish;
        }
        if (rest.length) onBody(rest);
      },
      cancel() {
        x.close();
      },
    });
    settle.resolve(new Response(body, { status: code, headers }));
  };
  x.receive(
    (m) => {
      const b = typeof m === "string" ? enc.encode(m) : new Uint8Array(m);
      if (onBody) onBody(b);
      else onHead(b);
    },
    () => {
      if (onEnd) onEnd();
      else fail(unreachable("the connection closed before a response"));
    },
  );

  const body =
    method === "GET" || method === "HEAD"
      ? new Uint8Array()
      : await readBody(x.req, x.maxBodyBytes).catch((e) => {
          x.close();
          throw e;
        });
  let text = `${method} ${x.path} HTTP/1.1\r\nHost: ${x.host}\r\n`;
  x.req.headers.forEach((v, k) => {
    if (!HOP_HEADERS.has(k) && k !== "content-length" && !/[\r\n]/.test(v)) text += `${k}: ${v}\r\n`;
  });
  if (body.length || ["POST", "PUT", "PATCH"].includes(method)) text += `Content-Length: ${body.length}\r\n`;
  text += "Connection: close\r\n\r\n";
  const out = concat(enc.encode(text), body);
  x.send(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer);
  return result;
};
