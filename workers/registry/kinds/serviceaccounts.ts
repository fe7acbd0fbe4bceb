/**
 * ServiceAccounts (core/v1): an identity for pods. The service account controller keeps
 * a `default` one in every namespace; pod admission (registry/serviceaccount.ts) names
 * it in pods and follows its `automountServiceAccountToken`.
 */
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";

export const serviceaccounts = defineKind({
  info: {
    resource: "serviceaccounts",
    singular: "serviceaccount",
    kind: "ServiceAccount",
    group: "",
    version: "v1",
    namespaced: true,
    shortNames: ["sa"],
    subresources: ["token"],
  },
  printer: {
    // kubectl's columns (pkg/printers/internalversion: NAME, SECRETS, AGE)
    columns: [NAME, col("Secrets", "Number of secrets referenced", { type: "integer" }), AGE],
    cells: (o, now) => [o.metadata.name, Array.isArray(o.secrets) ? o.secrets.length : 0, age(o, now)],
  },
  strategy: {},
});
