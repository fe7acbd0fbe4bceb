/** Deployment, ReplicaSet and ReplicationController rules (apps and core ValidateXSpec). */
import { type Causes, child, OMIT } from "../causes";
import { isDNS1035Label, isDNS1123Subdomain, isQualifiedName, isValidPercent } from "../names";
import { isNum, isObj, type Obj, obj, stringEntries } from "./json";
import { selectorIsEmpty, selectorMatches, validateLabelSelector, validateTemplateMeta } from "./meta";
import { validatePodSpec } from "./pod";
import { isTimeZone, scheduleError } from "../../cron";

const nonNegative = (v: unknown, field: string, c: Causes) => {
  if (isNum(v) && v < 0) c.invalid(field, v, "must be greater than or equal to 0");
};

/** A pod template of a replicated workload: it must match the selector and restart Always. */
const validateTemplate = (template: unknown, matches: (labels: Obj) => boolean, owner: string, c: Causes) => {
  const field = "spec.template";
  if (!isObj(template)) {
    c.required(field);
    return;
  }
  const labels = obj(obj(template.metadata).labels);
  if (!matches(labels)) c.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`");
  validateTemplateMeta(template.metadata, child(field, "metadata"), c);
  validatePodSpec(template.spec, child(field, "spec"), c, { template: true });
  const spec = obj(template.spec);
  if (spec.restartPolicy !== undefined && spec.restartPolicy !== "Always") c.notSupported("spec.template.spec.restartPolicy", spec.restartPolicy, ["Always"]);
  if (spec.activeDeadlineSeconds !== undefined) c.forbidden("spec.template.spec.activeDeadlineSeconds", `activeDeadlineSeconds in ${owner} is not Supported`);
};

/** The selector of a Deployment or ReplicaSet (a metav1.LabelSelector): required and non-empty. */
const validateWorkloadSelector = (spec: Obj, c: Causes): boolean => {
  if (!isObj(spec.selector)) {
    c.required("spec.selector");
    return false;
  }
  validateLabelSelector(spec.selector, "spec.selector", c);
  if (selectorIsEmpty(spec.selector)) {
    c.invalid("spec.selector", spec.selector, "empty selector is invalid for deployment");
    return false;
  }
  return true;
};

/** maxSurge / maxUnavailable: a non-negative count or a percentage; returns the number (or percent). */
const intOrPercent = (v: unknown, field: string, c: Causes): number | undefined => {
  if (isNum(v)) {
    nonNegative(v, field, c);
    return v;
  }
  if (typeof v === "string") {
    const errs = isValidPercent(v);
    c.invalidEach(field, v, errs);
    return errs.length ? undefined : Number(v.slice(0, -1));
  }
  return undefined;
};

const validateStrategy = (strategy: unknown, c: Causes) => {
  const s = obj(strategy);
  const field = "spec.strategy";
  switch (s.type) {
    case "Recreate":
      if (s.rollingUpdate !== undefined) c.forbidden(child(field, "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'");
      break;
    case "RollingUpdate": {
      if (!isObj(s.rollingUpdate)) {
        c.required(child(field, "rollingUpdate"), "this should be defaulted and never be nil");
        break;
      }
      const ru = s.rollingUpdate;
      const rf = child(field, "rollingUpdate");
      const unavailable = intOrPercent(ru.maxUnavailable, child(rf, "maxUnavailable"), c);
      const surge = intOrPercent(ru.maxSurge, child(rf, "maxSurge"), c);
      if ((unavailable ?? 0) === 0 && (surge ?? 0) === 0) c.invalid(child(rf, "maxUnavailable"), ru.maxUnavailable ?? 0, "may not be 0 when `maxSurge` is 0");
      if (typeof ru.maxUnavailable === "string" && unavailable !== undefined && unavailable > 100)
        c.invalid(child(rf, "maxUnavailable"), ru.maxUnavailable, "must not be greater than 100%");
      break;
    }
    default:
      c.notSupported(field, s, ["Recreate", "RollingUpdate"]);
  }
};

export const validateDeploymentSpec = (specValue: unknown, c: Causes) => {
  const spec = obj(specValue);
  nonNegative(spec.replicas, "spec.replicas", c);
  const ok = validateWorkloadSelector(spec, c);
  validateTemplate(spec.template, (labels) => !ok || selectorMatches(spec.selector, labels), "ReplicaSet", c);
  validateStrategy(spec.strategy, c);
  nonNegative(spec.minReadySeconds, "spec.minReadySeconds", c);
  nonNegative(spec.revisionHistoryLimit, "spec.revisionHistoryLimit", c);
  if (isNum(spec.progressDeadlineSeconds)) {
    nonNegative(spec.progressDeadlineSeconds, "spec.progressDeadlineSeconds", c);
    if (spec.progressDeadlineSeconds <= (isNum(spec.minReadySeconds) ? spec.minReadySeconds : 0)) {
      c.invalid("spec.progressDeadlineSeconds", spec.progressDeadlineSeconds, "must be greater than minReadySeconds");
    }
  }
};

export const validateReplicaSetSpec = (specValue: unknown, c: Causes) => {
  const spec = obj(specValue);
  nonNegative(spec.replicas, "spec.replicas", c);
  nonNegative(spec.minReadySeconds, "spec.minReadySeconds", c);
  const ok = validateWorkloadSelector(spec, c);
  validateTemplate(spec.template, (labels) => !ok || selectorMatches(spec.selector, labels), "ReplicaSet", c);
};

export const validateReplicationControllerSpec = (specValue: unknown, c: Causes) => {
  const spec = obj(specValue);
  nonNegative(spec.minReadySeconds, "spec.minReadySeconds", c);
  const selector = stringEntries(spec.selector);
  if (selector.length === 0) c.required("spec.selector");
  nonNegative(spec.replicas, "spec.replicas", c);
  validateTemplate(spec.template, (labels) => selector.every(([k, v]) => labels[k] === v), "ReplicationController", c);
};

/** Scale (the scale subresource): spec.replicas must not be negative. */
export const validateScaleSpec = (specValue: unknown, c: Causes) => {
  nonNegative(obj(specValue).replicas, "spec.replicas", c);
};

/** The labels the Job strategy puts on a Job's pod template (batch/v1 generateSelector). */
export const JOB_CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid";
export const JOB_NAME_LABEL = "batch.kubernetes.io/job-name";
export const LEGACY_JOB_CONTROLLER_UID_LABEL = "controller-uid";
export const LEGACY_JOB_NAME_LABEL = "job-name";

/** Most completions or parallelism of an Indexed Job (kube's limit). */
const MAX_INDEXED = 100_000;

/** batch/v1 ValidateJob: spec numbers, the generated selector, the template. */
export const validateJob = (o: Obj, c: Causes) => {
  const spec = obj(o.spec);
  validatePodFailurePolicy(spec, c);
  validateSuccessPolicy(spec, c);
  validateBackoffLimitPerIndex(spec, c);
  nonNegative(spec.parallelism, "spec.parallelism", c);
  nonNegative(spec.completions, "spec.completions", c);
  nonNegative(spec.activeDeadlineSeconds, "spec.activeDeadlineSeconds", c);
  nonNegative(spec.backoffLimit, "spec.backoffLimit", c);
  nonNegative(spec.ttlSecondsAfterFinished, "spec.ttlSecondsAfterFinished", c);
  if (spec.completionMode === "Indexed") {
    if (spec.completions === undefined || spec.completions === null) c.required("spec.completions", "when completion mode is Indexed");
    else if (isNum(spec.completions) && spec.completions > MAX_INDEXED)
      c.invalid("spec.completions", spec.completions, `must be less than or equal to ${MAX_INDEXED} when completion mode is Indexed`);
    if (isNum(spec.parallelism) && spec.parallelism > MAX_INDEXED)
      c.invalid("spec.parallelism", spec.parallelism, `must be less than or equal to ${MAX_INDEXED} when completion mode is Indexed`);
  }
  let selectorOk = isObj(spec.selector);
  if (!selectorOk) c.required("spec.selector");
  else {
    validateLabelSelector(spec.selector, "spec.selector", c);
    if (selectorIsEmpty(spec.selector)) {
      c.invalid("spec.selector", spec.selector, "empty selector is invalid for job");
      selectorOk = false;
    }
  }
  // unless the user chose the selector, it must be the generated one (select this Job's uid)
  const uid = obj(o.metadata).uid;
  if (spec.manualSelector !== true && selectorOk && typeof uid === "string" && !selectorMatches(spec.selector, { [JOB_CONTROLLER_UID_LABEL]: uid })) {
    c.invalid("spec.selector", spec.selector, "`selector` not auto-generated");
  }
  const field = "spec.template";
  const template = spec.template;
  if (!isObj(template)) {
    c.required(field);
    return;
  }
  const labels = obj(obj(template.metadata).labels);
  if (selectorOk && !selectorMatches(spec.selector, labels)) c.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`");
  validateTemplateMeta(template.metadata, child(field, "metadata"), c);
  validatePodSpec(template.spec, child(field, "spec"), c, { template: true });
  const podSpec = obj(template.spec);
  if (podSpec.restartPolicy !== "OnFailure" && podSpec.restartPolicy !== "Never")
    c.notSupported("spec.template.spec.restartPolicy", podSpec.restartPolicy ?? "", ["OnFailure", "Never"]);
};

