/**
 * PersistentVolume, PersistentVolumeClaim and StorageClass rules, as kube-apiserver's
 * ValidatePersistentVolume, ValidatePersistentVolumeClaim and ValidateStorageClass (and
 * their update rules) word them.
 */
import { jsonEqual } from "../../json";
import { isQuantity, parseQuantity } from "../../quantity";
import type { StatusCause } from "../../status";
import { Causes, child, index, key } from "../causes";
import { isDNS1123Subdomain, isQualifiedName } from "../names";
import { arr, isObj, type Obj, obj, str } from "./json";
import { validateLabelSelector } from "./meta";
import { validateNodeSelectorTerm } from "./pod";

const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const VOLUME_MODES = ["Block", "Filesystem"];
/** the PV volume sources Kubeflare serves, in the order kube-apiserver checks them */
export const PV_SOURCES = ["hostPath", "local"] as const;

const validateAccessModes = (modes: unknown, f: string, c: Causes, what: "volume" | "claim") => {
  const list = arr(modes);
  if (list.length === 0) {
    c.required(f, what === "claim" ? "at least 1 access mode is required" : "");
    return;
  }
  for (const m of list) if (!ACCESS_MODES.includes(m as string)) c.notSupported(f, m, ACCESS_MODES);
  if (list.includes("ReadWriteOncePod") && list.length > 1) c.forbidden(f, "may not use ReadWriteOncePod with other access modes");
};

const validateVolumeMode = (mode: unknown, f: string, c: Causes) => {
  if (mode !== undefined && mode !== null && !VOLUME_MODES.includes(mode as string)) c.notSupported(f, mode, VOLUME_MODES);
};

const validateClassName = (name: unknown, f: string, c: Causes) => {
  if (typeof name === "string" && name !== "") c.invalidEach(f, name, isDNS1123Subdomain(name));
};

/** A storage quantity that must be given and above zero. */
const positiveStorage = (q: unknown, f: string, c: Causes) => {
  if (q === undefined) {
    c.required(f);
    return;
  }
  if (!isQuantity(q)) return; // a type error already
  if (parseQuantity(q as string) <= 0) c.invalid(f, String(q), "must be greater than zero");
};

const noBacksteps = (p: string) => p.split(/[\\/]/).includes("..");

/** ValidatePersistentVolumeSpec for the sources Kubeflare serves. */
export const validatePersistentVolume = (o: Obj, c: Causes) => {
  const spec = obj(o.spec);
  const f = "spec";
  validateAccessModes(spec.accessModes, child(f, "accessModes"), c, "volume");
  const capacity = obj(spec.capacity);
  if (!isObj(spec.capacity) || Object.keys(capacity).length === 0) c.required(child(f, "capacity"));
  else {
    for (const k of Object.keys(capacity)) if (k !== "storage") c.notSupported(child(f, "capacity"), k, ["storage"]);
    if (capacity.storage !== undefined) positiveStorage(capacity.storage, key(child(f, "capacity"), "storage"), c);
    else c.required(key(child(f, "capacity"), "storage"));
  }
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy !== undefined && !["Delete", "Recycle", "Retain"].includes(policy))
    c.notSupported(child(f, "persistentVolumeReclaimPolicy"), policy, ["Delete", "Recycle", "Retain"]);
  validateClassName(spec.storageClassName, child(f, "storageClassName"), c);
  validateVolumeMode(spec.volumeMode, child(f, "volumeMode"), c);
  const present = PV_SOURCES.filter((s) => spec[s] !== undefined && spec[s] !== null);
  if (present.length === 0) c.required(f, "must specify a volume type");
  present.slice(1).forEach((s) => c.forbidden(child(f, s), "may not specify more than 1 volume type"));
  if (present.includes("hostPath")) {
    const p = str(obj(spec.hostPath).path);
    if (!p) c.required(child(child(f, "hostPath"), "path"));
    else if (noBacksteps(p)) c.invalid(child(child(f, "hostPath"), "path"), p, "must not contain '..'");
  }
  if (present.includes("local")) {
    const p = str(obj(spec.local).path);
    if (!p) c.required(child(child(f, "local"), "path"));
    else if (noBacksteps(p)) c.invalid(child(child(f, "local"), "path"), p, "must not contain '..'");
    if (!isObj(spec.nodeAffinity)) c.required(child(f, "nodeAffinity"), "Local volume requires node affinity");
  }
  if (isObj(spec.nodeAffinity)) {
    const nf = child(f, "nodeAffinity");
    if (!isObj(spec.nodeAffinity.required)) c.required(child(nf, "required"), "must specify required node constraints");
    else {
      const tf = child(child(nf, "required"), "nodeSelectorTerms");
      const terms = arr(spec.nodeAffinity.required.nodeSelectorTerms);
      if (terms.length === 0) c.required(tf, "must have at least one node selector term");
      terms.forEach((t, i) => validateNodeSelectorTerm(t, index(tf, i), c));
    }
  }
  if (isObj(spec.claimRef) && !str(spec.claimRef.name)) c.required(child(child(f, "claimRef"), "name"));
};

