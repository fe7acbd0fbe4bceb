/**
 * Jobs (batch/v1), as kube-apiserver's job strategy: at create the selector and the pod
 * template's labels are generated from the Job's uid and name (unless manualSelector),
 * the Job takes its template's labels when it has none; selector, completion mode,
 * completions and template can't change (kube lets a suspended Job that never started
 * change some template fields; Kubeflare does not yet); `kubectl get jobs` columns.
 */
import { jsonEqual } from "../../../shared/json";
import type { StatusCause } from "../../../shared/status";
import type { KObject } from "../../../shared/types";
import { Causes } from "../../../shared/validation/causes";
import { JOB_CONTROLLER_UID_LABEL, JOB_NAME_LABEL, LEGACY_JOB_CONTROLLER_UID_LABEL, LEGACY_JOB_NAME_LABEL } from "../../../shared/validation/rules/workloads";
import { defineKind } from "./kind";
import { AGE, age, col, humanDuration, NAME, templateCells, templateColumns } from "./printing";

const hasCondition = (job: KObject, type: string) => (job.status?.conditions ?? []).some((c: any) => c?.type === type && c?.status === "True");

/** kubectl's STATUS of a Job. */
export const jobStatus = (job: KObject): string => {
  if (hasCondition(job, "Complete")) return "Complete";
  if (hasCondition(job, "Failed")) return "Failed";
  if (job.metadata.deletionTimestamp) return "Terminating";
  if (hasCondition(job, "Suspended")) return "Suspended";
  if (hasCondition(job, "FailureTarget")) return "FailureTarget";
  if (hasCondition(job, "SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
};

const completions = (job: KObject): string => {
  const succeeded = job.status?.succeeded ?? 0;
  if (typeof job.spec?.completions === "number") return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
};

const duration = (job: KObject, now: number): string => {
  const start = job.status?.startTime ? Date.parse(job.status.startTime) : Number.NaN;
  if (Number.isNaN(start)) return "";
  const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : now;
  return humanDuration(end - start);
};

const immutable = (field: string, a: unknown, b: unknown): StatusCause[] => {
  if (jsonEqual(a, b)) return [];
  const c = new Causes();
  c.invalid(field, a, "field is immutable");
  return c.list;
};

export const jobs = defineKind({
  info: {
    resource: "jobs",
    singular: "job",
    kind: "Job",
    group: "batch",
    version: "v1",
    namespaced: true,
    categories: ["all"],
    subresources: ["status"],
    hasStatus: true,
  },
  printer: {
    columns: [
      NAME,
      col("Status", "Status of the job."),
      col("Completions", "The completion status of the job."),
      col("Duration", "Time required to complete the job."),
      AGE,
      ...templateColumns(),
    ],
    cells: (o, now) => [o.metadata.name, jobStatus(o), completions(o), duration(o, now), age(o, now), ...templateCells(o)],
  },
  strategy: {
    tracksGeneration: true,
    prepareForCreate: (job) => {
      job.status = {};
      const spec = job.spec;
      if (!spec || typeof spec !== "object" || !spec.template || typeof spec.template !== "object") return;
      const template = spec.template;
      template.metadata = template.metadata && typeof template.metadata === "object" ? template.metadata : {};
      const labels: Record<string, string> = template.metadata.labels && typeof template.metadata.labels === "object" ? template.metadata.labels : {};
      // the Job takes its template's labels (SetDefaults_Job), before the generated ones are added
      if (Object.keys(labels).length && Object.keys(job.metadata.labels ?? {}).length === 0) job.metadata.labels = { ...labels };
      if (spec.manualSelector === true) return;
      // generateSelector: the pods carry the Job's name and uid; the selector picks the uid
      for (const [k, v] of [
        [LEGACY_JOB_NAME_LABEL, job.metadata.name],
        [JOB_NAME_LABEL, job.metadata.name],
        [LEGACY_JOB_CONTROLLER_UID_LABEL, job.metadata.uid],
        [JOB_CONTROLLER_UID_LABEL, job.metadata.uid],
      ] as const)
        if (labels[k] === undefined && typeof v === "string") labels[k] = v;
      template.metadata.labels = labels;
      const selector = spec.selector && typeof spec.selector === "object" ? spec.selector : {};
      selector.matchLabels = selector.matchLabels && typeof selector.matchLabels === "object" ? selector.matchLabels : {};
      if (selector.matchLabels[JOB_CONTROLLER_UID_LABEL] === undefined) selector.matchLabels[JOB_CONTROLLER_UID_LABEL] = job.metadata.uid;
      spec.selector = selector;
    },
    validateUpdate: (job, old) => [
      ...immutable("spec.selector", job.spec?.selector, old.spec?.selector),
      ...immutable("spec.completionMode", job.spec?.completionMode, old.spec?.completionMode),
      ...immutable("spec.completions", job.spec?.completions, old.spec?.completions),
      ...immutable("spec.template", job.spec?.template, old.spec?.template),
    ],
  },
});