/** batch/v1 ValidateCronJob: name length (room for the Jobs' suffix), schedule, time zone, the Job template. */
export const validateCronJob = (o: Obj, c: Causes) => {
  const name = obj(o.metadata).name;
  if (typeof name === "string" && name.length > 52) c.invalid("metadata.name", name, "must be no more than 52 characters");
  const spec = obj(o.spec);
  if (typeof spec.schedule !== "string" || spec.schedule === "") c.required("spec.schedule");
  else {
    const why = scheduleError(spec.schedule);
    if (why) c.invalid("spec.schedule", spec.schedule, why);
  }
  if (typeof spec.timeZone === "string" && !isTimeZone(spec.timeZone)) c.invalid("spec.timeZone", spec.timeZone, `unknown time zone ${spec.timeZone}`);
  nonNegative(spec.startingDeadlineSeconds, "spec.startingDeadlineSeconds", c);
  nonNegative(spec.successfulJobsHistoryLimit, "spec.successfulJobsHistoryLimit", c);
  nonNegative(spec.failedJobsHistoryLimit, "spec.failedJobsHistoryLimit", c);
  const jt = obj(spec.jobTemplate);
  const js = obj(jt.spec);
  const f = "spec.jobTemplate.spec";
  validateTemplateMeta(jt.metadata, "spec.jobTemplate.metadata", c);
  nonNegative(js.parallelism, `${f}.parallelism`, c);
  nonNegative(js.completions, `${f}.completions`, c);
  nonNegative(js.activeDeadlineSeconds, `${f}.activeDeadlineSeconds`, c);
  nonNegative(js.backoffLimit, `${f}.backoffLimit`, c);
  nonNegative(js.ttlSecondsAfterFinished, `${f}.ttlSecondsAfterFinished`, c);
  if (js.completionMode === "Indexed" && (js.completions === undefined || js.completions === null))
    c.required(`${f}.completions`, "when completion mode is Indexed");
  if (js.selector !== undefined && js.selector !== null && js.manualSelector !== true)
    c.invalid(`${f}.selector`, js.selector, "`selector` will be auto-generated");
  if (!isObj(js.template)) {
    c.required(`${f}.template`);
    return;
  }
  validateTemplateMeta(js.template.metadata, `${f}.template.metadata`, c);
  validatePodSpec(js.template.spec, `${f}.template.spec`, c, { template: true });
  const podSpec = obj(js.template.spec);
  if (podSpec.restartPolicy !== "OnFailure" && podSpec.restartPolicy !== "Never")
    c.notSupported(`${f}.template.spec.restartPolicy`, podSpec.restartPolicy ?? "", ["OnFailure", "Never"]);
};

