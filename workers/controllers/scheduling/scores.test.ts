import { describe, expect, it } from "vitest";
import type { KObject } from "../../../shared/types";
import { readyNode } from "../../../test/controlplane";
import { type NodeInfo, toNodeInfo, toPodInfo } from "./filters";
import { addInto, podNonZeroRequests, podRequests } from "./resources";
import {
  balancedAllocationScore,
  leastAllocatedScore,
  normalizeScores,
  normalizeSpreadScores,
  pickBest,
  scoreNodes,
  spreadRawScores,
  topologyNormalizingWeight,
} from "./scores";

const Gi = 1024 ** 3;

const pod = (requests: Record<string, string> = {}, spec: Record<string, unknown> = {}): KObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "default" },
  spec: { containers: [{ name: "c", image: "i", resources: { requests } }], ...spec },
});

const nodeWith = (node: KObject, ...pods: KObject[]): NodeInfo => {
  const n = toNodeInfo(node);
  for (const p of pods) {
    addInto(n.requested, podRequests(p));
    addInto(n.nonZeroRequested, podNonZeroRequests(p));
  }
  return n;
};

describe("leastAllocatedScore", () => {
  it("averages the share of cpu and memory left", () => {
    const alloc = { cpu: 4000, memory: 8 * Gi, pods: 110 };
    expect(leastAllocatedScore(alloc, { cpu: 1000, memory: 2 * Gi, pods: 0 })).toBe(75);
    expect(leastAllocatedScore(alloc, { cpu: 0, memory: 8 * Gi, pods: 0 })).toBe(50);
    expect(leastAllocatedScore(alloc, { cpu: 5000, memory: 0, pods: 0 })).toBe(50); // over capacity counts 0
    expect(leastAllocatedScore({ cpu: 0, memory: 0, pods: 0 }, { cpu: 0, memory: 0, pods: 0 })).toBe(0);
  });
});

describe("balancedAllocationScore", () => {
  it("is (1 - |cpu fraction - memory fraction| / 2) * 100", () => {
    const alloc = { cpu: 4000, memory: 8 * Gi, pods: 110 };
    expect(balancedAllocationScore(alloc, { cpu: 2000, memory: 4 * Gi, pods: 0 })).toBe(100);
    expect(balancedAllocationScore(alloc, { cpu: 2000, memory: 2 * Gi, pods: 0 })).toBe(87);
    expect(balancedAllocationScore(alloc, { cpu: 8000, memory: 0, pods: 0 })).toBe(50);
  });
});

describe("normalizeScores", () => {
  it("scales the highest to 100, or reversed to 0", () => {
    expect(normalizeScores([0, 5, 10])).toEqual([0, 50, 100]);
    expect(normalizeScores([0, 5, 10], true)).toEqual([100, 50, 0]);
    expect(normalizeScores([0, 0])).toEqual([0, 0]);
    expect(normalizeScores([0, 0], true)).toEqual([100, 100]);
    expect(normalizeScores([3, 7])).toEqual([42, 100]); // integer division, as in Go
  });
});

describe("spreading", () => {
  const owner = "rs-1";
  const mk = (name: string, count: number, zone?: string): NodeInfo => {
    const n = toNodeInfo(readyNode(name, { labels: zone ? { "topology.kubernetes.io/zone": zone } : {} }));
    if (count) n.owners.set(owner, count);
    return n;
  };

  it("scores raw counts per domain with log(domains + 2) plus maxSkew - 1", () => {
    const nodes = [mk("a", 1), mk("b", 0), mk("c", 0)];
    expect(topologyNormalizingWeight(3)).toBeCloseTo(Math.log(5));
    expect(spreadRawScores(nodes, { owner, zoneCounts: undefined })).toEqual([Math.round(Math.log(5) + 2), 2, 2]);
  });

  it("adds the zone constraint for nodes with a zone label", () => {
    const nodes = [mk("a", 0, "z1"), mk("b", 0, "z2")];
    const raw = spreadRawScores(nodes, { owner, zoneCounts: new Map([["z1", 3]]) });
    expect(raw).toEqual([Math.round(2 + 3 * Math.log(4) + 4), 6]);
  });

  it("normalizes so the emptiest domains get 100", () => {
    expect(normalizeSpreadScores([4, 2, 2])).toEqual([50, 100, 100]);
    expect(normalizeSpreadScores([0, 0])).toEqual([100, 100]);
  });
});

describe("scoreNodes", () => {
  it("prefers the emptier node (least allocated)", () => {
    const busy = nodeWith(readyNode("busy"), pod({ cpu: "3", memory: "6Gi" }));
    const idle = nodeWith(readyNode("idle"));
    const [b, i] = scoreNodes(toPodInfo(pod({ cpu: "100m", memory: "128Mi" })), [busy, idle], null);
    expect(i).toBeGreaterThan(b);
  });

  it("follows preferred node affinity over a little load", () => {
    const pref = {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 50, preference: { matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }] } },
          ],
        },
      },
    };
    const ssd = nodeWith(readyNode("ssd", { labels: { disk: "ssd" } }), pod({ cpu: "1", memory: "2Gi" }));
    const hdd = nodeWith(readyNode("hdd", { labels: { disk: "hdd" } }));
    const [s, h] = scoreNodes(toPodInfo(pod({ cpu: "100m" }, pref)), [ssd, hdd], null);
    expect(s).toBeGreaterThan(h);
  });

  it("avoids untolerated PreferNoSchedule taints", () => {
    const soft = nodeWith(readyNode("soft", { taints: [{ key: "spot", effect: "PreferNoSchedule" }] }));
    const plain = nodeWith(readyNode("plain"), pod({ cpu: "1", memory: "1Gi" }));
    const [s, p] = scoreNodes(toPodInfo(pod()), [soft, plain], null);
    expect(p).toBeGreaterThan(s);
    const [s2, p2] = scoreNodes(toPodInfo(pod({}, { tolerations: [{ key: "spot", operator: "Exists" }] })), [soft, plain], null);
    expect(s2).toBeGreaterThan(p2);
  });

  it("spreads replicas of one owner away from nodes that have them", () => {
    const a = nodeWith(readyNode("a"));
    a.owners.set("rs", 1);
    const b = nodeWith(readyNode("b"), pod({ cpu: "500m", memory: "1Gi" })); // busier, but no replica
    const [sa, sb] = scoreNodes(toPodInfo(pod({ cpu: "100m" })), [a, b], { owner: "rs", zoneCounts: undefined });
    expect(sb).toBeGreaterThan(sa);
  });
});

describe("pickBest", () => {
  it("takes the highest score, and breaks ties with the seed", () => {
    expect(pickBest([1, 5, 3], 7)).toBe(1);
    expect([0, 1, 2, 3].map((seed) => pickBest([5, 1, 5, 5], seed))).toEqual([0, 2, 3, 0]);
    expect(pickBest([], 1)).toBe(-1);
  });
});
