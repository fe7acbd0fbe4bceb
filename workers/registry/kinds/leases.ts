/** Leases (coordination.k8s.io/v1): node heartbeats in kube-node-lease. */
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";

export const leases = defineKind({
  info: { resource: "leases", singular: "lease", kind: "Lease", group: "coordination.k8s.io", version: "v1", namespaced: true },
  printer: {
    columns: [NAME, col("Holder", "The holder of the lease"), AGE],
    cells: (o, now) => [o.metadata.name, o.spec?.holderIdentity ?? "", age(o, now)],
  },
});
