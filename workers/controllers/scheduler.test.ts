import { afterEach, describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { readyNode, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import type { ControllerClient } from "./client";
import type { Controller } from "./manager";
import { schedulePass, scheduler } from "./scheduler";
import { podRequests } from "./scheduling/resources";

const pod = (name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, ...meta },
  spec: {
    containers: [{ name: "c", image: "nginx", ...((spec.container as object) ?? {}) }],
    ...Object.fromEntries(Object.entries(spec).filter(([k]) => k !== "container")),
  },
});
const requests = (cpu: string, memory: string) => ({ container: { resources: { requests: { cpu, memory } } } });
const owner = (name: string) => ({ ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name, uid: `uid-${name}`, controller: true }] });
const UNREACHABLE = [
  { key: "node.kubernetes.io/unreachable", effect: "NoSchedule" },
  { key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: "2026-01-01T00:00:00Z" },
];

/** The API with its list calls counted by resource (to see how many passes ran). */
const countingLists = (api: ControllerClient, counts: Map<string, number>): ControllerClient =>
  new Proxy(api, {
    get(target, prop, receiver) {
      if (prop === "list") {
        return (resource: string, ...rest: unknown[]) => {
          counts.set(resource, (counts.get(resource) ?? 0) + 1);
          return (target.list as (...a: unknown[]) => Promise<KObject[]>)(resource, ...rest);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });

describe("scheduler", () => {
  let cp: TestControlPlane;
  const start = async (controllers: Controller[] = [scheduler]) => (cp = await startControlPlane({ controllers }));
  afterEach(async () => cp?.close());

  const create = (p: KObject) => cp.api.create("pods", p.metadata.namespace ?? "default", p);
  const addNode = (n: KObject) => cp.api.create("nodes", "", n);
  const get = async (name: string) => (await cp.api.get("pods", "default", name))!;
  const nodeOf = async (name: string) => (await get(name)).spec?.nodeName;
  const condition = async (name: string) => (await get(name)).status?.conditions?.find((c: any) => c.type === "PodScheduled");
  const events = async (name: string, reason?: string) =>
    cp.api.list("events", "default", { fieldSelector: `involvedObject.name=${name}${reason ? `,reason=${reason}` : ""}` });

  it("binds a pod to the node with room, marks it scheduled and records an event", async () => {
    await start();
    await addNode(readyNode("small", { cpu: "1", memory: "1Gi" }));
    await addNode(readyNode("big", { cpu: "8", memory: "16Gi" }));
    await create(pod("web", requests("2", "2Gi")));
    await cp.settle();
    expect(await nodeOf("web")).toBe("big");
    expect(await condition("web")).toMatchObject({ type: "PodScheduled", status: "True" });
    expect((await events("web")).map((e) => [e.type, e.reason, e.message])).toEqual([["Normal", "Scheduled", "Successfully assigned default/web to big"]]);
  });

  it("explains an unschedulable pod once (condition and event), without rewriting it on later passes", async () => {
    await start();
    await addNode(readyNode("a", { memory: "1Gi" }));
    await addNode(readyNode("b", { memory: "1Gi" }));
    await addNode(readyNode("c", { memory: "1Gi" }));
    await create(pod("hungry", requests("100m", "4Gi")));
    await cp.settle();
    expect(await nodeOf("hungry")).toBeUndefined();
    const message = "0/3 nodes are available: 3 Insufficient memory.";
    expect(await condition("hungry")).toMatchObject({ status: "False", reason: "Unschedulable", message });
    const failed = await events("hungry", "FailedScheduling");
    expect(failed.map((e) => [e.type, e.message, e.count])).toEqual([["Warning", message, 1]]);

    const rv = (await get("hungry")).metadata.resourceVersion;
    await cp.manager.resync();
    await cp.settle();
    await cp.manager.resync();
    await cp.settle();
    expect((await get("hungry")).metadata.resourceVersion).toBe(rv);
    expect((await events("hungry", "FailedScheduling")).map((e) => e.count)).toEqual([1]);
  });

  it("words mixed reasons as kube-scheduler does (sorted '<count> <reason>' entries)", async () => {
    await start();
    await addNode(readyNode("a", { memory: "1Gi" }));
    await addNode(readyNode("b", { memory: "1Gi" }));
    await addNode(readyNode("c", { taints: UNREACHABLE }));
    await create(pod("hungry", requests("100m", "4Gi")));
    await cp.settle();
    expect((await condition("hungry")).message).toBe(
      "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient memory.",
    );
  });

  it("writes at most maxSchedulingWritesPerPass bindings per pass and takes the rest in the next ones", async () => {
    // a pass by hand first (no controller running), then the controller takes over
    cp = await startControlPlane({ controllers: [], config: { maxSchedulingWritesPerPass: 2 } });
    await addNode(readyNode("n1", { cpu: "8", memory: "16Gi" }));
    for (let i = 0; i < 5; i++) await create(pod(`p${i}`));
    expect(await schedulePass(cp.manager.ctx)).toEqual({ requeueAfterMs: 0 });
    expect((await cp.api.list("pods", "default")).filter((p) => p.spec.nodeName)).toHaveLength(2);
    await cp.close();
    // the backlog waits for a node; when one comes, passes of two bindings drain it
    cp = await startControlPlane({ controllers: [scheduler], config: { maxSchedulingWritesPerPass: 2 } });
    for (let i = 0; i < 5; i++) await create(pod(`p${i}`));
    await cp.settle();
    expect((await cp.api.list("pods", "default")).filter((p) => p.spec.nodeName)).toHaveLength(0);
    await addNode(readyNode("n1", { cpu: "8", memory: "16Gi" }));
    await cp.settle();
    expect((await cp.api.list("pods", "default")).filter((p) => p.spec.nodeName === "n1")).toHaveLength(5);
  });

  it("places a pending pod once a node with room appears", async () => {
    await start();
    await create(pod("early", requests("1", "1Gi")));
    await cp.settle();
    expect(await condition("early")).toMatchObject({ status: "False", reason: "Unschedulable", message: "no nodes available to schedule pods" });
    await addNode(readyNode("tiny", { cpu: "500m" }));
    await cp.settle();
    expect((await condition("early")).message).toBe("0/1 nodes are available: 1 Insufficient cpu.");
    await addNode(readyNode("late", { cpu: "2" }));
    await cp.settle();
    expect(await nodeOf("early")).toBe("late");
    expect(await condition("early")).toMatchObject({ status: "True" });
    expect((await condition("early")).reason).toBeUndefined();
  });

  it("retries when a bound pod goes away and frees room", async () => {
    await start();
    await addNode(readyNode("n", { cpu: "1" }));
    await create(pod("first", requests("800m", "1Mi")));
    await cp.settle();
    await create(pod("second", requests("800m", "1Mi")));
    await cp.settle();
    expect(await nodeOf("second")).toBeUndefined();
    await cp.api.delete("pods", "default", "first", { gracePeriodSeconds: 0 });
    await cp.settle();
    expect(await nodeOf("second")).toBe("n");
  });

  it("honors nodeSelector and required node affinity (In, NotIn, Gt)", async () => {
    await start();
    await addNode(readyNode("ssd", { labels: { disk: "ssd", gen: "5" } }));
    await addNode(readyNode("hdd", { labels: { disk: "hdd", gen: "3" } }));
    const required = (...exprs: unknown[]) => ({
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: exprs }] } } },
    });
    await create(pod("sel", { nodeSelector: { disk: "hdd" } }));
    await create(pod("in", required({ key: "disk", operator: "In", values: ["ssd"] })));
    await create(pod("notin", required({ key: "disk", operator: "NotIn", values: ["ssd"] })));
    await create(pod("gt", required({ key: "gen", operator: "Gt", values: ["4"] })));
    await create(pod("none", required({ key: "gen", operator: "Gt", values: ["9"] })));
    await cp.settle();
    expect([await nodeOf("sel"), await nodeOf("in"), await nodeOf("notin"), await nodeOf("gt"), await nodeOf("none")]).toEqual([
      "hdd",
      "ssd",
      "hdd",
      "ssd",
      undefined,
    ]);
    expect((await condition("none")).message).toBe("0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.");
  });

  it("keeps pods off tainted nodes unless they tolerate the taint", async () => {
    await start();
    await addNode(readyNode("gpu", { labels: { pool: "gpu" }, taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }] }));
    await create(pod("tolerant", { nodeSelector: { pool: "gpu" }, tolerations: [{ key: "gpu", operator: "Equal", value: "true", effect: "NoSchedule" }] }));
    await create(pod("intolerant", { nodeSelector: { pool: "gpu" } }));
    await create(pod("wrong-value", { nodeSelector: { pool: "gpu" }, tolerations: [{ key: "gpu", operator: "Equal", value: "false", effect: "NoSchedule" }] }));
    await cp.settle();
    expect(await nodeOf("tolerant")).toBe("gpu");
    expect(await nodeOf("intolerant")).toBeUndefined();
    expect(await nodeOf("wrong-value")).toBeUndefined();
    expect((await condition("intolerant")).message).toBe("0/1 nodes are available: 1 node(s) had untolerated taint {gpu: true}.");
  });

  it("treats NoExecute taints as hard, the unreachable ones included, unless tolerated", async () => {
    await start();
    await addNode(readyNode("gone", { taints: UNREACHABLE }));
    await addNode(readyNode("draining", { taints: [{ key: "maintenance", effect: "NoExecute" }] }));
    await create(pod("plain"));
    await create(pod("patient", { tolerations: [{ key: "node.kubernetes.io/unreachable", operator: "Exists" }] }));
    await create(
      pod("brief", {
        nodeSelector: { "kubernetes.io/hostname": "draining" },
        tolerations: [{ key: "maintenance", operator: "Exists", effect: "NoExecute", tolerationSeconds: 60 }],
      }),
    );
    await cp.settle();
    expect(await nodeOf("plain")).toBeUndefined();
    expect((await condition("plain")).message).toBe(
      "0/2 nodes are available: 1 node(s) had untolerated taint {maintenance: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }.",
    );
    expect(await nodeOf("patient")).toBe("gone");
    expect(await nodeOf("brief")).toBe("draining");
  });

  it("skips cordoned and NotReady nodes", async () => {
    await start();
    const cordoned = readyNode("cordoned", { cpu: "16" });
    cordoned.spec.unschedulable = true;
    await addNode(cordoned);
    const down = readyNode("down", { cpu: "16" });
    down.status.conditions[0].status = "False";
    await addNode(down);
    await create(pod("p", requests("1", "1Gi")));
    await cp.settle();
    expect((await condition("p")).message).toBe(
      "0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable.",
    );
    await addNode(readyNode("up", { cpu: "2" }));
    await cp.settle();
    expect(await nodeOf("p")).toBe("up");
  });

  it("keeps pods with required anti-affinity on kubernetes.io/hostname apart", async () => {
    await start();
    await addNode(readyNode("n1"));
    await addNode(readyNode("n2"));
    const anti = {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "db" } }, topologyKey: "kubernetes.io/hostname" }],
        },
      },
    };
    await create(pod("db-0", anti, { labels: { app: "db" } }));
    await create(pod("db-1", anti, { labels: { app: "db" } }));
    await cp.settle();
    expect([await nodeOf("db-0"), await nodeOf("db-1")].sort()).toEqual(["n1", "n2"]);
    await create(pod("db-2", anti, { labels: { app: "db" } }));
    await cp.settle();
    expect(await nodeOf("db-2")).toBeUndefined();
    expect((await condition("db-2")).message).toBe("0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.");
  });

  it("does not put two pods wanting one host port on the same node", async () => {
    await start();
    await addNode(readyNode("n1"));
    await addNode(readyNode("n2"));
    const hp = { container: { ports: [{ containerPort: 80, hostPort: 8080 }] } };
    for (const n of ["hp-1", "hp-2", "hp-3"]) await create(pod(n, hp));
    await cp.settle();
    const placed = [await nodeOf("hp-1"), await nodeOf("hp-2"), await nodeOf("hp-3")];
    expect(placed.filter(Boolean).sort()).toEqual(["n1", "n2"]);
    const stuck = ["hp-1", "hp-2", "hp-3"][placed.indexOf(undefined)];
    expect((await condition(stuck)).message).toBe("0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports.");
  });

  it("counts pods against the node's pod capacity", async () => {
    await start();
    await addNode(readyNode("n", { pods: "2" }));
    for (const n of ["a", "b", "c"]) await create(pod(n));
    await cp.settle();
    const placed = [await nodeOf("a"), await nodeOf("b"), await nodeOf("c")];
    expect(placed.filter(Boolean)).toHaveLength(2);
    const stuck = ["a", "b", "c"][placed.indexOf(undefined)];
    expect((await condition(stuck)).message).toBe("0/1 nodes are available: 1 Too many pods.");
  });

  it("spreads 6 replicas of one owner over 3 equal nodes, 2 each", async () => {
    await start();
    for (const n of ["a", "b", "c"]) await addNode(readyNode(n));
    for (let i = 0; i < 6; i++) await create(pod(`web-${i}`, requests("100m", "128Mi"), { labels: { app: "web" }, ...owner("web") }));
    await cp.settle();
    const per = new Map<string, number>();
    for (let i = 0; i < 6; i++) {
      const n = (await nodeOf(`web-${i}`))!;
      per.set(n, (per.get(n) ?? 0) + 1);
    }
    expect([...per.entries()].sort()).toEqual([
      ["a", 2],
      ["b", 2],
      ["c", 2],
    ]);
  });

  it("places a 200-pod backlog on 10 nodes in one pass, no node over capacity", async () => {
    let enabled = false;
    const lists = new Map<string, number>();
    const gated: Controller = {
      ...scheduler,
      reconcileBatch: async (keys, ctx) => (enabled ? scheduler.reconcileBatch!(keys, { ...ctx, api: countingLists(ctx.api, lists) }) : undefined),
    };
    await start([gated]);
    for (let i = 0; i < 10; i++) await addNode(readyNode(`n${i}`, { cpu: "2", memory: "4Gi", pods: "110" }));
    for (let i = 0; i < 200; i++) await create(pod(`p-${i}`, requests("100m", "200Mi"), owner(`rs-${i % 7}`)));
    await cp.settle();
    enabled = true;
    await cp.manager.resync(); // one pending pod key: one pass for the whole backlog
    await cp.settle();
    expect(lists.get("nodes")).toBe(1);
    const pods = await cp.api.list("pods", "default");
    expect(pods.filter((p) => p.spec.nodeName)).toHaveLength(200);
    expect(pods.every((p) => p.status?.conditions?.some((c: any) => c.type === "PodScheduled" && c.status === "True"))).toBe(true);
    const perNode = new Map<string, { cpu: number; memory: number }>();
    for (const p of pods) {
      const r = podRequests(p);
      const acc = perNode.get(p.spec.nodeName) ?? { cpu: 0, memory: 0 };
      perNode.set(p.spec.nodeName, { cpu: acc.cpu + r.cpu, memory: acc.memory + r.memory });
    }
    expect(perNode.size).toBe(10);
    for (const used of perNode.values()) {
      expect(used.cpu).toBeLessThanOrEqual(2000);
      expect(used.memory).toBeLessThanOrEqual(4 * 1024 ** 3);
    }
  });

  it("leaves pods for other schedulers and gated pods alone", async () => {
    await start();
    await addNode(readyNode("n"));
    await create(pod("theirs", { schedulerName: "custom-scheduler" }));
    await create(pod("gated", { schedulingGates: [{ name: "example.com/quota" }] }));
    await create(pod("mine"));
    await cp.settle();
    expect(await nodeOf("mine")).toBe("n");
    expect(await nodeOf("theirs")).toBeUndefined();
    expect(await condition("theirs")).toBeUndefined();
    expect(await nodeOf("gated")).toBeUndefined();
    expect(await condition("gated")).toMatchObject({
      status: "False",
      reason: "SchedulingGated",
      message: "Scheduling is blocked due to non-empty scheduling gates",
    });
  });

  it("binds each pod once when two passes race (compare-and-swap on the binding)", async () => {
    await start([]);
    for (const n of ["a", "b", "c"]) await addNode(readyNode(n));
    for (let i = 0; i < 12; i++) await create(pod(`r-${i}`, requests("100m", "64Mi")));
    const ctx = cp.manager.ctx;
    await Promise.all([schedulePass(ctx), schedulePass(ctx), schedulePass(ctx)]);
    const pods = await cp.api.list("pods", "default");
    expect(pods.filter((p) => p.spec.nodeName)).toHaveLength(12);
    const scheduled = await cp.api.list("events", "default", { fieldSelector: "reason=Scheduled" });
    expect(scheduled).toHaveLength(12);
    expect(scheduled.every((e) => e.count === 1)).toBe(true);
  });
});
