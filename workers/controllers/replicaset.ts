/**
 * The ReplicaSet and ReplicationController controllers (one implementation, as in
 * Kubernetes, where the RC controller is the RS controller behind a conversion).
 *
 * Level-triggered: each reconcile reads the object and its pods, claims pods
 * (adopting matching orphans, releasing owned pods that no longer match), creates
 * or deletes pods to reach spec.replicas, and writes status when it changed. The
 * registry enqueues a pod's owners on every pod write, so pod changes come back here
 * as the owner's key (controller-runtime's Owns), and orphans are adopted when the
 * ReplicaSet is next reconciled.
 */
import { type LabelRequirement, formatLabelSelector, matchLabels, selectorFromLabelSelector, selectorFromMap } from "../../shared/selectors/labels";
import { ApiError } from "../../shared/status";
import type { KObject, ObjectKey, OwnerReference } from "../../shared/types";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import { budgetRefusal, type Controller } from "./manager";
import { casUpdate, controllerRef } from "./util";
import { rfc3339 } from "../../shared/time";
import { jsonEqual } from "../../shared/json";

/** Kubernetes' burstReplicas: at most this many creates or deletes per reconcile. */
export const BURST_REPLICAS = 500;
const DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";

const ts = rfc3339;
const parseTime = (s: unknown): number | undefined => {
  const t = typeof s === "string" ? Date.parse(s) : NaN;
  return Number.isNaN(t) ? undefined : t;
};

// ---------------------------------------------------------------- pod state

const podCondition = (pod: KObject, type: string) => (pod.status?.conditions ?? []).find((c: any) => c?.type === type);
export const isPodReady = (pod: KObject) => podCondition(pod, "Ready")?.status === "True";
const readySince = (pod: KObject) => parseTime(podCondition(pod, "Ready")?.lastTransitionTime);

/**
 * When a ready pod counts as available (Ready for more than minReadySeconds), in ms;
 * undefined when it is not ready. With minReadySeconds 0 it is available at once.
 */
export const availableAt = (pod: KObject, minReadySeconds: number): number | undefined => {
  if (!isPodReady(pod)) return undefined;
  if (!minReadySeconds) return -Infinity;
  const since = readySince(pod);
  return since === undefined ? undefined : since + minReadySeconds * 1000;
};

/** Kubernetes' IsPodAvailable: ready, and ready since strictly before now - minReadySeconds. */
export const isPodAvailable = (pod: KObject, minReadySeconds: number, now: number): boolean => {
  const at = availableAt(pod, minReadySeconds);
  return at !== undefined && (at === -Infinity || at < now);
};

/** Not being deleted and not finished: counts towards replicas. */
export const isPodActive = (p: KObject) => !p.metadata.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const maxRestarts = (p: KObject) => Math.max(0, ...(p.status?.containerStatuses ?? []).map((c: any) => Number(c?.restartCount) || 0));
const deletionCost = (p: KObject) => {
  const v = Number(p.metadata.annotations?.[DELETION_COST]);
  return Number.isFinite(v) ? v : 0;
};
/** afterOrZero: an empty time sorts first, then the later time. */
const afterOrZero = (a: number | undefined, b: number | undefined): number => {
  if (a === undefined || b === undefined) return a === undefined ? (b === undefined ? 0 : -1) : 1;
  return b - a;
};

/**
 * Kubernetes' ActivePodsWithRanks order, least valuable (deleted first) to most:
 *  1. unassigned < assigned
 *  2. Pending < Unknown < Running
 *  3. not ready < ready
 *  4. lower pod-deletion-cost < higher
 *  5. more of its siblings on the same node < fewer ("doubled up" pods go first)
 *  6. ready for less time < more time
 *  7. more container restarts < fewer
 *  8. newer < older
 * `rank` maps a pod's node to how many active siblings run there (optional).
 */
