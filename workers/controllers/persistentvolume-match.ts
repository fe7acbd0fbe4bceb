/**
 * Which PersistentVolume a claim binds, as kube's PV controller and the scheduler's
 * volume binder decide it (pkg/controller/volume/persistentvolume/index.go,
 * component-helpers/storage/volume): pure functions of the objects.
 */
import { isQuantity, parseQuantity } from "../../shared/quantity";
import { matchLabels, selectorFromLabelSelector } from "../../shared/selectors/labels";
import type { KObject } from "../../shared/types";
import { storageClassOf } from "../registry/kinds/persistentvolumes";
import { matchNodeSelectorTerm } from "./scheduling/affinity";

export const ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed";
export const ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller";
export const ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";
export const ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node";
export const ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner";
export const ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner";
/** the finalizer a provisioner puts on its volumes and removes once their storage is gone (external-provisioner's) */
export const PROVISIONER_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer";

const storageOf = (m: unknown): number => {
  const q = (m as any)?.storage;
  return isQuantity(q) ? parseQuantity(q) : 0;
};

/** The storage a claim asks for (bytes). */
export const claimRequest = (claim: KObject): number => storageOf(claim.spec?.resources?.requests);
/** The storage a volume offers (bytes). */
export const volumeCapacity = (pv: KObject): number => storageOf(pv.spec?.capacity);

/** Is `pv` reserved for or bound to `claim` (claimRef by namespace and name, and uid when set)? IsVolumeBoundToClaim */
export const isVolumeBoundToClaim = (pv: KObject, claim: KObject): boolean => {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata.name || (ref.namespace ?? "") !== (claim.metadata.namespace ?? "")) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
};

/** The volume offers every access mode the claim asks for. */
export const accessModesSuperset = (pv: KObject, claim: KObject): boolean => {
  const have: string[] = pv.spec?.accessModes ?? [];
  return (claim.spec?.accessModes ?? []).every((m: string) => have.includes(m));
};

const volumeMode = (spec: any) => spec?.volumeMode || "Filesystem";

/** Does the volume's node affinity admit the node? (no affinity: every node) */
export const volumeAdmitsNode = (pv: KObject, node: KObject): boolean => {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!Array.isArray(terms)) return true;
  return terms.some((t: any) => matchNodeSelectorTerm(t, node));
};

/** Why a claim's pre-bound volume (spec.volumeName) cannot satisfy it, or null (checkVolumeSatisfyClaim). */
export const volumeMismatch = (pv: KObject, claim: KObject): string | null => {
  if (volumeCapacity(pv) < claimRequest(claim)) return "requested PV is too small";
  if (storageClassOf(pv) !== storageClassOf(claim)) return "storageClassName does not match";
  if (volumeMode(pv.spec) !== volumeMode(claim.spec)) return "incompatible volumeMode";
  if (!accessModesSuperset(pv, claim)) return "incompatible accessMode";
  return null;
};

export interface MatchOptions {
  /** the class binds late (WaitForFirstConsumer): only volumes reserved for the claim, unless a node is given */
  delayBinding?: boolean;
  /** the node the claim's pod goes to (the scheduler's question): the volume must admit it */
  node?: KObject;
}

/**
 * The best volume for an unbound claim (findMatchingVolume): one already reserved for it
 * (claimRef), else the smallest free one with enough capacity, every access mode asked
 * for, the same class and volume mode, labels matching the claim's selector and (for
 * the scheduler) node affinity admitting the node; among equal sizes, the one with the
 * fewest access modes, then by name. Volumes being deleted never match.
 */
export const findMatchingVolume = (claim: KObject, volumes: KObject[], o: MatchOptions = {}): KObject | null => {
  const request = claimRequest(claim);
  const cls = storageClassOf(claim);
  const selector = claim.spec?.selector ? selectorFromLabelSelector(claim.spec.selector) : null;
  let best: KObject | null = null;
  for (const pv of volumes) {
    if (volumeCapacity(pv) < request) continue;
    if (volumeMode(pv.spec) !== volumeMode(claim.spec)) continue;
    if (pv.metadata.deletionTimestamp) continue;
    const nodeOk = !o.node || volumeAdmitsNode(pv, o.node);
    if (isVolumeBoundToClaim(pv, claim)) return nodeOk ? pv : null;
    if (!o.node && o.delayBinding) continue;
    if (pv.spec?.claimRef) continue;
    if (!accessModesSuperset(pv, claim)) continue;
    if (selector && !matchLabels(selector, pv.metadata.labels)) continue;
    if (storageClassOf(pv) !== cls) continue;
    if (!nodeOk) continue;
    if (o.node && pv.status?.phase !== "Available") continue;
    if (!best || better(pv, best)) best = pv;
  }
  return best;
};

const better = (a: KObject, b: KObject): boolean => {
  const d = volumeCapacity(a) - volumeCapacity(b);
  if (d !== 0) return d < 0;
  const m = (a.spec?.accessModes?.length ?? 0) - (b.spec?.accessModes?.length ?? 0);
  if (m !== 0) return m < 0;
  return String(a.metadata.name) < String(b.metadata.name);
};

/** A claim reference for a volume's spec.claimRef. */
export const claimRefOf = (claim: KObject) => ({
  kind: "PersistentVolumeClaim",
  namespace: claim.metadata.namespace,
  name: claim.metadata.name,
  uid: claim.metadata.uid,
  apiVersion: "v1",
  resourceVersion: claim.metadata.resourceVersion,
});

/** Does a pod (not finished) mount the claim? (pvc-protection: such a claim is in use) */
export const podUsesClaim = (pod: KObject, claimName: string): boolean =>
  pod.status?.phase !== "Succeeded" &&
  pod.status?.phase !== "Failed" &&
  (pod.spec?.volumes ?? []).some((v: any) => v?.persistentVolumeClaim?.claimName === claimName);

/** The claim names a pod mounts. */
export const podClaimNames = (pod: KObject): string[] =>
  (pod.spec?.volumes ?? []).map((v: any) => v?.persistentVolumeClaim?.claimName).filter((n: unknown): n is string => typeof n === "string" && n !== "");
