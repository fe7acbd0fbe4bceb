/**
 * Pod spec rules, after kube-apiserver's ValidatePodSpec: volumes, containers (names,
 * images, ports, environment, resources, mounts, probes, hooks), restart and DNS
 * policies, scheduling (node selector, tolerations, affinity, spread) and host
 * settings. The type check has already reported wrong JSON types and unsupported enum
 * values; these rules guard every access and report the rest.
 */
import { compareQuantities, isQuantity, milliValue, parseQuantity } from "../../quantity";
import { type Causes, child, index, key } from "../causes";
import {
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
} from "../names";
import { arr, isNum, isObj, isStr, type Obj, obj, str } from "./json";
import { validateLabels, validateLabelSelector } from "./meta";

// ---------------------------------------------------------------- shared pieces

/** An int-or-string port: a number in range, or an IANA port name. */
export const validatePortNumOrName = (port: unknown, field: string, c: Causes) => {
  if (typeof port === "number") c.invalidEach(field, port, isValidPortNum(port));
  else if (typeof port === "string") c.invalidEach(field, port, isValidPortName(port));
};

const nonNegative = (v: unknown, field: string, c: Causes) => {
  if (isNum(v) && v < 0) c.invalid(field, v, "must be greater than or equal to 0");
};

const FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive";
const validateFileMode = (mode: unknown, field: string, c: Causes) => {
  if (isNum(mode) && (mode < 0 || mode > 0o777)) c.invalid(field, mode, FILE_MODE_ERROR);
};

const noBacksteps = (path: string) => path.split(/[\\/]/).includes("..");

/** A relative path that stays inside its root (volume item paths, subPath). */
const validateLocalDescendingPath = (path: string, field: string, c: Causes) => {
  if (path.startsWith("/")) c.invalid(field, path, "must be a relative path");
  if (noBacksteps(path)) c.invalid(field, path, "must not contain '..'");
};

const validateLocalNonReservedPath = (path: string, field: string, c: Causes) => {
  validateLocalDescendingPath(path, field, c);
  if (path.startsWith("..")) c.invalid(field, path, "must not start with '..'");
};

const USER_ID_MAX = 2147483647;
const validateID = (v: unknown, field: string, c: Causes) => {
  if (isNum(v) && (v < 0 || v > USER_ID_MAX)) c.invalid(field, v, `must be between 0 and ${USER_ID_MAX}, inclusive`);
};

// ---------------------------------------------------------------- downward API and key selectors

const ENV_FIELD_PATHS = [
  "metadata.annotations",
  "metadata.labels",
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
  "spec.nodeName",
  "spec.serviceAccountName",
  "status.hostIP",
  "status.hostIPs",
  "status.podIP",
  "status.podIPs",
];
const VOLUME_FIELD_PATHS = ["metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"];
const RESOURCE_FIELD_PATHS = ["limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"];

const validateObjectFieldSelector = (ref: Obj, expressions: string[], field: string, c: Causes) => {
  if (!str(ref.apiVersion)) return c.required(child(field, "apiVersion"));
  const path = str(ref.fieldPath);
  if (!path) return c.required(child(field, "fieldPath"));
  const sub = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(path);
  if (sub) {
    c.invalidEach(field, sub[2], isQualifiedName(sub[1] === "metadata.annotations" ? sub[2].toLowerCase() : sub[2]));
  } else if (!expressions.includes(path)) {
    c.notSupported(child(field, "fieldPath"), path, expressions);
  }
};

const validateResourceFieldSelector = (ref: Obj, field: string, c: Causes, volume: boolean) => {
  if (volume && !str(ref.containerName)) c.required(child(field, "containerName"));
  const resource = str(ref.resource);
  if (!resource) c.required(child(field, "resource"));
  else if (!RESOURCE_FIELD_PATHS.includes(resource) && !/^(limits|requests)\.hugepages-/.test(resource))
    c.notSupported(child(field, "resource"), resource, RESOURCE_FIELD_PATHS);
};

const validateKeySelector = (ref: Obj, field: string, c: Causes) => {
  if (!str(ref.name)) c.required(child(field, "name"));
  const k = str(ref.key);
  if (!k) c.required(child(field, "key"));
  else c.invalidEach(child(field, "key"), k, isConfigMapKey(k));
};

// ---------------------------------------------------------------- volumes

