/**
 * The StatefulSet controller (kube-controller-manager's statefulset controller),
 * level-triggered: each reconcile reads the set, its pods and its revisions, and makes
 * one round of progress (kube's StatefulSetControl.UpdateStatefulSet).
 *
 * - Pods have stable names `<set>-<ordinal>` (ordinals from `spec.ordinals.start`),
 *   labels `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index` and
 *   `controller-revision-hash` (the name of the pod's ControllerRevision), hostname =
 *   the pod's name and subdomain = `serviceName`, so the headless Service gives each a
 *   DNS name (`web-0.nginx.default.svc.cluster.local`).
 * - OrderedReady (the default) creates ordinals 0..N-1 one at a time, each Running and
 *   Ready (and available for minReadySeconds) before the next, and scales down from the
 *   highest ordinal, one at a time, once the others are healthy; Parallel creates and
 *   deletes without waiting. A failed (or succeeded) pod is deleted and made again.
 * - Template changes: a ControllerRevision per template (history.ts);
 *   RollingUpdate replaces pods from the highest ordinal down to `partition`, one at a
 *   time, each healthy before the next; OnDelete only when a pod is deleted. A new
 *   pod below the partition is made from the current revision. `status.currentRevision`
 *   becomes the update revision when every pod runs it and is ready.
 * - volumeClaimTemplates: only while the catalog serves `persistentvolumeclaims` (see
 *   CLAIMS below), each pod gets claims `<template>-<set>-<ordinal>` and the volumes
 *   naming them; `persistentVolumeClaimRetentionPolicy` Delete makes the set
 *   (whenDeleted) or the condemned pod (whenScaled) the claim's owner, so the garbage
 *   collector removes it.
 */
import { jsonEqual } from "../../shared/json";
import { formatLabelSelector, matchLabels, selectorFromLabelSelector } from "../../shared/selectors/labels";
import { ApiError } from "../../shared/status";
import type { KObject, ObjectKey, OwnerReference } from "../../shared/types";
import { RESOURCES } from "../registry/kinds";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import { constructHistory, type History, ownerRef, REVISION_HASH_LABEL, revisionTemplate, truncateHistory } from "./history";
import type { Controller } from "./manager";
import { availableAt, isPodAvailable, isPodReady } from "./replicaset";
import { controllerRef } from "./util";

export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const isTerminating = (p: KObject) => !!p.metadata.deletionTimestamp;
const isFinished = (p: KObject) => p.status?.phase === "Failed" || p.status?.phase === "Succeeded";
const isRunningAndReady = (p: KObject) => p.status?.phase === "Running" && isPodReady(p);

/** The ordinal of a pod of `set` (`<set>-<n>`), or -1. */
export const podOrdinal = (set: KObject, pod: KObject): number => {
  const prefix = `${set.metadata.name}-`;
  const name = pod.metadata.name ?? "";
  if (!name.startsWith(prefix)) return -1;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : -1;
};

// ---------------------------------------------------------------- volumeClaimTemplates (needs the PVC kind)

/**
 * CLAIMS: claims are made and mounted only while the catalog serves
 * persistentvolumeclaims (the storage work adds the kind; until then the templates are
 * validated and stored only).
 */
export const claimsServed = (): boolean => RESOURCES.some((r) => r.resource === "persistentvolumeclaims" && r.group === "");

export const claimName = (set: KObject, template: any, ordinal: number) => `${template?.metadata?.name}-${set.metadata.name}-${ordinal}`;

/** The claim a pod of `set` at `ordinal` uses for `template` (kube's getPersistentVolumeClaims). */
export const newClaim = (set: KObject, template: any, ordinal: number): KObject => {
  const labels = { ...(template?.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) };
  const whenDeleted = set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? "Retain";
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: claimName(set, template, ordinal),
      namespace: set.metadata.namespace,
      labels,
      ...(template?.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      // whenDeleted Delete: the set owns its claims (not as controller), so they go with it
      ...(whenDeleted === "Delete" ? { ownerReferences: [{ ...ownerRef(set), controller: false, blockOwnerDeletion: true }] } : {}),
    },
    spec: structuredClone(template?.spec ?? {}),
  } as KObject;
};

