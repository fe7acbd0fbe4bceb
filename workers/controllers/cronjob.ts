/**
 * The CronJob controller (kube-controller-manager's cronjob controller v2), level-triggered:
 * each reconcile brings `status.active` up to date with the CronJob's Jobs, starts the
 * run that is due, trims the history, and asks to come back at the next scheduled time.
 *
 * - The due run is the latest scheduled time after the last one (or the CronJob's
 *   creation), in `spec.timeZone` (default UTC). Runs missed meanwhile are not made up:
 *   only the latest starts, as in Kubernetes; with `startingDeadlineSeconds`, a run
 *   found later than that is skipped (MissedSchedule).
 * - Its Job is named `<cronjob>-<scheduled time in minutes since the epoch>` (so a run
 *   is never started twice), owned by the CronJob, annotated
 *   `batch.kubernetes.io/cronjob-scheduled-timestamp`.
 * - `concurrencyPolicy`: Allow runs side by side, Forbid skips a run while one is active,
 *   Replace deletes the active ones first. `suspend` holds new runs.
 * - The `successfulJobsHistoryLimit` newest completed and `failedJobsHistoryLimit`
 *   newest failed Jobs are kept; older ones are deleted with their pods.
 * Time comes from the controller's clock: a timer on Node (the requeue), the per-minute
 * cron trigger and the queue's delayed messages on the Worker.
 */
import { cronSchedule, isTimeZone, scheduleError } from "../../shared/cron";
import { ApiError } from "../../shared/status";
import { rfc3339 } from "../../shared/time";
import type { KObject, ObjectKey } from "../../shared/types";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import { jobFinished } from "./job";
import type { Controller } from "./manager";
import { controllerRef } from "./util";

export const SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp";

const time = (s: unknown): number | undefined => {
  const t = typeof s === "string" ? Date.parse(s) : Number.NaN;
  return Number.isNaN(t) ? undefined : t;
};
const jobCondition = (job: KObject, type: string) => (job.status?.conditions ?? []).some((c: any) => c?.type === type && c?.status === "True");
const ref = (job: KObject) => ({
  kind: "Job",
  namespace: job.metadata.namespace,
  name: job.metadata.name,
  uid: job.metadata.uid,
  apiVersion: "batch/v1",
  resourceVersion: job.metadata.resourceVersion,
});
const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The Job name of the run scheduled at `t` (kube's getJobName: minutes since the epoch). */
export const jobNameFor = (cronJob: string, t: Date) => `${cronJob}-${Math.floor(t.getTime() / 60_000)}`;

/** The scheduled time in the schedule's own zone, as RFC 3339 with the offset (kube writes it so). */
const zoned = (t: Date, timeZone: string): string => {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    })
      .formatToParts(t)
      .map((p) => [p.type, p.value]),
  );
  const local = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  const offset = Math.round((local - t.getTime()) / 60_000);
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  const tz = offset === 0 ? "Z" : `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${tz}`;
};

const deleteJob = async (ctx: ControllerContext, cj: KObject, job: KObject): Promise<void> => {
  try {
    await ctx.api.delete("jobs", job.metadata.namespace ?? "", job.metadata.name!, {
      propagationPolicy: "Background",
      preconditions: { uid: job.metadata.uid },
    });
    await ctx.events.record(cj, "Normal", "SuccessfulDelete", `Deleted job ${job.metadata.name}`);
  } catch (e) {
    if (!isNotFound(e) && !isConflict(e)) await ctx.events.record(cj, "Warning", "FailedDelete", `Deleted job: ${errorMessage(e)}`);
  }
};

