/**
 * The Deployment controller, after Kubernetes' (pkg/controller/deployment): one
 * ReplicaSet per pod template, named `<deployment>-<pod-template-hash>`; revisions
 * and rollback by template (history.ts); RollingUpdate within maxSurge/maxUnavailable,
 * one step per reconcile (rolling.ts); Recreate (recreate.ts); pause and proportional
 * scaling (sync.ts); revisionHistoryLimit; progressDeadlineSeconds and the status
 * `kubectl rollout status` reads (progress.ts).
 *
 * This file is deployment_controller.go: claiming ReplicaSets, the reconcile, the
 * watches and the resync.
 */
import { type LabelRequirement, formatLabelSelector, matchLabels, selectorFromLabelSelector } from "../../../shared/selectors/labels";
import type { KObject, ObjectKey, OwnerReference } from "../../../shared/types";
import { isConflict, isNotFound } from "../client";
import type { ControllerContext, ReconcileResult } from "../context";
import type { Controller } from "../manager";
import { casUpdate, controllerRef } from "../util";
import { rolloutRecreate } from "./recreate";
import { rolloutRolling } from "./rolling";
import { Conflict, DeploymentSync } from "./sync";
import { deploymentComplete, getCondition, NEW_RS_AVAILABLE, TIMED_OUT } from "./util";

export { HASH_LABEL, maxSurge, maxUnavailable, resolveFenceposts, REVISION, sameTemplate, templateHash } from "./util";

/** Owned ReplicaSets, adopting orphans the selector matches and releasing owned ones it no longer matches. */
const claimReplicaSets = async (ctx: ControllerContext, d: KObject, sel: LabelRequirement[]): Promise<KObject[]> => {
  const uid = d.metadata.uid!;
  const ns = d.metadata.namespace ?? "";
  const ref: OwnerReference = { apiVersion: "apps/v1", kind: "Deployment", name: d.metadata.name!, uid, controller: true, blockOwnerDeletion: true };
  const out = new Map<string, KObject>();
  for (const rs of await ctx.api.dependents(uid)) {
    if (rs.kind !== "ReplicaSet" || controllerRef(rs)?.uid !== uid) continue;
    if (matchLabels(sel, rs.metadata.labels)) {
      out.set(rs.metadata.uid!, rs);
      continue;
    }
    const copy = structuredClone(rs);
    const refs = (copy.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
    if (refs.length) copy.metadata.ownerReferences = refs;
    else delete copy.metadata.ownerReferences;
    await casUpdate(ctx, "replicasets", copy, ["metadata"]).catch((e) => {
      if (!isConflict(e) && !isNotFound(e)) throw e;
    });
  }
  for (const rs of await ctx.api.list("replicasets", ns, { labelSelector: formatLabelSelector(sel) })) {
    if (out.has(rs.metadata.uid!) || controllerRef(rs) || rs.metadata.deletionTimestamp) continue;
    const copy = structuredClone(rs);
    copy.metadata.ownerReferences = [...(copy.metadata.ownerReferences ?? []), ref];
    try {
      const adopted = await casUpdate(ctx, "replicasets", copy, ["metadata"]);
      out.set(adopted.metadata.uid!, adopted);
    } catch (e) {
      if (!isConflict(e) && !isNotFound(e)) throw e;
      throw new Conflict(`adopting replicaset ${rs.metadata.name}: ${(e as Error).message}`);
    }
  }
  return [...out.values()];
};

// ---------------------------------------------------------------- reconcile

const syncDeployment = async (key: { namespace: string; name: string }, ctx: ControllerContext): Promise<ReconcileResult> => {
  const d = await ctx.api.get("deployments", key.namespace, key.name);
  if (!d || d.metadata.deletionTimestamp) return;
  let sel: LabelRequirement[] | null;
  try {
    sel = selectorFromLabelSelector(d.spec?.selector);
  } catch {
    sel = null;
  }
  if (!sel) return;
  if (!sel.length) {
    await ctx.events.record(d, "Warning", "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.");
    if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
      await ctx.api.updateStatus("deployments", { ...d, status: { ...(d.status ?? {}), observedGeneration: d.metadata.generation } }).catch((e) => {
        if (!isConflict(e) && !isNotFound(e)) throw e;
      });
    }
    return;
  }

  try {
    const s = new DeploymentSync(ctx, d, await claimReplicaSets(ctx, d, sel));
    s.checkPausedConditions();
    if (d.spec?.paused || (await s.isScalingEvent())) await s.sync();
    else if (d.spec?.strategy?.type === "Recreate") await rolloutRecreate(s);
    else await rolloutRolling(s);
    await s.flush();
    return s.requeueMs !== undefined ? { requeueAfterMs: s.requeueMs } : undefined;
  } catch (e) {
    // someone else wrote first; their write enqueued this Deployment again, but look soon regardless
    if (e instanceof Conflict) return { requeueAfterMs: 100 };
    throw e;
  }
};

/** An orphan ReplicaSet (new, or released): the Deployments whose selector matches it may adopt it. */
const deploymentsForOrphan = async (ctx: ControllerContext, key: { namespace: string; name: string }): Promise<ObjectKey[]> => {
  const rs = await ctx.api.get("replicasets", key.namespace, key.name);
  if (!rs || controllerRef(rs) || rs.metadata.deletionTimestamp) return [];
  const out: ObjectKey[] = [];
  for (const d of await ctx.api.list("deployments", key.namespace)) {
    let sel: LabelRequirement[] | null = null;
    try {
      sel = selectorFromLabelSelector(d.spec?.selector);
    } catch {
      sel = null;
    }
    if (sel?.length && matchLabels(sel, rs.metadata.labels)) out.push({ resource: "deployments", namespace: key.namespace, name: d.metadata.name! });
  }
  return out;
};

/**
 * The Deployment controller. It reconciles Deployments, and watches ReplicaSets only
 * for orphans to adopt: the registry already enqueues a ReplicaSet's owner on every
 * ReplicaSet write, so an owned ReplicaSet's key maps to nothing here.
 */
export const deploymentController: Controller = {
  name: "deployment",
  primary: ["deployments"],
  watches: [{ resource: "replicasets", map: (key, ctx) => deploymentsForOrphan(ctx, key) }],
  reconcile: syncDeployment,
  async resync(ctx) {
    // rollouts in flight (for their progress deadline) and unobserved changes
    const all = await ctx.api.list("deployments");
    return all
      .filter((d) => {
        if (d.metadata.deletionTimestamp) return false;
        const p = getCondition(d.status, "Progressing");
        if (d.status?.observedGeneration !== d.metadata.generation) return true;
        if (d.spec?.paused || p?.reason === TIMED_OUT) return false;
        return !deploymentComplete(d, d.status) || (!!p && p.reason !== NEW_RS_AVAILABLE);
      })
      .map((d) => ({ resource: "deployments", namespace: d.metadata.namespace ?? "", name: d.metadata.name! }));
  },
};
