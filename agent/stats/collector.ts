/**
 * The agent's resource summary (kubelet's /stats/summary, as much of it as metrics-server
 * uses): each running app container's CPU rate and memory working set, grouped by pod,
 * and the node's. Collected only when the control plane asks over the tunnel (a `stats`
 * stream), never on a timer; an ask within `minIntervalMs` of the last one gets the same
 * answer. CPU is a rate between this reading and the previous one of the same container;
 * when there is none (the first ask, a new container) or it is older than `maxWindowMs`,
 * the agent reads twice, STATS_MIN_WINDOW_MS apart. Only the last reading is kept.
 */
import { STATS_MIN_WINDOW_MS, type StatsSummary } from "../../shared/tunnel";
import { type ContainerInfo, type ContainerRuntime, LABELS } from "../runtime/runtime";
import { cpuNanoCores, nodeSample, type Sample } from "./cgroup";

export interface StatsCollectorOptions {
  runtime: Pick<ContainerRuntime, "list" | "stats">;
  nodeName: string;
  /** an ask this soon after the last collection is answered from it (default 10 s) */
  minIntervalMs?: number;
  /** a previous reading older than this is not a window (default 60 s) */
  maxWindowMs?: number;
  /** the node's reading (default /proc) */
  node?: () => Promise<Sample>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class StatsCollector {
  private last = new Map<string, Sample>();
  private cached?: { at: number; summary: StatsSummary };
  private running?: Promise<StatsSummary>;
  private readonly now: () => number;

  constructor(private readonly o: StatsCollectorOptions) {
    this.now = o.now ?? Date.now;
  }

  /** The summary now (one collection at a time; concurrent asks share it). */
  summary(): Promise<StatsSummary> {
    const c = this.cached;
    if (c && this.now() - c.at < (this.o.minIntervalMs ?? 10_000)) return Promise.resolve(c.summary);
    this.running ??= this.collect().finally(() => (this.running = undefined));
    return this.running;
  }

  private async read(containers: ContainerInfo[]): Promise<Map<string, Sample>> {
    const out = new Map<string, Sample>();
    const node = await (this.o.node ?? nodeSample)();
    out.set("", node);
    await Promise.all(
      containers.map(async (c) => {
        const s = await this.o.runtime.stats?.(c.id).catch(() => undefined);
        if (s) out.set(c.id, s);
      }),
    );
    return out;
  }

  private usable(prev: Sample | undefined, cur: Sample): boolean {
    return !!prev && cur.at - prev.at >= STATS_MIN_WINDOW_MS && cur.at - prev.at <= (this.o.maxWindowMs ?? 60_000) && cur.cpuNs >= prev.cpuNs;
  }

  private async collect(): Promise<StatsSummary> {
    const all = await this.o.runtime.list({ [LABELS.node]: this.o.nodeName });
    const containers = all.filter((c) => c.state === "running" && c.labels[LABELS.role] === "app" && c.labels[LABELS.podUid]);
    let cur = await this.read(containers);
    if ([...cur].some(([id, s]) => !this.usable(this.last.get(id), s))) {
      // no window yet for some: read again a moment later (and use that as the window for all)
      await (this.o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(STATS_MIN_WINDOW_MS);
      const first = cur;
      cur = await this.read(containers);
      for (const [id, s] of first) if (!this.usable(this.last.get(id), cur.get(id) ?? s)) this.last.set(id, s);
    }
    const node = cur.get("")!;
    const window = (id: string) => (cur.get(id)!.at - this.last.get(id)!.at) / 1000;
    const summary: StatsSummary = {
      node: {
        timestamp: new Date(node.at).toISOString(),
        windowSeconds: window(""),
        cpuNanoCores: cpuNanoCores(this.last.get(""), node) ?? 0,
        memoryWorkingSetBytes: node.workingSet,
      },
      pods: [],
    };
    const pods = new Map<string, StatsSummary["pods"][number]>();
    for (const c of containers) {
      const s = cur.get(c.id);
      const cpu = s && cpuNanoCores(this.last.get(c.id), s);
      if (!s || cpu === undefined) continue;
      const uid = c.labels[LABELS.podUid];
      let p = pods.get(uid);
      if (!p) {
        p = {
          namespace: c.labels[LABELS.podNamespace] ?? "",
          name: c.labels[LABELS.podName] ?? "",
          uid,
          timestamp: new Date(s.at).toISOString(),
          windowSeconds: window(c.id),
          containers: [],
        };
        pods.set(uid, p);
      }
      p.containers.push({ name: c.labels[LABELS.container] ?? c.name, cpuNanoCores: cpu, memoryWorkingSetBytes: s.workingSet });
    }
    summary.pods = [...pods.values()];
    // keep only this reading (containers gone are forgotten)
    this.last = cur;
    this.cached = { at: this.now(), summary };
    return summary;
  }
}
