/**
 * The disruption controller (kube-controller-manager's): keeps each PodDisruptionBudget's
 * status, which the eviction subresource reads (registry/eviction.ts).
 *
 * - The pods it covers: its selector's, in its namespace (an empty selector: all of them;
 *   none: no pods).
 * - desiredHealthy and expectedPods: `minAvailable` as a count needs that many, counting
 *   the covered pods; a percentage of either field counts the replicas of the pods'
 *   controllers (a ReplicaSet under a Deployment counts the Deployment's), scaled
 *   rounding up; `maxUnavailable` needs expected − maxUnavailable.
 * - currentHealthy: covered pods that are Ready and not being deleted, less those just
 *   evicted (`disruptedPods`, forgotten when the pod goes or after 2 minutes).
 * - disruptionsAllowed = currentHealthy − desiredHealthy (not below 0), and the
 *   DisruptionAllowed condition (SufficientPods / InsufficientPods).
 */
import { jsonEqual } from "../../shared/json";
import { matchLabels, selectorFromLabelSelector } from "../../shared/selectors/labels";
import { rfc3339 } from "../../shared/time";
import type { KObject, ObjectKey } from "../../shared/types";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import { scaledValue } from "./deployment/util";
import type { Controller } from "./manager";
import { isPodReady } from "./replicaset";
import { controllerRef } from "./util";

/** How long an eviction is remembered while its pod's deletion isn't seen (kube's DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

const RESOURCE_OF: Record<string, string> = {
  ReplicaSet: "replicasets",
  ReplicationController: "replicationcontrollers",
  Deployment: "deployments",
  StatefulSet: "statefulsets",
};

/** The pods a budget covers (a null selector covers none). */
export const coveredPods = (pdb: KObject, pods: KObject[]): KObject[] => {
  if (!pdb.spec?.selector) return [];
  const sel = selectorFromLabelSelector(pdb.spec.selector);
  if (!sel) return [];
  return pods.filter((p) => p.metadata.namespace === pdb.metadata.namespace && matchLabels(sel, p.metadata.labels));
};

/** The replicas of the controllers of `pods` (null when a pod has none whose scale is known). */
const controllerScale = async (ctx: ControllerContext, ns: string, pods: KObject[]): Promise<number | null> => {
  const replicas = new Map<string, number>();
  for (const p of pods) {
    const ref = controllerRef(p);
    const resource = ref && RESOURCE_OF[ref.kind];
    if (!ref || !resource) return null;
    let owner = await ctx.api.get(resource, ns, ref.name);
    if (!owner || owner.metadata.uid !== ref.uid) return null;
    // a ReplicaSet under a Deployment: the Deployment's replicas
    const up = controllerRef(owner);
    if (ref.kind === "ReplicaSet" && up?.kind === "Deployment") {
      const d = await ctx.api.get("deployments", ns, up.name);
      if (d && d.metadata.uid === up.uid) owner = d;
    }
    replicas.set(owner.metadata.uid!, typeof owner.spec?.replicas === "number" ? owner.spec.replicas : 1);
  }
  return [...replicas.values()].reduce((a, b) => a + b, 0);
};