/** The pod's volumes with one per claim template (replacing a template volume of the same name). */
export const withClaimVolumes = (set: KObject, podSpec: any, ordinal: number): void => {
  const templates: any[] = set.spec?.volumeClaimTemplates ?? [];
  if (!templates.length) return;
  const names = new Set(templates.map((t) => t?.metadata?.name));
  podSpec.volumes = [
    ...templates.map((t) => ({ name: t.metadata.name, persistentVolumeClaim: { claimName: claimName(set, t, ordinal) } })),
    ...(podSpec.volumes ?? []).filter((v: any) => !names.has(v?.name)),
  ];
};

const ensureClaims = async (ctx: ControllerContext, set: KObject, ordinal: number): Promise<void> => {
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const claim = newClaim(set, t, ordinal);
    if (await ctx.api.get("persistentvolumeclaims", set.metadata.namespace ?? "", claim.metadata.name!)) continue;
    try {
      await ctx.api.create("persistentvolumeclaims", set.metadata.namespace ?? "", claim);
      await ctx.events.record(
        set,
        "Normal",
        "SuccessfulCreate",
        `create Claim ${claim.metadata.name} Pod ${set.metadata.name}-${ordinal} in StatefulSet ${set.metadata.name} success`,
      );
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
    }
  }
};

/** whenScaled Delete: the condemned pod owns its claims before it goes, so they go with it. */
const releaseClaims = async (ctx: ControllerContext, set: KObject, pod: KObject, ordinal: number): Promise<void> => {
  if ((set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled ?? "Retain") !== "Delete") return;
  const ns = set.metadata.namespace ?? "";
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const claim = await ctx.api.get("persistentvolumeclaims", ns, claimName(set, t, ordinal));
    if (!claim || claim.metadata.ownerReferences?.some((r) => r.uid === pod.metadata.uid)) continue;
    const ref: OwnerReference = { apiVersion: "v1", kind: "Pod", name: pod.metadata.name!, uid: pod.metadata.uid!, blockOwnerDeletion: true };
    await ctx.api
      .patch("persistentvolumeclaims", ns, claim.metadata.name!, "merge", {
        metadata: { resourceVersion: claim.metadata.resourceVersion, ownerReferences: [...(claim.metadata.ownerReferences ?? []), ref] },
      })
      .catch((e) => {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      });
  }
};

// ---------------------------------------------------------------- pods

/** The pod at `ordinal` made from `template` of revision `revision` (newStatefulSetPod + updateIdentity + updateStorage). */
export const newStatefulPod = (set: KObject, template: any, revision: string, ordinal: number, claims: boolean): KObject => {
  const name = `${set.metadata.name}-${ordinal}`;
  const spec = structuredClone(template?.spec ?? {});
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  else delete spec.subdomain;
  if (claims) withClaimVolumes(set, spec, ordinal);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: set.metadata.namespace,
      labels: { ...(template?.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_HASH_LABEL]: revision },
      ...(template?.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [ownerRef(set)],
    },
    spec,
  } as KObject;
};

const podRevision = (p: KObject) => p.metadata.labels?.[REVISION_HASH_LABEL] ?? "";

