/**
 * One scheduling pass in memory: every pending pod is filtered against every node
 * and placed on the best-scoring one, with the node's accounting updated at once so a
 * backlog never overcommits a node. Pure: the scheduler controller reads and writes.
 */
import { matchLabels, selectorFromLabelSelector } from "../../../shared/selectors/labels";
import type { KObject } from "../../../shared/types";
import { isNodeReady, matchesNodeSelection, preferredAffinityScore, type Taint, untoleratedTaint } from "./predicates";
import { add, nodeAllocatable, podRequests, type Resources } from "./resources";

interface NodeState {
  node: KObject;
  name: string;
  allocatable: Resources;
  requested: Resources;
  hostPorts: Set<string>;
  pods: KObject[];
  owners: Map<string, number>;
  taints: Taint[];
}

export interface Placement {
  bindings: { pod: KObject; node: string }[];
  failures: { pod: KObject; message: string }[];
}

const controllerUid = (pod: KObject) => pod.metadata.ownerReferences?.find((r) => r.controller)?.uid;

const hostPortsOf = (pod: KObject): string[] =>
  (pod.spec?.containers ?? []).flatMap((c: any) =>
    (c.ports ?? []).filter((p: any) => p.hostPort).map((p: any) => `${p.hostIP || "0.0.0.0"}/${p.protocol ?? "TCP"}/${p.hostPort}`),
  );

const portsConflict = (used: Set<string>, wanted: string[]) =>
  wanted.some((w) => {
    const [ip, proto, port] = w.split("/");
    for (const u of used) {
      const [uip, uproto, uport] = u.split("/");
      if (uproto === proto && uport === port && (ip === "0.0.0.0" || uip === "0.0.0.0" || ip === uip)) return true;
    }
    return false;
  });

/** Effective taints: a node that is not Ready counts as tainted not-ready, as the lifecycle controller would taint it. */
const effectiveTaints = (node: KObject): Taint[] => {
  const taints: Taint[] = [...(node.spec?.taints ?? [])];
  if (!isNodeReady(node) && !taints.some((t) => t.key.startsWith("node.kubernetes.io/"))) {
    taints.push({ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" });
  }
  return taints;
};

const state = (node: KObject, bound: KObject[]): NodeState => {
  const s: NodeState = {
    node,
    name: node.metadata.name!,
    allocatable: nodeAllocatable(node),
    requested: { cpu: 0, memory: 0, pods: 0 },
    hostPorts: new Set(),
    pods: [],
    owners: new Map(),
    taints: effectiveTaints(node),
  };
  for (const p of bound) assign(s, p);
  return s;
};

const assign = (s: NodeState, pod: KObject) => {
  s.requested = add(s.requested, podRequests(pod));
  for (const hp of hostPortsOf(pod)) s.hostPorts.add(hp);
  s.pods.push(pod);
  const owner = controllerUid(pod);
  if (owner) s.owners.set(owner, (s.owners.get(owner) ?? 0) + 1);
};

interface AntiTerm {
  selector: ReturnType<typeof selectorFromLabelSelector>;
  namespaces: string[];
  topologyKey: string;
}

const antiTerms = (pod: KObject): AntiTerm[] =>
  (pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t: any) => ({
    selector: selectorFromLabelSelector(t.labelSelector),
    namespaces: t.namespaces?.length ? t.namespaces : [pod.metadata.namespace ?? "default"],
    topologyKey: t.topologyKey,
  }));

const termMatches = (term: AntiTerm, pod: KObject) =>
  term.selector !== null && term.namespaces.includes(pod.metadata.namespace ?? "default") && matchLabels(term.selector, pod.metadata.labels);

/** Nodes grouped by the value of a topology label, computed once per pass and key. */
class Topology {
  private byKey = new Map<string, Map<string, NodeState[]>>();
  constructor(private readonly states: NodeState[]) {}
  domain(key: string, value: string): NodeState[] {
    let m = this.byKey.get(key);
    if (!m) {
      m = new Map();
      for (const s of this.states) {
        const v = s.node.metadata.labels?.[key];
        if (v !== undefined) m.set(v, [...(m.get(v) ?? []), s]);
      }
      this.byKey.set(key, m);
    }
    return m.get(value) ?? [];
  }
}

/** Existing pods that carry required anti-affinity terms, with their nodes. */
type AntiPod = { pod: KObject; state: NodeState; terms: AntiTerm[] };

/** Would placing `pod` on `s` break a required anti-affinity rule (its own, or an existing pod's)? */
const antiAffinityFails = (pod: KObject, s: NodeState, topo: Topology, antiPods: AntiPod[]): boolean => {
  for (const term of antiTerms(pod)) {
    const d = s.node.metadata.labels?.[term.topologyKey];
    if (d === undefined) continue;
    for (const other of topo.domain(term.topologyKey, d)) if (other.pods.some((p) => termMatches(term, p))) return true;
  }
  for (const a of antiPods) {
    for (const term of a.terms) {
      const d = a.state.node.metadata.labels?.[term.topologyKey];
      if (d !== undefined && s.node.metadata.labels?.[term.topologyKey] === d && termMatches(term, pod)) return true;
    }
  }
  return false;
};

/** Why `pod` cannot go to `s` (kube-scheduler's wording), or [] when it fits. */
const filter = (pod: KObject, s: NodeState, topo: Topology, antiPods: AntiPod[], req: Resources): string[] => {
  if (s.node.spec?.unschedulable && !(pod.spec?.tolerations ?? []).some((t: any) => t.key === "node.kubernetes.io/unschedulable" || (!t.key && t.operator === "Exists"))) {
    return ["node(s) were unschedulable"];
  }
  const taint = untoleratedTaint(s.taints, pod.spec?.tolerations ?? [], ["NoSchedule", "NoExecute"]);
  if (taint) return [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ""}}`];
  if (!matchesNodeSelection(pod, s.node)) return ["node(s) didn't match Pod's node affinity/selector"];
  if (portsConflict(s.hostPorts, hostPortsOf(pod))) return ["node(s) didn't have free ports for the requested pod ports"];
  const fit: string[] = [];
  if (s.requested.pods + 1 > s.allocatable.pods) fit.push("Too many pods");
  if (req.cpu > 0 && s.requested.cpu + req.cpu > s.allocatable.cpu) fit.push("Insufficient cpu");
  if (req.memory > 0 && s.requested.memory + req.memory > s.allocatable.memory) fit.push("Insufficient memory");
  if (fit.length) return fit;
  if (antiAffinityFails(pod, s, topo, antiPods)) return ["node(s) didn't match pod anti-affinity rules"];
  return [];
};

/** A stable small number from a string, to break ties differently per pod. */
const jitter = (s: string) => {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return (h % 1000) / 1000;
};

const frac = (used: number, cap: number) => (cap > 0 ? Math.min(1, used / cap) : 1);

const scores = (pod: KObject, feasible: NodeState[], req: Resources): Map<NodeState, number> => {
  const out = new Map<NodeState, number>();
  const affinity = feasible.map((s) => preferredAffinityScore(pod, s.node));
  const maxAffinity = Math.max(0, ...affinity);
  const owner = controllerUid(pod);
  const counts = feasible.map((s) => (owner ? s.owners.get(owner) ?? 0 : 0));
  const maxCount = Math.max(0, ...counts);
  feasible.forEach((s, i) => {
    const cpu = frac(s.requested.cpu + req.cpu, s.allocatable.cpu);
    const mem = frac(s.requested.memory + req.memory, s.allocatable.memory);
    const leastAllocated = ((1 - cpu) + (1 - mem)) * 50;
    const balanced = (1 - Math.abs(cpu - mem)) * 100;
    const preferred = maxAffinity > 0 ? (affinity[i] / maxAffinity) * 100 : 0;
    const spread = owner ? (maxCount > 0 ? (1 - counts[i] / (maxCount + 1)) * 100 : 100) : 0;
    const soft = untoleratedTaint(s.taints, pod.spec?.tolerations ?? [], ["PreferNoSchedule"]) ? -100 : 0;
    out.set(s, leastAllocated + balanced + 2 * preferred + 2 * spread + soft + jitter(`${pod.metadata.name}/${s.name}`));
  });
  return out;
};

/** kube-scheduler's summary: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {...}." */
export const unschedulableMessage = (total: number, reasons: Map<string, number>): string => {
  if (total === 0) return "no nodes available to schedule pods";
  // sorted as formatted ("<count> <reason>"), like kube-scheduler's FitError
  const parts = [...reasons.entries()].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${total} nodes are available: ${parts.join(", ")}.`;
};

