/**
 * Defaulting, as kube-apiserver's v1/apps-v1 defaulters (plus the Priority admission
 * plugin for pods) do it for the fields Kubeflare serves. Runs on every write before
 * validation; idempotent, and never throws on malformed input (validation reports that
 * afterwards).
 *
 * Like Go's defaulters, an empty string counts as unset for string fields (a port
 * `protocol: ""` becomes TCP), and a zero counts as unset for the probe fields that are
 * plain (non-pointer) integers in the Go types.
 *
 * Deliberately not here (kube-apiserver does them elsewhere, and so does Kubeflare's
 * registry): the namespace `kubernetes` finalizer (added on create only, since it is
 * removed over the namespace's life), default pod tolerations, the service account,
 * ClusterIP allocation.
 */
import { defaultHorizontalPodAutoscaler } from "./hpa-validation";
import type { ResourceInfo } from "./resources";
import type { KObject } from "./types";

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** Set `o[k]` when it is unset (undefined, null, or "" for a string default). */
const setDefault = (o: Obj, k: string, v: unknown) => {
  const cur = o[k];
  if (cur === undefined || cur === null || (typeof v === "string" && cur === "")) o[k] = v;
};

/** Set `o[k]` when it is unset or 0 (Go's zero value for a non-pointer integer). */
const setDefaultNonZero = (o: Obj, k: string, v: number) => {
  if (o[k] === undefined || o[k] === null || o[k] === 0) o[k] = v;
};

/**
 * imagePullPolicy for an image: Always when its tag is `latest` (also with a digest) or
 * it has neither tag nor digest (the tag then defaults to latest); IfNotPresent
 * otherwise, and when there is no usable reference.
 */
export const defaultPullPolicy = (image: unknown): string => {
  if (typeof image !== "string" || image === "" || image !== image.trim()) return "IfNotPresent";
  const at = image.indexOf("@");
  const name = at >= 0 ? image.slice(0, at) : image;
  const last = name.slice(name.lastIndexOf("/") + 1);
  const colon = last.lastIndexOf(":");
  // no tag and no digest means the tag `latest`
  const tag = colon >= 0 ? last.slice(colon + 1) : at >= 0 ? "" : "latest";
  return tag === "latest" ? "Always" : "IfNotPresent";
};

const defaultHTTPGet = (h: unknown) => {
  if (!isObj(h)) return;
  setDefault(h, "path", "/");
  setDefault(h, "scheme", "HTTP");
};

const defaultProbe = (p: unknown) => {
  if (!isObj(p)) return;
  setDefaultNonZero(p, "timeoutSeconds", 1);
  setDefaultNonZero(p, "periodSeconds", 10);
  setDefaultNonZero(p, "successThreshold", 1);
  setDefaultNonZero(p, "failureThreshold", 3);
  defaultHTTPGet(p.httpGet);
};

const defaultFieldRef = (ref: unknown) => {
  if (isObj(ref)) setDefault(ref, "apiVersion", "v1");
};

const defaultContainer = (c: Obj) => {
  setDefault(c, "imagePullPolicy", defaultPullPolicy(c.image));
  setDefault(c, "terminationMessagePath", "/dev/termination-log");
  setDefault(c, "terminationMessagePolicy", "File");
  setDefault(c, "resources", {});
  for (const p of objects(c.ports)) setDefault(p, "protocol", "TCP");
  for (const e of objects(c.env)) if (isObj(e.valueFrom)) defaultFieldRef(e.valueFrom.fieldRef);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObj(c.lifecycle)) {
    if (isObj(c.lifecycle.postStart)) defaultHTTPGet(c.lifecycle.postStart.httpGet);
    if (isObj(c.lifecycle.preStop)) defaultHTTPGet(c.lifecycle.preStop.httpGet);
  }
};

const defaultVolume = (v: Obj) => {
  // a volume without a source is an emptyDir
  const sources = Object.keys(v).filter((k) => k !== "name" && v[k] !== undefined && v[k] !== null);
  if (sources.length === 0) v.emptyDir = {};
  if (isObj(v.configMap)) setDefault(v.configMap, "defaultMode", 0o644);
  if (isObj(v.secret)) setDefault(v.secret, "defaultMode", 0o644);
  if (isObj(v.hostPath)) setDefault(v.hostPath, "type", "");
  if (isObj(v.downwardAPI)) {
    setDefault(v.downwardAPI, "defaultMode", 0o644);
    for (const item of objects(v.downwardAPI.items)) defaultFieldRef(item.fieldRef);
  }
  if (isObj(v.projected)) {
    setDefault(v.projected, "defaultMode", 0o644);
    for (const s of objects(v.projected.sources)) {
      if (isObj(s.downwardAPI)) for (const item of objects(s.downwardAPI.items)) defaultFieldRef(item.fieldRef);
      if (isObj(s.serviceAccountToken)) setDefault(s.serviceAccountToken, "expirationSeconds", 3600);
    }
  }
};

