import { describe, expect, it } from "vitest";
import type { KObject } from "../../../shared/types";
import { readyNode } from "../../../test/controlplane";
import { NO_NODES_MESSAGE, numFeasibleNodesToFind, type Placement, placePods, unschedulableMessage } from "./place";
import { podRequests } from "./resources";

const pod = (name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", creationTimestamp: "2026-01-01T00:00:00Z", ...meta },
  spec: {
    containers: [{ name: "c", image: "i", ...((spec.container as object) ?? {}) }],
    ...Object.fromEntries(Object.entries(spec).filter(([k]) => k !== "container")),
  },
});
const req = (cpu: string, memory: string) => ({ container: { resources: { requests: { cpu, memory } } } });
const owned = (name: string, owner: string, spec: Record<string, unknown> = req("100m", "128Mi"), labels: Record<string, string> = {}) =>
  pod(name, spec, { labels, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: owner, uid: owner, controller: true }] });
const boundTo = (p: KObject, node: string): KObject => ({ ...p, spec: { ...p.spec, nodeName: node } });

const perNode = (r: Placement) => {
  const m = new Map<string, number>();
  for (const b of r.bindings) m.set(b.node, (m.get(b.node) ?? 0) + 1);
  return m;
};
const nodeOf = (r: Placement, name: string) => r.bindings.find((b) => b.pod.metadata.name === name)?.node;

describe("unschedulableMessage", () => {
  it("sorts the '<count> <reason>' strings as Go's sort.Strings does", () => {
    const reasons = new Map([
      ["Insufficient memory", 2],
      ["node(s) had untolerated taint {node.kubernetes.io/unreachable: }", 1],
    ]);
    expect(unschedulableMessage(3, reasons)).toBe(
      "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient memory.",
    );
    expect(
      unschedulableMessage(
        12,
        new Map([
          ["Insufficient cpu", 2],
          ["Insufficient memory", 10],
        ]),
      ),
    ).toBe("0/12 nodes are available: 10 Insufficient memory, 2 Insufficient cpu.");
    expect(unschedulableMessage(0, new Map())).toBe(NO_NODES_MESSAGE);
  });
});

describe("numFeasibleNodesToFind", () => {
  it("looks at every node below 100, then an adaptive share (at least 100 nodes, at least 5%)", () => {
    expect(numFeasibleNodesToFind(3)).toBe(3);
    expect(numFeasibleNodesToFind(99)).toBe(99);
    expect(numFeasibleNodesToFind(150)).toBe(100);
    expect(numFeasibleNodesToFind(1000)).toBe(420);
    expect(numFeasibleNodesToFind(5000)).toBe(500);
    expect(numFeasibleNodesToFind(20000)).toBe(1000);
    expect(numFeasibleNodesToFind(1000, 100)).toBe(1000);
    expect(numFeasibleNodesToFind(1000, 20)).toBe(200);
  });
});

