/**
 * One scheduling pass, in memory and pure: every pending pod, in kube-scheduler's queue
 * order (priority, then age), is filtered against the nodes, scored, and placed on the
 * best node, whose accounting is updated at once so a backlog never overcommits a node.
 * Pods that fit nowhere get kube-scheduler's summary of why.
 *
 * Cost: O(pods × nodes) filter and score steps (each a handful of comparisons); on
 * clusters of 100+ nodes a pod stops looking after kube-scheduler's adaptive share of
 * feasible nodes (percentageOfNodesToScore), starting where the previous pod stopped.
 * Inter-pod (anti-)affinity keeps per-term topology counts, updated as pods are placed,
 * so it adds O(distinct terms) per pod rather than a scan of every pod.
 */
import type { KObject } from "../../../shared/types";
import { type NamespaceLabels, type PodAffinityTerm, requiredPodAntiAffinityTerms } from "./affinity";
import { controllerOf, hostPortsOf, type InterPodState, type NodeInfo, type PodInfo, runFilters, toNodeInfo, toPodInfo } from "./filters";
import { addInto, podNonZeroRequests, podRequests } from "./resources";
import { fnv1a } from "../../../shared/hash";
import { LABEL_ZONE, pickBest, scoreNodes, type SpreadContext } from "./scores";
import { podHasClaims, type VolumeBinder, type VolumeWrites } from "./volumebinding";

export interface Binding {
  pod: KObject;
  node: string;
  /** what the pod's claims need written before it is bound (VolumeBinding) */
  volumes?: VolumeWrites;
}

export interface Failure {
  pod: KObject;
  message: string;
}

export interface Placement {
  bindings: Binding[];
  failures: Failure[];
}

export interface PlaceOptions {
  /** namespaces with their labels, for (anti-)affinity terms with a namespaceSelector */
  namespaces?: KObject[];
  /**
   * Share of the nodes to find feasible before a pod stops looking (kube-scheduler's
   * percentageOfNodesToScore): 0 or absent is adaptive (50% minus 1% per 125 nodes, at
   * least 5% and 100 nodes), 100 looks at every node.
   */
  percentageOfNodesToScore?: number;
  /** the pass's claims, volumes and classes (VolumeBinding), when a pod has claims */
  volumes?: VolumeBinder;
}

/** kube-scheduler's message when the cluster has no nodes at all. */
export const NO_NODES_MESSAGE = "no nodes available to schedule pods";

/**
 * kube-scheduler's FitError summary: "0/3 nodes are available: 1 node(s) had untolerated
 * taint {node.kubernetes.io/unreachable: }, 2 Insufficient memory." The entries are the
 * strings "<count> <reason>", sorted as strings (as Go's sort.Strings sorts them).
 * No preemption sentence: Kubeflare does not preempt.
 */