/**
 * Defaults of a pod spec wherever it appears (a Pod, or a workload's
 * spec.template.spec): what kube-apiserver's SetDefaults_PodSpec and the container,
 * probe, port and volume defaulters do.
 */
export const defaultPodSpec = (spec: unknown): void => {
  if (!isObj(spec)) return;
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "securityContext", {});
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "schedulerName", "default-scheduler");
  for (const c of [...objects(spec.initContainers), ...objects(spec.containers), ...objects(spec.ephemeralContainers)]) defaultContainer(c);
  for (const v of objects(spec.volumes)) defaultVolume(v);
};

/**
 * Defaults only a Pod gets, not a pod template (kube-apiserver keeps these out of
 * templates on purpose): requests default to limits, a negative
 * terminationGracePeriodSeconds becomes 1, enableServiceLinks, and the Priority
 * admission plugin's priority and preemptionPolicy.
 *
 * Not done: kube-apiserver also copies containerPort to hostPort for hostNetwork pods,
 * which makes the scheduler keep such pods one per node; Kubeflare's single-node
 * setups run several hostNetwork replicas side by side, so that default is left out.
 */
export const defaultPod = (spec: unknown): void => {
  if (!isObj(spec)) return;
  defaultPodSpec(spec);
  for (const c of [...objects(spec.initContainers), ...objects(spec.containers)]) {
    if (isObj(c.resources) && isObj(c.resources.limits)) {
      const requests = isObj(c.resources.requests) ? c.resources.requests : {};
      for (const [k, v] of Object.entries(c.resources.limits)) if (requests[k] === undefined) requests[k] = v;
      c.resources.requests = requests;
    }
  }
  // a negative grace period is invalid and stored as 1 (Kubernetes 1.27+; templates keep theirs, with a warning)
  if (typeof spec.terminationGracePeriodSeconds === "number" && spec.terminationGracePeriodSeconds < 0) spec.terminationGracePeriodSeconds = 1;
  setDefault(spec, "enableServiceLinks", true);
  setDefault(spec, "priority", 0);
  setDefault(spec, "preemptionPolicy", "PreemptLowerPriority");
};

const defaultTemplate = (spec: Obj) => {
  if (isObj(spec.template)) defaultPodSpec(spec.template.spec);
};

const defaultDeployment = (spec: Obj) => {
  setDefault(spec, "replicas", 1);
  setDefault(spec, "strategy", {});
  if (isObj(spec.strategy)) {
    const strategy = spec.strategy;
    setDefault(strategy, "type", "RollingUpdate");
    if (strategy.type === "RollingUpdate") {
      setDefault(strategy, "rollingUpdate", {});
      if (isObj(strategy.rollingUpdate)) {
        setDefault(strategy.rollingUpdate, "maxUnavailable", "25%");
        setDefault(strategy.rollingUpdate, "maxSurge", "25%");
      }
    }
  }
  setDefault(spec, "revisionHistoryLimit", 10);
  setDefault(spec, "progressDeadlineSeconds", 600);
  defaultTemplate(spec);
};