/** ValidatePersistentVolumeUpdate: the volume source and mode never change; nodeAffinity only from unset. */
export const validatePersistentVolumeUpdate = (o: Obj, old: Obj): StatusCause[] => {
  const c = new Causes();
  const spec = obj(o.spec);
  const was = obj(old.spec);
  for (const s of PV_SOURCES) {
    if (!jsonEqual(spec[s] ?? null, was[s] ?? null)) {
      c.forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation");
      break;
    }
  }
  if ((spec.volumeMode ?? "Filesystem") !== (was.volumeMode ?? "Filesystem")) c.invalid("spec.volumeMode", spec.volumeMode, "field is immutable");
  if (was.nodeAffinity && !jsonEqual(spec.nodeAffinity ?? null, was.nodeAffinity))
    c.invalid("spec.nodeAffinity", spec.nodeAffinity ?? null, "field is immutable");
  return c.list;
};

/** ValidatePersistentVolumeClaimSpec. */
export const validatePersistentVolumeClaim = (o: Obj, c: Causes, field = "spec") => {
  const spec = obj(field === "spec" ? o.spec : o);
  const f = field;
  validateAccessModes(spec.accessModes, child(f, "accessModes"), c, "claim");
  if (spec.selector !== undefined && spec.selector !== null) validateLabelSelector(spec.selector, child(f, "selector"), c);
  const requests = obj(obj(spec.resources).requests);
  positiveStorage(requests.storage, key(child(f, "resources"), "storage"), c);
  validateClassName(spec.storageClassName, child(f, "storageClassName"), c);
  validateVolumeMode(spec.volumeMode, child(f, "volumeMode"), c);
};

/**
 * ValidatePersistentVolumeClaimUpdate: the spec is immutable, except resources.requests
 * of a bound claim (expansion, never below what it was), volumeName set once, and a
 * storageClassName given to a claim that had none.
 */
export const validatePersistentVolumeClaimUpdate = (o: Obj, old: Obj): StatusCause[] => {
  const c = new Causes();
  const spec = { ...obj(o.spec) };
  const was = { ...obj(old.spec) };
  const bound = obj(old.status).phase === "Bound";
  if (!str(was.volumeName) && str(spec.volumeName)) was.volumeName = spec.volumeName;
  if ((was.storageClassName === undefined || was.storageClassName === null) && spec.storageClassName !== undefined)
    was.storageClassName = spec.storageClassName;
  const storage = obj(obj(spec.resources).requests).storage;
  if (bound) {
    spec.resources = { ...obj(spec.resources), requests: { ...obj(obj(spec.resources).requests) } };
    was.resources = { ...obj(was.resources), requests: { ...obj(obj(was.resources).requests), storage } };
  }
  if (!jsonEqual(spec, was)) {
    c.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims");
    return c.list;
  }
  const before = obj(obj(old.spec?.resources).requests).storage;
  if (bound && isQuantity(storage) && isQuantity(before) && parseQuantity(storage as string) < parseQuantity(before as string))
    c.forbidden("spec.resources.requests.storage", "field can not be less than previous value");
  return c.list;
};

/** ValidateStorageClass. */
export const validateStorageClass = (o: Obj, c: Causes) => {
  const p = str(o.provisioner);
  if (!p) c.required("provisioner");
  else c.invalidEach("provisioner", p, isQualifiedName(p.toLowerCase()));
  let size = 0;
  for (const [k, v] of Object.entries(obj(o.parameters))) {
    if (!k) c.invalid("parameters", k, "field can not be empty.");
    size += k.length + String(v ?? "").length;
  }
  if (size > 256 * 1024) c.tooLong("parameters", 256 * 1024);
  if (o.reclaimPolicy !== undefined && !["Delete", "Retain"].includes(o.reclaimPolicy)) c.notSupported("reclaimPolicy", o.reclaimPolicy, ["Delete", "Retain"]);
  if (o.volumeBindingMode === undefined || o.volumeBindingMode === null) c.required("volumeBindingMode");
  else if (!["Immediate", "WaitForFirstConsumer"].includes(o.volumeBindingMode))
    c.notSupported("volumeBindingMode", o.volumeBindingMode, ["Immediate", "WaitForFirstConsumer"]);
  arr(o.allowedTopologies).forEach((t, i) => {
    const tf = index("allowedTopologies", i);
    const exprs = arr(obj(t).matchLabelExpressions);
    if (exprs.length === 0) c.required(child(tf, "matchLabelExpressions"), "must have at least one label expression");
    exprs.forEach((e, j) => {
      const ef = index(child(tf, "matchLabelExpressions"), j);
      c.invalidEach(child(ef, "key"), str(obj(e).key), isQualifiedName(str(obj(e).key)));
      if (arr(obj(e).values).length === 0) c.required(child(ef, "values"), "must specify as least one value.");
    });
  });
};

/** ValidateStorageClassUpdate: provisioner, parameters, reclaimPolicy and volumeBindingMode are fixed. */
export const validateStorageClassUpdate = (o: Obj, old: Obj): StatusCause[] => {
  const c = new Causes();
  if (!jsonEqual(obj(o.parameters), obj(old.parameters))) c.forbidden("parameters", "updates to parameters are forbidden.");
  if (o.provisioner !== old.provisioner) c.forbidden("provisioner", "updates to provisioner are forbidden.");
  if ((o.reclaimPolicy ?? "Delete") !== (old.reclaimPolicy ?? "Delete")) c.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.");
  if (o.volumeBindingMode !== old.volumeBindingMode) c.forbidden("volumeBindingMode", "updates to volumeBindingMode are forbidden.");
  return c.list;
};
