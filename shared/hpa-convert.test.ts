import { describe, expect, it } from "vitest";
import { hpaToV1, hpaToV2, V1_ANNOTATIONS } from "./hpa-convert";

const v2 = {
  apiVersion: "autoscaling/v2",
  kind: "HorizontalPodAutoscaler",
  metadata: { name: "web", namespace: "default", annotations: { team: "a" } },
  spec: {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
    minReplicas: 1,
    maxReplicas: 5,
    metrics: [
      { type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } } },
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } },
    ],
    behavior: { scaleDown: { stabilizationWindowSeconds: 10, selectPolicy: "Max", policies: [{ type: "Pods", value: 1, periodSeconds: 15 }] } },
  },
  status: {
    currentReplicas: 2,
    desiredReplicas: 3,
    currentMetrics: [
      { type: "Resource", resource: { name: "memory", current: { averageValue: "20Mi" } } },
      { type: "Resource", resource: { name: "cpu", current: { averageUtilization: 45 } } },
    ],
    conditions: [{ type: "AbleToScale", status: "True", lastTransitionTime: "2026-01-01T00:00:00Z", reason: "SucceededRescale", message: "m" }],
  },
};

describe("autoscaling/v1 <-> v2", () => {
  it("puts the cpu utilization metric in targetCPUUtilizationPercentage and the rest in annotations", () => {
    const v1 = hpaToV1(v2);
    expect(v1.apiVersion).toBe("autoscaling/v1");
    expect(v1.spec).toEqual({ scaleTargetRef: v2.spec.scaleTargetRef, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 });
    expect(v1.status).toEqual({ currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 45 });
    expect(JSON.parse(v1.metadata.annotations[V1_ANNOTATIONS.metrics])).toEqual([v2.spec.metrics[0]]);
    expect(v1.metadata.annotations.team).toBe("a");
  });

  it("round-trips through v1 without loss (the cpu metric first)", () => {
    const back = hpaToV2(hpaToV1(v2));
    expect(back.spec.metrics).toEqual([v2.spec.metrics[1], v2.spec.metrics[0]]);
    expect(back.spec.behavior).toEqual(v2.spec.behavior);
    expect(back.status.conditions).toEqual(v2.status.conditions);
    expect(back.metadata.annotations).toEqual({ team: "a" });
  });

  it("a plain v1 object (kubectl autoscale) becomes one cpu metric; none stays none (v2 defaults to 80 %)", () => {
    const plain = {
      apiVersion: "autoscaling/v1",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "x" },
      spec: { scaleTargetRef: { kind: "Deployment", name: "x" }, maxReplicas: 3, targetCPUUtilizationPercentage: 70 },
    };
    expect(hpaToV2(plain).spec).toEqual({
      scaleTargetRef: { kind: "Deployment", name: "x" },
      maxReplicas: 3,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
    });
    expect(hpaToV2({ ...plain, spec: { scaleTargetRef: plain.spec.scaleTargetRef, maxReplicas: 3 } }).spec.metrics).toBeUndefined();
  });
});