/** batch/v1 SetDefaults_Job (the Job's labels come from its template at create: the Job strategy). */
const defaultJob = (spec: Obj) => {
  if ((spec.completions === undefined || spec.completions === null) && (spec.parallelism === undefined || spec.parallelism === null)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setDefault(spec, "parallelism", 1);
  // with backoffLimitPerIndex, the Job-wide limit defaults to MaxInt32
  if (spec.backoffLimitPerIndex !== undefined && spec.backoffLimitPerIndex !== null) setDefault(spec, "backoffLimit", 2147483647);
  setDefault(spec, "backoffLimit", 6);
  setDefault(spec, "completionMode", "NonIndexed");
  setDefault(spec, "suspend", false);
  defaultTemplate(spec);
  // podFailurePolicy: an onPodConditions pattern's status defaults to True
  for (const rule of objects(isObj(spec.podFailurePolicy) ? spec.podFailurePolicy.rules : undefined))
    for (const pattern of objects(rule.onPodConditions)) setDefault(pattern, "status", "True");
};

const defaultReplicationController = (obj: KObject, spec: Obj) => {
  const template = isObj(spec.template) ? spec.template : undefined;
  const labels = template && isObj(template.metadata) && isObj(template.metadata.labels) ? template.metadata.labels : undefined;
  if (labels) {
    if (!isObj(spec.selector) || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
    if (isObj(obj.metadata) && (!isObj(obj.metadata.labels) || Object.keys(obj.metadata.labels).length === 0)) obj.metadata.labels = { ...labels };
  }
  setDefault(spec, "replicas", 1);
  defaultTemplate(spec);
};

/** Reachable from outside the cluster: NodePort, LoadBalancer, or any type with external IPs. */
const externallyAccessible = (spec: Obj) =>
  spec.type === "NodePort" || spec.type === "LoadBalancer" || (spec.type === "ClusterIP" && Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0);

const defaultService = (spec: Obj) => {
  setDefault(spec, "sessionAffinity", "None");
  if (spec.sessionAffinity === "None") delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === "ClientIP") {
    setDefault(spec, "sessionAffinityConfig", {});
    if (isObj(spec.sessionAffinityConfig)) {
      setDefault(spec.sessionAffinityConfig, "clientIP", {});
      if (isObj(spec.sessionAffinityConfig.clientIP)) setDefault(spec.sessionAffinityConfig.clientIP, "timeoutSeconds", 10800);
    }
  }
  setDefault(spec, "type", "ClusterIP");
  for (const p of objects(spec.ports)) {
    setDefault(p, "protocol", "TCP");
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === "") {
      if (p.port !== undefined && p.port !== null) p.targetPort = p.port;
    }
  }
  if (externallyAccessible(spec)) setDefault(spec, "externalTrafficPolicy", "Cluster");
  if (spec.type === "ClusterIP" || spec.type === "NodePort" || spec.type === "LoadBalancer") {
    setDefault(spec, "internalTrafficPolicy", "Cluster");
    // what the Service REST storage fills in for a single-stack IPv4 cluster
    setDefault(spec, "ipFamilyPolicy", "SingleStack");
    setDefault(spec, "ipFamilies", ["IPv4"]);
  }
  if (spec.type === "LoadBalancer") setDefault(spec, "allocateLoadBalancerNodePorts", true);
};

const defaultEndpointPorts = (ports: unknown) => {
  for (const p of objects(ports)) setDefault(p, "protocol", "TCP");
};