/** Volume sources in the order kube-apiserver checks them (the second one found is the one reported). */
const VOLUME_SOURCE_ORDER = [
  "hostPath",
  "emptyDir",
  "gitRepo",
  "gcePersistentDisk",
  "awsElasticBlockStore",
  "secret",
  "nfs",
  "iscsi",
  "glusterfs",
  "persistentVolumeClaim",
  "rbd",
  "flexVolume",
  "cinder",
  "cephfs",
  "flocker",
  "downwardAPI",
  "fc",
  "azureFile",
  "configMap",
  "vsphereVolume",
  "quobyte",
  "azureDisk",
  "photonPersistentDisk",
  "portworxVolume",
  "projected",
  "scaleIO",
  "storageos",
  "csi",
  "ephemeral",
  "image",
];

const validateKeyToPaths = (items: unknown, field: string, c: Causes) => {
  arr(items).forEach((it, i) => {
    if (!isObj(it)) return;
    const f = index(field, i);
    if (!str(it.key)) c.required(child(f, "key"));
    const p = str(it.path);
    if (!p) c.required(child(f, "path"));
    else validateLocalNonReservedPath(p, child(f, "path"), c);
    validateFileMode(it.mode, child(f, "mode"), c);
  });
};

const validateDownwardAPIFiles = (items: unknown, field: string, c: Causes) => {
  arr(items).forEach((it, i) => {
    if (!isObj(it)) return;
    const f = index(field, i);
    const p = str(it.path);
    if (!p) c.required(child(f, "path"));
    else validateLocalNonReservedPath(p, child(f, "path"), c);
    if (isObj(it.fieldRef)) {
      validateObjectFieldSelector(it.fieldRef, VOLUME_FIELD_PATHS, child(f, "fieldRef"), c);
      if (isObj(it.resourceFieldRef)) c.invalid(f, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously");
    } else if (isObj(it.resourceFieldRef)) {
      validateResourceFieldSelector(it.resourceFieldRef, child(f, "resourceFieldRef"), c, true);
    } else {
      c.required(f, "one of fieldRef and resourceFieldRef is required");
    }
    validateFileMode(it.mode, child(f, "mode"), c);
  });
};

const validateProjections = (sources: unknown, field: string, c: Causes) => {
  arr(sources).forEach((s, i) => {
    if (!isObj(s)) return;
    const f = index(field, i);
    const set = ["secret", "configMap", "downwardAPI", "serviceAccountToken", "clusterTrustBundle"].filter((k) => s[k] !== undefined);
    set.slice(1).forEach((k) => c.forbidden(child(f, k), "may not specify more than 1 volume type per source"));
    if (set.length === 0) c.required(f, "must specify exactly 1 volume type");
    for (const k of ["secret", "configMap"]) if (isObj(s[k])) validateKeyToPaths(s[k].items, child(child(f, k), "items"), c);
    if (isObj(s.downwardAPI)) validateDownwardAPIFiles(s.downwardAPI.items, child(child(f, "downwardAPI"), "items"), c);
    if (isObj(s.serviceAccountToken)) {
      const t = s.serviceAccountToken;
      const tf = child(f, "serviceAccountToken");
      if (!str(t.path)) c.required(child(tf, "path"));
      else validateLocalNonReservedPath(str(t.path), child(tf, "path"), c);
      if (isNum(t.expirationSeconds)) {
        if (t.expirationSeconds < 600) c.invalid(child(tf, "expirationSeconds"), t.expirationSeconds, "may not specify a duration less than 10 minutes");
        else if (t.expirationSeconds > 2 ** 32)
          c.invalid(child(tf, "expirationSeconds"), t.expirationSeconds, "may not specify a duration larger than 2^32 seconds");
      }
    }
  });
};

const validateVolumeSource = (v: Obj, f: string, c: Causes) => {
  const present = VOLUME_SOURCE_ORDER.filter((k) => v[k] !== undefined);
  present.slice(1).forEach((k) => c.forbidden(child(f, k), "may not specify more than 1 volume type"));
  if (present.length === 0) c.required(f, "must specify a volume type");
  const source = present[0];
  const s = obj(v[source]);
  const sf = child(f, source ?? "");
  switch (source) {
    case "hostPath": {
      const p = str(s.path);
      if (!p) c.required(child(sf, "path"));
      else if (noBacksteps(p)) c.invalid(child(sf, "path"), p, "must not contain '..'");
      break;
    }
    case "secret":
      if (!str(s.secretName)) c.required(child(sf, "secretName"));
      validateFileMode(s.defaultMode, child(sf, "defaultMode"), c);
      validateKeyToPaths(s.items, child(sf, "items"), c);
      break;
    case "configMap":
      if (!str(s.name)) c.required(child(sf, "name"));
      validateFileMode(s.defaultMode, child(sf, "defaultMode"), c);
      validateKeyToPaths(s.items, child(sf, "items"), c);
      break;
    case "persistentVolumeClaim":
      if (!str(s.claimName)) c.required(child(sf, "claimName"));
      break;
    case "nfs":
      if (!str(s.server)) c.required(child(sf, "server"));
      if (!str(s.path)) c.required(child(sf, "path"));
      else if (!str(s.path).startsWith("/")) c.invalid(child(sf, "path"), str(s.path), "must be an absolute path");
      break;
    case "downwardAPI":
      validateFileMode(s.defaultMode, child(sf, "defaultMode"), c);
      validateDownwardAPIFiles(s.items, child(sf, "items"), c);
      break;
    case "projected":
      validateFileMode(s.defaultMode, child(sf, "defaultMode"), c);
      validateProjections(s.sources, child(sf, "sources"), c);
      break;
    case "csi":
      if (!str(s.driver)) c.required(child(sf, "driver"));
      break;
    case "image":
      if (!str(s.reference)) c.required(child(sf, "reference"));
      break;
    default:
      break;
  }
};

/** Volumes of the pod; returns the names of the valid ones (mounts may only refer to those). */
const validateVolumes = (volumes: unknown, field: string, c: Causes): Set<string> => {
  const names = new Set<string>();
  arr(volumes).forEach((v, i) => {
    if (!isObj(v)) return;
    const f = index(field, i);
    const before = c.list.length;
    validateVolumeSource(v, f, c);
    const name = str(v.name);
    if (!name) c.required(child(f, "name"));
    else c.invalidEach(child(f, "name"), name, isDNS1123Label(name));
    if (name && names.has(name)) c.duplicate(child(f, "name"), name);
    if (c.list.length === before) names.add(name);
  });
  return names;
};

// ---------------------------------------------------------------- containers

const PROBE_HANDLERS = ["exec", "httpGet", "tcpSocket", "grpc"];
const LIFECYCLE_HANDLERS = ["exec", "httpGet", "tcpSocket", "sleep"];

const HTTP_HEADER_NAME = /^[-!#$%&'*+.^_`|~0-9A-Za-z]+$/;

const validateHandler = (h: Obj, kinds: string[], field: string, c: Causes) => {
  let n = 0;
  for (const k of kinds) {
    if (h[k] === undefined) continue;
    if (n > 0) {
      c.forbidden(child(field, k), "may not specify more than 1 handler type");
      continue;
    }
    n++;
    const a = obj(h[k]);
    const f = child(field, k);
    switch (k) {
      case "exec":
        if (arr(a.command).length === 0) c.required(child(f, "command"));
        break;
      case "httpGet":
        if (!str(a.path)) c.required(child(f, "path"));
        validatePortNumOrName(a.port, child(f, "port"), c);
        arr(a.httpHeaders).forEach((hd, i) => {
          if (isObj(hd) && !HTTP_HEADER_NAME.test(str(hd.name)))
            c.invalid(
              child(index(child(f, "httpHeaders"), i), "name"),
              str(hd.name),
              "a valid HTTP header must consist of alphanumeric characters, '-', '_' or '.'",
            );
        });
        break;
      case "tcpSocket":
        validatePortNumOrName(a.port, child(f, "port"), c);
        break;
      case "grpc":
        c.invalidEach(child(f, "port"), a.port, isValidPortNum(typeof a.port === "number" ? a.port : 0));
        break;
      case "sleep":
        nonNegative(a.seconds, child(f, "seconds"), c);
        break;
    }
  }
  if (n === 0) c.required(field, "must specify a handler type");
};

const validateProbe = (probe: unknown, field: string, c: Causes, opts: { mustSucceedOnce: boolean }) => {
  if (!isObj(probe)) return;
  validateHandler(probe, PROBE_HANDLERS, field, c);
  for (const k of ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]) nonNegative(probe[k], child(field, k), c);
  if (isNum(probe.terminationGracePeriodSeconds) && probe.terminationGracePeriodSeconds <= 0) {
    c.invalid(child(field, "terminationGracePeriodSeconds"), probe.terminationGracePeriodSeconds, "must be greater than 0");
  }
  if (opts.mustSucceedOnce && isNum(probe.successThreshold) && probe.successThreshold !== 1)
    c.invalid(child(field, "successThreshold"), probe.successThreshold, "must be 1");
};

const validateLifecycle = (lc: unknown, field: string, c: Causes) => {
  if (!isObj(lc)) return;
  for (const k of ["postStart", "preStop"]) if (isObj(lc[k])) validateHandler(lc[k], LIFECYCLE_HANDLERS, child(field, k), c);
};

const validateContainerPorts = (ports: unknown, field: string, c: Causes) => {
  const names = new Set<string>();
  arr(ports).forEach((p, i) => {
    if (!isObj(p)) return;
    const f = index(field, i);
    const name = str(p.name);
    if (name) {
      const errs = isValidPortName(name);
      if (errs.length) c.invalidEach(child(f, "name"), name, errs);
      else if (names.has(name)) c.duplicate(child(f, "name"), name);
      else names.add(name);
    }
    if (!p.containerPort) c.required(child(f, "containerPort"));
    else if (isNum(p.containerPort)) c.invalidEach(child(f, "containerPort"), p.containerPort, isValidPortNum(p.containerPort));
    if (isNum(p.hostPort) && p.hostPort !== 0) c.invalidEach(child(f, "hostPort"), p.hostPort, isValidPortNum(p.hostPort));
  });
};

const validateEnv = (env: unknown, field: string, c: Causes) => {
  arr(env).forEach((e, i) => {
    if (!isObj(e)) return;
    const f = index(field, i);
    const name = str(e.name);
    if (!name) c.required(child(f, "name"));
    else c.invalidEach(child(f, "name"), name, isEnvVarName(name));
    if (e.valueFrom === undefined) return;
    const from = obj(e.valueFrom);
    const vf = child(f, "valueFrom");
    let sources = 0;
    if (isObj(from.fieldRef)) {
      sources++;
      validateObjectFieldSelector(from.fieldRef, ENV_FIELD_PATHS, child(vf, "fieldRef"), c);
    }
    if (isObj(from.resourceFieldRef)) {
      sources++;
      validateResourceFieldSelector(from.resourceFieldRef, child(vf, "resourceFieldRef"), c, false);
    }
    if (isObj(from.configMapKeyRef)) {
      sources++;
      validateKeySelector(from.configMapKeyRef, child(vf, "configMapKeyRef"), c);
    }
    if (isObj(from.secretKeyRef)) {
      sources++;
      validateKeySelector(from.secretKeyRef, child(vf, "secretKeyRef"), c);
    }
    if (sources === 0) c.invalid(vf, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`");
    else if (sources > 1) c.invalid(vf, "", "may not have more than one field specified at a time");
    if (str(e.value) !== "" && sources !== 0) c.invalid(vf, "", "may not be specified when `value` is not empty");
  });
};

const validateEnvFrom = (envFrom: unknown, field: string, c: Causes) => {
  arr(envFrom).forEach((e, i) => {
    if (!isObj(e)) return;
    const f = index(field, i);
    if (str(e.prefix)) c.invalidEach(child(f, "prefix"), str(e.prefix), isEnvVarName(str(e.prefix)));
    const refs = ["configMapRef", "secretRef"].filter((k) => isObj(e[k]));
    if (refs.length === 0) c.invalid(f, "", "must specify one of: `configMapRef` or `secretRef`");
    else if (refs.length > 1) c.invalid(f, "", "may not have more than one field specified at a time");
    for (const k of refs) if (!str(e[k].name)) c.required(child(child(f, k), "name"));
  });
};

// resource names

const STANDARD_CONTAINER_RESOURCES = new Set(["cpu", "memory", "ephemeral-storage"]);
const isHugePages = (name: string) => name.startsWith("hugepages-");
/** A resource Kubernetes itself defines: no domain, or the kubernetes.io domain. */
const isNativeResource = (name: string) => !name.includes("/") || name.includes("kubernetes.io/");
/** A resource a device plugin advertises, such as nvidia.com/gpu. */
const isExtendedResource = (name: string) => !isNativeResource(name) && !name.startsWith("requests.") && isQualifiedName(`requests.${name}`).length === 0;
/** Whether a request may be below its limit. */
const overcommitAllowed = (name: string) => isNativeResource(name) && !isHugePages(name);

const validateContainerResourceName = (name: string, field: string, c: Causes) => {
  c.invalidEach(field, name, isQualifiedName(name));
  if (!name.includes("/")) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePages(name)) c.invalid(field, name, "must be a standard resource for containers");
  } else if (!isNativeResource(name) && !isExtendedResource(name)) {
    c.invalid(field, name, "doesn't follow extended resource name standard");
  }
};

const validateResourceQuantity = (name: string, q: unknown, field: string, c: Causes) => {
  if (!isQuantity(q)) return; // malformed quantities are type errors
  const v = q as string | number;
  if (parseQuantity(v) < 0) c.invalid(field, String(v), "must be greater than or equal to 0");
  if (isExtendedResource(name) && milliValue(v) % 1000 !== 0) c.invalid(field, String(v), "must be an integer");
};

/** Requests and limits: names, non-negative quantities, requests ≤ limits (= for resources that cannot overcommit). */
export const validateResourceRequirements = (resources: unknown, field: string, c: Causes) => {
  const r = obj(resources);
  const limits = obj(r.limits);
  const requests = obj(r.requests);
  const limPath = child(field, "limits");
  const reqPath = child(field, "requests");
  for (const [name, q] of Object.entries(limits)) {
    validateContainerResourceName(name, key(limPath, name), c);
    validateResourceQuantity(name, q, key(limPath, name), c);
  }
  for (const [name, q] of Object.entries(requests)) {
    validateContainerResourceName(name, key(reqPath, name), c);
    validateResourceQuantity(name, q, key(reqPath, name), c);
    const lim = limits[name];
    if (lim !== undefined) {
      if (!isQuantity(q) || !isQuantity(lim)) continue;
      const cmp = compareQuantities(q as string, lim as string);
      if (cmp !== 0 && !overcommitAllowed(name)) c.invalid(reqPath, String(q), `must be equal to ${name} limit of ${String(lim)}`);
      else if (cmp > 0) c.invalid(reqPath, String(q), `must be less than or equal to ${name} limit of ${String(lim)}`);
    } else if (!overcommitAllowed(name)) {
      c.required(limPath, "Limit must be set for non overcommitable resources");
    }
  }
};

const validateVolumeMounts = (mounts: unknown, volumes: Set<string>, privileged: boolean, field: string, c: Causes) => {
  const paths = new Set<string>();
  arr(mounts).forEach((m, i) => {
    if (!isObj(m)) return;
    const f = index(field, i);
    const name = str(m.name);
    if (!name) c.required(child(f, "name"));
    if (!volumes.has(name)) c.notFound(child(f, "name"), name);
    const mountPath = str(m.mountPath);
    if (!mountPath) c.required(child(f, "mountPath"));
    if (paths.has(mountPath)) c.invalid(child(f, "mountPath"), mountPath, "must be unique");
    paths.add(mountPath);
    if (str(m.subPath)) validateLocalDescendingPath(str(m.subPath), child(f, "subPath"), c);
    if (str(m.subPathExpr)) {
      if (str(m.subPath)) c.invalid(child(f, "subPathExpr"), str(m.subPathExpr), "subPathExpr and subPath are mutually exclusive");
      validateLocalDescendingPath(str(m.subPathExpr), child(f, "subPathExpr"), c);
    }
    if (m.mountPropagation === "Bidirectional" && !privileged)
      c.forbidden(child(f, "mountPropagation"), "Bidirectional mount propagation is available only to privileged containers");
  });
};

const validateSecurityContext = (sc: unknown, field: string, c: Causes) => {
  const s = obj(sc);
  validateID(s.runAsUser, child(field, "runAsUser"), c);
  validateID(s.runAsGroup, child(field, "runAsGroup"), c);
};

type ContainerKind = "init" | "regular" | "ephemeral";

const validateContainer = (ct: Obj, f: string, c: Causes, ctx: { names: Set<string>; volumes: Set<string>; kind: ContainerKind }) => {
  const name = str(ct.name);
  if (!name) c.required(child(f, "name"));
  else c.invalidEach(child(f, "name"), name, isDNS1123Label(name));
  if (name && ctx.names.has(name)) c.duplicate(child(f, "name"), name);
  else if (name) ctx.names.add(name);

  const image = str(ct.image);
  if (!image) c.required(child(f, "image"));
  else if (image.trim() !== image) c.invalid(child(f, "image"), image, "must not have leading or trailing whitespace");

  const policy = ct.terminationMessagePolicy;
  if (policy === "") c.required(child(f, "terminationMessagePolicy"));
  else if (isStr(policy) && policy !== "File" && policy !== "FallbackToLogsOnError")
    c.invalid(child(f, "terminationMessagePolicy"), policy, "must be 'File' or 'FallbackToLogsOnError'");

  const sidecar = ctx.kind === "init" && ct.restartPolicy === "Always";
  if (ctx.kind === "ephemeral") {
    for (const k of ["ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "resources"]) {
      const v = ct[k];
      if (v !== undefined && !(isObj(v) && Object.keys(v).length === 0) && !(Array.isArray(v) && v.length === 0))
        c.forbidden(child(f, k), "cannot be set for an Ephemeral Container");
    }
  } else if (ctx.kind === "init" && !sidecar) {
    for (const k of ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"]) {
      if (ct[k] !== undefined) c.forbidden(child(f, k), "may not be set for init containers without restartPolicy=Always");
    }
  } else {
    validateLifecycle(ct.lifecycle, child(f, "lifecycle"), c);
    validateProbe(ct.livenessProbe, child(f, "livenessProbe"), c, { mustSucceedOnce: true });
    validateProbe(ct.readinessProbe, child(f, "readinessProbe"), c, { mustSucceedOnce: false });
    validateProbe(ct.startupProbe, child(f, "startupProbe"), c, { mustSucceedOnce: true });
  }

  if (ct.restartPolicy !== undefined) {
    if (ctx.kind === "init") {
      if (ct.restartPolicy !== "Always") c.notSupported(child(f, "restartPolicy"), ct.restartPolicy, ["Always"]);
    } else {
      c.forbidden(child(f, "restartPolicy"), "may not be set for non-init containers");
    }
  }

  validateContainerPorts(ct.ports, child(f, "ports"), c);
  validateEnv(ct.env, child(f, "env"), c);
  validateEnvFrom(ct.envFrom, child(f, "envFrom"), c);
  const privileged = obj(ct.securityContext).privileged === true;
  validateVolumeMounts(ct.volumeMounts, ctx.volumes, privileged, child(f, "volumeMounts"), c);
  arr(ct.volumeDevices).forEach((d, i) => {
    if (!isObj(d)) return;
    const df = index(child(f, "volumeDevices"), i);
    if (!str(d.name)) c.required(child(df, "name"));
    else if (!ctx.volumes.has(str(d.name))) c.notFound(child(df, "name"), str(d.name));
    if (!str(d.devicePath)) c.required(child(df, "devicePath"));
  });
  validateResourceRequirements(ct.resources, child(f, "resources"), c);
  validateSecurityContext(ct.securityContext, child(f, "securityContext"), c);
};

/** Host ports must be unique per protocol and host IP. */
const validateHostPorts = (containers: unknown, field: string, c: Causes) => {
  const seen = new Set<string>();
  arr(containers).forEach((ct, i) => {
    arr(obj(ct).ports).forEach((p, j) => {
      if (!isObj(p) || !isNum(p.hostPort) || p.hostPort === 0) return;
      const k = `${str(p.protocol)}/${str(p.hostIP)}/${p.hostPort}`;
      if (seen.has(k)) c.duplicate(child(index(child(index(field, i), "ports"), j), "hostPort"), k);
      seen.add(k);
    });
  });
};

const validateHostNetwork = (spec: Obj, field: string, c: Causes) => {
  if (spec.hostNetwork !== true) return;
  for (const list of ["containers", "initContainers"]) {
    arr(spec[list]).forEach((ct, i) => {
      arr(obj(ct).ports).forEach((p, j) => {
        if (isObj(p) && isNum(p.hostPort) && p.hostPort !== 0 && p.hostPort !== p.containerPort) {
          c.invalid(
            child(index(child(index(child(field, list), i), "ports"), j), "hostPort"),
            p.hostPort,
            "must match `containerPort` when `hostNetwork` is true",
          );
        }
      });
    });
  }
};

// ---------------------------------------------------------------- scheduling

const validateTolerations = (tolerations: unknown, field: string, c: Causes) => {
  arr(tolerations).forEach((t, i) => {
    if (!isObj(t)) return;
    const f = index(field, i);
    const k = str(t.key);
    const op = str(t.operator);
    const effect = str(t.effect);
    if (k) c.invalidEach(child(f, "key"), k, isQualifiedName(k));
    if (!k && op !== "Exists") c.invalid(child(f, "operator"), op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"');
    if (t.tolerationSeconds !== undefined && effect !== "NoExecute")
      c.invalid(child(f, "effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set");
    if (op === "Equal" || op === "") {
      const errs = isValidLabelValue(str(t.value));
      if (errs.length) c.invalid(child(f, "operator"), str(t.value), errs.join(";"));
    } else if (op === "Exists") {
      if (str(t.value)) c.invalid(child(f, "operator"), t, "value must be empty when `operator` is 'Exists'");
    } else {
      c.notSupported(child(f, "operator"), op, ["Equal", "Exists"]);
    }
    if (effect && !["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(effect))
      c.notSupported(child(f, "effect"), effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"]);
  });
};

const validateNodeSelectorRequirement = (r: Obj, f: string, c: Causes) => {
  const values = arr(r.values);
  switch (r.operator) {
    case "In":
    case "NotIn":
      if (values.length === 0) c.required(child(f, "values"), "must be specified when `operator` is 'In' or 'NotIn'");
      break;
    case "Exists":
    case "DoesNotExist":
      if (values.length > 0) c.forbidden(child(f, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      break;
    case "Gt":
    case "Lt":
      if (values.length !== 1) c.required(child(f, "values"), "must be specified single value when `operator` is 'Lt' or 'Gt'");
      break;
    default:
      c.invalid(child(f, "operator"), str(r.operator), "not a valid selector operator");
  }
  c.invalidEach(child(f, "key"), str(r.key), isQualifiedName(str(r.key)));
  values.forEach((v, i) => {
    if (isStr(v)) c.invalidEach(index(child(f, "values"), i), v, isValidLabelValue(v));
  });
};

const validateNodeFieldSelectorRequirement = (r: Obj, f: string, c: Causes) => {
  const values = arr(r.values);
  if (r.operator === "In" || r.operator === "NotIn") {
    if (values.length !== 1) c.required(child(f, "values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector");
  } else {
    c.invalid(child(f, "operator"), str(r.operator), "not a valid selector operator");
  }
  if (r.key !== "metadata.name") c.invalid(child(f, "key"), str(r.key), "not a valid field selector key");
  else values.forEach((v, i) => isStr(v) && c.invalidEach(index(child(f, "values"), i), v, isDNS1123Subdomain(v)));
};

export const validateNodeSelectorTerm = (term: unknown, f: string, c: Causes) => {
  const t = obj(term);
  arr(t.matchExpressions).forEach((r, i) => isObj(r) && validateNodeSelectorRequirement(r, index(child(f, "matchExpressions"), i), c));
  arr(t.matchFields).forEach((r, i) => isObj(r) && validateNodeFieldSelectorRequirement(r, index(child(f, "matchFields"), i), c));
};

const validateWeight = (w: unknown, field: string, c: Causes) => {
  if (!isNum(w) || w <= 0 || w > 100) c.invalid(field, w ?? 0, "must be in the range 1-100");
};

const validatePodAffinityTerm = (term: unknown, f: string, c: Causes) => {
  const t = obj(term);
  if (t.labelSelector !== undefined) validateLabelSelector(t.labelSelector, child(f, "labelSelector"), c);
  if (t.namespaceSelector !== undefined) validateLabelSelector(t.namespaceSelector, child(f, "namespaceSelector"), c);
  for (const ns of arr(t.namespaces)) if (isStr(ns)) c.invalidEach(child(f, "namespace"), ns, isDNS1123Label(ns));
  const topologyKey = str(t.topologyKey);
  if (!topologyKey) c.required(child(f, "topologyKey"), "can not be empty");
  c.invalidEach(child(f, "topologyKey"), topologyKey, isQualifiedName(topologyKey));
};

const validateAffinity = (affinity: unknown, field: string, c: Causes) => {
  const a = obj(affinity);
  if (isObj(a.nodeAffinity)) {
    const na = a.nodeAffinity;
    const nf = child(field, "nodeAffinity");
    if (isObj(na.requiredDuringSchedulingIgnoredDuringExecution)) {
      const rf = child(child(nf, "requiredDuringSchedulingIgnoredDuringExecution"), "nodeSelectorTerms");
      const terms = arr(na.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms);
      if (terms.length === 0) c.required(rf, "must have at least one node selector term");
      terms.forEach((t, i) => validateNodeSelectorTerm(t, index(rf, i), c));
    }
    arr(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((p, i) => {
      if (!isObj(p)) return;
      const pf = index(child(nf, "preferredDuringSchedulingIgnoredDuringExecution"), i);
      validateWeight(p.weight, child(pf, "weight"), c);
      validateNodeSelectorTerm(p.preference, child(pf, "preference"), c);
    });
  }
  for (const kind of ["podAffinity", "podAntiAffinity"]) {
    if (!isObj(a[kind])) continue;
    const pf = child(field, kind);
    arr(a[kind].requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) =>
      validatePodAffinityTerm(t, index(child(pf, "requiredDuringSchedulingIgnoredDuringExecution"), i), c),
    );
    arr(a[kind].preferredDuringSchedulingIgnoredDuringExecution).forEach((w, i) => {
      if (!isObj(w)) return;
      const wf = index(child(pf, "preferredDuringSchedulingIgnoredDuringExecution"), i);
      validateWeight(w.weight, child(wf, "weight"), c);
      validatePodAffinityTerm(w.podAffinityTerm, child(wf, "podAffinityTerm"), c);
    });
  }
};

const validateTopologySpread = (constraints: unknown, field: string, c: Causes) => {
  const seen = new Set<string>();
  arr(constraints).forEach((t, i) => {
    if (!isObj(t)) return;
    const f = index(field, i);
    if (isNum(t.maxSkew) && t.maxSkew <= 0) c.invalid(child(f, "maxSkew"), t.maxSkew, "must be greater than zero");
    const topologyKey = str(t.topologyKey);
    if (!topologyKey) c.required(child(f, "topologyKey"), "can not be empty");
    else c.invalidEach(child(f, "topologyKey"), topologyKey, isQualifiedName(topologyKey));
    const k = `{${topologyKey}, ${str(t.whenUnsatisfiable)}}`;
    if (seen.has(k)) c.duplicate(f, k);
    seen.add(k);
    if (t.labelSelector !== undefined) validateLabelSelector(t.labelSelector, child(f, "labelSelector"), c);
  });
};

const validateDNS = (spec: Obj, field: string, c: Causes) => {
  const config = spec.dnsConfig;
  if (spec.dnsPolicy === "None" && !isObj(config)) {
    c.required(child(field, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None");
    return;
  }
  if (!isObj(config)) return;
  const nf = child(child(field, "dnsConfig"), "nameservers");
  const servers = arr(config.nameservers);
  if (spec.dnsPolicy === "None" && servers.length === 0) c.required(nf, "must have at least one nameserver when `dnsPolicy` is None");
  if (servers.length > 3) c.invalid(nf, servers, "must not have more than 3 nameservers");
  servers.forEach((s, i) => {
    if (isStr(s) && !isValidIP(s)) c.invalid(index(nf, i), s, "must be valid IP address");
  });
};

// ---------------------------------------------------------------- the pod spec

export interface PodSpecOptions {
  /** a workload's pod template rather than a Pod */
  template?: boolean;
}

/** Every rule of a pod spec at `field` (spec, or spec.template.spec). */
export const validatePodSpec = (podSpec: unknown, field: string, c: Causes, opts: PodSpecOptions = {}) => {
  const spec = obj(podSpec);
  const volumes = validateVolumes(spec.volumes, child(field, "volumes"), c);
  const names = new Set<string>();
  arr(spec.initContainers).forEach(
    (ct, i) => isObj(ct) && validateContainer(ct, index(child(field, "initContainers"), i), c, { names, volumes, kind: "init" }),
  );
  const containers = arr(spec.containers);
  if (containers.length === 0) c.required(child(field, "containers"));
  containers.forEach((ct, i) => isObj(ct) && validateContainer(ct, index(child(field, "containers"), i), c, { names, volumes, kind: "regular" }));
  if (opts.template) {
    if (arr(spec.ephemeralContainers).length > 0) c.forbidden(child(field, "ephemeralContainers"), "ephemeral containers not allowed in pod template");
  } else {
    arr(spec.ephemeralContainers).forEach(
      (ct, i) => isObj(ct) && validateContainer(ct, index(child(field, "ephemeralContainers"), i), c, { names, volumes, kind: "ephemeral" }),
    );
  }
  validateHostNetwork(spec, field, c);
  validateHostPorts(spec.containers, child(field, "containers"), c);
  validateDNS(spec, field, c);
  validateLabels(spec.nodeSelector, child(field, "nodeSelector"), c);
  const subdomainFields = ["serviceAccountName", "nodeName", "priorityClassName", "schedulerName", "runtimeClassName"];
  for (const k of subdomainFields) if (str(spec[k])) c.invalidEach(child(field, k), spec[k], isDNS1123Subdomain(spec[k]));
  for (const k of ["hostname", "subdomain"]) if (str(spec[k])) c.invalidEach(child(field, k), spec[k], isDNS1123Label(spec[k]));
  validateSecurityContext(spec.securityContext, child(field, "securityContext"), c);
  validateID(obj(spec.securityContext).fsGroup, child(child(field, "securityContext"), "fsGroup"), c);
  validateTolerations(spec.tolerations, child(field, "tolerations"), c);
  validateAffinity(spec.affinity, child(field, "affinity"), c);
  validateTopologySpread(spec.topologySpreadConstraints, child(field, "topologySpreadConstraints"), c);
  if (isNum(spec.activeDeadlineSeconds) && (spec.activeDeadlineSeconds < 1 || spec.activeDeadlineSeconds > 4294967295)) {
    c.invalid(child(field, "activeDeadlineSeconds"), spec.activeDeadlineSeconds, "must be between 1 and 4294967295, inclusive");
  }
  for (const [name, q] of Object.entries(obj(spec.overhead))) validateResourceQuantity(name, q, key(child(field, "overhead"), name), c);
};
