/** Node-level checks of the scheduler's filters: affinity terms, taints and tolerations. */
import type { KObject } from "../../../shared/types";

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}
export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** Does `t` tolerate `taint`? (Empty key with Exists tolerates everything; empty effect matches all.) */
export const tolerates = (t: Toleration, taint: Taint): boolean => {
  if (t.effect && t.effect !== taint.effect) return false;
  if (!t.key) return t.operator === "Exists";
  if (t.key !== taint.key) return false;
  return t.operator === "Exists" || (t.value ?? "") === (taint.value ?? "");
};

export const untoleratedTaint = (taints: Taint[], tolerations: Toleration[], effects: string[]): Taint | undefined =>
  taints.find((taint) => effects.includes(taint.effect) && !tolerations.some((t) => tolerates(t, taint)));

interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}

const matchRequirement = (r: Requirement, value: string | undefined): boolean => {
  const vals = r.values ?? [];
  switch (r.operator) {
    case "In":
      return value !== undefined && vals.includes(value);
    case "NotIn":
      return value === undefined || !vals.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      if (value === undefined || !/^-?\d+$/.test(value) || vals.length !== 1) return false;
      const n = Number(value);
      const v = Number(vals[0]);
      return r.operator === "Gt" ? n > v : n < v;
    }
    default:
      return false;
  }
};

/** One node selector term: all its label expressions and field expressions hold. An empty term matches nothing. */
export const matchTerm = (term: { matchExpressions?: Requirement[]; matchFields?: Requirement[] } | undefined, node: KObject): boolean => {
  const exprs = term?.matchExpressions ?? [];
  const fields = term?.matchFields ?? [];
  if (!exprs.length && !fields.length) return false;
  const labels = node.metadata.labels ?? {};
  return (
    exprs.every((r) => matchRequirement(r, Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined)) &&
    fields.every((r) => matchRequirement(r, r.key === "metadata.name" ? node.metadata.name : undefined))
  );
};

/** nodeSelector and required node affinity. */
export const matchesNodeSelection = (pod: KObject, node: KObject): boolean => {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>)) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) {
    const terms = required.nodeSelectorTerms ?? [];
    if (!terms.some((t: any) => matchTerm(t, node))) return false;
  }
  return true;
};

/** Sum of the weights of the preferred node affinity terms the node matches. */
export const preferredAffinityScore = (pod: KObject, node: KObject): number =>
  (pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).reduce(
    (s: number, p: any) => s + (matchTerm(p.preference, node) ? p.weight ?? 0 : 0),
    0,
  );

export const isNodeReady = (node: KObject): boolean =>
  (node.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
