/**
 * The agent tunnel: how the control plane reaches a pod's streams (exec, attach,
 * port-forward, proxy) on a node that accepts no inbound connections.
 *
 * 1. **Control channel.** Each agent keeps one WebSocket open to
 *    `GET {TUNNEL_PATH(node)}` (subprotocol {@link TUNNEL_PROTOCOL}), authenticated with
 *    its node credential (`Authorization: Bearer`), reconnecting with back-off. The control
 *    plane sends {@link StreamOpen} messages on it (JSON text); the agent sends nothing
 *    but pings.
 * 2. **One connection per stream.** For each StreamOpen the agent dials a new WebSocket
 *    to `GET {STREAM_PATH(node, id)}` (same credential, subprotocol {@link TUNNEL_PROTOCOL})
 *    and sends one {@link StreamAnswer} (JSON text) first: `accept` with the protocol it
 *    will speak, or `reject` with a Kubernetes Status. After `accept` the connection
 *    carries the client's stream verbatim (see {@link StreamFraming}) until either side
 *    closes. Each stream has its own connection, so its own flow control: a slow stream
 *    cannot stall another, and no multiplexer is needed.
 * 3. **The control plane only authenticates, authorizes, checks the pod is on that node,
 *    and splices bytes.** Every stream protocol (v4/v5.channel.k8s.io, SPDY/3.1,
 *    SPDY/3.1+portforward.k8s.io, portforward.k8s.io) is spoken by the agent, so the
 *    Worker's Durable Object relays WebSocket messages without parsing them.
 *
 * Stream ids are random (128 bits, hex) and single use; a stream connection whose id is
 * unknown, already taken or from another node is refused (404). An open stream not
 * answered within {@link STREAM_ANSWER_TIMEOUT_MS} fails the client's request.
 */

/** the WebSocket subprotocol of the control channel and of stream connections */
export const TUNNEL_PROTOCOL = "tunnel.kubeflare.dev";

export const TUNNEL_PATH = (node: string) => `/apis/kubeflare.dev/v1/nodes/${encodeURIComponent(node)}/tunnel`;
export const STREAM_PATH = (node: string, id: string) => `${TUNNEL_PATH(node)}/streams/${encodeURIComponent(id)}`;

/** how long the control plane waits for the agent's StreamAnswer */
export const STREAM_ANSWER_TIMEOUT_MS = 10_000;
/** open streams per node; more are refused with 429 (TooManyRequests) */
export const MAX_STREAMS_PER_NODE = 64;

export type StreamKind = "exec" | "attach" | "portforward" | "tcp" | "stats";

/**
 * How the client's bytes travel on the stream connection after `accept`:
 * - `websocket`: the client spoke WebSocket to the control plane; each of its messages is
 *   relayed as one message of the same type (text/binary) in both directions, and a
 *   close (code, reason) is relayed as a close.
 * - `raw`: the client upgraded its HTTP connection to something else (SPDY/3.1 on the
 *   Node server), or the stream is plain TCP (`tcp`); binary messages carry the bytes of
 *   that connection in order, both ways; a close of either side ends the other.
 */
export type StreamFraming = "websocket" | "raw";

/** control plane → agent, on the control channel */
export interface StreamOpen {
  type: "open";
  /** 32 hex digits, single use */
  id: string;
  kind: StreamKind;
  namespace: string;
  pod: string;
  /** the pod's uid as the control plane saw it (the agent refuses a stream for a pod it runs under another uid) */
  uid: string;
  /** exec/attach: the container (defaulted by the control plane as kubectl/kube-apiserver do) */
  container?: string;
  /**
   * exec/attach/portforward: the client's query string, unmodified (`command=…&stdin=true&tty=true`,
   * `ports=8080`); the agent validates it as kubelet would.
   */
  query?: string;
  /** tcp: the pod port to connect to (pods/proxy, services/proxy) */
  port?: number;
  framing: StreamFraming;
  /**
   * websocket: the subprotocols the client offered (Sec-WebSocket-Protocol), in order;
   * raw: the protocol versions the client offered in X-Stream-Protocol-Version (SPDY
   * exec/attach) or none (tcp, SPDY port-forward).
   */
  protocols: string[];
  /** raw only: the Upgrade header value the client sent (e.g. "SPDY/3.1") */
  upgrade?: string;
}

