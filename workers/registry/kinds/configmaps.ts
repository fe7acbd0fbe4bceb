/** ConfigMaps (core/v1): `immutable`. */
import type { StatusCause } from "../../../shared/status";
import type { KObject } from "../../../shared/types";
import { jsonEqual } from "../../../shared/json";
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";

/** Once `immutable` is set, data, binaryData and immutable itself stay as they are (ConfigMaps and Secrets). */
export const keepImmutable = (obj: KObject, old: KObject): StatusCause[] =>
  old.immutable === true && (!jsonEqual(obj.data, old.data) || !jsonEqual(obj.binaryData, old.binaryData) || obj.immutable !== true)
    ? [{ reason: "FieldValueForbidden", field: "data", message: "field is immutable when `immutable` is set" }]
    : [];

export const configmaps = defineKind({
  info: { resource: "configmaps", singular: "configmap", kind: "ConfigMap", group: "", version: "v1", namespaced: true, shortNames: ["cm"] },
  printer: {
    columns: [NAME, col("Data", "Number of data entries", { type: "integer" }), AGE],
    cells: (o, now) => [o.metadata.name, Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, age(o, now)],
  },
  strategy: { validateUpdate: keepImmutable },
});
