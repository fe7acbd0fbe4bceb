/**
 * The HPA arithmetic against Kubernetes' replica calculator tests
 * (pkg/controller/podautoscaler/replica_calculator_test.go: same inputs, same answers)
 * and the examples of the HorizontalPodAutoscaler documentation, on a fake clock.
 */
import { describe, expect, it } from "vitest";
import {
  averageValueReplicas,
  type Behavior,
  emptyState,
  normalizeDesiredReplicas,
  type PodFacts,
  type PodSample,
  recordScaleEvent,
  resourceUtilizationReplicas,
  type ScalingState,
} from "./hpa";

const NOW = 10_000_000_000;
const COOL = NOW - 10 * 60_000; // started long ago
const HOT = NOW - 30_000; // still in its CPU initialization period, ready for less than a window

interface Case {
  current: number;
  requests: number[];
  levels: (number | undefined)[];
  target: number;
  readiness?: ("True" | "False")[];
  phase?: string[];
  deleted?: boolean[];
  start?: number[];
}

/** kube's harness: pods "test-pod-N", Ready since their start, samples taken now over a one-minute window */
const run = (c: Case) => {
  const pods: PodFacts[] = c.requests.map((r, i) => {
    const start = c.start?.[i] ?? COOL;
    return {
      name: `test-pod-${i}`,
      phase: c.phase?.[i] ?? "Running",
      deleted: c.deleted?.[i] ?? false,
      ready: { status: c.readiness?.[i] ?? "True", lastTransitionMs: start },
      startMs: start,
      request: r,
    };
  });
  const samples = new Map<string, PodSample>();
  c.levels.forEach((v, i) => {
    if (v !== undefined) samples.set(`test-pod-${i}`, { value: v, timestampMs: NOW, windowMs: 60_000 });
  });
  return resourceUtilizationReplicas({ currentReplicas: c.current, pods, samples, resource: "cpu", nowMs: NOW }, c.target);
};

