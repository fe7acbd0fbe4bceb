/**
 * The HorizontalPodAutoscaler's arithmetic, as kube-controller-manager computes it
 * (pkg/controller/podautoscaler: replica_calculator.go and horizontal.go), pure and on
 * an injected clock so it can be tested against Kubernetes' documented examples:
 *
 * - desired = ceil(current × usage / target) over the pods that count, unless the ratio
 *   is within the tolerance (0.1) of 1;
 * - pods being deleted or failed are ignored; pending pods, and (CPU only) pods still in
 *   their initialization period that are not ready or whose sample predates their
 *   readiness, are "unready"; pods without a sample are "missing". On a scale-up,
 *   unready and missing pods count as using nothing; on a scale-down, missing pods count
 *   as using 100 % of their request (or the target, if higher); if that reverses the
 *   direction or lands within the tolerance, nothing changes;
 * - behavior: a stabilization window per direction (the highest recommendation of the
 *   scale-down window, the lowest of the scale-up window) and rate policies (Pods /
 *   Percent per periodSeconds, selectPolicy Max / Min / Disabled) over the scale events
 *   of each period; without behavior, the old rules (scale-down window 5 min, scale-up
 *   at most max(2 × current, 4)).
 *
 * All quantities are in milli-units (millicores; milli-bytes for memory), as kube uses
 * MilliValue() for both usage and requests.
 */

export const DEFAULT_TOLERANCE = 0.1;
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
export const DELAY_OF_INITIAL_READINESS_STATUS_MS = 30_000;
export const DEFAULT_DOWNSCALE_STABILIZATION_MS = 5 * 60_000;
export const SCALE_UP_LIMIT_FACTOR = 2;
export const SCALE_UP_LIMIT_MINIMUM = 4;

export interface PodFacts {
  name: string;
  phase: string;
  deleted: boolean;
  /** the Ready condition: its status and last transition (ms), if the pod has one */
  ready?: { status: string; lastTransitionMs: number };
  /** status.startTime (ms) */
  startMs?: number;
  /** the summed request of the resource over the counted containers (milli), or undefined when a container has none */
  request?: number;
  /** the container whose request is missing (for the message) */
  missingRequestContainer?: string;
}

export interface PodSample {
  /** milli-units */
  value: number;
  timestampMs: number;
  windowMs: number;
}

