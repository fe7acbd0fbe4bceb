import { type LabelRequirement, matchLabels, selectorFromLabelSelector, selectorFromMap, formatLabelSelector } from "../../shared/selectors/labels";
import { ApiError } from "../../shared/status";
import type { KObject, OwnerReference } from "../../shared/types";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";
import { pool } from "./manager";

const ts = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");
const BURST = 500;

export const controllerRef = (o: KObject): OwnerReference | undefined => o.metadata.ownerReferences?.find((r) => r.controller);

const condition = (pod: KObject, type: string) => (pod.status?.conditions ?? []).find((c: any) => c.type === type);
export const isPodReady = (pod: KObject) => condition(pod, "Ready")?.status === "True";

/** Ready for at least minReadySeconds (by `now`); also returns when that happens if not yet. */
export const availableAt = (pod: KObject, minReadySeconds: number): number | undefined => {
  const ready = condition(pod, "Ready");
  if (ready?.status !== "True") return undefined;
  const since = Date.parse(ready.lastTransitionTime ?? "") || 0;
  return since + minReadySeconds * 1000;
};

const isActive = (p: KObject) => !p.metadata.deletionTimestamp && !["Succeeded", "Failed"].includes(p.status?.phase);

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Kubernetes' order for scale-down: the least valuable pod first — unscheduled before
 * scheduled, Pending before Unknown before Running, not ready before ready, ready for
 * less time first, more restarts first, newer first.
 */
