/** StorageClasses (storage.k8s.io/v1): immutable provisioner and parameters, `kubectl get sc` columns with "(default)". */
import { validateStorageClassUpdate } from "../../../shared/validation/rules/storage";
import type { KObject } from "../../../shared/types";
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";

export const IS_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class";
const BETA_IS_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class";

/** Is the class annotated as the default one (storageutil.IsDefaultAnnotation)? */
export const isDefaultClass = (sc: KObject): boolean =>
  sc.metadata.annotations?.[IS_DEFAULT_CLASS] === "true" || sc.metadata.annotations?.[BETA_IS_DEFAULT_CLASS] === "true";

/**
 * The default StorageClass as kube's DefaultStorageClass admission picks it: of the
 * classes annotated as default, the newest (then by name); null when there is none.
 */
export const defaultClass = (classes: KObject[]): KObject | null => {
  const defaults = classes.filter((sc) => !sc.metadata.deletionTimestamp && isDefaultClass(sc));
  defaults.sort(
    (a, b) =>
      String(b.metadata.creationTimestamp ?? "").localeCompare(String(a.metadata.creationTimestamp ?? "")) ||
      String(a.metadata.name).localeCompare(String(b.metadata.name)),
  );
  return defaults[0] ?? null;
};

export const storageclasses = defineKind({
  info: {
    resource: "storageclasses",
    singular: "storageclass",
    kind: "StorageClass",
    group: "storage.k8s.io",
    version: "v1",
    namespaced: false,
    shortNames: ["sc"],
  },
  printer: {
    columns: [
      NAME,
      col("Provisioner", "Indicates the type of the provisioner."),
      col("ReclaimPolicy", "Dynamically provisioned PersistentVolumes of this storage class are created with this reclaimPolicy. Defaults to Delete."),
      col(
        "VolumeBindingMode",
        "VolumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used.",
      ),
      col("AllowVolumeExpansion", "AllowVolumeExpansion shows whether the storage class allow volume expand."),
      AGE,
    ],
    cells: (o, now) => [
      isDefaultClass(o) ? `${o.metadata.name} (default)` : o.metadata.name,
      o.provisioner ?? "",
      o.reclaimPolicy || "Delete",
      o.volumeBindingMode || "Immediate",
      o.allowVolumeExpansion === true,
      age(o, now),
    ],
  },
  strategy: {
    validateUpdate: validateStorageClassUpdate,
  },
});