/** agent → control plane, the first message on a stream connection */
export type StreamAnswer =
  | {
      type: "accept";
      /**
       * websocket: the subprotocol to answer the client's handshake with (one it offered);
       * raw SPDY: the X-Stream-Protocol-Version to answer with (may be empty for port-forward);
       * tcp: empty.
       */
      protocol: string;
    }
  | {
      type: "reject";
      /** a Kubernetes Status (code, reason, message) the control plane answers the client with */
      status: { kind: "Status"; apiVersion: "v1"; status: "Failure"; code: number; reason: string; message: string };
    };

export const isStreamOpen = (v: unknown): v is StreamOpen => {
  const o = v as StreamOpen | null;
  return (
    !!o &&
    o.type === "open" &&
    typeof o.id === "string" &&
    /^[0-9a-f]{32}$/.test(o.id) &&
    ["exec", "attach", "portforward", "tcp", "stats"].includes(o.kind) &&
    typeof o.namespace === "string" &&
    typeof o.pod === "string" &&
    typeof o.uid === "string" &&
    (o.framing === "websocket" || o.framing === "raw") &&
    Array.isArray(o.protocols)
  );
};

export const isStreamAnswer = (v: unknown): v is StreamAnswer => {
  const o = v as StreamAnswer | null;
  if (!o) return false;
  if (o.type === "accept") return typeof o.protocol === "string";
  return o.type === "reject" && !!o.status && typeof o.status.code === "number" && typeof o.status.message === "string";
};

/**
 * Resource usage: the `stats` stream (metrics-server's scrape of kubelet's resource
 * summary, through the tunnel). The control plane sends a StreamOpen of kind `stats`
 * (namespace, pod and uid empty, framing `raw`, no protocols) only when someone asks
 * (the metrics.k8s.io API, the HPA controller); the agent answers `accept` with protocol
 * "", sends one text message, a {@link StatsSummary} as JSON, and closes. Nothing is
 * collected or sent otherwise. CPU is a rate over the window since the agent's previous
 * reading (at least {@link STATS_MIN_WINDOW_MS}: the first ask reads twice); only the
 * latest window is kept, on either side.
 */
export const STATS_MIN_WINDOW_MS = 1000;
/** the largest StatsSummary the control plane accepts (a node with hundreds of pods fits) */
export const MAX_STATS_BYTES = 4 << 20;

export interface ContainerUsage {
  name: string;
  /** CPU in nanocores over the window */
  cpuNanoCores: number;
  /** memory working set, bytes */
  memoryWorkingSetBytes: number;
}

export interface StatsSummary {
  node: { timestamp: string; windowSeconds: number; cpuNanoCores: number; memoryWorkingSetBytes: number };
  pods: { namespace: string; name: string; uid: string; timestamp: string; windowSeconds: number; containers: ContainerUsage[] }[];
}

const isUsage = (c: unknown): c is ContainerUsage => {
  const o = c as ContainerUsage | null;
  return !!o && typeof o.name === "string" && Number.isFinite(o.cpuNanoCores) && Number.isFinite(o.memoryWorkingSetBytes);
};

export const isStatsSummary = (v: unknown): v is StatsSummary => {
  const o = v as StatsSummary | null;
  return (
    !!o &&
    !!o.node &&
    typeof o.node.timestamp === "string" &&
    Number.isFinite(o.node.cpuNanoCores) &&
    Number.isFinite(o.node.memoryWorkingSetBytes) &&
    Array.isArray(o.pods) &&
    o.pods.every(
      (p) =>
        !!p &&
        typeof p.namespace === "string" &&
        typeof p.name === "string" &&
        typeof p.uid === "string" &&
        Array.isArray(p.containers) &&
        p.containers.every(isUsage),
    )
  );
};