export const podDeletionOrder =
  (rank?: (p: KObject) => number) =>
  (a: KObject, b: KObject): number => {
    const assigned = (p: KObject) => (p.spec?.nodeName ? 1 : 0);
    if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
    const phase = (p: KObject) => PHASE_ORDINAL[p.status?.phase] ?? 0;
    if (phase(a) !== phase(b)) return phase(a) - phase(b);
    const ready = (p: KObject) => (isPodReady(p) ? 1 : 0);
    if (ready(a) !== ready(b)) return ready(a) - ready(b);
    if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) - deletionCost(b);
    if (rank && rank(a) !== rank(b)) return rank(b) - rank(a);
    if (ready(a) && ready(b) && readySince(a) !== readySince(b)) return afterOrZero(readySince(a), readySince(b));
    if (maxRestarts(a) !== maxRestarts(b)) return maxRestarts(b) - maxRestarts(a);
    return afterOrZero(parseTime(a.metadata.creationTimestamp), parseTime(b.metadata.creationTimestamp));
  };

/** The ActivePods order without node ranks. */
export const lessValuable = podDeletionOrder();

// ---------------------------------------------------------------- the controller

interface Flavor {
  name: string;
  resource: "replicasets" | "replicationcontrollers";
  selector(o: KObject): LabelRequirement[] | null;
}

/** Re-read a pod and apply `edit` with compare-and-swap, retrying on conflict; null when it is gone. */
const editPod = async (ctx: ControllerContext, pod: KObject, edit: (p: KObject) => boolean): Promise<KObject | null> => {
  for (let attempt = 0; attempt < 3; attempt++) {
    const fresh = await ctx.api.get("pods", pod.metadata.namespace ?? "", pod.metadata.name!);
    if (!fresh || fresh.metadata.uid !== pod.metadata.uid) return null;
    if (!edit(fresh)) return fresh;
    try {
      return await casUpdate(ctx, "pods", fresh, ["metadata"]);
    } catch (e) {
      if (isNotFound(e)) return null;
      if (!isConflict(e)) throw e;
    }
  }
  return null;
};

const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const namespaceTerminating = (e: unknown) => e instanceof ApiError && e.code === 403 && /being terminated/.test(e.message);

