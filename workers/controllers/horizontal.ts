/**
 * The horizontal pod autoscaler controller (kube-controller-manager's podautoscaler):
 * for each HorizontalPodAutoscaler, read its target's scale through the catalog (any
 * kind with a scale subresource and a scale selector: Deployments, ReplicaSets,
 * ReplicationControllers, StatefulSets), its pods and their resource usage
 * (metrics.k8s.io's source: the agents, asked through their tunnels, cached 15 s),
 * compute the replicas with kube's algorithm (shared/hpa.ts), scale through the scale
 * subresource, and keep the status (currentMetrics, currentReplicas, desiredReplicas,
 * lastScaleTime) and the AbleToScale / ScalingActive / ScalingLimited conditions.
 *
 * When it runs: on Node every `horizontalSyncPeriodMs` (15 s, kube's default) per HPA;
 * on the Worker from the per-minute cron (and when an HPA's spec changes), so there an
 * HPA reacts within a minute. Status writes only when something changed; warning events
 * only when a condition turns.
 *
 * What kube keeps in memory between syncs (recommendations for the stabilization
 * windows, recent scale events for the rate policies) is kept here per process too, and
 * saved on the HPA (annotation `autoscaling.kubeflare.dev/scaling-state`) each time it
 * rescales, so a restarted process or another Worker isolate picks it up; like kube after
 * a restart, a process that has not synced an HPA yet adds the current size as a
 * recommendation, so it never scales down sooner than a window after it first looks.
 *
 * Supported metrics: Resource and ContainerResource (cpu, memory; Utilization of
 * requests or AverageValue). Pods, Object and External metrics need a custom or
 * external metrics API, which Kubeflare does not serve: they are reported as invalid
 * (ScalingActive False), as kube does when those APIs are missing.
 */
import {
  averageValueReplicas,
  type Behavior,
  emptyState,
  MetricError,
  normalizeDesiredReplicas,
  type PodFacts,
  type PodSample,
  recordScaleEvent,
  resourceUtilizationReplicas,
  type ScalingState,
} from "../../shared/hpa";
import { jsonEqual } from "../../shared/json";
import { formatQuantity, milliValue } from "../../shared/quantity";
import { formatLabelSelector } from "../../shared/selectors/labels";
import { rfc3339 } from "../../shared/time";
import type { KObject, ObjectKey } from "../../shared/types";
import { kindOf, resourceByKind } from "../registry/kinds";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";

export const DEFAULT_SYNC_PERIOD_MS = 15_000;
export const STATE_ANNOTATION = "autoscaling.kubeflare.dev/scaling-state";

const RESOURCE = "horizontalpodautoscalers";

/** per HPA uid: the scaling state, and when it was last synced (at which generation) */
const memory = new Map<string, { state: ScalingState; lastSyncMs: number; generation: number }>();

/** Forget what this process remembers (tests: a restart). */
export const forgetHorizontalState = () => memory.clear();

const loadState = (hpa: KObject): ScalingState => {
  const uid = hpa.metadata.uid!;
  const m = memory.get(uid);
  if (m) return m.state;
  try {
    const s = JSON.parse(hpa.metadata.annotations?.[STATE_ANNOTATION] ?? "");
    if (Array.isArray(s?.recommendations) && Array.isArray(s?.scaleUpEvents) && Array.isArray(s?.scaleDownEvents)) return s;
  } catch {}
  return emptyState();
};

