/**
 * The agent's side of a stream (shared/tunnel.ts): check the StreamOpen against the
 * pods this agent runs, pick the protocol, answer accept or reject on the stream
 * connection, and speak the protocol to the client's bytes:
 *
 * | kind         | framing   | protocol                                                              |
 * |--------------|-----------|-----------------------------------------------------------------------|
 * | exec, attach | websocket | v5/v4.channel.k8s.io, channel.k8s.io (+ base64 variants)              |
 * | exec, attach | raw       | SPDY/3.1, X-Stream-Protocol-Version v4/v3/v2.channel.k8s.io, channel.k8s.io |
 * | portforward  | websocket | SPDY/3.1+portforward.k8s.io (SPDY inside binary messages), or v4.channel.k8s.io / portforward.k8s.io channels |
 * | portforward  | raw       | SPDY/3.1 (portforward.k8s.io)                                          |
 * | tcp          | raw       | the pod port's bytes                                                   |
 * | stats        | raw       | one text message, the node's StatsSummary (agent/stats), then close    |
 */
import type { Duplex } from "node:stream";
import { createWebSocketStream, type WebSocket } from "ws";
import type { StatsSummary, StreamAnswer, StreamOpen } from "../../shared/tunnel";
import type { KObject } from "../../shared/types";
import { type ContainerInfo, type ContainerRuntime, LABELS } from "../runtime/runtime";
import { ChannelConn, EXEC_WS_PROTOCOLS, negotiate, PORTFORWARD_WS_PROTOCOLS } from "./channels";
import { type PodAddress, dialPod } from "./dial";
import { badRequest, execOptions, forwardPorts, notFound, StreamError } from "./options";
import { wsPortForward } from "./portforward";
import { runSession, type SessionIO } from "./session";

/** SPDY (spdy-transport) is loaded on the first SPDY stream, not by every agent at start: most nodes never see one */
const spdy = () => import("./spdy");

/** spdyPortForward once SPDY is loaded; a failure to load it closes the socket */
const spdyPortForward = (socket: Duplex, dial: (port: number) => Promise<Duplex>, describe: string): void =>
  void spdy().then(
    (m) => m.spdyPortForward(socket, dial, describe),
    () => socket.destroy(),
  );

/** what the agent knows of its pods */
export interface PodSource {
  /** the pod bound to this node by that namespace and name, as the agent last saw it */
  pod(namespace: string, name: string): KObject | undefined;
  /** its containers on the engine, latest instance first, by container name ("POD": the sandbox) */
  containers(pod: KObject): Promise<Map<string, ContainerInfo[]>>;
}

export interface StreamServerOptions {
  runtime: ContainerRuntime;
  pods: PodSource;
  log?: (m: string) => void;
  /** the node's resource summary, for `stats` streams (agent/stats) */
  stats?: () => Promise<StatsSummary>;
  /** kubelet's stream creation timeout (SPDY streams after the upgrade; default 30 s) */
  streamCreationTimeoutMs?: number;
}

export const SPDY_PORTFORWARD_WS = "SPDY/3.1+portforward.k8s.io";

interface Plan {
  protocol: string;
  /** started right after the accept is sent, in the same tick (no message of the client is missed) */
  run(ws: WebSocket): Promise<void>;
}

const isSpdy = (upgrade: string | undefined) => (upgrade ?? "").toLowerCase() === "spdy/3.1";

export class StreamServer {
  constructor(private readonly o: StreamServerOptions) {}

  private log = (m: string) => this.o.log?.(m);

  /** Answer and serve one stream on its (open) connection; resolves when it is over. */
  async serve(open: StreamOpen, ws: WebSocket): Promise<void> {
    if (open.kind === "stats") return this.serveStats(ws);
    let plan: Plan;
    try {
      plan = await this.plan(open);
    } catch (e) {
      const err = e instanceof StreamError ? e : new StreamError(500, "InternalError", (e as Error).message);
      this.answer(ws, { type: "reject", status: err.status });
      ws.close(1000);
      return;
    }
    if (ws.readyState !== ws.OPEN) return;
    this.answer(ws, { type: "accept", protocol: plan.protocol });
    const running = plan.run(ws);
    await running.catch((e) => {
      this.log(`${open.kind} ${open.namespace}/${open.pod}: ${(e as Error).message}`);
      ws.terminate();
    });
  }

