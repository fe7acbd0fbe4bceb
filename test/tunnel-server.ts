/**
 * A stand-in control plane for the agent's tunnel (shared/tunnel.ts), for tests of the
 * agent side: it serves TUNNEL_PATH and STREAM_PATH as the contract says, and in front
 * of them the stream subresources as a client sees them, so real clients can be pointed
 * at it (kubectl, @kubernetes/client-node): a WebSocket request to
 * `/api/v1/namespaces/NS/pods/NAME/{exec,attach,portforward}` becomes a StreamOpen with
 * framing "websocket", an HTTP upgrade to SPDY/3.1 one with framing "raw", and after the
 * agent's accept the bytes are spliced; any other request goes to the real API server
 * (`upstream`). Plain HTTP on 127.0.0.1, no authentication of its own: test code only.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { isStreamAnswer, STREAM_PATH, type StreamAnswer, type StreamOpen, TUNNEL_PATH, TUNNEL_PROTOCOL } from "../shared/tunnel";

export interface TunnelTestServer {
  url: string;
  /** resolves once the agent's control channel is connected (again) */
  agentConnected(): Promise<void>;
  /** send a StreamOpen and wait for the agent's answer on the stream connection */
  open(o: Omit<StreamOpen, "type" | "id">): Promise<{ answer: StreamAnswer; ws: WebSocket }>;
  /** the pod uids the subresources name in their StreamOpen (by namespace/name; missing: a made-up uid) */
  uids: Map<string, string>;
  /** every StreamOpen sent */
  opened: StreamOpen[];
  /** drop the agent's control channel (the agent should dial again) */
  dropAgent(): void;
  /** how many control channels the agent has opened so far */
  connections(): number;
  close(): Promise<void>;
}

const SUBRESOURCE = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/;

