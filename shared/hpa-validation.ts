/**
 * HorizontalPodAutoscaler (autoscaling/v2): kube-apiserver's defaults
 * (SetDefaults_HorizontalPodAutoscaler and its behavior defaults) and validation
 * (ValidateHorizontalPodAutoscaler), messages as kube-apiserver words them.
 */
import { defaultScaleDown, defaultScaleUp } from "./hpa";
import { isQuantity, parseQuantity } from "./quantity";
import { type Causes, child, index } from "./validation/causes";
import { arr, isObj, type Obj, obj } from "./validation/rules/json";

/** the cpu target of an autoscaler that names no metric (kube's DefaultCPUUtilization) */
export const DEFAULT_CPU_UTILIZATION = 80;

export const defaultHorizontalPodAutoscaler = (spec: Obj) => {
  if (spec.minReplicas === undefined || spec.minReplicas === null) spec.minReplicas = 1;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0)
    spec.metrics = [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  // a behavior given is completed with the defaults; none stays none (the controller's older rules apply)
  if (isObj(spec.behavior)) {
    spec.behavior.scaleUp = defaultScaleUp(isObj(spec.behavior.scaleUp) ? (spec.behavior.scaleUp as never) : undefined);
    spec.behavior.scaleDown = defaultScaleDown(isObj(spec.behavior.scaleDown) ? (spec.behavior.scaleDown as never) : undefined);
  }
};

const SOURCES: Record<string, string> = {
  Resource: "resource",
  ContainerResource: "containerResource",
  Pods: "pods",
  Object: "object",
  External: "external",
};

const positive = (q: unknown) => isQuantity(q) && parseQuantity(q as string) > 0;

const validateTarget = (t: Obj, f: string, c: Causes) => {
  if (!t.type) c.required(child(f, "type"), "must specify a metric target type");
  else if (!["Utilization", "Value", "AverageValue"].includes(t.type))
    c.invalid(child(f, "type"), t.type, "must be either Utilization, Value, or AverageValue");
  if (typeof t.averageUtilization === "number" && t.averageUtilization <= 0)
    c.invalid(child(f, "averageUtilization"), t.averageUtilization, "must be greater than 0");
  if (t.value !== undefined && t.value !== null && !positive(t.value)) c.invalid(child(f, "value"), t.value, "must be positive");
  if (t.averageValue !== undefined && t.averageValue !== null && !positive(t.averageValue))
    c.invalid(child(f, "averageValue"), t.averageValue, "must be positive");
};

const validateResourceTarget = (src: Obj, f: string, c: Causes) => {
  if (!src.name) c.required(child(f, "name"), "must specify a resource name");
  const t = obj(src.target);
  const tf = child(f, "target");
  validateTarget(t, tf, c);
  const util = t.averageUtilization !== undefined && t.averageUtilization !== null;
  const avg = t.averageValue !== undefined && t.averageValue !== null;
  if (!util && !avg) c.required(child(tf, "averageUtilization"), "must set either a target raw value or a target utilization");
  if (util && avg) c.forbidden(child(tf, "averageValue"), "may not set both a target raw value and a target utilization");
};

const validateRules = (r: Obj, f: string, c: Causes) => {
  const w = r.stabilizationWindowSeconds;
  if (typeof w === "number" && w < 0) c.invalid(child(f, "stabilizationWindowSeconds"), w, "must be greater than or equal to zero");
  if (typeof w === "number" && w > 3600) c.invalid(child(f, "stabilizationWindowSeconds"), w, "must be less than or equal to 3600");
  if (r.selectPolicy !== undefined && !["Disabled", "Max", "Min"].includes(r.selectPolicy))
    c.notSupported(child(f, "selectPolicy"), r.selectPolicy, ["Disabled", "Max", "Min"]);
  const policies = arr(r.policies);
  if (policies.length === 0) c.required(child(f, "policies"), "must specify at least one Policy");
  policies.forEach((pv, i) => {
    const p = obj(pv);
    const pf = index(child(f, "policies"), i);
    if (!["Percent", "Pods"].includes(p.type)) c.notSupported(child(pf, "type"), p.type ?? "", ["Percent", "Pods"]);
    if (!(typeof p.value === "number" && p.value > 0)) c.invalid(child(pf, "value"), p.value ?? 0, "must be greater than zero");
    if (!(typeof p.periodSeconds === "number" && p.periodSeconds > 0)) c.invalid(child(pf, "periodSeconds"), p.periodSeconds ?? 0, "must be greater than zero");
    else if (p.periodSeconds > 1800) c.invalid(child(pf, "periodSeconds"), p.periodSeconds, "must be less than or equal to 1800");
  });
};

export const validateHorizontalPodAutoscaler = (o: Obj, c: Causes) => {
  const spec = obj(o.spec);
  const ref = obj(spec.scaleTargetRef);
  if (!ref.kind) c.required("spec.scaleTargetRef.kind");
  else if (/[/%]/.test(ref.kind) || ref.kind === "." || ref.kind === "..") c.invalid("spec.scaleTargetRef.kind", ref.kind, "may not contain '/' or '%'");
  if (!ref.name) c.required("spec.scaleTargetRef.name");
  else if (/[/%]/.test(ref.name) || ref.name === "." || ref.name === "..") c.invalid("spec.scaleTargetRef.name", ref.name, "may not contain '/' or '%'");
  const min = spec.minReplicas;
  if (typeof min === "number" && min < 1) c.invalid("spec.minReplicas", min, "must be greater than or equal to 1");
  const max = spec.maxReplicas;
  if (typeof max === "number" && max < 1) c.invalid("spec.maxReplicas", max, "must be greater than 0");
  if (typeof max === "number" && typeof min === "number" && max < min) c.invalid("spec.maxReplicas", max, "must be greater than or equal to `minReplicas`");
  arr(spec.metrics).forEach((mv, i) => {
    const m = obj(mv);
    const f = index("spec.metrics", i);
    if (!m.type) {
      c.required(child(f, "type"), "must specify a metric source type");
      return;
    }
    const field = SOURCES[m.type];
    if (!field) {
      c.notSupported(child(f, "type"), m.type, Object.keys(SOURCES));
      return;
    }
    for (const [t, other] of Object.entries(SOURCES))
      if (t !== m.type && m[other] !== undefined && m[other] !== null) c.forbidden(child(f, other), "must populate the given metric source only");
    if (!isObj(m[field])) {
      c.required(child(f, field), "must populate information for the given metric source");
      return;
    }
    const src = m[field] as Obj;
    const sf = child(f, field);
    if (m.type === "Resource" || m.type === "ContainerResource") {
      validateResourceTarget(src, sf, c);
      if (m.type === "ContainerResource" && !src.container) c.required(child(sf, "container"), "must specify a container");
    } else {
      if (!obj(src.metric).name) c.required(child(child(sf, "metric"), "name"), "must specify a metric name");
      validateTarget(obj(src.target), child(sf, "target"), c);
    }
  });
  if (isObj(spec.behavior)) {
    if (isObj(spec.behavior.scaleUp)) validateRules(spec.behavior.scaleUp, "spec.behavior.scaleUp", c);
    if (isObj(spec.behavior.scaleDown)) validateRules(spec.behavior.scaleDown, "spec.behavior.scaleDown", c);
  }
};
