/**
 * A test-only agent side of the tunnel contract (shared/tunnel.ts) with toy behaviour,
 * to test the control plane's half alone (the real agent is agent/tunnel):
 * - exec/attach over WebSocket: accepts v5 (else v4) channel.k8s.io, greets on stdout
 *   with "hello from {node}/{pod}/{container}\n", echoes stdin to stdout; stdin "exit N"
 *   ends with that exit code on channel 3 (0: Success), and so does a v5 stdin close;
 * - raw (SPDY) exec/attach/portforward: accepts the first offered version and echoes bytes;
 * - tcp: connects to the local port `ports` maps the pod port to, and splices bytes;
 * - container "reject-me": rejects with a Status; pods in `silent`: never answers; pods in
 *   `late`: answers after a while.
 */
import { connect, type Socket } from "node:net";
import { WebSocket } from "ws";
import { isStreamOpen, STREAM_PATH, type StreamAnswer, type StreamOpen, TUNNEL_PATH, TUNNEL_PROTOCOL } from "../shared/tunnel";

export interface ToyAgentOptions {
  /** http(s)://host:port of the control plane */
  url: string;
  node: string;
  token: string;
  ca?: string;
  /** pod port → local port, for tcp streams */
  ports?: Record<number, number>;
  /** pods whose streams are never answered */
  silent?: Set<string>;
  /** pods whose streams are answered only after this many ms */
  late?: Map<string, number>;
}

export interface ToyAgent {
  /** every StreamOpen received, in order */
  opens: StreamOpen[];
  /** resolves when the control channel is open */
  connected: Promise<void>;
  /** the control channel */
  control: WebSocket;
  /** stream connections currently open */
  streams: Set<WebSocket>;
  close(): Promise<void>;
}

const wsUrl = (url: string, path: string) => url.replace(/^http/, "ws") + path;

const status = (code: number, reason: string, message: string) => ({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message }) as const;

export const startToyAgent = (o: ToyAgentOptions): ToyAgent => {
  const headers = { Authorization: `Bearer ${o.token}` };
  const opts = { headers, ca: o.ca };
  const opens: StreamOpen[] = [];
  const streams = new Set<WebSocket>();
  const control = new WebSocket(wsUrl(o.url, TUNNEL_PATH(o.node)), TUNNEL_PROTOCOL, opts);
  const connected = new Promise<void>((resolve, reject) => {
    control.once("open", () => resolve());
    control.once("unexpected-response", (_req, res) => reject(new Error(`control channel refused: ${res.statusCode}`)));
    control.once("error", reject);
  });
  control.on("message", (data) => {
    const open = JSON.parse(String(data));
    if (!isStreamOpen(open)) return;
    opens.push(open);
    if (o.silent?.has(open.pod)) return;
    const ws = new WebSocket(wsUrl(o.url, STREAM_PATH(o.node, open.id)), TUNNEL_PROTOCOL, opts);
    streams.add(ws);
    ws.on("close", () => streams.delete(ws));
    ws.on("error", () => {});
    ws.on("open", () => {
      const delay = o.late?.get(open.pod);
      if (delay) setTimeout(() => ws.readyState === WebSocket.OPEN && serve(ws, open, o), delay);
      else serve(ws, open, o);
    });
  });
  return {
    opens,
    connected,
    control,
    streams,
    close: async () => {
      for (const s of streams) s.terminate();
      if (control.readyState === WebSocket.CLOSED) return;
      const closed = new Promise((r) => control.once("close", r));
      control.terminate();
      await closed;
    },
  };
};

const answer = (ws: WebSocket, a: StreamAnswer) => ws.send(JSON.stringify(a));

const serve = (ws: WebSocket, open: StreamOpen, o: ToyAgentOptions) => {
  if (open.container === "reject-me") return answer(ws, { type: "reject", status: status(500, "InternalError", 'container not found ("reject-me")') });
  if (open.kind === "tcp") {
    const local = o.ports?.[open.port ?? 0];
    if (!local) return answer(ws, { type: "reject", status: status(503, "ServiceUnavailable", `nothing listens on port ${open.port}`) });
    const sock: Socket = connect(local, "127.0.0.1", () => {
      answer(ws, { type: "accept", protocol: "" });
      sock.on("data", (d) => ws.send(d, { binary: true }));
      ws.on("message", (d) => sock.write(d as Buffer));
    });
    sock.on("end", () => ws.close(1000));
    sock.on("error", () => ws.close(1011));
    ws.on("close", () => sock.destroy());
    return;
  }
  if (open.framing === "raw") {
    answer(ws, { type: "accept", protocol: open.protocols[0] ?? "" });
    ws.on("message", (d) => ws.send(d, { binary: true }));
    return;
  }
  const protocol = ["v5.channel.k8s.io", "v4.channel.k8s.io"].find((p) => open.protocols.includes(p));
  if (!protocol) return answer(ws, { type: "reject", status: status(400, "BadRequest", "no supported stream protocol offered") });
  answer(ws, { type: "accept", protocol });
  const out = (ch: number, s: string | Buffer) => ws.send(Buffer.concat([Buffer.from([ch]), Buffer.from(s)]), { binary: true });
  const finish = (code: number) => {
    out(
      3,
      JSON.stringify(
        code === 0
          ? { metadata: {}, status: "Success" }
          : {
              metadata: {},
              status: "Failure",
              message: `command terminated with non-zero exit code: exit status ${code}`,
              reason: "NonZeroExitCode",
              details: { causes: [{ reason: "ExitCode", message: String(code) }] },
            },
      ),
    );
    ws.close(1000);
  };
  // (after a moment, as the real agent does: client-go drops output for streams it has not made yet); then, in order, the echoes
  let ready = new Promise((r) => setTimeout(r, 50)).then(() => out(1, `hello from ${open.pod.length ? `${o.node}/${open.pod}/${open.container}` : o.node}\n`));
  ws.on("message", (d: Buffer) => {
    ready = ready.then(() => {
      if (d[0] === 255 && d[1] === 0) return finish(0); // v5: stdin closed
      if (d[0] !== 0) return; // resize and the like
      const text = d.subarray(1).toString();
      const m = /exit (\d+)/.exec(text);
      if (m) return finish(Number(m[1]));
      out(1, d.subarray(1));
    });
  });
};