/** apps/v1 ValidateDaemonSetSpec: selector and template as a ReplicaSet's, the update strategy. */
export const validateDaemonSetSpec = (specValue: unknown, c: Causes) => {
  const spec = obj(specValue);
  const ok = validateWorkloadSelector(spec, c);
  validateTemplate(spec.template, (labels) => !ok || selectorMatches(spec.selector, labels), "DaemonSet", c);
  nonNegative(spec.minReadySeconds, "spec.minReadySeconds", c);
  nonNegative(spec.revisionHistoryLimit, "spec.revisionHistoryLimit", c);
  const s = obj(spec.updateStrategy);
  const field = "spec.updateStrategy";
  if (s.type === "OnDelete") return;
  if (s.type !== "RollingUpdate") {
    c.notSupported(child(field, "type"), s.type ?? "", ["OnDelete", "RollingUpdate"]);
    return;
  }
  if (!isObj(s.rollingUpdate)) return;
  const rf = child(field, "rollingUpdate");
  const unavailable = intOrPercent(s.rollingUpdate.maxUnavailable, child(rf, "maxUnavailable"), c);
  const surge = intOrPercent(s.rollingUpdate.maxSurge, child(rf, "maxSurge"), c);
  if ((unavailable ?? 0) === 0 && (surge ?? 0) === 0)
    c.invalid(child(rf, "maxUnavailable"), s.rollingUpdate.maxUnavailable ?? 0, "may not be 0 when `maxSurge` is 0");
};

