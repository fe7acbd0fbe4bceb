/**
 * The type check of an object against its kind's schema, and unknown-field detection,
 * both from the zod schema built from the type descriptions. Issues become Status
 * causes worded like kube-apiserver's schema validation:
 *
 *   spec.containers: Invalid value: "string": spec.containers in body must be of type array: "string"
 */
import type { StatusCause } from "../status";
import { Causes } from "./causes";
import type { NamedType, TypeRef } from "./schema/dsl";
import { zodOf } from "./schema/zod";

/** A copy without null-valued fields: JSON null means "unset" to Kubernetes' decoder. Nulls inside lists stay. */
export const withoutNulls = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map((x) => (x === null ? x : withoutNulls(x)));
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = withoutNulls(x);
  return out;
};

/** `spec.containers[0].image` from a path of keys and indices. */
export const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((s, p) => (typeof p === "number" ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)), "");

const valueAt = (obj: unknown, path: readonly PropertyKey[]): unknown => {
  let cur: any = obj;
  for (const p of path) cur = cur !== null && typeof cur === "object" ? cur[p as any] : undefined;
  return cur;
};

/** The JSON type of a value, as schema validation names it. */
const jsonType = (v: unknown): string => {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
};

/** The declared type at `path` below a named type. */
const typeAt = (root: NamedType, path: readonly PropertyKey[]): TypeRef | undefined => {
  let t: TypeRef | undefined = { kind: "named", type: root };
  for (const p of path) {
    if (!t) return undefined;
    if (t.kind === "array") t = t.items;
    else if (t.kind === "map") t = t.values;
    else if (t.kind === "named" && t.type.kind === "object") t = t.type.fields[String(p)]?.type;
    else return undefined;
  }
  return t;
};

/** How the schema names a type in "must be of type X". */
const typeName = (t: TypeRef | undefined): string => {
  switch (t?.kind) {
    case "string":
    case "enum":
      return "string";
    case "boolean":
      return "boolean";
    case "int32":
    case "int64":
      return "integer";
    case "number":
      return "number";
    case "array":
      return "array";
    case "map":
    case "json":
      return "object";
    case "named":
      if (t.type.kind === "object") return "object";
      if (t.type.check === "quantity") return "string";
      if (t.type.check === "int-or-string") return "integer or string";
      return t.type.check;
    default:
      return "a valid value";
  }
};

/**
 * Type errors of `obj` against `root`: wrong JSON types, out-of-range integers,
 * unsupported enum values, malformed quantities. Missing required fields and unknown
 * fields are not reported here (the rules and unknownFields do that).
 */
export const typeCauses = (root: NamedType, obj: unknown): StatusCause[] => {
  const r = zodOf(root).safeParse(obj);
  if (r.success) return [];
  const c = new Causes();
  for (const issue of r.error.issues) {
    const field = formatPath(issue.path);
    const value = valueAt(obj, issue.path);
    switch (issue.code) {
      case "unrecognized_keys":
        break;
      case "invalid_type":
      case "invalid_union": {
        if (value === undefined) break; // a missing required field
        const actual = jsonType(value);
        c.typeInvalid(field, actual, `${field} in body must be of type ${typeName(typeAt(root, issue.path))}: ${JSON.stringify(actual)}`);
        break;
      }
      case "too_big":
        c.invalid(field, value, `${field} in body should be less than or equal to ${issue.maximum}`);
        break;
      case "too_small":
        c.invalid(field, value, `${field} in body should be greater than or equal to ${issue.minimum}`);
        break;
      case "invalid_value":
        if (value === "") c.required(field);
        else c.notSupported(field, value, (issue.values as unknown[]).filter((v) => v !== "").map(String));
        break;
      default:
        c.invalid(field, value, issue.message);
        break;
    }
  }
  return c.list;
};

/** Every path of `v`, in document order, with its position. */
const documentOrder = (v: unknown): Map<string, number> => {
  const order = new Map<string, number>();
  const walk = (x: unknown, path: PropertyKey[]) => {
    order.set(formatPath(path), order.size);
    if (Array.isArray(x)) x.forEach((y, i) => walk(y, [...path, i]));
    else if (x !== null && typeof x === "object") for (const [k, y] of Object.entries(x)) walk(y, [...path, k]);
  };
  walk(v, []);
  return order;
};

/** Paths of the fields of `obj` that `root` does not have, in document order. */
export const unknownFieldPaths = (root: NamedType, obj: unknown): string[] => {
  const r = zodOf(root).safeParse(obj);
  if (r.success) return [];
  const paths: string[] = [];
  for (const issue of r.error.issues) {
    if (issue.code === "unrecognized_keys") for (const k of issue.keys) paths.push(formatPath([...issue.path, k]));
  }
  if (paths.length < 2) return paths;
  const order = documentOrder(obj);
  return paths.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
};
