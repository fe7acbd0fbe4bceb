/** Deployments (apps/v1): generation, immutable selector, scale, printer. */
import { selectorFromLabelSelector } from "../../../shared/selectors/labels";
import type { StatusCause } from "../../../shared/status";
import type { KObject } from "../../../shared/types";
import { jsonEqual } from "../../../shared/json";
import { defineKind } from "./kind";
import { AGE, age, col, NAME, type Printer, templateCells, templateColumns } from "./printing";

/** apps/v1 selectors are immutable (Deployments and ReplicaSets). */
export const selectorImmutable = (obj: KObject, old: KObject): StatusCause[] =>
  jsonEqual(obj.spec?.selector, old.spec?.selector) ? [] : [{ reason: "FieldValueInvalid", field: "spec.selector", message: "field is immutable" }];

const deploymentPrinter: Printer = {
  columns: [
    NAME,
    col("Ready", "Number of the pod with ready state"),
    col("Up-to-date", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", { type: "integer" }),
    col("Available", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", { type: "integer" }),
    AGE,
    ...templateColumns("Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment."),
  ],
  cells: (o, now) => [
    o.metadata.name,
    `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`,
    o.status?.updatedReplicas ?? 0,
    o.status?.availableReplicas ?? 0,
    age(o, now),
    ...templateCells(o),
  ],
};

export const deployments = defineKind({
  info: {
    resource: "deployments",
    singular: "deployment",
    kind: "Deployment",
    group: "apps",
    version: "v1",
    namespaced: true,
    shortNames: ["deploy"],
    categories: ["all"],
    subresources: ["status", "scale"],
    hasStatus: true,
  },
  printer: deploymentPrinter,
  strategy: {
    tracksGeneration: true,
    prepareForCreate: (d) => {
      d.status = {};
    },
    validateUpdate: selectorImmutable,
    scaleSelector: (d) => selectorFromLabelSelector(d.spec?.selector),
  },
});
