import { describe, expect, it } from "vitest";
import { formatHPAMetrics } from "../workers/registry/kinds/horizontalpodautoscalers";
import { defaultHorizontalPodAutoscaler, validateHorizontalPodAutoscaler } from "./hpa-validation";
import { Causes } from "./validation/causes";

const causes = (spec: unknown) => {
  const c = new Causes();
  validateHorizontalPodAutoscaler({ spec }, c);
  return c.list.map((x) => `${x.field}: ${x.message}`);
};

const ref = { apiVersion: "apps/v1", kind: "Deployment", name: "web" };

describe("HorizontalPodAutoscaler defaults and validation", () => {
  it("defaults minReplicas 1 and a cpu 80 % metric; a behavior given is completed as Kubernetes does", () => {
    const spec: any = { scaleTargetRef: ref, maxReplicas: 3 };
    defaultHorizontalPodAutoscaler(spec);
    expect(spec).toEqual({
      scaleTargetRef: ref,
      maxReplicas: 3,
      minReplicas: 1,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }],
    });
    const withBehavior: any = { scaleTargetRef: ref, maxReplicas: 3, behavior: { scaleDown: { stabilizationWindowSeconds: 5 } } };
    defaultHorizontalPodAutoscaler(withBehavior);
    expect(withBehavior.behavior).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: "Max",
        policies: [
          { type: "Pods", value: 4, periodSeconds: 15 },
          { type: "Percent", value: 100, periodSeconds: 15 },
        ],
      },
      scaleDown: { stabilizationWindowSeconds: 5, selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] },
    });
  });

  it("names the field and says what is wrong, as kube-apiserver does", () => {
    expect(causes({ scaleTargetRef: ref, minReplicas: 1, maxReplicas: 3, metrics: [] })).toEqual([]);
    expect(causes({ scaleTargetRef: { name: "x" }, minReplicas: 0, maxReplicas: 0 })).toEqual([
      "spec.scaleTargetRef.kind: Required value",
      "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
      "spec.maxReplicas: Invalid value: 0: must be greater than 0",
    ]);
    expect(causes({ scaleTargetRef: ref, minReplicas: 5, maxReplicas: 3 })).toEqual([
      "spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`",
    ]);
    expect(
      causes({
        scaleTargetRef: ref,
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization" } } },
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 0 } } },
          { type: "Resource" },
          { type: "Bogus" },
        ],
      }),
    ).toEqual([
      "spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization",
      "spec.metrics[1].resource.target.averageUtilization: Invalid value: 0: must be greater than 0",
      "spec.metrics[2].resource: Required value: must populate information for the given metric source",
      'spec.metrics[3].type: Unsupported value: "Bogus": supported values: "Resource", "ContainerResource", "Pods", "Object", "External"',
    ]);
    expect(
      causes({
        scaleTargetRef: ref,
        maxReplicas: 3,
        behavior: { scaleDown: { stabilizationWindowSeconds: 4000, policies: [{ type: "Pods", value: 0, periodSeconds: 1801 }] }, scaleUp: { policies: [] } },
      }),
    ).toEqual([
      "spec.behavior.scaleUp.policies: Required value: must specify at least one Policy",
      "spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600",
      "spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be greater than zero",
      "spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800",
    ]);
  });

  it("prints TARGETS like kubectl", () => {
    const cpu = { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } };
    const mem = { type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } } };
    expect(formatHPAMetrics([cpu], undefined)).toBe("cpu: <unknown>/50%");
    expect(formatHPAMetrics([cpu, mem], [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 45 } } }])).toBe(
      "cpu: 45%/50%, memory: <unknown>/100Mi",
    );
    expect(formatHPAMetrics([cpu, mem, cpu], [])).toBe("cpu: <unknown>/50%, memory: <unknown>/100Mi + 1 more...");
    expect(formatHPAMetrics([], [])).toBe("<none>");
  });
});
