/** ReplicationControllers (core/v1): generation, scale with a map selector, printer. */
import { selectorFromMap } from "../../../shared/selectors/labels";
import { defineKind } from "./kind";
import { mapSelector } from "./printing";
import { replicaCells, replicaColumns } from "./replicasets";

export const replicationcontrollers = defineKind({
  info: {
    resource: "replicationcontrollers",
    singular: "replicationcontroller",
    kind: "ReplicationController",
    group: "",
    version: "v1",
    namespaced: true,
    shortNames: ["rc"],
    categories: ["all"],
    subresources: ["status", "scale"],
    hasStatus: true,
  },
  printer: { columns: replicaColumns, cells: (o, now) => replicaCells(o, now, mapSelector(o.spec?.selector)) },
  strategy: {
    fieldLabels: ["status.replicas"],
    tracksGeneration: true,
    prepareForCreate: (rc) => {
      rc.status = { replicas: 0 };
    },
    scaleSelector: (rc) => selectorFromMap(rc.spec?.selector),
  },
});