describe("replica calculator (Resource cpu, Utilization)", () => {
  const one = 1000;
  it.each([
    ["ScaleUp", { current: 3, requests: [one, one, one], levels: [300, 500, 700], target: 30 }, 5, 50],
    ["ScaleUpUnreadyLessScale", { current: 3, requests: [one, one, one], levels: [300, 500, 700], target: 30, readiness: ["False", "True", "True"] }, 4, 60],
    ["ScaleUpHotCpuLessScale", { current: 3, requests: [one, one, one], levels: [300, 500, 700], target: 30, start: [HOT, COOL, COOL] }, 4, 60],
    ["ScaleUpUnreadyNoScale", { current: 3, requests: [one, one, one], levels: [400, 500, 700], target: 30, readiness: ["True", "False", "False"] }, 3, 40],
    [
      "ScaleUpIgnoresFailedPods",
      {
        current: 2,
        requests: [one, one, one, one],
        levels: [500, 700],
        target: 30,
        readiness: ["True", "True", "False", "False"],
        phase: ["Running", "Running", "Failed", "Failed"],
      },
      4,
      60,
    ],
    [
      "ScaleUpIgnoresDeletionPods",
      {
        current: 2,
        requests: [one, one, one, one],
        levels: [500, 700],
        target: 30,
        readiness: ["True", "True", "False", "False"],
        deleted: [false, false, true, true],
      },
      4,
      60,
    ],
    ["ScaleDown", { current: 5, requests: [one, one, one, one, one], levels: [100, 300, 500, 250, 250], target: 50 }, 3, 28],
    [
      "ScaleDownIncludeUnreadyPods",
      { current: 5, requests: [one, one, one, one, one], levels: [100, 300, 500, 250, 250], target: 50, readiness: ["True", "True", "True", "False", "False"] },
      2,
      30,
    ],
    [
      "ScaleDownExcludeUnscheduledPods",
      {
        current: 5,
        requests: [one, one, one, one, one],
        levels: [100],
        target: 50,
        readiness: ["True", "False", "False", "False", "False"],
        phase: ["Running", "Pending", "Pending", "Pending", "Pending"],
      },
      1,
      10,
    ],
    [
      "ScaleDownIgnoreHotCpuPods",
      { current: 5, requests: [one, one, one, one, one], levels: [100, 300, 500, 250, 250], target: 50, start: [COOL, COOL, COOL, HOT, HOT] },
      2,
      30,
    ],
    ["Tolerance", { current: 3, requests: [900, 1000, 1100], levels: [1010, 1030, 1020], target: 100 }, 3, 102],
    ["SuperfluousMetrics", { current: 4, requests: [one, one, one, one], levels: [4000, 9500, 3000, 7000, 3200, 2000], target: 100 }, 24, 587],
    ["MissingMetrics", { current: 4, requests: [one, one, one, one], levels: [400, 95], target: 100 }, 3, 24],
    ["MissingMetricsNoChangeEq", { current: 2, requests: [one, one], levels: [1000], target: 100 }, 2, 100],
    ["MissingMetricsNoChangeGt", { current: 2, requests: [one, one], levels: [1900], target: 100 }, 2, 190],
    ["MissingMetricsNoChangeLt", { current: 2, requests: [one, one], levels: [600], target: 100 }, 2, 60],
    ["MissingMetricsUnreadyChange", { current: 3, requests: [one, one, one], levels: [100, 450], target: 50, readiness: ["False", "True", "True"] }, 3, 45],
    ["MissingMetricsHotCpuNoChange", { current: 3, requests: [one, one, one], levels: [100, 450], target: 50, start: [HOT, COOL, COOL] }, 3, 45],
    ["MissingMetricsUnreadyScaleUp", { current: 3, requests: [one, one, one], levels: [100, 2000], target: 50, readiness: ["False", "True", "True"] }, 4, 200],
    [
      "MissingMetricsUnreadyScaleDown",
      { current: 4, requests: [one, one, one, one], levels: [100, 100, 100], target: 50, readiness: ["False", "True", "True", "True"] },
      3,
      10,
    ],
    ["DuringRollingUpdateWithMaxSurge", { current: 2, requests: [one, one, one], levels: [100, 100], target: 50 }, 2, 10],
  ] as [string, Case, number, number][])("%s", (_name, c, replicas, utilization) => {
    const r = run(c);
    expect(r.replicas).toBe(replicas);
    expect(r.utilization).toBe(utilization);
  });

  it("fails without metrics for any pod, without pods, or when a container has no request", () => {
    expect(() => run({ current: 4, requests: [1000, 1000, 1000], levels: [], target: 100 })).toThrow(/did not receive metrics/);
    expect(() => run({ current: 1, requests: [], levels: [], target: 100 })).toThrow(/no pods returned by selector/);
    const pods: PodFacts[] = [
      { name: "p", phase: "Running", deleted: false, ready: { status: "True", lastTransitionMs: COOL }, startMs: COOL, missingRequestContainer: "c" },
    ];
    const samples = new Map([["p", { value: 200, timestampMs: NOW, windowMs: 30_000 }]]);
    expect(() => resourceUtilizationReplicas({ currentReplicas: 1, pods, samples, resource: "cpu", nowMs: NOW }, 100)).toThrow(
      "missing request for cpu in container c of Pod p",
    );
  });

  it("the documentation's example: 200m against a 100m target doubles, 50m halves, within 10% nothing changes", () => {
    const pods = (n: number): PodFacts[] =>
      Array.from({ length: n }, (_, i) => ({
        name: `p${i}`,
        phase: "Running",
        deleted: false,
        ready: { status: "True", lastTransitionMs: COOL },
        startMs: COOL,
      }));
    const at = (n: number, v: number) => new Map(Array.from({ length: n }, (_, i) => [`p${i}`, { value: v, timestampMs: NOW, windowMs: 30_000 }]));
    const calc = (v: number) => averageValueReplicas({ currentReplicas: 4, pods: pods(4), samples: at(4, v), resource: "memory", nowMs: NOW }, 100);
    expect(calc(200).replicas).toBe(8);
    expect(calc(50).replicas).toBe(2);
    expect(calc(109).replicas).toBe(4);
    expect(calc(111).replicas).toBe(5);
  });
});

