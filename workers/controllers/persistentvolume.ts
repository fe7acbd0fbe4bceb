/**
 * The PersistentVolume controller (kube-controller-manager's persistentvolume-binder,
 * pvc-protection and pv-protection controllers), level-triggered over claims and
 * volumes:
 *
 * - An unbound claim binds the volume reserved for it (the volume's claimRef, or the
 *   claim's spec.volumeName), else the smallest free volume that satisfies it
 *   (persistentvolume-match.ts). Claims of a WaitForFirstConsumer class bind only a
 *   volume reserved for them (the scheduler reserves one, or the provisioner makes one
 *   on the node it picked). Binding is kube's sequence: the volume's claimRef (and
 *   bound-by-controller), the volume Bound, the claim's volumeName (bind-completed),
 *   the claim Bound with the volume's capacity and access modes. Each step is one
 *   compare-and-swap write; a lost race starts over from fresh reads.
 * - No volume: a class with a provisioner gets the claim annotated for it
 *   (volume.kubernetes.io/storage-provisioner) once it may provision (Immediate, or
 *   WaitForFirstConsumer with a selected node); local-path cannot provision without a
 *   node, so an Immediate local-path claim stays Pending with an event, as kube leaves a
 *   claim no provisioner serves.
 * - A volume whose claim is gone is Released; then Retain keeps it, Delete deletes a
 *   provisioned volume (its provisioner's finalizer holds the object until the storage
 *   is gone: the agent removes the directory) and fails a manual one (no plugin can
 *   delete it, as kube says), Recycle fails.
 * - pvc-protection: a claim being deleted keeps kubernetes.io/pvc-protection while a pod
 *   that is not finished mounts it. pv-protection: a volume being deleted keeps
 *   kubernetes.io/pv-protection while it is Bound.
 */
import { jsonEqual } from "../../shared/json";
import { rfc3339 } from "../../shared/time";
import type { KObject, ObjectKey } from "../../shared/types";
import { PV_PROTECTION, storageClassOf } from "../registry/kinds/persistentvolumes";
import { PVC_PROTECTION } from "../registry/kinds/persistentvolumeclaims";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimRefOf,
  findMatchingVolume,
  isVolumeBoundToClaim,
  podClaimNames,
  podUsesClaim,
  volumeMismatch,
} from "./persistentvolume-match";

export const LOCAL_PATH = "kubeflare.dev/local-path";

const claimKey = (ns: string, name: string): ObjectKey => ({ resource: "persistentvolumeclaims", namespace: ns, name });

const withoutFinalizer = (o: KObject, f: string): KObject => ({
  ...o,
  metadata: { ...o.metadata, finalizers: (o.metadata.finalizers ?? []).filter((x: string) => x !== f) },
});

const annotate = (o: KObject, ann: Record<string, string>): KObject => ({
  ...o,
  metadata: { ...o.metadata, annotations: { ...(o.metadata.annotations ?? {}), ...ann } },
});

/** Set a volume's phase (and reason/message) unless it has it. */
const setVolumePhase = async (ctx: ControllerContext, pv: KObject, phase: string, message = "", reason = ""): Promise<KObject> => {
  const s = pv.status ?? {};
  if (s.phase === phase && (s.message ?? "") === message && (s.reason ?? "") === reason) return pv;
  const status: any = { ...s, phase };
  if (message) status.message = message;
  else delete status.message;
  if (reason) status.reason = reason;
  else delete status.reason;
  if (s.phase !== phase) status.lastPhaseTransitionTime = rfc3339(ctx.now());
  return ctx.api.updateStatus("persistentvolumes", { ...pv, status });
};

// ---------------------------------------------------------------- claims

const syncClaim = async (ctx: ControllerContext, ns: string, name: string): Promise<void> => {
  const claim = await ctx.api.get("persistentvolumeclaims", ns, name);
  if (!claim) {
    // the claim is gone: its volume (if any) is released
    for (const pv of await ctx.api.list("persistentvolumes")) {
      const ref = pv.spec?.claimRef;
      if (ref?.name === name && ref.namespace === ns) await syncVolume(ctx, pv.metadata.name!);
    }
    return;
  }
  if (claim.metadata.deletionTimestamp) return protectClaim(ctx, claim);
  if (claim.spec?.volumeName) return syncBoundClaim(ctx, claim);
  return syncUnboundClaim(ctx, claim);
};

