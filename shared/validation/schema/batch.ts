/** batch/v1: Job and CronJob. */
import { boolean, gvk, int32, int64, listOf, object, oneOf, opt, req, string } from "./dsl";
import { ObjectReference } from "./core";
import { condition, conditionsField, LabelSelector, ObjectMeta, Time } from "./meta";
import { PodTemplateSpec } from "./pod";

export const COMPLETION_MODES = ["NonIndexed", "Indexed"] as const;

export const POD_FAILURE_POLICY_ACTIONS = ["FailJob", "FailIndex", "Ignore", "Count"] as const;
export const EXIT_CODES_OPERATORS = ["In", "NotIn"] as const;

export const PodFailurePolicyOnExitCodesRequirement = object(
  "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement",
  "Exit codes of a failed pod's containers that a rule matches.",
  {
    containerName: opt(string, "Only this container's exit code (a container or init container of the template); unset: any container's."),
    operator: req(
      oneOf(EXIT_CODES_OPERATORS, { check: false }),
      "In: a container terminated with one of the values; NotIn: a container terminated with a non-zero code not among them.",
    ),
    values: req(listOf(int32), "The exit codes, sorted, unique, at most 255; 0 is not allowed with In.", { "x-kubernetes-list-type": "set" }),
  },
);

export const PodFailurePolicyOnPodConditionsPattern = object(
  "io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern",
  "A pod condition a rule matches (e.g. DisruptionTarget for a pod evicted or preempted).",
  {
    type: req(string, "The pod condition type."),
    status: opt(string, "The condition's status (True, False or Unknown); defaults to True."),
  },
);

export const PodFailurePolicyRule = object(
  "io.k8s.api.batch.v1.PodFailurePolicyRule",
  "What to do about a failed pod that matches: exactly one of onExitCodes and onPodConditions.",
  {
    action: req(
      oneOf(POD_FAILURE_POLICY_ACTIONS, { check: false }),
      "FailJob: fail the Job at once (its running pods are stopped); FailIndex: fail the pod's index (needs backoffLimitPerIndex); Ignore: replace the pod without counting it towards backoffLimit; Count: count it, as without a rule.",
    ),
    onExitCodes: opt(PodFailurePolicyOnExitCodesRequirement, "Exit codes the rule matches."),
    onPodConditions: opt(listOf(PodFailurePolicyOnPodConditionsPattern), "Pod conditions the rule matches (any of them).", {
      "x-kubernetes-list-type": "atomic",
    }),
  },
);

export const PodFailurePolicy = object(
  "io.k8s.api.batch.v1.PodFailurePolicy",
  "How failed pods count: the first rule that matches a failed pod decides; no match counts it towards backoffLimit.",
  {
    rules: req(listOf(PodFailurePolicyRule), "At most 20 rules, tried in order.", { "x-kubernetes-list-type": "atomic" }),
  },
);

export const SuccessPolicyRule = object(
  "io.k8s.api.batch.v1.SuccessPolicyRule",
  "A set of indexes whose success is enough: succeededIndexes, succeededCount, or both.",
  {
    succeededIndexes: opt(string, 'Indexes that must all succeed, as "0,2-4"; each below completions.'),
    succeededCount: opt(int32, "How many indexes must succeed (among succeededIndexes when set)."),
  },
);

export const SuccessPolicy = object(
  "io.k8s.api.batch.v1.SuccessPolicy",
  "When an Indexed Job counts as successful before every index has succeeded: once any rule is met, it gets SuccessCriteriaMet, its other pods stop, and then it is Complete.",
  {
    rules: req(listOf(SuccessPolicyRule), "1 to 20 rules; any one met is enough.", { "x-kubernetes-list-type": "atomic" }),
  },
);

export const JobSpec = object("io.k8s.api.batch.v1.JobSpec", "The pods a Job runs to completion, how many at once, and when it gives up.", {
  parallelism: opt(int32, "Most pods running at once; defaults to 1. Fewer run when fewer completions are left."),
  completions: opt(
    int32,
    "Successful pods needed for the Job to be complete; defaults to 1 when parallelism is unset too. Unset with parallelism set: the Job is complete when any pod succeeds and none is left running (a work queue).",
  ),
  activeDeadlineSeconds: opt(int64, "Seconds the Job may be active, from its start, before it is failed (DeadlineExceeded) and its pods stopped."),
  backoffLimit: opt(int32, "Failures (failed pods, or container restarts with restartPolicy OnFailure) before the Job is failed; defaults to 6."),
  selector: opt(LabelSelector, "Labels of the Job's pods. Generated from the Job's uid unless manualSelector is true."),
  manualSelector: opt(boolean, "When true, the selector is the user's and the server generates none."),
  template: req(PodTemplateSpec, "The pods to run; restartPolicy must be Never or OnFailure."),
  ttlSecondsAfterFinished: opt(int32, "Seconds after the Job finishes (Complete or Failed) when it is deleted, with its pods."),
  completionMode: opt(
    oneOf(COMPLETION_MODES),
    "NonIndexed (the default): any `completions` successful pods complete the Job. Indexed: each pod gets an index from 0 to completions-1 (annotation batch.kubernetes.io/job-completion-index, variable JOB_COMPLETION_INDEX) and the Job is complete when every index has succeeded.",
  ),
  suspend: opt(boolean, "While true, the Job's pods are stopped and no new ones start; resuming restarts the activeDeadlineSeconds timer."),
  backoffLimitPerIndex: opt(
    int32,
    "Indexed Jobs: failures of one index before that index is failed (status.failedIndexes) and gets no more pods; the other indexes go on. backoffLimit then defaults to 2147483647.",
  ),
  maxFailedIndexes: opt(int32, "With backoffLimitPerIndex: failed indexes beyond which the whole Job is failed (MaxFailedIndexesExceeded)."),
  podFailurePolicy: opt(
    PodFailurePolicy,
    "Rules on failed pods (exit codes, pod conditions): fail the Job, ignore the failure, or count it. Requires restartPolicy Never.",
  ),
  successPolicy: opt(SuccessPolicy, "Indexed Jobs: when the Job succeeds before every index has (e.g. a leader index)."),
});