describe("behavior: stabilization windows and scaling policies (fake clock)", () => {
  const step = (s: ScalingState, current: number, desired: number, atS: number, behavior?: Behavior, min = 1, max = 100) => {
    const r = normalizeDesiredReplicas({ current, desired, min, max, behavior, nowMs: atS * 1000 }, s);
    recordScaleEvent(s, behavior, current, r.replicas, atS * 1000);
    return r;
  };

  it("the default scale-down window (300 s) keeps the highest recommendation of the last five minutes", () => {
    const s = emptyState();
    const b: Behavior = {};
    expect(step(s, 5, 5, 0, b).replicas).toBe(5);
    expect(step(s, 5, 2, 60, b)).toMatchObject({ replicas: 5, able: { reason: "ScaleDownStabilized" } });
    expect(step(s, 5, 2, 299, b).replicas).toBe(5);
    // the 5 of t=0 has left the window
    expect(step(s, 5, 2, 301, b)).toMatchObject({ replicas: 2, reason: "DesiredWithinRange" });
  });

  it("without behavior: the 5-minute window, and at most max(2 × current, 4) up", () => {
    const s = emptyState();
    expect(step(s, 1, 10, 0)).toMatchObject({ replicas: 4, reason: "ScaleUpLimit" });
    expect(step(s, 4, 20, 15)).toMatchObject({ replicas: 8, reason: "ScaleUpLimit" });
    // the window's highest, 20, is still bound by the scale-up limit (2 × 8)
    expect(step(s, 8, 1, 30)).toMatchObject({ replicas: 16, stabilized: 20, reason: "ScaleUpLimit" });
    expect(step(s, 8, 200, 45, undefined, 1, 10)).toMatchObject({ replicas: 10, reason: "TooManyReplicas" });
  });

  it("default scale-up: the larger of +4 pods or +100 % per 15 s", () => {
    const s = emptyState();
    const b: Behavior = { scaleDown: { stabilizationWindowSeconds: 0 } };
    expect(step(s, 1, 50, 0, b)).toMatchObject({ replicas: 5, reason: "ScaleUpLimit" });
    // within the same 15 s period the 4 added count: the period started at 1
    expect(step(s, 5, 50, 10, b).replicas).toBe(5);
    expect(step(s, 5, 50, 16, b).replicas).toBe(10);
    expect(step(s, 10, 50, 32, b).replicas).toBe(20);
    expect(step(s, 20, 30, 48, b)).toMatchObject({ replicas: 30, reason: "DesiredWithinRange" });
  });

  it("the documentation's scale-down policies: 4 pods or 10 % per minute, whichever removes more (80 → 72 → 64)", () => {
    const s = emptyState();
    const b: Behavior = {
      scaleDown: {
        stabilizationWindowSeconds: 0,
        policies: [
          { type: "Pods", value: 4, periodSeconds: 60 },
          { type: "Percent", value: 10, periodSeconds: 60 },
        ],
      },
    };
    expect(step(s, 80, 10, 0, b)).toMatchObject({ replicas: 72, reason: "ScaleDownLimit" });
    expect(step(s, 72, 10, 30, b).replicas).toBe(72); // this minute's 8 are spent
    expect(step(s, 72, 10, 61, b).replicas).toBe(64); // 10 % of 72 is 7.2: 8 go
    // 40 or fewer: the Pods policy removes more
    const t = emptyState();
    expect(step(t, 30, 1, 0, b).replicas).toBe(26);
    // selectPolicy Min: the policy that removes fewer
    const u = emptyState();
    expect(step(u, 80, 10, 0, { scaleDown: { ...b.scaleDown, selectPolicy: "Min" } }).replicas).toBe(76);
    // Disabled: no scale-down at all
    const v = emptyState();
    expect(step(v, 80, 10, 0, { scaleDown: { selectPolicy: "Disabled" } })).toMatchObject({ replicas: 80, reason: "ScaleDownLimit" });
  });

  it("a scale-up stabilization window takes the lowest recommendation in it; min and max bound the result", () => {
    const s = emptyState();
    const b: Behavior = { scaleUp: { stabilizationWindowSeconds: 60 }, scaleDown: { stabilizationWindowSeconds: 0 } };
    expect(step(s, 2, 2, 0, b).replicas).toBe(2);
    expect(step(s, 2, 6, 30, b)).toMatchObject({ replicas: 2, able: { reason: "ScaleUpStabilized" } });
    expect(step(s, 2, 6, 61, b).replicas).toBe(6);
    expect(step(s, 6, 1, 75, b, 3, 10)).toMatchObject({ replicas: 3, reason: "TooFewReplicas" });
    expect(step(s, 3, 40, 90, { scaleDown: { stabilizationWindowSeconds: 0 } }, 3, 10)).toMatchObject({ replicas: 7, reason: "ScaleUpLimit" });
    expect(step(s, 8, 40, 120, { scaleDown: { stabilizationWindowSeconds: 0 } }, 3, 10)).toMatchObject({ replicas: 10, reason: "TooManyReplicas" });
  });
});
