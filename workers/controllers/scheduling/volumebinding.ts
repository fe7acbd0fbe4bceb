/**
 * kube-scheduler's VolumeBinding plugin, for one pass: which nodes a pod's
 * PersistentVolumeClaims allow, and what must be written for the claims before the pod
 * is bound.
 *
 * - PreFilter: a claim that does not exist or is being deleted, or an unbound claim of
 *   an Immediate class, makes the pod unschedulable on every node.
 * - Filter: a bound claim's volume must admit the node (its nodeAffinity). An unbound
 *   WaitForFirstConsumer claim either finds a free volume that admits the node (the
 *   smallest, as the PV controller picks) or is provisioned there, which needs a class
 *   with a provisioner whose allowedTopologies admit the node; a claim already given a
 *   node (volume.kubernetes.io/selected-node) allows only that node.
 * - Assume: on the chosen node, a found volume is reserved for the claim (its claimRef,
 *   as kube's PreBind writes it; the PV controller completes the binding) and a claim to
 *   provision gets the selected-node annotation (the node's agent provisions it).
 *
 * Kubeflare then binds the pod at once instead of waiting in PreBind for the claims to
 * be bound (kube-scheduler's bindTimeout): a pass keeps no state between runs, and the
 * agent of the node waits for the claim to be Bound before it starts the containers
 * (it is the one that provisions local-path claims, which it finds through the pod).
 * A reservation that loses a race is not written and the pod waits for the next pass.
 */
import type { KObject } from "../../../shared/types";
import { storageClassOf } from "../../registry/kinds/persistentvolumes";
import { ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE, claimRefOf, findMatchingVolume, volumeAdmitsNode } from "../persistentvolume-match";

export const REASON_VOLUME_NODE_CONFLICT = "node(s) had volume node affinity conflict";
export const REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const REASON_PV_NOT_EXIST = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
export const UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims";

/** A pod's claims, sorted as kube's GetPodVolumeClaims sorts them. */
export interface PodVolumes {
  bound: KObject[];
  /** unbound claims of WaitForFirstConsumer classes */
  delayed: KObject[];
}

/** The writes a placement needs before the pod is bound. */
export interface VolumeWrites {
  /** volumes to reserve for a claim (their claimRef), as read in the pass */
  reserve: { pv: KObject; claim: KObject }[];
  /** claims to provision on the node (volume.kubernetes.io/selected-node) */
  select: KObject[];
}

const claimNames = (pod: KObject): string[] =>
  (pod.spec?.volumes ?? []).map((v: any) => v?.persistentVolumeClaim?.claimName).filter((n: unknown): n is string => typeof n === "string" && n !== "");

export const podHasClaims = (pod: KObject): boolean => claimNames(pod).length > 0;

/** Does a StorageClass's allowedTopologies admit the node (none: every node)? */
const topologyAdmits = (cls: KObject, node: KObject): boolean => {
  const terms = cls.allowedTopologies;
  if (!Array.isArray(terms) || !terms.length) return true;
  const labels = node.metadata?.labels ?? {};
  return terms.some((t: any) => (t?.matchLabelExpressions ?? []).every((e: any) => (e?.values ?? []).includes(labels[e?.key])));
};

export class VolumeBinder {
  private readonly claims = new Map<string, KObject>();
  private readonly volumes = new Map<string, KObject>();
  private readonly classes = new Map<string, KObject>();
  /** volumes reserved by pods placed earlier in this pass */
  private readonly reserved = new Set<string>();
  /** claims given a node by pods placed earlier in this pass */
  private readonly selected = new Map<string, string>();

  constructor(claims: KObject[], volumes: KObject[], classes: KObject[]) {
    for (const c of claims) this.claims.set(`${c.metadata.namespace}/${c.metadata.name}`, c);
    for (const v of volumes) this.volumes.set(v.metadata.name!, v);
    for (const s of classes) this.classes.set(s.metadata.name!, s);
  }

