/**
 * Storage: PersistentVolume and PersistentVolumeClaim (core/v1) and StorageClass
 * (storage.k8s.io/v1). Kubeflare serves the hostPath and local volume sources (the
 * local-path provisioner in the agent makes local volumes).
 */
import { atomic, boolean, gvk, listOf, mapOf, object, oneOf, opt, req, string, stringMap } from "./dsl";
import { condition, LabelSelector, ObjectMeta, Quantity, Time } from "./meta";
import { HostPathVolumeSource, NodeSelector } from "./pod";
import { ObjectReference } from "./core";

export const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"] as const;
export const RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"] as const;
export const VOLUME_MODES = ["Block", "Filesystem"] as const;
export const PV_PHASES = ["Available", "Bound", "Failed", "Pending", "Released"] as const;
export const PVC_PHASES = ["Bound", "Lost", "Pending"] as const;
export const BINDING_MODES = ["Immediate", "WaitForFirstConsumer"] as const;

const meta = opt(ObjectMeta, "Standard object metadata: name, namespace, labels, annotations and the fields the server maintains.");
const accessModes = (what: string) =>
  opt(listOf(oneOf(ACCESS_MODES, { check: false })), `${what}: ReadWriteOnce (one node), ReadOnlyMany, ReadWriteMany or ReadWriteOncePod (one pod).`, atomic);

// ---------------------------------------------------------------- PersistentVolume

export const LocalVolumeSource = object(
  "io.k8s.api.core.v1.LocalVolumeSource",
  "A directory (or disk) of one node; the volume's nodeAffinity names the node.",
  {
    path: req(string, "Full path of the directory on the node."),
    fsType: opt(string, "Filesystem type of a block device; not used for directories."),
  },
);

export const VolumeNodeAffinity = object("io.k8s.api.core.v1.VolumeNodeAffinity", "The nodes a volume can be reached from.", {
  required: opt(NodeSelector, "Nodes that can reach the volume; pods using it are scheduled only there."),
});

export const PersistentVolumeSpec = object("io.k8s.api.core.v1.PersistentVolumeSpec", "A piece of storage and how claims may use it.", {
  capacity: opt(mapOf(Quantity), "The volume's size: storage is the only resource, such as storage: 10Gi."),
  accessModes: accessModes("How the volume can be mounted"),
  claimRef: opt(ObjectReference, "The claim bound to the volume (or reserved for it, when set before binding).", { "x-kubernetes-map-type": "granular" }),
  persistentVolumeReclaimPolicy: opt(
    oneOf(RECLAIM_POLICIES, { check: false }),
    "What happens when its claim is deleted: Retain (the default for manual volumes: kept, Released), Delete (the volume and its data are deleted), Recycle (deprecated).",
  ),
  storageClassName: opt(string, "The StorageClass the volume belongs to; only claims of that class bind it. Empty: no class."),
  mountOptions: opt(listOf(string), "Mount options, for volume types that take them.", atomic),
  volumeMode: opt(oneOf(VOLUME_MODES, { check: false }), "Filesystem (the default) or Block."),
  nodeAffinity: opt(VolumeNodeAffinity, "The nodes the volume can be used from; required for local volumes."),
  volumeAttributesClassName: opt(string, "The VolumeAttributesClass of the volume (not used by Kubeflare)."),
  hostPath: opt(HostPathVolumeSource, "A directory of the node the pod runs on; for single-node testing."),
  local: opt(LocalVolumeSource, "A directory of one node (named by nodeAffinity)."),
});

export const PersistentVolumeStatus = object("io.k8s.api.core.v1.PersistentVolumeStatus", "The observed state of a volume.", {
  phase: opt(
    oneOf(PV_PHASES, { check: false }),
    "Pending (not ready), Available (free), Bound (to a claim), Released (its claim was deleted, not yet reclaimed) or Failed (reclaiming failed).",
  ),
  message: opt(string, "Why the volume is in this phase, for people."),
  reason: opt(string, "Why the volume is in this phase, in one word."),
  lastPhaseTransitionTime: opt(Time, "When the phase last changed."),
});

export const PersistentVolume = object(
  "io.k8s.api.core.v1.PersistentVolume",
  "A piece of storage in the cluster, made by an administrator or by a provisioner, which a PersistentVolumeClaim binds.",
  {
    apiVersion: opt(string, "API version of the object: v1."),
    kind: opt(string, "Kind of the object: PersistentVolume."),
    metadata: meta,
    spec: opt(PersistentVolumeSpec, "The storage and how it may be used."),
    status: opt(PersistentVolumeStatus, "The observed state of the volume."),
  },
  gvk("", "v1", "PersistentVolume"),
);

// ---------------------------------------------------------------- PersistentVolumeClaim

export const TypedLocalObjectReference = object(
  "io.k8s.api.core.v1.TypedLocalObjectReference",
  "Points at an object of the same namespace by its group, kind and name.",
  {
    apiGroup: opt(string, "Group of the object; empty for the core group."),
    kind: req(string, "Kind of the object."),
    name: req(string, "Name of the object."),
  },
  { "x-kubernetes-map-type": "atomic" },
);

export const TypedObjectReference = object("io.k8s.api.core.v1.TypedObjectReference", "Points at an object by its group, kind, name and namespace.", {
  apiGroup: opt(string, "Group of the object; empty for the core group."),
  kind: req(string, "Kind of the object."),
  name: req(string, "Name of the object."),
  namespace: opt(string, "Namespace of the object."),
});

export const VolumeResourceRequirements = object("io.k8s.api.core.v1.VolumeResourceRequirements", "The storage a claim asks for.", {
  limits: opt(mapOf(Quantity), "Most storage the claim may have."),
  requests: opt(mapOf(Quantity), "Least storage the claim needs: storage is required, such as storage: 1Gi."),
});

