/** What the pages show, computed from API objects (pure functions). */
import { parseQuantity } from "../../shared/quantity";
import { podStatus } from "../registry/kinds/pods";

export type PodClass = "running" | "pending" | "crash" | "terminating" | "done";

const BAD_WAITING = /CrashLoopBackOff|ErrImagePull|ImagePullBackOff|CreateContainerError|CreateContainerConfigError|InvalidImageName|RunContainerError/;

/** The colour of a pod's chip: running, pending, crash-looping (or failed), terminating, or done. */
export const podClass = (p: any): PodClass => {
  if (p.metadata?.deletionTimestamp) return "terminating";
  const status = podStatus(p);
  if (BAD_WAITING.test(status) || (status.startsWith("Init:") && BAD_WAITING.test(status))) return "crash";
  const phase = p.status?.phase;
  if (phase === "Failed" || /^(Error|ExitCode|Signal|OOMKilled|Init:Error)/.test(status)) return "crash";
  if (phase === "Succeeded") return "done";
  if (phase === "Running") return status === "Running" ? "running" : "pending";
  return "pending";
};

export { podStatus };

const qty = (v: unknown): number => {
  if (typeof v !== "string" && typeof v !== "number") return 0;
  try {
    return parseQuantity(v);
  } catch {
    return 0;
  }
};

/** Sum of the pod's containers' requests (the scheduler's view, without init containers' peaks). */
export const podRequests = (p: any): { cpu: number; memory: number } => {
  let cpu = 0;
  let memory = 0;
  for (const c of p.spec?.containers ?? []) {
    cpu += qty(c.resources?.requests?.cpu);
    memory += qty(c.resources?.requests?.memory);
  }
  return { cpu, memory };
};

export const nodeReady = (n: any): "Ready" | "NotReady" | "Unknown" => {
  const c = (n.status?.conditions ?? []).find((x: any) => x.type === "Ready");
  return c?.status === "True" ? "Ready" : c?.status === "False" ? "NotReady" : c ? "Unknown" : "NotReady";
};

export interface NodeCard {
  name: string;
  ready: string;
  cordoned: boolean;
  cpu: { used: number; total: number };
  memory: { used: number; total: number };
  /** what the node uses now (its NodeMetrics, metrics.k8s.io), when its agent answered */
  usage?: { cpu: number; memory: number };
  pods: any[];
  kubelet?: string;
  runtime?: string;
  heartbeat?: string;
  ip?: string;
}

/**
 * A node's last heartbeat: the later of its Lease's renewTime (what agents renew every
 * few seconds, as kubelets do since node leases) and its Ready condition's heartbeat.
 */
export const lastHeartbeat = (n: any, leases: Map<string, any>): string | undefined => {
  const cond = (n.status?.conditions ?? []).find((x: any) => x.type === "Ready")?.lastHeartbeatTime;
  const lease = leases.get(n.metadata.name)?.spec?.renewTime;
  const t = [cond, lease].filter(Boolean).sort((a, b) => Date.parse(b) - Date.parse(a));
  return t[0];
};

export const leasesByNode = (leases: any[]): Map<string, any> => new Map(leases.map((l) => [l.metadata.name, l]));

/** NodeMetrics (metrics.k8s.io) by node name: cpu cores and memory bytes in use. */
export const usageByNode = (metrics: any[]): Map<string, { cpu: number; memory: number }> =>
  new Map(metrics.filter((m) => m?.metadata?.name && m.usage).map((m) => [m.metadata.name, { cpu: qty(m.usage.cpu), memory: qty(m.usage.memory) }]));

export const nodeCards = (
  nodes: any[],
  pods: any[],
  leases = new Map<string, any>(),
  usage = new Map<string, { cpu: number; memory: number }>(),
): { cards: NodeCard[]; unscheduled: any[] } => {
  const byNode = new Map<string, any[]>();
  const unscheduled: any[] = [];
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (!n) unscheduled.push(p);
    else byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const cards = nodes
    .map((n): NodeCard => {
      const mine = byNode.get(n.metadata.name) ?? [];
      const used = { cpu: 0, memory: 0 };
      for (const p of mine) {
        if (p.status?.phase === "Succeeded" || p.status?.phase === "Failed") continue;
        const r = podRequests(p);
        used.cpu += r.cpu;
        used.memory += r.memory;
      }
      const alloc = n.status?.allocatable ?? n.status?.capacity ?? {};
      return {
        name: n.metadata.name,
        ready: nodeReady(n),
        cordoned: n.spec?.unschedulable === true,
        cpu: { used: used.cpu, total: qty(alloc.cpu) },
        memory: { used: used.memory, total: qty(alloc.memory) },
        usage: usage.get(n.metadata.name),
        pods: mine.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)),
        kubelet: n.status?.nodeInfo?.kubeletVersion,
        runtime: n.status?.nodeInfo?.containerRuntimeVersion,
        heartbeat: lastHeartbeat(n, leases),
        ip: (n.status?.addresses ?? []).find((a: any) => a.type === "InternalIP")?.address,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  return { cards, unscheduled };
};

/** Problems worth a glance: nodes not Ready, pods crash-looping or failed, Deployments short of their replicas. */
export const problems = (nodes: any[], pods: any[], deployments: any[]): number =>
  nodes.filter((n) => nodeReady(n) !== "Ready").length +
  pods.filter((p) => podClass(p) === "crash").length +
  deployments.filter((d) => (d.status?.availableReplicas ?? 0) < (d.spec?.replicas ?? 1)).length;

export const fmtCpu = (v: number): string => (v < 1 ? `${Math.round(v * 1000)}m` : `${+v.toFixed(2)}`);
export const fmtMem = (v: number): string => {
  const units = ["B", "Ki", "Mi", "Gi", "Ti"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${+v.toFixed(i ? 1 : 0)}${units[i]}`;
};

/** kubectl's age: 5s, 3m, 2h, 4d. */
export const age = (ts: string | undefined, now = Date.now()): string => {
  if (!ts) return "<unknown>";
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
};
