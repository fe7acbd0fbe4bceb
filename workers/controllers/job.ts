/**
 * The Job controller (kube-controller-manager's job controller), level-triggered:
 * each reconcile reads the Job and its pods and makes one round of progress.
 *
 * - **Tracking with finalizers**, as Kubernetes does since 1.26: every pod is created with
 *   the `batch.kubernetes.io/job-tracking` finalizer. A pod that finished (Succeeded or
 *   Failed; a pod deleted before it finished counts as failed) is first recorded by uid
 *   in `status.uncountedTerminatedPods` (and, for Indexed Jobs, its index in
 *   `completedIndexes`), then its finalizer is removed, then it moves into the
 *   `succeeded`/`failed` counters. A crash between the steps repeats a step, never counts
 *   a pod twice, and a finished pod can't vanish before it is counted.
 * - **Progress**: up to `parallelism` pods at once, no more than the completions left;
 *   NonIndexed Jobs complete at `completions` successes (or, with no `completions`, at the
 *   first success once nothing runs), Indexed ones when every index 0..completions-1 has
 *   succeeded (pods `<job>-<index>-xxxxx`, annotation and label
 *   `batch.kubernetes.io/job-completion-index`, JOB_COMPLETION_INDEX, hostname `<job>-<index>`).
 * - **Failure**: more failures than `backoffLimit` (with restartPolicy OnFailure, container
 *   restarts of running pods count too) → Failed/BackoffLimitExceeded; past
 *   `activeDeadlineSeconds` → Failed/DeadlineExceeded; running pods are deleted either way.
 *   New pods after failures wait 10 s × 2^(failures-1), at most 6 minutes, from the last
 *   failure.
 * - `suspend` deletes the running pods (they don't count as failures) and sets the
 *   Suspended condition; resuming restarts `startTime` (and so the deadline).
 * - `ttlSecondsAfterFinished` (the TTL-after-finished controller): the finished Job is
 *   deleted with its pods once the time has passed.
 * - `podFailurePolicy`: the first rule matching a failed pod (a container's non-zero exit
 *   code In/NotIn the values, optionally of one container; or a pod condition such as
 *   DisruptionTarget) decides: FailJob fails the Job at once (FailureTarget, then Failed,
 *   reason PodFailurePolicy), Ignore replaces the pod without counting it, Count counts
 *   it; FailIndex fails the pod's index (with backoffLimitPerIndex).
 * - `backoffLimitPerIndex` (Indexed Jobs): an index that failed more often than that
 *   (counted on its pods' `batch.kubernetes.io/job-index-failure-count`) is failed
 *   (`status.failedIndexes`) and gets no more pods, while the others go on, each with its
 *   own back-off; the Job fails when more than `maxFailedIndexes` have failed
 *   (MaxFailedIndexesExceeded) or when every index is done and some failed (FailedIndexes).
 * - `successPolicy` (Indexed Jobs): once a rule's succeededIndexes/succeededCount are
 *   met, the Job gets SuccessCriteriaMet (reason SuccessPolicy), its other pods stop, and
 *   it is Complete.
 * Conditions: SuccessCriteriaMet then Complete (reason CompletionsReached or
 * SuccessPolicy), FailureTarget (pod failure policy) then Failed, Suspended.
 */
import { formatLabelSelector, selectorFromLabelSelector } from "../../shared/selectors/labels";
import { ApiError } from "../../shared/status";
import { jsonEqual } from "../../shared/json";
import { rfc3339 } from "../../shared/time";
import type { KObject, ObjectKey, OwnerReference } from "../../shared/types";
import { JOB_NAME_LABEL } from "../../shared/validation/rules/workloads";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";
import { lessValuable } from "./replicaset";
import { casUpdate, controllerRef } from "./util";

export const JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking";
export const JOB_COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index";
/** backoffLimitPerIndex: the failures of a pod's index before it (kube's annotation) */
export const JOB_INDEX_FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count";
/** kube's DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff */
export const JOB_BACKOFF_MS = 10_000;
export const JOB_MAX_BACKOFF_MS = 360_000;
/** pods created or deleted by one reconcile, at most (kube's burstReplicas) */
const BURST = 500;