export const PersistentVolumeClaimSpec = object("io.k8s.api.core.v1.PersistentVolumeClaimSpec", "The storage a claim asks for.", {
  accessModes: accessModes("How the volume must be mountable (at least one)"),
  selector: opt(LabelSelector, "Only volumes with these labels; a claim with a selector is not provisioned dynamically."),
  resources: opt(VolumeResourceRequirements, "The storage wanted: resources.requests.storage is required."),
  volumeName: opt(string, "Bind to this PersistentVolume (pre-binding); set by the controller once bound."),
  storageClassName: opt(
    string,
    'The StorageClass wanted. Unset: the default class (set on creation); "": a volume with no class, never provisioned dynamically.',
  ),
  volumeMode: opt(oneOf(VOLUME_MODES, { check: false }), "Filesystem (the default) or Block."),
  dataSource: opt(TypedLocalObjectReference, "An object to fill the new volume from (not used by Kubeflare)."),
  dataSourceRef: opt(TypedObjectReference, "An object to fill the new volume from (not used by Kubeflare)."),
  volumeAttributesClassName: opt(string, "The VolumeAttributesClass wanted (not used by Kubeflare)."),
});

export const PersistentVolumeClaimCondition = condition(
  "io.k8s.api.core.v1.PersistentVolumeClaimCondition",
  "claim (Resizing, FileSystemResizePending)",
  ["lastProbeTime", "lastTransitionTime"],
  {
    reason: opt(string, "Why the condition is so, in one word."),
    message: opt(string, "Details, for people."),
  },
);

export const PersistentVolumeClaimStatus = object("io.k8s.api.core.v1.PersistentVolumeClaimStatus", "The observed state of a claim.", {
  phase: opt(oneOf(PVC_PHASES, { check: false }), "Pending (not bound yet), Bound, or Lost (its volume is gone)."),
  accessModes: accessModes("How the bound volume can be mounted"),
  capacity: opt(mapOf(Quantity), "The bound volume's size."),
  conditions: opt(listOf(PersistentVolumeClaimCondition), "Resizing conditions.", {
    "x-kubernetes-list-map-keys": ["type"],
    "x-kubernetes-list-type": "map",
    "x-kubernetes-patch-merge-key": "type",
    "x-kubernetes-patch-strategy": "merge",
  }),
  allocatedResources: opt(mapOf(Quantity), "Storage allocated to the claim (while resizing)."),
  allocatedResourceStatuses: opt(stringMap, "Resize progress of each resource.", { "x-kubernetes-map-type": "granular" }),
  currentVolumeAttributesClassName: opt(string, "The VolumeAttributesClass in effect (not used by Kubeflare)."),
  modifyVolumeStatus: opt(mapOf(string), "Progress of a VolumeAttributesClass change (not used by Kubeflare)."),
});

export const PersistentVolumeClaim = object(
  "io.k8s.api.core.v1.PersistentVolumeClaim",
  "A request for storage by a user: the controller binds it to a matching PersistentVolume, or a provisioner makes one.",
  {
    apiVersion: opt(string, "API version of the object: v1."),
    kind: opt(string, "Kind of the object: PersistentVolumeClaim."),
    metadata: meta,
    spec: opt(PersistentVolumeClaimSpec, "The storage wanted."),
    status: opt(PersistentVolumeClaimStatus, "The observed state of the claim."),
  },
  gvk("", "v1", "PersistentVolumeClaim"),
);

// ---------------------------------------------------------------- StorageClass

export const TopologySelectorLabelRequirement = object("io.k8s.api.core.v1.TopologySelectorLabelRequirement", "A topology label and the values it may take.", {
  key: req(string, "The label key."),
  values: req(listOf(string), "The values, any of which matches.", atomic),
});

export const TopologySelectorTerm = object(
  "io.k8s.api.core.v1.TopologySelectorTerm",
  "Conditions on topology labels that must all hold.",
  { matchLabelExpressions: opt(listOf(TopologySelectorLabelRequirement), "The conditions.", atomic) },
  { "x-kubernetes-map-type": "atomic" },
);

export const StorageClass = object(
  "io.k8s.api.storage.v1.StorageClass",
  'A class of storage: the provisioner that makes its volumes dynamically and their parameters. The class annotated storageclass.kubernetes.io/is-default-class: "true" is given to claims that name none.',
  {
    apiVersion: opt(string, "API version of the object: storage.k8s.io/v1."),
    kind: opt(string, "Kind of the object: StorageClass."),
    metadata: meta,
    provisioner: req(string, "The provisioner of the class's volumes, such as kubeflare.dev/local-path. Cannot change."),
    parameters: opt(stringMap, "Parameters for the provisioner. Cannot change."),
    reclaimPolicy: opt(
      oneOf(["Delete", "Retain"], { check: false }),
      "The reclaim policy of provisioned volumes: Delete (the default) or Retain. Cannot change.",
    ),
    mountOptions: opt(listOf(string), "Mount options of provisioned volumes.", atomic),
    allowVolumeExpansion: opt(boolean, "Whether claims of the class may ask for more storage."),
    volumeBindingMode: opt(
      oneOf(BINDING_MODES, { check: false }),
      "Immediate (the default): bind or provision as soon as a claim exists; WaitForFirstConsumer: wait until a pod using the claim is scheduled, and provision on its node. Cannot change.",
    ),
    allowedTopologies: opt(listOf(TopologySelectorTerm), "Where volumes may be provisioned; empty: anywhere.", atomic),
  },
  gvk("storage.k8s.io", "v1", "StorageClass"),
);
