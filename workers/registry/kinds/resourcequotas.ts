/**
 * ResourceQuotas (core/v1): status subresource; the admission (admission/quota.ts)
 * charges creates against status.used and the resource quota controller keeps it; a
 * new quota starts with its status computed. `kubectl get quota` columns as kubectl's
 * printer: `pods: 2/3, requests.cpu: 500m/1` under REQUEST, limits.* under LIMIT.
 */
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";

const quotaColumns = (o: any): [string, string] => {
  const hard = o.spec?.hard && typeof o.spec.hard === "object" ? o.spec.hard : {};
  const used = o.status?.used ?? {};
  const shown = o.status?.hard ?? {};
  const request: string[] = [];
  const limit: string[] = [];
  for (const r of Object.keys(hard).sort()) {
    const cell = `${r}: ${used[r] ?? "0"}/${shown[r] ?? "0"}`;
    (r.split(".").length > 1 && r.split(".")[0] === "limits" ? limit : request).push(cell);
  }
  return [request.join(", "), limit.join(", ")];
};

export const resourcequotas = defineKind({
  info: {
    resource: "resourcequotas",
    singular: "resourcequota",
    kind: "ResourceQuota",
    group: "",
    version: "v1",
    namespaced: true,
    shortNames: ["quota"],
    subresources: ["status"],
    hasStatus: true,
  },
  printer: {
    columns: [
      NAME,
      AGE,
      col("Request", "Request represents a minimum amount of cpu/memory that a container may consume."),
      col("Limit", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
    ],
    cells: (o, now) => [o.metadata.name, age(o, now), ...quotaColumns(o)],
  },
  strategy: {
    prepareForCreate: (q) => {
      delete q.status;
    },
  },
});
