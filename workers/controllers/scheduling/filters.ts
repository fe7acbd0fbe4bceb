/**
 * The scheduler's filters, in kube-scheduler's plugin order. Each takes the pod and a
 * node as the pass sees them (the node's accounting includes the pods placed earlier
 * in the same pass) and returns null when the node passes, or the reason it does not,
 * worded as kube-scheduler words it (the words the summary message counts).
 */
import type { KObject } from "../../../shared/types";
import {
  type NamespaceLabels,
  type NodeMatcher,
  type PodAffinityTerm,
  preferredNodeAffinity,
  requiredNodeAffinity,
  requiredPodAffinityTerms,
  requiredPodAntiAffinityTerms,
} from "./affinity";
import { emptyResources, nodeAllocatable, podNonZeroRequests, podRequests, type Resources } from "./resources";
import { findUntoleratedTaint, formatTaint, nodeTaints, type Taint, type Toleration, toleratesUnschedulable } from "./taints";

export const REASON_UNSCHEDULABLE = "node(s) were unschedulable";
export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";
export const REASON_TOO_MANY_PODS = "Too many pods";
export const REASON_POD_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_POD_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
export const insufficient = (resource: string) => `Insufficient ${resource}`;
export const untoleratedTaint = (t: Taint) => `node(s) had untolerated taint ${formatTaint(t)}`;

/** A host port a pod asks for: `${protocol}/${port}` and the IP (0.0.0.0 for all). */
export interface HostPort {
  key: string;
  ip: string;
}

/** A pod to place, with everything the filters and scores need computed once. */
export interface PodInfo {
  pod: KObject;
  /** namespace/name */
  id: string;
  requests: Resources;
  /** cpu and memory with the scoring defaults for containers that request none */
  nonZero: Resources;
  tolerations: Toleration[];
  toleratesUnschedulable: boolean;
  /** nodeSelector + required node affinity (null: any node) */
  nodeAffinity: NodeMatcher | null;
  preferredAffinity: ((node: KObject) => number) | null;
  hostPorts: HostPort[];
  affinityTerms: PodAffinityTerm[];
  antiAffinityTerms: PodAffinityTerm[];
  /** the uid of the controller that owns the pod (spreading), if any */
  owner?: string;
}

/** A node during a pass, with the accounting of the pods bound or placed on it. */
export interface NodeInfo {
  node: KObject;
  name: string;
  labels: Record<string, string>;
  unschedulable: boolean;
  taints: Taint[];
  allocatable: Resources;
  requested: Resources;
  /** requests with the scoring defaults */
  nonZeroRequested: Resources;
  /** host ports in use: `${protocol}/${port}` → the IPs bound */
  usedPorts: Map<string, Set<string>>;
  /** pods of each controller owner on this node (spreading) */
  owners: Map<string, number>;
}

/** The uid (or kind/namespace/name) of the controller that owns the pod. */
export const controllerOf = (pod: KObject): string | undefined => {
  const ref = (pod.metadata?.ownerReferences ?? []).find((r: any) => r?.controller);
  return ref ? ref.uid || `${ref.kind}/${pod.metadata.namespace ?? ""}/${ref.name}` : undefined;
};

const noNamespaceLabels: NamespaceLabels = () => undefined;

/** A pod's PodInfo: its rules compiled once for the pass. */
export const toPodInfo = (pod: KObject, nsLabels: NamespaceLabels = noNamespaceLabels): PodInfo => {
  const tolerations: Toleration[] = Array.isArray(pod.spec?.tolerations) ? pod.spec.tolerations.filter((t: unknown) => t && typeof t === "object") : [];
  return {
    pod,
    id: `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`,
    requests: podRequests(pod),
    nonZero: podNonZeroRequests(pod),
    tolerations,
    toleratesUnschedulable: toleratesUnschedulable(tolerations),
    nodeAffinity: requiredNodeAffinity(pod),
    preferredAffinity: preferredNodeAffinity(pod),
    hostPorts: hostPortsOf(pod),
    affinityTerms: requiredPodAffinityTerms(pod, nsLabels),
    antiAffinityTerms: requiredPodAntiAffinityTerms(pod, nsLabels),
    owner: controllerOf(pod),
  };
};

/** A node's NodeInfo with nothing on it yet (the pass adds its pods). */
export const toNodeInfo = (node: KObject): NodeInfo => ({
  node,
  name: node.metadata.name!,
  labels: node.metadata.labels ?? {},
  unschedulable: node.spec?.unschedulable === true,
  taints: nodeTaints(node),
  allocatable: nodeAllocatable(node),
  requested: emptyResources(),
  nonZeroRequested: emptyResources(),
  usedPorts: new Map(),
  owners: new Map(),
});

/**
 * What the inter-pod affinity filter needs for one pod, computed from the whole pass
 * before its nodes are filtered: topology pair counts.
 */
export interface InterPodState {
  /** the pod's required affinity terms, and topologyKey → value → pods matching all of them */
  affinity?: { terms: PodAffinityTerm[]; counts: Map<string, Map<string, number>>; selfMatch: boolean };
  /** per anti-affinity term of the pod: value of its topologyKey → pods matching it */
  anti?: { term: PodAffinityTerm; counts: Map<string, number> }[];
  /** topologyKey → values where an existing pod's anti-affinity term rejects this pod */
  existingAnti?: Map<string, Set<string>>;
}

/** NodeUnschedulable: a cordoned node takes only pods that tolerate node.kubernetes.io/unschedulable:NoSchedule. */
export const nodeUnschedulable = (pod: PodInfo, node: NodeInfo): string | null =>
  node.unschedulable && !pod.toleratesUnschedulable ? REASON_UNSCHEDULABLE : null;

