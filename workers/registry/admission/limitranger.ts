/**
 * The LimitRanger admission plugin (plugin/pkg/admission/limitranger), pure: a
 * namespace's LimitRanges give containers that name no limit or request the range's
 * `default` and `defaultRequest` (recording what was set in the
 * `kubernetes.io/limit-ranger` annotation), then each container, each pod and each
 * claim must keep within min, max and maxLimitRequestRatio. Refusals are worded as
 * kube's: `maximum cpu usage per Container is 1, but limit is 2`.
 */
import { isQuantity, milliExact } from "../../../shared/quantity";
import type { KObject } from "../../../shared/types";
import { add, canonical, max, type ResourceList } from "./usage";

export const LIMIT_RANGER_ANNOTATION = "kubernetes.io/limit-ranger";

const list = (v: unknown): ResourceList => (v && typeof v === "object" && !Array.isArray(v) ? (v as ResourceList) : {});
const items = (lr: KObject): any[] => (Array.isArray(lr.spec?.limits) ? lr.spec.limits.filter((l: any) => l && typeof l === "object") : []);
const milli = (q: string) => (isQuantity(q) ? milliExact(q) : 0n);
const sortedEntries = (l: ResourceList) => Object.entries(l).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** defaultContainerResourceRequirements: the Container items' default (limits) and defaultRequest (requests). */
const containerDefaults = (lr: KObject): { limits: ResourceList; requests: ResourceList } => {
  const limits: ResourceList = {};
  const requests: ResourceList = {};
  for (const l of items(lr)) {
    if (l.type !== "Container") continue;
    Object.assign(requests, list(l.defaultRequest));
    Object.assign(limits, list(l.default));
  }
  return { limits, requests };
};

const mergeContainer = (c: any, d: { limits: ResourceList; requests: ResourceList }, prefix: string, notes: string[]) => {
  if (!c || typeof c !== "object") return;
  c.resources = c.resources && typeof c.resources === "object" ? c.resources : {};
  const limits = (c.resources.limits = list(c.resources.limits));
  const requests = (c.resources.requests = list(c.resources.requests));
  const setLimits: string[] = [];
  const setRequests: string[] = [];
  for (const [k, v] of Object.entries(d.limits)) {
    if (limits[k] === undefined) {
      limits[k] = v;
      setLimits.push(k);
    }
  }
  for (const [k, v] of Object.entries(d.requests)) {
    if (requests[k] === undefined) {
      requests[k] = v;
      setRequests.push(k);
    }
  }
  if (setRequests.length) notes.push(`${setRequests.sort().join(", ")} request for ${prefix} ${c.name}`);
  if (setLimits.length) notes.push(`${setLimits.sort().join(", ")} limit for ${prefix} ${c.name}`);
};