/** pvc-protection: the finalizer goes once no unfinished pod mounts the claim. */
const protectClaim = async (ctx: ControllerContext, claim: KObject): Promise<void> => {
  if (!(claim.metadata.finalizers ?? []).includes(PVC_PROTECTION)) return;
  const pods = await ctx.api.list("pods", claim.metadata.namespace ?? "");
  if (pods.some((p) => podUsesClaim(p, claim.metadata.name!))) return;
  await ctx.api.update("persistentvolumeclaims", withoutFinalizer(claim, PVC_PROTECTION));
};

const syncBoundClaim = async (ctx: ControllerContext, claim: KObject): Promise<void> => {
  const pv = await ctx.api.get("persistentvolumes", "", claim.spec.volumeName);
  if (!pv) {
    if (claim.status?.phase !== "Lost") {
      await ctx.api.updateStatus("persistentvolumeclaims", { ...claim, status: { ...claim.status, phase: "Lost" } });
      await ctx.events.record(claim, "Warning", "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!");
    }
    return;
  }
  if (!pv.spec?.claimRef) {
    // the claim names the volume and the volume is free: finish the binding
    return bind(ctx, pv, claim);
  }
  if (isVolumeBoundToClaim(pv, claim)) return bind(ctx, pv, claim);
  if (claim.status?.phase !== "Lost") {
    await ctx.api.updateStatus("persistentvolumeclaims", { ...claim, status: { ...claim.status, phase: "Lost" } });
    await ctx.events.record(claim, "Warning", "ClaimMisbound", "Two claims are bound to the same volume, this one is bound incorrectly");
  }
};

