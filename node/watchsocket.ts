/**
 * WebSocket watches on the Node server, as kube-apiserver serves them: `GET …?watch=true`
 * with `Upgrade: websocket`, one JSON watch event per text message. The request goes
 * through the same app as any other (authentication, authorization, checks); its
 * answer, the newline-delimited event stream of an HTTP watch, is sent line by line as
 * messages. A refused watch (401, 403, 400…) is answered with its Status over plain
 * HTTP, before any upgrade. Messages from the client are ignored (kube-apiserver does
 * the same), heartbeats included: only the Worker's watch hub answers those.
 *
 * Only watch requests are handled here; other upgrades are left to the server's other
 * `upgrade` listeners.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";

/** Is this upgrade a WebSocket watch request? */
export const isWatchUpgrade = (req: IncomingMessage): boolean => {
  if (req.method !== "GET" || req.headers.upgrade?.toLowerCase() !== "websocket") return false;
  // as kube's parameter codec reads a boolean: present and neither 0 nor false (workers/api/options.ts boolParam)
  const w = new URL(req.url ?? "/", "http://x").searchParams.get("watch");
  return w !== null && w !== "0" && w.toLowerCase() !== "false";
};

const reasonPhrase: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  410: "Gone",
  500: "Internal Server Error",
};

/** Serve WebSocket watches on `server` with `fetch` (the app). */
export const attachWatchSockets = (server: Pick<Server, "on">, fetch: (req: Request) => Promise<Response>): void => {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!isWatchUpgrade(req)) return;
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || /^(upgrade|connection|sec-websocket-.*)$/i.test(k)) continue;
      headers.set(k, Array.isArray(v) ? v.join(", ") : v);
    }
    const ac = new AbortController();
    socket.on("close", () => ac.abort());
    socket.on("error", () => ac.abort());
    void (async () => {
      let res: Response;
      try {
        res = await fetch(new Request(`http://${req.headers.host ?? "localhost"}${req.url}`, { headers, signal: ac.signal }));
      } catch (e) {
        res = Response.json(
          { kind: "Status", apiVersion: "v1", status: "Failure", code: 500, reason: "InternalError", message: String((e as Error).message) },
          { status: 500 },
        );
      }
      if (res.status !== 200 || !res.body) {
        const body = Buffer.from(await res.text().catch(() => ""));
        socket.end(
          `HTTP/1.1 ${res.status} ${reasonPhrase[res.status] ?? "Error"}\r\nContent-Type: ${res.headers.get("content-type") ?? "application/json"}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString()}`,
        );
        return;
      }
      const reader = res.body.getReader();
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on("close", () => {
          ac.abort();
          void reader.cancel().catch(() => {});
        });
        ws.on("error", () => ws.terminate());
        ws.on("message", () => {}); // heartbeats and anything else: ignored
        void (async () => {
          const dec = new TextDecoder();
          let buf = "";
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              buf += dec.decode(value, { stream: true });
              let nl: number;
              while ((nl = buf.indexOf("\n")) >= 0) {
                const line = buf.slice(0, nl).trim();
                buf = buf.slice(nl + 1);
                if (line) ws.send(line);
              }
            }
          } catch {
            // the stream failed or was cancelled
          }
          // the watch ended (its timeout): a normal close, and the client resumes from its last resourceVersion
          if (ws.readyState === ws.OPEN) ws.close(1000, "watch ended");
        })();
      });
    })();
  });
};