export interface Grouped {
  readyCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/** kube's groupPods: which pods count, which are unready, missing or ignored. */
export const groupPods = (
  pods: PodFacts[],
  samples: Map<string, PodSample>,
  resource: string,
  nowMs: number,
  cpuInitializationPeriodMs = CPU_INITIALIZATION_PERIOD_MS,
  delayOfInitialReadinessStatusMs = DELAY_OF_INITIAL_READINESS_STATUS_MS,
): Grouped => {
  const g: Grouped = { readyCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const p of pods) {
    if (p.deleted || p.phase === "Failed") {
      g.ignored.add(p.name);
      continue;
    }
    if (p.phase === "Pending") {
      g.unready.add(p.name);
      continue;
    }
    const s = samples.get(p.name);
    if (!s) {
      g.missing.add(p.name);
      continue;
    }
    if (resource === "cpu") {
      let unready: boolean;
      if (!p.ready || p.startMs === undefined) unready = true;
      else if (p.startMs + cpuInitializationPeriodMs > nowMs) {
        // within its initialization: not ready, or no full window since it became ready
        unready = p.ready.status === "False" || s.timestampMs < p.ready.lastTransitionMs + s.windowMs;
      } else {
        // past it: only a pod that never was ready
        unready = p.ready.status === "False" && p.startMs + delayOfInitialReadinessStatusMs > p.ready.lastTransitionMs;
      }
      if (unready) {
        g.unready.add(p.name);
        continue;
      }
    }
    g.readyCount++;
  }
  return g;
};

export class MetricError extends Error {}

export interface ReplicaResult {
  replicas: number;
  /** Utilization: the current average utilization in percent (integer) */
  utilization?: number;
  /** the current average value (milli) */
  average: number;
}

/** Σ usage / Σ requests over the sampled pods, as utilization percent and its ratio to the target. */
const utilizationRatio = (samples: Map<string, PodSample>, requests: Map<string, number>, target: number) => {
  let used = 0;
  let requested = 0;
  for (const [name, s] of samples) {
    const r = requests.get(name);
    if (r === undefined) throw new MetricError(`missing request for pod ${name}`);
    used += s.value;
    requested += r;
  }
  if (requested === 0) throw new MetricError("no metrics returned matched known pods");
  const utilization = Math.trunc((used * 100) / requested);
  return { ratio: utilization / target, utilization, average: Math.trunc(used / samples.size) };
};

const averageRatio = (samples: Map<string, PodSample>, target: number) => {
  let used = 0;
  for (const s of samples.values()) used += s.value;
  const average = used / samples.size;
  return { ratio: average / target, average: Math.trunc(average) };
};

export interface ReplicaInput {
  currentReplicas: number;
  pods: PodFacts[];
  /** samples by pod name */
  samples: Map<string, PodSample>;
  resource: string;
  nowMs: number;
  tolerance?: number;
}

/**
 * A Resource (or ContainerResource) metric with an averageUtilization target (percent of
 * the pods' requests): kube's GetResourceReplicas.
 */
export const resourceUtilizationReplicas = (i: ReplicaInput, targetUtilization: number): ReplicaResult => {
  if (i.pods.length === 0) throw new MetricError("no pods returned by selector while calculating replica count");
  const tolerance = i.tolerance ?? DEFAULT_TOLERANCE;
  const g = groupPods(i.pods, i.samples, i.resource, i.nowMs);
  const samples = new Map([...i.samples].filter(([n]) => i.pods.some((p) => p.name === n) && !g.ignored.has(n) && !g.unready.has(n)));
  if (samples.size === 0) throw new MetricError("did not receive metrics for targeted pods (pods might be unready)");
  const requests = new Map<string, number>();
  for (const p of i.pods) {
    if (p.request === undefined) {
      if (g.ignored.has(p.name)) continue;
      throw new MetricError(`missing request for ${i.resource} in container ${p.missingRequestContainer ?? ""} of Pod ${p.name}`);
    }
    requests.set(p.name, p.request);
  }
  const first = utilizationRatio(samples, requests, targetUtilization);
  const scaleUpWithUnready = g.unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= tolerance) return { replicas: i.currentReplicas, utilization: first.utilization, average: first.average };
    return { replicas: Math.ceil(first.ratio * g.readyCount), utilization: first.utilization, average: first.average };
  }
  if (g.missing.size > 0) {
    if (first.ratio < 1) {
      const fallback = Math.max(100, targetUtilization);
      for (const n of g.missing) samples.set(n, { value: Math.trunc((requests.get(n)! * fallback) / 100), timestampMs: 0, windowMs: 0 });
    } else if (first.ratio > 1) {
      for (const n of g.missing) samples.set(n, { value: 0, timestampMs: 0, windowMs: 0 });
    }
  }
  if (scaleUpWithUnready) for (const n of g.unready) if (requests.has(n)) samples.set(n, { value: 0, timestampMs: 0, windowMs: 0 });
  const next = utilizationRatio(samples, requests, targetUtilization);
  const keep = { replicas: i.currentReplicas, utilization: first.utilization, average: first.average };
  if (Math.abs(1 - next.ratio) <= tolerance || (first.ratio < 1 && next.ratio > 1) || (first.ratio > 1 && next.ratio < 1)) return keep;
  const replicas = Math.ceil(next.ratio * samples.size);
  if ((next.ratio < 1 && replicas > i.currentReplicas) || (next.ratio > 1 && replicas < i.currentReplicas)) return keep;
  return { replicas, utilization: first.utilization, average: first.average };
};

/** A metric with an averageValue target (milli per pod): kube's calcPlainMetricReplicas. */
export const averageValueReplicas = (i: ReplicaInput, targetAverage: number): ReplicaResult => {
  if (i.pods.length === 0) throw new MetricError("no pods returned by selector while calculating replica count");
  const tolerance = i.tolerance ?? DEFAULT_TOLERANCE;
  const g = groupPods(i.pods, i.samples, i.resource, i.nowMs);
  const samples = new Map([...i.samples].filter(([n]) => i.pods.some((p) => p.name === n) && !g.ignored.has(n) && !g.unready.has(n)));
  if (samples.size === 0) throw new MetricError("did not receive metrics for targeted pods (pods might be unready)");
  const first = averageRatio(samples, targetAverage);
  const scaleUpWithUnready = g.unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= tolerance) return { replicas: i.currentReplicas, average: first.average };
    return { replicas: Math.ceil(first.ratio * samples.size), average: first.average };
  }
  if (g.missing.size > 0) {
    if (first.ratio < 1) for (const n of g.missing) samples.set(n, { value: targetAverage, timestampMs: 0, windowMs: 0 });
    else for (const n of g.missing) samples.set(n, { value: 0, timestampMs: 0, windowMs: 0 });
  }
  if (scaleUpWithUnready) for (const n of g.unready) samples.set(n, { value: 0, timestampMs: 0, windowMs: 0 });
  const next = averageRatio(samples, targetAverage);
  const keep = { replicas: i.currentReplicas, average: first.average };
  if (Math.abs(1 - next.ratio) <= tolerance || (first.ratio < 1 && next.ratio > 1) || (first.ratio > 1 && next.ratio < 1)) return keep;
  const replicas = Math.ceil(next.ratio * samples.size);
  if ((next.ratio < 1 && replicas > i.currentReplicas) || (next.ratio > 1 && replicas < i.currentReplicas)) return keep;
  return { replicas, average: first.average };
};

