/**
 * autoscaling/v1 ↔ autoscaling/v2 HorizontalPodAutoscaler, as kube-apiserver converts
 * them (pkg/apis/autoscaling/v1/conversion.go): v1 has one metric,
 * `targetCPUUtilizationPercentage` (a Resource cpu Utilization metric in v2) and
 * `status.currentCPUUtilizationPercentage`; whatever else v2 holds (other metrics, their
 * current values, conditions, behavior) travels in v1 annotations
 * `autoscaling.alpha.kubernetes.io/{metrics,current-metrics,conditions,behavior}`, so a
 * round trip through v1 loses nothing. Pure; v2 is the stored version.
 */

export const V1_ANNOTATIONS = {
  metrics: "autoscaling.alpha.kubernetes.io/metrics",
  currentMetrics: "autoscaling.alpha.kubernetes.io/current-metrics",
  conditions: "autoscaling.alpha.kubernetes.io/conditions",
  behavior: "autoscaling.alpha.kubernetes.io/behavior",
} as const;

type Obj = Record<string, any>;

const isCpuUtilization = (m: Obj) => m?.type === "Resource" && m.resource?.name === "cpu" && m.resource?.target?.type === "Utilization";

const parse = (s: unknown): any => {
  if (typeof s !== "string") return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
};

const withoutUndefined = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** A stored (v2) object as autoscaling/v1 shows it. */
export const hpaToV1 = (v2: Obj): Obj => {
  const spec = v2.spec ?? {};
  const metrics: Obj[] = Array.isArray(spec.metrics) ? spec.metrics : [];
  const cpuAt = metrics.findIndex(isCpuUtilization);
  const others = metrics.filter((_, i) => i !== cpuAt);
  const annotations: Obj = { ...(v2.metadata?.annotations ?? {}) };
  if (others.length) annotations[V1_ANNOTATIONS.metrics] = JSON.stringify(others);
  if (spec.behavior) annotations[V1_ANNOTATIONS.behavior] = JSON.stringify(spec.behavior);
  const st = v2.status;
  let status: Obj | undefined;
  if (st) {
    const current: Obj[] = Array.isArray(st.currentMetrics) ? st.currentMetrics : [];
    const cpuNow = current.findIndex((m) => m?.type === "Resource" && m.resource?.name === "cpu");
    const otherNow = current.filter((_, i) => i !== cpuNow);
    if (otherNow.length) annotations[V1_ANNOTATIONS.currentMetrics] = JSON.stringify(otherNow);
    if (Array.isArray(st.conditions) && st.conditions.length) annotations[V1_ANNOTATIONS.conditions] = JSON.stringify(st.conditions);
    status = withoutUndefined({
      observedGeneration: st.observedGeneration,
      lastScaleTime: st.lastScaleTime,
      currentReplicas: st.currentReplicas ?? 0,
      desiredReplicas: st.desiredReplicas ?? 0,
      currentCPUUtilizationPercentage: cpuNow >= 0 ? current[cpuNow].resource?.current?.averageUtilization : undefined,
    });
  }
  return withoutUndefined({
    ...v2,
    apiVersion: "autoscaling/v1",
    kind: "HorizontalPodAutoscaler",
    metadata: { ...v2.metadata, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: withoutUndefined({
      scaleTargetRef: spec.scaleTargetRef,
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      targetCPUUtilizationPercentage: cpuAt >= 0 ? metrics[cpuAt].resource.target.averageUtilization : undefined,
    }),
    status,
  });
};

/** An autoscaling/v1 object as stored (v2); the v1 annotations become fields again. */
export const hpaToV2 = (v1: Obj): Obj => {
  const spec = v1.spec ?? {};
  const annotations: Obj = { ...(v1.metadata?.annotations ?? {}) };
  const others = parse(annotations[V1_ANNOTATIONS.metrics]);
  const behavior = parse(annotations[V1_ANNOTATIONS.behavior]);
  const otherNow = parse(annotations[V1_ANNOTATIONS.currentMetrics]);
  const conditions = parse(annotations[V1_ANNOTATIONS.conditions]);
  for (const a of Object.values(V1_ANNOTATIONS)) delete annotations[a];
  const metrics: Obj[] = [];
  if (
    typeof spec.targetCPUUtilizationPercentage === "number" ||
    (spec.targetCPUUtilizationPercentage !== undefined && spec.targetCPUUtilizationPercentage !== null)
  )
    metrics.push({ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: spec.targetCPUUtilizationPercentage } } });
  if (Array.isArray(others)) metrics.push(...others);
  const metadata = { ...v1.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  const st = v1.status;
  let status: Obj | undefined;
  if (st) {
    const current: Obj[] = [];
    if (typeof st.currentCPUUtilizationPercentage === "number")
      current.push({ type: "Resource", resource: { name: "cpu", current: { averageUtilization: st.currentCPUUtilizationPercentage } } });
    if (Array.isArray(otherNow)) current.push(...otherNow);
    status = withoutUndefined({
      observedGeneration: st.observedGeneration,
      lastScaleTime: st.lastScaleTime,
      currentReplicas: st.currentReplicas,
      desiredReplicas: st.desiredReplicas ?? 0,
      currentMetrics: current.length ? current : undefined,
      conditions: Array.isArray(conditions) ? conditions : undefined,
    });
  }
  return withoutUndefined({
    ...v1,
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata,
    spec: withoutUndefined({
      scaleTargetRef: spec.scaleTargetRef,
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      metrics: metrics.length ? metrics : undefined,
      behavior: behavior ?? undefined,
    }),
    status,
  });
};
