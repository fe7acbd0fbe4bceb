import { describe, expect, it } from "vitest";
import type { KObject } from "../../../shared/types";
import { readyNode } from "../../../test/controlplane";
import { requiredPodAntiAffinityTerms } from "./affinity";
import {
  controllerOf,
  hostPortsOf,
  interPodAffinity,
  nodeAffinity,
  nodePorts,
  nodeUnschedulable,
  portsConflict,
  REASON_EXISTING_ANTI_AFFINITY,
  REASON_NODE_AFFINITY,
  REASON_POD_AFFINITY,
  REASON_POD_ANTI_AFFINITY,
  REASON_PORTS,
  REASON_TOO_MANY_PODS,
  REASON_UNSCHEDULABLE,
  resourcesFit,
  runFilters,
  taintToleration,
  toNodeInfo,
  toPodInfo,
} from "./filters";
import { addInto, podRequests } from "./resources";

const pod = (spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "default", ...meta },
  spec: { containers: [{ name: "c", image: "i" }], ...spec },
});
const withRequests = (requests: Record<string, string>, spec: Record<string, unknown> = {}) =>
  pod({ ...spec, containers: [{ name: "c", image: "i", resources: { requests } }] });
const withPorts = (...ports: Record<string, unknown>[]) => pod({ containers: [{ name: "c", image: "i", ports }] });

/** A NodeInfo with `pods` already on it. */
const nodeWith = (node: KObject, ...pods: KObject[]) => {
  const n = toNodeInfo(node);
  for (const p of pods) {
    addInto(n.requested, podRequests(p));
    for (const hp of hostPortsOf(p)) {
      if (!n.usedPorts.has(hp.key)) n.usedPorts.set(hp.key, new Set());
      n.usedPorts.get(hp.key)!.add(hp.ip);
    }
  }
  return n;
};

describe("nodeUnschedulable", () => {
  const cordoned = readyNode("n");
  cordoned.spec.unschedulable = true;

  it("refuses a cordoned node unless the pod tolerates node.kubernetes.io/unschedulable", () => {
    expect(nodeUnschedulable(toPodInfo(pod()), toNodeInfo(cordoned))).toBe(REASON_UNSCHEDULABLE);
    expect(nodeUnschedulable(toPodInfo(pod()), toNodeInfo(readyNode("m")))).toBeNull();
    const tolerant = pod({ tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }] });
    expect(nodeUnschedulable(toPodInfo(tolerant), toNodeInfo(cordoned))).toBeNull();
  });
});

describe("taintToleration", () => {
  const tainted = readyNode("n", {
    taints: [
      { key: "dedicated", value: "db", effect: "NoSchedule" },
      { key: "maintenance", effect: "NoExecute" },
    ],
  });

  it("names the first untolerated NoSchedule/NoExecute taint as {key: value}", () => {
    expect(taintToleration(toPodInfo(pod()), toNodeInfo(tainted))).toBe("node(s) had untolerated taint {dedicated: db}");
    const half = pod({ tolerations: [{ key: "dedicated", operator: "Equal", value: "db", effect: "NoSchedule" }] });
    expect(taintToleration(toPodInfo(half), toNodeInfo(tainted))).toBe("node(s) had untolerated taint {maintenance: }");
    const both = pod({
      tolerations: [
        { key: "dedicated", operator: "Exists" },
        { key: "maintenance", operator: "Exists", effect: "NoExecute", tolerationSeconds: 60 },
      ],
    });
    expect(taintToleration(toPodInfo(both), toNodeInfo(tainted))).toBeNull();
  });

  it("lets PreferNoSchedule through (it only lowers the score)", () => {
    expect(taintToleration(toPodInfo(pod()), toNodeInfo(readyNode("n", { taints: [{ key: "x", effect: "PreferNoSchedule" }] })))).toBeNull();
  });

  it("refuses a NotReady node through its not-ready taint", () => {
    const down = readyNode("down");
    down.status.conditions[0].status = "False";
    expect(taintToleration(toPodInfo(pod()), toNodeInfo(down))).toBe("node(s) had untolerated taint {node.kubernetes.io/not-ready: }");
  });
});

