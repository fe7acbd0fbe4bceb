import { ApiError } from "../../shared/status";
import type { KObject, ObjectKey } from "../../shared/types";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";
import { pool } from "./manager";
import { usesNamespaceSelector } from "./scheduling/affinity";
import { type Binding, placePods } from "./scheduling/place";
import { podHasClaims, reservedVolume, selectedClaim, VolumeBinder } from "./scheduling/volumebinding";
import { rfc3339 } from "../../shared/time";

export const DEFAULT_SCHEDULER = "default-scheduler";
/** bindings (and status writes) in flight at once */
export const BIND_CONCURRENCY = 16;
/** a batch of only non-pending pod keys is looked at one by one up to this many (did one free room?); more always run a pass */
const MAX_KEY_LOOKUPS = 20;

const GATED_MESSAGE = "Scheduling is blocked due to non-empty scheduling gates";

const ts = rfc3339;
const keyOf = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ""}/${name ?? ""}`;
const phaseDone = (p: KObject) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";

/** A pod this scheduler should place: unbound, not being deleted, not finished, and ours (spec.schedulerName). */
export const isPending = (p: KObject): boolean =>
  !p.spec?.nodeName && !p.metadata.deletionTimestamp && (p.spec?.schedulerName || DEFAULT_SCHEDULER) === DEFAULT_SCHEDULER && !phaseDone(p);

const isGated = (p: KObject) => Array.isArray(p.spec?.schedulingGates) && p.spec.schedulingGates.length > 0;

const listPending = async (ctx: ControllerContext): Promise<KObject[]> =>
  (await ctx.api.list("pods", "", { fieldSelector: "spec.nodeName=" })).filter(isPending);

/** Client errors other than a lost race are the pod's problem, not the pass's: logged and skipped. */
const skippable = (e: unknown) => isConflict(e) || isNotFound(e) || (e instanceof ApiError && e.code >= 400 && e.code < 500);

const podScheduled = (pod: KObject) => (pod.status?.conditions ?? []).find((c: any) => c?.type === "PodScheduled");

/**
 * Set PodScheduled=False (reason, message) unless it already says exactly that: every
 * write enqueues the pod again, so an unchanged verdict must not write. Compare-and-swap
 * on the resourceVersion the pass read: if the pod changed since, the next pass decides.
 * True when written.
 */
/** The pod says PodScheduled=False for this reason and message already. */
const unscheduledAlready = (pod: KObject, reason: string, message: string) => {
  const prev = podScheduled(pod);
  return !!prev && prev.status === "False" && prev.reason === reason && prev.message === message;
};

const markUnscheduled = async (ctx: ControllerContext, pod: KObject, reason: string, message: string): Promise<boolean> => {
  const prev = podScheduled(pod);
  if (unscheduledAlready(pod, reason, message)) return false;
  const cond = {
    type: "PodScheduled",
    status: "False",
    lastProbeTime: null,
    lastTransitionTime: prev?.status === "False" && prev.lastTransitionTime ? prev.lastTransitionTime : ts(ctx.now()),
    reason,
    message,
  };
  const m = pod.metadata;
  await ctx.api.patch(
    "pods",
    m.namespace ?? "",
    m.name!,
    "strategic",
    { metadata: { resourceVersion: m.resourceVersion }, status: { conditions: [cond] } },
    "status",
  );
  return true;
};

const unschedulable = async (ctx: ControllerContext, pod: KObject, message: string): Promise<void> => {
  try {
    if (await markUnscheduled(ctx, pod, "Unschedulable", message)) {
      await ctx.events.record(pod, "Warning", "FailedScheduling", message);
    }
  } catch (e) {
    if (!skippable(e)) throw e;
  }
};

/**
 * Bind as the pods/binding subresource does, with compare-and-swap: spec.nodeName goes
 * from unset to the node only if the pod is still the one the pass read (a concurrent
 * pass loses with 409 and leaves it), with PodScheduled=True in the same write. Then a Scheduled event.
 */
const bind = async (ctx: ControllerContext, pod: KObject, node: string, volumes?: Binding["volumes"]): Promise<void> => {
  const m = pod.metadata;
  const ns = m.namespace ?? "";
  // VolumeBinding's PreBind: reserve the volumes found and give claims to provision their node, as read in the pass
  if (volumes && !(await writeVolumes(ctx, volumes, node))) return;
  let bound: KObject;
  try {
    bound = await ctx.api.bind(ns, m.name!, node, m.resourceVersion);
  } catch (e) {
    if (!skippable(e)) throw e;
    if (!isConflict(e) && !isNotFound(e)) ctx.log(`scheduler: binding ${ns}/${m.name} to ${node} failed: ${(e as Error).message}`);
    return;
  }
  // the binding set PodScheduled=True in the same write (as kube-apiserver's does): the Scheduled event is left
  await ctx.events.record(bound, "Normal", "Scheduled", `Successfully assigned ${ns}/${m.name} to ${node}`);
};

/** The claims' writes for a placement; false when one lost a race (the next pass decides again). */
const writeVolumes = async (ctx: ControllerContext, v: NonNullable<Binding["volumes"]>, node: string): Promise<boolean> => {
  try {
    for (const r of v.reserve) await ctx.api.update("persistentvolumes", reservedVolume(r.pv, r.claim));
    for (const c of v.select) await ctx.api.update("persistentvolumeclaims", selectedClaim(c, node));
    return true;
  } catch (e) {
    if (!skippable(e)) throw e;
    return false;
  }
};

const podKey = (p: KObject): ObjectKey => ({ resource: "pods", namespace: p.metadata.namespace ?? "", name: p.metadata.name! });

/**
 * Is a batch worth a pass, given the pending pods? Keys of pending pods are (node
 * changes arrive as the keys of every pending pod: room or rules may have changed).
 * Keys of other pods (bindings, status updates) only when one freed room: deleted or
 * finished.
 */
const worthAPass = async (ctx: ControllerContext, keys: ObjectKey[], pending: KObject[]): Promise<boolean> => {
  const pendingKeys = new Set(pending.map((p) => keyOf(p.metadata.namespace, p.metadata.name)));
  const others = keys.filter((k) => !pendingKeys.has(keyOf(k.namespace, k.name)));
  if (others.length < keys.length) return true;
  if (others.length > MAX_KEY_LOOKUPS) return true;
  const pods = await Promise.all(others.map((k) => ctx.api.get("pods", k.namespace, k.name)));
  return pods.some((p) => !p || phaseDone(p));
};

/**
 * One scheduling pass over the given pending pods: three lists (nodes, bound pods, and
 * namespaces only when an affinity term selects namespaces by label), the whole backlog
 * placed in memory, then the bindings and verdicts written BIND_CONCURRENCY at a time.
 */
export const schedulePass = async (ctx: ControllerContext, pending?: KObject[]): Promise<ReconcileResult> => {
  const all = pending ?? (await listPending(ctx));
  if (!all.length) return;
  const gated = all.filter(isGated);
  const pods = gated.length ? all.filter((p) => !isGated(p)) : all;
  await pool(gated, BIND_CONCURRENCY, async (p) => {
    try {
      await markUnscheduled(ctx, p, "SchedulingGated", GATED_MESSAGE);
    } catch (e) {
      if (!skippable(e)) throw e;
    }
  });
  if (!pods.length) return;
  const [nodes, bound] = await Promise.all([
    ctx.api.list("nodes"),
    ctx.api.list("pods", "", { fieldSelector: "spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed" }),
  ]);
  const namespaces = pods.some(usesNamespaceSelector) || bound.some(usesNamespaceSelector) ? await ctx.api.list("namespaces") : [];
  // claims, volumes and classes only when a pending pod mounts a claim
  const volumes = pods.some(podHasClaims)
    ? new VolumeBinder(...(await Promise.all([ctx.api.list("persistentvolumeclaims"), ctx.api.list("persistentvolumes"), ctx.api.list("storageclasses")])))
    : undefined;
  const started = performance.now();
  const { bindings, failures } = placePods(pods, nodes, bound, { namespaces, volumes });
  // a pod's attempt: the pass's placement and its own write (kube-scheduler: algorithm and binding)
  const attempt = (result: "scheduled" | "unschedulable", write: () => Promise<void>) => async () => {
    try {
      await write();
      ctx.schedulingAttempt?.(result, (performance.now() - started) / 1000);
    } catch (e) {
      ctx.schedulingAttempt?.("error", (performance.now() - started) / 1000);
      throw e;
    }
  };
  // a pod that stays unschedulable for the same reason is an attempt but no write: it
  // neither spends the pass's budget nor asks for another pass (which would then never end)
  const verdicts = failures.filter((f) => !unscheduledAlready(f.pod, "Unschedulable", f.message));
  for (let i = verdicts.length; i < failures.length; i++) ctx.schedulingAttempt?.("unschedulable", (performance.now() - started) / 1000);
  const writes: (() => Promise<void>)[] = [
    ...bindings.map((b) => attempt("scheduled", () => bind(ctx, b.pod, b.node, b.volumes))),
    ...verdicts.map((f) => attempt("unschedulable", () => unschedulable(ctx, f.pod, f.message))),
  ];
  // bindings first; past the per-pass budget the next pass (fresh reads) takes over at once
  const budget = ctx.config.maxSchedulingWritesPerPass;
  await pool(writes.slice(0, budget), BIND_CONCURRENCY, (w) => w());
  if (writes.length > budget) return { requeueAfterMs: 0 };
};

/**
 * The scheduler. Any batch of pod keys may start a pass, which reads every pending
 * pod, the nodes and the bound pods (one list each, whatever the backlog), places the
 * whole backlog in memory and writes the bindings. Unschedulable pods keep
 * PodScheduled=False with kube-scheduler's summary of why, and are retried when nodes
 * change (a node's key concerns every pending pod, as kube-scheduler moves its
 * unschedulable pods back to the active queue on node events), when a pod frees room,
 * and on every resync.
 */
export const scheduler: Controller = {
  name: "scheduler",
  // time-based work: at every resync pass
  resyncPeriodMs: 0,
  primary: ["pods"],
  watches: [
    { resource: "nodes", mapAll: async (_nodes, ctx) => (await listPending(ctx)).map(podKey) },
    // a claim bound or a volume freed may let a pod with claims go
    { resource: "persistentvolumeclaims", mapAll: async (_keys, ctx) => (await listPending(ctx)).filter(podHasClaims).map(podKey) },
    { resource: "persistentvolumes", mapAll: async (_keys, ctx) => (await listPending(ctx)).filter(podHasClaims).map(podKey) },
  ],
  wants: ({ key, obj, old, deleted }) =>
    key.resource === "persistentvolumeclaims"
      ? deleted || !old || old.status?.phase !== obj.status?.phase
      : key.resource === "persistentvolumes"
        ? !deleted && (!old || old.status?.phase !== obj.status?.phase)
        : true,

  async reconcileBatch(keys, ctx): Promise<ReconcileResult> {
    const pending = await listPending(ctx);
    if (!pending.length) return;
    if (!(await worthAPass(ctx, keys, pending))) return;
    return schedulePass(ctx, pending);
  },

  async resync(ctx) {
    const pending = (await listPending(ctx)).filter((p) => !isGated(p));
    return pending.slice(0, 1).map(podKey);
  },
};
