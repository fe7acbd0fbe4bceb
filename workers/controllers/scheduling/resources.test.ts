import { describe, expect, it } from "vitest";
import type { KObject } from "../../../shared/types";
import {
  containerRequests,
  DEFAULT_MEMORY_REQUEST,
  DEFAULT_MILLI_CPU_REQUEST,
  nodeAllocatable,
  podNonZeroRequests,
  podRequests,
  requestedBy,
} from "./resources";

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

const c = (requests?: Record<string, string>, limits?: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  name: "c",
  image: "i",
  resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) },
  ...extra,
});
const pod = (spec: Record<string, unknown>): KObject => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" }, spec });

describe("podRequests", () => {
  it("sums the containers: cpu in millicores, memory in bytes, one pod", () => {
    expect(podRequests(pod({ containers: [c({ cpu: "250m", memory: "64Mi" }), c({ cpu: "1", memory: "1Gi" })] }))).toEqual({
      cpu: 1250,
      memory: 64 * Mi + Gi,
      pods: 1,
    });
  });

  it("counts nothing for containers without requests", () => {
    expect(podRequests(pod({ containers: [c()] }))).toEqual({ cpu: 0, memory: 0, pods: 1 });
  });

  it("takes each init container as a floor (init containers run one at a time, before the others)", () => {
    const p = pod({
      initContainers: [c({ cpu: "2", memory: "100Mi" }), c({ cpu: "500m", memory: "3Gi" })],
      containers: [c({ cpu: "1", memory: "1Gi" })],
    });
    expect(podRequests(p)).toMatchObject({ cpu: 2000, memory: 3 * Gi });
  });

  it("adds sidecars (restartable init containers) to the sum and to the init containers started after them", () => {
    const p = pod({
      initContainers: [c({ cpu: "100m" }, undefined, { restartPolicy: "Always" }), c({ cpu: "1" })],
      containers: [c({ cpu: "200m" })],
    });
    // running: 200m + sidecar 100m = 300m; while the second init container runs: 1000m + 100m
    expect(podRequests(p).cpu).toBe(1100);
    const light = pod({ initContainers: [c({ cpu: "100m" }, undefined, { restartPolicy: "Always" })], containers: [c({ cpu: "200m" })] });
    expect(podRequests(light).cpu).toBe(300);
  });

  it("uses limits for resources without a request, and adds the pod overhead", () => {
    const p = pod({ containers: [c({ cpu: "100m" }, { cpu: "2", memory: "256Mi" })], overhead: { cpu: "10m", memory: "1Mi" } });
    expect(podRequests(p)).toMatchObject({ cpu: 110, memory: 257 * Mi });
  });

  it("keeps other resources (extended, ephemeral-storage) in scalar", () => {
    const p = pod({ containers: [c({ cpu: "1", "nvidia.com/gpu": "2", "ephemeral-storage": "1Gi" })] });
    expect(podRequests(p).scalar).toEqual({ "nvidia.com/gpu": 2, "ephemeral-storage": Gi });
  });

  it("counts a quantity too long to parse (stored before Kubeflare refused them) as no request", () => {
    const huge = "1".repeat(2_500_000);
    expect(podRequests(pod({ containers: [c({ cpu: huge, memory: "1Mi" })] }))).toMatchObject({ cpu: 0, memory: Mi });
    expect(nodeAllocatable({ metadata: { name: "n" }, status: { allocatable: { cpu: huge, memory: huge, pods: "110" } } } as KObject)).toMatchObject({
      cpu: 0,
      memory: 0,
      pods: 110,
    });
  });

  it("saturates out-of-range quantities at int64, so sums stay finite", () => {
    const p = pod({ containers: [c({ cpu: "1e400", memory: "99999999999999999999Ei" }), c({ cpu: "1e400" })] });
    const r = podRequests(p);
    expect(r.cpu).toBe(2 * 2 ** 63);
    expect(r.memory).toBe(2 ** 63);
    expect(Number.isFinite(requestedBy([p, p]).cpu)).toBe(true);
  });

  it("treats a malformed quantity as no request", () => {
    expect(podRequests(pod({ containers: [c({ cpu: "lots", memory: "12Mi" })] }))).toMatchObject({ cpu: 0, memory: 12 * Mi });
  });

  it("gives containers without cpu or memory requests the scoring defaults when asked (non-zero requests)", () => {
    expect(podNonZeroRequests(pod({ containers: [c(), c({ cpu: "1" })] }))).toMatchObject({
      cpu: DEFAULT_MILLI_CPU_REQUEST + 1000,
      memory: 2 * DEFAULT_MEMORY_REQUEST,
    });
    expect(containerRequests(c({ cpu: "0" }), true).cpu).toBe(0); // an explicit 0 stays 0
  });
});

describe("nodeAllocatable", () => {
  it("reads status.allocatable", () => {
    const node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "n" },
      status: { allocatable: { cpu: "3800m", memory: "7Gi", pods: "110", "nvidia.com/gpu": "1" }, capacity: { cpu: "4" } },
    };
    expect(nodeAllocatable(node)).toEqual({ cpu: 3800, memory: 7 * Gi, pods: 110, scalar: { "nvidia.com/gpu": 1 } });
  });

  it("falls back to capacity, and to nothing", () => {
    expect(nodeAllocatable({ apiVersion: "v1", kind: "Node", metadata: { name: "n" }, status: { capacity: { cpu: "2", memory: "1G", pods: "10" } } })).toEqual({
      cpu: 2000,
      memory: 1e9,
      pods: 10,
    });
    expect(nodeAllocatable({ apiVersion: "v1", kind: "Node", metadata: { name: "n" } })).toEqual({ cpu: 0, memory: 0, pods: 0 });
  });
});

describe("requestedBy", () => {
  it("adds up the pods bound to a node", () => {
    const pods = [
      pod({ containers: [c({ cpu: "100m", memory: "1Mi" })] }),
      pod({ containers: [c({ cpu: "1", "nvidia.com/gpu": "1" })] }),
      pod({ containers: [c()] }),
    ];
    expect(requestedBy(pods)).toEqual({ cpu: 1100, memory: Mi, pods: 3, scalar: { "nvidia.com/gpu": 1 } });
    expect(requestedBy(pods, true)).toMatchObject({ cpu: 1200, memory: Mi + 2 * DEFAULT_MEMORY_REQUEST, pods: 3 });
  });
});
