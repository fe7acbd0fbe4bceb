/**
 * Node selection (nodeSelector, required and preferred node affinity) and pod
 * (anti-)affinity terms, with the semantics of k8s component-helpers' nodeaffinity and
 * the scheduler's AffinityTerm. Each pod's rules are compiled once per pass into
 * closures, then run against every node.
 */
import { type LabelRequirement, matchLabels, selectorFromLabelSelector } from "../../../shared/selectors/labels";
import type { KObject } from "../../../shared/types";

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

type Labels = Record<string, string>;

const own = (labels: Labels | undefined, key: string): string | undefined => (labels && Object.hasOwn(labels, key) ? labels[key] : undefined);

/** An integer as Go's strconv.ParseInt reads it (no decimals, no exponent), else undefined. */
const parseInt64 = (s: string): number | undefined => (/^[+-]?\d+$/.test(s) ? Number(s) : undefined);

/** One requirement against one value (undefined: the label or field is absent). */
export const matchNodeSelectorRequirement = (r: NodeSelectorRequirement, value: string | undefined): boolean => {
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      if (value === undefined || values.length !== 1) return false;
      const have = parseInt64(value);
      const want = parseInt64(values[0]);
      if (have === undefined || want === undefined) return false;
      return r.operator === "Gt" ? have > want : have < want;
    }
    default:
      return false;
  }
};

/** The node fields matchFields may name (only metadata.name, as in Kubernetes). */
const nodeField = (node: KObject, key: string): string | undefined => (key === "metadata.name" ? node.metadata?.name : undefined);

/** A term: all its expressions and fields hold. A term with neither matches nothing. */
export const matchNodeSelectorTerm = (term: NodeSelectorTerm | null | undefined, node: KObject): boolean => {
  const exprs = term?.matchExpressions ?? [];
  const fields = term?.matchFields ?? [];
  if (!exprs.length && !fields.length) return false;
  const labels = node.metadata?.labels;
  for (const r of exprs) if (!matchNodeSelectorRequirement(r, own(labels, r.key))) return false;
  for (const r of fields) if (!matchNodeSelectorRequirement(r, nodeField(node, r.key))) return false;
  return true;
};

/** Terms are ORed: some term matches (no terms: nothing matches). */
export const matchNodeSelectorTerms = (terms: NodeSelectorTerm[] | null | undefined, node: KObject): boolean => {
  for (const t of terms ?? []) if (matchNodeSelectorTerm(t, node)) return true;
  return false;
};

export type NodeMatcher = (node: KObject) => boolean;

/**
 * The pod's hard node constraints, nodeSelector AND required node affinity, as one
 * predicate; null when the pod has none (every node matches).
 */
export const requiredNodeAffinity = (pod: KObject): NodeMatcher | null => {
  const selector = pod.spec?.nodeSelector;
  const pairs: [string, string][] = selector && typeof selector === "object" ? Object.entries(selector).map(([k, v]) => [k, String(v)]) : [];
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms: NodeSelectorTerm[] | null = required ? (Array.isArray(required.nodeSelectorTerms) ? required.nodeSelectorTerms : []) : null;
  if (!pairs.length && terms === null) return null;
  return (node) => {
    const labels = node.metadata?.labels;
    for (const [k, v] of pairs) if (own(labels, k) !== v) return false;
    return terms === null || matchNodeSelectorTerms(terms, node);
  };
};

/** The pod's preferred node affinity: the sum of the weights of the terms a node matches; null when it has none. */
export const preferredNodeAffinity = (pod: KObject): ((node: KObject) => number) | null => {
  const prefs: { weight?: number; preference?: NodeSelectorTerm }[] = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const usable = prefs.filter((p) => p && (p.weight ?? 0) !== 0);
  if (!usable.length) return null;
  return (node) => {
    let sum = 0;
    for (const p of usable) if (matchNodeSelectorTerm(p.preference, node)) sum += p.weight ?? 0;
    return sum;
  };
};

// ------------------------------------------------------------ pod (anti-)affinity

/** A required pod (anti-)affinity term, compiled. */
export interface PodAffinityTerm {
  topologyKey: string;
  /** does an existing pod fall under this term? (namespace and label selector) */
  matches(pod: KObject): boolean;
  /** identical terms share a signature (they select the same pods) */
  signature: string;
}

/** Namespace labels by namespace name, for terms with a namespaceSelector. */
export type NamespaceLabels = (namespace: string) => Labels | undefined;

const namespaceOf = (pod: KObject) => pod.metadata?.namespace || "default";

const compileTerm = (raw: any, owner: KObject, nsLabels: NamespaceLabels): PodAffinityTerm | null => {
  if (!raw || typeof raw.topologyKey !== "string" || !raw.topologyKey) return null;
  let selector: LabelRequirement[] | null;
  try {
    selector = selectorFromLabelSelector(raw.labelSelector);
  } catch {
    selector = null; // an invalid selector selects nothing
  }
  const listed: string[] = Array.isArray(raw.namespaces) ? raw.namespaces.map(String) : [];
  let nsSelector: LabelRequirement[] | null = null;
  if (raw.namespaceSelector && typeof raw.namespaceSelector === "object") {
    try {
      nsSelector = selectorFromLabelSelector(raw.namespaceSelector);
    } catch {
      nsSelector = null;
    }
  }
  // no namespaces and no namespaceSelector: the pod's own namespace
  const namespaces = new Set(listed.length || raw.namespaceSelector ? listed : [namespaceOf(owner)]);
  const allNamespaces = nsSelector !== null && nsSelector.length === 0;
  const signature = JSON.stringify([raw.topologyKey, [...namespaces].sort(), raw.namespaceSelector ?? null, raw.labelSelector ?? null]);
  return {
    topologyKey: raw.topologyKey,
    signature,
    matches(pod) {
      if (selector === null) return false;
      const ns = namespaceOf(pod);
      if (!allNamespaces && !namespaces.has(ns) && !(nsSelector && matchLabels(nsSelector, nsLabels(ns) ?? {}))) return false;
      return matchLabels(selector, pod.metadata?.labels);
    },
  };
};

const compileTerms = (raw: unknown, pod: KObject, nsLabels: NamespaceLabels): PodAffinityTerm[] =>
  (Array.isArray(raw) ? raw : []).map((t) => compileTerm(t, pod, nsLabels)).filter((t): t is PodAffinityTerm => t !== null);

const noNamespaceLabels: NamespaceLabels = () => undefined;

/** requiredDuringSchedulingIgnoredDuringExecution of spec.affinity.podAffinity. */
export const requiredPodAffinityTerms = (pod: KObject, nsLabels: NamespaceLabels = noNamespaceLabels): PodAffinityTerm[] =>
  compileTerms(pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution, pod, nsLabels);

/** requiredDuringSchedulingIgnoredDuringExecution of spec.affinity.podAntiAffinity. */
export const requiredPodAntiAffinityTerms = (pod: KObject, nsLabels: NamespaceLabels = noNamespaceLabels): PodAffinityTerm[] =>
  compileTerms(pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution, pod, nsLabels);

/** Does a pod's (anti-)affinity use a namespaceSelector (then the pass needs the namespaces' labels)? */
export const usesNamespaceSelector = (pod: KObject): boolean => {
  const a = pod.spec?.affinity;
  if (!a) return false;
  const lists = [a.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution, a.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution];
  return lists.some((l) => Array.isArray(l) && l.some((t: any) => t?.namespaceSelector && Object.keys(t.namespaceSelector).length > 0));
};
