import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { readyNode, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { scheduler } from "./scheduler";
import { placePods } from "./scheduling/place";

const pod = (name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, ...meta },
  spec: { containers: [{ name: "c", image: "nginx", ...((spec.container as object) ?? {}) }], ...Object.fromEntries(Object.entries(spec).filter(([k]) => k !== "container")) },
});
const requests = (cpu: string, memory: string) => ({ container: { resources: { requests: { cpu, memory } } } });

describe("scheduler", () => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startControlPlane({ controllers: [scheduler] });
  });
  afterEach(async () => cp.close());

  const nodeOf = async (name: string) => (await cp.api.get("pods", "default", name))?.spec?.nodeName;
  const condition = async (name: string) => (await cp.api.get("pods", "default", name))?.status?.conditions?.find((c: any) => c.type === "PodScheduled");

  it("binds a pod to the node with room, marks it scheduled and records an event", async () => {
    await cp.api.create("nodes", "", readyNode("small", { cpu: "1", memory: "1Gi" }));
    await cp.api.create("nodes", "", readyNode("big", { cpu: "8", memory: "16Gi" }));
    await cp.api.create("pods", "default", pod("web", requests("2", "2Gi")));
    await cp.settle();
    expect(await nodeOf("web")).toBe("big");
    expect(await condition("web")).toMatchObject({ status: "True" });
    const events = await cp.api.list("events", "default", { fieldSelector: "involvedObject.name=web" });
    expect(events.map((e) => [e.reason, e.message])).toEqual([["Scheduled", "Successfully assigned default/web to big"]]);
  });

  it("explains why a pod is unschedulable, and places it once a node with room appears", async () => {
    await cp.api.create("nodes", "", readyNode("a", { memory: "1Gi" }));
    await cp.api.create("nodes", "", readyNode("b", { memory: "1Gi" }));
    await cp.api.create("nodes", "", readyNode("c", { taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoSchedule" }, { key: "node.kubernetes.io/unreachable", effect: "NoExecute" }] }));
    await cp.api.create("pods", "default", pod("hungry", { ...requests("100m", "4Gi"), tolerations: [] }));
    await cp.settle();
    expect(await nodeOf("hungry")).toBeUndefined();
    const cond = await condition("hungry");
    expect(cond).toMatchObject({ status: "False", reason: "Unschedulable" });
    expect(cond.message).toBe("0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient memory.");
    const events = await cp.api.list("events", "default", { fieldSelector: "involvedObject.name=hungry,reason=FailedScheduling" });
    expect(events).toHaveLength(1);
    expect(events[0].type).toBe("Warning");
    await cp.api.create("nodes", "", readyNode("d", { memory: "8Gi" }));
    await cp.settle();
    expect(await nodeOf("hungry")).toBe("d");
  });

  it("honors nodeSelector, required node affinity, taints, cordons and readiness", async () => {
    await cp.api.create("nodes", "", readyNode("ssd", { labels: { disk: "ssd", gen: "5" } }));
    await cp.api.create("nodes", "", readyNode("hdd", { labels: { disk: "hdd", gen: "3" } }));
    await cp.api.create("nodes", "", readyNode("gpu", { labels: { disk: "ssd", gen: "9" }, taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }] }));
    const cordoned = readyNode("cordoned", { labels: { disk: "ssd", gen: "7" } });
    cordoned.spec.unschedulable = true;
    await cp.api.create("nodes", "", cordoned);
    const down = readyNode("down", { labels: { disk: "ssd", gen: "8" } });
    down.status.conditions[0].status = "False";
    await cp.api.create("nodes", "", down);

    await cp.api.create("pods", "default", pod("sel", { nodeSelector: { disk: "hdd" } }));
    await cp.api.create("pods", "default", pod("gt", { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "gen", operator: "Gt", values: ["4"] }, { key: "disk", operator: "In", values: ["ssd"] }] }] } } } }));
    await cp.api.create("pods", "default", pod("tolerant", { nodeSelector: { gen: "9" }, tolerations: [{ key: "gpu", operator: "Equal", value: "true", effect: "NoSchedule" }] }));
    await cp.api.create("pods", "default", pod("intolerant", { nodeSelector: { gen: "9" } }));
    await cp.api.create("pods", "default", pod("notin", { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "disk", operator: "NotIn", values: ["ssd"] }] }] } } } }));
    await cp.settle();
    expect(await nodeOf("sel")).toBe("hdd");
    expect(await nodeOf("gt")).toBe("ssd"); // gpu is tainted, cordoned unschedulable, down not ready
    expect(await nodeOf("tolerant")).toBe("gpu");
    expect(await nodeOf("notin")).toBe("hdd");
    expect(await nodeOf("intolerant")).toBeUndefined();
    expect((await condition("intolerant")).message).toBe(
      "0/5 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector.",
    );
  });

  it("keeps anti-affine pods apart, avoids hostPort clashes, and counts pods", async () => {
    await cp.api.create("nodes", "", readyNode("n1", { pods: "3" }));
    await cp.api.create("nodes", "", readyNode("n2", { pods: "3" }));
    const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "db" } }, topologyKey: "kubernetes.io/hostname" }] } } };
    for (const n of ["db-0", "db-1", "db-2"]) await cp.api.create("pods", "default", pod(n, anti, { labels: { app: "db" } }));
    await cp.settle();
    const placed = [await nodeOf("db-0"), await nodeOf("db-1"), await nodeOf("db-2")];
    expect(placed.filter(Boolean).sort()).toEqual(["n1", "n2"]);
    const stuck = ["db-0", "db-1", "db-2"][placed.indexOf(undefined)];
    expect((await condition(stuck)).message).toBe("0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.");

    const hp = { container: { ports: [{ containerPort: 80, hostPort: 8080 }] } };
    await cp.api.create("pods", "default", pod("hp-1", hp));
    await cp.api.create("pods", "default", pod("hp-2", hp));
    await cp.api.create("pods", "default", pod("hp-3", hp));
    await cp.settle();
    const hps = [await nodeOf("hp-1"), await nodeOf("hp-2"), await nodeOf("hp-3")];
    expect(hps.filter(Boolean).sort()).toEqual(["n1", "n2"]);
    const third = ["hp-1", "hp-2", "hp-3"][hps.indexOf(undefined)];
    expect((await condition(third)).message).toMatch(/node\(s\) didn't have free ports for the requested pod ports|Too many pods/);
  });
});

