/**
 * The Node server's connection hygiene: timeouts, a per-address connection cap, parser
 * errors answered with a Status, and no reading of a body the answer no longer needs.
 */
import type { ServerType } from "@hono/node-server";
import { type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { ApiError } from "../shared/status";

export type ConnectionLimits = typeof CONNECTION_DEFAULTS;

/**
 * Connection limits, after kube-apiserver's (k8s.io/apiserver secure serving): headers
 * within 32 s (ReadHeaderTimeout; a fresh connection that sends nothing is cut then
 * too), a keep-alive connection idle for 90 s is closed (IdleTimeout), and a request
 * that is not long-running must be received and answered within 60 s
 * (--request-timeout; watches and logs are exempt). A TLS handshake gets 10 s (Go bounds
 * it by the header timeout; client-go itself gives up after 10 s). Request line plus
 * headers: Node's 16 KiB (kube-apiserver allows 1 MiB). Connections per client address:
 * 200, beyond which a new connection is closed at once.
 */
export const CONNECTION_DEFAULTS = {
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 32_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 90_000,
  maxConnectionsPerAddress: 200,
  maxHeaderBytes: 16 * 1024,
};

const statusBytes = (e: ApiError): string => {
  const body = JSON.stringify(e.toStatus());
  return `HTTP/1.1 ${e.code} ${STATUS_CODES[e.code] ?? ""}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
};

/** What Node's HTTP parser refused, as the Status kube-apiserver-style clients understand; null when there is nothing to answer. */
const clientErrorStatus = (err: NodeJS.ErrnoException & { reason?: string }, maxHeaderBytes: number): ApiError | null => {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return new ApiError(431, "RequestHeaderFieldsTooLarge", `the request line and headers are larger than the server limit of ${maxHeaderBytes} bytes`);
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return new ApiError(413, "RequestEntityTooLarge", "the chunk extensions of the request body are too large");
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new ApiError(408, "Timeout", "the request was not received in time");
  }
  if (err.code?.startsWith("HPE_")) return new ApiError(400, "BadRequest", `malformed HTTP request: ${err.reason ?? err.message}`);
  return null; // TLS failures, resets: no HTTP to answer with
};

/** How long a connection whose request body is left unread stays open for its answer. */
const LINGER_MS = 500;

/**
 * Read no more of a request's body: the response says `Connection: close`, and after it
 * the connection is half-closed and torn down LINGER_MS later, unread data and all.
 */
export const stopReading = (socket: Socket, response: ServerResponse) => {
  if (!response.headersSent) response.setHeader("Connection", "close");
  socket.pause();
  // Node's HTTP server resumes the socket after a response to read and discard the rest of the body
  socket.resume = () => socket;
  // ...and after a `Connection: close` response it calls destroySoon, which would reset the
  // connection at once (data unread) and could take the answer with it: linger instead
  let lingering = false;
  socket.destroySoon = () => {
    if (lingering) return;
    lingering = true;
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  };
};

/** Apply the connection limits to a Node HTTP(S) server. */
export const limitConnections = (server: ServerType, limits: typeof CONNECTION_DEFAULTS) => {
  const perAddress = new Map<string, number>();
  // the raw TCP connection, before any TLS: refuse it at once when its address has too many
  server.on("connection", (socket: Socket) => {
    const addr = (socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    const n = perAddress.get(addr) ?? 0;
    if (n >= limits.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    perAddress.set(addr, n + 1);
    socket.once("close", () => {
      const left = (perAddress.get(addr) ?? 1) - 1;
      if (left > 0) perAddress.set(addr, left);
      else perAddress.delete(addr);
    });
  });
  // Node answers parser errors with an empty body; answer with a Status instead
  const answered = new WeakSet<Socket>();
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket & { _httpMessage?: unknown }) => {
    if (answered.has(socket)) return;
    const status = clientErrorStatus(err, limits.maxHeaderBytes);
    // nothing to answer for a TLS failure or a reset, nor while a response is under way; a
    // timeout after earlier responses on this connection may be a body left unread: just close
    if (!status || !socket.writable || socket._httpMessage || (err.code === "ERR_HTTP_REQUEST_TIMEOUT" && socket.bytesWritten > 0)) {
      socket.destroy();
      return;
    }
    answered.add(socket);
    // stop parsing; answer, then linger a moment so the client reads the answer before the reset
    socket.removeAllListeners("data");
    socket.pause();
    socket.end(statusBytes(status));
    const kill = setTimeout(() => socket.destroy(), 1000);
    kill.unref();
    socket.once("close", () => clearTimeout(kill));
  });
};
