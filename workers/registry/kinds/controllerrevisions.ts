/** ControllerRevisions (apps/v1): immutable snapshots DaemonSets and StatefulSets keep for rollbacks. */
import { jsonEqual } from "../../../shared/json";
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";

export const controllerrevisions = defineKind({
  info: {
    resource: "controllerrevisions",
    singular: "controllerrevision",
    kind: "ControllerRevision",
    group: "apps",
    version: "v1",
    namespaced: true,
  },
  printer: {
    // kubectl's printControllerRevision: NAME CONTROLLER REVISION AGE
    columns: [NAME, col("Controller", "Controller of the object."), col("Revision", "Revision of the ControllerRevision.", { type: "integer" }), AGE],
    cells: (o, now) => {
      const ref = (o.metadata.ownerReferences ?? []).find((r) => r.controller);
      // formatResourceName(GroupKind, name, withKind): "daemonset.apps/ssd-monitor"
      const group = ref?.apiVersion?.includes("/") ? ref.apiVersion.split("/")[0] : "";
      const controller = ref ? `${(group ? `${ref.kind}.${group}` : `${ref.kind}`).toLowerCase()}/${ref.name}` : "<none>";
      return [o.metadata.name, controller, (o as any).revision ?? 0, age(o, now)];
    },
  },
  strategy: {
    validateUpdate: (obj, old) =>
      jsonEqual((obj as any).data, (old as any).data) ? [] : [{ reason: "FieldValueInvalid", field: "data", message: "field is immutable" }],
  },
});