export async function syncCronJob(key: ObjectKey, ctx: ControllerContext): Promise<ReconcileResult> {
  const cj = await ctx.api.get("cronjobs", key.namespace, key.name);
  if (!cj || cj.metadata.deletionTimestamp) return;
  const ns = key.namespace;
  const spec = cj.spec ?? {};
  const now = ctx.now();
  const jobs = (await ctx.api.list("jobs", ns)).filter((j) => controllerRef(j)?.uid === cj.metadata.uid);
  const status: any = structuredClone(cj.status ?? {});
  const before = JSON.stringify(status);

  // ---- the active list follows the Jobs
  const byUid = new Map(jobs.map((j) => [j.metadata.uid!, j]));
  const active: any[] = [];
  for (const j of jobs) if (!jobFinished(j)) active.push(ref(j));
  for (const a of status.active ?? []) {
    const j = byUid.get(a?.uid);
    if (j && jobFinished(j)) {
      const state = jobCondition(j, "Complete") ? "Complete" : "Failed";
      await ctx.events.record(cj, "Normal", "SawCompletedJob", `Saw completed job: ${j.metadata.name}, condition: ${state}`);
    }
  }
  for (const j of jobs) {
    const done = time(j.status?.completionTime);
    if (jobCondition(j, "Complete") && done !== undefined && done > (time(status.lastSuccessfulTime) ?? 0)) status.lastSuccessfulTime = j.status.completionTime;
  }
  status.active = active;

  // ---- history
  const byAge = (a: KObject, b: KObject) =>
    (time(a.status?.startTime) ?? time(a.metadata.creationTimestamp) ?? 0) - (time(b.status?.startTime) ?? time(b.metadata.creationTimestamp) ?? 0);
  const trim = async (list: KObject[], keep: number | undefined) => {
    if (typeof keep !== "number") return;
    for (const j of list.sort(byAge).slice(0, Math.max(0, list.length - keep))) await deleteJob(ctx, cj, j);
  };
  await trim(
    jobs.filter((j) => jobCondition(j, "Complete")),
    spec.successfulJobsHistoryLimit,
  );
  await trim(
    jobs.filter((j) => jobCondition(j, "Failed")),
    spec.failedJobsHistoryLimit,
  );

  const save = async () => {
    if (status.active.length === 0) delete status.active;
    if (JSON.stringify(status) === before) return;
    try {
      await ctx.api.updateStatus("cronjobs", { ...cj, status });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  };

  // ---- the schedule
  const timeZone = spec.timeZone || "Etc/UTC";
  if (typeof spec.schedule !== "string" || scheduleError(spec.schedule)) {
    await ctx.events.record(cj, "Warning", "UnparseableSchedule", `unparseable schedule: ${JSON.stringify(spec.schedule)}`);
    await save();
    return;
  }
  if (!isTimeZone(timeZone)) {
    await ctx.events.record(cj, "Warning", "UnknownTimeZone", `invalid timeZone: ${JSON.stringify(spec.timeZone)}`);
    await save();
    return;
  }
  if (spec.suspend === true) {
    await save();
    return;
  }
  const schedule = cronSchedule(spec.schedule, timeZone);
  const comeBack = (): ReconcileResult => {
    const next = schedule.next(now);
    return next ? { requeueAfterMs: Math.max(0, next.getTime() - now.getTime()) + 100 } : undefined;
  };
  const since = time(status.lastScheduleTime) ?? time(cj.metadata.creationTimestamp) ?? now.getTime();
  const due = schedule.latest(now);
  if (!due || due.getTime() <= since) {
    await save();
    return comeBack();
  }
  const deadline = typeof spec.startingDeadlineSeconds === "number" ? spec.startingDeadlineSeconds * 1000 : undefined;
  if (deadline !== undefined && due.getTime() + deadline < now.getTime()) {
    await ctx.events.record(cj, "Warning", "MissedSchedule", `Missed scheduled time to start a job: ${zoned(due, timeZone)}`);
    status.lastScheduleTime = rfc3339(due);
    await save();
    return comeBack();
  }
  const name = jobNameFor(cj.metadata.name!, due);
  if (jobs.some((j) => j.metadata.name === name)) {
    status.lastScheduleTime = rfc3339(due);
    await save();
    return comeBack();
  }
  if (spec.concurrencyPolicy === "Forbid" && active.length > 0) {
    // the run is not started, and stays due until the active one ends (kube's behaviour)
    await ctx.events.record(cj, "Normal", "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid");
    await save();
    return comeBack();
  }
  if (spec.concurrencyPolicy === "Replace") {
    for (const a of active) {
      const j = byUid.get(a.uid);
      if (j) await deleteJob(ctx, cj, j);
    }
    status.active = [];
  }
  const template = spec.jobTemplate ?? {};
  const job = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: ns,
      ...(template.metadata?.labels ? { labels: { ...template.metadata.labels } } : {}),
      annotations: { ...(template.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP]: zoned(due, timeZone) },
      ownerReferences: [
        { apiVersion: "batch/v1", kind: "CronJob", name: cj.metadata.name!, uid: cj.metadata.uid!, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: structuredClone(template.spec ?? {}),
  } as KObject;
  try {
    const made = await ctx.api.create("jobs", ns, job);
    status.active.push(ref(made));
    await ctx.events.record(cj, "Normal", "SuccessfulCreate", `Created job ${name}`);
  } catch (e) {
    if (!(e instanceof ApiError && e.reason === "AlreadyExists")) {
      await ctx.events.record(cj, "Warning", "FailedCreate", `Error creating job: ${errorMessage(e)}`);
      await save();
      throw e;
    }
  }
  status.lastScheduleTime = rfc3339(due);
  await save();
  return comeBack();
}

export const cronJobController: Controller = {
  name: "cronjob",
  // time-based work: at every resync pass
  resyncPeriodMs: 0,
  primary: ["cronjobs"],
  // a Job's writes come back as its owner's key (the registry enqueues owners)
  reconcile: syncCronJob,
  async resync(ctx) {
    // the clock moves: every CronJob now and then (each reconcile also asks to come back at its next run)
    return (await ctx.api.list("cronjobs")).map((c): ObjectKey => ({ resource: "cronjobs", namespace: c.metadata.namespace ?? "", name: c.metadata.name! }));
  },
};
