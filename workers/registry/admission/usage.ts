/**
 * Quota usage, as kube's quota evaluators count it (pkg/quota/v1/evaluator/core and the
 * generic object-count evaluator): what one object uses of each quota resource, which
 * objects a quota's scopes match, and the ResourceList arithmetic (quota.Add, Mask,
 * LessThanOrEqual) on exact quantities. Pure code: the admission (quota.ts) and the
 * resource quota controller (workers/controllers/resourcequota.ts) share it.
 */
import { formatQuantity, isQuantity, milliExact } from "../../../shared/quantity";
import type { KObject } from "../../../shared/types";

export type ResourceList = Record<string, string>;

// ---------------------------------------------------------------- arithmetic

const BINARY = /[KMGTPE]i$/;

/** A quantity's canonical text (Quantity.String()): "0.5" → "500m", "1.5Gi" → "1536Mi". */
export const canonical = (q: string | number): string => formatQuantity(q, BINARY.test(String(q)) ? "BinarySI" : "DecimalSI");

const milli = (q: string | number | undefined): bigint => (q === undefined || !isQuantity(q) ? 0n : milliExact(q));

/** a + b in `like`'s format (Quantity.Add: the receiver's format, or the addend's when the receiver is zero). */
const addOne = (a: string | undefined, b: string, sign: 1n | -1n = 1n): string => {
  const fmtOf = a !== undefined && milli(a) !== 0n ? a : b;
  const sum = milli(a) + sign * milli(b);
  return formatQuantity(`${sum}m`, BINARY.test(String(fmtOf)) ? "BinarySI" : "DecimalSI");
};

/** quota.Add: every key of either list, summed. */
export const add = (a: ResourceList, b: ResourceList): ResourceList => {
  const out: ResourceList = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = addOne(a[k], v);
  return out;
};

/** quota.Subtract: a's keys less b's (keys only in b are left out). */
export const subtract = (a: ResourceList, b: ResourceList): ResourceList => {
  const out: ResourceList = { ...a };
  for (const [k, v] of Object.entries(b)) if (k in a) out[k] = addOne(a[k], v, -1n);
  return out;
};

/** quota.Max: each key's larger value. */
export const max = (a: ResourceList, b: ResourceList): ResourceList => {
  const out: ResourceList = { ...a };
  for (const [k, v] of Object.entries(b)) if (!(k in a) || milli(v) > milli(a[k])) out[k] = String(v);
  return out;
};

/** quota.Mask: only the named keys. */
export const mask = (list: ResourceList, names: Iterable<string>): ResourceList => {
  const out: ResourceList = {};
  for (const n of names) if (n in list) out[n] = list[n];
  return out;
};

/** quota.RemoveZeros. */
export const removeZeros = (list: ResourceList): ResourceList => Object.fromEntries(Object.entries(list).filter(([, v]) => milli(v) !== 0n));

/** quota.LessThanOrEqual: every key of a that hard names is ≤ it; the keys that are not. */
export const exceeded = (a: ResourceList, hard: ResourceList): string[] =>
  Object.keys(a)
    .filter((k) => k in hard && milli(a[k]) > milli(hard[k]))
    .sort();

/** Same usage, key for key (values compared as quantities). */
export const sameUsage = (a: ResourceList, b: ResourceList): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => k in b && milli(a[k]) === milli(b[k]));
};

/** prettyPrint: `k=v` sorted by key, joined by commas. */
export const prettyPrint = (list: ResourceList): string =>
  Object.keys(list)
    .sort()
    .map((k) => `${k}=${canonical(list[k])}`)
    .join(",");

/** The canonical form of a list's quantities (hard as the controller stores it). */
export const canonicalList = (list: ResourceList): ResourceList =>
  Object.fromEntries(Object.entries(list).map(([k, v]) => [k, isQuantity(v) ? canonical(v) : String(v)]));

// ---------------------------------------------------------------- what objects use

