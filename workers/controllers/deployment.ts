import { formatLabelSelector, matchLabels, selectorFromLabelSelector } from "../../shared/selectors/labels";
import { ApiError } from "../../shared/status";
import type { KObject, OwnerReference } from "../../shared/types";
import { isConflict } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";
import { controllerRef } from "./replicaset";

const HASH_LABEL = "pod-template-hash";
const REVISION = "deployment.kubernetes.io/revision";
const DESIRED = "deployment.kubernetes.io/desired-replicas";
const MAX = "deployment.kubernetes.io/max-replicas";
const CHANGE_CAUSE = "kubernetes.io/change-cause";

const ts = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");

// ---------------------------------------------------------------- template identity

/** Canonical JSON: sorted keys, no nulls, no empty objects or lists. */
const canonical = (v: unknown): unknown => {
  if (Array.isArray(v)) {
    const items = v.map(canonical).filter((x) => x !== undefined);
    return items.length ? items : undefined;
  }
  if (v === null || v === undefined) return undefined;
  if (typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    const x = canonical((v as Record<string, unknown>)[k]);
    if (x !== undefined) out[k] = x;
  }
  return Object.keys(out).length ? out : undefined;
};

const withoutHash = (template: any) => {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) delete t.metadata.labels[HASH_LABEL];
  return t;
};

/** Are two pod templates the same, ignoring pod-template-hash, nulls and empty values? */
export const sameTemplate = (a: unknown, b: unknown) => JSON.stringify(canonical(withoutHash(a))) === JSON.stringify(canonical(withoutHash(b)));

const SAFE = "bcdfghjklmnpqrstvwxz2456789";

/** The pod-template-hash: FNV-32a of the canonical template, encoded with Kubernetes' safe alphabet. */
export const templateHash = (template: unknown, collisionCount = 0): string => {
  let h = 0x811c9dc5;
  const s = JSON.stringify(canonical(withoutHash(template))) + (collisionCount ? `/${collisionCount}` : "");
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return [...String(h)].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join("");
};

// ---------------------------------------------------------------- numbers

/** maxSurge / maxUnavailable as numbers of pods (surge rounds up, unavailable down). */
export const resolveFenceposts = (d: KObject): { surge: number; unavailable: number } => {
  const replicas = d.spec?.replicas ?? 1;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const resolve = (v: unknown, def: string, up: boolean) => {
    const x = v ?? def;
    if (typeof x === "number") return x;
    const pct = Number(String(x).replace("%", "")) / 100;
    return up ? Math.ceil(pct * replicas) : Math.floor(pct * replicas);
  };
  let surge = resolve(ru.maxSurge, "25%", true);
  let unavailable = resolve(ru.maxUnavailable, "25%", false);
  if (surge === 0 && unavailable === 0) unavailable = 1; // Kubernetes avoids a stuck rollout the same way
  unavailable = Math.min(unavailable, replicas);
  surge = Math.max(0, surge);
  return { surge, unavailable };
};

const revisionOf = (rs: KObject) => Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
const specReplicas = (rs: KObject) => rs.spec?.replicas ?? 0;
const sum = (xs: KObject[], f: (x: KObject) => number) => xs.reduce((n, x) => n + f(x), 0);

// ---------------------------------------------------------------- writes

const scaleRs = async (ctx: ControllerContext, d: KObject, rs: KObject, replicas: number, maxSurge: number): Promise<KObject> => {
  const want = String(d.spec?.replicas ?? 1);
  const max = String((d.spec?.replicas ?? 1) + maxSurge);
  const ann = rs.metadata.annotations ?? {};
  if (specReplicas(rs) === replicas && ann[DESIRED] === want && ann[MAX] === max) return rs;
  const updated = await ctx.api.update("replicasets", {
    ...rs,
    metadata: { ...rs.metadata, annotations: { ...ann, [DESIRED]: want, [MAX]: max } },
    spec: { ...rs.spec, replicas },
  });
  if (specReplicas(rs) !== replicas) {
    const verb = replicas > specReplicas(rs) ? "up" : "down";
    await ctx.events.record(d, "Normal", "ScalingReplicaSet", `Scaled ${verb} replica set ${rs.metadata.name} from ${specReplicas(rs)} to ${replicas}`);
  }
  return updated;
};