/** policy/v1 ValidatePodDisruptionBudgetSpec. */
export const validatePodDisruptionBudgetSpec = (specValue: unknown, c: Causes) => {
  const spec = obj(specValue);
  const has = (v: unknown) => v !== undefined && v !== null;
  if (has(spec.minAvailable) && has(spec.maxUnavailable)) c.invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set");
  const minAvailable = intOrPercent(spec.minAvailable, "spec.minAvailable", c);
  const maxUnavailable = intOrPercent(spec.maxUnavailable, "spec.maxUnavailable", c);
  if (typeof spec.minAvailable === "string" && minAvailable !== undefined && minAvailable > 100)
    c.invalid("spec.minAvailable", spec.minAvailable, "must not be greater than 100%");
  if (typeof spec.maxUnavailable === "string" && maxUnavailable !== undefined && maxUnavailable > 100)
    c.invalid("spec.maxUnavailable", spec.maxUnavailable, "must not be greater than 100%");
  if (isObj(spec.selector)) validateLabelSelector(spec.selector, "spec.selector", c);
};

/** apps/v1 ValidateControllerRevision: data is required, revision not negative. */
export const validateControllerRevision = (o: Obj, c: Causes) => {
  if (o.data === undefined || o.data === null) c.required("data");
  nonNegative(o.revision, "revision", c);
};

/** A volumeClaimTemplate of a StatefulSet (core ValidatePersistentVolumeClaim, as a template). */
const validateClaimTemplate = (t: unknown, field: string, c: Causes) => {
  const tpl = obj(t);
  const meta = obj(tpl.metadata);
  if (typeof meta.name !== "string" || !meta.name) c.required(child(child(field, "metadata"), "name"), "name or generateName is required");
  else c.invalidEach(child(child(field, "metadata"), "name"), meta.name, isDNS1123Subdomain(meta.name));
  validateTemplateMeta(tpl.metadata, child(field, "metadata"), c);
  const spec = obj(tpl.spec);
  const sf = child(field, "spec");
  const modes = Array.isArray(spec.accessModes) ? spec.accessModes : [];
  if (!modes.length) c.required(child(sf, "accessModes"), "at least 1 access mode is required");
  modes.forEach((m: unknown, i: number) => {
    if (!["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"].includes(m as string))
      c.notSupported(`${child(sf, "accessModes")}[${i}]`, m, ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]);
  });
  const storage = obj(obj(spec.resources).requests).storage;
  if (storage === undefined || storage === null || storage === "") c.required(`${child(sf, "resources")}[storage]`);
};

