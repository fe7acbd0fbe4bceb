import type { KObject } from "../../shared/types";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";
import { pool } from "./manager";
import { placePods } from "./scheduling/place";

const SCHEDULER = "default-scheduler";
const ts = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");

const pending = (p: KObject) =>
  !p.spec?.nodeName && !p.metadata.deletionTimestamp && (p.spec?.schedulerName ?? SCHEDULER) === SCHEDULER && !["Succeeded", "Failed"].includes(p.status?.phase);

const scheduledCondition = (pod: KObject) => (pod.status?.conditions ?? []).find((c: any) => c.type === "PodScheduled");

/** Set the PodScheduled condition (status subresource, compare-and-swap); false when nothing changed. */
const setScheduled = async (ctx: ControllerContext, pod: KObject, status: "True" | "False", reason?: string, message?: string): Promise<boolean> => {
  const prev = scheduledCondition(pod);
  if (prev && prev.status === status && (prev.reason ?? undefined) === reason && (prev.message ?? undefined) === message) return false;
  const cond: Record<string, unknown> = { type: "PodScheduled", status, lastProbeTime: null, lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : ts(ctx.now()) };
  if (reason) cond.reason = reason;
  if (message) cond.message = message;
  const conditions = [...(pod.status?.conditions ?? []).filter((c: any) => c.type !== "PodScheduled"), cond];
  await ctx.api.updateStatus("pods", { ...pod, status: { ...pod.status, conditions } });
  return true;
};

/** Bind with compare-and-swap on the pod's resourceVersion, as the pods/binding subresource does. */
const bind = async (ctx: ControllerContext, pod: KObject, node: string): Promise<void> => {
  try {
    const bound = await ctx.api.update("pods", { ...pod, spec: { ...pod.spec, nodeName: node } });
    try {
      await setScheduled(ctx, bound, "True");
    } catch (e) {
      if (!isConflict(e)) throw e; // the node's agent wrote status first; it reports the condition too
    }
    await ctx.events.record(bound, "Normal", "Scheduled", `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`);
  } catch (e) {
    // someone else changed or deleted the pod since our read: the next pass looks again
    if (isConflict(e) || isNotFound(e)) return;
    throw e;
  }
};

/**
 * The scheduler: one pass reads every pending pod, the nodes and the pods already
 * bound (three lists), places the whole backlog in memory, then writes the bindings.
 * Any pod or node key triggers a pass; unschedulable pods are retried when nodes
 * change and on every resync.
 */
export const scheduler: Controller = {
  name: "scheduler",
  resources: ["pods", "nodes"],

  async reconcileBatch(keys, ctx): Promise<ReconcileResult> {
    // a pod key only matters if that pod might be pending; node keys always trigger a pass
    const podKeys = keys.filter((k) => k.resource === "pods");
    if (podKeys.length === keys.length) {
      const maybe = await Promise.all(podKeys.slice(0, 20).map((k) => ctx.api.get("pods", k.namespace, k.name)));
      // pending pods, and pods that freed room (gone or finished), are worth a pass
      const worth = maybe.some((p) => !p || pending(p) || ["Succeeded", "Failed"].includes(p.status?.phase) || !!p.metadata.deletionTimestamp);
      if (podKeys.length <= 20 && !worth) return;
    }
    return schedulePass(ctx);
  },

  async resync(ctx) {
    const waiting = (await ctx.api.list("pods", "", { fieldSelector: "spec.nodeName=" })).filter(pending);
    return waiting.slice(0, 1).map((p) => ({ resource: "pods", namespace: p.metadata.namespace ?? "", name: p.metadata.name! }));
  },
};

export const schedulePass = async (ctx: ControllerContext): Promise<ReconcileResult> => {
  const pods = (await ctx.api.list("pods", "", { fieldSelector: "spec.nodeName=" })).filter(pending);
  if (!pods.length) return;
  const [nodes, bound] = await Promise.all([
    ctx.api.list("nodes"),
    ctx.api.list("pods", "", { fieldSelector: "spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed" }),
  ]);
  const { bindings, failures } = placePods(pods, nodes, bound);
  await pool(bindings, 16, ({ pod, node }) => bind(ctx, pod, node));
  await pool(failures, 16, async ({ pod, message }) => {
    try {
      if (await setScheduled(ctx, pod, "False", "Unschedulable", message)) {
        await ctx.events.record(pod, "Warning", "FailedScheduling", message);
      }
    } catch (e) {
      if (!isConflict(e) && !isNotFound(e)) throw e;
    }
  });
};