// ---------------------------------------------------------------- reconcile

export const reconcileDeployment = async (key: { namespace: string; name: string }, ctx: ControllerContext): Promise<ReconcileResult> => {
  let d = await ctx.api.get("deployments", key.namespace, key.name);
  if (!d || d.metadata.deletionTimestamp) return;
  const ns = key.namespace;
  const uid = d.metadata.uid!;
  const selector = selectorFromLabelSelector(d.spec?.selector);
  if (!selector || !selector.length) return;
  const replicas: number = d.spec?.replicas ?? 1;
  const ref: OwnerReference = { apiVersion: "apps/v1", kind: "Deployment", name: d.metadata.name!, uid, controller: true, blockOwnerDeletion: true };

  // ReplicaSets it owns, adopting matching orphans
  const owned = (await ctx.api.dependents(uid)).filter((o) => o.kind === "ReplicaSet" && controllerRef(o)?.uid === uid && !o.metadata.deletionTimestamp);
  for (const rs of await ctx.api.list("replicasets", ns, { labelSelector: formatLabelSelector(selector) })) {
    if (controllerRef(rs) || rs.metadata.deletionTimestamp || owned.some((o) => o.metadata.uid === rs.metadata.uid)) continue;
    if (!matchLabels(selector, rs.spec?.template?.metadata?.labels)) continue;
    try {
      owned.push(await ctx.api.update("replicasets", { ...rs, metadata: { ...rs.metadata, ownerReferences: [...(rs.metadata.ownerReferences ?? []), ref] } }));
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
  }

  const { surge, unavailable } = resolveFenceposts(d);
  const template = d.spec?.template ?? {};
  let newRs = owned.find((rs) => sameTemplate(rs.spec?.template, template));
  let olds = owned.filter((rs) => rs !== newRs);
  const maxOldRevision = Math.max(0, ...olds.map(revisionOf));
  let progressed = false;
  let createdNew = false;

  if (d.spec?.paused) {
    // no rollout progress while paused; scaling still applies to the active ReplicaSets
    const active = owned.filter((rs) => specReplicas(rs) > 0);
    if (active.length === 1 && specReplicas(active[0]) !== replicas) {
      await scaleRs(ctx, d, active[0], replicas, surge);
      progressed = true;
    }
    return writeStatus(ctx, d, owned, newRs, { progressed, paused: true });
  }

  // the ReplicaSet for the current template, created or brought to the newest revision
  if (!newRs) {
    const collisionCount: number = d.status?.collisionCount ?? 0;
    const hash = templateHash(template, collisionCount);
    const labels = { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash };
    const annotations: Record<string, string> = {
      [REVISION]: String(maxOldRevision + 1),
      [DESIRED]: String(replicas),
      [MAX]: String(replicas + surge),
    };
    if (d.metadata.annotations?.[CHANGE_CAUSE]) annotations[CHANGE_CAUSE] = d.metadata.annotations[CHANGE_CAUSE];
    const recreate = d.spec?.strategy?.type === "Recreate";
    const currentTotal = sum(olds, specReplicas);
    const initial = recreate ? (sum(olds, (o) => o.status?.replicas ?? 0) > 0 || currentTotal > 0 ? 0 : replicas) : Math.max(0, Math.min(replicas, replicas + surge - currentTotal));
    try {
      newRs = await ctx.api.create("replicasets", ns, {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: { name: `${d.metadata.name}-${hash}`, namespace: ns, labels, annotations, ownerReferences: [ref] },
        spec: {
          replicas: initial,
          minReadySeconds: d.spec?.minReadySeconds ?? 0,
          selector: { ...d.spec.selector, matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), [HASH_LABEL]: hash } },
          template: { ...structuredClone(template), metadata: { ...(template.metadata ?? {}), labels } },
        },
      });
    } catch (e) {
      if (e instanceof ApiError && e.reason === "AlreadyExists") {
        const existing = await ctx.api.get("replicasets", ns, `${d.metadata.name}-${hash}`);
        if (existing && controllerRef(existing)?.uid === uid) return { requeueAfterMs: 10 }; // a concurrent reconcile made it
        // a hash collision with someone else's ReplicaSet: hash again with a new collision count
        await ctx.api.updateStatus("deployments", { ...d, status: { ...d.status, collisionCount: collisionCount + 1 } });
        return { requeueAfterMs: 10 };
      }
      throw e;
    }
    createdNew = true;
    progressed = true;
    await ctx.events.record(d, "Normal", "ScalingReplicaSet", `Scaled up replica set ${newRs.metadata.name} from 0 to ${initial}`);
    owned.push(newRs);
  } else if (revisionOf(newRs) <= maxOldRevision) {
    // an older template came back (rollback): its ReplicaSet becomes the newest revision
    const annotations: Record<string, string> = { ...(newRs.metadata.annotations ?? {}), [REVISION]: String(maxOldRevision + 1) };
    if (d.metadata.annotations?.[CHANGE_CAUSE]) annotations[CHANGE_CAUSE] = d.metadata.annotations[CHANGE_CAUSE];
    newRs = await ctx.api.update("replicasets", { ...newRs, metadata: { ...newRs.metadata, annotations } });
    progressed = true;
  }
  olds = owned.filter((rs) => rs.metadata.uid !== newRs!.metadata.uid);
  const active = () => owned.filter((rs) => specReplicas(rs) > 0);

  // the Deployment carries its current revision
  const revision = newRs.metadata.annotations?.[REVISION];
  if (revision && d.metadata.annotations?.[REVISION] !== revision) {
    d = await ctx.api.update("deployments", { ...d, metadata: { ...d.metadata, annotations: { ...(d.metadata.annotations ?? {}), [REVISION]: revision } } });
  }

  const replace = (rs: KObject) => {
    const i = owned.findIndex((o) => o.metadata.uid === rs.metadata.uid);
    if (i >= 0) owned[i] = rs;
    if (newRs && rs.metadata.uid === newRs.metadata.uid) newRs = rs;
  };

  if (d.spec?.strategy?.type === "Recreate") {
    const oldRunning = olds.filter((o) => specReplicas(o) > 0 || (o.status?.replicas ?? 0) > 0);
    if (oldRunning.length) {
      for (const o of olds) if (specReplicas(o) > 0) replace(await scaleRs(ctx, d!, o, 0, 0));
      progressed = true;
    } else if (specReplicas(newRs) !== replicas) {
      replace(await scaleRs(ctx, d, newRs, replicas, 0));
      progressed = true;
    }
  } else {
    // proportional scaling: the replica count changed while more than one ReplicaSet is active
    const scaling = active().length > 1 && active().some((rs) => rs.metadata.annotations?.[DESIRED] !== String(replicas));
    if (scaling) {
      const allowed = replicas + surge;
      const current = sum(active(), specReplicas);
      let left = allowed - current;
      const ordered = [...active()].sort((a, b) => specReplicas(b) - specReplicas(a));
      for (const rs of ordered) {
        const share = current > 0 ? Math.round(((allowed - current) * specReplicas(rs)) / current) : 0;
        const delta = left === 0 ? 0 : left > 0 ? Math.min(share, left) : Math.max(share, left);
        left -= delta;
        replace(await scaleRs(ctx, d, rs, Math.max(0, specReplicas(rs) + delta), surge));
      }
      if (left !== 0) replace(await scaleRs(ctx, d, newRs, Math.max(0, specReplicas(newRs) + left), surge));
      progressed = true;
    } else {
      // scale the new ReplicaSet up within replicas + maxSurge
      const all = sum(owned, specReplicas);
      if (specReplicas(newRs) > replicas) {
        replace(await scaleRs(ctx, d, newRs, replicas, surge));
        progressed = true;
      } else if (specReplicas(newRs) < replicas && all < replicas + surge) {
        const up = Math.min(replicas + surge - all, replicas - specReplicas(newRs));
        replace(await scaleRs(ctx, d, newRs, specReplicas(newRs) + up, surge));
        progressed = true;
      } else {
        replace(await scaleRs(ctx, d, newRs, specReplicas(newRs), surge)); // annotations only
      }
      // scale old ReplicaSets down, keeping replicas - maxUnavailable available
      const oldPods = sum(olds, specReplicas);
      if (oldPods > 0) {
        const minAvailable = replicas - unavailable;
        const allPods = sum(owned, specReplicas);
        const newUnavailable = specReplicas(newRs) - (newRs.status?.availableReplicas ?? 0);
        let budget = allPods - minAvailable - newUnavailable;
        // first the old pods that are not available anyway
        for (const o of [...olds].sort((a, b) => Date.parse(a.metadata.creationTimestamp!) - Date.parse(b.metadata.creationTimestamp!))) {
          if (budget <= 0) break;
          const unhealthy = specReplicas(o) - (o.status?.availableReplicas ?? 0);
          const cut = Math.min(unhealthy, budget);
          if (cut > 0) {
            replace(await scaleRs(ctx, d, o, specReplicas(o) - cut, surge));
            budget -= cut;
            progressed = true;
          }
        }
        // then available ones, as far as availability allows
        const available = sum(owned, (o) => Math.min(o.status?.availableReplicas ?? 0, specReplicas(o)));
        let down = available - minAvailable;
        for (const o of [...olds].sort((a, b) => Date.parse(a.metadata.creationTimestamp!) - Date.parse(b.metadata.creationTimestamp!))) {
          const current = owned.find((x) => x.metadata.uid === o.metadata.uid)!;
          if (down <= 0) break;
          const cut = Math.min(specReplicas(current), down);
          if (cut > 0) {
            replace(await scaleRs(ctx, d, current, specReplicas(current) - cut, surge));
            down -= cut;
            progressed = true;
          }
        }
      }
    }
  }

  // history: drop the oldest empty ReplicaSets beyond revisionHistoryLimit
  const limit = d.spec?.revisionHistoryLimit ?? 10;
  const empties = owned
    .filter((o) => o.metadata.uid !== newRs!.metadata.uid && specReplicas(o) === 0 && (o.status?.replicas ?? 0) === 0)
    .sort((a, b) => revisionOf(a) - revisionOf(b));
  for (const o of empties.slice(0, Math.max(0, empties.length - limit))) {
    await ctx.api.delete("replicasets", ns, o.metadata.name!, { preconditions: { uid: o.metadata.uid }, propagationPolicy: "Background" });
    owned.splice(owned.findIndex((x) => x.metadata.uid === o.metadata.uid), 1);
  }

  return writeStatus(ctx, d, owned, newRs, { progressed, createdNew });
};