describe("nodeAffinity", () => {
  it("checks nodeSelector and required node affinity", () => {
    const ssd = toNodeInfo(readyNode("a", { labels: { disk: "ssd" } }));
    const hdd = toNodeInfo(readyNode("b", { labels: { disk: "hdd" } }));
    const p = toPodInfo(pod({ nodeSelector: { disk: "ssd" } }));
    expect(nodeAffinity(p, ssd)).toBeNull();
    expect(nodeAffinity(p, hdd)).toBe(REASON_NODE_AFFINITY);
    expect(nodeAffinity(toPodInfo(pod()), hdd)).toBeNull();
  });
});

describe("nodePorts", () => {
  it("collects host ports with TCP and 0.0.0.0 defaults, skipping container-only ports", () => {
    expect(
      hostPortsOf(
        withPorts({ containerPort: 80 }, { containerPort: 53, hostPort: 53, protocol: "UDP" }, { containerPort: 8080, hostPort: 80, hostIP: "10.0.0.1" }),
      ),
    ).toEqual([
      { key: "UDP/53", ip: "0.0.0.0" },
      { key: "TCP/80", ip: "10.0.0.1" },
    ]);
  });

  it("refuses a node where the protocol and port are taken on the same or every IP", () => {
    const n = nodeWith(
      readyNode("n"),
      withPorts({ containerPort: 80, hostPort: 8080 }),
      withPorts({ containerPort: 53, hostPort: 53, protocol: "UDP", hostIP: "10.0.0.1" }),
    );
    expect(nodePorts(toPodInfo(withPorts({ containerPort: 80, hostPort: 8080 })), n)).toBe(REASON_PORTS);
    expect(nodePorts(toPodInfo(withPorts({ containerPort: 80, hostPort: 8080, protocol: "UDP" })), n)).toBeNull();
    expect(nodePorts(toPodInfo(withPorts({ containerPort: 80, hostPort: 8080, hostIP: "10.0.0.2" })), n)).toBe(REASON_PORTS);
    expect(nodePorts(toPodInfo(withPorts({ containerPort: 53, hostPort: 53, protocol: "UDP", hostIP: "10.0.0.2" })), n)).toBeNull();
    expect(nodePorts(toPodInfo(withPorts({ containerPort: 53, hostPort: 53, protocol: "UDP" })), n)).toBe(REASON_PORTS);
    expect(nodePorts(toPodInfo(withPorts({ containerPort: 80, hostPort: 9090 })), n)).toBeNull();
  });

  it("portsConflict on an empty node is false", () => {
    expect(portsConflict(new Map(), [{ key: "TCP/80", ip: "0.0.0.0" }])).toBe(false);
  });
});

describe("resourcesFit", () => {
  const small = () => readyNode("n", { cpu: "1", memory: "1Gi", pods: "2" });

  it("fits requests within allocatable minus what the node's pods request", () => {
    const n = nodeWith(small(), withRequests({ cpu: "600m", memory: "512Mi" }));
    expect(resourcesFit(toPodInfo(withRequests({ cpu: "400m", memory: "512Mi" })), n)).toBeNull();
    expect(resourcesFit(toPodInfo(withRequests({ cpu: "401m", memory: "100Mi" })), n)).toEqual(["Insufficient cpu"]);
  });

  it("gives every shortfall, the pod count first", () => {
    const n = nodeWith(small(), withRequests({ cpu: "1", memory: "1Gi" }), pod());
    expect(resourcesFit(toPodInfo(withRequests({ cpu: "1m", memory: "1" })), n)).toEqual([REASON_TOO_MANY_PODS, "Insufficient cpu", "Insufficient memory"]);
  });

  it("lets a pod without requests onto a full node while the pod count allows", () => {
    const n = nodeWith(small(), withRequests({ cpu: "1", memory: "1Gi" }));
    expect(resourcesFit(toPodInfo(pod()), n)).toBeNull();
  });

  it("checks extended resources and ephemeral storage the pod requests", () => {
    const gpuNode = readyNode("g");
    gpuNode.status.allocatable = { ...gpuNode.status.allocatable, "nvidia.com/gpu": "1" };
    expect(resourcesFit(toPodInfo(withRequests({ "nvidia.com/gpu": "1" })), toNodeInfo(gpuNode))).toBeNull();
    expect(resourcesFit(toPodInfo(withRequests({ "nvidia.com/gpu": "2" })), toNodeInfo(gpuNode))).toEqual(["Insufficient nvidia.com/gpu"]);
    expect(resourcesFit(toPodInfo(withRequests({ "example.com/foo": "1", "ephemeral-storage": "1Gi" })), toNodeInfo(readyNode("plain")))).toEqual([
      "Insufficient ephemeral-storage",
      "Insufficient example.com/foo",
    ]);
  });
});