export const placePods = (pods: KObject[], nodes: KObject[], boundPods: KObject[]): Placement => {
  const byNode = new Map<string, KObject[]>();
  for (const p of boundPods) {
    const n = p.spec?.nodeName;
    if (n) byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const states = nodes.map((n) => state(n, byNode.get(n.metadata.name!) ?? []));
  const topo = new Topology(states);
  const antiPods: AntiPod[] = [];
  for (const st of states) for (const p of st.pods) if (antiTerms(p).length) antiPods.push({ pod: p, state: st, terms: antiTerms(p) });
  const result: Placement = { bindings: [], failures: [] };
  // higher priority first, then oldest first (kube-scheduler's queue order)
  const queue = [...pods].sort(
    (a, b) => (b.spec?.priority ?? 0) - (a.spec?.priority ?? 0) || String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) || a.metadata.name!.localeCompare(b.metadata.name!),
  );
  for (const pod of queue) {
    const req = podRequests(pod);
    const reasons = new Map<string, number>();
    const feasible: NodeState[] = [];
    for (const s of states) {
      const why = filter(pod, s, topo, antiPods, req);
      if (why.length === 0) feasible.push(s);
      for (const r of why) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    }
    if (!feasible.length) {
      result.failures.push({ pod, message: unschedulableMessage(states.length, reasons) });
      continue;
    }
    const sc = scores(pod, feasible, req);
    let best = feasible[0];
    for (const s of feasible) if (sc.get(s)! > sc.get(best)!) best = s;
    const placed = { ...pod, spec: { ...pod.spec, nodeName: best.name } };
    assign(best, placed);
    const terms = antiTerms(pod);
    if (terms.length) antiPods.push({ pod: placed, state: best, terms });
    result.bindings.push({ pod, node: best.name });
  }
  return result;
};
