/** ReplicaSets (apps/v1): generation, immutable selector, scale, printer (shared with ReplicationControllers). */
import { selectorFromLabelSelector } from "../../../shared/selectors/labels";
import type { KObject } from "../../../shared/types";
import { selectorImmutable } from "./deployments";
import { defineKind } from "./kind";
import { AGE, age, col, containersCell, imagesCell, NAME, selectorString, wide } from "./printing";

export const replicaColumns = [
  NAME,
  col("Desired", "Number of desired pods.", { type: "integer" }),
  col("Current", "Number of actual pods.", { type: "integer" }),
  col("Ready", "The number of ready replicas.", { type: "integer" }),
  AGE,
  wide("Containers", "Names of each container in the template."),
  wide("Images", "Images referenced by each container in the template."),
  wide("Selector", "Label query over pods that should match the replicas count."),
];

export const replicaCells = (o: KObject, now: number, selector: string) => [
  o.metadata.name,
  o.spec?.replicas ?? 0,
  o.status?.replicas ?? 0,
  o.status?.readyReplicas ?? 0,
  age(o, now),
  containersCell(o),
  imagesCell(o),
  selector,
];

export const replicasets = defineKind({
  info: {
    resource: "replicasets",
    singular: "replicaset",
    kind: "ReplicaSet",
    group: "apps",
    version: "v1",
    namespaced: true,
    shortNames: ["rs"],
    categories: ["all"],
    subresources: ["status", "scale"],
    hasStatus: true,
  },
  printer: { columns: replicaColumns, cells: (o, now) => replicaCells(o, now, selectorString(o.spec?.selector)) },
  strategy: {
    fieldLabels: ["status.replicas"],
    tracksGeneration: true,
    prepareForCreate: (rs) => {
      rs.status = { replicas: 0 };
    },
    validateUpdate: selectorImmutable,
    scaleSelector: (rs) => selectorFromLabelSelector(rs.spec?.selector),
  },
});
