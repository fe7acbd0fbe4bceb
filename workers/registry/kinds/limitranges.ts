/**
 * LimitRanges (core/v1): the LimitRanger admission (admission/limitranger.ts) applies
 * them to pods and claims as they are created; `kubectl get limits` shows NAME and
 * CREATED AT.
 */
import { defineKind } from "./kind";
import { col, NAME } from "./printing";

const createdAt = (ts: string | undefined) => (ts ? new Date(ts).toISOString().replace(/\.\d{3}Z$/, "Z") : "<unknown>");

export const limitranges = defineKind({
  info: {
    resource: "limitranges",
    singular: "limitrange",
    kind: "LimitRange",
    group: "",
    version: "v1",
    namespaced: true,
    shortNames: ["limits"],
  },
  printer: {
    columns: [NAME, col("Created At", "CreationTimestamp is a timestamp representing the server time when this object was created.", { type: "date" })],
    cells: (o) => [o.metadata.name, createdAt(o.metadata.creationTimestamp)],
  },
});