export const JobCondition = condition("io.k8s.api.batch.v1.JobCondition", "Job (Complete, Failed, Suspended, FailureTarget, SuccessCriteriaMet)", [
  "lastProbeTime",
  "lastTransitionTime",
]);

export const UncountedTerminatedPods = object(
  "io.k8s.api.batch.v1.UncountedTerminatedPods",
  "Finished pods the controller has seen but not yet added to the counters (so that no pod is counted twice).",
  {
    succeeded: opt(listOf(string), "UIDs of succeeded pods.", { "x-kubernetes-list-type": "set" }),
    failed: opt(listOf(string), "UIDs of failed pods.", { "x-kubernetes-list-type": "set" }),
  },
);

export const JobStatus = object("io.k8s.api.batch.v1.JobStatus", "The observed state of a Job.", {
  conditions: conditionsField(JobCondition, "Complete, Failed and Suspended."),
  startTime: opt(Time, "When the controller started the Job (reset when it is resumed)."),
  completionTime: opt(Time, "When the Job completed; set only on success."),
  active: opt(int32, "Pending and running pods."),
  ready: opt(int32, "Active pods that are ready."),
  succeeded: opt(int32, "Pods that succeeded."),
  failed: opt(int32, "Pods that failed."),
  completedIndexes: opt(string, 'Indexed Jobs: the succeeded indexes, e.g. "1,3-5,7".'),
  failedIndexes: opt(string, 'With backoffLimitPerIndex: the failed indexes, e.g. "2,4-5".'),
  uncountedTerminatedPods: opt(UncountedTerminatedPods, "Finished pods not yet counted."),
});

export const Job = object(
  "io.k8s.api.batch.v1.Job",
  "Runs pods until a number of them have completed successfully.",
  {
    apiVersion: opt(string, "API version of the object: batch/v1."),
    kind: opt(string, "Kind of the object: Job."),
    metadata: opt(ObjectMeta, "Standard object metadata: name, namespace, labels, annotations and the fields the server maintains."),
    spec: opt(JobSpec, "The pods to run and how."),
    status: opt(JobStatus, "The observed state."),
  },
  gvk("batch", "v1", "Job"),
);

export const CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"] as const;

export const JobTemplateSpec = object("io.k8s.api.batch.v1.JobTemplateSpec", "The Jobs a CronJob creates.", {
  metadata: opt(ObjectMeta, "Labels and annotations of the Jobs."),
  spec: opt(JobSpec, "The Jobs' spec."),
});

export const CronJobSpec = object("io.k8s.api.batch.v1.CronJobSpec", "When a CronJob runs its Job, and what happens when runs overlap or are missed.", {
  schedule: req(string, 'Standard cron syntax ("*/5 * * * *", "30 2 * * 1-5") or a macro (@hourly, @daily, @weekly, @monthly, @yearly).'),
  timeZone: opt(string, "IANA time zone of the schedule (e.g. Europe/Berlin); defaults to UTC."),
  startingDeadlineSeconds: opt(int64, "Seconds after its scheduled time a run may still start; later, it counts as missed."),
  concurrencyPolicy: opt(
    oneOf(CONCURRENCY_POLICIES),
    "Allow (the default) runs Jobs side by side; Forbid skips a run while the previous one is active; Replace stops the previous one.",
  ),
  suspend: opt(boolean, "While true, no new runs start (running Jobs go on)."),
  jobTemplate: req(JobTemplateSpec, "The Job each run creates."),
  successfulJobsHistoryLimit: opt(int32, "Completed Jobs kept; defaults to 3."),
  failedJobsHistoryLimit: opt(int32, "Failed Jobs kept; defaults to 1."),
});

export const CronJobStatus = object("io.k8s.api.batch.v1.CronJobStatus", "The observed state of a CronJob.", {
  active: opt(listOf(ObjectReference), "The Jobs running now.", { "x-kubernetes-list-type": "atomic" }),
  lastScheduleTime: opt(Time, "When a Job was last scheduled."),
  lastSuccessfulTime: opt(Time, "When a Job last completed successfully."),
});

export const CronJob = object(
  "io.k8s.api.batch.v1.CronJob",
  "Runs a Job on a schedule.",
  {
    apiVersion: opt(string, "API version of the object: batch/v1."),
    kind: opt(string, "Kind of the object: CronJob."),
    metadata: opt(ObjectMeta, "Standard object metadata: name, namespace, labels, annotations and the fields the server maintains."),
    spec: opt(CronJobSpec, "The schedule and the Job to run."),
    status: opt(CronJobStatus, "The observed state."),
  },
  gvk("batch", "v1", "CronJob"),
);
