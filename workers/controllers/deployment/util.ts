/**
 * Deployment utilities, after Kubernetes' pkg/controller/deployment/util/deployment_util.go:
 * annotation and condition names, template identity and the pod-template-hash, the
 * rollout arithmetic (maxSurge, maxUnavailable), ReplicaSet ordering, and conditions.
 */
import { defaultPodSpec } from "../../../shared/defaults";
import { fnv1a } from "../../../shared/hash";
import type { KObject } from "../../../shared/types";
import { rfc3339 } from "../../../shared/time";

export const HASH_LABEL = "pod-template-hash";
export const REVISION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
export const DESIRED = "deployment.kubernetes.io/desired-replicas";
export const MAX = "deployment.kubernetes.io/max-replicas";
export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
export const ROLLBACK_TO = "deprecated.deployment.rollback.to";
/** Deployment annotations not copied to its ReplicaSets (everything else is, e.g. kubernetes.io/change-cause). */
export const SKIP_COPY = new Set([LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED, MAX, ROLLBACK_TO]);
export const MAX_REV_HISTORY_CHARS = 2000;
export const MAX_INT32 = 2147483647;

// condition reasons (deploymentutil)
export const NEW_RS_CREATED = "NewReplicaSetCreated";
export const FOUND_NEW_RS = "FoundNewReplicaSet";
export const RS_UPDATED = "ReplicaSetUpdated";
export const NEW_RS_AVAILABLE = "NewReplicaSetAvailable";
export const TIMED_OUT = "ProgressDeadlineExceeded";
export const PAUSED = "DeploymentPaused";
export const RESUMED = "DeploymentResumed";
export const FAILED_RS_CREATE = "ReplicaSetCreateError";

export const ts = rfc3339;

// ---------------------------------------------------------------- template identity

/** Canonical form: sorted keys, no nulls, no empty objects or lists. */
const canonical = (v: unknown): unknown => {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) {
    const items = v.map(canonical).filter((x) => x !== undefined);
    return items.length ? items : undefined;
  }
  if (typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    const x = canonical((v as Record<string, unknown>)[k]);
    if (x !== undefined) out[k] = x;
  }
  return Object.keys(out).length ? out : undefined;
};

/**
 * A pod template as compared and hashed: defaulted like the API server would, without
 * the pod-template-hash label, nulls and empty values (`kubectl rollout undo` sends the
 * old ReplicaSet's template with `creationTimestamp: null` and `resources: {}`).
 */
const normalTemplate = (template: unknown): string => {
  const t: any = structuredClone(template ?? {});
  if (t && typeof t === "object") {
    if (t.metadata?.labels && typeof t.metadata.labels === "object") delete t.metadata.labels[HASH_LABEL];
    if (t.spec && typeof t.spec === "object") defaultPodSpec(t.spec);
  }
  return JSON.stringify(canonical(t) ?? {});
};

/** Are two pod templates the same (Kubernetes' EqualIgnoreHash, made tolerant of nulls and empty values)? */
export const sameTemplate = (a: unknown, b: unknown): boolean => normalTemplate(a) === normalTemplate(b);

const SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

/**
 * The pod-template-hash: FNV-32a over the normalized template (plus the collision
 * count, as Kubernetes' ComputeHash), its decimal digits mapped through Kubernetes'
 * SafeEncodeString alphabet (no vowels, no 0/1/3), e.g. "5d8f7c9b6".
 */
export const templateHash = (template: unknown, collisionCount?: number): string => {
  const bytes = [...new TextEncoder().encode(normalTemplate(template))];
  if (collisionCount !== undefined && collisionCount !== null) {
    const c = collisionCount >>> 0;
    bytes.push(c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, (c >>> 24) & 0xff, 0, 0, 0, 0);
  }
  return [...String(fnv1a(bytes))].map((c) => SAFE_ALPHANUMS[c.charCodeAt(0) % SAFE_ALPHANUMS.length]).join("");
};

// ---------------------------------------------------------------- numbers (deploymentutil)

export const isRollingUpdate = (d: KObject) => (d.spec?.strategy?.type ?? "RollingUpdate") === "RollingUpdate";
export const replicasOf = (d: KObject): number => (typeof d.spec?.replicas === "number" ? d.spec.replicas : 1);
export const specReplicas = (rs: KObject | undefined): number => (rs && typeof rs.spec?.replicas === "number" ? rs.spec.replicas : 0);
export const sum = (xs: (KObject | undefined)[], f: (x: KObject) => number) => xs.reduce((n, x) => n + (x ? f(x) : 0), 0);

/** An int-or-percent of `total` (percentages round up for surge, down for unavailability). */
export const scaledValue = (v: unknown, total: number, roundUp: boolean): number => {
  if (typeof v === "number") return v;
  const s = String(v ?? "").trim();
  const m = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (m) return (roundUp ? Math.ceil : Math.floor)((Number(m[1]) * total) / 100);
  const n = Number(s);
  return Number.isFinite(n) ? n : 0;
};