interface Condition {
  type: string;
  status: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

const setCondition = (conds: Condition[], now: string, type: string, status: string, reason: string, message: string) => {
  const old = conds.find((c) => c.type === type);
  const next = { type, status, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now, reason, message };
  if (old) conds.splice(conds.indexOf(old), 1, next);
  else conds.push(next);
};

/** the request of `resource` summed over the counted containers (milli), or the container that has none */
const podRequest = (pod: KObject, resource: string, container?: string): { request?: number; missing?: string } => {
  let total = 0;
  for (const c of (pod.spec?.containers ?? []) as any[]) {
    if (container && c.name !== container) continue;
    const q = c.resources?.requests?.[resource];
    if (q === undefined || q === null) return { missing: c.name };
    total += milliValue(q);
  }
  return { request: total };
};

const podCondition = (pod: KObject, type: string) => ((pod.status?.conditions ?? []) as any[]).find((c) => c?.type === type);

const podFacts = (pod: KObject, resource: string, container?: string): PodFacts => {
  const ready = podCondition(pod, "Ready");
  const r = podRequest(pod, resource, container);
  return {
    name: pod.metadata.name!,
    phase: pod.status?.phase ?? "Pending",
    deleted: !!pod.metadata.deletionTimestamp,
    ready: ready ? { status: ready.status, lastTransitionMs: Date.parse(ready.lastTransitionTime ?? "") || 0 } : undefined,
    startMs: pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined,
    request: r.request,
    missingRequestContainer: r.missing,
  };
};

/** The current value of a metric and the replicas it asks for. */
interface MetricOutcome {
  replicas: number;
  status: KObject;
  /** "cpu resource utilization (percentage of request)" */
  name: string;
  timestampMs: number;
}

const describeMetric = (type: string, resource: string, utilization: boolean) =>
  `${resource}${type === "ContainerResource" ? " container" : ""} resource${utilization ? " utilization (percentage of request)" : ""}`;

const usageQuantity = (resource: string, milli: number) => (resource === "cpu" ? formatQuantity(milli / 1000) : formatQuantity(Math.round(milli / 1000)));

async function computeMetric(ctx: ControllerContext, spec: any, pods: KObject[], current: number): Promise<MetricOutcome> {
  const type = spec?.type;
  if (type !== "Resource" && type !== "ContainerResource")
    throw new MetricError(
      `unable to get ${String(type).toLowerCase()} metric: the ${type === "External" ? "external" : "custom"} metrics API is not served by Kubeflare`,
    );
  const src = type === "Resource" ? spec.resource : spec.containerResource;
  const resource: string = src?.name;
  if (resource !== "cpu" && resource !== "memory") throw new MetricError(`unable to get metrics for resource ${resource}: only cpu and memory are reported`);
  const metrics = ctx.api.resourceMetrics();
  if (!metrics) throw new MetricError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
  const usage = await metrics.podUsage(pods);
  const samples = new Map<string, PodSample>();
  let latest = 0;
  for (const p of pods) {
    const u = usage.get(p.metadata.uid!);
    if (!u) continue;
    const cs = type === "ContainerResource" ? u.containers.filter((c) => c.name === src.container) : u.containers;
    if (!cs.length) continue;
    const value = cs.reduce((a, c) => a + (resource === "cpu" ? c.cpuNanoCores / 1e6 : c.memoryBytes * 1000), 0);
    const ts = Date.parse(u.timestamp) || 0;
    latest = Math.max(latest, ts);
    samples.set(p.metadata.name!, { value: Math.round(value), timestampMs: ts, windowMs: u.windowSeconds * 1000 });
  }
  if (samples.size === 0) throw new MetricError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
  const input = {
    currentReplicas: current,
    pods: pods.map((p) => podFacts(p, resource, type === "ContainerResource" ? src.container : undefined)),
    samples,
    resource,
    nowMs: ctx.now().getTime(),
  };
  const field = type === "Resource" ? "resource" : "containerResource";
  const id = type === "Resource" ? { name: resource } : { name: resource, container: src.container };
  if (typeof src.target?.averageUtilization === "number") {
    const r = resourceUtilizationReplicas(input, src.target.averageUtilization);
    return {
      replicas: r.replicas,
      name: describeMetric(type, resource, true),
      timestampMs: latest,
      status: { type, [field]: { ...id, current: { averageUtilization: r.utilization, averageValue: usageQuantity(resource, r.average) } } } as never,
    };
  }
  if (src.target?.averageValue === undefined) throw new MetricError(`invalid resource metric source: neither a utilization target nor a value target set`);
  const r = averageValueReplicas(input, milliValue(src.target.averageValue));
  return {
    replicas: r.replicas,
    name: describeMetric(type, resource, false),
    timestampMs: latest,
    status: { type, [field]: { ...id, current: { averageValue: usageQuantity(resource, r.average) } } } as never,
  };
}

/** A metric the controller could not read, in status.currentMetrics as kube leaves it (the type alone). */
const emptyStatus = (spec: any): KObject => ({ type: spec?.type }) as never;

export async function syncHorizontal(key: ObjectKey, ctx: ControllerContext): Promise<ReconcileResult> {
  const hpa = await ctx.api.get(RESOURCE, key.namespace, key.name);
  if (!hpa || hpa.metadata.deletionTimestamp) {
    for (const [uid, m] of memory) if (ctx.now().getTime() - m.lastSyncMs > 3_600_000) memory.delete(uid);
    return;
  }
  const period = ctx.config.horizontalSyncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS;
  const timed = ctx.config.resyncIntervalMs !== undefined;
  const nowMs = ctx.now().getTime();
  const uid = hpa.metadata.uid!;
  const mem = memory.get(uid);
  // synced a moment ago (the Node server's resync on top of the sync timer): the timer will come
  if (timed && mem && mem.generation === hpa.metadata.generation && nowMs - mem.lastSyncMs < period * 0.8) return;
  const firstSight = !mem;
  const state = loadState(hpa);
  memory.set(uid, { state, lastSyncMs: nowMs, generation: hpa.metadata.generation ?? 0 });
  const next: ReconcileResult = timed ? { requeueAfterMs: period } : undefined;

  const now = rfc3339(ctx.now());
  const spec = hpa.spec ?? {};
  const old = hpa.status ?? {};
  const conditions: Condition[] = JSON.parse(JSON.stringify(old.conditions ?? []));
  const reasonOf = (type: string) => conditions.find((c) => c.type === type)?.reason;
  const status: Record<string, unknown> = {
    observedGeneration: hpa.metadata.generation,
    ...(old.lastScaleTime ? { lastScaleTime: old.lastScaleTime } : {}),
    currentReplicas: old.currentReplicas ?? 0,
    desiredReplicas: old.desiredReplicas ?? 0,
    ...(old.currentMetrics ? { currentMetrics: old.currentMetrics } : {}),
  };
  const warn = async (type: string, reason: string, message: string) => {
    // an event when the condition turns, not at every sync
    if (reasonOf(type) !== reason) await ctx.events.record(hpa, "Warning", reason, message);
  };
  const finish = async (): Promise<ReconcileResult> => {
    status.conditions = conditions;
    if (jsonEqual(status, hpa.status)) return next;
    try {
      await ctx.api.updateStatus(RESOURCE, { ...hpa, status });
    } catch (e) {
      if (isNotFound(e)) return;
      if (!isConflict(e)) throw e;
    }
    return next;
  };

  // the target's scale, through the catalog
  const ref = spec.scaleTargetRef ?? {};
  const info = resourceByKind(ref.apiVersion ?? "", ref.kind ?? "");
  const scaleSelector = info?.subresources.includes("scale") ? kindOf(info).strategy.scaleSelector : undefined;
  const target = info && scaleSelector ? await ctx.api.get(info.resource, key.namespace, ref.name) : null;
  if (!info || !scaleSelector || !target) {
    const why = !info
      ? `no matches for kind "${ref.kind}" in group "${String(ref.apiVersion ?? "")
          .split("/")
          .slice(0, -1)
          .join("/")}"`
      : !scaleSelector
        ? `${info.resource}.${info.group} "${ref.name}" has no scale subresource`
        : `${info.resource}${info.group ? `.${info.group}` : ""} "${ref.name}" not found`;
    const message = `the HPA controller was unable to get the target's current scale: ${why}`;
    await warn("AbleToScale", "FailedGetScale", message);
    setCondition(conditions, now, "AbleToScale", "False", "FailedGetScale", message);
    return finish();
  }
  const current: number = target.spec?.replicas ?? 1;
  status.currentReplicas = current;
  // kube's first recommendation in a process is the current size (recordInitialRecommendation): a new
  // HPA, or one this process (a restarted server, another Worker isolate) has not synced yet, waits a
  // scale-down window before shrinking
  if (firstSight) state.recommendations.push({ atMs: nowMs, replicas: current });
  setCondition(conditions, now, "AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale");
  const min: number = spec.minReplicas ?? 1;
  const max: number = spec.maxReplicas ?? 1;
  const behavior: Behavior | undefined = spec.behavior ?? undefined;

  let desired = 0;
  let reason = "";
  let rescale = false;
  if (current === 0 && min !== 0) {
    // scaled to zero by someone: autoscaling is off until they scale it up
    setCondition(conditions, now, "ScalingActive", "False", "ScalingDisabled", "scaling is disabled since the replica count of the target is zero");
    desired = 0;
  } else if (current > max) {
    reason = "Current number of replicas above Spec.MaxReplicas";
    desired = max;
    rescale = true;
  } else if (current < min) {
    reason = "Current number of replicas below Spec.MinReplicas";
    desired = min;
    rescale = true;
  } else {
    const sel = scaleSelector(target);
    if (!sel || sel.length === 0) {
      const message = "the HPA target's scale is missing a selector";
      await warn("ScalingActive", "InvalidSelector", message);
      setCondition(conditions, now, "ScalingActive", "False", "InvalidSelector", message);
      return finish();
    }
    const pods = await ctx.api.list("pods", key.namespace, { labelSelector: formatLabelSelector(sel) });
    const specs: any[] = spec.metrics ?? [];
    const statuses: KObject[] = [];
    let best: MetricOutcome | undefined;
    let firstError: string | undefined;
    let invalid = 0;
    for (const m of specs) {
      try {
        const r = await computeMetric(ctx, m, pods, current);
        statuses.push(r.status);
        if (!best || r.replicas > best.replicas) best = r;
      } catch (e) {
        invalid++;
        statuses.push(emptyStatus(m));
        firstError ??= (e as Error).message;
        if (!(e instanceof MetricError)) ctx.log(`hpa ${key.namespace}/${key.name}: ${(e as Error).message}`);
      }
    }
    status.currentMetrics = statuses;
    if (!best || (invalid > 0 && best.replicas < current)) {
      // no metric at all, or some missing while the others would scale down: kube keeps the replicas
      const message = best
        ? `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${firstError}`
        : `the HPA was unable to compute the replica count: ${firstError ?? "no metrics"}`;
      const r = specs[0]?.type === "Resource" || specs[0]?.type === "ContainerResource" ? "FailedGetResourceMetric" : "FailedGetExternalMetric";
      await warn("ScalingActive", r, message);
      setCondition(conditions, now, "ScalingActive", "False", r, message);
      if (!best) return finish();
    } else {
      setCondition(
        conditions,
        now,
        "ScalingActive",
        "True",
        "ValidMetricFound",
        `the HPA was able to successfully calculate a replica count from ${best.name}`,
      );
    }
    const n = normalizeDesiredReplicas({ current, desired: best.replicas, min, max, behavior, nowMs }, state);
    setCondition(conditions, now, "AbleToScale", "True", n.able.reason, n.able.message);
    setCondition(conditions, now, "ScalingLimited", n.replicas === n.stabilized ? "False" : "True", n.reason, n.message);
    desired = n.replicas;
    rescale = desired !== current;
    reason = desired > current ? `${best.name} above target` : "All metrics below target";
  }

  if (rescale) {
    try {
      await ctx.api.patch(info.resource, key.namespace, ref.name, "merge", { spec: { replicas: desired } }, "scale");
    } catch (e) {
      const message = `the HPA controller was unable to update the target scale: ${(e as Error).message}`;
      await ctx.events.record(hpa, "Warning", "FailedRescale", `New size: ${desired}; reason: ${reason}; error: ${(e as Error).message}`);
      setCondition(conditions, now, "AbleToScale", "False", "FailedUpdateScale", message);
      return finish();
    }
    await ctx.events.record(hpa, "Normal", "SuccessfulRescale", `New size: ${desired}; reason: ${reason}`);
    setCondition(conditions, now, "AbleToScale", "True", "SucceededRescale", `the HPA controller was able to update the target scale to ${desired}`);
    recordScaleEvent(state, behavior, current, desired, nowMs);
    status.lastScaleTime = now;
    // what the stabilization windows and policies need, for the next process that syncs this HPA
    try {
      const fresh = await ctx.api.get(RESOURCE, key.namespace, key.name);
      if (fresh && fresh.metadata.uid === uid) {
        const saved = await ctx.api.update(RESOURCE, {
          ...fresh,
          metadata: { ...fresh.metadata, annotations: { ...fresh.metadata.annotations, [STATE_ANNOTATION]: JSON.stringify(state) } },
        });
        hpa.metadata.resourceVersion = saved.metadata.resourceVersion;
      }
    } catch (e) {
      if (!isConflict(e) && !isNotFound(e)) throw e;
    }
  }
  status.desiredReplicas = desired;
  return finish();
}

const hpaKey = (o: KObject): ObjectKey => ({ resource: RESOURCE, namespace: o.metadata.namespace ?? "", name: o.metadata.name! });

export const horizontalController: Controller = {
  name: "horizontal-pod-autoscaler",
  // its sync period is time-based work: at every resync pass
  resyncPeriodMs: 0,
  primary: [RESOURCE],
  // its own status and state writes need no sync: only a new, changed (spec) or deleted HPA
  wants: ({ key, obj, old, deleted }) => key.resource !== RESOURCE || deleted || !old || obj.metadata?.generation !== old.metadata?.generation,
  reconcile: syncHorizontal,
  /** every HPA, each resync (the Worker's cron: once a minute; on Node the 15 s timer does the work and these return at once) */
  async resync(ctx) {
    return (await ctx.api.list(RESOURCE)).map(hpaKey);
  },
};