/** One round for the set at `key`; `claims` (tests) overrides whether the catalog serves persistentvolumeclaims. */
export async function syncStatefulSet(key: ObjectKey, ctx: ControllerContext, claimsOn = claimsServed()): Promise<ReconcileResult> {
  const set = await ctx.api.get("statefulsets", key.namespace, key.name);
  if (!set || set.metadata.deletionTimestamp) return;
  const selector = selectorFromLabelSelector(set.spec?.selector);
  if (!selector?.length) return;
  const ns = key.namespace;
  const uid = set.metadata.uid!;
  const nowMs = ctx.now().getTime();
  const minReady: number = set.spec?.minReadySeconds ?? 0;

  // ---- revisions: the update revision is the template's; the current one is status.currentRevision's
  let history: History;
  try {
    history = await constructHistory(ctx, set, "statefulsets");
  } catch (e) {
    if (e instanceof ApiError && (e.code === 409 || e.code === 404)) return { requeueAfterMs: 20 };
    throw e;
  }
  const updateRevision = history.current;
  const currentRevision = history.old.find((r) => r.metadata.name === set.status?.currentRevision) ?? updateRevision;
  const currentTemplate = currentRevision === updateRevision ? set.spec?.template : revisionTemplate(currentRevision);

  // ---- its pods: controlled by it and matched by its selector; orphans it matches are adopted,
  // pods it controls whose labels no longer match are released (kube's ClaimPods)
  const pods: KObject[] = [];
  const setOwners = async (p: KObject, refs: OwnerReference[]): Promise<KObject | undefined> => {
    try {
      return await ctx.api.patch("pods", ns, p.metadata.name!, "merge", {
        metadata: { resourceVersion: p.metadata.resourceVersion, ownerReferences: refs.length ? refs : null },
      });
    } catch (e) {
      if (isNotFound(e) || isConflict(e)) return undefined;
      throw e;
    }
  };
  for (const p of await ctx.api.list("pods", ns, { labelSelector: formatLabelSelector(selector) })) {
    const ref = controllerRef(p);
    if (ref?.uid === uid) pods.push(p);
    else if (!ref && !p.metadata.deletionTimestamp && podOrdinal(set, p) >= 0) {
      const adopted = await setOwners(p, [...(p.metadata.ownerReferences ?? []), ownerRef(set)]);
      if (adopted) pods.push(adopted);
    }
  }
  for (const p of (await ctx.api.dependents(uid)).filter((d) => d.kind === "Pod" && controllerRef(d)?.uid === uid)) {
    if (!matchLabels(selector, p.metadata.labels) && !p.metadata.deletionTimestamp)
      await setOwners(
        p,
        (p.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid),
      );
  }
  const start: number = set.spec?.ordinals?.start ?? 0;
  const want: number = typeof set.spec?.replicas === "number" ? set.spec.replicas : 1;
  const replicas: (KObject | undefined)[] = Array.from({ length: want });
  const condemned: KObject[] = [];
  for (const p of pods) {
    const ord = podOrdinal(set, p);
    if (ord < 0) continue;
    if (ord >= start && ord < start + want) replicas[ord - start] = p;
    else condemned.push(p);
  }
  condemned.sort((a, b) => podOrdinal(set, b) - podOrdinal(set, a));

  // ---- status, as read
  const status: Record<string, any> = {
    ...(set.status ?? {}),
    observedGeneration: set.metadata.generation,
    replicas: 0,
    readyReplicas: 0,
    availableReplicas: 0,
    currentReplicas: 0,
    updatedReplicas: 0,
    currentRevision: currentRevision.metadata.name,
    updateRevision: updateRevision.metadata.name,
  };
  let requeueAfterMs: number | undefined;
  for (const p of pods) {
    status.replicas++;
    if (isRunningAndReady(p)) {
      status.readyReplicas++;
      if (isPodAvailable(p, minReady, nowMs)) status.availableReplicas++;
      else {
        const at = availableAt(p, minReady);
        if (at !== undefined && Number.isFinite(at)) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, Math.max(1000, at - nowMs + 1000));
      }
    }
    if (!isTerminating(p)) {
      if (podRevision(p) === currentRevision.metadata.name) status.currentReplicas++;
      if (podRevision(p) === updateRevision.metadata.name) status.updatedReplicas++;
    }
  }
  const strategy = set.spec?.updateStrategy ?? {};
  const rolling = (strategy.type ?? "RollingUpdate") === "RollingUpdate";
  if (rolling && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
    // the rollout is complete: the update revision is now the current one
    status.currentRevision = updateRevision.metadata.name;
    status.currentReplicas = status.updatedReplicas;
  }

  // ---- one round of progress
  const monotonic = (set.spec?.podManagementPolicy ?? "OrderedReady") !== "Parallel";
  const claims = claimsOn && (set.spec?.volumeClaimTemplates ?? []).length > 0;
  const partition: number = rolling ? (strategy.rollingUpdate?.partition ?? 0) : 0;
  const record = (type: "Normal" | "Warning", reason: string, msg: string) => ctx.events.record(set, type, reason, msg);
  const remove = async (p: KObject): Promise<boolean> => {
    try {
      await ctx.api.delete("pods", ns, p.metadata.name!, { preconditions: { uid: p.metadata.uid } });
      await record("Normal", "SuccessfulDelete", `delete Pod ${p.metadata.name} in StatefulSet ${set.metadata.name} successful`);
      return true;
    } catch (e) {
      if (isNotFound(e) || isConflict(e)) return true;
      await record("Warning", "FailedDelete", `delete Pod ${p.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(e)}`);
      return false;
    }
  };
  const create = async (ordinal: number): Promise<boolean> => {
    // below the partition (or OnDelete's current pods), new pods keep the current revision
    const old = rolling && currentRevision !== updateRevision && ordinal < start + (strategy.rollingUpdate ? partition : (set.status?.currentReplicas ?? 0));
    const template = old ? currentTemplate : set.spec?.template;
    const revision = old ? currentRevision.metadata.name! : updateRevision.metadata.name!;
    try {
      if (claims) await ensureClaims(ctx, set, ordinal);
      await ctx.api.create("pods", ns, newStatefulPod(set, template, revision, ordinal, claims));
      await record("Normal", "SuccessfulCreate", `create Pod ${set.metadata.name}-${ordinal} in StatefulSet ${set.metadata.name} successful`);
      return true;
    } catch (e) {
      // the old pod of that name is still going: wait for it
      if (e instanceof ApiError && e.code === 409) return true;
      await record(
        "Warning",
        "FailedCreate",
        `create Pod ${set.metadata.name}-${ordinal} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(e)}`,
      );
      return false;
    }
  };

  let failed = false;
  const progress = async (): Promise<void> => {
    for (let i = 0; i < want; i++) {
      const p = replicas[i];
      if (p && isFinished(p) && !isTerminating(p)) {
        // a failed pod is deleted and made again (on the next round, once it is gone)
        if (!(await remove(p))) failed = true;
        if (monotonic) return;
        continue;
      }
      if (!p) {
        if (!(await create(start + i))) failed = true;
        if (monotonic) return;
        continue;
      }
      // identity: an adopted pod (or one whose labels were edited) gets its name and index labels back
      const ord = start + i;
      if (!isTerminating(p) && (p.metadata.labels?.[POD_NAME_LABEL] !== p.metadata.name || p.metadata.labels?.[POD_INDEX_LABEL] !== String(ord))) {
        await ctx.api
          .patch("pods", ns, p.metadata.name!, "merge", {
            metadata: { resourceVersion: p.metadata.resourceVersion, labels: { [POD_NAME_LABEL]: p.metadata.name, [POD_INDEX_LABEL]: String(ord) } },
          })
          .catch((e) => {
            if (!isNotFound(e) && !isConflict(e)) throw e;
          });
      }
      if (isTerminating(p) || !isRunningAndReady(p) || !isPodAvailable(p, minReady, nowMs)) {
        if (monotonic) return;
      }
    }
    // scale down: the highest ordinal first
    for (const p of condemned) {
      if (isTerminating(p)) {
        if (monotonic) return;
        continue;
      }
      if (claims) await releaseClaims(ctx, set, p, podOrdinal(set, p));
      if (!(await remove(p))) failed = true;
      if (monotonic) return;
    }
    if (!rolling) return;
    // rolling update: from the highest ordinal down to the partition, one at a time
    for (let i = want - 1; i >= Math.max(0, partition); i--) {
      const p = replicas[i];
      if (!p) return;
      if (podRevision(p) !== updateRevision.metadata.name && !isTerminating(p)) {
        if (!(await remove(p))) failed = true;
        return;
      }
      if (isTerminating(p) || !isRunningAndReady(p) || !isPodAvailable(p, minReady, nowMs)) return;
    }
  };
  await progress();

  // ---- revisions no pod runs, beyond revisionHistoryLimit
  const live = new Set([...pods.map(podRevision), status.currentRevision, status.updateRevision]);
  await truncateHistory(ctx, set, history.old, live);

  if (!jsonEqual(status, set.status)) {
    try {
      await ctx.api.updateStatus("statefulsets", { ...set, status });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
      return { requeueAfterMs: 20 };
    }
  }
  if (failed) return { requeueAfterMs: 10_000 };
  if (requeueAfterMs !== undefined) return { requeueAfterMs };
}

const stsKey = (s: KObject): ObjectKey => ({ resource: "statefulsets", namespace: s.metadata.namespace ?? "", name: s.metadata.name! });

export const statefulSetController: Controller = {
  name: "statefulset",
  // pod writes come back as their owner's key (the registry enqueues owners)
  primary: ["statefulsets"],
  reconcile: (key, ctx) => syncStatefulSet(key, ctx),
  async resync(ctx) {
    return (await ctx.api.list("statefulsets")).map(stsKey);
  },
};
