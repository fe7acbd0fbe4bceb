/**
 * Semantic validation, as kube-apiserver's validators word it: names, labels,
 * quantities, ports, pod specs, workloads, Services and the rest. Runs after the
 * type check, and guards every access, so odd shapes never throw.
 */
import { isQuantity, parseQuantity } from "../quantity";
import type { ResourceInfo } from "../resources";
import { labelKeyError, labelValueError } from "../selectors/labels";
import type { StatusCause } from "../status";
import type { KObject } from "../types";

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);

export class Causes {
  readonly list: StatusCause[] = [];
  required(field: string, detail = "") {
    this.list.push({ reason: "FieldValueRequired", field, message: `Required value${detail ? `: ${detail}` : ""}` });
  }
  invalid(field: string, value: unknown, detail: string) {
    this.list.push({ reason: "FieldValueInvalid", field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` });
  }
  notSupported(field: string, value: unknown, supported: string[]) {
    this.list.push({ reason: "FieldValueNotSupported", field, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}` });
  }
  duplicate(field: string, value: unknown) {
    this.list.push({ reason: "FieldValueDuplicate", field, message: `Duplicate value: ${JSON.stringify(value)}` });
  }
  forbidden(field: string, detail: string) {
    this.list.push({ reason: "FieldValueForbidden", field, message: `Forbidden: ${detail}` });
  }
  tooLong(field: string, max: number) {
    this.list.push({ reason: "FieldValueTooLong", field, message: `Too long: may not be more than ${max} bytes` });
  }
}

// ---------------------------------------------------------------- names

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

export const dns1123LabelError = (s: string): string | null =>
  s.length > 63 ? "must be no more than 63 characters" : DNS1123_LABEL.test(s) ? null : LABEL_MSG;
export const dns1123SubdomainError = (s: string): string | null =>
  s.length > 253 ? "must be no more than 253 characters" : DNS1123_SUBDOMAIN.test(s) ? null : SUBDOMAIN_MSG;

/** Kinds whose names must be DNS-1123 labels (not subdomains). */
const LABEL_NAMED = new Set(["Namespace", "Service"]);

const validateMeta = (info: ResourceInfo, obj: KObject, c: Causes) => {
  const m = obj.metadata;
  const name = m.name;
  if (!name) {
    if (!m.generateName) c.required("metadata.name", "name or generateName is required");
  } else if (typeof name === "string") {
    const err = LABEL_NAMED.has(info.kind) ? dns1123LabelError(name) : dns1123SubdomainError(name);
    if (err) c.invalid("metadata.name", name, err);
  }
  if (info.namespaced && typeof m.namespace === "string" && m.namespace && dns1123LabelError(m.namespace)) {
    c.invalid("metadata.namespace", m.namespace, dns1123LabelError(m.namespace)!);
  }
  validateLabels(m.labels, "metadata.labels", c);
  validateAnnotations(m.annotations, "metadata.annotations", c);
  const seen = new Set<string>();
  arr(m.ownerReferences).forEach((r, i) => {
    if (!isObj(r)) return;
    const f = `metadata.ownerReferences[${i}]`;
    if (!r.apiVersion) c.invalid(`${f}.apiVersion`, r.apiVersion ?? "", "version must not be empty");
    if (!r.kind) c.invalid(`${f}.kind`, r.kind ?? "", "kind must not be empty");
    if (!r.name) c.invalid(`${f}.name`, r.name ?? "", "name must not be empty");
    if (!r.uid) c.invalid(`${f}.uid`, r.uid ?? "", "uid must not be empty");
    if (r.uid && seen.has(r.uid)) c.duplicate(`${f}.uid`, r.uid);
    if (r.uid) seen.add(r.uid);
  });
  if (arr(m.ownerReferences).filter((r) => isObj(r) && r.controller).length > 1) {
    c.invalid("metadata.ownerReferences", m.ownerReferences, "Only one reference can have Controller set to true");
  }
  arr(m.finalizers).forEach((f, i) => {
    if (typeof f !== "string" || labelKeyError(f)) c.invalid(`metadata.finalizers[${i}]`, f, "name is neither a standard finalizer name nor is it fully qualified");
  });
};

