/**
 * Resource metrics (metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics, and what the HPA
 * controller reads), as metrics-server serves them, but pulled on demand: a node's
 * resource summary is asked of its agent through the tunnel (shared/tunnel.ts, a
 * `stats` stream) only when someone reads metrics, and kept for `ttlMs` (15 s, the
 * resolution metrics-server scrapes at). Nothing is stored: no database write, no time
 * series, only the latest window of each node in memory (per process on Node, per
 * isolate on the Worker). A node that cannot be asked (no tunnel, an old agent) has no
 * metrics, as metrics-server leaves out a node it could not scrape.
 */
import type { StatsSummary } from "../../shared/tunnel";
import type { KObject } from "../../shared/types";

export type NodeStatsFetcher = (node: string) => Promise<StatsSummary>;

export interface ResourceMetricsOptions {
  /** how long a node's summary is used before asking again (default 15 s) */
  ttlMs?: number;
  /** how long a failed ask is remembered (default 5 s) */
  failureTtlMs?: number;
  now?: () => number;
  /** settled answers kept across instances (the Worker: one per isolate); default this instance's own */
  cache?: Map<string, CachedSummary>;
  log?: (m: string) => void;
}

export interface CachedSummary {
  at: number;
  summary?: StatsSummary;
  error?: string;
}

/** Usage of one container in the latest window: CPU in millicores (fractional), memory in bytes. */
export interface ContainerMetrics {
  name: string;
  cpuNanoCores: number;
  memoryBytes: number;
}

export interface PodUsage {
  namespace: string;
  name: string;
  uid: string;
  timestamp: string;
  windowSeconds: number;
  containers: ContainerMetrics[];
}

/** metrics-server's quantity formats: CPU in nanocores ("123456n"), memory in Ki */
export const cpuQuantity = (nano: number) => `${Math.max(0, Math.round(nano))}n`;
export const memoryQuantity = (bytes: number) => `${Math.max(0, Math.round(bytes / 1024))}Ki`;
const windowString = (s: number) => `${Math.round(s * 1000) / 1000}s`;

const GROUP_VERSION = "metrics.k8s.io/v1beta1";

export class ResourceMetrics {
  private readonly ttlMs: number;
  private readonly failureTtlMs: number;
  private readonly now: () => number;
  private readonly cache: Map<string, CachedSummary>;
  /** asks in flight in this instance (not shared: a Worker's promise belongs to its request) */
  private readonly inflight = new Map<string, Promise<CachedSummary>>();

  constructor(
    private readonly fetchNode: NodeStatsFetcher,
    o: ResourceMetricsOptions = {},
  ) {
    this.ttlMs = o.ttlMs ?? 15_000;
    this.failureTtlMs = o.failureTtlMs ?? 5_000;
    this.now = o.now ?? Date.now;
    this.cache = o.cache ?? new Map();
    this.log = o.log;
  }
  private readonly log?: (m: string) => void;

  /** A node's latest summary (cached), or undefined when its agent could not be asked. */
  async summary(node: string): Promise<StatsSummary | undefined> {
    const c = this.cache.get(node);
    const now = this.now();
    if (c && now - c.at < (c.summary ? this.ttlMs : this.failureTtlMs)) return c.summary;
    let p = this.inflight.get(node);
    if (!p) {
      p = this.fetchNode(node).then(
        (summary) => ({ at: this.now(), summary }),
        (e: Error) => {
          this.log?.(`metrics: node ${node}: ${e.message}`);
          return { at: this.now(), error: e.message };
        },
      );
      this.inflight.set(node, p);
      p.finally(() => this.inflight.delete(node));
    }
    const got = await p;
    this.cache.set(node, got);
    // forget nodes not asked about for a while (deleted nodes)
    if (this.cache.size > 64) for (const [k, v] of this.cache) if (now - v.at > 10 * this.ttlMs) this.cache.delete(k);
    return got.summary;
  }

  /** NodeMetrics of these nodes (those with a summary), in their order. */
  async nodeMetrics(nodes: KObject[]): Promise<KObject[]> {
    const out = await Promise.all(
      nodes.map(async (n) => {
        const s = await this.summary(n.metadata.name!);
        if (!s) return undefined;
        return {
          kind: "NodeMetrics",
          apiVersion: GROUP_VERSION,
          metadata: {
            name: n.metadata.name,
            creationTimestamp: new Date(this.now()).toISOString(),
            ...(n.metadata.labels ? { labels: n.metadata.labels } : {}),
          },
          timestamp: s.node.timestamp,
          window: windowString(s.node.windowSeconds),
          usage: { cpu: cpuQuantity(s.node.cpuNanoCores), memory: memoryQuantity(s.node.memoryWorkingSetBytes) },
        } as KObject;
      }),
    );
    return out.filter((x): x is KObject => !!x);
  }

  /** The usage of these pods by uid (pods on nodes that answered, and that their agent runs). */
  async podUsage(pods: KObject[]): Promise<Map<string, PodUsage>> {
    const nodes = [...new Set(pods.map((p) => p.spec?.nodeName as string | undefined).filter((n): n is string => !!n))];
    const summaries = await Promise.all(nodes.map((n) => this.summary(n)));
    const byUid = new Map<string, PodUsage>();
    for (const s of summaries) {
      for (const p of s?.pods ?? [])
        byUid.set(p.uid, {
          ...p,
          containers: p.containers.map((c) => ({ name: c.name, cpuNanoCores: c.cpuNanoCores, memoryBytes: c.memoryWorkingSetBytes })),
        });
    }
    const out = new Map<string, PodUsage>();
    for (const p of pods) {
      const u = byUid.get(p.metadata.uid!);
      // the agent's pod must be this pod (a pod re-created under the same name has another uid)
      if (u && u.namespace === p.metadata.namespace && u.name === p.metadata.name) out.set(p.metadata.uid!, u);
    }
    return out;
  }

  /** PodMetrics of these pods (those with usage), in their order. */
  async podMetrics(pods: KObject[]): Promise<KObject[]> {
    const usage = await this.podUsage(pods);
    const out: KObject[] = [];
    for (const p of pods) {
      const u = usage.get(p.metadata.uid!);
      if (!u) continue;
      out.push({
        kind: "PodMetrics",
        apiVersion: GROUP_VERSION,
        metadata: {
          name: p.metadata.name,
          namespace: p.metadata.namespace,
          creationTimestamp: new Date(this.now()).toISOString(),
          ...(p.metadata.labels ? { labels: p.metadata.labels } : {}),
        },
        timestamp: u.timestamp,
        window: windowString(u.windowSeconds),
        containers: u.containers.map((c) => ({ name: c.name, usage: { cpu: cpuQuantity(c.cpuNanoCores), memory: memoryQuantity(c.memoryBytes) } })),
      } as KObject);
    }
    return out;
  }
}
