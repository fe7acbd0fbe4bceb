/**
 * The Deployment sync, after Kubernetes' pkg/controller/deployment/sync.go: finding
 * (and creating) the new ReplicaSet, the old ones, scaling for a replicas change or
 * while paused (proportionally over the active ReplicaSets), and the status.
 *
 * Unlike Kubernetes, which writes the Deployment's status several times in one sync,
 * this one collects status changes and writes them once at the end (every write
 * re-enqueues the Deployment).
 */
import { ApiError } from "../../../shared/status";
import type { KObject, OwnerReference } from "../../../shared/types";
import { isConflict, isNotFound } from "../client";
import type { ControllerContext } from "../context";
import { casUpdate, controllerRef } from "../util";
import { cleanupDeployment, setNewReplicaSetAnnotations } from "./history";
import {
  byCreation,
  type Condition,
  DESIRED,
  FAILED_RS_CREATE,
  FOUND_NEW_RS,
  getCondition,
  HASH_LABEL,
  hasProgressDeadline,
  isActive,
  isRollingUpdate,
  MAX,
  maxSurge,
  maxUnavailable,
  NEW_RS_CREATED,
  PAUSED,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  RESUMED,
  REVISION,
  revisionOf,
  roundAway,
  sameTemplate,
  setCondition,
  setReplicasAnnotations,
  specReplicas,
  sum,
  templateHash,
  TIMED_OUT,
  ts,
} from "./util";
import { jsonEqual } from "../../../shared/json";

/** Someone else wrote first: the reconcile ends and comes back soon. */
export class Conflict extends Error {}

/**
 * One reconcile of one Deployment: its ReplicaSets as read (and as written since),
 * the status being built, and the sync steps Kubernetes keeps in sync.go. The
 * strategies (rolling.ts, recreate.ts), the rollout status (progress.ts) and the
 * revision history (history.ts) work on it.
 */
export class DeploymentSync {
  /** status as stored when the reconcile began (written back only if the result differs) */
  readonly storedStatus: any;
  /** the status being built (conditions set along the way, as Kubernetes does on d.Status) */
  status: any;
  /** the Deployment's ReplicaSets by uid, as last read or written */
  readonly rs = new Map<string, KObject>();
  requeueMs: number | undefined;

  constructor(
    readonly ctx: ControllerContext,
    public d: KObject,
    rsList: KObject[],
  ) {
    this.storedStatus = structuredClone(d.status ?? {});
    this.status = structuredClone(d.status ?? {});
    for (const r of rsList) this.rs.set(r.metadata.uid!, r);
  }

  get ns() {
    return this.d.metadata.namespace ?? "";
  }
  get all(): KObject[] {
    return [...this.rs.values()];
  }
  /** the latest copy of a ReplicaSet this sync has seen */
  fresh(rs: KObject): KObject {
    return this.rs.get(rs.metadata.uid!) ?? rs;
  }
  private now() {
    return ts(this.ctx.now());
  }
  /** come back after `ms` at the latest */
  requeue(ms: number) {
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
    const ref: OwnerReference = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: d.metadata.name!,
      uid: d.metadata.uid!,
      controller: true,
      blockOwnerDeletion: true,
    };
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

  condition(type: string, status: string, reason: string, message: string): Condition {
    const now = this.now();
    return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
  }

  /** How big the new ReplicaSet may be now (NewRSNewReplicas). */
  newRSNewReplicas(all: KObject[], newRS: KObject): number {
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

  // ---- paused and scaling events

  async sync(): Promise<void> {
    const { newRS, olds } = await this.getAll(false);
    await this.scale(newRS, olds);
    if (this.d.spec?.paused) await cleanupDeployment(this, olds);
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

  // ---- status

  /** calculateStatus: the replica counts and the Available condition. */
  calculateStatus(olds: KObject[], newRS: KObject | undefined): any {
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

  /** Write the status if it differs from what was stored. */
  async flush(): Promise<void> {
    if (!this.status.conditions?.length) delete this.status.conditions;
    if (jsonEqual(this.status, this.storedStatus)) return;
    try {
      await this.ctx.api.updateStatus("deployments", { ...this.d, status: this.status });
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) throw new Conflict((e as Error).message);
      throw e;
    }
  }
}