/** The object-count name of a resource: count/pods, count/deployments.apps. */
export const countName = (resource: string, group: string) => (group ? `count/${resource}.${group}` : `count/${resource}`);

/** The legacy names that count objects (quota resources before count/<resource>). */
const LEGACY_COUNTS: Record<string, string> = {
  configmaps: "configmaps",
  secrets: "secrets",
  replicationcontrollers: "replicationcontrollers",
  resourcequotas: "resourcequotas",
  services: "services",
  persistentvolumeclaims: "persistentvolumeclaims",
};

const STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/";
const COMPUTE = ["cpu", "memory", "ephemeral-storage"];
const isHugePages = (n: string) => n.startsWith("hugepages-");
const isExtended = (n: string) => n.includes("/") && !n.includes("kubernetes.io/");

/** Does the pod count for compute quota (QuotaV1Pod): not terminal, and not past its deletion grace period. */
export const podCounts = (pod: KObject, now: Date): boolean => {
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return false;
  const del = pod.metadata.deletionTimestamp;
  if (del) {
    const grace = Number(pod.metadata.deletionGracePeriodSeconds ?? 0);
    if (now.getTime() > Date.parse(del) + grace * 1000) return false;
  }
  return true;
};

/** When a pod being deleted stops counting (ms), or undefined. */
export const podStopsCountingAt = (pod: KObject): number | undefined => {
  const del = pod.metadata.deletionTimestamp;
  return del ? Date.parse(del) + Number(pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000 : undefined;
};

const containers = (pod: KObject): any[] => (Array.isArray(pod.spec?.containers) ? pod.spec.containers : []);
const initContainers = (pod: KObject): any[] => (Array.isArray(pod.spec?.initContainers) ? pod.spec.initContainers : []);
const list = (v: unknown): ResourceList => (v && typeof v === "object" && !Array.isArray(v) ? (v as ResourceList) : {});

/** The pod's requests and limits: the sum over its containers, at least each init container's (and the overhead). */
export const podRequestsLimits = (pod: KObject): { requests: ResourceList; limits: ResourceList } => {
  let requests: ResourceList = {};
  let limits: ResourceList = {};
  for (const c of containers(pod)) {
    requests = add(requests, list(c?.resources?.requests));
    limits = add(limits, list(c?.resources?.limits));
  }
  for (const c of initContainers(pod)) {
    requests = max(requests, list(c?.resources?.requests));
    limits = max(limits, list(c?.resources?.limits));
  }
  requests = add(requests, list(pod.spec?.overhead));
  limits = add(limits, list(pod.spec?.overhead));
  return { requests, limits };
};

/** podComputeUsageHelper: pods, cpu/requests.cpu/limits.cpu, the same for memory and ephemeral storage, hugepages, extended requests. */
export const computeUsage = (requests: ResourceList, limits: ResourceList): ResourceList => {
  const out: ResourceList = { pods: "1" };
  for (const r of COMPUTE) {
    if (r in requests) {
      out[r] = requests[r];
      out[`requests.${r}`] = requests[r];
    }
    if (r in limits) out[`limits.${r}`] = limits[r];
  }
  for (const [r, q] of Object.entries(requests)) {
    if (isHugePages(r)) {
      out[r] = q;
      out[`requests.${r}`] = q;
    } else if (isExtended(r)) out[`requests.${r}`] = q;
  }
  return out;
};

/** What a pod uses: count/pods always; pods and compute resources while it counts. */
export const podUsage = (pod: KObject, now: Date): ResourceList => {
  const out: ResourceList = { "count/pods": "1" };
  if (!podCounts(pod, now)) return out;
  const { requests, limits } = podRequestsLimits(pod);
  return { ...out, ...computeUsage(requests, limits) };
};

const serviceUsage = (svc: KObject): ResourceList => {
  const ports = Array.isArray(svc.spec?.ports) ? svc.spec.ports : [];
  const out: ResourceList = { "count/services": "1", services: "1", "services.loadbalancers": "0", "services.nodeports": "0" };
  if (svc.spec?.type === "NodePort") out["services.nodeports"] = String(ports.length);
  if (svc.spec?.type === "LoadBalancer") {
    const n = svc.spec?.allocateLoadBalancerNodePorts === false ? ports.filter((p: any) => p?.nodePort).length : ports.length;
    out["services.nodeports"] = String(n);
    out["services.loadbalancers"] = "1";
  }
  return out;
};

const claimClass = (pvc: KObject): string =>
  typeof pvc.spec?.storageClassName === "string" ? pvc.spec.storageClassName : (pvc.metadata.annotations?.["volume.beta.kubernetes.io/storage-class"] ?? "");

const claimUsage = (pvc: KObject): ResourceList => {
  const out: ResourceList = { persistentvolumeclaims: "1", "count/persistentvolumeclaims": "1" };
  const cls = claimClass(pvc);
  if (cls) out[`${cls}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`] = "1";
  const req = pvc.spec?.resources?.requests?.storage;
  const alloc = pvc.status?.allocatedResources?.storage;
  const storage = isQuantity(alloc) && (!isQuantity(req) || milli(alloc) > milli(req)) ? alloc : isQuantity(req) ? req : undefined;
  if (storage !== undefined) {
    out["requests.storage"] = String(storage);
    if (cls) out[`${cls}${STORAGE_CLASS_SUFFIX}requests.storage`] = String(storage);
  }
  return out;
};

/** What one object of `resource` (in `group`) uses. */
export const usageOf = (resource: string, group: string, obj: KObject, now: Date): ResourceList => {
  if (group === "") {
    if (resource === "pods") return podUsage(obj, now);
    if (resource === "services") return serviceUsage(obj);
    if (resource === "persistentvolumeclaims") return claimUsage(obj);
  }
  const out: ResourceList = { [countName(resource, group)]: "1" };
  if (group === "" && LEGACY_COUNTS[resource]) out[LEGACY_COUNTS[resource]] = "1";
  return out;
};

/** Whether a quota resource name is one `resource` objects can use (MatchingResources). */
export const tracks = (resource: string, group: string, name: string): boolean => {
  if (name === countName(resource, group)) return true;
  if (group !== "") return false;
  switch (resource) {
    case "pods":
      return (
        name === "pods" ||
        COMPUTE.some((r) => name === r || name === `requests.${r}` || name === `limits.${r}`) ||
        isHugePages(name) ||
        name.startsWith("requests.hugepages-") ||
        (name.startsWith("requests.") && isExtended(name.slice(9)))
      );
    case "services":
      return name === "services" || name === "services.nodeports" || name === "services.loadbalancers";
    case "persistentvolumeclaims":
      return (
        name === "persistentvolumeclaims" ||
        name === "requests.storage" ||
        (name.includes(STORAGE_CLASS_SUFFIX) && (name.endsWith("/persistentvolumeclaims") || name.endsWith("/requests.storage")))
      );
    default:
      return LEGACY_COUNTS[resource] === name;
  }
};

/** The resources whose objects a quota's hard names need counted (for the controller): [resource, group] pairs. */
export const resourcesOf = (hard: ResourceList): { resource: string; group: string }[] => {
  const out = new Map<string, { resource: string; group: string }>();
  const put = (resource: string, group = "") => out.set(`${resource}.${group}`, { resource, group });
  for (const name of Object.keys(hard)) {
    if (name.startsWith("count/")) {
      const rg = name.slice(6);
      const dot = rg.indexOf(".");
      if (dot < 0) put(rg);
      else put(rg.slice(0, dot), rg.slice(dot + 1));
    } else if (tracks("pods", "", name)) put("pods");
    else if (tracks("services", "", name)) put("services");
    else if (tracks("persistentvolumeclaims", "", name)) put("persistentvolumeclaims");
    else if (Object.values(LEGACY_COUNTS).includes(name)) put(name);
  }
  return [...out.values()];
};

// ---------------------------------------------------------------- scopes

export interface ScopeRequirement {
  scopeName: string;
  operator: string;
  values?: string[];
}

/** The quota's scopes and scopeSelector as requirements (scopes mean Exists). */
export const scopeRequirements = (quota: KObject): ScopeRequirement[] => [
  ...(Array.isArray(quota.spec?.scopes) ? quota.spec.scopes : []).map((s: string) => ({ scopeName: s, operator: "Exists" })),
  ...(Array.isArray(quota.spec?.scopeSelector?.matchExpressions) ? quota.spec.scopeSelector.matchExpressions : []),
];

const COMPUTE_QOS = ["cpu", "memory"];
/** QoS BestEffort: no container names a cpu or memory request or limit. */
export const isBestEffort = (pod: KObject): boolean =>
  [...containers(pod), ...initContainers(pod)].every((c) =>
    COMPUTE_QOS.every((r) => list(c?.resources?.requests)[r] === undefined && list(c?.resources?.limits)[r] === undefined),
  );

const isTerminating = (pod: KObject) => typeof pod.spec?.activeDeadlineSeconds === "number" && pod.spec.activeDeadlineSeconds >= 0;

const crossNamespaceAffinity = (pod: KObject): boolean => {
  const terms = (a: any) => [
    ...(a?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(a?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w: any) => w?.podAffinityTerm),
  ];
  return [...terms(pod.spec?.affinity?.podAffinity), ...terms(pod.spec?.affinity?.podAntiAffinity)].some(
    (t: any) => t && ((Array.isArray(t.namespaces) && t.namespaces.length > 0) || t.namespaceSelector),
  );
};

const podMatches = (pod: KObject, r: ScopeRequirement): boolean => {
  switch (r.scopeName) {
    case "Terminating":
      return isTerminating(pod);
    case "NotTerminating":
      return !isTerminating(pod);
    case "BestEffort":
      return isBestEffort(pod);
    case "NotBestEffort":
      return !isBestEffort(pod);
    case "CrossNamespacePodAffinity":
      return crossNamespaceAffinity(pod);
    case "PriorityClass": {
      const pc = typeof pod.spec?.priorityClassName === "string" ? pod.spec.priorityClassName : "";
      const values = r.values ?? [];
      if (r.operator === "Exists") return pc !== "";
      if (r.operator === "DoesNotExist") return pc === "";
      if (r.operator === "In") return values.includes(pc);
      if (r.operator === "NotIn") return !values.includes(pc);
      return false;
    }
    default:
      return false;
  }
};

/** Does the quota track this object at all: unscoped quotas track everything; scoped ones only pods in all their scopes. */
export const quotaMatches = (quota: KObject, resource: string, group: string, obj: KObject): boolean => {
  const reqs = scopeRequirements(quota);
  if (reqs.length === 0) return true;
  if (resource !== "pods" || group !== "") return false;
  return reqs.every((r) => podMatches(obj, r));
};

// ---------------------------------------------------------------- constraints

const VALIDATION_SET = ["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"];

/**
 * The pod evaluator's Constraints: when a quota tracks cpu or memory, every container
 * must name them (`must specify limits.cpu for: app; requests.memory for: app,side`).
 */
export const podConstraints = (pod: KObject, required: string[]): string | undefined => {
  const need = required.filter((r) => VALIDATION_SET.includes(r));
  if (need.length === 0) return undefined;
  const missing = new Map<string, Set<string>>();
  for (const c of [...containers(pod), ...initContainers(pod)]) {
    const usage = computeUsage(list(c?.resources?.requests), list(c?.resources?.limits));
    for (const r of need) if (!(r in usage)) (missing.get(r) ?? missing.set(r, new Set()).get(r)!).add(String(c?.name ?? ""));
  }
  if (missing.size === 0) return undefined;
  const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(",")}`);
  return `must specify ${parts.join("; ")}`;
};