// ---------------------------------------------------------------- behavior

export interface ScalingPolicy {
  type: "Pods" | "Percent";
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: "Max" | "Min" | "Disabled";
  policies?: ScalingPolicy[];
}

export interface Behavior {
  scaleUp?: ScalingRules;
  scaleDown?: ScalingRules;
}

/** autoscaling/v2 defaults for scaleUp: no window, the larger of 4 pods or 100 % per 15 s. */
export const defaultScaleUp = (r: ScalingRules | undefined): ScalingRules => ({
  stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? 0,
  selectPolicy: r?.selectPolicy ?? "Max",
  policies: r?.policies ?? [
    { type: "Pods", value: 4, periodSeconds: 15 },
    { type: "Percent", value: 100, periodSeconds: 15 },
  ],
});

/** autoscaling/v2 defaults for scaleDown: a 300 s window, 100 % per 15 s. */
export const defaultScaleDown = (r: ScalingRules | undefined): ScalingRules => ({
  stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? 300,
  selectPolicy: r?.selectPolicy ?? "Max",
  policies: r?.policies ?? [{ type: "Percent", value: 100, periodSeconds: 15 }],
});

export interface Recommendation {
  atMs: number;
  replicas: number;
}

export interface ScaleEvent {
  atMs: number;
  change: number;
}

/** What the controller remembers of one HPA between syncs (kube keeps it in memory). */
export interface ScalingState {
  recommendations: Recommendation[];
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
}

export const emptyState = (): ScalingState => ({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });

export interface Limited {
  replicas: number;
  /** the ScalingLimited condition's reason and message */
  reason: string;
  message: string;
}

const changeInPeriod = (events: ScaleEvent[], periodSeconds: number, nowMs: number) =>
  events.filter((e) => e.atMs > nowMs - periodSeconds * 1000).reduce((a, e) => a + e.change, 0);

export const scaleUpLimit = (current: number, s: ScalingState, rules: ScalingRules, nowMs: number): number => {
  if (rules.selectPolicy === "Disabled") return current;
  const min = rules.selectPolicy === "Min";
  let result = min ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies ?? []) {
    const start = current - changeInPeriod(s.scaleUpEvents, p.periodSeconds, nowMs) + changeInPeriod(s.scaleDownEvents, p.periodSeconds, nowMs);
    const proposed = p.type === "Pods" ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = min ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
};

export const scaleDownLimit = (current: number, s: ScalingState, rules: ScalingRules, nowMs: number): number => {
  if (rules.selectPolicy === "Disabled") return current;
  const min = rules.selectPolicy === "Min";
  let result = min ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies ?? []) {
    const start = current - changeInPeriod(s.scaleUpEvents, p.periodSeconds, nowMs) + changeInPeriod(s.scaleDownEvents, p.periodSeconds, nowMs);
    const proposed = p.type === "Pods" ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    // Min picks the smallest change: the highest limit
    result = min ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
};

export interface NormalizeInput {
  current: number;
  /** what the metrics ask for */
  desired: number;
  min: number;
  max: number;
  behavior?: Behavior;
  nowMs: number;
}

/**
 * From the metrics' recommendation to the replicas to set: stabilization over the
 * remembered recommendations (which this updates), then the rate limits and min/max.
 * Returns the replicas, the ScalingLimited reason/message, and the stabilized value.
 */
