/**
 * The type check of an object against its kind's schema, and unknown-field detection,
 * both from the zod schema built from the type descriptions. Issues become Status
 * causes worded like kube-apiserver's schema validation:
 *
 *   spec.containers: Invalid value: "string": spec.containers in body must be of type array: "string"
 */
import { MAX_QUANTITY_LENGTH } from "../quantity";
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

/** One step down from a declared type. */
const step = (t: TypeRef | undefined, p: PropertyKey): TypeRef | undefined => {
  if (!t) return undefined;
  if (t.kind === "array") return t.items;
  if (t.kind === "map") return t.values;
  if (t.kind === "named" && t.type.kind === "object") return t.type.fields[String(p)]?.type;
  return undefined;
};

/** The declared type at `path` below a named type. */
const typeAt = (root: NamedType, path: readonly PropertyKey[]): TypeRef | undefined => {
  let t: TypeRef | undefined = { kind: "named", type: root };
  for (const p of path) t = step(t, p);
  return t;
};

/**
 * A path as kube-apiserver's field paths print it: entries of maps (resource lists,
 * labels, data) as `[key]`, e.g. `spec.containers[0].resources.requests[cpu]`.
 */
const fieldPath = (root: NamedType, path: readonly PropertyKey[]): string => {
  let t: TypeRef | undefined = { kind: "named", type: root };
  let s = "";
  for (const p of path) {
    if (
      typeof p === "number" ||
      t?.kind === "map" ||
      t?.kind === "json" ||
      (t?.kind === "named" && t.type.kind === "named-scalar" && t.type.check === "object")
    )
      s += `[${String(p)}]`;
    else s = s ? `${s}.${String(p)}` : String(p);
    t = step(t, p);
  }
  return s;
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
      if (t.type.check === "time") return "string";
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
    const field = fieldPath(root, issue.path);
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
      case "custom":
        if (issue.params?.tooLong) c.tooLong(field, issue.params.max ?? MAX_QUANTITY_LENGTH);
        else c.invalid(field, value, issue.message);
        break;
      default:
        c.invalid(field, value, issue.message);
        break;
    }
  }
  return c.list;
};

/**
 * The position of each path among `v`'s fields, as a list of indices (key order of each
 * object on the way, index in each list), to sort paths into document order. Walks only
 * along the paths, remembering each object's key positions, so the cost is linear in
 * what the paths touch, whatever the size or depth of the rest of `v`.
 */
const positions = (v: unknown, paths: readonly (readonly PropertyKey[])[]): number[][] => {
  const keyIndex = new Map<object, Map<string, number>>();
  const indexOf = (o: object, k: PropertyKey): number => {
    if (Array.isArray(o)) return Number(k);
    let m = keyIndex.get(o);
    if (!m) {
      m = new Map(Object.keys(o).map((key, i) => [key, i]));
      keyIndex.set(o, m);
    }
    return m.get(String(k)) ?? -1;
  };
  return paths.map((path) => {
    const out: number[] = [];
    let cur: any = v;
    for (const p of path) {
      if (cur === null || typeof cur !== "object") break;
      out.push(indexOf(cur, p));
      cur = cur[p as any];
    }
    return out;
  });
};

const compareIndices = (a: number[], b: number[]): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
};

/** Paths of the fields of `obj` that `root` does not have, in document order. */
export const unknownFieldPaths = (root: NamedType, obj: unknown): string[] => {
  const r = zodOf(root).safeParse(obj);
  if (r.success) return [];
  const paths: PropertyKey[][] = [];
  for (const issue of r.error.issues) {
    if (issue.code === "unrecognized_keys") for (const k of issue.keys) paths.push([...issue.path, k]);
  }
  if (paths.length > 1) {
    const pos = positions(obj, paths);
    const order = paths.map((_, i) => i).sort((a, b) => compareIndices(pos[a], pos[b]));
    return order.map((i) => formatPath(paths[i]));
  }
  return paths.map(formatPath);
};