  /** PreFilter: the pod's claims, or why no node will do. */
  preFilter(pod: KObject): PodVolumes | { error: string } {
    const out: PodVolumes = { bound: [], delayed: [] };
    let immediate = false;
    for (const name of claimNames(pod)) {
      const claim = this.claims.get(`${pod.metadata.namespace ?? ""}/${name}`);
      if (!claim) return { error: `persistentvolumeclaim "${name}" not found` };
      if (claim.metadata.deletionTimestamp) return { error: `persistentvolumeclaim "${name}" is being deleted` };
      if (claim.spec?.volumeName) out.bound.push(claim);
      else if (this.classes.get(storageClassOf(claim))?.volumeBindingMode === "WaitForFirstConsumer") out.delayed.push(claim);
      else immediate = true;
    }
    if (immediate) return { error: UNBOUND_IMMEDIATE };
    return out;
  }

  /** Filter: null when the node suits the pod's claims, else kube-scheduler's reason. */
  filter(pv: PodVolumes, node: KObject): string | null {
    for (const claim of pv.bound) {
      const vol = this.volumes.get(claim.spec.volumeName);
      if (!vol) return REASON_PV_NOT_EXIST;
      if (!volumeAdmitsNode(vol, node)) return REASON_VOLUME_NODE_CONFLICT;
    }
    if (pv.delayed.length && !this.plan(pv, node)) return REASON_BIND_CONFLICT;
    return null;
  }

  /** What the delayed claims need on `node`, or null when some cannot be satisfied there. */
  private plan(pv: PodVolumes, node: KObject): VolumeWrites | null {
    const writes: VolumeWrites = { reserve: [], select: [] };
    const taken = new Set(this.reserved);
    for (const claim of pv.delayed) {
      const key = `${claim.metadata.namespace}/${claim.metadata.name}`;
      const chosen = claim.metadata.annotations?.[ANN_SELECTED_NODE] ?? this.selected.get(key);
      if (chosen) {
        // being provisioned (or about to be) on a node already
        if (chosen !== node.metadata.name) return null;
        continue;
      }
      const free = [...this.volumes.values()].filter((v) => !taken.has(v.metadata.name!));
      const vol = findMatchingVolume(claim, free, { delayBinding: true, node });
      if (vol) {
        taken.add(vol.metadata.name!);
        if (!vol.spec?.claimRef) writes.reserve.push({ pv: vol, claim });
        continue;
      }
      const cls = this.classes.get(storageClassOf(claim));
      if (!cls?.provisioner || cls.provisioner === "kubernetes.io/no-provisioner" || claim.spec?.selector || !topologyAdmits(cls, node)) return null;
      writes.select.push(claim);
    }
    return writes;
  }

  /** Assume: the pod goes to `node`; returns the writes, and keeps later pods of the pass from taking the same volumes. */
  assume(pv: PodVolumes, node: KObject): VolumeWrites {
    const writes = this.plan(pv, node) ?? { reserve: [], select: [] };
    for (const r of writes.reserve) this.reserved.add(r.pv.metadata.name!);
    for (const c of writes.select) this.selected.set(`${c.metadata.namespace}/${c.metadata.name}`, node.metadata.name!);
    return writes;
  }
}

/** The volume with its claimRef set to the claim (the scheduler's reservation). */
export const reservedVolume = (pv: KObject, claim: KObject): KObject => ({
  ...pv,
  metadata: { ...pv.metadata, annotations: { ...(pv.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: "yes" } },
  spec: { ...pv.spec, claimRef: claimRefOf(claim) },
});

/** The claim with the node chosen for provisioning. */
export const selectedClaim = (claim: KObject, node: string): KObject => ({
  ...claim,
  metadata: { ...claim.metadata, annotations: { ...(claim.metadata.annotations ?? {}), [ANN_SELECTED_NODE]: node } },
});