/** Apply kube-apiserver's defaults for `info`'s kind to `obj`, in place. */
export const applyDefaults = (info: ResourceInfo, obj: KObject): void => {
  if (!isObj(obj)) return;
  const spec = obj.spec;
  switch (info.kind) {
    case "Pod":
      defaultPod(spec);
      break;
    case "Deployment":
      if (isObj(spec)) defaultDeployment(spec);
      break;
    case "ReplicaSet":
      if (isObj(spec)) {
        setDefault(spec, "replicas", 1);
        defaultTemplate(spec);
      }
      break;
    case "ReplicationController":
      if (isObj(spec)) defaultReplicationController(obj, spec);
      break;
    case "Job":
      if (isObj(spec)) defaultJob(spec);
      break;
    case "DaemonSet":
      if (isObj(spec)) {
        setDefault(spec, "updateStrategy", {});
        if (isObj(spec.updateStrategy)) {
          setDefault(spec.updateStrategy, "type", "RollingUpdate");
          if (spec.updateStrategy.type === "RollingUpdate") {
            setDefault(spec.updateStrategy, "rollingUpdate", {});
            if (isObj(spec.updateStrategy.rollingUpdate)) {
              setDefault(spec.updateStrategy.rollingUpdate, "maxUnavailable", 1);
              setDefault(spec.updateStrategy.rollingUpdate, "maxSurge", 0);
            }
          }
        }
        setDefault(spec, "revisionHistoryLimit", 10);
        defaultTemplate(spec);
      }
      break;
    case "CronJob":
      if (isObj(spec)) {
        setDefault(spec, "concurrencyPolicy", "Allow");
        setDefault(spec, "suspend", false);
        setDefault(spec, "successfulJobsHistoryLimit", 3);
        setDefault(spec, "failedJobsHistoryLimit", 1);
        // only the pod template's defaults: SetDefaults_Job is for Jobs, not their templates
        if (isObj(spec.jobTemplate) && isObj(spec.jobTemplate.spec)) defaultTemplate(spec.jobTemplate.spec);
      }
      break;
    case "Service":
      if (isObj(spec)) defaultService(spec);
      break;
    case "Secret":
      setDefault(obj, "type", "Opaque");
      break;
    case "HorizontalPodAutoscaler":
      if (isObj(spec)) defaultHorizontalPodAutoscaler(spec);
      break;
    case "Namespace":
      setDefault(obj, "status", {});
      if (isObj(obj.status)) setDefault(obj.status, "phase", "Active");
      break;
    case "Node":
      // allocatable defaults to capacity
      if (isObj(obj.status) && isObj(obj.status.capacity) && (obj.status.allocatable === undefined || obj.status.allocatable === null)) {
        obj.status.allocatable = { ...obj.status.capacity };
      }
      break;
    case "Endpoints":
      for (const s of objects(obj.subsets)) defaultEndpointPorts(s.ports);
      break;
    case "EndpointSlice":
      defaultEndpointPorts(obj.ports);
      break;
    case "StatefulSet":
      // apps/v1 SetDefaults_StatefulSet
      if (isObj(spec)) {
        setDefault(spec, "replicas", 1);
        setDefault(spec, "podManagementPolicy", "OrderedReady");
        setDefault(spec, "updateStrategy", {});
        if (isObj(spec.updateStrategy)) {
          setDefault(spec.updateStrategy, "type", "RollingUpdate");
          if (spec.updateStrategy.type === "RollingUpdate") {
            setDefault(spec.updateStrategy, "rollingUpdate", {});
            if (isObj(spec.updateStrategy.rollingUpdate)) setDefault(spec.updateStrategy.rollingUpdate, "partition", 0);
          }
        }
        setDefault(spec, "persistentVolumeClaimRetentionPolicy", {});
        if (isObj(spec.persistentVolumeClaimRetentionPolicy)) {
          setDefault(spec.persistentVolumeClaimRetentionPolicy, "whenDeleted", "Retain");
          setDefault(spec.persistentVolumeClaimRetentionPolicy, "whenScaled", "Retain");
        }
        setDefault(spec, "revisionHistoryLimit", 10);
        defaultTemplate(spec);
        for (const t of objects(spec.volumeClaimTemplates)) {
          if (isObj(t.spec)) setDefault(t.spec, "volumeMode", "Filesystem");
        }
      }
      break;
    case "PersistentVolume":
      if (isObj(spec)) {
        setDefault(spec, "persistentVolumeReclaimPolicy", "Retain");
        setDefault(spec, "volumeMode", "Filesystem");
      }
      setDefault(obj, "status", {});
      if (isObj(obj.status)) setDefault(obj.status, "phase", "Pending");
      break;
    case "PersistentVolumeClaim":
      if (isObj(spec)) setDefault(spec, "volumeMode", "Filesystem");
      setDefault(obj, "status", {});
      if (isObj(obj.status)) setDefault(obj.status, "phase", "Pending");
      break;
    case "StorageClass":
      setDefault(obj, "reclaimPolicy", "Delete");
      setDefault(obj, "volumeBindingMode", "Immediate");
      break;
    case "LimitRange":
      // v1 SetDefaults_LimitRangeItem: a Container item's default limit is its max, its default request the default limit, else its min
      for (const item of objects(spec?.limits)) {
        if (item.type !== "Container") continue;
        const def = (item.default = isObj(item.default) ? item.default : {});
        const req = (item.defaultRequest = isObj(item.defaultRequest) ? item.defaultRequest : {});
        for (const [k, v] of Object.entries(isObj(item.max) ? item.max : {})) if (def[k] === undefined) def[k] = v;
        for (const [k, v] of Object.entries(def)) if (req[k] === undefined) req[k] = v;
        for (const [k, v] of Object.entries(isObj(item.min) ? item.min : {})) if (req[k] === undefined) req[k] = v;
      }
      break;
    case "IngressClass":
      if (isObj(spec) && isObj(spec.parameters)) setDefault(spec.parameters, "scope", "Cluster");
      break;
    case "NetworkPolicy":
      // SetDefaults_NetworkPolicy: policyTypes [Ingress] (+ Egress with egress rules); SetDefaults_NetworkPolicyPort: protocol TCP
      if (!isObj(spec)) break;
      if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0)
        spec.policyTypes = Array.isArray(spec.egress) && spec.egress.length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
      for (const rule of [...objects(spec.ingress), ...objects(spec.egress)]) for (const port of objects(rule.ports)) setDefault(port, "protocol", "TCP");
      break;
    default:
      break;
  }
};
