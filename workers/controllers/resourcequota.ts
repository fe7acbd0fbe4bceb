/**
 * The resource quota controller (kube-controller-manager's): keeps each ResourceQuota's
 * status: `hard` is spec.hard, `used` what the namespace's objects use of it, counted
 * from what exists (admission/usage.ts, the evaluators the admission charges with). It
 * is what frees quota (a deleted pod, a pod that finished) and what repairs drift (a
 * charge whose object was never written).
 *
 * Triggers (no per-object polling): a quota's creation or spec change; deletions of the
 * objects quotas count; a pod's end (terminal phase, deletion started: it stops counting
 * once its grace period is over, when this comes back); a Service's type or ports; a
 * claim's size. Creations need nothing: the admission charged them. The resync (every 5
 * minutes) recomputes every quota, for everything else.
 *
 * A usage the admission charged less than CHARGE_GRACE_MS ago is not lowered (its object
 * may still be on its way to the store: lowering it would let another create through);
 * the controller comes back when the grace is over.
 */
import { jsonEqual } from "../../shared/json";
import { milliExact } from "../../shared/quantity";
import type { KObject, ObjectKey } from "../../shared/types";
import { CHARGE_GRACE_MS, CHARGED_AT, calculateUsage } from "../registry/admission/quota";
import { canonicalList, mask, podCounts, podStopsCountingAt, type ResourceList, sameUsage } from "../registry/admission/usage";
import { servedResources } from "../registry/kinds";
import { isConflict } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller, Watch } from "./manager";

const RESOURCE = "resourcequotas";

/** Resources whose deletions free quota (the object counts quotas name most; others wait for the resync). */
const COUNTED = [
  "pods",
  "services",
  "persistentvolumeclaims",
  "configmaps",
  "secrets",
  "replicationcontrollers",
  "resourcequotas",
  "deployments",
  "replicasets",
  "statefulsets",
  "daemonsets",
  "jobs",
  "cronjobs",
];

const list = (v: unknown): ResourceList => (v && typeof v === "object" && !Array.isArray(v) ? (v as ResourceList) : {});

/** Every quota of the namespaces the keys are in. */
const quotasOf = async (keys: ObjectKey[], ctx: ControllerContext): Promise<ObjectKey[]> => {
  const out: ObjectKey[] = [];
  for (const ns of new Set(keys.map((k) => k.namespace))) {
    if (!ns) continue;
    for (const q of await ctx.api.list(RESOURCE, ns)) out.push({ resource: RESOURCE, namespace: ns, name: q.metadata.name! });
  }
  return out;
};

const TERMINAL = new Set(["Succeeded", "Failed"]);

/** Which writes can change what a quota uses (creations were charged by the admission). */
const wanted = (key: ObjectKey, obj: KObject, old: KObject | undefined, deleted: boolean): boolean => {
  if (deleted) return true;
  if (!old) return key.resource === RESOURCE;
  switch (key.resource) {
    case RESOURCE:
      return !jsonEqual(obj.spec ?? null, old.spec ?? null);
    case "pods":
      return (
        (TERMINAL.has(obj.status?.phase) && !TERMINAL.has(old.status?.phase)) ||
        (!!obj.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) ||
        !jsonEqual(
          (obj.spec?.containers ?? []).map((c: any) => c?.resources ?? null),
          (old.spec?.containers ?? []).map((c: any) => c?.resources ?? null),
        )
      );
    case "services":
      return obj.spec?.type !== old.spec?.type || !jsonEqual(obj.spec?.ports ?? null, old.spec?.ports ?? null);
    case "persistentvolumeclaims":
      return (
        !jsonEqual(obj.spec?.resources?.requests ?? null, old.spec?.resources?.requests ?? null) ||
        !jsonEqual(obj.status?.allocatedResources ?? null, old.status?.allocatedResources ?? null)
      );
    default:
      return false;
  }
};

export async function syncQuota(key: ObjectKey, ctx: ControllerContext): Promise<ReconcileResult> {
  const quota = await ctx.api.get(RESOURCE, key.namespace, key.name);
  if (!quota || quota.metadata.deletionTimestamp) return;
  const now = ctx.now();
  const hard = canonicalList(list(quota.spec?.hard));
  let comeBack = Number.POSITIVE_INFINITY;
  const computed = await calculateUsage(quota, hard, now, async (resource, group) => {
    const info = servedResources().find((r) => r.resource === resource && r.group === group);
    if (!info?.namespaced) return [];
    const objs = await ctx.api.list(resource, key.namespace);
    if (resource === "pods" && group === "") {
      // a pod being deleted stops counting when its grace period is over: look again then
      for (const p of objs) {
        const at = podStopsCountingAt(p);
        if (at !== undefined && podCounts(p, now)) comeBack = Math.min(comeBack, at - now.getTime() + 1);
      }
    }
    return objs;
  });
  const used = list(quota.status?.used);
  let next = computed;
  // a fresh charge's object may not be stored yet: keep what was charged for now
  const chargedAt = Date.parse(quota.metadata.annotations?.[CHARGED_AT] ?? "");
  const fresh = Number.isFinite(chargedAt) ? chargedAt + CHARGE_GRACE_MS - now.getTime() : 0;
  if (fresh > 0) {
    const keep = Object.keys(computed).filter((k) => k in used && lessThan(computed[k], used[k]));
    if (keep.length) {
      next = { ...computed, ...mask(used, keep) };
      comeBack = Math.min(comeBack, fresh + 1);
    }
  }
  const result = Number.isFinite(comeBack) ? { requeueAfterMs: Math.max(1, comeBack) } : undefined;
  if (sameUsage(next, used) && sameUsage(hard, list(quota.status?.hard))) return result;
  try {
    await ctx.api.updateStatus(RESOURCE, { ...quota, status: { ...quota.status, hard, used: next } });
  } catch (e) {
    // charged (or changed) meanwhile: count again
    if (isConflict(e)) return { requeueAfterMs: 1 };
    throw e;
  }
  return result;
}

/** a < b as quantities (false when either is not one). */
const lessThan = (a: string, b: string): boolean => {
  try {
    return milliExact(a) < milliExact(b);
  } catch {
    return false;
  }
};

const watches: Watch[] = COUNTED.map((resource) => ({ resource, mapAll: quotasOf }));

export const resourceQuotaController: Controller = {
  name: "resourcequota",
  primary: [RESOURCE],
  watches,
  wants: ({ key, obj, old, deleted }) => wanted(key, obj, old, deleted),
  reconcile: syncQuota,
  resync: async (ctx) => (await ctx.api.list(RESOURCE)).map((q) => ({ resource: RESOURCE, namespace: q.metadata.namespace ?? "", name: q.metadata.name! })),
};