describe("placement (one pass, in memory)", () => {
  const node = (name: string) => readyNode(name, { cpu: "4", memory: "8Gi", pods: "110" });
  const owned = (name: string, owner: string): KObject => ({
    ...pod(name, requests("100m", "128Mi")),
    metadata: { name, namespace: "default", creationTimestamp: "2026-01-01T00:00:00Z", ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: owner, uid: owner, controller: true }] },
  });

  it("spreads the replicas of one owner over equal nodes", () => {
    const pods = Array.from({ length: 6 }, (_, i) => owned(`web-${i}`, "rs-1"));
    const { bindings } = placePods(pods, [node("a"), node("b"), node("c")], []);
    const per = new Map<string, number>();
    for (const b of bindings) per.set(b.node, (per.get(b.node) ?? 0) + 1);
    expect([...per.values()]).toEqual([2, 2, 2]);
  });

  it("places a 200-pod backlog on 10 nodes in one pass without overcommitting any node", () => {
    const nodes = Array.from({ length: 10 }, (_, i) => readyNode(`n${i}`, { cpu: "2", memory: "4Gi", pods: "110" }));
    const pods = Array.from({ length: 200 }, (_, i) => owned(`p-${i}`, `rs-${i % 7}`));
    const { bindings, failures } = placePods(pods, nodes, []);
    // 2 cores / 100m = 20 pods per node: exactly 200 fit
    expect(bindings).toHaveLength(200);
    expect(failures).toHaveLength(0);
    const per = new Map<string, number>();
    for (const b of bindings) per.set(b.node, (per.get(b.node) ?? 0) + 1);
    expect(Math.max(...per.values())).toBeLessThanOrEqual(20);
    const more = placePods([owned("extra", "rs-x")], nodes, bindings.map((b) => ({ ...b.pod, spec: { ...b.pod.spec, nodeName: b.node } })));
    expect(more.failures[0].message).toBe("0/10 nodes are available: 10 Insufficient cpu.");
  });

  it("reports no nodes at all", () => {
    expect(placePods([owned("x", "o")], [], []).failures[0].message).toBe("no nodes available to schedule pods");
  });
});
