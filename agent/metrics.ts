/**
 * The agent's metrics (kubelet's and kube-proxy's names), kept with prom-client and
 * served at /metrics on an optional listener (`kubeflare-agent run
 * --metrics-bind-address 127.0.0.1:10249`):
 *
 * - kubelet_pod_start_duration_seconds: from the agent first seeing a pod to seeing it
 *   Running (kubelet's definition); kubelet_pod_start_total_duration_seconds: from the
 *   pod's creation to Running, image pulls included
 * - kubelet_pod_worker_duration_seconds{operation}: one pod's sync ("create" the first
 *   time, "sync" after)
 * - kubelet_running_pods (pods with a running sandbox; hostNetwork pods, which have none
 *   here: with a running container), kubelet_running_containers{container_state}
 * - kubeproxy_sync_proxy_rules_duration_seconds, kubeproxy_sync_proxy_rules_last_timestamp_seconds
 * - Node's process defaults (process_resident_memory_bytes, nodejs_eventloop_lag_seconds, ...)
 *
 * Each agent has its own registry (several agents share a process in tests and the
 * hollow-node benchmark).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isIP } from "node:net";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { KObject } from "../shared/types";
import { type ContainerInfo, LABELS } from "./runtime/runtime";

/** kubelet's buckets of the pod start durations */
const POD_START_BUCKETS = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];
/** kube-proxy's buckets of the rule sync duration: 1 ms doubling to 16 s */
const PROXY_SYNC_BUCKETS = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);
/** a pod not synced for this long is forgotten (deleted, or moved away) */
const FORGET_MS = 10 * 60_000;

interface Seen {
  firstSeen: number;
  touched: number;
  observed: boolean;
}

export class AgentMetrics {
  readonly registry: Registry;
  private readonly seen = new Map<string, Seen>();
  private readonly podStart: Histogram;
  private readonly podStartTotal: Histogram;
  private readonly podWorker: Histogram<"operation">;
  private readonly runningPods: Gauge;
  private readonly runningContainers: Gauge<"container_state">;
  private readonly proxySyncDuration: Histogram;
  private readonly proxySyncLast: Gauge;
  private readonly proxySyncErrors: Counter;

  private readonly now: () => number;

  /**
   * With `registry`, the metrics join that one and the process metrics are its owner's
   * (`npm start`: the local agent's metrics are part of the server's /metrics).
   */
  constructor(o: { registry?: Registry; now?: () => number } = {}) {
    this.now = o.now ?? Date.now;
    this.registry = o.registry ?? new Registry();
    if (!o.registry) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.podStart = new Histogram({
      name: "kubelet_pod_start_duration_seconds",
      help: "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
      buckets: POD_START_BUCKETS,
      registers,
    });
    this.podStartTotal = new Histogram({
      name: "kubelet_pod_start_total_duration_seconds",
      help: "Duration in seconds to start a pod since creation, including time to pull images",
      buckets: POD_START_BUCKETS,
      registers,
    });
    this.podWorker = new Histogram({
      name: "kubelet_pod_worker_duration_seconds",
      help: "Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync",
      labelNames: ["operation"],
      registers,
    });
    this.runningPods = new Gauge({ name: "kubelet_running_pods", help: "Number of pods that have a running pod sandbox", registers });
    this.runningContainers = new Gauge({
      name: "kubelet_running_containers",
      help: "Number of containers currently running",
      labelNames: ["container_state"],
      registers,
    });
    this.proxySyncDuration = new Histogram({
      name: "kubeproxy_sync_proxy_rules_duration_seconds",
      help: "SyncProxyRules latency in seconds",
      buckets: PROXY_SYNC_BUCKETS,
      registers,
    });
    this.proxySyncLast = new Gauge({
      name: "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
      help: "The last time proxy rules were successfully synced",
      registers,
    });
    this.proxySyncErrors = new Counter({
      name: "kubeproxy_sync_proxy_rules_errors_total",
      help: "Cumulative proxy rules update errors",
      registers,
    });
  }