export const unschedulableMessage = (total: number, reasons: Map<string, number>): string => {
  if (total === 0) return NO_NODES_MESSAGE;
  const parts = [...reasons].map(([reason, n]) => `${n} ${reason}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return parts.length ? `0/${total} nodes are available: ${parts.join(", ")}.` : `0/${total} nodes are available.`;
};

/** How many feasible nodes a pod looks for before it stops (numFeasibleNodesToFind). */
export const numFeasibleNodesToFind = (nodes: number, percentage = 0): number => {
  const MIN_NODES = 100;
  const MIN_PERCENTAGE = 5;
  if (nodes < MIN_NODES || percentage >= 100) return nodes;
  let p = percentage;
  if (p <= 0) p = Math.max(MIN_PERCENTAGE, 50 - Math.floor(nodes / 125));
  return Math.max(MIN_NODES, Math.floor((nodes * p) / 100));
};

const phaseDone = (p: KObject) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";

/** topologyKey → value → count */
type PairCounts = Map<string, Map<string, number>>;

const bump = (counts: PairCounts, key: string, value: string | undefined) => {
  if (value === undefined) return;
  let m = counts.get(key);
  if (!m) counts.set(key, (m = new Map()));
  m.set(value, (m.get(value) ?? 0) + 1);
};

/** Topology counts of the pods some predicate selects, kept current as the pass places pods. */
interface Counter {
  matches(pod: KObject): boolean;
  keys: string[];
  counts: PairCounts;
}

/** The cluster as one pass sees it. */
class PassState {
  readonly nodes: NodeInfo[];
  private readonly byName = new Map<string, NodeInfo>();
  /** every pod on a node (bound before the pass or placed in it), for counters built later */
  private readonly placed: { pod: KObject; node: NodeInfo }[] = [];
  private readonly counters = new Map<string, Counter>();
  /** anti-affinity terms of pods on nodes, by signature: the term and the topology values it holds */
  private readonly existingAnti = new Map<string, { term: PodAffinityTerm; values: Set<string> }>();
  /** owner → zone → pods */
  private readonly zoneCounts = new Map<string, Map<string, number>>();

  constructor(
    nodes: KObject[],
    private readonly nsLabels: NamespaceLabels,
  ) {
    this.nodes = nodes.filter((n) => n?.metadata?.name).map(toNodeInfo);
    for (const n of this.nodes) this.byName.set(n.name, n);
  }

  node(name: string | undefined): NodeInfo | undefined {
    return name ? this.byName.get(name) : undefined;
  }

  /** Account for `pod` on `node`: resources, ports, spreading, topology counts, anti-affinity. */
  assign(pod: KObject, node: NodeInfo, info?: PodInfo): void {
    addInto(node.requested, info?.requests ?? podRequests(pod));
    addInto(node.nonZeroRequested, info?.nonZero ?? podNonZeroRequests(pod));
    for (const hp of info?.hostPorts ?? hostPortsOf(pod)) {
      let ips = node.usedPorts.get(hp.key);
      if (!ips) node.usedPorts.set(hp.key, (ips = new Set()));
      ips.add(hp.ip);
    }
    // terminating pods do not count for spreading (they are on their way out)
    const owner = info ? info.owner : controllerOf(pod);
    if (owner && !pod.metadata?.deletionTimestamp) {
      node.owners.set(owner, (node.owners.get(owner) ?? 0) + 1);
      const zone = node.labels[LABEL_ZONE];
      if (zone !== undefined) {
        let z = this.zoneCounts.get(owner);
        if (!z) this.zoneCounts.set(owner, (z = new Map()));
        z.set(zone, (z.get(zone) ?? 0) + 1);
      }
    }
    this.placed.push({ pod, node });
    for (const c of this.counters.values()) {
      if (c.matches(pod)) for (const k of c.keys) bump(c.counts, k, node.labels[k]);
    }
    const anti = info ? info.antiAffinityTerms : requiredPodAntiAffinityTerms(pod, this.nsLabels);
    for (const term of anti) {
      let e = this.existingAnti.get(term.signature);
      if (!e) this.existingAnti.set(term.signature, (e = { term, values: new Set() }));
      const v = node.labels[term.topologyKey];
      if (v !== undefined) e.values.add(v);
    }
  }

  /** The counter for a set of terms (a pod counts when it matches all of them), built on first use. */
  private counter(terms: PodAffinityTerm[]): Counter {
    const signature = terms.map((t) => t.signature).join("\n");
    let c = this.counters.get(signature);
    if (!c) {
      c = { matches: (p) => terms.every((t) => t.matches(p)), keys: [...new Set(terms.map((t) => t.topologyKey))], counts: new Map() };
      for (const { pod, node } of this.placed) if (c.matches(pod)) for (const k of c.keys) bump(c.counts, k, node.labels[k]);
      this.counters.set(signature, c);
    }
    return c;
  }

  /** The inter-pod affinity state of one pod (kube-scheduler's InterPodAffinity PreFilter); null when nothing applies. */
  interPod(pod: PodInfo): InterPodState | null {
    const state: InterPodState = {};
    let any = false;
    if (pod.affinityTerms.length) {
      const terms = pod.affinityTerms;
      state.affinity = { terms, counts: this.counter(terms).counts, selfMatch: terms.every((t) => t.matches(pod.pod)) };
      any = true;
    }
    if (pod.antiAffinityTerms.length) {
      state.anti = pod.antiAffinityTerms.map((term) => ({ term, counts: this.counter([term]).counts.get(term.topologyKey) ?? new Map() }));
      any = true;
    }
    for (const { term, values } of this.existingAnti.values()) {
      if (!values.size || !term.matches(pod.pod)) continue;
      state.existingAnti ??= new Map();
      let s = state.existingAnti.get(term.topologyKey);
      if (!s) state.existingAnti.set(term.topologyKey, (s = new Set()));
      for (const v of values) s.add(v);
      any = true;
    }
    return any ? state : null;
  }

  spread(pod: PodInfo): SpreadContext | null {
    return pod.owner ? { owner: pod.owner, zoneCounts: this.zoneCounts.get(pod.owner) } : null;
  }
}

/** kube-scheduler's queue order: higher priority first, then older, then by namespace/name. */
const queueOrder = (a: PodInfo, b: PodInfo): number =>
  (b.pod.spec?.priority ?? 0) - (a.pod.spec?.priority ?? 0) ||
  cmp(String(a.pod.metadata?.creationTimestamp ?? ""), String(b.pod.metadata?.creationTimestamp ?? "")) ||
  cmp(a.id, b.id);

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Place a backlog of pending pods on `nodes`, given the pods already bound to them.
 * Returns a binding for every pod that fits somewhere and, for the others, the message
 * kube-scheduler would give.
 */
export const placePods = (pods: KObject[], nodes: KObject[], boundPods: KObject[], opts: PlaceOptions = {}): Placement => {
  const nsMap = new Map<string, Record<string, string>>();
  for (const ns of opts.namespaces ?? []) if (ns?.metadata?.name) nsMap.set(ns.metadata.name, ns.metadata.labels ?? {});
  const nsLabels: NamespaceLabels = (name) => nsMap.get(name);

  const state = new PassState(nodes, nsLabels);
  for (const p of boundPods) {
    if (phaseDone(p)) continue;
    const n = state.node(p.spec?.nodeName);
    if (n) state.assign(p, n);
  }

  const result: Placement = { bindings: [], failures: [] };
  const all = state.nodes;
  const total = all.length;
  const toFind = numFeasibleNodesToFind(total, opts.percentageOfNodesToScore);
  let start = 0;
  const queue = pods.map((p) => toPodInfo(p, nsLabels)).sort(queueOrder);
  const feasible: NodeInfo[] = [];

  for (const pod of queue) {
    if (total === 0) {
      result.failures.push({ pod: pod.pod, message: NO_NODES_MESSAGE });
      continue;
    }
    const podVolumes = opts.volumes && podHasClaims(pod.pod) ? opts.volumes.preFilter(pod.pod) : null;
    if (podVolumes && "error" in podVolumes) {
      result.failures.push({ pod: pod.pod, message: `0/${total} nodes are available: ${podVolumes.error}.` });
      continue;
    }
    const volumeFilter = podVolumes ? (n: KObject) => opts.volumes!.filter(podVolumes, n) : undefined;
    const interPod = state.interPod(pod);
    feasible.length = 0;
    let reasons: Map<string, number> | null = null;
    let processed = 0;
    for (let k = 0; k < total && feasible.length < toFind; k++) {
      const node = all[(start + k) % total];
      processed++;
      const why = runFilters(pod, node, interPod, volumeFilter);
      if (why.length === 0) {
        feasible.push(node);
        continue;
      }
      reasons ??= new Map();
      for (const r of why) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    }
    start = (start + processed) % total;
    if (!feasible.length) {
      result.failures.push({ pod: pod.pod, message: unschedulableMessage(total, reasons ?? new Map()) });
      continue;
    }
    const best = feasible.length === 1 ? feasible[0] : feasible[pickBest(scoreNodes(pod, feasible, state.spread(pod)), fnv1a(pod.id))];
    state.assign({ ...pod.pod, spec: { ...pod.pod.spec, nodeName: best.name } }, best, pod);
    result.bindings.push({ pod: pod.pod, node: best.name, ...(podVolumes ? { volumes: opts.volumes!.assume(podVolumes, best.node) } : {}) });
  }
  return result;
};
