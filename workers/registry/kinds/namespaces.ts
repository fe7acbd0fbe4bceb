/** Namespaces (core/v1): finalized through spec.finalizers by the namespace controller. */
import { forbidden } from "../../../shared/status";
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";

export const namespaces = defineKind({
  info: {
    resource: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    group: "",
    version: "v1",
    namespaced: false,
    shortNames: ["ns"],
    subresources: ["status", "finalize"],
    hasStatus: true,
  },
  printer: {
    columns: [NAME, col("Status", "The status of the namespace"), AGE],
    cells: (o, now) => [o.metadata.name, o.status?.phase ?? "", age(o, now)],
  },
  strategy: {
    fieldLabels: ["status.phase"],
    prepareForCreate: (ns) => {
      ns.status = { phase: "Active" };
      // the namespace controller removes this once the namespace's content is gone
      if (!ns.spec || typeof ns.spec !== "object") ns.spec = {};
      ns.spec.finalizers ??= ["kubernetes"];
    },
    admitDelete: (name) => {
      if (name === "default") throw forbidden(`namespaces "default" is forbidden: this namespace may not be deleted`);
    },
    // a namespace waits for its spec.finalizers (the namespace controller empties it, then removes "kubernetes")
    prepareForDelete: (ns) => {
      ns.status = { ...(ns.status ?? {}), phase: "Terminating" };
      return (ns.spec?.finalizers?.length ?? 0) > 0;
    },
    deletionComplete: (ns) => !ns.spec?.finalizers?.length,
  },
});
