/**
 * HorizontalPodAutoscalers (autoscaling/v2, the stored and preferred version; autoscaling/v1
 * is served by conversion, workers/api/hpa-v1.ts): `kubectl get hpa` columns as
 * kube-apiserver's printer; the horizontal controller keeps the status.
 */
import type { KObject } from "../../../shared/types";
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";

/** kubectl's TARGETS: "cpu: 45%/50%", "memory: 20Mi/100Mi", "<unknown>" before the first reading; two at most, then "+ N more..." */
export const formatHPAMetrics = (specs: any[] | undefined, statuses: any[] | undefined): string => {
  if (!specs?.length) return "<none>";
  const list: string[] = [];
  specs.forEach((spec, i) => {
    const st = statuses?.[i];
    switch (spec?.type) {
      case "Resource":
      case "ContainerResource": {
        const src = spec.type === "Resource" ? spec.resource : spec.containerResource;
        const cur = spec.type === "Resource" ? st?.resource : st?.containerResource;
        const name = src?.name ?? "";
        if (src?.target?.averageValue !== undefined) list.push(`${name}: ${cur?.current?.averageValue ?? "<unknown>"}/${src.target.averageValue}`);
        else {
          const current = typeof cur?.current?.averageUtilization === "number" ? `${cur.current.averageUtilization}%` : "<unknown>";
          const target = typeof src?.target?.averageUtilization === "number" ? `${src.target.averageUtilization}%` : "<auto>";
          list.push(`${name}: ${current}/${target}`);
        }
        break;
      }
      case "Pods":
        list.push(`${st?.pods?.current?.averageValue ?? "<unknown>"}/${spec.pods?.target?.averageValue ?? ""}`);
        break;
      case "Object": {
        const t = spec.object?.target ?? {};
        if (t.averageValue !== undefined) list.push(`${st?.object?.current?.averageValue ?? "<unknown>"}/${t.averageValue} (avg)`);
        else list.push(`${st?.object?.current?.value ?? "<unknown>"}/${t.value ?? ""}`);
        break;
      }
      case "External": {
        const t = spec.external?.target ?? {};
        if (t.averageValue !== undefined) list.push(`${st?.external?.current?.averageValue ?? "<unknown>"}/${t.averageValue} (avg)`);
        else list.push(`${st?.external?.current?.value ?? "<unknown>"}/${t.value ?? ""}`);
        break;
      }
      default:
        list.push("<unknown type>");
    }
  });
  return list.length > 2 ? `${list.slice(0, 2).join(", ")} + ${list.length - 2} more...` : list.join(", ");
};

const reference = (o: KObject) => `${o.spec?.scaleTargetRef?.kind ?? ""}/${o.spec?.scaleTargetRef?.name ?? ""}`;

export const horizontalpodautoscalers = defineKind({
  info: {
    resource: "horizontalpodautoscalers",
    singular: "horizontalpodautoscaler",
    kind: "HorizontalPodAutoscaler",
    group: "autoscaling",
    version: "v2",
    namespaced: true,
    shortNames: ["hpa"],
    categories: ["all"],
    subresources: ["status"],
    hasStatus: true,
  },
  printer: {
    columns: [
      NAME,
      col("Reference", "The object being scaled (kind/name)."),
      col("Targets", "The current and target values of the metrics."),
      col("MinPods", "The fewest replicas."),
      col("MaxPods", "The most replicas.", { type: "integer" }),
      col("Replicas", "The replicas when last read.", { type: "integer" }),
      AGE,
    ],
    cells: (o, now) => [
      o.metadata.name,
      reference(o),
      formatHPAMetrics(o.spec?.metrics, o.status?.currentMetrics),
      typeof o.spec?.minReplicas === "number" ? String(o.spec.minReplicas) : "<unset>",
      o.spec?.maxReplicas ?? 0,
      o.status?.currentReplicas ?? 0,
      age(o, now),
    ],
  },
  strategy: {
    tracksGeneration: true,
    prepareForCreate: (hpa) => {
      hpa.status = { desiredReplicas: 0 };
    },
  },
});
