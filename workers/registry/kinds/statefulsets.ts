/** StatefulSets (apps/v1): generation, the spec fields an update may change, scale, `kubectl get sts` columns. */
import { jsonEqual } from "../../../shared/json";
import { selectorFromLabelSelector } from "../../../shared/selectors/labels";
import type { StatusCause } from "../../../shared/status";
import type { KObject } from "../../../shared/types";
import { defineKind } from "./kind";
import { AGE, age, col, containersCell, imagesCell, NAME, wide } from "./printing";

const MUTABLE = ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

/** apps ValidateStatefulSetUpdate: only some spec fields may change. */
export const statefulSetUpdate = (obj: KObject, old: KObject): StatusCause[] => {
  const rest = (o: KObject) => Object.fromEntries(Object.entries(o.spec ?? {}).filter(([k]) => !MUTABLE.includes(k)));
  if (jsonEqual(rest(obj), rest(old))) return [];
  return [
    {
      reason: "FieldValueForbidden",
      field: "spec",
      message: `Forbidden: updates to statefulset spec for fields other than ${MUTABLE.slice(0, -1)
        .map((f) => `'${f}'`)
        .join(", ")} and 'minReadySeconds' are forbidden`,
    },
  ];
};

export const statefulsets = defineKind({
  info: {
    resource: "statefulsets",
    singular: "statefulset",
    kind: "StatefulSet",
    group: "apps",
    version: "v1",
    namespaced: true,
    shortNames: ["sts"],
    categories: ["all"],
    subresources: ["status", "scale"],
    hasStatus: true,
  },
  printer: {
    columns: [
      NAME,
      col("Ready", "Number of the pod with ready state"),
      AGE,
      wide("Containers", "Names of each container in the template."),
      wide("Images", "Images referenced by each container in the template."),
    ],
    cells: (o, now) => [o.metadata.name, `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`, age(o, now), containersCell(o), imagesCell(o)],
  },
  strategy: {
    tracksGeneration: true,
    prepareForCreate: (s) => {
      s.status = { replicas: 0, availableReplicas: 0 };
    },
    validateUpdate: statefulSetUpdate,
    scaleSelector: (s) => selectorFromLabelSelector(s.spec?.selector),
  },
});
