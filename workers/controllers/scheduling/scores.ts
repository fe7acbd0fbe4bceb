/**
 * Scoring of the nodes a pod fits on, after kube-scheduler's default score plugins:
 * each gives 0..100 per node, then they are summed with weights.
 *
 *   NodeResourcesFit (LeastAllocated)   weight 1
 *   NodeResourcesBalancedAllocation     weight 1
 *   NodeAffinity (preferred terms)      weight 2
 *   TaintToleration (PreferNoSchedule)  weight 3
 *   PodTopologySpread (system defaults) weight 2: replicas of one controller spread over
 *                                       hostnames (maxSkew 3) and zones (maxSkew 5)
 */
import type { NodeInfo, PodInfo } from "./filters";
import type { Resources } from "./resources";
import { countIntolerablePreferNoSchedule } from "./taints";

export const MAX_NODE_SCORE = 100;

export const WEIGHTS = {
  leastAllocated: 1,
  balancedAllocation: 1,
  nodeAffinity: 2,
  taintToleration: 3,
  podTopologySpread: 2,
} as const;

export const LABEL_HOSTNAME = "kubernetes.io/hostname";
export const LABEL_ZONE = "topology.kubernetes.io/zone";

/** The system default spread constraints (ScheduleAnyway) kube-scheduler gives pods owned by a controller. */
export const DEFAULT_SPREAD = [
  { topologyKey: LABEL_HOSTNAME, maxSkew: 3 },
  { topologyKey: LABEL_ZONE, maxSkew: 5 },
] as const;

/** ((capacity - requested) * 100 / capacity) for one resource; 0 when nothing is left or there is no capacity. */
const leastRequested = (requested: number, capacity: number): number => {
  if (capacity <= 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
};

/**
 * LeastAllocated: the share of cpu and memory left once the pod is on the node (its
 * requests and the node's, with the non-zero defaults), averaged with equal weights.
 * Favors emptier nodes, which spreads load.
 */
export const leastAllocatedScore = (allocatable: Resources, requestedWithPod: Resources): number =>
  Math.floor((leastRequested(requestedWithPod.cpu, allocatable.cpu) + leastRequested(requestedWithPod.memory, allocatable.memory)) / 2);

/**
 * BalancedAllocation: nodes where cpu and memory would be used in the same proportion
 * score higher: (1 - standard deviation of the two fractions) * 100.
 */
export const balancedAllocationScore = (allocatable: Resources, requestedWithPod: Resources): number => {
  const fractions: number[] = [];
  if (allocatable.cpu > 0) fractions.push(Math.min(1, requestedWithPod.cpu / allocatable.cpu));
  if (allocatable.memory > 0) fractions.push(Math.min(1, requestedWithPod.memory / allocatable.memory));
  const std = fractions.length === 2 ? Math.abs((fractions[0] - fractions[1]) / 2) : 0;
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
};

/**
 * kube-scheduler's DefaultNormalizeScore, in place: scale so the highest is 100
 * (reverse: the highest becomes 0); all zero stays 0 (reverse: all 100).
 */
export const normalizeScores = (scores: number[], reverse = false): number[] => {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) scores.fill(MAX_NODE_SCORE);
    return scores;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.floor((MAX_NODE_SCORE * scores[i]) / max);
    scores[i] = reverse ? MAX_NODE_SCORE - s : s;
  }
  return scores;
};

/** log(size + 2): domains of bigger topologies weigh more (PodTopologySpread). */
export const topologyNormalizingWeight = (size: number): number => Math.log(size + 2);

/**
 * PodTopologySpread's NormalizeScore, in place: raw scores grow with the matching pods
 * already in the node's domains; the fewest get 100, more get less.
 */
export const normalizeSpreadScores = (raw: number[]): number[] => {
  let min = Infinity;
  let max = 0;
  for (const s of raw) {
    if (s < min) min = s;
    if (s > max) max = s;
  }
  for (let i = 0; i < raw.length; i++) raw[i] = max === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (max + min - raw[i])) / max);
  return raw;
};