const time = (s: unknown): number | undefined => {
  const t = typeof s === "string" ? Date.parse(s) : Number.NaN;
  return Number.isNaN(t) ? undefined : t;
};
const cond = (job: KObject, type: string) => (job.status?.conditions ?? []).find((c: any) => c?.type === type);
const isTrue = (job: KObject, type: string) => cond(job, type)?.status === "True";
export const jobFinished = (job: KObject) => isTrue(job, "Complete") || isTrue(job, "Failed");

const phase = (p: KObject) => p.status?.phase;
const hasFinalizer = (p: KObject) => (p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
const isActive = (p: KObject) => !p.metadata.deletionTimestamp && phase(p) !== "Succeeded" && phase(p) !== "Failed";
const isReady = (p: KObject) => (p.status?.conditions ?? []).some((c: any) => c?.type === "Ready" && c?.status === "True");
const podIndex = (p: KObject): number | undefined => {
  const v = p.metadata.annotations?.[JOB_COMPLETION_INDEX] ?? p.metadata.labels?.[JOB_COMPLETION_INDEX];
  return typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined;
};
/** When a pod finished (its containers' last finish, else its deletion, else its last condition change). */
const finishedAt = (p: KObject): number => {
  const ends = (p.status?.containerStatuses ?? []).map((c: any) => time(c?.state?.terminated?.finishedAt)).filter((t: number | undefined) => t !== undefined);
  if (ends.length) return Math.max(...(ends as number[]));
  const changed = Math.max(0, ...(p.status?.conditions ?? []).map((c: any) => time(c?.lastTransitionTime) ?? 0));
  return time(p.metadata.deletionTimestamp) ?? (changed || (time(p.metadata.creationTimestamp) ?? 0));
};
const restarts = (p: KObject) =>
  [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].reduce((n: number, c: any) => n + (Number(c?.restartCount) || 0), 0);

// ---------------------------------------------------------------- completed indexes ("1,3-5,7")

export const parseIndexes = (s: unknown): Set<number> => {
  const out = new Set<number>();
  if (typeof s !== "string") return out;
  for (const part of s.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]) && i - Number(m[1]) < 1_000_000; i++) out.add(i);
  }
  return out;
};

export const formatIndexes = (set: Set<number>): string => {
  const xs = [...set].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    parts.push(i === j ? `${xs[i]}` : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(",");
};

// ---------------------------------------------------------------- helpers

const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

const setCondition = (status: any, now: string, type: string, value: "True" | "False", reason: string, message: string): boolean => {
  const conditions: any[] = Array.isArray(status.conditions) ? status.conditions : [];
  const c = conditions.find((x) => x?.type === type);
  if (c && c.status === value && c.reason === reason && c.message === message) return false;
  if (c) {
    if (c.status !== value) c.lastTransitionTime = now;
    Object.assign(c, { status: value, reason, message, lastProbeTime: now });
  } else conditions.push({ type, status: value, lastProbeTime: now, lastTransitionTime: now, reason, message });
  status.conditions = conditions;
  return true;
};

/** Remove the tracking finalizer from a pod (compare-and-swap, re-reading on conflict); false if it is gone. */
const dropFinalizer = async (ctx: ControllerContext, pod: KObject): Promise<void> => {
  let cur: KObject | null = pod;
  for (let attempt = 0; attempt < 3 && cur; attempt++) {
    if (!hasFinalizer(cur)) return;
    const finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER);
    try {
      await casUpdate(ctx, "pods", { ...cur, metadata: { ...cur.metadata, finalizers } }, ["metadata"]);
      return;
    } catch (e) {
      if (isNotFound(e)) return;
      if (!isConflict(e)) throw e;
      cur = await ctx.api.get("pods", pod.metadata.namespace ?? "", pod.metadata.name!);
      if (cur && cur.metadata.uid !== pod.metadata.uid) return;
    }
  }
};