const syncReplicas = async (flavor: Flavor, key: { namespace: string; name: string }, ctx: ControllerContext): Promise<ReconcileResult> => {
  const rs = await ctx.api.get(flavor.resource, key.namespace, key.name);
  if (!rs || rs.metadata.deletionTimestamp) return;
  const ns = key.namespace;
  const uid = rs.metadata.uid!;
  let selector: LabelRequirement[] | null;
  try {
    selector = flavor.selector(rs);
  } catch {
    selector = null;
  }
  // a nil selector selects nothing, an empty one everything: validation rejects both; never act on them
  if (!selector?.length) return;
  const sel = selector;
  const ref: OwnerReference = { apiVersion: rs.apiVersion!, kind: rs.kind!, name: rs.metadata.name!, uid, controller: true, blockOwnerDeletion: true };

  // ---- claim pods: those it controls (indexed by owner uid) and orphans its selector matches
  const owned = (await ctx.api.dependents(uid)).filter((p) => p.kind === "Pod" && controllerRef(p)?.uid === uid);
  const matching = await ctx.api.list("pods", ns, { labelSelector: formatLabelSelector(sel) });
  const mine = new Map<string, KObject>();
  for (const p of owned) {
    if (matchLabels(sel, p.metadata.labels)) {
      mine.set(p.metadata.uid!, p);
      continue;
    }
    // it controls the pod but the labels no longer match: release it
    await editPod(ctx, p, (f) => {
      if (controllerRef(f)?.uid !== uid || matchLabels(sel, f.metadata.labels)) return false;
      const refs = (f.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
      if (refs.length) f.metadata.ownerReferences = refs;
      else delete f.metadata.ownerReferences;
      return true;
    });
  }
  for (const p of matching) {
    if (mine.has(p.metadata.uid!) || controllerRef(p) || p.metadata.deletionTimestamp) continue;
    const adopted = await editPod(ctx, p, (f) => {
      if (controllerRef(f) || f.metadata.deletionTimestamp || !matchLabels(sel, f.metadata.labels)) return false;
      f.metadata.ownerReferences = [...(f.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid), ref];
      return true;
    });
    if (adopted && controllerRef(adopted)?.uid === uid) mine.set(adopted.metadata.uid!, adopted);
  }

  // ---- manage replicas
  const active = [...mine.values()].filter(isPodActive);
  const want: number = typeof rs.spec?.replicas === "number" ? rs.spec.replicas : 1;
  const diff = active.length - want;
  let failure: { reason: "FailedCreate" | "FailedDelete"; message: string } | undefined;
  let retryFailure = false;
  /** pods created or deleted in this run: their writes bring the ReplicaSet back at once (rerunDelayMs) */
  let acted = false;
  if (diff < 0) {
    const template = rs.spec?.template ?? {};
    const total = Math.min(-diff, BURST_REPLICAS);
    // slow start (1, 2, 4, ...): a template that cannot be created fails once, not 500 times
    let remaining = total;
    for (let batch = Math.min(remaining, 1); batch > 0 && !failure; batch = Math.min(2 * batch, remaining)) {
      const results = await Promise.allSettled(
        Array.from({ length: batch }, () =>
          ctx.api.create("pods", ns, {
            apiVersion: "v1",
            kind: "Pod",
            metadata: {
              generateName: `${rs.metadata.name}-`,
              namespace: ns,
              ...(template.metadata?.labels ? { labels: { ...template.metadata.labels } } : {}),
              ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
              ...(template.metadata?.finalizers ? { finalizers: [...template.metadata.finalizers] } : {}),
              ownerReferences: [ref],
            },
            spec: structuredClone(template.spec ?? {}),
          }),
        ),
      );
      let refused: unknown;
      for (const r of results) {
        if (r.status === "fulfilled") {
          acted = true;
          active.push(r.value);
          await ctx.events.record(rs, "Normal", "SuccessfulCreate", `Created pod: ${r.value.metadata.name}`);
        } else if (budgetRefusal(r.reason)) {
          refused ??= r.reason;
        } else {
          failure ??= { reason: "FailedCreate", message: errorMessage(r.reason) };
          retryFailure = true;
          // in a terminating namespace even the event cannot be written
          if (!namespaceTerminating(r.reason)) await ctx.events.record(rs, "Warning", "FailedCreate", `Error creating: ${errorMessage(r.reason)}`);
        }
      }
      // the invocation's subrequest budget is spent (a Worker): no failed create (no FailedCreate
      // event, no ReplicaFailure, no 5-s retry; its status write would be refused too). The
      // manager sends the key back to the queue at once, and the next run, with a budget of its
      // own, counts the pods made here and goes on.
      if (refused) throw refused;
      remaining -= batch;
    }
  } else if (diff > 0) {
    const onNode = new Map<string, number>();
    for (const p of active) onNode.set(p.spec?.nodeName ?? "", (onNode.get(p.spec?.nodeName ?? "") ?? 0) + 1);
    const victims = [...active].sort(podDeletionOrder((p) => onNode.get(p.spec?.nodeName ?? "") ?? 0)).slice(0, Math.min(diff, BURST_REPLICAS));
    const gone = new Set<string>();
    let refused: unknown;
    await Promise.all(
      victims.map(async (p) => {
        try {
          await ctx.api.delete("pods", ns, p.metadata.name!, { preconditions: { uid: p.metadata.uid } });
          acted = true;
          gone.add(p.metadata.uid!);
          await ctx.events.record(rs, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`);
        } catch (e) {
          if (isNotFound(e) || isConflict(e)) {
            gone.add(p.metadata.uid!); // already gone (or replaced by another pod of that name)
            return;
          }
          if (budgetRefusal(e)) {
            refused ??= e;
            return;
          }
          failure ??= { reason: "FailedDelete", message: errorMessage(e) };
          retryFailure = true;
          await ctx.events.record(rs, "Warning", "FailedDelete", `Error deleting: ${errorMessage(e)}`);
        }
      }),
    );
    // the budget is spent (see the creates above): back to the queue, no FailedDelete
    if (refused) throw refused;
    active.splice(0, active.length, ...active.filter((p) => !gone.has(p.metadata.uid!)));
  }

  // ---- status
  const now = ctx.now().getTime();
  const minReady: number = rs.spec?.minReadySeconds ?? 0;
  const templateLabels: Record<string, string> = rs.spec?.template?.metadata?.labels ?? {};
  let available = 0;
  let nextAvailable: number | undefined;
  for (const p of active) {
    const at = availableAt(p, minReady);
    if (at === undefined) continue;
    if (at === -Infinity || at < now) available++;
    else nextAvailable = Math.min(nextAvailable ?? Infinity, at);
  }
  const prev = rs.status ?? {};
  let conditions: any[] = Array.isArray(prev.conditions) ? [...prev.conditions] : [];
  const hasFailure = conditions.some((c) => c?.type === "ReplicaFailure");
  if (failure && !hasFailure) {
    conditions.push({ type: "ReplicaFailure", status: "True", lastTransitionTime: ts(ctx.now()), reason: failure.reason, message: failure.message });
  } else if (!failure && hasFailure) {
    conditions = conditions.filter((c) => c?.type !== "ReplicaFailure");
  }
  const status: Record<string, unknown> = {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: available,
    observedGeneration: rs.metadata.generation,
  };
  if (conditions.length) status.conditions = conditions;
  if (!jsonEqual(status, pickStatus(prev))) {
    try {
      const next: Record<string, unknown> = { ...prev, ...status };
      if (!conditions.length) delete next.conditions;
      await ctx.api.updateStatus(flavor.resource, { ...rs, status: next });
    } catch (e) {
      if (isNotFound(e)) return;
      if (isConflict(e)) return { requeueAfterMs: 50, ...(acted ? { acted } : {}) };
      throw e;
    }
  }
  const waits: number[] = [];
  if (nextAvailable !== undefined) waits.push(nextAvailable - now + 1);
  if (retryFailure) waits.push(5_000); // creates/deletes failed: try again later
  if (waits.length) return { requeueAfterMs: Math.max(1, Math.min(...waits)), ...(acted ? { acted } : {}) };
  if (acted) return { acted };
};

/** The longest pause between two runs of one ReplicaSet (rerunDelayMs). */
export const MAX_RERUN_DELAY_MS = 2_000;

/** The status fields this controller writes (for change detection). */
const pickStatus = (s: any): Record<string, unknown> => {
  const out: Record<string, unknown> = {
    replicas: s.replicas,
    fullyLabeledReplicas: s.fullyLabeledReplicas,
    readyReplicas: s.readyReplicas,
    availableReplicas: s.availableReplicas,
    observedGeneration: s.observedGeneration,
  };
  if (Array.isArray(s.conditions) && s.conditions.length) out.conditions = s.conditions;
  return out;
};

const flavorController = (flavor: Flavor): Controller => ({
  name: flavor.name,
  primary: [flavor.resource],
  reconcile: (key, ctx) => syncReplicas(flavor, key, ctx),
  /**
   * Each run reads all of its pods (twice: by owner and by selector); each of their
   * status writes (Pending → Running → Ready, from every node) delivers the ReplicaSet
   * again. A ReplicaSet delivered while it runs goes again after twice that run's
   * time (at most 2 s), so the changes of those seconds are one more run, not a run
   * after every one: at 10,000 pods, back-to-back reruns re-read its 1,000 pods after
   * every few status writes. While it creates or deletes pods it goes again at once
   * (scale-up is not slowed: each run makes at most BURST_REPLICAS). Its status lags by
   * at most that pause, as a kube-controller-manager's lags behind its informers.
   */
  rerunDelayMs: (lastRunMs, result) => (result?.acted ? 0 : Math.min(MAX_RERUN_DELAY_MS, 2 * lastRunMs)),
  async resync(ctx) {
    // minReadySeconds waits and failed creates are requeued by the reconcile itself; this sweep catches lost messages
    const all = await ctx.api.list(flavor.resource);
    return all
      .filter(
        (o) =>
          !o.metadata.deletionTimestamp &&
          ((o.status?.replicas ?? 0) !== (o.spec?.replicas ?? 1) ||
            (o.status?.availableReplicas ?? 0) !== (o.status?.replicas ?? 0) ||
            o.status?.observedGeneration !== o.metadata.generation ||
            (o.status?.conditions ?? []).some((c: any) => c?.type === "ReplicaFailure")),
      )
      .map((o): ObjectKey => ({ resource: flavor.resource, namespace: o.metadata.namespace ?? "", name: o.metadata.name! }));
  },
});

/** apps/v1 ReplicaSet: keeps `replicas` pods matching its LabelSelector. */
export const replicaSetController: Controller = flavorController({
  name: "replicaset",
  resource: "replicasets",
  selector: (o) => selectorFromLabelSelector(o.spec?.selector),
});

/** v1 ReplicationController: the same with a map selector. */
export const replicationControllerController: Controller = flavorController({
  name: "replicationcontroller",
  resource: "replicationcontrollers",
  selector: (o) => selectorFromMap(o.spec?.selector),
});
