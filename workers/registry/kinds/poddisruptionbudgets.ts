/** PodDisruptionBudgets (policy/v1): `kubectl get pdb` columns; the disruption controller keeps the status. */
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";

const orNA = (v: unknown) => (v === undefined || v === null ? "N/A" : String(v));

export const poddisruptionbudgets = defineKind({
  info: {
    resource: "poddisruptionbudgets",
    singular: "poddisruptionbudget",
    kind: "PodDisruptionBudget",
    group: "policy",
    version: "v1",
    namespaced: true,
    shortNames: ["pdb"],
    subresources: ["status"],
    hasStatus: true,
  },
  printer: {
    columns: [
      NAME,
      col("Min Available", "The minimum number of pods available after an eviction."),
      col("Max Unavailable", "The maximum number of pods unavailable after an eviction."),
      col("Allowed Disruptions", "Evictions allowed now.", { type: "integer" }),
      AGE,
    ],
    cells: (o, now) => [o.metadata.name, orNA(o.spec?.minAvailable), orNA(o.spec?.maxUnavailable), o.status?.disruptionsAllowed ?? 0, age(o, now)],
  },
  strategy: {
    tracksGeneration: true,
    prepareForCreate: (pdb) => {
      pdb.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    },
  },
});
