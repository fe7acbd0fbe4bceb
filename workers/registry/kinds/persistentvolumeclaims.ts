/**
 * PersistentVolumeClaims (core/v1): status subresource, the DefaultStorageClass and
 * StorageObjectInUseProtection admission plugins, expansion admission
 * (PersistentVolumeClaimResize), an immutable spec, `kubectl get pvc` columns.
 */
import { isQuantity, parseQuantity } from "../../../shared/quantity";
import { forbidden } from "../../../shared/status";
import { validatePersistentVolumeClaimUpdate } from "../../../shared/validation/rules/storage";
import { defineKind } from "./kind";
import { accessModesString, addFinalizer, storageClassOf } from "./persistentvolumes";
import { AGE, age, col, NAME, wide } from "./printing";
import { defaultClass } from "./storageclasses";

export const PVC_PROTECTION = "kubernetes.io/pvc-protection";

export const persistentvolumeclaims = defineKind({
  info: {
    resource: "persistentvolumeclaims",
    singular: "persistentvolumeclaim",
    kind: "PersistentVolumeClaim",
    group: "",
    version: "v1",
    namespaced: true,
    shortNames: ["pvc"],
    subresources: ["status"],
    hasStatus: true,
  },
  printer: {
    columns: [
      NAME,
      col("Status", "phase represents the current phase of PersistentVolumeClaim."),
      col("Volume", "volumeName is the binding reference to the PersistentVolume backing this claim."),
      col("Capacity", "capacity represents the actual resources of the underlying volume."),
      col("Access Modes", "accessModes contains the actual access modes the volume backing the PVC has."),
      col("StorageClass", "storageClassName is the name of the StorageClass required by the claim."),
      col("VolumeAttributesClass", "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim."),
      AGE,
      wide("VolumeMode", "volumeMode defines what type of volume is required by the claim."),
    ],
    cells: (o, now) => {
      const bound = !!o.spec?.volumeName;
      return [
        o.metadata.name,
        o.metadata.deletionTimestamp ? "Terminating" : (o.status?.phase ?? ""),
        o.spec?.volumeName ?? "",
        bound ? String(o.status?.capacity?.storage ?? "") : "",
        bound ? accessModesString(o.status?.accessModes) : "",
        storageClassOf(o),
        o.spec?.volumeAttributesClassName || "<unset>",
        age(o, now),
        o.spec?.volumeMode || "<unset>",
      ];
    },
  },
  strategy: {
    prepareForCreate: (pvc) => {
      pvc.status = { phase: "Pending" };
    },
    admit: async (pvc, ctx) => {
      addFinalizer(pvc, PVC_PROTECTION);
      // DefaultStorageClass: a claim that names no class (unset, not "") gets the default one
      if (
        pvc.spec &&
        (pvc.spec.storageClassName === undefined || pvc.spec.storageClassName === null) &&
        !pvc.metadata.annotations?.["volume.beta.kubernetes.io/storage-class"]
      ) {
        const sc = defaultClass(await ctx.list("storageclasses"));
        if (sc) pvc.spec.storageClassName = sc.metadata.name;
      }
    },
    admitUpdate: async (pvc, old, ctx) => {
      // PersistentVolumeClaimResize: growing a claim needs a class that allows expansion
      const want = pvc.spec?.resources?.requests?.storage;
      const had = old.spec?.resources?.requests?.storage;
      if (old.status?.phase !== "Bound" || !isQuantity(want) || !isQuantity(had) || parseQuantity(want) <= parseQuantity(had)) return;
      const name = storageClassOf(old);
      const sc = name ? await ctx.get("storageclasses", "", name) : null;
      if (!sc?.allowVolumeExpansion) {
        throw forbidden(
          `persistentvolumeclaims "${pvc.metadata.name}" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize`,
        );
      }
    },
    validateUpdate: validatePersistentVolumeClaimUpdate,
  },
});