/** apps/v1 ValidateStatefulSetSpec. */
export const validateStatefulSetSpec = (specValue: unknown, c: Causes) => {
  const spec = obj(specValue);
  if (spec.podManagementPolicy !== "OrderedReady" && spec.podManagementPolicy !== "Parallel")
    c.notSupported("spec.podManagementPolicy", spec.podManagementPolicy ?? "", ["OrderedReady", "Parallel"]);
  const s = obj(spec.updateStrategy);
  const field = "spec.updateStrategy";
  if (s.type === "OnDelete") {
    if (s.rollingUpdate !== undefined && s.rollingUpdate !== null)
      c.invalid(child(field, "rollingUpdate"), s.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'");
  } else if (s.type === "RollingUpdate") {
    const ru = obj(s.rollingUpdate);
    const rf = child(field, "rollingUpdate");
    nonNegative(ru.partition, child(rf, "partition"), c);
    if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
      const v = intOrPercent(ru.maxUnavailable, child(rf, "maxUnavailable"), c);
      if (v === 0) c.invalid(child(rf, "maxUnavailable"), ru.maxUnavailable, "must be greater than 0");
      if (typeof ru.maxUnavailable === "string" && v !== undefined && v > 100)
        c.invalid(child(rf, "maxUnavailable"), ru.maxUnavailable, "must not be greater than 100%");
    }
  } else c.notSupported(child(field, "type"), s.type ?? "", ["OnDelete", "RollingUpdate"]);
  const retention = obj(spec.persistentVolumeClaimRetentionPolicy);
  for (const k of ["whenDeleted", "whenScaled"]) {
    const v = retention[k];
    if (v !== undefined && v !== "Retain" && v !== "Delete") c.notSupported(`spec.persistentVolumeClaimRetentionPolicy.${k}`, v, ["Retain", "Delete"]);
  }
  nonNegative(spec.replicas, "spec.replicas", c);
  nonNegative(spec.minReadySeconds, "spec.minReadySeconds", c);
  nonNegative(spec.revisionHistoryLimit, "spec.revisionHistoryLimit", c);
  nonNegative(obj(spec.ordinals).start, "spec.ordinals.start", c);
  if (typeof spec.serviceName === "string" && spec.serviceName !== "") c.invalidEach("spec.serviceName", spec.serviceName, isDNS1035Label(spec.serviceName));
  const claims = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : [];
  claims.forEach((t: unknown, i: number) => validateClaimTemplate(t, `spec.volumeClaimTemplates[${i}]`, c));
  let ok = isObj(spec.selector);
  if (!ok) c.required("spec.selector");
  else {
    validateLabelSelector(spec.selector, "spec.selector", c);
    if (selectorIsEmpty(spec.selector)) {
      c.invalid("spec.selector", spec.selector, "empty selector is invalid for statefulset");
      ok = false;
    }
  }
  // the pods mount their claims by the templates' names: the template is checked with those volumes added
  // (kube skips validating a StatefulSet's pod spec altogether rather than check this union)
  let template = spec.template;
  const claimNames = claims.map((t: unknown) => obj(obj(t).metadata).name).filter((n: unknown): n is string => typeof n === "string" && n !== "");
  if (isObj(template) && claimNames.length) {
    const tspec = obj(template.spec);
    const volumes: unknown[] = Array.isArray(tspec.volumes) ? tspec.volumes : [];
    const have = new Set(volumes.map((v) => obj(v).name));
    const extra = claimNames.filter((n: string) => !have.has(n)).map((n: string) => ({ name: n, persistentVolumeClaim: { claimName: n } }));
    template = { ...template, spec: { ...tspec, volumes: [...volumes, ...extra] } };
  }
  validateTemplate(template, (labels) => !ok || selectorMatches(spec.selector, labels), "StatefulSet", c);
};

const POD_FAILURE_ACTIONS = ["Count", "FailIndex", "FailJob", "Ignore"];

