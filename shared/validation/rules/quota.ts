/**
 * LimitRange and ResourceQuota rules, as kube-apiserver's ValidateLimitRange and
 * ValidateResourceQuota word them.
 */
import { compareQuantities, formatQuantity, isQuantity, milliValue, parseQuantity, value } from "../../quantity";
import { type Causes, child, index, key } from "../causes";
import { isQualifiedName } from "../names";
import { arr, isObj, type Obj, obj, str } from "./json";

const STANDARD_LIMIT_TYPES = ["Container", "Pod", "PersistentVolumeClaim"];
const STANDARD_CONTAINER_RESOURCES = ["cpu", "memory", "ephemeral-storage"];
/** Quota resources whose amounts must be whole numbers; the standard ones are these and the compute resources. */
const INTEGER_QUOTA_RESOURCES = new Set([
  "pods",
  "services",
  "replicationcontrollers",
  "resourcequotas",
  "secrets",
  "configmaps",
  "persistentvolumeclaims",
  "services.nodeports",
  "services.loadbalancers",
]);
const STANDARD_QUOTA_RESOURCES = new Set([
  ...INTEGER_QUOTA_RESOURCES,
  "cpu",
  "memory",
  "ephemeral-storage",
  "requests.cpu",
  "requests.memory",
  "requests.storage",
  "requests.ephemeral-storage",
  "limits.cpu",
  "limits.memory",
  "limits.ephemeral-storage",
]);
const POD_SCOPED_RESOURCES = new Set(["pods", "cpu", "memory", "limits.cpu", "limits.memory", "requests.cpu", "requests.memory"]);
const SCOPES = ["Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass", "CrossNamespacePodAffinity"];
const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"];

const isHugePages = (n: string) => n.startsWith("hugepages-");
const isNative = (n: string) => !n.includes("/") || n.includes("kubernetes.io/");
const isExtended = (n: string) => !isNative(n) && !n.startsWith("requests.") && isQualifiedName(`requests.${n}`).length === 0;
/** Quantity.String(): the canonical text. */
const qs = (q: unknown) => formatQuantity(String(q), /[KMGTPE]i$/.test(String(q)) ? "BinarySI" : "DecimalSI");

const validateResourceName = (name: string, f: string, c: Causes) => c.invalidEach(f, name, isQualifiedName(name));

const validateContainerResourceName = (name: string, f: string, c: Causes) => {
  validateResourceName(name, f, c);
  if (!name.includes("/")) {
    if (!STANDARD_CONTAINER_RESOURCES.includes(name) && !isHugePages(name)) c.invalid(f, name, "must be a standard resource for containers");
  } else if (!isNative(name) && !isExtended(name)) {
    c.invalid(f, name, "doesn't follow extended resource name standard");
  }
};

/** ValidateResourceQuantityValue: not negative; whole numbers for counted resources. */
const validateQuantityValue = (q: unknown, f: string, c: Causes, integer: boolean) => {
  if (!isQuantity(q)) return; // a type error already
  if (parseQuantity(q as string) < 0) c.invalid(f, String(q), "must be greater than or equal to 0");
  if (integer && milliValue(q as string) % 1000 !== 0) c.invalid(f, String(q), "must be an integer");
};

const isIntegerQuotaResource = (name: string) => INTEGER_QUOTA_RESOURCES.has(name) || name.startsWith("count/") || isExtended(name);

// ---------------------------------------------------------------- LimitRange

export const validateLimitRange = (o: Obj, c: Causes) => {
  const base = "spec.limits";
  const seen = new Set<string>();
  arr(obj(o.spec).limits).forEach((item, i) => {
    if (!isObj(item)) return;
    const p = index(base, i);
    const type = str(item.type);
    if (seen.has(type)) c.duplicate(child(p, "type"), type);
    seen.add(type);
    // validateLimitRangeTypeName
    const typeErrs = isQualifiedName(type);
    c.invalidEach(child(p, "type"), type, typeErrs);
    if (!typeErrs.length && !type.includes("/") && !STANDARD_LIMIT_TYPES.includes(type))
      c.invalid(child(p, "type"), type, "must be a standard limit type or fully qualified");
    const lists: Record<string, Obj> = {};
    const keys = new Set<string>();
    for (const field of ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"]) {
      lists[field] = obj(item[field]);
      for (const [k, q] of Object.entries(lists[field])) {
        const kf = key(child(p, field), k);
        if (type === "Container" || type === "Pod") validateContainerResourceName(k, kf, c);
        else validateResourceName(k, kf, c);
        keys.add(k);
        validateQuantityValue(q, kf, c, false);
      }
    }
    if (type === "Pod") {
      if (Object.keys(lists.default).length) c.forbidden(child(p, "default"), "may not be specified when `type` is 'Pod'");
      if (Object.keys(lists.defaultRequest).length) c.forbidden(child(p, "defaultRequest"), "may not be specified when `type` is 'Pod'");
    }
    if (type === "PersistentVolumeClaim" && lists.min.storage === undefined && lists.max.storage === undefined) {
      c.required(child(p, "limits"), "either minimum or maximum storage value is required, but neither was provided");
    }
    for (const k of [...keys].sort()) {
      const get = (field: string) => (isQuantity(lists[field][k]) ? (lists[field][k] as string) : undefined);
      const [min, maxq, def, defReq, ratio] = ["min", "max", "default", "defaultRequest", "maxLimitRequestRatio"].map(get);
      const gt = (a: string, b: string) => compareQuantities(a, b) > 0;
      if (min !== undefined && maxq !== undefined && gt(min, maxq))
        c.invalid(key(child(p, "min"), k), String(min), `min value ${qs(min)} is greater than max value ${qs(maxq)}`);
      if (defReq !== undefined && min !== undefined && gt(min, defReq))
        c.invalid(key(child(p, "defaultRequest"), k), String(defReq), `min value ${qs(min)} is greater than default request value ${qs(defReq)}`);
      if (defReq !== undefined && maxq !== undefined && gt(defReq, maxq))
        c.invalid(key(child(p, "defaultRequest"), k), String(defReq), `default request value ${qs(defReq)} is greater than max value ${qs(maxq)}`);
      if (defReq !== undefined && def !== undefined && gt(defReq, def))
        c.invalid(key(child(p, "defaultRequest"), k), String(defReq), `default request value ${qs(defReq)} is greater than default limit value ${qs(def)}`);
      if (def !== undefined && min !== undefined && gt(min, def))
        c.invalid(key(child(p, "default"), k), String(min), `min value ${qs(min)} is greater than default value ${qs(def)}`);
      if (def !== undefined && maxq !== undefined && gt(def, maxq))
        c.invalid(key(child(p, "default"), k), String(maxq), `default value ${qs(def)} is greater than max value ${qs(maxq)}`);
      if (ratio !== undefined && compareQuantities(ratio, 1) < 0)
        c.invalid(key(child(p, "maxLimitRequestRatio"), k), String(ratio), `ratio ${qs(ratio)} is less than 1`);
      if (ratio !== undefined && min !== undefined && maxq !== undefined && milliValue(min) > 0) {
        const limit = value(maxq) < 2 ** 53 / 1000 ? milliValue(maxq) / milliValue(min) : value(maxq) / value(min);
        if (milliValue(ratio) / 1000 > limit)
          c.invalid(key(child(p, "maxLimitRequestRatio"), k), String(ratio), `ratio ${qs(ratio)} is greater than max/min = ${limit.toFixed(6)}`);
      }
    }
  });
};