const condition = (d: KObject, type: string) => (d.status?.conditions ?? []).find((c: any) => c.type === type);

const setCondition = (conds: any[], c: any, now: string, touch: boolean) => {
  const prev = conds.find((x) => x.type === c.type);
  const same = prev && prev.status === c.status && prev.reason === c.reason;
  const next = {
    type: c.type,
    status: c.status,
    lastUpdateTime: same && !touch ? prev.lastUpdateTime : now,
    lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : now,
    reason: c.reason,
    message: c.message,
  };
  return [...conds.filter((x) => x.type !== c.type), next];
};

const writeStatus = async (
  ctx: ControllerContext,
  d: KObject,
  owned: KObject[],
  newRs: KObject | undefined,
  o: { progressed: boolean; createdNew?: boolean; paused?: boolean },
): Promise<ReconcileResult> => {
  const replicas: number = d.spec?.replicas ?? 1;
  const { unavailable } = resolveFenceposts(d);
  const now = ctx.now();
  const nowTs = ts(now);
  const available = sum(owned, (r) => r.status?.availableReplicas ?? 0);
  const status: Record<string, any> = {
    observedGeneration: d.metadata.generation,
    replicas: sum(owned, (r) => r.status?.replicas ?? 0),
    updatedReplicas: newRs?.status?.replicas ?? 0,
    readyReplicas: sum(owned, (r) => r.status?.readyReplicas ?? 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, replicas - available),
  };
  if (d.status?.collisionCount) status.collisionCount = d.status.collisionCount;
  const before = d.status ?? {};
  const countsMoved = ["replicas", "updatedReplicas", "readyReplicas", "availableReplicas"].some((k) => (before[k] ?? 0) !== status[k]);
  let conds: any[] = [...(before.conditions ?? [])];
  conds = setCondition(
    conds,
    available >= replicas - unavailable
      ? { type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability." }
      : { type: "Available", status: "False", reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability." },
    nowTs,
    false,
  );
  const rsName = newRs?.metadata.name ?? "";
  const complete = !!newRs && status.updatedReplicas === replicas && status.replicas === replicas && available >= replicas && specReplicas(newRs) === replicas;
  const prevProgress = condition(d, "Progressing");
  let requeue: number | undefined;
  if (o.paused) {
    conds = setCondition(conds, { type: "Progressing", status: "Unknown", reason: "DeploymentPaused", message: "Deployment is paused" }, nowTs, false);
  } else if (complete) {
    conds = setCondition(conds, { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable", message: `ReplicaSet "${rsName}" has successfully progressed.` }, nowTs, prevProgress?.reason !== "NewReplicaSetAvailable");
  } else if (o.progressed || countsMoved || !prevProgress || prevProgress.reason === "DeploymentPaused" || prevProgress.reason === "NewReplicaSetAvailable") {
    const reason = o.createdNew ? "NewReplicaSetCreated" : "ReplicaSetUpdated";
    const message = o.createdNew ? `Created new replica set "${rsName}"` : `ReplicaSet "${rsName}" is progressing.`;
    conds = setCondition(conds, { type: "Progressing", status: "True", reason, message }, nowTs, true);
  }
  // no progress for progressDeadlineSeconds: the rollout has failed
  const deadline = d.spec?.progressDeadlineSeconds;
  const progress = conds.find((c) => c.type === "Progressing");
  if (!complete && !o.paused && typeof deadline === "number" && progress && progress.reason !== "ProgressDeadlineExceeded") {
    const due = Date.parse(progress.lastUpdateTime) + deadline * 1000;
    if (due <= now.getTime()) {
      conds = setCondition(conds, { type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: `ReplicaSet "${rsName}" has timed out progressing.` }, nowTs, true);
      await ctx.events.record(d, "Warning", "ProgressDeadlineExceeded", `Deployment "${d.metadata.name}" has timed out progressing.`);
    } else requeue = due - now.getTime() + 10;
  }
  const order = ["Available", "Progressing"];
  status.conditions = conds.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  if (JSON.stringify(status) !== JSON.stringify(pick(before))) {
    try {
      await ctx.api.updateStatus("deployments", { ...d, status });
    } catch (e) {
      if (isConflict(e)) return { requeueAfterMs: 10 };
      throw e;
    }
  }
  return requeue !== undefined ? { requeueAfterMs: requeue } : undefined;
};

const pick = (s: any) => {
  const out: Record<string, unknown> = {
    observedGeneration: s.observedGeneration,
    replicas: s.replicas ?? 0,
    updatedReplicas: s.updatedReplicas ?? 0,
    readyReplicas: s.readyReplicas ?? 0,
    availableReplicas: s.availableReplicas ?? 0,
    unavailableReplicas: s.unavailableReplicas ?? 0,
  };
  if (s.collisionCount) out.collisionCount = s.collisionCount;
  out.conditions = s.conditions;
  return out;
};

/**
 * The Deployment controller: one ReplicaSet per pod template (named
 * `<deployment>-<pod-template-hash>`), rolled between with RollingUpdate (maxSurge,
 * maxUnavailable) or Recreate; revisions, rollback by template, pause, history limit,
 * progress deadline, and the status `kubectl rollout status` reads.
 */
export const deploymentController: Controller = {
  name: "deployment",
  resources: ["deployments"],
  reconcile: reconcileDeployment,
  async resync(ctx) {
    const all = await ctx.api.list("deployments");
    return all
      .filter((d) => {
        const p = condition(d, "Progressing");
        return d.status?.observedGeneration !== d.metadata.generation || (p && p.reason !== "NewReplicaSetAvailable" && p.reason !== "ProgressDeadlineExceeded");
      })
      .map((d) => ({ resource: "deployments", namespace: d.metadata.namespace ?? "", name: d.metadata.name! }));
  },
};