/** maxSurge and maxUnavailable as pod counts (Kubernetes' ResolveFenceposts). */
export const resolveFenceposts = (d: KObject): { surge: number; unavailable: number } => {
  const replicas = replicasOf(d);
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const surge = Math.max(0, scaledValue(ru.maxSurge ?? "25%", replicas, true));
  let unavailable = Math.max(0, scaledValue(ru.maxUnavailable ?? "25%", replicas, false));
  // both 0 would block the rollout (validation rejects it); Kubernetes falls back to 1 unavailable
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
};

export const maxSurge = (d: KObject): number => (isRollingUpdate(d) ? resolveFenceposts(d).surge : 0);
export const maxUnavailable = (d: KObject): number => {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, replicas);
};

export const revisionOf = (rs: KObject): number => {
  const n = Number(rs.metadata.annotations?.[REVISION]);
  return Number.isInteger(n) && n > 0 ? n : 0;
};
const created = (o: KObject) => Date.parse(o.metadata.creationTimestamp ?? "") || 0;
/** ReplicaSetsByCreationTimestamp: older first, then by name. */
export const byCreation = (a: KObject, b: KObject) =>
  created(a) - created(b) || (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0);
export const byRevision = (a: KObject, b: KObject) => revisionOf(a) - revisionOf(b) || byCreation(a, b);
/** Go's math.Round: halves away from zero. */
export const roundAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

export const hasProgressDeadline = (d: KObject) => typeof d.spec?.progressDeadlineSeconds === "number" && d.spec.progressDeadlineSeconds !== MAX_INT32;
export const hasRevisionHistoryLimit = (d: KObject) => typeof d.spec?.revisionHistoryLimit === "number" && d.spec.revisionHistoryLimit !== MAX_INT32;
export const isActive = (rs: KObject | undefined): rs is KObject => !!rs && specReplicas(rs) > 0;

/** Every new replica is updated, there are no old ones, all are available, and the status is current. */
export const deploymentComplete = (d: KObject, s: any): boolean => {
  const r = replicasOf(d);
  return (
    (s?.updatedReplicas ?? 0) === r &&
    (s?.replicas ?? 0) === r &&
    (s?.availableReplicas ?? 0) === r &&
    (s?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
};

/** Did the rollout move since `old`? (more updated, fewer old, more ready or available replicas) */
export const deploymentProgressing = (old: any, next: any): boolean => {
  const n = (s: any, k: string) => s?.[k] ?? 0;
  return (
    n(next, "updatedReplicas") > n(old, "updatedReplicas") ||
    n(next, "replicas") - n(next, "updatedReplicas") < n(old, "replicas") - n(old, "updatedReplicas") ||
    n(next, "readyReplicas") > n(old, "readyReplicas") ||
    n(next, "availableReplicas") > n(old, "availableReplicas")
  );
};

// ---------------------------------------------------------------- conditions

export interface Condition {
  type: string;
  status: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export const getCondition = (s: any, type: string): Condition | undefined =>
  (Array.isArray(s?.conditions) ? s.conditions : []).find((c: any) => c?.type === type);

/** Kubernetes' SetDeploymentCondition: no change for the same status and reason; lastTransitionTime kept for the same status. */
export const setCondition = (s: any, c: Condition): void => {
  const cur = getCondition(s, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  const next = { ...c };
  if (cur && cur.status === c.status) next.lastTransitionTime = cur.lastTransitionTime;
  s.conditions = [...(s.conditions ?? []).filter((x: any) => x?.type !== c.type), next];
};

export const removeCondition = (s: any, type: string): void => {
  if (Array.isArray(s.conditions)) s.conditions = s.conditions.filter((x: any) => x?.type !== type);
};

// ---------------------------------------------------------------- replica annotations

export const setReplicasAnnotations = (rs: KObject, desired: number, max: number): boolean => {
  const ann = (rs.metadata.annotations ??= {});
  let changed = false;
  if (ann[DESIRED] !== String(desired)) {
    ann[DESIRED] = String(desired);
    changed = true;
  }
  if (ann[MAX] !== String(max)) {
    ann[MAX] = String(max);
    changed = true;
  }
  return changed;
};

export const replicasAnnotationsNeedUpdate = (rs: KObject, desired: number, max: number) =>
  rs.metadata.annotations?.[DESIRED] !== String(desired) || rs.metadata.annotations?.[MAX] !== String(max);

/** available replicas of a ReplicaSet, never more than it is sized for (its status may lag a scale-down) */
export const availableOf = (rs: KObject) => Math.min(rs.status?.availableReplicas ?? 0, specReplicas(rs));