describe("interPodAffinity", () => {
  const n1 = toNodeInfo(readyNode("n1", { labels: { zone: "a" } }));
  const bare = toNodeInfo({ ...readyNode("bare"), metadata: { name: "bare", labels: {} } });
  const antiPod = pod({
    affinity: {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "db" } } }],
      },
    },
  });
  const [term] = requiredPodAntiAffinityTerms(antiPod);

  it("refuses a node whose domain holds a pod the anti-affinity term selects", () => {
    const state = { anti: [{ term, counts: new Map([["n1", 1]]) }] };
    expect(interPodAffinity(state, n1)).toBe(REASON_POD_ANTI_AFFINITY);
    expect(interPodAffinity({ anti: [{ term, counts: new Map() }] }, n1)).toBeNull();
    expect(interPodAffinity(state, bare)).toBeNull(); // no topology label: no domain, no conflict
  });

  it("refuses a node in a domain where an existing pod's anti-affinity rejects the pod", () => {
    expect(interPodAffinity({ existingAnti: new Map([["zone", new Set(["a"])]]) }, n1)).toBe(REASON_EXISTING_ANTI_AFFINITY);
    expect(interPodAffinity({ existingAnti: new Map([["zone", new Set(["b"])]]) }, n1)).toBeNull();
  });

  it("needs a matching pod in the node's domain for affinity, except for the first pod of a self-matching group", () => {
    const affinityTerm = { ...term, topologyKey: "zone" };
    const counts = new Map([["zone", new Map([["a", 2]])]]);
    expect(interPodAffinity({ affinity: { terms: [affinityTerm], counts, selfMatch: false } }, n1)).toBeNull();
    const elsewhere = new Map([["zone", new Map([["b", 1]])]]);
    expect(interPodAffinity({ affinity: { terms: [affinityTerm], counts: elsewhere, selfMatch: true } }, n1)).toBe(REASON_POD_AFFINITY);
    expect(interPodAffinity({ affinity: { terms: [affinityTerm], counts: new Map(), selfMatch: true } }, n1)).toBeNull();
    expect(interPodAffinity({ affinity: { terms: [affinityTerm], counts: new Map(), selfMatch: false } }, n1)).toBe(REASON_POD_AFFINITY);
    expect(interPodAffinity({ affinity: { terms: [affinityTerm], counts: new Map(), selfMatch: true } }, bare)).toBe(REASON_POD_AFFINITY);
  });
});

describe("runFilters", () => {
  it("stops at the first filter that refuses, in kube-scheduler's order", () => {
    const n = readyNode("n", { cpu: "1", taints: [{ key: "t", effect: "NoSchedule" }], labels: { a: "b" } });
    n.spec.unschedulable = true;
    const hungry = withRequests({ cpu: "2" }, { nodeSelector: { a: "c" } });
    expect(runFilters(toPodInfo(hungry), toNodeInfo(n), null)).toEqual([REASON_UNSCHEDULABLE]);
    n.spec.unschedulable = false;
    expect(runFilters(toPodInfo(hungry), toNodeInfo(n), null)).toEqual(["node(s) had untolerated taint {t: }"]);
    n.spec.taints = [];
    expect(runFilters(toPodInfo(hungry), toNodeInfo(n), null)).toEqual([REASON_NODE_AFFINITY]);
    n.metadata.labels = { ...n.metadata.labels, a: "c" };
    expect(runFilters(toPodInfo(hungry), toNodeInfo(n), null)).toEqual(["Insufficient cpu"]);
    expect(runFilters(toPodInfo(pod()), toNodeInfo(n), null)).toEqual([]);
  });
});

describe("controllerOf", () => {
  it("is the controller owner's uid", () => {
    const owned = pod(
      {},
      {
        ownerReferences: [
          { kind: "ReplicaSet", name: "x", uid: "u1", controller: false },
          { kind: "ReplicaSet", name: "web", uid: "u2", controller: true },
        ],
      },
    );
    expect(controllerOf(owned)).toBe("u2");
    expect(controllerOf(pod())).toBeUndefined();
  });
});