describe("placePods", () => {
  it("binds a pod to the node with room and explains when none has any", () => {
    const nodes = [readyNode("small", { cpu: "1", memory: "1Gi" }), readyNode("big", { cpu: "8", memory: "16Gi" })];
    const r = placePods([pod("web", req("2", "2Gi")), pod("huge", req("100m", "64Gi"))], nodes, []);
    expect(r.bindings.map((b) => [b.pod.metadata.name, b.node])).toEqual([["web", "big"]]);
    expect(r.failures.map((f) => [f.pod.metadata.name, f.message])).toEqual([["huge", "0/2 nodes are available: 2 Insufficient memory."]]);
  });

  it("reports an empty cluster", () => {
    expect(placePods([pod("x")], [], []).failures[0].message).toBe(NO_NODES_MESSAGE);
  });

  it("counts the pods already bound, ignoring finished ones and pods of unknown nodes", () => {
    const nodes = [readyNode("n", { cpu: "1", memory: "1Gi" })];
    const full = boundTo(pod("old", req("900m", "100Mi")), "n");
    expect(placePods([pod("new", req("200m", "100Mi"))], nodes, [full]).failures[0].message).toBe("0/1 nodes are available: 1 Insufficient cpu.");
    const done = { ...full, status: { phase: "Succeeded" } };
    expect(placePods([pod("new", req("200m", "100Mi"))], nodes, [done, boundTo(pod("ghost", req("1", "1Gi")), "gone")]).bindings).toHaveLength(1);
  });

  it("spreads the replicas of one owner over equal nodes", () => {
    const pods = Array.from({ length: 6 }, (_, i) => owned(`web-${i}`, "rs-1"));
    const r = placePods(pods, [readyNode("a"), readyNode("b"), readyNode("c")], []);
    expect([...perNode(r).values()]).toEqual([2, 2, 2]);
  });

  it("spreads replicas away from nodes that already run some", () => {
    const nodes = [readyNode("a"), readyNode("b"), readyNode("c")];
    const existing = [boundTo(owned("web-0", "rs-1"), "a"), boundTo(owned("web-1", "rs-1"), "a")];
    const r = placePods([owned("web-2", "rs-1"), owned("web-3", "rs-1")], nodes, existing);
    expect(r.bindings.map((b) => b.node).sort()).toEqual(["b", "c"]);
  });

  it("places a 200-pod backlog on 10 nodes in one pass without overcommitting any node", () => {
    const nodes = Array.from({ length: 10 }, (_, i) => readyNode(`n${i}`, { cpu: "2", memory: "4Gi", pods: "110" }));
    const pods = Array.from({ length: 200 }, (_, i) => owned(`p-${i}`, `rs-${i % 7}`));
    const r = placePods(pods, nodes, []);
    // 2 cores / 100m = 20 pods per node: exactly 200 fit
    expect(r.bindings).toHaveLength(200);
    expect(r.failures).toHaveLength(0);
    expect(Math.max(...perNode(r).values())).toBe(20);
    const more = placePods(
      [owned("extra", "rs-x")],
      nodes,
      r.bindings.map((b) => boundTo(b.pod, b.node)),
    );
    expect(more.failures[0].message).toBe("0/10 nodes are available: 10 Insufficient cpu.");
  });

  it("places a big backlog on 1,000 nodes looking at a share of them, within capacity and evenly", () => {
    const nodes = Array.from({ length: 1000 }, (_, i) => readyNode(`n${i}`, { cpu: "2", memory: "8Gi", pods: "110" }));
    const pods = Array.from({ length: 3000 }, (_, i) => owned(`p-${i}`, `rs-${i % 30}`, req("500m", "1Gi")));
    const r = placePods(pods, nodes, []);
    expect(r.bindings).toHaveLength(3000);
    const counts = [...perNode(r).values()];
    expect(Math.max(...counts)).toBeLessThanOrEqual(4); // 2 cores / 500m
    expect(counts.length).toBe(1000);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(2);
  });

  it("places higher-priority pods first, then older ones", () => {
    const nodes = [readyNode("n", { cpu: "1" })];
    const low = pod("low", req("1", "1Mi"), { creationTimestamp: "2026-01-01T00:00:00Z" });
    const high = pod("high", { ...req("1", "1Mi"), priority: 1000 }, { creationTimestamp: "2026-01-02T00:00:00Z" });
    expect(placePods([low, high], nodes, []).bindings.map((b) => b.pod.metadata.name)).toEqual(["high"]);
    const older = pod("older", req("1", "1Mi"), { creationTimestamp: "2025-12-31T00:00:00Z" });
    expect(placePods([low, older], nodes, []).bindings.map((b) => b.pod.metadata.name)).toEqual(["older"]);
  });

  it("keeps host ports apart within one pass", () => {
    const hp = { container: { ports: [{ containerPort: 80, hostPort: 8080 }] } };
    const r = placePods([pod("a", hp), pod("b", hp), pod("c", hp)], [readyNode("n1"), readyNode("n2")], []);
    expect(r.bindings.map((b) => b.node).sort()).toEqual(["n1", "n2"]);
    expect(r.failures[0].message).toBe("0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports.");
  });

  describe("inter-pod affinity", () => {
    const antiTerm = (app: string, topologyKey = "kubernetes.io/hostname") => ({
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey }] } },
    });
    const affinityTerm = (app: string, topologyKey = "kubernetes.io/hostname") => ({
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey }] } },
    });

    it("keeps anti-affine pods of one pass on different nodes", () => {
      const pods = ["db-0", "db-1", "db-2"].map((n) => pod(n, antiTerm("db"), { labels: { app: "db" } }));
      const r = placePods(pods, [readyNode("n1"), readyNode("n2")], []);
      expect(r.bindings.map((b) => b.node).sort()).toEqual(["n1", "n2"]);
      expect(r.failures.map((f) => f.message)).toEqual(["0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules."]);
    });

    it("honors the anti-affinity of pods already bound (symmetry)", () => {
      const loner = boundTo(pod("loner", antiTerm("web")), "n1");
      const r = placePods([pod("web", {}, { labels: { app: "web" } })], [readyNode("n1"), readyNode("n2")], [loner]);
      expect(nodeOf(r, "web")).toBe("n2");
      const r2 = placePods([pod("web", {}, { labels: { app: "web" } })], [readyNode("n1")], [loner]);
      expect(r2.failures[0].message).toBe("0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules.");
    });

    it("applies anti-affinity per topology domain (zones)", () => {
      const nodes = [readyNode("a1", { labels: { zone: "a" } }), readyNode("a2", { labels: { zone: "a" } }), readyNode("b1", { labels: { zone: "b" } })];
      const pods = ["x-0", "x-1", "x-2"].map((n) => pod(n, antiTerm("x", "zone"), { labels: { app: "x" } }));
      const r = placePods(pods, nodes, []);
      expect(r.bindings).toHaveLength(2);
      expect(new Set(r.bindings.map((b) => nodes.find((n) => n.metadata.name === b.node)!.metadata.labels?.zone)).size).toBe(2);
      expect(r.failures[0].message).toBe("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
    });

    it("co-locates pods with required affinity; the first of a self-matching group may go anywhere", () => {
      const nodes = [readyNode("n1"), readyNode("n2"), readyNode("n3")];
      const cache = boundTo(pod("cache", {}, { labels: { app: "cache" } }), "n2");
      const r = placePods([pod("web", affinityTerm("cache"))], nodes, [cache]);
      expect(nodeOf(r, "web")).toBe("n2");
      const lonely = placePods([pod("web", affinityTerm("cache"))], nodes, []);
      expect(lonely.failures[0].message).toBe("0/3 nodes are available: 3 node(s) didn't match pod affinity rules.");
      const group = ["g-0", "g-1", "g-2"].map((n) => pod(n, affinityTerm("g"), { labels: { app: "g" } }));
      const together = placePods(group, nodes, []);
      expect(together.bindings).toHaveLength(3);
      expect(new Set(together.bindings.map((b) => b.node)).size).toBe(1);
    });

    it("selects namespaces by label with the namespaces given", () => {
      const term = {
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { app: "db" } }, namespaceSelector: { matchLabels: { env: "prod" } }, topologyKey: "kubernetes.io/hostname" },
            ],
          },
        },
      };
      const prodDb = boundTo(pod("db", {}, { namespace: "prod", labels: { app: "db" } }), "n1");
      const namespaces = [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "prod", labels: { env: "prod" } } }];
      const r = placePods([pod("x", term)], [readyNode("n1"), readyNode("n2")], [prodDb], { namespaces });
      expect(nodeOf(r, "x")).toBe("n2");
    });
  });

  it("summarizes mixed reasons across nodes", () => {
    const unreachable = [
      { key: "node.kubernetes.io/unreachable", effect: "NoSchedule" },
      { key: "node.kubernetes.io/unreachable", effect: "NoExecute" },
    ];
    const cordoned = readyNode("cordoned");
    cordoned.spec.unschedulable = true;
    const nodes = [
      readyNode("a", { memory: "1Gi" }),
      readyNode("b", { memory: "1Gi" }),
      readyNode("c", { taints: unreachable }),
      cordoned,
      readyNode("d", { labels: { pool: "x" } }),
    ];
    const r = placePods(
      [
        pod("p", {
          ...req("100m", "4Gi"),
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "NotIn", values: ["x"] }] }],
              },
            },
          },
        }),
      ],
      nodes,
      [],
    );
    expect(r.failures[0].message).toBe(
      "0/5 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 1 node(s) were unschedulable, 2 Insufficient memory.",
    );
  });

  it("never puts more on a node than it can hold, whatever the mix", () => {
    const nodes = Array.from({ length: 7 }, (_, i) => readyNode(`n${i}`, { cpu: `${1 + (i % 3)}`, memory: `${2 + i}Gi`, pods: `${5 + i}` }));
    const sizes = [
      ["50m", "64Mi"],
      ["250m", "512Mi"],
      ["1", "256Mi"],
      ["100m", "2Gi"],
    ];
    const pods = Array.from({ length: 120 }, (_, i) => owned(`p${i}`, `rs${i % 4}`, req(sizes[i % 4][0], sizes[i % 4][1])));
    const r = placePods(pods, nodes, []);
    expect(r.bindings.length + r.failures.length).toBe(120);
    for (const n of nodes) {
      const mine = r.bindings.filter((b) => b.node === n.metadata.name).map((b) => podRequests(b.pod));
      const alloc = {
        cpu: Number(n.status.allocatable.cpu) * 1000,
        memory: Number(n.status.allocatable.memory.replace("Gi", "")) * 1024 ** 3,
        pods: Number(n.status.allocatable.pods),
      };
      expect(mine.reduce((s, x) => s + x.cpu, 0)).toBeLessThanOrEqual(alloc.cpu);
      expect(mine.reduce((s, x) => s + x.memory, 0)).toBeLessThanOrEqual(alloc.memory);
      expect(mine.length).toBeLessThanOrEqual(alloc.pods);
    }
  });

  it("is deterministic", () => {
    const nodes = Array.from({ length: 5 }, (_, i) => readyNode(`n${i}`));
    const pods = Array.from({ length: 30 }, (_, i) => owned(`p${i}`, `rs${i % 3}`));
    const a = placePods(pods, nodes, []).bindings.map((b) => b.node);
    const b = placePods([...pods].reverse(), nodes, []).bindings.map((b) => b.node);
    expect(b).toEqual(a);
  });
});