const deletePods = async (ctx: ControllerContext, job: KObject, pods: KObject[]): Promise<void> => {
  await Promise.all(
    pods.slice(0, BURST).map(async (p) => {
      try {
        await ctx.api.delete("pods", p.metadata.namespace ?? "", p.metadata.name!, { preconditions: { uid: p.metadata.uid } });
        await ctx.events.record(job, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`);
      } catch (e) {
        if (isNotFound(e) || isConflict(e)) return;
        await ctx.events.record(job, "Warning", "FailedDelete", `Error deleting: ${errorMessage(e)}`);
      }
    }),
  );
};

const newPod = (job: KObject, index: number | undefined, failures?: number): KObject => {
  const template = job.spec?.template ?? {};
  const name = job.metadata.name!;
  const ref: OwnerReference = { apiVersion: "batch/v1", kind: "Job", name, uid: job.metadata.uid!, controller: true, blockOwnerDeletion: true };
  const labels: Record<string, string> = { ...(template.metadata?.labels ?? {}) };
  const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}) };
  const spec = structuredClone(template.spec ?? {});
  if (index !== undefined) {
    labels[JOB_COMPLETION_INDEX] = String(index);
    annotations[JOB_COMPLETION_INDEX] = String(index);
    if (failures !== undefined) annotations[JOB_INDEX_FAILURE_COUNT] = String(failures);
    spec.hostname ??= `${name}-${index}`;
    const env = { name: "JOB_COMPLETION_INDEX", valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX}']` } } };
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      if (!(c.env ?? []).some((e: any) => e?.name === env.name)) c.env = [...(c.env ?? []), env];
    }
  }
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: index === undefined ? `${name}-` : `${name}-${index}-`,
      namespace: job.metadata.namespace,
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      finalizers: [...(template.metadata?.finalizers ?? []), JOB_TRACKING_FINALIZER],
      ownerReferences: [ref],
    },
    spec,
  } as KObject;
};

// ---------------------------------------------------------------- pod failure policy

export interface PolicyMatch {
  action: string;
  message: string;
}

/** The first podFailurePolicy rule a failed pod matches (kube's matchPodFailurePolicy), if any. */
export const matchPodFailurePolicy = (job: KObject, pod: KObject): PolicyMatch | undefined => {
  const rules: any[] = job.spec?.podFailurePolicy?.rules ?? [];
  if (phase(pod) !== "Failed") return undefined;
  const who = `${pod.metadata.namespace}/${pod.metadata.name}`;
  for (const [i, rule] of rules.entries()) {
    const req = rule?.onExitCodes;
    if (req) {
      const values: number[] = req.values ?? [];
      for (const c of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
        const code = c?.state?.terminated?.exitCode;
        if (typeof code !== "number" || code === 0) continue;
        if (req.containerName && req.containerName !== c.name) continue;
        const hit = req.operator === "In" ? values.includes(code) : req.operator === "NotIn" ? !values.includes(code) : false;
        if (hit)
          return {
            action: rule.action,
            message: `Container ${c.name} for pod ${who} failed with exit code ${code} matching ${rule.action} rule at index ${i}`,
          };
      }
    }
    for (const pattern of rule?.onPodConditions ?? []) {
      const hit = (pod.status?.conditions ?? []).find((c: any) => c?.type === pattern?.type && c?.status === (pattern?.status ?? "True"));
      if (hit) return { action: rule.action, message: `Pod ${who} has condition ${pattern.type} matching ${rule.action} rule at index ${i}` };
    }
  }
  return undefined;
};

/** The first successPolicy rule the succeeded indexes meet (index into the rules), or -1. */
export const metSuccessRule = (job: KObject, done: Set<number>): number => {
  const rules: any[] = job.spec?.successPolicy?.rules ?? [];
  return rules.findIndex((r) => {
    if (typeof r?.succeededIndexes === "string") {
      const want = parseIndexes(r.succeededIndexes);
      const have = [...want].filter((i) => done.has(i)).length;
      return typeof r.succeededCount === "number" ? have >= r.succeededCount : have === want.size;
    }
    return typeof r?.succeededCount === "number" && done.size >= r.succeededCount;
  });
};