const syncUnboundClaim = async (ctx: ControllerContext, claim: KObject): Promise<void> => {
  const clsName = storageClassOf(claim);
  const cls = clsName ? await ctx.api.get("storageclasses", "", clsName) : null;
  const delayBinding = cls?.volumeBindingMode === "WaitForFirstConsumer";
  const volumes = await ctx.api.list("persistentvolumes");
  const pv = findMatchingVolume(claim, volumes, { delayBinding });
  if (pv) return bind(ctx, pv, claim);
  const selectedNode = claim.metadata.annotations?.[ANN_SELECTED_NODE];
  if (delayBinding && !selectedNode) {
    await ctx.events.record(claim, "Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding");
    return;
  }
  if (!clsName) {
    await ctx.events.record(claim, "Normal", "FailedBinding", "no persistent volumes available for this claim and no storage class is set");
    return;
  }
  if (!cls) {
    await ctx.events.record(claim, "Warning", "ProvisioningFailed", `storageclass.storage.k8s.io "${clsName}" not found`);
    return;
  }
  if (cls.provisioner === LOCAL_PATH && !selectedNode) {
    await ctx.events.record(
      claim,
      "Warning",
      "ProvisioningFailed",
      `failed to provision volume with StorageClass "${clsName}": the ${LOCAL_PATH} provisioner needs a node: use volumeBindingMode WaitForFirstConsumer`,
    );
    return;
  }
  if (claim.spec?.selector) {
    await ctx.events.record(claim, "Warning", "ProvisioningFailed", "claim Selector is not supported");
    return;
  }
  // hand the claim to its class's provisioner (an external one: the agent of the selected node for local-path)
  if (claim.metadata.annotations?.[ANN_STORAGE_PROVISIONER] !== cls.provisioner) {
    await ctx.api.update(
      "persistentvolumeclaims",
      annotate(claim, { [ANN_STORAGE_PROVISIONER]: cls.provisioner, [ANN_BETA_STORAGE_PROVISIONER]: cls.provisioner }),
    );
    await ctx.events.record(
      claim,
      "Normal",
      "ExternalProvisioning",
      `Waiting for a volume to be created either by the external provisioner '${cls.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
  }
};

/**
 * Bind `pv` and `claim` in kube's order, each step only if not done: the volume's
 * claimRef, the volume Bound, the claim's volumeName and annotations, the claim Bound.
 */
const bind = async (ctx: ControllerContext, pv: KObject, claim: KObject): Promise<void> => {
  if (!claim.spec?.volumeName || claim.spec.volumeName === pv.metadata.name) {
    const mismatch = claim.spec?.volumeName ? volumeMismatch(pv, claim) : null;
    if (mismatch) {
      await ctx.events.record(claim, "Warning", "VolumeMismatch", `Cannot bind to requested volume "${pv.metadata.name}": ${mismatch}`);
      return;
    }
  }
  let volume = pv;
  const ref = claimRefOf(claim);
  const cur = volume.spec?.claimRef;
  if (!cur || cur.uid !== ref.uid || cur.name !== ref.name || cur.namespace !== ref.namespace) {
    volume = { ...volume, spec: { ...volume.spec, claimRef: ref } };
    if (!cur) volume = annotate(volume, { [ANN_BOUND_BY_CONTROLLER]: "yes" });
    volume = await ctx.api.update("persistentvolumes", volume);
  }
  volume = await setVolumePhase(ctx, volume, "Bound");
  let c = claim;
  const anns = c.metadata.annotations ?? {};
  if (c.spec?.volumeName !== volume.metadata.name || anns[ANN_BIND_COMPLETED] !== "yes") {
    const add: Record<string, string> = { [ANN_BIND_COMPLETED]: "yes" };
    if (c.spec?.volumeName !== volume.metadata.name) add[ANN_BOUND_BY_CONTROLLER] = "yes";
    c = annotate({ ...c, spec: { ...c.spec, volumeName: volume.metadata.name } }, add);
    c = await ctx.api.update("persistentvolumeclaims", c);
  }
  const status = { ...c.status, phase: "Bound", accessModes: volume.spec?.accessModes ?? [], capacity: { ...(volume.spec?.capacity ?? {}) } };
  if (!jsonEqual(status, c.status)) await ctx.api.updateStatus("persistentvolumeclaims", { ...c, status });
};

// ---------------------------------------------------------------- volumes

const syncVolume = async (ctx: ControllerContext, name: string): Promise<void> => {
  let pv = await ctx.api.get("persistentvolumes", "", name);
  if (!pv) return;
  if (pv.metadata.deletionTimestamp) {
    // a volume being deleted whose claim is gone is Released (nothing to reclaim: it is going)
    const ref = pv.spec?.claimRef;
    if (ref?.uid && pv.status?.phase === "Bound") {
      const c = await ctx.api.get("persistentvolumeclaims", ref.namespace ?? "", ref.name ?? "");
      if (!c || c.metadata.uid !== ref.uid) pv = await setVolumePhase(ctx, pv, "Released");
    }
    // pv-protection: a bound volume is in use
    if ((pv.metadata.finalizers ?? []).includes(PV_PROTECTION) && pv.status?.phase !== "Bound")
      await ctx.api.update("persistentvolumes", withoutFinalizer(pv, PV_PROTECTION));
    return;
  }
  const ref = pv.spec?.claimRef;
  if (!ref) {
    const was = pv.status?.phase;
    pv = await setVolumePhase(ctx, pv, "Available");
    // newly free: a claim waiting for a volume like it binds it now (kube's binder finds it on its periodic resync)
    if (was !== "Available") await offerVolume(ctx, pv);
    return;
  }
  const claim = ref.name ? await ctx.api.get("persistentvolumeclaims", ref.namespace ?? "", ref.name) : null;
  if (!ref.uid && claim && !claim.spec?.volumeName) {
    // reserved for a claim (by an administrator or the scheduler): available until the claim binds it
    await setVolumePhase(ctx, pv, "Available");
    return syncClaim(ctx, claim.metadata.namespace ?? "", claim.metadata.name!);
  }
  if (!claim || (ref.uid && claim.metadata.uid !== ref.uid)) return releaseVolume(ctx, pv);
  if (!claim.spec?.volumeName) {
    // bound by a provisioner or the scheduler: the claim finishes the binding
    pv = await setVolumePhase(ctx, pv, "Bound");
    return syncClaim(ctx, claim.metadata.namespace ?? "", claim.metadata.name!);
  }
  if (claim.spec.volumeName === pv.metadata.name) {
    await setVolumePhase(ctx, pv, "Bound");
    if (claim.status?.phase !== "Bound" && !claim.metadata.deletionTimestamp) await bind(ctx, pv, claim);
    return;
  }
  // the claim is bound to another volume: a reservation the controller made is undone
  if (pv.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER]) {
    const { [ANN_BOUND_BY_CONTROLLER]: _gone, ...annotations } = pv.metadata.annotations;
    const { claimRef: _ref, ...spec } = pv.spec;
    pv = await ctx.api.update("persistentvolumes", { ...pv, metadata: { ...pv.metadata, annotations }, spec });
  }
  await setVolumePhase(ctx, pv, "Available");
};

/** Sync the oldest pending claim (of an Immediate or no class) that the free volume satisfies. */
const offerVolume = async (ctx: ControllerContext, pv: KObject): Promise<void> => {
  const claims = (await ctx.api.list("persistentvolumeclaims"))
    .filter((c) => !c.spec?.volumeName && !c.metadata.deletionTimestamp && findMatchingVolume(c, [pv]))
    .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
  if (claims.length) await syncClaim(ctx, claims[0].metadata.namespace ?? "", claims[0].metadata.name!);
};

/** The volume's claim is gone: Released, then its reclaim policy. */
const releaseVolume = async (ctx: ControllerContext, pv0: KObject): Promise<void> => {
  let pv = pv0;
  if (pv.status?.phase === "Failed") return;
  if (pv.status?.phase !== "Released") pv = await setVolumePhase(ctx, pv, "Released");
  const policy = pv.spec?.persistentVolumeReclaimPolicy ?? "Retain";
  if (policy === "Retain") return;
  if (policy === "Delete") {
    if (pv.metadata.annotations?.[ANN_PROVISIONED_BY]) {
      // the provisioner's finalizer keeps the object until it has deleted the storage
      await ctx.api.delete("persistentvolumes", "", pv.metadata.name!);
      return;
    }
    const msg = `error getting deleter volume plugin for volume "${pv.metadata.name}": no deletable volume plugin matched`;
    await setVolumePhase(ctx, pv, "Failed", msg);
    await ctx.events.record(pv, "Warning", "VolumeFailedDelete", msg);
    return;
  }
  const msg = `No recycler plugin found for the volume!`;
  await setVolumePhase(ctx, pv, "Failed", msg);
  await ctx.events.record(pv, "Warning", "VolumeFailedRecycle", msg);
};

// ---------------------------------------------------------------- controller

export const persistentVolumeController: Controller = {
  name: "persistentvolume",
  primary: ["persistentvolumeclaims", "persistentvolumes"],
  watches: [
    {
      // a pod that stops using claims may let a terminating claim go
      resource: "pods",
      map: async (key, ctx) =>
        (await ctx.api.list("persistentvolumeclaims", key.namespace))
          .filter((c) => c.metadata.deletionTimestamp)
          .map((c) => claimKey(c.metadata.namespace ?? "", c.metadata.name!)),
    },
    {
      // a class that appears: the claims waiting for it
      resource: "storageclasses",
      map: async (key, ctx) =>
        (await ctx.api.list("persistentvolumeclaims"))
          .filter((c) => !c.spec?.volumeName && storageClassOf(c) === key.name)
          .map((c) => claimKey(c.metadata.namespace ?? "", c.metadata.name!)),
    },
  ],
  // only pods with claims that are deleted or finish concern protection
  wants: ({ key, obj, old, deleted }) =>
    key.resource !== "pods" ||
    (podClaimNames(obj).length > 0 &&
      (deleted || ["Succeeded", "Failed"].includes(obj.status?.phase) !== ["Succeeded", "Failed"].includes(old?.status?.phase))),
  async reconcile(key, ctx): Promise<ReconcileResult> {
    try {
      if (key.resource === "persistentvolumes") await syncVolume(ctx, key.name);
      else await syncClaim(ctx, key.namespace, key.name);
    } catch (e) {
      // a lost race (or an object gone meanwhile): look again from fresh reads
      if (isConflict(e) || isNotFound(e)) return { requeueAfterMs: 10 };
      throw e;
    }
  },
  async resync(ctx) {
    const claims = await ctx.api.list("persistentvolumeclaims");
    return claims.filter((c) => c.metadata.deletionTimestamp || c.status?.phase !== "Bound").map((c) => claimKey(c.metadata.namespace ?? "", c.metadata.name!));
  },
};
