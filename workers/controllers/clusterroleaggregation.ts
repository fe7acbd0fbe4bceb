/**
 * The clusterrole-aggregation controller (kube-controller-manager's): a ClusterRole with
 * an aggregationRule gets as its rules those of the ClusterRoles its label selectors
 * match (registry/rbac/aggregate.ts), kept up to date as they change. Any ClusterRole's
 * write looks at all aggregated roles again, in one pass per batch (one list).
 */
import { jsonEqual } from "../../shared/json";
import { aggregateRules } from "../registry/rbac/aggregate";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";

/** Update every aggregated role whose rules are not what its selectors make; the keys it could not write yet. */
const aggregatePass = async (ctx: ControllerContext): Promise<ReconcileResult> => {
  const roles = await ctx.api.list("clusterroles");
  let retry = false;
  for (const role of roles) {
    const rules = aggregateRules(role, roles);
    if (!rules || jsonEqual(rules, role.rules ?? [])) continue;
    try {
      await ctx.api.update("clusterroles", { ...role, rules });
    } catch (e) {
      if (isConflict(e)) retry = true;
      else if (!isNotFound(e)) throw e;
    }
  }
  return retry ? { requeueAfterMs: 50 } : undefined;
};

export const clusterRoleAggregationController: Controller = {
  name: "clusterrole-aggregation",
  primary: ["clusterroles"],
  // no resync: every ClusterRole write reaches it through the queue (a cron pass would cost the Worker a list)
  reconcileBatch: (_keys, ctx) => aggregatePass(ctx),
};