/** TaintToleration: every NoSchedule and NoExecute taint must be tolerated; names the first that is not. */
export const taintToleration = (pod: PodInfo, node: NodeInfo): string | null => {
  if (!node.taints.length) return null;
  const t = findUntoleratedTaint(node.taints, pod.tolerations);
  return t ? untoleratedTaint(t) : null;
};

/** NodeAffinity: nodeSelector and required node affinity. */
export const nodeAffinity = (pod: PodInfo, node: NodeInfo): string | null => (pod.nodeAffinity && !pod.nodeAffinity(node.node) ? REASON_NODE_AFFINITY : null);

/** The host ports a pod's containers ask for (hostPort set), TCP and 0.0.0.0 by default. */
export const hostPortsOf = (pod: KObject): HostPort[] => {
  const out: HostPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c?.ports ?? []) {
      if (!p?.hostPort) continue;
      out.push({ key: `${p.protocol || "TCP"}/${p.hostPort}`, ip: p.hostIP || "0.0.0.0" });
    }
  }
  return out;
};

/** Does `want` clash with ports in use? The same protocol and port on the same IP, or either side on 0.0.0.0. */
export const portsConflict = (used: Map<string, Set<string>>, want: HostPort[]): boolean => {
  for (const w of want) {
    const ips = used.get(w.key);
    if (!ips?.size) continue;
    if (w.ip === "0.0.0.0" || ips.has("0.0.0.0") || ips.has(w.ip)) return true;
  }
  return false;
};

/** NodePorts: the pod's host ports are free on the node. */
export const nodePorts = (pod: PodInfo, node: NodeInfo): string | null =>
  pod.hostPorts.length && portsConflict(node.usedPorts, pod.hostPorts) ? REASON_PORTS : null;

/**
 * NodeResourcesFit: the pod count, then every resource the pod requests must fit in
 * allocatable minus what the node's pods request. Gives every shortfall, as
 * kube-scheduler does ("Too many pods", "Insufficient cpu", "Insufficient memory", ...).
 */
export const resourcesFit = (pod: PodInfo, node: NodeInfo): string[] | null => {
  const req = pod.requests;
  const alloc = node.allocatable;
  const used = node.requested;
  let out: string[] | null = null;
  if (used.pods + 1 > alloc.pods) (out ??= []).push(REASON_TOO_MANY_PODS);
  if (req.cpu > 0 && req.cpu > alloc.cpu - used.cpu) (out ??= []).push(insufficient("cpu"));
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) (out ??= []).push(insufficient("memory"));
  if (req.scalar) {
    for (const name of Object.keys(req.scalar).sort(scalarOrder)) {
      const want = req.scalar[name];
      if (want > 0 && want > (alloc.scalar?.[name] ?? 0) - (used.scalar?.[name] ?? 0)) (out ??= []).push(insufficient(name));
    }
  }
  return out;
};

/** ephemeral-storage first (kube-scheduler checks it right after memory), then the others by name. */
const scalarOrder = (a: string, b: string) => (a === "ephemeral-storage" ? -1 : b === "ephemeral-storage" ? 1 : a < b ? -1 : a > b ? 1 : 0);

/**
 * InterPodAffinity: the node's topology domains must hold pods matching all of the pod's
 * affinity terms (unless no pod anywhere does and the pod matches its own terms: the first
 * of a group), none matching its anti-affinity terms, and no existing pod whose
 * anti-affinity term the pod matches.
 */
export const interPodAffinity = (state: InterPodState, node: NodeInfo): string | null => {
  const labels = node.labels;
  if (state.affinity) {
    const { terms, counts, selfMatch } = state.affinity;
    let podsExist = true;
    for (const t of terms) {
      const v = labels[t.topologyKey];
      if (v === undefined) return REASON_POD_AFFINITY;
      if ((counts.get(t.topologyKey)?.get(v) ?? 0) <= 0) podsExist = false;
    }
    // no matching pod anywhere yet: the first pod of a group that matches its own terms may go
    if (!podsExist && (counts.size > 0 || !selfMatch)) return REASON_POD_AFFINITY;
  }
  if (state.anti) {
    for (const { term, counts } of state.anti) {
      const v = labels[term.topologyKey];
      if (v !== undefined && (counts.get(v) ?? 0) > 0) return REASON_POD_ANTI_AFFINITY;
    }
  }
  if (state.existingAnti) {
    for (const [key, values] of state.existingAnti) {
      const v = labels[key];
      if (v !== undefined && values.has(v)) return REASON_EXISTING_ANTI_AFFINITY;
    }
  }
  return null;
};

/**
 * Every filter in order (`volumes`: the pod's VolumeBinding filter, if it has claims); the first that refuses the node decides (kube-scheduler stops at
 * the first failing plugin). [] when the node fits.
 */
export const runFilters = (pod: PodInfo, node: NodeInfo, interPod: InterPodState | null, volumes?: (node: KObject) => string | null): string[] => {
  const one = nodeUnschedulable(pod, node) ?? taintToleration(pod, node) ?? nodeAffinity(pod, node) ?? nodePorts(pod, node);
  if (one) return [one];
  const fit = resourcesFit(pod, node);
  if (fit) return fit;
  // VolumeBinding (scheduling/volumebinding.ts) runs between NodeResourcesFit and InterPodAffinity
  const vol = volumes?.(node.node);
  if (vol) return [vol];
  const ipa = interPod ? interPodAffinity(interPod, node) : null;
  return ipa ? [ipa] : NONE;
};

const NONE: string[] = [];
