/**
 * Validation of every served kind, from one set of type descriptions (schema/):
 *
 *  - validateObject: the type check (wrong JSON types, unsupported enum values,
 *    malformed quantities) plus kube-apiserver's semantic rules (rules/), as Status
 *    causes with Kubernetes field paths and reasons;
 *  - unknownFields: fields a kind's schema does not have, for fieldValidation;
 *  - schemaForKind: the zod schema of a kind;
 *  - openApiSchemas: the OpenAPI v3 component schemas kubectl reads (explain, and
 *    its OpenAPI v3 lookups).
 */
import type { z } from "zod";
import type { ResourceInfo } from "../resources";
import type { StatusCause } from "../status";
import type { KObject } from "../types";
import { semanticCauses } from "./rules";
import { KINDS } from "./schema/kinds";
import { type Json, openApiComponents } from "./schema/openapi";
import { zodOf } from "./schema/zod";
import { typeCauses, unknownFieldPaths, withoutNulls } from "./typecheck";

export { formatPath, withoutNulls } from "./typecheck";
export { goValue } from "./causes";
export { checkValue, MAX_DEPTH, scanJsonText } from "./limits";
export { objectWarnings } from "./warnings";

/** The zod schema of a kind (Pod, Deployment, Scale, ...), or undefined for kinds without one. */
export const schemaForKind = (kind: string): z.ZodType | undefined => {
  const t = KINDS[kind];
  return t ? zodOf(t) : undefined;
};

/** Whether `field` is `parent` or lies below it. */
const within = (field: string, parent: string) => parent === "" || field === parent || field.startsWith(`${parent}.`) || field.startsWith(`${parent}[`);

/**
 * The type check alone: wrong JSON types, unsupported enum values, malformed
 * quantities (empty when well-typed). The registry runs it on every incoming object
 * before anything else reads the object's fields, so no later step meets
 * `containers: {}` or `containers: [null]`.
 */
export const typeErrors = (info: ResourceInfo, obj: KObject): StatusCause[] => {
  const kind = obj?.kind === "Scale" ? "Scale" : info.kind;
  const type = KINDS[kind];
  return type ? typeCauses(type, withoutNulls(obj)) : [];
};

/**
 * Everything wrong with `obj` as an object of `info`'s kind, as Status causes (empty
 * when valid). A body whose kind is Scale is checked as a Scale (the scale subresource).
 * Unknown fields are not reported here: see unknownFields. With `typesChecked` (the
 * caller ran typeErrors on what the object was made from) only the rules run.
 */
export const validateObject = (info: ResourceInfo, obj: KObject, opts: { typesChecked?: boolean } = {}): StatusCause[] => {
  const kind = obj?.kind === "Scale" ? "Scale" : info.kind;
  const namespaced = kind === "Scale" ? true : info.namespaced;
  const clean = withoutNulls(obj);
  const type = KINDS[kind];
  const typeErrors = type && !opts.typesChecked ? typeCauses(type, clean) : [];
  // a field with the wrong type cannot be checked further, and what the type check said is not repeated
  const broken = typeErrors.filter((c) => c.reason === "FieldValueTypeInvalid").map((c) => c.field ?? "");
  const seen = new Set(typeErrors.map((c) => `${c.field}\u0000${c.reason}`));
  const rest = semanticCauses(kind, namespaced, clean).filter((c) => {
    const field = c.field ?? "";
    if (broken.some((b) => within(field, b))) return false;
    return !seen.has(`${field}\u0000${c.reason}`);
  });
  return [...typeErrors, ...rest];
};

/**
 * Paths of the fields of `obj` that `kind`'s schema does not have, as kube-apiserver
 * prints them in `unknown field "spec.containers[0].foo"` (top-level ones bare:
 * "extra"), in document order. Free-form maps (labels, annotations, data, selectors,
 * resource lists) take any key. Unknown kinds have no unknown fields.
 */
export const unknownFields = (kind: string, obj: unknown): string[] => {
  const t = KINDS[kind];
  return t ? unknownFieldPaths(t, obj) : [];
};

let components: Record<string, Json> | undefined;

/**
 * OpenAPI v3 component schemas keyed by Kubernetes definition name
 * ("io.k8s.api.core.v1.Pod", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", ...):
 * every served kind and every type it refers to. Built once; treat as read-only.
 */
export const openApiSchemas = (): Record<string, Json> => {
  components ??= openApiComponents(Object.values(KINDS));
  return components;
};