export const lessValuable = (a: KObject, b: KObject): number => {
  const assigned = (p: KObject) => (p.spec?.nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const phase = (p: KObject) => PHASE_RANK[p.status?.phase] ?? 0;
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  const ready = (p: KObject) => (isPodReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  if (ready(a) && ready(b)) {
    const since = (p: KObject) => Date.parse(condition(p, "Ready")?.lastTransitionTime ?? "") || 0;
    if (since(a) !== since(b)) return since(b) - since(a);
  }
  const restarts = (p: KObject) => (p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  return Date.parse(b.metadata.creationTimestamp ?? "") - Date.parse(a.metadata.creationTimestamp ?? "");
};

/** Re-read a pod and apply `edit` with compare-and-swap; false when it is gone or someone else won. */
const editPod = async (ctx: ControllerContext, pod: KObject, edit: (p: KObject) => boolean): Promise<KObject | null> => {
  const fresh = await ctx.api.get("pods", pod.metadata.namespace ?? "", pod.metadata.name!);
  if (!fresh || fresh.metadata.uid !== pod.metadata.uid) return null;
  if (!edit(fresh)) return fresh;
  try {
    return await ctx.api.update("pods", fresh);
  } catch (e) {
    if (isConflict(e) || isNotFound(e)) return null;
    throw e;
  }
};

interface Flavor {
  name: string;
  resource: "replicasets" | "replicationcontrollers";
  selector(o: KObject): LabelRequirement[] | null;
}

const reconcileReplicas = (flavor: Flavor) => async (key: { namespace: string; name: string }, ctx: ControllerContext): Promise<ReconcileResult> => {
  const rs = await ctx.api.get(flavor.resource, key.namespace, key.name);
  if (!rs || rs.metadata.deletionTimestamp) return;
  const uid = rs.metadata.uid!;
  const ns = key.namespace;
  const selector = flavor.selector(rs);
  if (!selector || !selector.length) return;
  const ref: OwnerReference = { apiVersion: rs.apiVersion!, kind: rs.kind!, name: rs.metadata.name!, uid, controller: true, blockOwnerDeletion: true };

  // pods it owns (indexed by owner uid), and pods its selector matches
  const owned = (await ctx.api.dependents(uid)).filter((p) => p.kind === "Pod" && controllerRef(p)?.uid === uid);
  const matching = await ctx.api.list("pods", ns, { labelSelector: formatLabelSelector(selector) });
  const mine = new Map<string, KObject>();
  for (const p of owned) {
    if (matchLabels(selector, p.metadata.labels)) {
      mine.set(p.metadata.uid!, p);
      continue;
    }
    // labels no longer match: release it
    await editPod(ctx, p, (f) => {
      const before = f.metadata.ownerReferences ?? [];
      f.metadata.ownerReferences = before.filter((r) => r.uid !== uid);
      if (!f.metadata.ownerReferences.length) delete f.metadata.ownerReferences;
      return before.length !== (f.metadata.ownerReferences?.length ?? 0);
    });
  }
  for (const p of matching) {
    if (mine.has(p.metadata.uid!) || controllerRef(p) || p.metadata.deletionTimestamp) continue;
    // an orphan that matches: adopt it
    const adopted = await editPod(ctx, p, (f) => {
      if (controllerRef(f) || !matchLabels(selector, f.metadata.labels)) return false;
      f.metadata.ownerReferences = [...(f.metadata.ownerReferences ?? []), ref];
      return true;
    });
    if (adopted && controllerRef(adopted)?.uid === uid) mine.set(adopted.metadata.uid!, adopted);
  }

  const active = [...mine.values()].filter(isActive);
  const want = typeof rs.spec?.replicas === "number" ? rs.spec.replicas : 1;
  const diff = want - active.length;
  let failure: string | undefined;
  if (diff > 0) {
    const template = rs.spec?.template ?? {};
    const toCreate = Math.min(diff, BURST);
    // slow start: 1, 2, 4, ... so a failing template doesn't flood the API with errors
    let created = 0;
    for (let batch = 1; created < toCreate && !failure; batch *= 2) {
      const n = Math.min(batch, toCreate - created);
      await pool(Array.from({ length: n }), n, async () => {
        try {
          const pod = await ctx.api.create("pods", ns, {
            apiVersion: "v1",
            kind: "Pod",
            metadata: {
              generateName: `${rs.metadata.name}-`,
              namespace: ns,
              labels: { ...(template.metadata?.labels ?? {}) },
              ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
              ownerReferences: [ref],
            },
            spec: structuredClone(template.spec ?? {}),
          });
          active.push(pod);
          await ctx.events.record(rs, "Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name}`);
        } catch (e) {
          failure = e instanceof ApiError ? e.message : (e as Error).message;
          await ctx.events.record(rs, "Warning", "FailedCreate", `Error creating: ${failure}`);
        }
      });
      created += n;
    }
  } else if (diff < 0) {
    const victims = [...active].sort(lessValuable).slice(0, -diff);
    await pool(victims, 16, async (p) => {
      if (await ctx.api.delete("pods", ns, p.metadata.name!, { preconditions: { uid: p.metadata.uid } }).catch((e) => (isConflict(e) ? false : Promise.reject(e)))) {
        await ctx.events.record(rs, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`);
      }
    });
    const gone = new Set(victims.map((v) => v.metadata.uid));
    active.splice(0, active.length, ...active.filter((p) => !gone.has(p.metadata.uid)));
  }

  // status
  const now = ctx.now().getTime();
  const minReady = rs.spec?.minReadySeconds ?? 0;
  const templateLabels: Record<string, string> = rs.spec?.template?.metadata?.labels ?? {};
  let available = 0;
  let nextAvailable: number | undefined;
  for (const p of active) {
    const at = availableAt(p, minReady);
    if (at === undefined) continue;
    if (at <= now) available++;
    else nextAvailable = Math.min(nextAvailable ?? Infinity, at);
  }
  const prevFailure = (rs.status?.conditions ?? []).find((c: any) => c.type === "ReplicaFailure");
  const conditions = failure
    ? [{ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: failure, lastTransitionTime: prevFailure?.status === "True" ? prevFailure.lastTransitionTime : ts(ctx.now()) }]
    : [];
  const status: Record<string, unknown> = {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: available,
    observedGeneration: rs.metadata.generation,
  };
  if (conditions.length) status.conditions = conditions;
  if (JSON.stringify(status) !== JSON.stringify(normalizeStatus(rs.status))) {
    try {
      await ctx.api.updateStatus(flavor.resource, { ...rs, status });
    } catch (e) {
      if (!isConflict(e)) throw e;
      return { requeueAfterMs: 10 };
    }
  }
  if (nextAvailable !== undefined) return { requeueAfterMs: Math.max(10, nextAvailable - now) };
};

/** The status fields this controller writes, in the order it writes them (for change detection). */
const normalizeStatus = (s: any) => {
  if (!s) return {};
  const out: Record<string, unknown> = {
    replicas: s.replicas,
    fullyLabeledReplicas: s.fullyLabeledReplicas,
    readyReplicas: s.readyReplicas,
    availableReplicas: s.availableReplicas,
    observedGeneration: s.observedGeneration,
  };
  if (s.conditions?.length) out.conditions = s.conditions;
  return out;
};

const flavorController = (flavor: Flavor): Controller => ({
  name: flavor.name,
  resources: [flavor.resource],
  reconcile: reconcileReplicas(flavor),
  async resync(ctx) {
    // objects waiting for minReadySeconds or a failed create are requeued by their reconcile; a sweep catches lost messages
    const all = await ctx.api.list(flavor.resource);
    return all
      .filter((o) => (o.status?.replicas ?? 0) !== (o.spec?.replicas ?? 1) || (o.status?.availableReplicas ?? 0) !== (o.status?.replicas ?? 0) || o.status?.observedGeneration !== o.metadata.generation)
      .map((o) => ({ resource: flavor.resource, namespace: o.metadata.namespace ?? "", name: o.metadata.name! }));
  },
});

/** apps/v1 ReplicaSet: keeps `replicas` pods matching its LabelSelector. */
export const replicaSetController = flavorController({
  name: "replicaset",
  resource: "replicasets",
  selector: (o) => selectorFromLabelSelector(o.spec?.selector),
});

/** v1 ReplicationController: the same with a map selector. */
export const replicationControllerController = flavorController({
  name: "replicationcontroller",
  resource: "replicationcontrollers",
  selector: (o) => selectorFromMap(o.spec?.selector),
});