/** The failures of an index a failed (or deleted) pod carries forward: its count, plus itself unless a rule ignores it. */
const failuresAfter = (job: KObject, p: KObject): number => {
  const v = Number(p.metadata.annotations?.[JOB_INDEX_FAILURE_COUNT] ?? 0);
  const before = Number.isSafeInteger(v) && v >= 0 ? v : 0;
  return matchPodFailurePolicy(job, p)?.action === "Ignore" ? before : before + 1;
};

// ---------------------------------------------------------------- reconcile

/** Pods of a Job that is gone keep no finalizer of ours (the garbage collector deletes them). */
const releaseOrphans = async (ctx: ControllerContext, key: ObjectKey, jobUid?: string): Promise<void> => {
  const pods = await ctx.api.list("pods", key.namespace, { labelSelector: `${JOB_NAME_LABEL}=${key.name}` });
  for (const p of pods) {
    const ref = controllerRef(p);
    if (ref?.kind === "Job" && ref.name === key.name && ref.uid !== jobUid && hasFinalizer(p)) await dropFinalizer(ctx, p);
  }
};

export async function syncJob(key: ObjectKey, ctx: ControllerContext): Promise<ReconcileResult> {
  const job = await ctx.api.get("jobs", key.namespace, key.name);
  if (!job || job.metadata.deletionTimestamp) {
    await releaseOrphans(ctx, key, job && !job.metadata.deletionTimestamp ? job.metadata.uid : undefined);
    return;
  }
  const ns = key.namespace;
  const spec = job.spec ?? {};
  const selector = selectorFromLabelSelector(spec.selector);
  if (!selector) return;
  const nowMs = ctx.now().getTime();
  const now = rfc3339(ctx.now());
  const pods = (await ctx.api.list("pods", ns, { labelSelector: formatLabelSelector(selector) })).filter((p) => controllerRef(p)?.uid === job.metadata.uid);
  const indexed = spec.completionMode === "Indexed";
  const completions: number | undefined = typeof spec.completions === "number" ? spec.completions : undefined;
  const status: any = structuredClone(job.status ?? {});
  const before = structuredClone(status);
  status.uncountedTerminatedPods ??= {};
  const uncounted = status.uncountedTerminatedPods;
  const uncountedOk = new Set<string>(uncounted.succeeded ?? []);
  const uncountedFailed = new Set<string>(uncounted.failed ?? []);
  const doneIndexes = parseIndexes(status.completedIndexes);
  const perIndex = indexed && typeof spec.backoffLimitPerIndex === "number";
  const failedIndexes = parseIndexes(status.failedIndexes);
  const finished = jobFinished(job);
  const suspended = spec.suspend === true;

  // ---- 1. record newly finished pods (still holding our finalizer) by uid
  const ignored: KObject[] = [];
  for (const p of pods) {
    const uid = p.metadata.uid!;
    if (!hasFinalizer(p) || uncountedOk.has(uid) || uncountedFailed.has(uid)) continue;
    if (phase(p) === "Succeeded") {
      uncountedOk.add(uid);
      const i = podIndex(p);
      if (indexed && i !== undefined && completions !== undefined && i < completions) doneIndexes.add(i);
    } else if (phase(p) === "Failed" || (p.metadata.deletionTimestamp && !finished && !suspended)) {
      const match = finished ? undefined : matchPodFailurePolicy(job, p);
      if (match?.action === "Ignore") {
        ignored.push(p);
        continue;
      }
      uncountedFailed.add(uid);
      const i = podIndex(p);
      if (perIndex && i !== undefined && completions !== undefined && i < completions && !doneIndexes.has(i)) {
        if (match?.action === "FailIndex" || failuresAfter(job, p) > spec.backoffLimitPerIndex) failedIndexes.add(i);
      }
      if (match?.action === "FailJob" && cond({ status } as KObject, "FailureTarget")?.status !== "True")
        setCondition(status, now, "FailureTarget", "True", "PodFailurePolicy", match.message);
    }
  }
  const recordUncounted = () => {
    status.uncountedTerminatedPods = {
      ...(uncountedOk.size ? { succeeded: [...uncountedOk] } : {}),
      ...(uncountedFailed.size ? { failed: [...uncountedFailed] } : {}),
    };
    if (indexed) status.completedIndexes = formatIndexes(doneIndexes);
    if (perIndex) status.failedIndexes = formatIndexes(failedIndexes);
  };
  recordUncounted();
  if (
    !jsonEqual(status.uncountedTerminatedPods, before.uncountedTerminatedPods ?? {}) ||
    status.completedIndexes !== before.completedIndexes ||
    (status.failedIndexes ?? "") !== (before.failedIndexes ?? "") ||
    !jsonEqual(status.conditions, before.conditions)
  ) {
    // step one is durable before any finalizer goes
    await writeStatus(ctx, job, status);
    return { requeueAfterMs: 0 };
  }

  // ---- 2. drop the finalizers of recorded pods, and of pods a finished or suspended Job let go
  const byUid = new Map(pods.map((p) => [p.metadata.uid!, p]));
  for (const uid of [...uncountedOk, ...uncountedFailed]) {
    const p = byUid.get(uid);
    if (p && hasFinalizer(p)) await dropFinalizer(ctx, p);
  }
  // failures a podFailurePolicy rule ignores: replaced, never counted
  for (const p of ignored) await dropFinalizer(ctx, p);
  for (const p of pods)
    if (hasFinalizer(p) && !isActive(p) && !uncountedOk.has(p.metadata.uid!) && !uncountedFailed.has(p.metadata.uid!) && (finished || suspended))
      await dropFinalizer(ctx, p);

  // ---- 3. count them
  status.succeeded = (status.succeeded ?? 0) + uncountedOk.size;
  status.failed = (status.failed ?? 0) + uncountedFailed.size;
  uncountedOk.clear();
  uncountedFailed.clear();
  recordUncounted();

  const active = pods.filter(isActive);
  let requeueMs: number | undefined;
  const later = (ms: number) => {
    requeueMs = requeueMs === undefined ? ms : Math.min(requeueMs, ms);
  };

  if (finished) {
    if (active.length) await deletePods(ctx, job, active);
    status.active = 0;
    status.ready = 0;
    await writeStatus(ctx, job, status, before);
    return ttlAfterFinished(ctx, job, nowMs);
  }

  // ---- suspend / resume
  if (suspended) {
    if (active.length) await deletePods(ctx, job, active);
    if (setCondition(status, now, "Suspended", "True", "JobSuspended", "Job suspended")) await ctx.events.record(job, "Normal", "Suspended", "Job suspended");
    delete status.startTime;
    status.active = 0;
    status.ready = 0;
    await writeStatus(ctx, job, status, before);
    return;
  }
  if (isTrue(job, "Suspended")) {
    setCondition(status, now, "Suspended", "False", "JobResumed", "Job resumed");
    await ctx.events.record(job, "Normal", "Resumed", "Job resumed");
    status.startTime = now;
  }
  status.startTime ??= now;

  // ---- failure: backoff limit, deadline
  const backoffLimit: number = typeof spec.backoffLimit === "number" ? spec.backoffLimit : 6;
  const onFailureRestarts = spec.template?.spec?.restartPolicy === "OnFailure" ? active.reduce((n, p) => n + restarts(p), 0) : 0;
  const startMs = time(status.startTime) ?? nowMs;
  let failure: [string, string] | undefined;
  // kube's exceedsBackoffLimit and pastBackoffLimitOnFailure
  const pastOnFailure = backoffLimit === 0 ? onFailureRestarts > 0 : onFailureRestarts >= backoffLimit && onFailureRestarts > 0;
  const target = cond({ status } as KObject, "FailureTarget");
  if (target?.status === "True") failure = [target.reason ?? "PodFailurePolicy", target.message ?? ""];
  else if (perIndex && typeof spec.maxFailedIndexes === "number" && failedIndexes.size > spec.maxFailedIndexes)
    failure = ["MaxFailedIndexesExceeded", "Job has exceeded the specified maximal number of failed indexes"];
  else if (perIndex && failedIndexes.size && [...Array(completions ?? 0).keys()].every((i) => doneIndexes.has(i) || failedIndexes.has(i)))
    failure = ["FailedIndexes", "Job has failed indexes"];
  else if (status.failed > backoffLimit || pastOnFailure) failure = ["BackoffLimitExceeded", "Job has reached the specified backoff limit"];
  else if (typeof spec.activeDeadlineSeconds === "number") {
    const deadline = startMs + spec.activeDeadlineSeconds * 1000;
    if (nowMs >= deadline) failure = ["DeadlineExceeded", "Job was active longer than specified deadline"];
    else later(deadline - nowMs);
  }
  if (failure) {
    if (active.length) await deletePods(ctx, job, active);
    setCondition(status, now, "Failed", "True", failure[0], failure[1]);
    await ctx.events.record(job, "Warning", failure[0], failure[1]);
    status.active = 0;
    status.ready = 0;
    await writeStatus(ctx, job, status, before);
    return ttlAfterFinished(ctx, { ...job, status }, nowMs);
  }

  // ---- completion
  const succeeded: number = status.succeeded;
  const complete = indexed
    ? completions !== undefined && [...Array(completions).keys()].every((i) => doneIndexes.has(i))
    : completions !== undefined
      ? succeeded >= completions
      : succeeded > 0 && active.length === 0;
  const successRule = indexed && !complete ? metSuccessRule(job, doneIndexes) : -1;
  if (complete || successRule >= 0) {
    if (active.length) await deletePods(ctx, job, active);
    const [reason, message] =
      successRule >= 0 ? ["SuccessPolicy", `Matched rules at index ${successRule}`] : ["CompletionsReached", "Reached expected number of succeeded pods"];
    setCondition(status, now, "SuccessCriteriaMet", "True", reason, message);
    setCondition(status, now, "Complete", "True", reason, message);
    status.completionTime = now;
    status.active = 0;
    status.ready = 0;
    await ctx.events.record(job, "Normal", "Completed", "Job completed");
    await writeStatus(ctx, job, status, before);
    return ttlAfterFinished(ctx, { ...job, status }, nowMs);
  }

  // ---- pods to create or delete
  const parallelism: number = typeof spec.parallelism === "number" ? spec.parallelism : 1;
  let want: number;
  if (indexed) want = Math.min(parallelism, completions! - doneIndexes.size - [...failedIndexes].filter((i) => !doneIndexes.has(i)).length);
  else if (completions !== undefined) want = Math.min(parallelism, Math.max(0, completions - succeeded));
  else want = succeeded > 0 ? Math.min(active.length, parallelism) : parallelism;
  let current = active;
  if (active.length > want) {
    // indexed: pods of a completed index, or duplicates, go first
    const seen = new Set<number>();
    const extra = indexed
      ? active.filter((p) => {
          const i = podIndex(p);
          if (i === undefined || doneIndexes.has(i) || failedIndexes.has(i) || seen.has(i) || i >= completions!) return true;
          seen.add(i);
          return false;
        })
      : [];
    const victims = [...extra, ...[...active].filter((p) => !extra.includes(p)).sort(lessValuable)].slice(0, active.length - want);
    await deletePods(ctx, job, victims);
    current = active.filter((p) => !victims.includes(p));
  } else if (active.length < want) {
    // back-off after failures, from the last one
    const failedPods = pods.filter((p) => phase(p) === "Failed" || (p.metadata.deletionTimestamp && phase(p) !== "Succeeded"));
    const delay = status.failed > 0 ? Math.min(JOB_BACKOFF_MS * 2 ** Math.min(status.failed - 1, 30), JOB_MAX_BACKOFF_MS) : 0;
    const lastFailure = Math.max(0, ...failedPods.map(finishedAt));
    const wait = !perIndex && delay && lastFailure ? lastFailure + delay - nowMs : 0;
    if (wait > 0) later(wait);
    else {
      const held = new Set(active.map(podIndex).filter((i) => i !== undefined));
      // per index: the failures so far, and that index's own back-off
      const indexFailures = new Map<number, { count: number; last: number }>();
      if (perIndex)
        for (const p of failedPods) {
          const i = podIndex(p);
          if (i === undefined) continue;
          const f = indexFailures.get(i) ?? { count: 0, last: 0 };
          indexFailures.set(i, { count: Math.max(f.count, failuresAfter(job, p)), last: Math.max(f.last, finishedAt(p)) });
        }
      const backedOff = (i: number) => {
        const f = indexFailures.get(i);
        if (!f?.count) return false;
        const until = f.last + Math.min(JOB_BACKOFF_MS * 2 ** Math.min(f.count - 1, 30), JOB_MAX_BACKOFF_MS);
        if (until <= nowMs) return false;
        later(until - nowMs);
        return true;
      };
      const indexes = indexed
        ? [...Array(completions).keys()].filter((i) => !doneIndexes.has(i) && !failedIndexes.has(i) && !held.has(i) && !backedOff(i))
        : [];
      const count = Math.min(want - active.length, BURST, indexed ? indexes.length : Number.POSITIVE_INFINITY);
      const created: KObject[] = [];
      // slow start (1, 2, 4, ...): a template that can't be created fails once, not `parallelism` times
      let failed = false;
      for (let made = 0, batch = 1; made < count && !failed; made += batch, batch *= 2) {
        const n = Math.min(batch, count - made);
        const results = await Promise.allSettled(
          Array.from({ length: n }, (_, k) =>
            ctx.api.create(
              "pods",
              ns,
              newPod(job, indexed ? indexes[made + k] : undefined, perIndex ? (indexFailures.get(indexes[made + k])?.count ?? 0) : undefined),
            ),
          ),
        );
        for (const r of results) {
          if (r.status === "fulfilled") {
            created.push(r.value);
            await ctx.events.record(job, "Normal", "SuccessfulCreate", `Created pod: ${r.value.metadata.name}`);
          } else {
            failed = true;
            if (!(r.reason instanceof ApiError && r.reason.code === 403))
              await ctx.events.record(job, "Warning", "FailedCreate", `Error creating: ${errorMessage(r.reason)}`);
          }
        }
      }
      if (failed) later(JOB_BACKOFF_MS);
      current = [...active, ...created];
    }
  }
  status.active = current.length;
  status.ready = current.filter(isReady).length;
  await writeStatus(ctx, job, status, before);
  return requeueMs === undefined ? undefined : { requeueAfterMs: requeueMs };
}