export async function syncBudget(key: ObjectKey, ctx: ControllerContext): Promise<ReconcileResult> {
  const pdb = await ctx.api.get("poddisruptionbudgets", key.namespace, key.name);
  if (!pdb || pdb.metadata.deletionTimestamp) return;
  const nowMs = ctx.now().getTime();
  const pods = coveredPods(pdb, await ctx.api.list("pods", key.namespace));
  const spec = pdb.spec ?? {};
  let expected = 0;
  let desired = 0;
  let unknownScale = false;
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    const scale = await controllerScale(ctx, key.namespace, pods);
    if (scale === null) unknownScale = true;
    else {
      expected = scale;
      desired = Math.max(0, expected - Math.max(0, scaledValue(spec.maxUnavailable, expected, true)));
    }
  } else if (typeof spec.minAvailable === "number") {
    expected = pods.length;
    desired = spec.minAvailable;
  } else if (typeof spec.minAvailable === "string") {
    const scale = await controllerScale(ctx, key.namespace, pods);
    if (scale === null) unknownScale = true;
    else {
      expected = scale;
      desired = Math.max(0, scaledValue(spec.minAvailable, expected, true));
    }
  }
  // evictions remembered until their pod is seen going, at most DELETION_TIMEOUT_MS
  const byName = new Map(pods.map((p) => [p.metadata.name!, p]));
  const disrupted: Record<string, string> = {};
  let pending = Number.POSITIVE_INFINITY;
  for (const [name, at] of Object.entries((pdb.status?.disruptedPods ?? {}) as Record<string, string>)) {
    const p = byName.get(name);
    const t = Date.parse(at);
    if (!p || p.metadata.deletionTimestamp || Number.isNaN(t) || t + DELETION_TIMEOUT_MS <= nowMs) continue;
    disrupted[name] = at;
    pending = Math.min(pending, t + DELETION_TIMEOUT_MS - nowMs);
  }
  const healthy = pods.filter((p) => !p.metadata.deletionTimestamp && isPodReady(p) && !disrupted[p.metadata.name!]).length;
  const allowed = unknownScale ? 0 : Math.max(0, healthy - desired);
  const now = rfc3339(ctx.now());
  const old = (pdb.status?.conditions ?? []).find((c: any) => c?.type === "DisruptionAllowed");
  const value = allowed > 0 ? "True" : "False";
  const reason = unknownScale ? "SyncFailed" : allowed > 0 ? "SufficientPods" : "InsufficientPods";
  const condition = {
    type: "DisruptionAllowed",
    status: value,
    observedGeneration: pdb.metadata.generation,
    lastTransitionTime: old?.status === value ? old.lastTransitionTime : now,
    reason,
    message: unknownScale ? "found no controller of a covered pod whose replicas say how many pods to expect" : "",
  };
  const status = {
    observedGeneration: pdb.metadata.generation,
    ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
    disruptionsAllowed: allowed,
    currentHealthy: healthy,
    desiredHealthy: desired,
    expectedPods: expected,
    conditions: [condition],
  };
  if (!jsonEqual(status, pdb.status)) {
    try {
      await ctx.api.updateStatus("poddisruptionbudgets", { ...pdb, status });
    } catch (e) {
      if (isNotFound(e)) return;
      if (isConflict(e)) return { requeueAfterMs: 20 };
      throw e;
    }
  }
  if (pending !== Number.POSITIVE_INFINITY) return { requeueAfterMs: pending };
}

const pdbKey = (p: KObject): ObjectKey => ({ resource: "poddisruptionbudgets", namespace: p.metadata.namespace ?? "", name: p.metadata.name! });

export const disruptionController: Controller = {
  name: "disruption",
  primary: ["poddisruptionbudgets"],
  watches: [
    {
      // a pod's change concerns the budgets of its namespace that cover it (or covered it)
      resource: "pods",
      mapAll: async (keys, ctx) => {
        const out: ObjectKey[] = [];
        for (const ns of new Set(keys.map((k) => k.namespace))) out.push(...(await ctx.api.list("poddisruptionbudgets", ns)).map(pdbKey));
        return out;
      },
    },
  ],
  // a pod's readiness, labels, deletion or existence; not its other status
  wants: ({ key, obj, old, deleted }) =>
    key.resource !== "pods" ||
    deleted ||
    !old ||
    !!obj.metadata?.deletionTimestamp !== !!old.metadata?.deletionTimestamp ||
    !jsonEqual(obj.metadata?.labels, old.metadata?.labels) ||
    isPodReady(obj) !== isPodReady(old),
  reconcile: syncBudget,
  async resync(ctx) {
    return (await ctx.api.list("poddisruptionbudgets")).map(pdbKey);
  },
};
