/**
 * ClusterRole aggregation, as kube's clusterrole-aggregation controller computes it: a
 * ClusterRole with an aggregationRule has, as its rules, the rules of every other
 * ClusterRole its selectors match (each selector's matches in name order), each
 * distinct rule once.
 */
import { jsonEqual } from "../../../shared/json";
import { matchLabels, selectorFromLabelSelector } from "../../../shared/selectors/labels";
import type { KObject } from "../../../shared/types";
import type { PolicyRule } from "./rules";

export const aggregateRules = (role: KObject, all: KObject[]): PolicyRule[] | null => {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!Array.isArray(selectors)) return null;
  const out: PolicyRule[] = [];
  const byName = [...all].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  for (const sel of selectors) {
    let reqs: ReturnType<typeof selectorFromLabelSelector>;
    try {
      reqs = selectorFromLabelSelector(sel);
    } catch {
      continue;
    }
    if (!reqs) continue;
    for (const other of byName) {
      if (other.metadata.name === role.metadata.name || !matchLabels(reqs, other.metadata.labels)) continue;
      for (const r of other.rules ?? []) if (!out.some((x) => jsonEqual(x, r))) out.push(r);
    }
  }
  return out;
};

/** Fill in every aggregated role of a set (to a fixed point: aggregated roles may aggregate each other), in place. */
export const aggregateAll = (roles: KObject[]): void => {
  for (let pass = 0; pass < 5; pass++) {
    let changed = false;
    for (const r of roles) {
      const rules = aggregateRules(r, roles);
      if (rules && !jsonEqual(rules, r.rules ?? [])) {
        r.rules = rules;
        changed = true;
      }
    }
    if (!changed) return;
  }
};
