/** DaemonSets (apps/v1): generation, immutable selector, `kubectl get ds` columns. */
import { selectorImmutable } from "./deployments";
import { defineKind } from "./kind";
import { AGE, age, col, mapSelector, NAME, templateCells, templateColumns } from "./printing";

export const daemonsets = defineKind({
  info: {
    resource: "daemonsets",
    singular: "daemonset",
    kind: "DaemonSet",
    group: "apps",
    version: "v1",
    namespaced: true,
    shortNames: ["ds"],
    categories: ["all"],
    subresources: ["status"],
    hasStatus: true,
  },
  printer: {
    columns: [
      NAME,
      col("Desired", "The desired number of daemon pods.", { type: "integer" }),
      col("Current", "The current number of daemon pods.", { type: "integer" }),
      col("Ready", "The number of ready daemon pods.", { type: "integer" }),
      col("Up-to-date", "The number of daemon pods that run the current template.", { type: "integer" }),
      col("Available", "The number of available daemon pods.", { type: "integer" }),
      col("Node Selector", "Which nodes should run a daemon pod."),
      AGE,
      ...templateColumns("Label query over pods that should match the replicas count."),
    ],
    cells: (o, now) => [
      o.metadata.name,
      o.status?.desiredNumberScheduled ?? 0,
      o.status?.currentNumberScheduled ?? 0,
      o.status?.numberReady ?? 0,
      o.status?.updatedNumberScheduled ?? 0,
      o.status?.numberAvailable ?? 0,
      mapSelector(o.spec?.template?.spec?.nodeSelector),
      age(o, now),
      ...templateCells(o),
    ],
  },
  strategy: {
    tracksGeneration: true,
    prepareForCreate: (ds) => {
      ds.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
    },
    validateUpdate: selectorImmutable,
  },
});