/** PodMutateLimitFunc for each of the namespace's LimitRanges: defaults in, and the annotation saying which. */
export const applyLimitDefaults = (pod: KObject, ranges: KObject[]): void => {
  for (const lr of ranges) {
    const d = containerDefaults(lr);
    if (!Object.keys(d.limits).length && !Object.keys(d.requests).length) continue;
    const notes: string[] = [];
    for (const c of Array.isArray(pod.spec?.containers) ? pod.spec.containers : []) mergeContainer(c, d, "container", notes);
    for (const c of Array.isArray(pod.spec?.initContainers) ? pod.spec.initContainers : []) mergeContainer(c, d, "init container", notes);
    if (notes.length) {
      pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join("; ")}` };
    }
  }
};

// ---------------------------------------------------------------- constraints

const minConstraint = (type: string, r: string, enforced: string, requests: ResourceList, limits: ResourceList): string | undefined => {
  const req = requests[r];
  const lim = limits[r];
  const e = canonical(enforced);
  if (req === undefined) return `minimum ${r} usage per ${type} is ${e}.  No request is specified`;
  if (milli(req) < milli(enforced)) return `minimum ${r} usage per ${type} is ${e}, but request is ${canonical(req)}`;
  if (lim !== undefined && milli(lim) < milli(enforced)) return `minimum ${r} usage per ${type} is ${e}, but limit is ${canonical(lim)}`;
  return undefined;
};

const maxConstraint = (type: string, r: string, enforced: string, requests: ResourceList, limits: ResourceList): string | undefined => {
  const req = requests[r];
  const lim = limits[r];
  const e = canonical(enforced);
  if (lim === undefined) return `maximum ${r} usage per ${type} is ${e}.  No limit is specified`;
  if (milli(lim) > milli(enforced)) return `maximum ${r} usage per ${type} is ${e}, but limit is ${canonical(lim)}`;
  if (req !== undefined && milli(req) > milli(enforced)) return `maximum ${r} usage per ${type} is ${e}, but request is ${canonical(req)}`;
  return undefined;
};

const maxRequestConstraint = (type: string, r: string, enforced: string, requests: ResourceList): string | undefined => {
  const req = requests[r];
  const e = canonical(enforced);
  if (req === undefined) return `maximum ${r} usage per ${type} is ${e}.  No request is specified`;
  if (milli(req) > milli(enforced)) return `maximum ${r} usage per ${type} is ${e}, but request is ${canonical(req)}`;
  return undefined;
};

const ratioConstraint = (type: string, r: string, enforced: string, requests: ResourceList, limits: ResourceList): string | undefined => {
  const req = requests[r] === undefined ? 0n : milli(requests[r]);
  const lim = limits[r] === undefined ? 0n : milli(limits[r]);
  const e = canonical(enforced);
  if (req === 0n) return `${r} max limit to request ratio per ${type} is ${e}, but no request is specified or request is 0`;
  if (lim === 0n) return `${r} max limit to request ratio per ${type} is ${e}, but no limit is specified or limit is 0`;
  const ratio = Number(lim) / Number(req);
  if (ratio * 1000 > Number(milli(enforced))) return `${r} max limit to request ratio per ${type} is ${e}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
};

const checkAll = (l: any, type: string, requests: ResourceList, limits: ResourceList, errs: string[]) => {
  for (const [r, q] of sortedEntries(list(l.min))) errs.push(minConstraint(type, r, q, requests, limits) ?? "");
  for (const [r, q] of sortedEntries(list(l.max))) errs.push(maxConstraint(type, r, q, requests, limits) ?? "");
  for (const [r, q] of sortedEntries(list(l.maxLimitRequestRatio))) errs.push(ratioConstraint(type, r, q, requests, limits) ?? "");
};

/** utilerrors.NewAggregate's text: one message alone, several (deduplicated) in brackets. */
const aggregate = (errs: string[]): string | undefined => {
  const uniq = [...new Set(errs.filter(Boolean))];
  if (uniq.length === 0) return undefined;
  return uniq.length === 1 ? uniq[0] : `[${uniq.join(", ")}]`;
};

/** The pod's requests and limits as the Pod type sees them: containers summed, at least each init container's. */
const podTotals = (pod: KObject) => {
  let requests: ResourceList = {};
  let limits: ResourceList = {};
  for (const c of Array.isArray(pod.spec?.containers) ? pod.spec.containers : []) {
    requests = add(requests, list(c?.resources?.requests));
    limits = add(limits, list(c?.resources?.limits));
  }
  for (const c of Array.isArray(pod.spec?.initContainers) ? pod.spec.initContainers : []) {
    requests = max(requests, list(c?.resources?.requests));
    limits = max(limits, list(c?.resources?.limits));
  }
  return { requests, limits };
};

/** PodValidateLimitFunc for one LimitRange: the aggregated refusal, or undefined. */
export const podLimitError = (pod: KObject, lr: KObject): string | undefined => {
  const errs: string[] = [];
  for (const l of items(lr)) {
    if (l.type === "Container") {
      for (const c of [
        ...(Array.isArray(pod.spec?.containers) ? pod.spec.containers : []),
        ...(Array.isArray(pod.spec?.initContainers) ? pod.spec.initContainers : []),
      ]) {
        checkAll(l, "Container", list(c?.resources?.requests), list(c?.resources?.limits), errs);
      }
    } else if (l.type === "Pod") {
      const t = podTotals(pod);
      checkAll(l, "Pod", t.requests, t.limits, errs);
    }
  }
  return aggregate(errs);
};

/** PersistentVolumeClaimValidateLimitFunc: min and max on the claim's requests. */
export const claimLimitError = (pvc: KObject, lr: KObject): string | undefined => {
  const errs: string[] = [];
  const requests = list(pvc.spec?.resources?.requests);
  for (const l of items(lr)) {
    if (l.type !== "PersistentVolumeClaim") continue;
    for (const [r, q] of sortedEntries(list(l.min))) errs.push(minConstraint("PersistentVolumeClaim", r, q, requests, {}) ?? "");
    for (const [r, q] of sortedEntries(list(l.max))) errs.push(maxRequestConstraint("PersistentVolumeClaim", r, q, requests) ?? "");
  }
  return aggregate(errs);
};

/** The first LimitRange's refusal of the object (kube stops at the first range that refuses). */
export const limitError = (resource: string, obj: KObject, ranges: KObject[]): string | undefined => {
  for (const lr of ranges) {
    const e = resource === "pods" ? podLimitError(obj, lr) : resource === "persistentvolumeclaims" ? claimLimitError(obj, lr) : undefined;
    if (e) return e;
  }
  return undefined;
};