// ---------------------------------------------------------------- ResourceQuota

const validateQuotaResourceName = (name: string, f: string, c: Causes) => {
  validateResourceName(name, f, c);
  if (!name.includes("/") && !STANDARD_QUOTA_RESOURCES.has(name) && !isHugePages(name) && !name.startsWith("requests.hugepages-"))
    c.invalid(f, name, "must be a standard resource for quota");
};

const validateResourceList = (list: unknown, f: string, c: Causes) => {
  for (const [k, q] of Object.entries(obj(list))) {
    validateQuotaResourceName(k, key(f, k), c);
    validateQuantityValue(q, key(f, k), c, isIntegerQuotaResource(k));
  }
};

const validScopeForResource = (scope: string, resource: string) =>
  scope === "BestEffort" ? resource === "pods" : SCOPES.includes(scope) ? POD_SCOPED_RESOURCES.has(resource) : false;

export const validateResourceQuota = (o: Obj, c: Causes) => {
  const spec = obj(o.spec);
  validateResourceList(spec.hard, "spec.hard", c);
  const status = obj(o.status);
  validateResourceList(status.hard, "status.hard", c);
  validateResourceList(status.used, "status.used", c);
  const scopes = arr(spec.scopes).map(String);
  const hard = Object.keys(obj(spec.hard)).sort();
  if (scopes.length) {
    const f = "spec.scopes";
    for (const s of scopes) {
      if (!SCOPES.includes(s)) c.invalid(f, spec.scopes, "unsupported scope");
      for (const r of hard)
        if (STANDARD_QUOTA_RESOURCES.has(r) && !validScopeForResource(s, r)) c.invalid(f, spec.scopes, "unsupported scope applied to resource");
    }
    if (scopes.includes("BestEffort") && scopes.includes("NotBestEffort")) c.invalid(f, spec.scopes, "conflicting scopes");
    if (scopes.includes("Terminating") && scopes.includes("NotTerminating")) c.invalid(f, spec.scopes, "conflicting scopes");
  }
  const exprs = arr(obj(spec.scopeSelector).matchExpressions);
  const selScopes: string[] = [];
  exprs.forEach((e, i) => {
    if (!isObj(e)) return;
    const f = index("spec.scopeSelector.matchExpressions", i);
    const scope = str(e.scopeName);
    const op = str(e.operator);
    const values = arr(e.values);
    if (!SCOPES.includes(scope)) c.invalid(child(f, "scopeName"), scope, "unsupported scope");
    if (!OPERATORS.includes(op)) c.invalid(child(f, "operator"), op, "not a valid selector operator");
    if (["Terminating", "NotTerminating", "BestEffort", "NotBestEffort"].includes(scope) && op !== "Exists") {
      c.invalid(
        child(f, "operator"),
        op,
        "must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
      );
    }
    if ((op === "In" || op === "NotIn") && values.length === 0)
      c.required(child(f, "values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector");
    if ((op === "Exists" || op === "DoesNotExist") && values.length > 0)
      c.invalid(child(f, "values"), values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector");
    selScopes.push(scope);
    for (const r of hard)
      if (STANDARD_QUOTA_RESOURCES.has(r) && SCOPES.includes(scope) && !validScopeForResource(scope, r))
        c.invalid("spec.scopeSelector", spec.scopeSelector, "unsupported scope applied to resource");
  });
  if (selScopes.includes("BestEffort") && selScopes.includes("NotBestEffort")) c.invalid("spec.scopeSelector", spec.scopeSelector, "conflicting scopes");
  if (selScopes.includes("Terminating") && selScopes.includes("NotTerminating")) c.invalid("spec.scopeSelector", spec.scopeSelector, "conflicting scopes");
};