/** batch validatePodFailurePolicy (and the restartPolicy Never it needs). */
export const validatePodFailurePolicy = (spec: Obj, c: Causes) => {
  if (spec.podFailurePolicy === undefined || spec.podFailurePolicy === null) return;
  const f = "spec.podFailurePolicy";
  const podSpec = obj(obj(spec.template).spec);
  if (podSpec.restartPolicy !== "Never")
    c.invalid("spec.template.spec.restartPolicy", podSpec.restartPolicy ?? "", 'only "Never" is supported when podFailurePolicy is specified');
  const rules = Array.isArray(obj(spec.podFailurePolicy).rules) ? obj(spec.podFailurePolicy).rules : [];
  if (rules.length > 20) c.invalid(`${f}.rules`, rules.length, "must have at most 20 items");
  const names = new Set(
    [...(Array.isArray(podSpec.containers) ? podSpec.containers : []), ...(Array.isArray(podSpec.initContainers) ? podSpec.initContainers : [])].map(
      (x: unknown) => obj(x).name,
    ),
  );
  rules.forEach((r: unknown, i: number) => {
    const rule = obj(r);
    const rf = `${f}.rules[${i}]`;
    if (rule.action === undefined || rule.action === "") c.required(`${rf}.action`, `valid values: ["Count" "FailIndex" "FailJob" "Ignore"]`);
    else if (rule.action === "FailIndex") {
      if (spec.backoffLimitPerIndex === undefined || spec.backoffLimitPerIndex === null)
        c.invalid(`${rf}.action`, rule.action, "requires the backoffLimitPerIndex to be set");
    } else if (!POD_FAILURE_ACTIONS.includes(rule.action)) c.notSupported(`${rf}.action`, rule.action, POD_FAILURE_ACTIONS);
    const onExit = rule.onExitCodes;
    const onConds = Array.isArray(rule.onPodConditions) ? rule.onPodConditions : [];
    if (isObj(onExit)) {
      const ef = `${rf}.onExitCodes`;
      if (onExit.operator === undefined || onExit.operator === "") c.required(`${ef}.operator`, 'valid values: ["In" "NotIn"]');
      else if (onExit.operator !== "In" && onExit.operator !== "NotIn") c.notSupported(`${ef}.operator`, onExit.operator, ["In", "NotIn"]);
      if (typeof onExit.containerName === "string" && !names.has(onExit.containerName))
        c.invalid(`${ef}.containerName`, onExit.containerName, "must be one of the container or initContainer names in the pod template");
      const values = Array.isArray(onExit.values) ? onExit.values : [];
      if (!values.length) c.invalid(`${ef}.values`, values, "at least one value is required");
      else if (values.length > 255) c.invalid(`${ef}.values`, values.length, "must have at most 255 items");
      const seen = new Set<unknown>();
      let ordered = true;
      values.forEach((v: unknown, j: number) => {
        if (onExit.operator === "In" && v === 0) c.invalid(`${ef}.values[${j}]`, v, "must not be 0 for the In operator");
        if (seen.has(v)) c.duplicate(`${ef}.values[${j}]`, v);
        seen.add(v);
        if (j > 0 && isNum(values[j - 1]) && isNum(v) && values[j - 1] > v) ordered = false;
      });
      if (!ordered) c.invalid(`${ef}.values`, values, "must be ordered");
    }
    if (onConds.length > 20) c.invalid(`${rf}.onPodConditions`, onConds.length, "must have at most 20 items");
    onConds.forEach((p: unknown, j: number) => {
      const pattern = obj(p);
      const pf = `${rf}.onPodConditions[${j}]`;
      if (typeof pattern.type !== "string" || !pattern.type) c.required(`${pf}.type`);
      else c.invalidEach(`${pf}.type`, pattern.type, isQualifiedName(pattern.type));
      if (pattern.status === undefined || pattern.status === "") c.required(`${pf}.status`, 'valid values: ["False" "True" "Unknown"]');
      else if (!["True", "False", "Unknown"].includes(pattern.status)) c.notSupported(`${pf}.status`, pattern.status, ["False", "True", "Unknown"]);
    });
    if (isObj(onExit) && onConds.length) c.invalid(rf, OMIT, "specifying both OnExitCodes and OnPodConditions is not supported");
    if (!isObj(onExit) && !onConds.length) c.invalid(rf, OMIT, "specifying one of OnExitCodes and OnPodConditions is required");
  });
};