export const normalizeDesiredReplicas = (i: NormalizeInput, s: ScalingState): Limited & { stabilized: number; able: { reason: string; message: string } } => {
  if (!i.behavior) {
    // the old rules: the highest recommendation of the last 5 minutes, at most max(2x, 4) up
    const cutoff = i.nowMs - DEFAULT_DOWNSCALE_STABILIZATION_MS;
    let stabilized = i.desired;
    for (const r of s.recommendations) if (r.atMs > cutoff) stabilized = Math.max(stabilized, r.replicas);
    remember(s, { atMs: i.nowMs, replicas: i.desired }, DEFAULT_DOWNSCALE_STABILIZATION_MS);
    const upLimit = Math.max(SCALE_UP_LIMIT_FACTOR * i.current, SCALE_UP_LIMIT_MINIMUM);
    let l: Limited;
    if (stabilized < i.min) l = { replicas: i.min, reason: "TooFewReplicas", message: "the desired replica count is less than the minimum replica count" };
    else if (stabilized > Math.min(i.max, upLimit) && upLimit < i.max)
      l = { replicas: upLimit, reason: "ScaleUpLimit", message: "the desired replica count is increasing faster than the maximum scale rate" };
    else if (stabilized > i.max)
      l = { replicas: i.max, reason: "TooManyReplicas", message: "the desired replica count is more than the maximum replica count" };
    else l = { replicas: stabilized, reason: "DesiredWithinRange", message: "the desired count is within the acceptable range" };
    return { ...l, stabilized, able: stabilizedBecause(i, stabilized) };
  }
  const up = defaultScaleUp(i.behavior.scaleUp);
  const down = defaultScaleDown(i.behavior.scaleDown);
  const upCutoff = i.nowMs - (up.stabilizationWindowSeconds ?? 0) * 1000;
  const downCutoff = i.nowMs - (down.stabilizationWindowSeconds ?? 0) * 1000;
  let upRec = i.desired;
  let downRec = i.desired;
  for (const r of s.recommendations) {
    if (r.atMs > upCutoff) upRec = Math.min(upRec, r.replicas);
    if (r.atMs > downCutoff) downRec = Math.max(downRec, r.replicas);
  }
  let stabilized = i.current;
  if (stabilized < upRec) stabilized = upRec;
  if (stabilized > downRec) stabilized = downRec;
  remember(s, { atMs: i.nowMs, replicas: i.desired }, Math.max(up.stabilizationWindowSeconds ?? 0, down.stabilizationWindowSeconds ?? 0) * 1000);
  const l = limitRate(i, stabilized, s, up, down);
  return { ...l, stabilized, able: stabilizedBecause(i, stabilized) };
};

/** the AbleToScale condition's reason after stabilization */
const stabilizedBecause = (i: NormalizeInput, stabilized: number) =>
  stabilized === i.desired
    ? { reason: "ReadyForNewScale", message: "recommended size matches current size" }
    : stabilized > i.desired
      ? { reason: "ScaleDownStabilized", message: "recent recommendations were higher than current one, applying the highest recent recommendation" }
      : { reason: "ScaleUpStabilized", message: "recent recommendations were lower than current one, applying the lowest recent recommendation" };

const limitRate = (i: NormalizeInput, desired: number, s: ScalingState, up: ScalingRules, down: ScalingRules): Limited => {
  if (desired > i.current) {
    const limit = Math.max(i.current, scaleUpLimit(i.current, s, up, i.nowMs));
    let allowed = i.max;
    let reason = "TooManyReplicas";
    let message = "the desired replica count is more than the maximum replica count";
    if (allowed > limit) {
      allowed = limit;
      reason = "ScaleUpLimit";
      message = "the desired replica count is increasing faster than the maximum scale rate";
    }
    if (desired > allowed) return { replicas: allowed, reason, message };
  } else if (desired < i.current) {
    const limit = Math.min(i.current, scaleDownLimit(i.current, s, down, i.nowMs));
    let allowed = i.min;
    let reason = "TooFewReplicas";
    let message = "the desired replica count is less than the minimum replica count";
    if (allowed < limit) {
      allowed = limit;
      reason = "ScaleDownLimit";
      message = "the desired replica count is decreasing faster than the maximum scale rate";
    }
    if (desired < allowed) return { replicas: allowed, reason, message };
  }
  return { replicas: desired, reason: "DesiredWithinRange", message: "the desired count is within the acceptable range" };
};

/** Keep a recommendation; forget those older than the longest window. */
const remember = (s: ScalingState, r: Recommendation, keepMs: number) => {
  s.recommendations = [...s.recommendations.filter((x) => x.atMs > r.atMs - keepMs), r];
};

/** Record a rescale (only with behavior, as kube); forget events older than the longest policy period. */
export const recordScaleEvent = (s: ScalingState, behavior: Behavior | undefined, from: number, to: number, nowMs: number) => {
  if (!behavior || from === to) return;
  const longest = (r: ScalingRules) => Math.max(0, ...(r.policies ?? []).map((p) => p.periodSeconds)) * 1000;
  const up = to > from;
  const keep = longest(up ? defaultScaleUp(behavior.scaleUp) : defaultScaleDown(behavior.scaleDown));
  const list = (up ? s.scaleUpEvents : s.scaleDownEvents).filter((e) => e.atMs > nowMs - keep);
  list.push({ atMs: nowMs, change: Math.abs(to - from) });
  if (up) s.scaleUpEvents = list;
  else s.scaleDownEvents = list;
};