export const validateLabels = (labels: unknown, field: string, c: Causes) => {
  if (!isObj(labels)) return;
  for (const [k, v] of Object.entries(labels)) {
    const ke = labelKeyError(k);
    if (ke) c.invalid(field, k, ke);
    if (typeof v !== "string") c.invalid(`${field}`, v, "label values must be strings");
    else {
      const ve = labelValueError(v);
      if (ve) c.invalid(field, v, ve);
    }
  }
};

const validateAnnotations = (ann: unknown, field: string, c: Causes) => {
  if (!isObj(ann)) return;
  let size = 0;
  for (const [k, v] of Object.entries(ann)) {
    const ke = labelKeyError(k.toLowerCase());
    if (ke) c.invalid(field, k, ke);
    size += k.length + String(v).length;
  }
  if (size > 256 * 1024) c.tooLong(field, 256 * 1024);
};

// ---------------------------------------------------------------- pods

const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

const validateQuantities = (m: unknown, field: string, c: Causes) => {
  if (!isObj(m)) return;
  for (const [k, v] of Object.entries(m)) {
    if (!isQuantity(v)) c.invalid(`${field}.${k}`, v, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    else if (parseQuantity(v as string) < 0) c.invalid(`${field}.${k}`, v, "must be greater than or equal to 0");
  }
};

const validatePort = (v: unknown, field: string, c: Causes, allowZero = false) => {
  if (typeof v !== "number") return;
  if (!Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > 65535) c.invalid(field, v, `must be between ${allowZero ? 0 : 1} and 65535, inclusive`);
};

const PROTOCOLS = ["SCTP", "TCP", "UDP"];

const validateContainer = (ct: Obj, f: string, c: Causes, volumes: Set<string>, names: Set<string>, init: boolean) => {
  if (!ct.name) c.required(`${f}.name`);
  else if (typeof ct.name === "string") {
    const e = dns1123LabelError(ct.name);
    if (e) c.invalid(`${f}.name`, ct.name, e);
    if (names.has(ct.name)) c.duplicate(`${f}.name`, ct.name);
    names.add(ct.name);
  }
  if (!ct.image) c.required(`${f}.image`);
  else if (typeof ct.image === "string" && ct.image.trim() !== ct.image) c.invalid(`${f}.image`, ct.image, "must not have leading or trailing whitespace");
  const portNames = new Set<string>();
  arr(ct.ports).forEach((p, i) => {
    if (!isObj(p)) return;
    const pf = `${f}.ports[${i}]`;
    if (p.containerPort === undefined) c.required(`${pf}.containerPort`);
    validatePort(p.containerPort, `${pf}.containerPort`, c);
    validatePort(p.hostPort, `${pf}.hostPort`, c, true);
    if (p.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) c.notSupported(`${pf}.protocol`, p.protocol, PROTOCOLS);
    if (typeof p.name === "string" && p.name) {
      if (p.name.length > 15 || !IANA_SVC_NAME.test(p.name) || !/[a-z]/.test(p.name) || p.name.includes("--")) {
        c.invalid(`${pf}.name`, p.name, "must be no more than 15 characters, contain only lowercase alphanumerics and '-', start and end with an alphanumeric, contain at least one letter, and not contain '--'");
      }
      if (portNames.has(p.name)) c.duplicate(`${pf}.name`, p.name);
      portNames.add(p.name);
    }
  });
  arr(ct.env).forEach((e, i) => {
    if (!isObj(e)) return;
    if (!e.name) c.required(`${f}.env[${i}].name`);
    else if (typeof e.name === "string" && !ENV_NAME.test(e.name)) {
      c.invalid(`${f}.env[${i}].name`, e.name, "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit");
    }
    if (e.value !== undefined && e.valueFrom !== undefined) c.invalid(`${f}.env[${i}].valueFrom`, "", "may not be specified when `value` is not empty");
  });
  const res = isObj(ct.resources) ? ct.resources : {};
  validateQuantities(res.limits, `${f}.resources.limits`, c);
  validateQuantities(res.requests, `${f}.resources.requests`, c);
  if (isObj(res.limits) && isObj(res.requests)) {
    for (const [k, req] of Object.entries(res.requests)) {
      const lim = res.limits[k];
      if (lim !== undefined && isQuantity(req) && isQuantity(lim) && parseQuantity(req as string) > parseQuantity(lim as string)) {
        c.invalid(`${f}.resources.requests`, req, `must be less than or equal to ${k} limit of ${lim}`);
      }
    }
  }
  const mounts = new Set<string>();
  arr(ct.volumeMounts).forEach((m, i) => {
    if (!isObj(m)) return;
    const mf = `${f}.volumeMounts[${i}]`;
    if (!m.name) c.required(`${mf}.name`);
    else if (!volumes.has(m.name)) c.notSupported(`${mf}.name`, m.name, [...volumes]);
    if (!m.mountPath) c.required(`${mf}.mountPath`);
    else if (mounts.has(m.mountPath)) c.invalid(`${mf}.mountPath`, m.mountPath, "must be unique");
    if (m.mountPath) mounts.add(m.mountPath);
  });
  if (ct.imagePullPolicy !== undefined && !["Always", "IfNotPresent", "Never"].includes(ct.imagePullPolicy)) {
    c.notSupported(`${f}.imagePullPolicy`, ct.imagePullPolicy, ["Always", "IfNotPresent", "Never"]);
  }
  if (!init && ct.restartPolicy !== undefined) c.forbidden(`${f}.restartPolicy`, "may not be set for non-init containers");
};

const NODE_OPS = ["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"];

const validateNodeSelectorTerm = (t: unknown, f: string, c: Causes) => {
  if (!isObj(t)) return;
  arr(t.matchExpressions).forEach((e, i) => {
    if (!isObj(e)) return;
    const ef = `${f}.matchExpressions[${i}]`;
    if (!NODE_OPS.includes(e.operator)) c.notSupported(`${ef}.operator`, e.operator, NODE_OPS);
    const n = arr(e.values).length;
    if ((e.operator === "In" || e.operator === "NotIn") && n === 0) c.required(`${ef}.values`, "must be specified when `operator` is 'In' or 'NotIn'");
    if ((e.operator === "Exists" || e.operator === "DoesNotExist") && n > 0) c.forbidden(`${ef}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    if ((e.operator === "Gt" || e.operator === "Lt") && (n !== 1 || !/^-?\d+$/.test(String(arr(e.values)[0])))) c.required(`${ef}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'");
    if (typeof e.key === "string" && labelKeyError(e.key)) c.invalid(`${ef}.key`, e.key, labelKeyError(e.key)!);
  });
};

export const validatePodSpec = (spec: unknown, f: string, c: Causes, opts: { template?: boolean } = {}) => {
  if (!isObj(spec)) {
    c.required(f);
    return;
  }
  const volumes = new Set<string>();
  arr(spec.volumes).forEach((v, i) => {
    if (!isObj(v)) return;
    const vf = `${f}.volumes[${i}]`;
    if (!v.name) c.required(`${vf}.name`);
    else {
      const e = dns1123LabelError(v.name);
      if (e) c.invalid(`${vf}.name`, v.name, e);
      if (volumes.has(v.name)) c.duplicate(`${vf}.name`, v.name);
      volumes.add(v.name);
    }
    const sources = Object.keys(v).filter((k) => k !== "name");
    if (sources.length === 0) c.required(vf, "must specify a volume type");
    else if (sources.length > 1) c.forbidden(`${vf}.${sources[1]}`, "may not specify more than 1 volume type");
    if (isObj(v.hostPath) && !v.hostPath.path) c.required(`${vf}.hostPath.path`);
  });
  if (!arr(spec.containers).length) c.required(`${f}.containers`);
  const names = new Set<string>();
  arr(spec.initContainers).forEach((ct, i) => isObj(ct) && validateContainer(ct, `${f}.initContainers[${i}]`, c, volumes, names, true));
  arr(spec.containers).forEach((ct, i) => isObj(ct) && validateContainer(ct, `${f}.containers[${i}]`, c, volumes, names, false));
  const hostPorts = new Set<string>();
  arr(spec.containers).forEach((ct, i) =>
    arr(isObj(ct) ? ct.ports : []).forEach((p, j) => {
      if (!isObj(p) || !p.hostPort) return;
      const k = `${p.hostPort}/${p.protocol ?? "TCP"}`;
      if (hostPorts.has(k)) c.duplicate(`${f}.containers[${i}].ports[${j}].hostPort`, k);
      hostPorts.add(k);
    }),
  );
  const restart = ["Always", "OnFailure", "Never"];
  if (spec.restartPolicy !== undefined && !restart.includes(spec.restartPolicy)) c.notSupported(`${f}.restartPolicy`, spec.restartPolicy, restart);
  if (opts.template && spec.restartPolicy !== undefined && spec.restartPolicy !== "Always") c.notSupported(`${f}.restartPolicy`, spec.restartPolicy, ["Always"]);
  const dns = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
  if (spec.dnsPolicy !== undefined && !dns.includes(spec.dnsPolicy)) c.notSupported(`${f}.dnsPolicy`, spec.dnsPolicy, dns);
  if (typeof spec.terminationGracePeriodSeconds === "number" && spec.terminationGracePeriodSeconds < 0) {
    c.invalid(`${f}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, "must be greater than or equal to 0");
  }
  if (typeof spec.activeDeadlineSeconds === "number" && spec.activeDeadlineSeconds <= 0) c.invalid(`${f}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, "must be greater than or equal to 1");
  validateLabels(spec.nodeSelector, `${f}.nodeSelector`, c);
  if (typeof spec.nodeName === "string" && spec.nodeName && dns1123SubdomainError(spec.nodeName)) c.invalid(`${f}.nodeName`, spec.nodeName, dns1123SubdomainError(spec.nodeName)!);
  arr(spec.tolerations).forEach((t, i) => {
    if (!isObj(t)) return;
    const tf = `${f}.tolerations[${i}]`;
    const op = t.operator ?? "Equal";
    if (!["Equal", "Exists"].includes(op)) c.notSupported(`${tf}.operator`, op, ["Equal", "Exists"]);
    if (op === "Exists" && t.value) c.invalid(`${tf}.operator`, op, "value must be empty when `operator` is 'Exists'");
    if (!t.key && op !== "Exists") c.invalid(`${tf}.operator`, op, "operator must be Exists when `key` is empty, which means \"match all values and all keys\"");
    if (t.effect !== undefined && t.effect !== "" && !["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(t.effect)) {
      c.notSupported(`${tf}.effect`, t.effect, ["NoExecute", "NoSchedule", "PreferNoSchedule"]);
    }
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") c.invalid(`${tf}.effect`, t.effect ?? "", "effect must be 'NoExecute' when `tolerationSeconds` is set");
  });
  const na = isObj(spec.affinity) && isObj(spec.affinity.nodeAffinity) ? spec.affinity.nodeAffinity : undefined;
  if (na) {
    const req = na.requiredDuringSchedulingIgnoredDuringExecution;
    const af = `${f}.affinity.nodeAffinity`;
    if (isObj(req)) {
      if (!arr(req.nodeSelectorTerms).length) c.required(`${af}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`, "must have at least one node selector term");
      arr(req.nodeSelectorTerms).forEach((t, i) => validateNodeSelectorTerm(t, `${af}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[${i}]`, c));
    }
    arr(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((p, i) => {
      if (!isObj(p)) return;
      const pf = `${af}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      if (typeof p.weight !== "number" || p.weight < 1 || p.weight > 100) c.invalid(`${pf}.weight`, p.weight, "must be in the range 1-100");
      validateNodeSelectorTerm(p.preference, `${pf}.preference`, c);
    });
  }
  if (spec.hostNetwork) {
    arr(spec.containers).forEach((ct, i) =>
      arr(isObj(ct) ? ct.ports : []).forEach((p, j) => {
        if (isObj(p) && p.hostPort && p.hostPort !== p.containerPort) c.invalid(`${f}.containers[${i}].ports[${j}].containerPort`, p.containerPort, "must match `hostPort` when `hostNetwork` is true");
      }),
    );
  }
};

// ---------------------------------------------------------------- workloads

const validateSelectorObject = (sel: unknown, f: string, c: Causes): Obj | undefined => {
  if (!isObj(sel)) {
    c.required(f);
    return undefined;
  }
  const ml = isObj(sel.matchLabels) ? sel.matchLabels : {};
  validateLabels(ml, `${f}.matchLabels`, c);
  arr(sel.matchExpressions).forEach((e, i) => {
    if (!isObj(e)) return;
    const ops = ["DoesNotExist", "Exists", "In", "NotIn"];
    if (!ops.includes(e.operator)) c.notSupported(`${f}.matchExpressions[${i}].operator`, e.operator, ops);
    if ((e.operator === "In" || e.operator === "NotIn") && !arr(e.values).length) c.required(`${f}.matchExpressions[${i}].values`, "must be specified when `operator` is 'In' or 'NotIn'");
    if ((e.operator === "Exists" || e.operator === "DoesNotExist") && arr(e.values).length) c.forbidden(`${f}.matchExpressions[${i}].values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
  });
  if (!Object.keys(ml).length && !arr(sel.matchExpressions).length) c.invalid(f, sel, "empty selector is invalid for deployment");
  return sel;
};

const selectorMatches = (sel: Obj, labels: Obj): boolean => {
  for (const [k, v] of Object.entries(isObj(sel.matchLabels) ? sel.matchLabels : {})) if (labels[k] !== v) return false;
  for (const e of arr(sel.matchExpressions)) {
    if (!isObj(e)) continue;
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const vals = arr(e.values);
    if (e.operator === "In" && !(has && vals.includes(labels[e.key]))) return false;
    if (e.operator === "NotIn" && has && vals.includes(labels[e.key])) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
};

const goMap = (m: Obj) => `map[string]string{${Object.entries(m).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(", ")}}`;

const INT_OR_PERCENT = /^\d+%$/;

const validateIntOrPercent = (v: unknown, f: string, c: Causes): number | undefined => {
  if (v === undefined) return undefined;
  if (typeof v === "number") {
    if (v < 0) c.invalid(f, v, "must be greater than or equal to 0");
    return v;
  }
  if (typeof v === "string" && INT_OR_PERCENT.test(v)) {
    const n = Number(v.slice(0, -1));
    if (n > 100) c.invalid(f, v, "must not be greater than 100%");
    return n;
  }
  c.invalid(f, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
  return undefined;
};

const validateReplicated = (info: ResourceInfo, obj: KObject, c: Causes) => {
  const spec = obj.spec;
  if (!isObj(spec)) {
    c.required("spec");
    return;
  }
  if (typeof spec.replicas === "number" && spec.replicas < 0) c.invalid("spec.replicas", spec.replicas, "must be greater than or equal to 0");
  if (typeof spec.minReadySeconds === "number" && spec.minReadySeconds < 0) c.invalid("spec.minReadySeconds", spec.minReadySeconds, "must be greater than or equal to 0");
  const tmplLabels: Obj = isObj(spec.template) && isObj(spec.template.metadata) && isObj(spec.template.metadata.labels) ? spec.template.metadata.labels : {};
  if (info.kind === "ReplicationController") {
    const sel = isObj(spec.selector) ? spec.selector : {};
    validateLabels(sel, "spec.selector", c);
    if (!Object.keys(sel).length) c.required("spec.selector");
    else if (isObj(spec.template) && !Object.entries(sel).every(([k, v]) => tmplLabels[k] === v)) {
      c.invalid("spec.template.metadata.labels", tmplLabels, "`selector` does not match template `labels`");
    }
    if (!isObj(spec.template)) c.required("spec.template");
  } else {
    const sel = validateSelectorObject(spec.selector, "spec.selector", c);
    if (!isObj(spec.template)) c.required("spec.template");
    else if (sel && !selectorMatches(sel, tmplLabels)) c.invalid("spec.template.metadata.labels", goMap(tmplLabels), "`selector` does not match template `labels`");
  }
  if (isObj(spec.template)) {
    validateLabels(tmplLabels, "spec.template.metadata.labels", c);
    validatePodSpec(spec.template.spec, "spec.template.spec", c, { template: true });
  }
  if (info.kind === "Deployment") {
    if (typeof spec.revisionHistoryLimit === "number" && spec.revisionHistoryLimit < 0) c.invalid("spec.revisionHistoryLimit", spec.revisionHistoryLimit, "must be greater than or equal to 0");
    if (typeof spec.progressDeadlineSeconds === "number" && typeof spec.minReadySeconds === "number" && spec.progressDeadlineSeconds <= spec.minReadySeconds) {
      c.invalid("spec.progressDeadlineSeconds", spec.progressDeadlineSeconds, "must be greater than minReadySeconds");
    }
    const st = isObj(spec.strategy) ? spec.strategy : {};
    const types = ["Recreate", "RollingUpdate"];
    if (st.type !== undefined && !types.includes(st.type)) c.notSupported("spec.strategy.type", st.type, types);
    if (st.type === "Recreate" && st.rollingUpdate !== undefined) c.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'");
    if (isObj(st.rollingUpdate)) {
      const surge = validateIntOrPercent(st.rollingUpdate.maxSurge, "spec.strategy.rollingUpdate.maxSurge", c);
      const unav = validateIntOrPercent(st.rollingUpdate.maxUnavailable, "spec.strategy.rollingUpdate.maxUnavailable", c);
      if (surge === 0 && unav === 0) c.invalid("spec.strategy.rollingUpdate.maxUnavailable", st.rollingUpdate.maxUnavailable, "may not be 0 when `maxSurge` is 0");
    }
  }
};

// ---------------------------------------------------------------- the rest

const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

const validateService = (obj: KObject, c: Causes) => {
  const spec = obj.spec;
  if (!isObj(spec)) {
    c.required("spec");
    return;
  }
  const type = spec.type ?? "ClusterIP";
  if (!SERVICE_TYPES.includes(type)) c.notSupported("spec.type", type, SERVICE_TYPES);
  const ports = arr(spec.ports);
  if (type === "ExternalName") {
    if (!spec.externalName) c.required("spec.externalName");
  } else if (!ports.length && spec.clusterIP !== "None") c.required("spec.ports");
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    if (!isObj(p)) return;
    const f = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) c.required(`${f}.name`);
    if (p.name) {
      if (dns1123LabelError(p.name)) c.invalid(`${f}.name`, p.name, dns1123LabelError(p.name)!);
      if (names.has(p.name)) c.duplicate(`${f}.name`, p.name);
      names.add(p.name);
    }
    if (p.port === undefined) c.required(`${f}.port`);
    validatePort(p.port, `${f}.port`, c);
    const protocol = p.protocol ?? "TCP";
    if (!PROTOCOLS.includes(protocol)) c.notSupported(`${f}.protocol`, protocol, PROTOCOLS);
    const k = `${p.port}/${protocol}`;
    if (seen.has(k)) c.duplicate(`${f}`, { port: p.port, protocol });
    seen.add(k);
    if (typeof p.targetPort === "number") validatePort(p.targetPort, `${f}.targetPort`, c);
    else if (typeof p.targetPort === "string" && !/^\d+$/.test(p.targetPort) && (p.targetPort.length > 15 || !IANA_SVC_NAME.test(p.targetPort))) {
      c.invalid(`${f}.targetPort`, p.targetPort, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    }
    if (p.nodePort !== undefined) {
      if (type !== "NodePort" && type !== "LoadBalancer") c.forbidden(`${f}.nodePort`, "may not be used when `type` is 'ClusterIP'");
      else if (typeof p.nodePort === "number" && (p.nodePort < 30000 || p.nodePort > 32767)) c.invalid(`${f}.nodePort`, p.nodePort, "provided port is not in the valid range. The range of valid ports is 30000-32767");
    }
  });
  validateLabels(spec.selector, "spec.selector", c);
  const affinity = ["ClientIP", "None"];
  if (spec.sessionAffinity !== undefined && !affinity.includes(spec.sessionAffinity)) c.notSupported("spec.sessionAffinity", spec.sessionAffinity, affinity);
};

const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const validateData = (obj: KObject, c: Causes, secret: boolean) => {
  let size = 0;
  const keys = new Set<string>();
  for (const field of secret ? ["data"] : ["data", "binaryData"]) {
    const m = obj[field];
    if (!isObj(m)) continue;
    for (const [k, v] of Object.entries(m)) {
      if (!DATA_KEY.test(k) || k.length > 253) c.invalid(`${field}[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
      if (keys.has(k)) c.invalid(`${field}[${k}]`, k, "duplicate of key present in data");
      keys.add(k);
      if ((secret || field === "binaryData") && typeof v === "string" && !BASE64.test(v)) c.invalid(`${field}[${k}]`, "<value omitted>", "illegal base64 data");
      size += String(v).length;
    }
  }
  const limit = 1024 * 1024;
  if (size > limit) c.tooLong(secret ? "data" : "[]", limit);
};

const validateNode = (obj: KObject, c: Causes) => {
  const st = isObj(obj.status) ? obj.status : {};
  validateQuantities(st.capacity, "status.capacity", c);
  validateQuantities(st.allocatable, "status.allocatable", c);
  arr(isObj(obj.spec) ? obj.spec.taints : []).forEach((t, i) => {
    if (!isObj(t)) return;
    if (!t.key) c.required(`spec.taints[${i}].key`);
    const effects = ["NoExecute", "NoSchedule", "PreferNoSchedule"];
    if (!effects.includes(t.effect)) c.notSupported(`spec.taints[${i}].effect`, t.effect, effects);
  });
};

/** Semantic checks of `obj` (already type-checked). */
export const semanticCauses = (info: ResourceInfo, obj: KObject): StatusCause[] => {
  const c = new Causes();
  validateMeta(info, obj, c);
  switch (info.kind) {
    case "Pod":
      validatePodSpec(obj.spec, "spec", c);
      break;
    case "Deployment":
    case "ReplicaSet":
    case "ReplicationController":
      validateReplicated(info, obj, c);
      break;
    case "Service":
      validateService(obj, c);
      break;
    case "ConfigMap":
      validateData(obj, c, false);
      break;
    case "Secret":
      validateData(obj, c, true);
      break;
    case "Node":
      validateNode(obj, c);
      break;
    case "Lease":
      if (isObj(obj.spec) && typeof obj.spec.leaseDurationSeconds === "number" && obj.spec.leaseDurationSeconds <= 0) {
        c.invalid("spec.leaseDurationSeconds", obj.spec.leaseDurationSeconds, "must be greater than 0");
      }
      break;
    case "Event":
      if (!isObj(obj.involvedObject)) c.required("involvedObject");
      else if (info.namespaced && obj.involvedObject.namespace && obj.metadata.namespace && obj.involvedObject.namespace !== obj.metadata.namespace) {
        c.invalid("involvedObject.namespace", obj.involvedObject.namespace, "does not match event.namespace");
      }
      break;
    default:
      break;
  }
  return c.list;
};
