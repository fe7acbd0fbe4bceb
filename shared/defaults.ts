/**
 * Defaulting, as kube-apiserver does it for the fields Kubeflare serves. Runs on
 * every write before validation; idempotent, and never throws on malformed input
 * (validation reports that afterwards).
 */
import type { ResourceInfo } from "./resources";
import type { KObject } from "./types";

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const setDefault = (o: Obj, k: string, v: unknown) => {
  if (o[k] === undefined || o[k] === null) o[k] = v;
};
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** imagePullPolicy: Always for `:latest` or untagged images, IfNotPresent otherwise. */
export const defaultPullPolicy = (image: unknown): string => {
  if (typeof image !== "string") return "IfNotPresent";
  if (image.includes("@")) return "IfNotPresent";
  const last = image.split("/").pop() ?? "";
  const tag = last.includes(":") ? last.slice(last.lastIndexOf(":") + 1) : "";
  return tag === "" || tag === "latest" ? "Always" : "IfNotPresent";
};

const defaultProbe = (p: unknown) => {
  if (!isObj(p)) return;
  setDefault(p, "timeoutSeconds", 1);
  setDefault(p, "periodSeconds", 10);
  setDefault(p, "successThreshold", 1);
  setDefault(p, "failureThreshold", 3);
  if (isObj(p.httpGet)) setDefault(p.httpGet, "scheme", "HTTP");
  if (isObj(p.httpGet)) setDefault(p.httpGet, "path", "/");
};

const defaultContainer = (c: Obj) => {
  if (!c.imagePullPolicy) c.imagePullPolicy = defaultPullPolicy(c.image);
  setDefault(c, "terminationMessagePath", "/dev/termination-log");
  setDefault(c, "terminationMessagePolicy", "File");
  setDefault(c, "resources", {});
  for (const p of list(c.ports)) setDefault(p, "protocol", "TCP");
  for (const e of list(c.env)) {
    if (isObj(e.valueFrom) && isObj(e.valueFrom.fieldRef)) setDefault(e.valueFrom.fieldRef, "apiVersion", "v1");
  }
  if (isObj(c.resources) && isObj(c.resources.limits)) {
    // requests default to limits, per resource
    const req = isObj(c.resources.requests) ? c.resources.requests : {};
    for (const [k, v] of Object.entries(c.resources.limits)) if (req[k] === undefined) req[k] = v;
    if (Object.keys(req).length) c.resources.requests = req;
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
};

/** Pod spec defaults (a Pod's spec, or a workload's spec.template.spec). */
export const defaultPodSpec = (spec: unknown): void => {
  if (!isObj(spec)) return;
  setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "schedulerName", "default-scheduler");
  setDefault(spec, "securityContext", {});
  setDefault(spec, "enableServiceLinks", true);
  setDefault(spec, "preemptionPolicy", "PreemptLowerPriority");
  setDefault(spec, "priority", 0);
  if (spec.serviceAccountName && !spec.serviceAccount) spec.serviceAccount = spec.serviceAccountName;
  for (const c of [...list(spec.containers), ...list(spec.initContainers)]) defaultContainer(c);
  for (const v of list(spec.volumes)) {
    if (isObj(v.configMap)) setDefault(v.configMap, "defaultMode", 420);
    if (isObj(v.secret)) setDefault(v.secret, "defaultMode", 420);
    if (isObj(v.hostPath)) setDefault(v.hostPath, "type", "");
  }
};

const defaultTemplate = (spec: Obj) => {
  if (isObj(spec.template)) defaultPodSpec(spec.template.spec);
};

export const applyDefaults = (info: ResourceInfo, obj: KObject): void => {
  const spec = obj.spec;
  switch (info.kind) {
    case "Pod":
      defaultPodSpec(spec);
      break;
    case "Deployment":
      if (!isObj(spec)) break;
      setDefault(spec, "replicas", 1);
      setDefault(spec, "strategy", { type: "RollingUpdate" });
      if (isObj(spec.strategy)) {
        setDefault(spec.strategy, "type", "RollingUpdate");
        if (spec.strategy.type === "RollingUpdate") {
          setDefault(spec.strategy, "rollingUpdate", {});
          if (isObj(spec.strategy.rollingUpdate)) {
            setDefault(spec.strategy.rollingUpdate, "maxSurge", "25%");
            setDefault(spec.strategy.rollingUpdate, "maxUnavailable", "25%");
          }
        }
      }
      setDefault(spec, "revisionHistoryLimit", 10);
      setDefault(spec, "progressDeadlineSeconds", 600);
      defaultTemplate(spec);
      break;
    case "ReplicaSet":
      if (!isObj(spec)) break;
      setDefault(spec, "replicas", 1);
      defaultTemplate(spec);
      break;
    case "ReplicationController": {
      if (!isObj(spec)) break;
      setDefault(spec, "replicas", 1);
      const labels = isObj(spec.template) && isObj(spec.template.metadata) && isObj(spec.template.metadata.labels) ? spec.template.metadata.labels : undefined;
      if (labels && (!isObj(spec.selector) || !Object.keys(spec.selector).length)) spec.selector = { ...labels };
      if (labels && (!isObj(obj.metadata.labels) || !Object.keys(obj.metadata.labels).length)) obj.metadata.labels = { ...labels };
      defaultTemplate(spec);
      break;
    }
    case "Service": {
      if (!isObj(spec)) break;
      setDefault(spec, "type", "ClusterIP");
      if (spec.type !== "ExternalName") {
        setDefault(spec, "sessionAffinity", "None");
        setDefault(spec, "ipFamilyPolicy", "SingleStack");
        setDefault(spec, "ipFamilies", ["IPv4"]);
        setDefault(spec, "internalTrafficPolicy", "Cluster");
      }
      if (spec.type === "NodePort" || spec.type === "LoadBalancer") setDefault(spec, "externalTrafficPolicy", "Cluster");
      for (const p of list(spec.ports)) {
        setDefault(p, "protocol", "TCP");
        if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === "") p.targetPort = p.port;
      }
      break;
    }
    case "Secret":
      if (obj.type === undefined || obj.type === "") obj.type = "Opaque";
      break;
    default:
      break;
  }
};
