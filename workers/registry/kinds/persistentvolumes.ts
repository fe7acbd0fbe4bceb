/** PersistentVolumes (core/v1, cluster-scoped): status subresource, the pv-protection finalizer, `kubectl get pv` columns. */
import { validatePersistentVolumeUpdate } from "../../../shared/validation/rules/storage";
import type { KObject } from "../../../shared/types";
import { defineKind } from "./kind";
import { AGE, age, col, NAME, wide } from "./printing";

export const PV_PROTECTION = "kubernetes.io/pv-protection";

const MODES: [string, string][] = [
  ["ReadWriteOnce", "RWO"],
  ["ReadOnlyMany", "ROX"],
  ["ReadWriteMany", "RWX"],
  ["ReadWriteOncePod", "RWOP"],
];

/** Access modes as kubectl abbreviates them (helper.GetAccessModesAsString): a fixed order, each once. */
export const accessModesString = (modes: unknown): string => {
  const list = Array.isArray(modes) ? modes : [];
  return MODES.filter(([m]) => list.includes(m))
    .map(([, short]) => short)
    .join(",");
};

/** StorageClass of a volume or claim: the beta annotation wins over the field, as kube's helpers read it. */
export const storageClassOf = (o: KObject): string => o.metadata.annotations?.["volume.beta.kubernetes.io/storage-class"] ?? o.spec?.storageClassName ?? "";

/** Add a finalizer on create unless it is there (the StorageObjectInUseProtection admission plugin). */
export const addFinalizer = (o: KObject, f: string) => {
  const list: string[] = Array.isArray(o.metadata.finalizers) ? o.metadata.finalizers : [];
  if (!list.includes(f)) o.metadata.finalizers = [...list, f];
};

export const persistentvolumes = defineKind({
  info: {
    resource: "persistentvolumes",
    singular: "persistentvolume",
    kind: "PersistentVolume",
    group: "",
    version: "v1",
    namespaced: false,
    shortNames: ["pv"],
    subresources: ["status"],
    hasStatus: true,
  },
  printer: {
    columns: [
      NAME,
      col("Capacity", "capacity is the description of the persistent volume's resources and capacity."),
      col("Access Modes", "accessModes contains all ways the volume can be mounted."),
      col("Reclaim Policy", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."),
      col("Status", "phase indicates if a volume is available, bound to a claim, or released by a claim."),
      col("Claim", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."),
      col("StorageClass", "storageClassName is the name of StorageClass to which this persistent volume belongs."),
      col("VolumeAttributesClass", "Name of VolumeAttributesClass to which this persistent volume belongs."),
      col("Reason", "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI."),
      AGE,
      wide("VolumeMode", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state."),
    ],
    cells: (o, now) => {
      const ref = o.spec?.claimRef;
      return [
        o.metadata.name,
        String(o.spec?.capacity?.storage ?? ""),
        accessModesString(o.spec?.accessModes),
        o.spec?.persistentVolumeReclaimPolicy ?? "",
        o.metadata.deletionTimestamp ? "Terminating" : (o.status?.phase ?? ""),
        ref ? `${ref.namespace ?? ""}/${ref.name ?? ""}` : "",
        storageClassOf(o),
        o.spec?.volumeAttributesClassName || "<unset>",
        o.status?.reason ?? "",
        age(o, now),
        o.spec?.volumeMode || "<unset>",
      ];
    },
  },
  strategy: {
    prepareForCreate: (pv) => {
      pv.status = { phase: "Pending" };
    },
    admit: (pv) => addFinalizer(pv, PV_PROTECTION),
    validateUpdate: validatePersistentVolumeUpdate,
  },
});