export async function startTunnelTestServer(node: string, upstream: { url: string; caPem: string; token: string }): Promise<TunnelTestServer> {
  let control: WebSocket | undefined;
  let controls = 0;
  let connectedWaiters: (() => void)[] = [];
  const pending = new Map<string, (ws: WebSocket) => void>();
  const uids = new Map<string, string>();
  const opened: StreamOpen[] = [];
  const sockets = new Set<Socket>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (p) => (p.has(TUNNEL_PROTOCOL) ? TUNNEL_PROTOCOL : false) });

  const open = (o: Omit<StreamOpen, "type" | "id">) =>
    new Promise<{ answer: StreamAnswer; ws: WebSocket }>((resolve, reject) => {
      if (!control || control.readyState !== WebSocket.OPEN) return reject(new Error("no agent connected"));
      const id = randomBytes(16).toString("hex");
      const t = setTimeout(() => {
        pending.delete(id);
        reject(new Error("no answer from the agent"));
      }, 10_000);
      pending.set(id, (ws) => {
        // the agent may send right after its accept (the first message of a channel
        // protocol): what comes before the splice is set up is held, not lost
        const held: [Buffer, boolean][] = [];
        let answered = false;
        const hold = (data: Buffer, isBinary: boolean) => {
          if (answered) return void held.push([data, isBinary]);
          answered = true;
          clearTimeout(t);
          const answer = JSON.parse(data.toString());
          if (!isStreamAnswer(answer)) return reject(new Error(`not an answer: ${data}`));
          const realOn = ws.on.bind(ws);
          // the first "message" listener added later gets what was held first
          (ws as any).on = (ev: string, fn: (...a: any[]) => void) => {
            if (ev === "message") {
              ws.off("message", hold);
              (ws as any).on = realOn;
              for (const [d, b] of held.splice(0)) fn(d, b);
            }
            return realOn(ev, fn);
          };
          resolve({ answer, ws });
        };
        ws.on("message", hold);
      });
      const msg: StreamOpen = { type: "open", id, ...o };
      opened.push(msg);
      control.send(JSON.stringify(msg));
    });

  /** the client's side of a subresource request: the StreamOpen it makes */
  const streamOpen = (req: IncomingMessage, framing: "websocket" | "raw"): Omit<StreamOpen, "type" | "id"> | undefined => {
    const u = new URL(req.url ?? "/", "http://x");
    const m = SUBRESOURCE.exec(u.pathname);
    if (!m) return undefined;
    const [, namespace, pod, kind] = m;
    const protocols =
      framing === "websocket"
        ? String(req.headers["sec-websocket-protocol"] ?? "")
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
        : String(req.headers["x-stream-protocol-version"] ?? "")
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean);
    return {
      kind: kind as StreamOpen["kind"],
      namespace,
      pod,
      uid: uids.get(`${namespace}/${pod}`) ?? "00000000-0000-0000-0000-000000000000",
      container: u.searchParams.get("container") ?? undefined,
      query: u.search.slice(1),
      framing,
      protocols,
      ...(framing === "raw" ? { upgrade: String(req.headers.upgrade ?? "") } : {}),
    };
  };

  const refuse = (socket: Socket, code: number, body: string) => {
    socket.end(`HTTP/1.1 ${code} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  };

  const server: Server = createServer((req, res) => {
    // everything else: the real API server, with the admin token
    const up = new URL(upstream.url);
    const headers = { ...req.headers, host: up.host, authorization: `Bearer ${upstream.token}` };
    const p = httpsRequest({ hostname: up.hostname, port: up.port, path: req.url, method: req.method, headers, ca: upstream.caPem }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    p.on("error", (e) => {
      res.writeHead(502);
      res.end(e.message);
    });
    req.pipe(p);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  server.on("upgrade", (req, socket: Socket, head) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const isWs = String(req.headers.upgrade ?? "").toLowerCase() === "websocket";
    // the agent's control channel and stream connections
    if (isWs && path === TUNNEL_PATH(node)) {
      return wss.handleUpgrade(req, socket, head, (ws) => {
        control = ws;
        controls++;
        ws.on("close", () => {
          if (control === ws) control = undefined;
        });
        for (const w of connectedWaiters) w();
        connectedWaiters = [];
      });
    }
    const streamId = /\/streams\/([0-9a-f]{32})$/.exec(path)?.[1];
    if (isWs && streamId && path === STREAM_PATH(node, streamId)) {
      const waiter = pending.get(streamId);
      if (!waiter) return refuse(socket, 404, "{}");
      pending.delete(streamId);
      return wss.handleUpgrade(req, socket, head, (ws) => waiter(ws));
    }
    const o = streamOpen(req, isWs ? "websocket" : "raw");
    if (!o) return refuse(socket, 404, "{}");
    void open(o).then(
      ({ answer, ws }) => {
        if (answer.type === "reject") {
          ws.close();
          return refuse(socket, answer.status.code, JSON.stringify(answer.status));
        }
        if (isWs) {
          // the client's handshake answered with the agent's choice; then message for message
          const client = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: () => answer.protocol || false });
          client.handleUpgrade(req, socket, head, (c) => {
            c.on("message", (d, bin) => ws.readyState === WebSocket.OPEN && ws.send(d, { binary: bin }));
            ws.on("message", (d, bin) => c.readyState === WebSocket.OPEN && c.send(d, { binary: bin }));
            c.on("close", (code, reason) => ws.close(code === 1005 ? 1000 : code, reason));
            ws.on("close", (code, reason) => c.close(code === 1005 ? 1000 : code, reason));
            c.on("error", () => ws.terminate());
            ws.on("error", () => c.terminate());
          });
          return;
        }
        // raw: 101, then bytes both ways as binary messages
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade}\r\n${answer.protocol ? `X-Stream-Protocol-Version: ${answer.protocol}\r\n` : ""}\r\n`,
        );
        if (head.length) ws.send(head);
        socket.on("data", (d) => ws.readyState === WebSocket.OPEN && ws.send(d));
        ws.on("message", (d) => socket.write(d as Buffer));
        socket.on("close", () => ws.close());
        socket.on("error", () => ws.terminate());
        ws.on("close", () => socket.end());
      },
      (e: Error) => refuse(socket, 503, JSON.stringify({ message: e.message })),
    );
  });

  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    uids,
    opened,
    open,
    dropAgent: () => control?.terminate(),
    connections: () => controls,
    agentConnected: () => (control?.readyState === WebSocket.OPEN ? Promise.resolve() : new Promise<void>((r) => connectedWaiters.push(r))),
    close: async () => {
      for (const c of wss.clients) c.terminate();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