/** batch validateSuccessPolicy: Indexed Jobs only; each rule names indexes below completions and/or a count. */
export const validateSuccessPolicy = (spec: Obj, c: Causes) => {
  if (spec.successPolicy === undefined || spec.successPolicy === null) return;
  const f = "spec.successPolicy";
  if (spec.completionMode !== "Indexed") c.invalid(f, spec.completionMode ?? "NonIndexed", "requires indexed completion mode");
  const rules = Array.isArray(obj(spec.successPolicy).rules) ? obj(spec.successPolicy).rules : [];
  if (!rules.length) c.required(`${f}.rules`, "at least one rules must be specified when the successPolicy is specified");
  if (rules.length > 20) c.invalid(`${f}.rules`, rules.length, "must have at most 20 items");
  const completions = isNum(spec.completions) ? spec.completions : 0;
  rules.forEach((r: unknown, i: number) => {
    const rule = obj(r);
    const rf = `${f}.rules[${i}]`;
    if ((rule.succeededIndexes === undefined || rule.succeededIndexes === null) && (rule.succeededCount === undefined || rule.succeededCount === null))
      c.required(rf, "at least one of succeededCount or succeededIndexes must be specified");
    let total: number | undefined;
    if (typeof rule.succeededIndexes === "string") {
      const why = indexesError(rule.succeededIndexes, completions);
      if (why) c.invalid(`${rf}.succeededIndexes`, rule.succeededIndexes, `error parsing succeededIndexes: ${why}`);
      else total = countIndexes(rule.succeededIndexes);
    }
    if (isNum(rule.succeededCount)) {
      if (rule.succeededCount < 0) c.invalid(`${rf}.succeededCount`, rule.succeededCount, "must be greater than or equal to 0");
      if (rule.succeededCount > completions)
        c.invalid(`${rf}.succeededCount`, rule.succeededCount, `must be less than or equal to ${completions} (the number of specified completions)`);
      if (total !== undefined && rule.succeededCount > total)
        c.invalid(
          `${rf}.succeededCount`,
          rule.succeededCount,
          `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`,
        );
    }
  });
};

/** Why an index list ("1,3-5") is malformed for `completions` (kube's validateIndexesFormat), or "". */
const indexesError = (s: string, completions: number): string => {
  if (s.length > 64 * 1024) return "too long";
  let prev = -1;
  for (const part of s.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return `cannot convert string to integer for index: "${part}"`;
    const a = Number(m[1]);
    const b = Number(m[2] ?? m[1]);
    if (a > b) return `non-increasing order, previous: ${a}, current: ${b}`;
    if (b >= completions) return `too large index: "${b}"`;
    if (a <= prev) return `non-increasing order, previous: ${prev}, current: ${a}`;
    prev = b;
  }
  return "";
};
const countIndexes = (s: string) =>
  s.split(",").reduce((n, part) => {
    const [a, b] = part.split("-").map(Number);
    return n + ((b ?? a) - a + 1);
  }, 0);

/** batch: backoffLimitPerIndex and maxFailedIndexes (Indexed Jobs only). */
const validateBackoffLimitPerIndex = (spec: Obj, c: Causes) => {
  const per = spec.backoffLimitPerIndex;
  const max = spec.maxFailedIndexes;
  if (per !== undefined && per !== null) {
    nonNegative(per, "spec.backoffLimitPerIndex", c);
    if (spec.completionMode !== "Indexed") c.invalid("spec.backoffLimitPerIndex", per, "requires indexed completion mode");
  }
  if (max !== undefined && max !== null) {
    nonNegative(max, "spec.maxFailedIndexes", c);
    if (per === undefined || per === null) c.required("spec.backoffLimitPerIndex", "when maxFailedIndexes is specified");
    if (isNum(max) && max > MAX_INDEXED) c.invalid("spec.maxFailedIndexes", max, `must be less than or equal to ${MAX_INDEXED}`);
    if (isNum(max) && isNum(spec.completions) && max > spec.completions) c.invalid("spec.maxFailedIndexes", max, "must be less than or equal to completions");
  }
};
