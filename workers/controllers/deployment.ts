/**
 * The Deployment controller, after Kubernetes' (pkg/controller/deployment): one
 * ReplicaSet per pod template, named `<deployment>-<pod-template-hash>`; revisions
 * and rollback by template; RollingUpdate within maxSurge/maxUnavailable, one step
 * per reconcile (the ReplicaSet writes re-enqueue the Deployment); Recreate; pause;
 * proportional scaling; revisionHistoryLimit; progressDeadlineSeconds; and the status
 * `kubectl rollout status` reads.
 *
 * Unlike Kubernetes, which writes the Deployment's status several times in one sync,
 * this one collects status changes and writes them once at the end (every write
 * re-enqueues the Deployment).
 */
import { defaultPodSpec } from "../../shared/defaults";
import { type LabelRequirement, formatLabelSelector, matchLabels, selectorFromLabelSelector } from "../../shared/selectors/labels";
import { ApiError } from "../../shared/status";
import type { KObject, ObjectKey, OwnerReference } from "../../shared/types";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";
import { casUpdate, controllerRef, exclusive, stableJson } from "./replicaset";

export const HASH_LABEL = "pod-template-hash";
export const REVISION = "deployment.kubernetes.io/revision";
const REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
const DESIRED = "deployment.kubernetes.io/desired-replicas";
const MAX = "deployment.kubernetes.io/max-replicas";
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const ROLLBACK_TO = "deprecated.deployment.rollback.to";
/** Deployment annotations not copied to its ReplicaSets (everything else is, e.g. kubernetes.io/change-cause). */
const SKIP_COPY = new Set([LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED, MAX, ROLLBACK_TO]);
const MAX_REV_HISTORY_CHARS = 2000;
const MAX_INT32 = 2147483647;

// condition reasons (deploymentutil)
const NEW_RS_CREATED = "NewReplicaSetCreated";
const FOUND_NEW_RS = "FoundNewReplicaSet";
const RS_UPDATED = "ReplicaSetUpdated";
const NEW_RS_AVAILABLE = "NewReplicaSetAvailable";
const TIMED_OUT = "ProgressDeadlineExceeded";
const PAUSED = "DeploymentPaused";
const RESUMED = "DeploymentResumed";
const FAILED_RS_CREATE = "ReplicaSetCreateError";

const ts = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");

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
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return [...String(h)].map((c) => SAFE_ALPHANUMS[c.charCodeAt(0) % SAFE_ALPHANUMS.length]).join("");
};

// ---------------------------------------------------------------- numbers (deploymentutil)

const isRollingUpdate = (d: KObject) => (d.spec?.strategy?.type ?? "RollingUpdate") === "RollingUpdate";
const replicasOf = (d: KObject): number => (typeof d.spec?.replicas === "number" ? d.spec.replicas : 1);
const specReplicas = (rs: KObject | undefined): number => (rs && typeof rs.spec?.replicas === "number" ? rs.spec.replicas : 0);
const sum = (xs: (KObject | undefined)[], f: (x: KObject) => number) => xs.reduce((n, x) => n + (x ? f(x) : 0), 0);

