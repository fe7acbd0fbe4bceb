import { describe, expect, it } from "vitest";
import type { KObject } from "../../../shared/types";
import {
  countIntolerablePreferNoSchedule,
  findUntoleratedTaint,
  formatTaint,
  isNodeReady,
  nodeTaints,
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  tolerates,
  toleratesUnschedulable,
} from "./taints";

const gpu = { key: "gpu", value: "true", effect: "NoSchedule" };

describe("tolerates", () => {
  it("Equal (the default operator) needs the same key, value and effect", () => {
    expect(tolerates({ key: "gpu", operator: "Equal", value: "true", effect: "NoSchedule" }, gpu)).toBe(true);
    expect(tolerates({ key: "gpu", value: "true", effect: "NoSchedule" }, gpu)).toBe(true);
    expect(tolerates({ key: "gpu", operator: "Equal", value: "false", effect: "NoSchedule" }, gpu)).toBe(false);
    expect(tolerates({ key: "other", operator: "Equal", value: "true" }, gpu)).toBe(false);
    expect(tolerates({ key: "k", operator: "Equal" }, { key: "k", effect: "NoSchedule" })).toBe(true); // empty values match
  });

  it("Exists ignores the value", () => {
    expect(tolerates({ key: "gpu", operator: "Exists", effect: "NoSchedule" }, gpu)).toBe(true);
    expect(tolerates({ key: "gpu", operator: "Exists" }, gpu)).toBe(true);
  });

  it("an empty effect matches every effect; a set one only itself", () => {
    expect(tolerates({ key: "gpu", operator: "Exists" }, { ...gpu, effect: "NoExecute" })).toBe(true);
    expect(tolerates({ key: "gpu", operator: "Exists", effect: "NoExecute" }, gpu)).toBe(false);
  });

  it("an empty key with Exists tolerates everything", () => {
    expect(tolerates({ operator: "Exists" }, gpu)).toBe(true);
    expect(tolerates({ operator: "Exists" }, { key: TAINT_UNREACHABLE, effect: "NoExecute" })).toBe(true);
    expect(tolerates({ operator: "Exists", effect: "NoExecute" }, gpu)).toBe(false);
  });

  it("an unknown operator tolerates nothing", () => {
    expect(tolerates({ key: "gpu", operator: "Like", value: "true" }, gpu)).toBe(false);
  });
});

describe("findUntoleratedTaint", () => {
  const taints = [
    { key: "soft", effect: "PreferNoSchedule" },
    { key: "a", value: "1", effect: "NoSchedule" },
    { key: "b", effect: "NoExecute" },
  ];

  it("names the first NoSchedule or NoExecute taint nothing tolerates, ignoring PreferNoSchedule", () => {
    expect(findUntoleratedTaint(taints, [])).toEqual(taints[1]);
    expect(findUntoleratedTaint(taints, [{ key: "a", operator: "Exists" }])).toEqual(taints[2]);
    expect(
      findUntoleratedTaint(taints, [
        { key: "a", operator: "Exists" },
        { key: "b", operator: "Exists", tolerationSeconds: 30 },
      ]),
    ).toBeNull();
    expect(findUntoleratedTaint([], [])).toBeNull();
  });
});

describe("countIntolerablePreferNoSchedule", () => {
  it("counts PreferNoSchedule taints not tolerated by tolerations with that effect or none", () => {
    const taints = [
      { key: "x", effect: "PreferNoSchedule" },
      { key: "y", effect: "PreferNoSchedule" },
      { key: "z", effect: "NoSchedule" },
    ];
    expect(countIntolerablePreferNoSchedule(taints, [])).toBe(2);
    expect(countIntolerablePreferNoSchedule(taints, [{ key: "x", operator: "Exists" }])).toBe(1);
    expect(countIntolerablePreferNoSchedule(taints, [{ key: "x", operator: "Exists", effect: "NoSchedule" }])).toBe(2);
    expect(countIntolerablePreferNoSchedule(taints, [{ operator: "Exists", effect: "PreferNoSchedule" }])).toBe(0);
  });
});

describe("toleratesUnschedulable", () => {
  it("is the toleration of node.kubernetes.io/unschedulable:NoSchedule", () => {
    expect(toleratesUnschedulable([])).toBe(false);
    expect(toleratesUnschedulable([{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }])).toBe(true);
    expect(toleratesUnschedulable([{ operator: "Exists" }])).toBe(true);
  });
});

describe("nodeTaints", () => {
  const node = (ready: string | null, taints?: unknown[]): KObject => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "n" },
    spec: taints ? { taints } : {},
    status: { conditions: ready === null ? [] : [{ type: "Ready", status: ready }] },
  });

  it("gives a Ready node its spec.taints", () => {
    expect(nodeTaints(node("True"))).toEqual([]);
    expect(nodeTaints(node("True", [gpu]))).toEqual([gpu]);
    expect(isNodeReady(node("True"))).toBe(true);
  });

  it("adds the lifecycle controller's NoSchedule taint to a node that is not Ready and lacks it", () => {
    expect(nodeTaints(node("False"))).toEqual([{ key: TAINT_NOT_READY, effect: "NoSchedule" }]);
    expect(nodeTaints(node("Unknown"))).toEqual([{ key: TAINT_UNREACHABLE, effect: "NoSchedule" }]);
    expect(nodeTaints(node(null))).toEqual([{ key: TAINT_UNREACHABLE, effect: "NoSchedule" }]);
    const tainted = [
      { key: TAINT_UNREACHABLE, effect: "NoSchedule" },
      { key: TAINT_UNREACHABLE, effect: "NoExecute" },
    ];
    expect(nodeTaints(node("Unknown", tainted))).toEqual(tainted);
  });
});

describe("formatTaint", () => {
  it("prints {key: value} as kube-scheduler does, with an empty value after the colon", () => {
    expect(formatTaint(gpu)).toBe("{gpu: true}");
    expect(formatTaint({ key: TAINT_UNREACHABLE, effect: "NoExecute" })).toBe("{node.kubernetes.io/unreachable: }");
  });
});