/** Write status when it changed (the registry's compare-and-swap on the Job's resourceVersion). */
async function writeStatus(ctx: ControllerContext, job: KObject, status: any, before?: any): Promise<void> {
  for (const k of ["active", "ready", "succeeded", "failed"]) if (status[k] === 0 && before?.[k] === undefined) delete status[k];
  if (before && jsonEqual(status, before)) return;
  try {
    await ctx.api.updateStatus("jobs", { ...job, status });
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
}

/** ttlSecondsAfterFinished: delete the finished Job (and, in the background, its pods) when its time is up. */
async function ttlAfterFinished(ctx: ControllerContext, job: KObject, nowMs: number): Promise<ReconcileResult> {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (typeof ttl !== "number") return;
  const done = cond(job, "Complete")?.status === "True" ? cond(job, "Complete") : cond(job, "Failed");
  const at = (time(job.status?.completionTime) ?? time(done?.lastTransitionTime) ?? nowMs) + ttl * 1000;
  if (at > nowMs) return { requeueAfterMs: at - nowMs };
  try {
    await ctx.api.delete("jobs", job.metadata.namespace ?? "", job.metadata.name!, {
      propagationPolicy: "Background",
      preconditions: { uid: job.metadata.uid },
    });
  } catch (e) {
    if (!isNotFound(e) && !isConflict(e)) throw e;
  }
}

export const jobController: Controller = {
  name: "job",
  primary: ["jobs"],
  reconcile: syncJob,
  async resync(ctx) {
    // deadlines, back-offs and TTLs are requeued by the reconcile itself; this sweep catches lost messages
    return (await ctx.api.list("jobs"))
      .filter((j) => !jobFinished(j) || typeof j.spec?.ttlSecondsAfterFinished === "number")
      .map((j): ObjectKey => ({ resource: "jobs", namespace: j.metadata.namespace ?? "", name: j.metadata.name! }));
  },
};
