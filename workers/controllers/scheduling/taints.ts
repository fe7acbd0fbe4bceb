/** Taints and tolerations, with the semantics of k8s.io/api/core/v1 ToleratesTaint. */
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

export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

/** The effects a pod must tolerate to be placed on a node. */
export const DO_NOT_SCHEDULE = ["NoSchedule", "NoExecute"];

/**
 * Does `t` tolerate `taint`? An empty effect matches every effect, an empty key every
 * key (with operator Exists: tolerate everything); Exists ignores the value, Equal (the
 * default operator) compares it.
 */
export const tolerates = (t: Toleration, taint: Taint): boolean => {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator || "Equal";
  if (op === "Exists") return true;
  if (op === "Equal") return (t.value ?? "") === (taint.value ?? "");
  return false;
};

export const toleratesAny = (tolerations: Toleration[], taint: Taint): boolean => {
  for (const t of tolerations) if (tolerates(t, taint)) return true;
  return false;
};

/** The first taint with one of `effects` that no toleration tolerates (v1helper.FindMatchingUntoleratedTaint), or null. */
export const findUntoleratedTaint = (taints: Taint[], tolerations: Toleration[], effects: string[] = DO_NOT_SCHEDULE): Taint | null => {
  for (const taint of taints) {
    if (effects.includes(taint.effect) && !toleratesAny(tolerations, taint)) return taint;
  }
  return null;
};

/** How many PreferNoSchedule taints the pod does not tolerate (tolerations with that effect or none count). */
export const countIntolerablePreferNoSchedule = (taints: Taint[], tolerations: Toleration[]): number => {
  let n = 0;
  let relevant: Toleration[] | undefined;
  for (const taint of taints) {
    if (taint.effect !== "PreferNoSchedule") continue;
    relevant ??= tolerations.filter((t) => !t.effect || t.effect === "PreferNoSchedule");
    if (!toleratesAny(relevant, taint)) n++;
  }
  return n;
};

/** Does the pod tolerate the taint a cordoned node implies (node.kubernetes.io/unschedulable:NoSchedule)? */
export const toleratesUnschedulable = (tolerations: Toleration[]): boolean => toleratesAny(tolerations, { key: TAINT_UNSCHEDULABLE, effect: "NoSchedule" });

/** The node's Ready condition status: "True", "False" or "Unknown" (no condition counts as Unknown). */
export const readyStatus = (node: KObject): string => (node.status?.conditions ?? []).find((c: any) => c?.type === "Ready")?.status ?? "Unknown";

export const isNodeReady = (node: KObject): boolean => readyStatus(node) === "True";

/**
 * The taints the scheduler sees on a node: its spec.taints, plus the NoSchedule taint the
 * node lifecycle controller puts on a node that is not Ready (not-ready for Ready=False,
 * unreachable for Unknown) when it has not done so yet: kube-scheduler itself only looks
 * at taints, so a NotReady node is refused with the same words either way.
 */
export const nodeTaints = (node: KObject): Taint[] => {
  const taints: Taint[] = Array.isArray(node.spec?.taints) ? node.spec.taints.filter((t: any) => t && typeof t.key === "string") : [];
  const status = readyStatus(node);
  if (status === "True") return taints;
  const key = status === "False" ? TAINT_NOT_READY : TAINT_UNREACHABLE;
  if (taints.some((t) => (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE) && t.effect === "NoSchedule")) return taints;
  return [...taints, { key, effect: "NoSchedule" }];
};

/** How kube-scheduler names an untolerated taint: `{key: value}`. */
export const formatTaint = (t: Taint): string => `{${t.key}: ${t.value ?? ""}}`;