/** The spreading context of one pod: how many pods of its owner each zone holds. */
export interface SpreadContext {
  owner: string;
  /** zone → pods of the owner there */
  zoneCounts: Map<string, number> | undefined;
}

/**
 * Raw PodTopologySpread scores of the feasible nodes for the system default constraints:
 * per constraint, (pods of the same owner in the node's domain) × log(domains + 2) +
 * (maxSkew - 1), rounded.
 */
export const spreadRawScores = (nodes: NodeInfo[], ctx: SpreadContext): number[] => {
  const zones = new Set<string>();
  for (const n of nodes) {
    const z = n.labels[LABEL_ZONE];
    if (z !== undefined) zones.add(z);
  }
  const wHost = topologyNormalizingWeight(nodes.length);
  const wZone = topologyNormalizingWeight(zones.size);
  const [host, zone] = DEFAULT_SPREAD;
  return nodes.map((n) => {
    let s = 0;
    if (n.labels[LABEL_HOSTNAME] !== undefined) s += (n.owners.get(ctx.owner) ?? 0) * wHost + (host.maxSkew - 1);
    const z = n.labels[LABEL_ZONE];
    if (z !== undefined) s += (ctx.zoneCounts?.get(z) ?? 0) * wZone + (zone.maxSkew - 1);
    return Math.round(s);
  });
};

/**
 * The weighted total of every score plugin for each feasible node. Plugins with nothing
 * to say for this pod (no preferred affinity, no PreferNoSchedule taints, no owner) are
 * left out: they would add the same to every node.
 */
export const scoreNodes = (pod: PodInfo, nodes: NodeInfo[], spread: SpreadContext | null): number[] => {
  const totals = new Array<number>(nodes.length);
  const withPod: Resources = { cpu: 0, memory: 0, pods: 0 };
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    withPod.cpu = n.nonZeroRequested.cpu + pod.nonZero.cpu;
    withPod.memory = n.nonZeroRequested.memory + pod.nonZero.memory;
    let total = WEIGHTS.leastAllocated * leastAllocatedScore(n.allocatable, withPod);
    withPod.cpu = n.requested.cpu + pod.requests.cpu;
    withPod.memory = n.requested.memory + pod.requests.memory;
    total += WEIGHTS.balancedAllocation * balancedAllocationScore(n.allocatable, withPod);
    totals[i] = total;
  }
  if (pod.preferredAffinity) {
    const raw = normalizeScores(nodes.map((n) => pod.preferredAffinity!(n.node)));
    for (let i = 0; i < nodes.length; i++) totals[i] += WEIGHTS.nodeAffinity * raw[i];
  }
  if (nodes.some((n) => n.taints.some((t) => t.effect === "PreferNoSchedule"))) {
    const raw = normalizeScores(
      nodes.map((n) => countIntolerablePreferNoSchedule(n.taints, pod.tolerations)),
      true,
    );
    for (let i = 0; i < nodes.length; i++) totals[i] += WEIGHTS.taintToleration * raw[i];
  }
  if (spread) {
    const raw = normalizeSpreadScores(spreadRawScores(nodes, spread));
    for (let i = 0; i < nodes.length; i++) totals[i] += WEIGHTS.podTopologySpread * raw[i];
  }
  return totals;
};

/**
 * The index of the best score. Ties (common: equal nodes) are broken by `seed`, a
 * stable hash of the pod, so a backlog's replicas go to different nodes and a pass is
 * deterministic (kube-scheduler picks among ties at random).
 */
export const pickBest = (totals: number[], seed: number): number => {
  let best = -Infinity;
  let ties = 0;
  for (const t of totals) {
    if (t > best) {
      best = t;
      ties = 1;
    } else if (t === best) ties++;
  }
  let k = seed % ties;
  for (let i = 0; i < totals.length; i++) {
    if (totals[i] === best && k-- === 0) return i;
  }
  return -1;
};
