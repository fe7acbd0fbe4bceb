import { afterEach, describe, expect, it } from "vitest";
import type { StatsSummary } from "../../shared/tunnel";
import type { KObject } from "../../shared/types";
import { startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { ResourceMetrics } from "../registry/metrics-resources";
import { forgetHorizontalState, horizontalController } from "./horizontal";
import { replicaSetController } from "./replicaset";

describe("horizontal pod autoscaler controller (fake clock, fake usage)", () => {
  let cp: TestControlPlane;
  afterEach(async () => cp?.close());
  let nowMs = Date.parse("2026-06-01T12:00:00Z");
  /** millicores each pod of the node uses */
  let usage = 0;
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

  const start = async () => {
    nowMs = Date.parse("2026-06-01T12:00:00Z");
    cp = await startControlPlane({ controllers: [replicaSetController, horizontalController], now: () => new Date(nowMs) });
    cp.registry.resourceMetrics = new ResourceMetrics(
      async (): Promise<StatsSummary> => {
        const pods = await cp.api.list("pods", "default");
        return {
          node: { timestamp: iso(nowMs), windowSeconds: 15, cpuNanoCores: 0, memoryWorkingSetBytes: 0 },
          pods: pods.map((p) => ({
            namespace: "default",
            name: p.metadata.name!,
            uid: p.metadata.uid!,
            timestamp: iso(nowMs),
            windowSeconds: 15,
            containers: [{ name: "c", cpuNanoCores: usage * 1e6, memoryWorkingSetBytes: 1 << 20 }],
          })),
        };
      },
      { ttlMs: 0, now: () => nowMs },
    );
  };
  const rs = (replicas: number, requests: Record<string, string> | null = { cpu: "100m" }): KObject =>
    ({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web" },
      spec: {
        replicas,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { nodeName: "n1", containers: [{ name: "c", image: "x", ...(requests ? { resources: { requests } } : {}) }] },
        },
      },
    }) as KObject;
  const hpa = (spec: Record<string, unknown> = {}): KObject =>
    ({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web" },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web" },
        minReplicas: 1,
        maxReplicas: 10,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } }],
        ...spec,
      },
    }) as KObject;
  /** as an agent reports its pods: Running, Ready for a while */
  const runAll = async () => {
    for (const p of await cp.api.list("pods", "default")) {
      if (p.status?.phase === "Running") continue;
      await cp.api.updateStatus("pods", {
        ...p,
        status: { phase: "Running", startTime: iso(nowMs - 600_000), conditions: [{ type: "Ready", status: "True", lastTransitionTime: iso(nowMs - 60_000) }] },
      });
    }
    await cp.settle();
  };
  const sync = async () => {
    await cp.manager.resync();
    await cp.settle();
  };
  const replicas = async () => (await cp.api.get("replicasets", "default", "web"))!.spec!.replicas;
  const status = async () => (await cp.api.get("horizontalpodautoscalers", "default", "web"))!.status;
  const condition = async (type: string) => (await status()).conditions.find((c: any) => c.type === type);

  it("says when the target is missing (AbleToScale False, FailedGetScale)", async () => {
    await start();
    await cp.api.create("horizontalpodautoscalers", "default", hpa());
    await cp.settle();
    expect(await condition("AbleToScale")).toMatchObject({
      status: "False",
      reason: "FailedGetScale",
      message: 'the HPA controller was unable to get the target\'s current scale: replicasets.apps "web" not found',
    });
  });

  it("scales up at most max(2 × current, 4) without behavior, then waits the 5-minute window before scaling down", async () => {
    await start();
    await cp.api.create("replicasets", "default", rs(2));
    await cp.settle();
    await runAll();
    usage = 150; // 150 % of 100m: three times the target
    await cp.api.create("horizontalpodautoscalers", "default", hpa());
    await cp.settle();
    expect(await replicas()).toBe(4); // 6 wanted, 4 allowed
    expect(await condition("ScalingLimited")).toMatchObject({ status: "True", reason: "ScaleUpLimit" });
    expect(await condition("ScalingActive")).toMatchObject({ status: "True", reason: "ValidMetricFound" });
    const s = await status();
    expect(s).toMatchObject({
      currentReplicas: 2,
      desiredReplicas: 4,
      currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 150, averageValue: "150m" } } }],
    });
    const events = await cp.api.list("events", "default");
    expect(events.map((e) => `${e.reason}: ${e.message}`)).toContain(
      "SuccessfulRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target",
    );
    await runAll();
    // idle: 2 % of requests. kube's rules without behavior keep the highest recommendation of
    // the last 5 minutes, the 6 the rate limit cut to 4, so this sync still goes to 6
    usage = 2;
    nowMs += 60_000;
    await sync();
    expect(await replicas()).toBe(6);
    await runAll();
    nowMs += 60_000;
    await sync();
    expect(await replicas()).toBe(6);
    expect(await condition("AbleToScale")).toMatchObject({ reason: "ScaleDownStabilized" });
    nowMs += 5 * 60_000;
    await sync();
    expect(await replicas()).toBe(1);
    expect((await status()).desiredReplicas).toBe(1);
  });

  it("behavior from the manifest: no scale-down window, at most 1 pod per minute down", async () => {
    await start();
    await cp.api.create("replicasets", "default", rs(4));
    await cp.settle();
    await runAll();
    usage = 5;
    await cp.api.create(
      "horizontalpodautoscalers",
      "default",
      hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] } } }),
    );
    await cp.settle();
    expect(await replicas()).toBe(3);
    expect(await condition("ScalingLimited")).toMatchObject({ status: "True", reason: "ScaleDownLimit" });
    nowMs += 30_000;
    await sync();
    expect(await replicas()).toBe(3);
    nowMs += 31_000;
    await sync();
    expect(await replicas()).toBe(2);
  });

  it("a container without a cpu request: ScalingActive False, the replicas stay", async () => {
    await start();
    await cp.api.create("replicasets", "default", rs(2, null));
    await cp.settle();
    await runAll();
    usage = 500;
    await cp.api.create("horizontalpodautoscalers", "default", hpa());
    await cp.settle();
    expect(await replicas()).toBe(2);
    expect(await condition("ScalingActive")).toMatchObject({ status: "False", reason: "FailedGetResourceMetric" });
    expect((await condition("ScalingActive")).message).toMatch(
      /^the HPA was unable to compute the replica count: missing request for cpu in container c of Pod web-/,
    );
  });

  it("after a restart (or on another Worker isolate) it waits a scale-down window from the current size, with the saved scale events", async () => {
    await start();
    await cp.api.create("replicasets", "default", rs(2));
    await cp.settle();
    await runAll();
    usage = 100;
    const behavior = { scaleDown: { stabilizationWindowSeconds: 60 }, scaleUp: { policies: [{ type: "Pods", value: 1, periodSeconds: 600 }] } };
    await cp.api.create("horizontalpodautoscalers", "default", hpa({ behavior }));
    await cp.settle();
    expect(await replicas()).toBe(3); // one pod per 10 minutes up
    const saved = JSON.parse(
      (await cp.api.get("horizontalpodautoscalers", "default", "web"))!.metadata.annotations!["autoscaling.kubeflare.dev/scaling-state"],
    );
    expect(saved.scaleUpEvents).toEqual([{ atMs: nowMs, change: 1 }]);
    await runAll();
    forgetHorizontalState();
    // the saved scale-up event still holds the rate: no pod more within its 10 minutes
    nowMs += 30_000;
    await sync();
    expect(await replicas()).toBe(3);
    forgetHorizontalState();
    usage = 1;
    nowMs += 30_000;
    await sync();
    expect(await replicas()).toBe(3); // the current size counts as a recommendation for the next 60 s
    nowMs += 61_000;
    await sync();
    expect(await replicas()).toBe(1);
  });
});