/** An int-or-percent of `total` (percentages round up for surge, down for unavailability). */
const scaledValue = (v: unknown, total: number, roundUp: boolean): number => {
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

const revisionOf = (rs: KObject): number => {
  const n = Number(rs.metadata.annotations?.[REVISION]);
  return Number.isInteger(n) && n > 0 ? n : 0;
};
const created = (o: KObject) => Date.parse(o.metadata.creationTimestamp ?? "") || 0;
/** ReplicaSetsByCreationTimestamp: older first, then by name. */
const byCreation = (a: KObject, b: KObject) => created(a) - created(b) || (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0);
const byRevision = (a: KObject, b: KObject) => revisionOf(a) - revisionOf(b) || byCreation(a, b);
/** Go's math.Round: halves away from zero. */
const roundAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

const hasProgressDeadline = (d: KObject) => typeof d.spec?.progressDeadlineSeconds === "number" && d.spec.progressDeadlineSeconds !== MAX_INT32;
const hasRevisionHistoryLimit = (d: KObject) => typeof d.spec?.revisionHistoryLimit === "number" && d.spec.revisionHistoryLimit !== MAX_INT32;
const isActive = (rs: KObject | undefined): rs is KObject => !!rs && specReplicas(rs) > 0;

/** Every new replica is updated, there are no old ones, all are available, and the status is current. */
export const deploymentComplete = (d: KObject, s: any): boolean => {
  const r = replicasOf(d);
  return (s?.updatedReplicas ?? 0) === r && (s?.replicas ?? 0) === r && (s?.availableReplicas ?? 0) === r && (s?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
};

/** Did the rollout move since `old`? (more updated, fewer old, more ready or available replicas) */
const deploymentProgressing = (old: any, next: any): boolean => {
  const n = (s: any, k: string) => s?.[k] ?? 0;
  return (
    n(next, "updatedReplicas") > n(old, "updatedReplicas") ||
    n(next, "replicas") - n(next, "updatedReplicas") < n(old, "replicas") - n(old, "updatedReplicas") ||
    n(next, "readyReplicas") > n(old, "readyReplicas") ||
    n(next, "availableReplicas") > n(old, "availableReplicas")
  );
};

// ---------------------------------------------------------------- conditions

interface Condition {
  type: string;
  status: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

const getCondition = (s: any, type: string): Condition | undefined => (Array.isArray(s?.conditions) ? s.conditions : []).find((c: any) => c?.type === type);

/** Kubernetes' SetDeploymentCondition: no change for the same status and reason; lastTransitionTime kept for the same status. */
const setCondition = (s: any, c: Condition): void => {
  const cur = getCondition(s, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  const next = { ...c };
  if (cur && cur.status === c.status) next.lastTransitionTime = cur.lastTransitionTime;
  s.conditions = [...(s.conditions ?? []).filter((x: any) => x?.type !== c.type), next];
};

const removeCondition = (s: any, type: string): void => {
  if (Array.isArray(s.conditions)) s.conditions = s.conditions.filter((x: any) => x?.type !== type);
};

// ---------------------------------------------------------------- annotations

/** Copy the Deployment's annotations (but the controller's own) onto a ReplicaSet. */
const copyAnnotations = (d: KObject, rs: KObject): boolean => {
  let changed = false;
  const ann = (rs.metadata.annotations ??= {});
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (SKIP_COPY.has(k) || ann[k] === v) continue;
    ann[k] = v;
    changed = true;
  }
  return changed;
};

const setReplicasAnnotations = (rs: KObject, desired: number, max: number): boolean => {
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

const replicasAnnotationsNeedUpdate = (rs: KObject, desired: number, max: number) =>
  rs.metadata.annotations?.[DESIRED] !== String(desired) || rs.metadata.annotations?.[MAX] !== String(max);

/** Kubernetes' SetNewReplicaSetAnnotations: copied annotations, revision (only ever raised, the old one kept in revision-history), replica counts when creating. */
const setNewReplicaSetAnnotations = (d: KObject, rs: KObject, newRevision: number, exists: boolean): boolean => {
  let changed = copyAnnotations(d, rs);
  const ann = (rs.metadata.annotations ??= {});
  const oldRaw = ann[REVISION];
  const old = oldRaw === undefined || oldRaw === "" ? 0 : Number(oldRaw);
  if (!Number.isInteger(old)) return changed;
  if (old < newRevision) {
    ann[REVISION] = String(newRevision);
    changed = true;
    if (oldRaw !== undefined && oldRaw !== "") {
      // rolled back to this ReplicaSet: remember the revisions it had
      const history = ann[REVISION_HISTORY] ? ann[REVISION_HISTORY].split(",") : [];
      history.push(oldRaw);
      while (history.join(",").length > MAX_REV_HISTORY_CHARS && history.length > 1) history.shift();
      ann[REVISION_HISTORY] = history.join(",");
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
};

// ---------------------------------------------------------------- one reconcile

class Conflict extends Error {}

class DeploymentSync {
  /** status as stored when the reconcile began (written back only if the result differs) */
  private readonly storedStatus: any;
  /** the status being built (conditions set along the way, as Kubernetes does on d.Status) */
  status: any;
  private readonly rs = new Map<string, KObject>();
  requeueMs: number | undefined;

  constructor(
    private readonly ctx: ControllerContext,
    public d: KObject,
    rsList: KObject[],
  ) {
    this.storedStatus = structuredClone(d.status ?? {});
    this.status = structuredClone(d.status ?? {});
    for (const r of rsList) this.rs.set(r.metadata.uid!, r);
  }

  private get ns() {
    return this.d.metadata.namespace ?? "";
  }
  private get all(): KObject[] {
    return [...this.rs.values()];
  }
  private fresh(rs: KObject): KObject {
    return this.rs.get(rs.metadata.uid!) ?? rs;
  }
  private now() {
    return ts(this.ctx.now());
  }
  private requeue(ms: number) {
    this.requeueMs = Math.max(1, Math.min(this.requeueMs ?? Infinity, ms));
  }

  private async writeRs(rs: KObject): Promise<KObject> {
    try {
      const out = await casUpdate(this.ctx, "replicasets", rs);
      this.rs.set(out.metadata.uid!, out);
      return out;
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) throw new Conflict((e as Error).message);
      throw e;
    }
  }

  /** The Deployment carries its newest revision (a metadata-only update: no generation bump). */
  private async setDeploymentRevision(revision: string | undefined): Promise<void> {
    if (!revision || this.d.metadata.annotations?.[REVISION] === revision) return;
    const next = structuredClone(this.d);
    next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [REVISION]: revision };
    try {
      this.d = await casUpdate(this.ctx, "deployments", next, ["metadata"]);
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) throw new Conflict((e as Error).message);
      throw e;
    }
  }

  // ---- new and old ReplicaSets (getAllReplicaSetsAndSyncRevision)

  async getAll(createIfNotExisted: boolean): Promise<{ newRS: KObject | undefined; olds: KObject[] }> {
    const d = this.d;
    const template = d.spec?.template ?? {};
    // the oldest of the ReplicaSets with this template (there should be one)
    let newRS = [...this.all].sort(byCreation).find((r) => sameTemplate(r.spec?.template, template));
    const olds = () => this.all.filter((r) => r.metadata.uid !== newRS?.metadata.uid);
    const newRevision = Math.max(0, ...olds().map(revisionOf)) + 1;

    if (newRS) {
      const copy = structuredClone(newRS);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReady = d.spec?.minReadySeconds ?? 0;
      if (annotationsUpdated || (copy.spec?.minReadySeconds ?? 0) !== minReady) {
        copy.spec = { ...copy.spec, minReadySeconds: minReady };
        newRS = await this.writeRs(copy);
      }
      await this.setDeploymentRevision(newRS.metadata.annotations?.[REVISION]);
      if (hasProgressDeadline(d) && !getCondition(this.status, "Progressing")) {
        setCondition(this.status, this.condition("Progressing", "True", FOUND_NEW_RS, `Found new replica set "${newRS.metadata.name}"`));
      }
      return { newRS, olds: olds() };
    }
    if (!createIfNotExisted) return { newRS: undefined, olds: olds() };

    // create it
    const collisionCount: number | undefined = typeof this.status.collisionCount === "number" ? this.status.collisionCount : undefined;
    const hash = templateHash(template, collisionCount);
    const labels = { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash };
    const selector = structuredClone(d.spec.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
    const ref: OwnerReference = { apiVersion: "apps/v1", kind: "Deployment", name: d.metadata.name!, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true };
    const name = `${d.metadata.name}-${hash}`;
    const body: KObject = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name, namespace: this.ns, ownerReferences: [ref], labels },
      spec: {
        replicas: 0,
        minReadySeconds: d.spec?.minReadySeconds ?? 0,
        selector,
        template: { ...structuredClone(template), metadata: { ...structuredClone(template.metadata ?? {}), labels } },
      },
    };
    const replicas = this.newRSNewReplicas([...olds(), body], body);
    body.spec.replicas = replicas;
    setNewReplicaSetAnnotations(d, body, newRevision, false);

    let createdRS: KObject;
    let alreadyExists = false;
    try {
      createdRS = await this.ctx.api.create("replicasets", this.ns, body);
    } catch (e) {
      if (e instanceof ApiError && e.reason === "AlreadyExists") {
        alreadyExists = true;
        const existing = await this.ctx.api.get("replicasets", this.ns, name);
        if (existing && controllerRef(existing)?.uid === d.metadata.uid && sameTemplate(existing.spec?.template, template)) {
          createdRS = existing; // ours: a concurrent reconcile made it
        } else {
          // a hash collision with someone else's ReplicaSet: hash again with the next collision count
          this.status.collisionCount = (collisionCount ?? 0) + 1;
          this.requeue(10);
          return { newRS: undefined, olds: olds() };
        }
      } else if (e instanceof ApiError && e.code === 403 && /being terminated/.test(e.message)) {
        return { newRS: undefined, olds: olds() }; // nothing can be created in a terminating namespace
      } else {
        const msg = `Failed to create new replica set "${name}": ${(e as Error).message}`;
        if (hasProgressDeadline(d)) setCondition(this.status, this.condition("Progressing", "False", FAILED_RS_CREATE, msg));
        await this.ctx.events.record(d, "Warning", FAILED_RS_CREATE, msg);
        this.requeue(5_000);
        return { newRS: undefined, olds: olds() };
      }
    }
    this.rs.set(createdRS.metadata.uid!, createdRS);
    newRS = createdRS;
    if (!alreadyExists && replicas > 0) {
      await this.ctx.events.record(d, "Normal", "ScalingReplicaSet", `Scaled up replica set ${createdRS.metadata.name} from 0 to ${replicas}`);
    }
    await this.setDeploymentRevision(createdRS.metadata.annotations?.[REVISION] ?? String(newRevision));
    if (!alreadyExists && hasProgressDeadline(d)) {
      setCondition(this.status, this.condition("Progressing", "True", NEW_RS_CREATED, `Created new replica set "${createdRS.metadata.name}"`));
    }
    return { newRS, olds: olds() };
  }

  private condition(type: string, status: string, reason: string, message: string): Condition {
    const now = this.now();
    return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
  }

  /** How big the new ReplicaSet may be now (NewRSNewReplicas). */
  private newRSNewReplicas(all: KObject[], newRS: KObject): number {
    const replicas = replicasOf(this.d);
    if (!isRollingUpdate(this.d)) return replicas;
    const maxTotal = replicas + maxSurge(this.d);
    const current = sum(all, specReplicas);
    if (current >= maxTotal) return specReplicas(newRS);
    return specReplicas(newRS) + Math.min(maxTotal - current, replicas - specReplicas(newRS));
  }

  // ---- scaling

  /** Set a ReplicaSet's size (and the replica annotations); an event when the size changed. */
  async scaleReplicaSet(rs: KObject, newScale: number, operation?: "up" | "down"): Promise<boolean> {
    rs = this.fresh(rs);
    const desired = replicasOf(this.d);
    const max = desired + maxSurge(this.d);
    const sizeNeedsUpdate = specReplicas(rs) !== newScale;
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
    const oldScale = specReplicas(rs);
    const copy = structuredClone(rs);
    copy.spec = { ...copy.spec, replicas: newScale };
    setReplicasAnnotations(copy, desired, max);
    const out = await this.writeRs(copy);
    if (!sizeNeedsUpdate) return false;
    const op = operation ?? (oldScale < newScale ? "up" : "down");
    await this.ctx.events.record(this.d, "Normal", "ScalingReplicaSet", `Scaled ${op} replica set ${out.metadata.name} from ${oldScale} to ${newScale}`);
    return true;
  }

  /** scaleReplicaSetAndRecordEvent: nothing when the size is already right. */
  scaleTo(rs: KObject, newScale: number): Promise<boolean> {
    if (specReplicas(this.fresh(rs)) === newScale) return Promise.resolve(false);
    return this.scaleReplicaSet(rs, newScale);
  }

  /** Has spec.replicas changed since the active ReplicaSets were sized? (isScalingEvent) */
  async isScalingEvent(): Promise<boolean> {
    const { newRS, olds } = await this.getAll(false);
    for (const rs of [...olds, newRS].filter(isActive)) {
      const desired = Number(this.fresh(rs).metadata.annotations?.[DESIRED]);
      if (!Number.isInteger(desired)) continue;
      if (desired !== replicasOf(this.d)) return true;
    }
    return false;
  }

  /**
   * Scale for a replicas change or while paused (Kubernetes' scale): one active
   * ReplicaSet takes all; a saturated new one retires the old ones; otherwise (rolling)
   * the change is spread over the active ReplicaSets in proportion to their sizes.
   */
  async scale(newRS: KObject | undefined, olds: KObject[]): Promise<void> {
    const d = this.d;
    const replicas = replicasOf(d);
    newRS = newRS && this.fresh(newRS);
    olds = olds.map((o) => this.fresh(o));
    const activeOrLatest = ((): KObject | undefined => {
      if (!newRS && !olds.length) return undefined;
      const sortedOlds = [...olds].sort(byCreation).reverse();
      const active = [...sortedOlds, newRS].filter(isActive);
      if (active.length === 0) return newRS ?? sortedOlds[0];
      if (active.length === 1) return active[0];
      return undefined;
    })();
    if (activeOrLatest) {
      if (specReplicas(activeOrLatest) !== replicas) await this.scaleTo(activeOrLatest, replicas);
      return;
    }
    if (newRS && this.isSaturated(newRS)) {
      for (const o of olds.filter(isActive)) await this.scaleTo(o, 0);
      return;
    }
    if (!isRollingUpdate(d)) return;
    const all = [...olds, newRS].filter(isActive);
    const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
    const toAdd = allowed - sum(all, specReplicas);
    let operation: "up" | "down" | undefined;
    if (toAdd > 0) {
      // larger first; among equals, newer first
      all.sort((a, b) => specReplicas(b) - specReplicas(a) || byCreation(b, a));
      operation = "up";
    } else if (toAdd < 0) {
      // larger first; among equals, older first
      all.sort((a, b) => specReplicas(b) - specReplicas(a) || byCreation(a, b));
      operation = "down";
    }
    let added = 0;
    const sizes = new Map<string, number>();
    for (const rs of all) {
      if (toAdd !== 0) {
        const p = this.proportion(rs, toAdd, added);
        sizes.set(rs.metadata.uid!, specReplicas(rs) + p);
        added += p;
      } else sizes.set(rs.metadata.uid!, specReplicas(rs));
    }
    for (let i = 0; i < all.length; i++) {
      const rs = all[i];
      let size = sizes.get(rs.metadata.uid!)!;
      // leftovers go to the largest ReplicaSet
      if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
      await this.scaleReplicaSet(rs, size, operation);
    }
  }

  /** GetProportion: this ReplicaSet's share of `toAdd`, bounded by what is left. */
  private proportion(rs: KObject, toAdd: number, added: number): number {
    if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
    const fraction = this.fraction(rs);
    const allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  /** getReplicaSetFraction: the size change that keeps this ReplicaSet's share of the new total. */
  private fraction(rs: KObject): number {
    const d = this.d;
    if (replicasOf(d) === 0) return -specReplicas(rs);
    const deploymentReplicas = replicasOf(d) + maxSurge(d);
    const annotated = Number(rs.metadata.annotations?.[MAX]);
    const base = Number.isInteger(annotated) ? annotated : (this.status.replicas ?? 0);
    if (!base) return 0;
    return roundAway((specReplicas(rs) * deploymentReplicas) / base) - specReplicas(rs);
  }

  private isSaturated(rs: KObject): boolean {
    const desired = Number(rs.metadata.annotations?.[DESIRED]);
    const r = replicasOf(this.d);
    return Number.isInteger(desired) && specReplicas(rs) === r && desired === r && (rs.status?.availableReplicas ?? 0) === r;
  }

  // ---- rolling update

  async rolloutRolling(): Promise<void> {
    const { newRS, olds } = await this.getAll(true);
    if (!newRS) return this.syncRolloutStatus(olds, undefined);
    if (await this.reconcileNewReplicaSet(newRS)) return this.syncRolloutStatus(olds, newRS);
    if (await this.reconcileOldReplicaSets(olds.filter((o) => isActive(this.fresh(o))), newRS)) return this.syncRolloutStatus(olds, newRS);
    if (deploymentComplete(this.d, this.storedStatus)) await this.cleanup(olds);
    return this.syncRolloutStatus(olds, newRS);
  }

  /** Scale the new ReplicaSet up within replicas + maxSurge (or down to replicas). */
  private async reconcileNewReplicaSet(newRS: KObject): Promise<boolean> {
    newRS = this.fresh(newRS);
    const replicas = replicasOf(this.d);
    if (specReplicas(newRS) === replicas) return false;
    if (specReplicas(newRS) > replicas) return this.scaleTo(newRS, replicas);
    return this.scaleTo(newRS, this.newRSNewReplicas(this.all, newRS));
  }

  /**
   * Scale old ReplicaSets down as far as keeping replicas - maxUnavailable available
   * allows: unhealthy old replicas first (they don't count as available anyway), then
   * available ones, oldest ReplicaSet first.
   */
  private async reconcileOldReplicaSets(activeOlds: KObject[], newRS: KObject): Promise<boolean> {
    const d = this.d;
    if (sum(activeOlds.map((o) => this.fresh(o)), specReplicas) === 0) return false;
    newRS = this.fresh(newRS);
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const allPods = sum(this.all, specReplicas);
    const newUnavailable = specReplicas(newRS) - availableOf(newRS);
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;

    // unhealthy replicas first, otherwise they block the rollout until it times out
    let cleaned = 0;
    for (const o of [...activeOlds].sort(byCreation)) {
      if (cleaned >= maxScaledDown) break;
      const rs = this.fresh(o);
      const unhealthy = specReplicas(rs) - availableOf(rs);
      if (specReplicas(rs) === 0 || unhealthy <= 0) continue;
      const n = Math.min(maxScaledDown - cleaned, unhealthy);
      await this.scaleTo(rs, specReplicas(rs) - n);
      cleaned += n;
    }

    // then available ones, keeping minAvailable
    let scaled = 0;
    const available = sum(this.all.filter(isActive), availableOf);
    if (available > minAvailable) {
      const total = available - minAvailable;
      for (const o of [...activeOlds].sort(byCreation)) {
        if (scaled >= total) break;
        const rs = this.fresh(o);
        if (specReplicas(rs) === 0) continue;
        const n = Math.min(specReplicas(rs), total - scaled);
        await this.scaleTo(rs, specReplicas(rs) - n);
        scaled += n;
      }
    }
    return cleaned + scaled > 0;
  }

  // ---- recreate

  async rolloutRecreate(): Promise<void> {
    // no new ReplicaSet before the old pods are gone
    let { newRS, olds } = await this.getAll(false);
    let scaledDown = false;
    for (const o of olds.filter((x) => isActive(this.fresh(x)))) if (await this.scaleTo(o, 0)) scaledDown = true;
    if (scaledDown) return this.syncRolloutStatus(olds, newRS);
    if (await this.oldPodsRunning(newRS, olds)) return this.syncRolloutStatus(olds, newRS);
    if (!newRS) ({ newRS, olds } = await this.getAll(true));
    if (newRS) await this.scaleTo(newRS, replicasOf(this.d));
    if (deploymentComplete(this.d, this.storedStatus)) await this.cleanup(olds);
    return this.syncRolloutStatus(olds, newRS);
  }

  /** Are pods of the old ReplicaSets still running (terminating ones included)? */
  private async oldPodsRunning(newRS: KObject | undefined, olds: KObject[]): Promise<boolean> {
    if (sum(olds.map((o) => this.fresh(o)), (o) => o.status?.replicas ?? 0) > 0) return true;
    if (!olds.length) return false;
    const sel = selectorFromLabelSelector(this.d.spec?.selector);
    if (!sel?.length) return false;
    const oldUids = new Set(olds.map((o) => o.metadata.uid));
    const pods = await this.ctx.api.list("pods", this.ns, { labelSelector: formatLabelSelector(sel) });
    const running = pods.some((p) => {
      const owner = controllerRef(p)?.uid;
      if (!owner || owner === newRS?.metadata.uid || !oldUids.has(owner)) return false;
      return p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";
    });
    // pods finishing their termination don't change the ReplicaSets' status: look again soon
    if (running) this.requeue(1_000);
    return running;
  }

  // ---- paused and scaling events

  async sync(): Promise<void> {
    const { newRS, olds } = await this.getAll(false);
    await this.scale(newRS, olds);
    if (this.d.spec?.paused) await this.cleanup(olds);
    this.status = this.calculateStatus(olds, newRS);
  }

  /** Progressing Unknown/DeploymentPaused while paused, DeploymentResumed once resumed (no deadline counted while paused). */
  checkPausedConditions(): void {
    const d = this.d;
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(this.status, "Progressing");
    if (cond?.reason === TIMED_OUT) return;
    const pausedCondExists = cond?.reason === PAUSED;
    if (d.spec?.paused && !pausedCondExists) setCondition(this.status, this.condition("Progressing", "Unknown", PAUSED, "Deployment is paused"));
    else if (!d.spec?.paused && pausedCondExists) setCondition(this.status, this.condition("Progressing", "Unknown", RESUMED, "Deployment is resumed"));
  }

  // ---- history

  /** Delete the oldest revisions beyond revisionHistoryLimit (only ReplicaSets with nothing left in them). */
  private async cleanup(olds: KObject[]): Promise<void> {
    const d = this.d;
    if (!hasRevisionHistoryLimit(d)) return;
    const alive = olds.map((o) => this.fresh(o)).filter((o) => !o.metadata.deletionTimestamp);
    const diff = alive.length - d.spec.revisionHistoryLimit;
    if (diff <= 0) return;
    alive.sort(byRevision);
    for (const rs of alive.slice(0, diff)) {
      if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      await this.ctx.api.delete("replicasets", this.ns, rs.metadata.name!, { preconditions: { uid: rs.metadata.uid }, propagationPolicy: "Background" }).catch((e) => {
        if (!isConflict(e)) throw e;
      });
      this.rs.delete(rs.metadata.uid!);
    }
  }

  // ---- status

  private calculateStatus(olds: KObject[], newRS: KObject | undefined): any {
    const d = this.d;
    const all = [...olds.map((o) => this.fresh(o)), ...(newRS ? [this.fresh(newRS)] : [])].filter((r) => this.rs.has(r.metadata.uid!));
    const nrs = newRS && this.rs.get(newRS.metadata.uid!);
    const available = sum(all, (r) => r.status?.availableReplicas ?? 0);
    const status: any = {
      observedGeneration: d.metadata.generation,
      replicas: sum(all, (r) => r.status?.replicas ?? 0),
      updatedReplicas: nrs?.status?.replicas ?? 0,
      readyReplicas: sum(all, (r) => r.status?.readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, sum(all, specReplicas) - available),
    };
    if (typeof this.status.collisionCount === "number") status.collisionCount = this.status.collisionCount;
    status.conditions = structuredClone(this.status.conditions ?? []);
    if (available >= replicasOf(d) - maxUnavailable(d)) {
      setCondition(status, this.condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."));
    } else {
      setCondition(status, this.condition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."));
    }
    return status;
  }

  /** Status plus the Progressing condition (complete, progressing, or timed out) and ReplicaSet failures. */
  syncRolloutStatus(olds: KObject[], newRS: KObject | undefined): void {
    const d = this.d;
    const next = this.calculateStatus(olds, newRS);
    const nrs = newRS && this.rs.get(newRS.metadata.uid!);
    if (!hasProgressDeadline(d)) removeCondition(next, "Progressing");
    const current = getCondition(this.status, "Progressing");
    const isComplete = next.replicas === next.updatedReplicas && current?.reason === NEW_RS_AVAILABLE;
    if (hasProgressDeadline(d) && !isComplete) {
      const rsName = nrs?.metadata.name;
      if (deploymentComplete(d, next)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${d.metadata.name}" has successfully progressed.`;
        setCondition(next, this.condition("Progressing", "True", NEW_RS_AVAILABLE, msg));
      } else if (deploymentProgressing(this.status, next)) {
        const msg = rsName ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`;
        const cond = this.condition("Progressing", "True", RS_UPDATED, msg);
        // the same reason again must still move lastUpdateTime (progress was made)
        if (current) {
          if (current.status === "True") cond.lastTransitionTime = current.lastTransitionTime;
          removeCondition(next, "Progressing");
        }
        setCondition(next, cond);
      } else if (this.timedOut(next)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`;
        setCondition(next, this.condition("Progressing", "False", TIMED_OUT, msg));
      }
    }
    // ReplicaSet failures (the new one's first) become the Deployment's ReplicaFailure
    const failures = [nrs, ...olds.map((o) => this.rs.get(o.metadata.uid!))]
      .filter((r): r is KObject => !!r)
      .flatMap((r) => (r.status?.conditions ?? []).filter((c: any) => c?.type === "ReplicaFailure"));
    if (failures.length) {
      const c = failures[0];
      setCondition(next, { type: "ReplicaFailure", status: c.status, lastUpdateTime: c.lastTransitionTime, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message });
    } else removeCondition(next, "ReplicaFailure");
    this.status = next;

    // come back when the deadline passes without progress
    const progressing = getCondition(next, "Progressing");
    if (hasProgressDeadline(d) && progressing && !deploymentComplete(d, next) && progressing.reason !== TIMED_OUT && progressing.reason !== NEW_RS_AVAILABLE) {
      const last = Date.parse(progressing.lastUpdateTime ?? "");
      if (!Number.isNaN(last)) this.requeue(last + d.spec.progressDeadlineSeconds * 1000 - this.ctx.now().getTime() + 1000);
    }
  }

  private timedOut(next: any): boolean {
    const cond = getCondition(next, "Progressing");
    if (!cond || cond.reason === NEW_RS_AVAILABLE) return false;
    if (cond.reason === TIMED_OUT) return true;
    const from = Date.parse(cond.lastUpdateTime ?? "");
    return !Number.isNaN(from) && from + this.d.spec.progressDeadlineSeconds * 1000 < this.ctx.now().getTime();
  }

  /** Write the status if it differs from what was stored. */
  async flush(): Promise<void> {
    if (!this.status.conditions?.length) delete this.status.conditions;
    if (stableJson(this.status) === stableJson(this.storedStatus)) return;
    try {
      await this.ctx.api.updateStatus("deployments", { ...this.d, status: this.status });
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) throw new Conflict((e as Error).message);
      throw e;
    }
  }
}

/** available replicas of a ReplicaSet, never more than it is sized for (its status may lag a scale-down) */
const availableOf = (rs: KObject) => Math.min(rs.status?.availableReplicas ?? 0, specReplicas(rs));

// ---------------------------------------------------------------- claiming ReplicaSets

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
    else if (d.spec?.strategy?.type === "Recreate") await s.rolloutRecreate();
    else await s.rolloutRolling();
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

const reconcile = (key: { namespace: string; name: string }, ctx: ControllerContext) =>
  exclusive(`deployments/${key.namespace}/${key.name}`, () => syncDeployment(key, ctx));

/**
 * The Deployment controller. It watches Deployments, and ReplicaSets only for orphans
 * to adopt: the registry already enqueues a ReplicaSet's owner on every ReplicaSet
 * write, so an owned ReplicaSet's key needs nothing more here.
 */
export const deploymentController: Controller = {
  name: "deployment",
  resources: ["deployments", "replicasets"],
  async reconcile(key, ctx) {
    if (key.resource === "replicasets") {
      for (const k of await deploymentsForOrphan(ctx, key)) {
        const r = await reconcile(k, ctx);
        if (r && r.requeueAfterMs !== undefined) ctx.requeueAfter([k], r.requeueAfterMs);
      }
      return;
    }
    return reconcile(key, ctx);
  },
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