  /** `stats`: accept, one text message with the summary, close (shared/tunnel.ts) */
  private async serveStats(ws: WebSocket): Promise<void> {
    if (!this.o.stats) {
      this.answer(ws, { type: "reject", status: new StreamError(404, "NotFound", "this agent collects no resource usage").status });
      ws.close(1000);
      return;
    }
    let summary: StatsSummary;
    try {
      summary = await this.o.stats();
    } catch (e) {
      this.answer(ws, { type: "reject", status: new StreamError(500, "InternalError", `collecting resource usage: ${(e as Error).message}`).status });
      ws.close(1000);
      return;
    }
    if (ws.readyState !== ws.OPEN) return;
    this.answer(ws, { type: "accept", protocol: "" });
    ws.send(JSON.stringify(summary), () => ws.close(1000));
  }

  private answer(ws: WebSocket, a: StreamAnswer) {
    ws.send(JSON.stringify(a));
  }

  /** the pod, checked against the uid the control plane saw */
  private pod(open: StreamOpen): KObject {
    const pod = this.o.pods.pod(open.namespace, open.pod);
    if (!pod || (open.uid && pod.metadata.uid !== open.uid)) throw notFound(`pod "${open.pod}" not found on this node`);
    return pod;
  }

  /** the running container of the pod by that name (exec, attach) */
  private async container(pod: KObject, name: string | undefined): Promise<ContainerInfo> {
    const spec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
    if (!name) throw badRequest("a container name must be specified");
    if (!spec.some((c: any) => c.name === name)) throw badRequest(`container ${name} is not valid for pod ${pod.metadata.name}`);
    const inst = (await this.o.pods.containers(pod)).get(name)?.[0];
    const live = inst && (await this.o.runtime.inspect(inst.id));
    if (live?.state !== "running") throw notFound(`container not found ("${name}")`);
    return live as ContainerInfo;
  }

  /** where the pod's ports are: its sandbox's network namespace and IP, or the host's */
  private async address(pod: KObject): Promise<PodAddress> {
    if (pod.spec?.hostNetwork) return { hostNetwork: true };
    const sandbox = (await this.o.pods.containers(pod)).get("POD")?.[0];
    const pid = sandbox && sandbox.labels[LABELS.role] === "sandbox" ? await this.o.runtime.pid?.(sandbox.id) : undefined;
    const ip = pod.status?.podIP as string | undefined;
    if (!pid && !ip) throw new StreamError(503, "ServiceUnavailable", `pod "${pod.metadata.name}" has no running sandbox`);
    return { hostNetwork: false, pid, ip };
  }

