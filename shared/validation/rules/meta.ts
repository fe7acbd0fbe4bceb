/** Object metadata, labels, annotations and label selectors (apimachinery's ValidateObjectMeta and friends). */
import { type Causes, child, index } from "../causes";
import { isDNS1123Label, isQualifiedName, isValidLabelValue, type NameValidator } from "../names";
import { type LabelSelectorObject, matchLabels, selectorFromLabelSelector } from "../../selectors/labels";
import { arr, isObj, type Obj, obj, str } from "./json";

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** Label keys must be qualified names, values label values; errors name the map, not the key. */
export const validateLabels = (labels: unknown, field: string, c: Causes) => {
  for (const [k, v] of Object.entries(obj(labels))) {
    c.invalidEach(field, k, isQualifiedName(k));
    if (typeof v === "string") c.invalidEach(field, v, isValidLabelValue(v));
  }
};

/** Annotation keys are qualified names (case-insensitively); all of them together at most 256 KiB. */
export const validateAnnotations = (annotations: unknown, field: string, c: Causes) => {
  let size = 0;
  for (const [k, v] of Object.entries(obj(annotations))) {
    c.invalidEach(field, k, isQualifiedName(k.toLowerCase()));
    size += k.length + String(v ?? "").length;
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) c.tooLong(field, TOTAL_ANNOTATION_SIZE_LIMIT);
};

/** Finalizer names Kubernetes defines without a domain prefix. */
const STANDARD_FINALIZERS = new Set(["kubernetes", "orphan", "foregroundDeletion"]);

/** A finalizer must be a qualified name, and a domain-qualified one unless it is a standard finalizer. */
export const validateFinalizerName = (name: string, field: string, c: Causes) => {
  c.invalidEach(field, name, isQualifiedName(name));
  if (!name.includes("/") && !STANDARD_FINALIZERS.has(name)) c.invalid(field, name, "name is neither a standard finalizer name nor is it fully qualified");
};

const validateOwnerReferences = (refs: unknown, field: string, c: Causes) => {
  const controllers: string[] = [];
  for (const r of arr(refs)) {
    if (!isObj(r)) continue;
    const [, version = ""] = str(r.apiVersion).includes("/") ? str(r.apiVersion).split("/") : ["", str(r.apiVersion)];
    if (!version) c.invalid(child(field, "apiVersion"), str(r.apiVersion), "version must not be empty");
    if (!str(r.kind)) c.invalid(child(field, "kind"), str(r.kind), "kind must not be empty");
    if (!str(r.name)) c.invalid(child(field, "name"), str(r.name), "name must not be empty");
    if (!str(r.uid)) c.invalid(child(field, "uid"), str(r.uid), "uid must not be empty");
    if (r.controller === true) controllers.push(`${str(r.kind)}/${str(r.name)}`);
  }
  if (controllers.length > 1) {
    c.invalid(field, refs, `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(" and ")}`);
  }
};

export interface MetaOptions {
  /** whether the kind lives in namespaces */
  namespaced: boolean;
  /** how object names of the kind are checked */
  name: NameValidator;
}

/** ObjectMeta of a stored object, at `metadata`. */
export const validateObjectMeta = (meta: unknown, opts: MetaOptions, c: Causes, field = "metadata") => {
  const m: Obj = obj(meta);
  const name = str(m.name);
  const generateName = str(m.generateName);
  if (generateName) c.invalidEach(child(field, "generateName"), generateName, opts.name(generateName, true));
  if (!name) {
    if (!generateName) c.required(child(field, "name"), "name or generateName is required");
  } else {
    c.invalidEach(child(field, "name"), name, opts.name(name, false));
  }
  const namespace = str(m.namespace);
  if (opts.namespaced) {
    // an empty namespace is filled in from the request before validation
    if (namespace) c.invalidEach(child(field, "namespace"), namespace, isDNS1123Label(namespace));
  } else if (namespace) {
    c.forbidden(child(field, "namespace"), "not allowed on this type");
  }
  if (typeof m.generation === "number" && m.generation < 0) c.invalid(child(field, "generation"), m.generation, "must be greater than or equal to 0");
  if (typeof m.deletionGracePeriodSeconds === "number" && m.deletionGracePeriodSeconds < 0) {
    c.invalid(child(field, "deletionGracePeriodSeconds"), m.deletionGracePeriodSeconds, "must be greater than or equal to 0");
  }
  validateLabels(m.labels, child(field, "labels"), c);
  validateAnnotations(m.annotations, child(field, "annotations"), c);
  validateOwnerReferences(m.ownerReferences, child(field, "ownerReferences"), c);
  for (const f of arr(m.finalizers)) if (typeof f === "string") validateFinalizerName(f, child(field, "finalizers"), c);
};

/** Metadata of a pod template: only labels and annotations matter. */
export const validateTemplateMeta = (meta: unknown, field: string, c: Causes) => {
  const m = obj(meta);
  validateLabels(m.labels, child(field, "labels"), c);
  validateAnnotations(m.annotations, child(field, "annotations"), c);
};

/** The operators of metav1 label selector requirements. */
const SELECTOR_OPS = new Set(["In", "NotIn", "Exists", "DoesNotExist"]);

/** A metav1.LabelSelector (matchLabels and matchExpressions). */
export const validateLabelSelector = (selector: unknown, field: string, c: Causes) => {
  const s = obj(selector);
  validateLabels(s.matchLabels, child(field, "matchLabels"), c);
  arr(s.matchExpressions).forEach((e, i) => {
    if (!isObj(e)) return;
    const f = index(child(field, "matchExpressions"), i);
    const op = str(e.operator);
    const values = arr(e.values);
    if (op === "In" || op === "NotIn") {
      if (values.length === 0) c.required(child(f, "values"), "must be specified when `operator` is 'In' or 'NotIn'");
    } else if (op === "Exists" || op === "DoesNotExist") {
      if (values.length > 0) c.forbidden(child(f, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else if (!SELECTOR_OPS.has(op)) {
      c.invalid(child(f, "operator"), op, "not a valid selector operator");
    }
    c.invalidEach(child(f, "key"), str(e.key), isQualifiedName(str(e.key)));
    values.forEach((v, j) => {
      if (typeof v === "string") c.invalidEach(index(child(f, "values"), j), v, isValidLabelValue(v));
    });
  });
};

/**
 * Whether a metav1.LabelSelector matches a set of labels (an empty selector matches
 * everything, a malformed one nothing): the selectors module's matching.
 */
export const selectorMatches = (selector: unknown, labels: unknown): boolean => {
  try {
    const reqs = selectorFromLabelSelector(obj(selector) as LabelSelectorObject) ?? [];
    return matchLabels(reqs, obj(labels) as Record<string, string>);
  } catch {
    return false;
  }
};

/** Whether a selector has no conditions at all. */
export const selectorIsEmpty = (selector: unknown): boolean => {
  const s = obj(selector);
  return Object.keys(obj(s.matchLabels)).length === 0 && arr(s.matchExpressions).length === 0;
};