  /**
   * One pod was synced from `startedAt` (ms) to now, yielding `status`. The first time a
   * pod's status says Running while the server's copy does not yet, its start is
   * observed (a pod already Running when the agent starts is not a start).
   */
  podSynced(pod: KObject, status: { phase?: string } | undefined, startedAt: number): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const now = this.now();
    let s = this.seen.get(uid);
    this.podWorker.observe({ operation: s ? "sync" : "create" }, Math.max(0, now - startedAt) / 1000);
    if (!s) {
      s = { firstSeen: startedAt, touched: now, observed: false };
      this.seen.set(uid, s);
    }
    s.touched = now;
    if (s.observed || status?.phase !== "Running") return;
    s.observed = true;
    if (pod.status?.phase === "Running") return;
    this.podStart.observe(Math.max(0, now - s.firstSeen) / 1000);
    const created = Date.parse(pod.metadata?.creationTimestamp ?? "");
    if (Number.isFinite(created)) this.podStartTotal.observe(Math.max(0, now - created) / 1000);
  }

  /** The engine's containers of this node as of a sync pass: the running pod and container gauges. */
  containers(all: ContainerInfo[]): void {
    const pods = new Set<string>();
    const sandboxed = new Set<string>();
    const withRunning = new Set<string>();
    const states: Record<string, number> = { created: 0, running: 0, exited: 0, unknown: 0 };
    for (const c of all) {
      const uid = c.labels[LABELS.podUid];
      if (c.labels[LABELS.role] === "sandbox") {
        sandboxed.add(uid);
        if (c.state === "running") pods.add(uid);
        continue;
      }
      states[c.state] = (states[c.state] ?? 0) + 1;
      if (c.state === "running") withRunning.add(uid);
    }
    // a hostNetwork pod has no sandbox here (kubelet gives it one): it runs while a container of it does
    for (const uid of withRunning) if (!sandboxed.has(uid)) pods.add(uid);
    this.runningPods.set(pods.size);
    for (const [state, n] of Object.entries(states)) this.runningContainers.set({ container_state: state }, n);
    const cutoff = this.now() - FORGET_MS;
    for (const [uid, s] of this.seen) if (s.touched < cutoff) this.seen.delete(uid);
  }

  /** kube-proxy applied its rules (or failed to) in `seconds`. */
  proxySynced = (seconds: number, ok: boolean): void => {
    this.proxySyncDuration.observe(seconds);
    if (ok) this.proxySyncLast.set(this.now() / 1000);
    else this.proxySyncErrors.inc();
  };

  /**
   * Serve GET /metrics on `address` ("host:port", "[v6]:port"; port 0 picks one). Only
   * where asked: the agent has no listener of its own otherwise.
   */
  async serve(address: string): Promise<{ host: string; port: number; close(): Promise<void> }> {
    const { host, port } = parseBindAddress(address);
    const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? "/").split("?")[0];
      if (path !== "/metrics") {
        res.writeHead(404, { "Content-Type": "text/plain" }).end("404 page not found\n");
        return;
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { "Content-Type": "text/plain", Allow: "GET, HEAD" }).end("405 method not allowed\n");
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { "Content-Type": this.registry.contentType }).end(req.method === "HEAD" ? undefined : text),
        (e) => res.writeHead(500, { "Content-Type": "text/plain" }).end(`${(e as Error).message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    const bound = server.address();
    return {
      host,
      port: typeof bound === "object" && bound ? bound.port : port,
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  }
}

/** "127.0.0.1:10249", "[::1]:10249", "0.0.0.0:10249": an IP address and a port (kube-proxy's --metrics-bind-address form). */
export const parseBindAddress = (address: string): { host: string; port: number } => {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address.trim());
  const host = m?.[1] ?? m?.[2];
  const port = m ? Number(m[3]) : NaN;
  if (!host || !isIP(host) || !(port >= 0 && port <= 65535)) {
    throw new Error(`--metrics-bind-address: "${address}" is not IP:PORT (e.g. 127.0.0.1:10249, [::1]:10249)`);
  }
  return { host, port };
};