  private async plan(open: StreamOpen): Promise<Plan> {
    const pod = this.pod(open);
    const describe = `${pod.metadata.name}, uid ${pod.metadata.uid}`;
    if (open.kind === "exec" || open.kind === "attach") {
      const o = execOptions(open.query, open.kind === "exec");
      const c = await this.container(pod, open.container);
      const rt = this.o.runtime;
      if (!(open.kind === "exec" ? rt.execStream : rt.attachStream)) throw badRequest(`${open.kind} is not supported on the ${rt.name} runtime of this node`);
      const start = () => (open.kind === "exec" ? rt.execStream!(c.id, o.command, o) : rt.attachStream!(c.id, o));
      if (open.framing === "websocket") {
        const protocol = negotiate(open.protocols, EXEC_WS_PROTOCOLS);
        if (protocol === undefined) throw badRequest(`unsupported subprotocols ${JSON.stringify(open.protocols)}; supported: ${EXEC_WS_PROTOCOLS.join(", ")}`);
        return { protocol, run: (ws) => runSession(wsExecIO(new ChannelConn(ws, protocol, true), o), o, start) };
      }
      if (!isSpdy(open.upgrade)) throw badRequest(`unsupported upgrade "${open.upgrade ?? ""}": SPDY/3.1 only`);
      const { EXEC_SPDY_PROTOCOLS, spdyExecSession } = await spdy();
      const protocol = negotiate(open.protocols, EXEC_SPDY_PROTOCOLS);
      if (protocol === undefined)
        throw badRequest(
          `unable to negotiate protocol: client supports ${JSON.stringify(open.protocols)}, server supports ${JSON.stringify(EXEC_SPDY_PROTOCOLS)}`,
        );
      return {
        protocol,
        run: async (ws) => {
          const io = await spdyExecSession(bytes(ws), protocol, o, this.o.streamCreationTimeoutMs);
          if (io) await runSession(io, o, start);
        },
      };
    }
    const addr = await this.address(pod);
    const dial = (port: number) => dialPod(addr, port);
    if (open.kind === "tcp") {
      const port = open.port;
      if (!Number.isInteger(port) || port! < 1 || port! > 65535) throw badRequest(`invalid port ${port}`);
      // connected before the accept: the client gets an error status rather than a connection that ends at once
      const c = await dial(port!).catch((e: Error) => {
        throw new StreamError(503, "ServiceUnavailable", `error trying to reach service: ${e.message}`);
      });
      return {
        protocol: "",
        run: (ws) => {
          const b = bytes(ws);
          c.on("error", () => c.destroy());
          b.pipe(c);
          c.pipe(b);
          return new Promise((resolve) => {
            c.once("close", () => {
              b.destroy();
              resolve();
            });
            b.once("close", () => {
              c.destroy();
              resolve();
            });
          });
        },
      };
    }
    // portforward
    if (open.framing === "websocket") {
      if (open.protocols.includes(SPDY_PORTFORWARD_WS)) {
        return { protocol: SPDY_PORTFORWARD_WS, run: (ws) => closed(ws, () => spdyPortForward(bytes(ws), dial, describe)) };
      }
      const protocol = negotiate(open.protocols, PORTFORWARD_WS_PROTOCOLS);
      if (protocol === undefined)
        throw badRequest(
          `unsupported subprotocols ${JSON.stringify(open.protocols)}; supported: ${[SPDY_PORTFORWARD_WS, ...PORTFORWARD_WS_PROTOCOLS].join(", ")}`,
        );
      const ports = forwardPorts(open.query);
      return { protocol, run: (ws) => wsPortForward(new ChannelConn(ws, protocol), ports, dial, describe) };
    }
    if (!isSpdy(open.upgrade)) throw badRequest(`unsupported upgrade "${open.upgrade ?? ""}": SPDY/3.1 only`);
    return {
      protocol: open.protocols.includes("portforward.k8s.io") ? "portforward.k8s.io" : "",
      run: (ws) => closed(ws, () => spdyPortForward(bytes(ws), dial, describe)),
    };
  }
}

/** the connection's binary messages as a byte stream (raw framing, SPDY inside WebSocket) */
const bytes = (ws: WebSocket): Duplex => {
  const d = createWebSocketStream(ws);
  d.on("error", () => d.destroy());
  return d;
};

/** run `start`, resolve once the connection has closed */
const closed = (ws: WebSocket, start: () => void) =>
  new Promise<void>((resolve) => {
    ws.once("close", () => resolve());
    start();
  });

/** exec/attach over the channel protocols: the empty message that says the streams are ready, then the channels */
function wsExecIO(conn: ChannelConn, o: ReturnType<typeof execOptions>): SessionIO {
  conn.send(o.stdout ? 1 : o.stderr ? 2 : 3, Buffer.alloc(0));
  const v4 = conn.protocol.startsWith("v4.") || conn.v5;
  return {
    stdin: o.stdin ? conn.reader(0) : undefined,
    stdout: o.stdout ? conn.writer(1) : undefined,
    stderr: o.stderr ? conn.writer(2) : undefined,
    resize: o.tty ? conn.reader(4) : undefined,
    writeStatus: (st) =>
      new Promise((resolve) => {
        // v4 and v5: the Status as JSON; before: only a failure's message
        const text = v4 ? JSON.stringify(st) : st.status === "Success" ? "" : String(st.message ?? "");
        if (!text) return resolve();
        conn.send(3, Buffer.from(text), () => resolve());
      }),
    end: () => conn.close(1000),
    gone: conn.closed,
  };
}
