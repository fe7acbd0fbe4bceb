/**
 * Custom objects against their version's structural schema, as
 * apiextensions-apiserver does it: value validation (types, required, enum, pattern,
 * bounds, lengths, item counts, cheap formats), pruning of fields the schema does not
 * declare, and defaulting. Pure code; the schema is a CRD's `openAPIV3Schema`
 * (JSONSchemaProps), already checked to be structural (./validate.ts).
 *
 * Not evaluated: anyOf/allOf/oneOf/not (accepted in CRDs, not checked on objects),
 * CEL rules (x-kubernetes-validations), multipleOf exclusivity beyond numbers.
 */
import { RE2JS } from "re2js";
import { Causes, child, index } from "../validation/causes";

export type Schema = Record<string, any>;
type Obj = Record<string, any>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** The JSON type name of a value as the schema names types. */
const jsonType = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "number" ? (Number.isInteger(v) ? "integer" : "number") : typeof v;

const typeMatches = (type: string, v: unknown): boolean => {
  const t = jsonType(v);
  if (type === "number") return t === "number" || t === "integer";
  return t === type;
};

const FORMATS: Record<string, RegExp> = {
  "date-time": /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  uuid: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
  ipv4: /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/,
  hostname: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  email: /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
  byte: /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
};

/** A pattern compiled by re2js (Go's RE2 syntax and semantics, matched in linear time). */
export interface Pattern {
  test(v: string): boolean;
}

/**
 * Why a pattern is refused, or "" when it may be used. Kubernetes matches with Go's RE2
 * (linear time, no lookaround, no backreferences); so does this, through re2js: a pattern
 * Go's regexp refuses is refused, and no pattern and value can make matching take more
 * than linear time (JavaScript's own engine backtracks: `(a+)+$` against a long run of
 * `a`s and a `!` would block the server).
 */
export const patternProblem = (p: string): string => {
  if (p.length > 4096) return "must be no more than 4096 characters";
  try {
    RE2JS.compile(p);
    return "";
  } catch (e) {
    return `must be a valid regular expression: ${(e as Error).message}`;
  }
};

/** A compiled pattern, or null when the pattern is not a valid regular expression here (see patternProblem). */
const patternCache = new Map<string, Pattern | null>();
export const compilePattern = (p: string): Pattern | null => {
  if (!patternCache.has(p)) {
    let re: Pattern | null = null;
    if (p.length <= 4096) {
      try {
        const compiled = RE2JS.compile(p);
        re = { test: (v) => compiled.matcher(v).find() };
      } catch {
        re = null;
      }
    }
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(p, re);
  }
  return patternCache.get(p) ?? null;
};

const MAX_CAUSES = 100;

/**
 * Everything wrong with `value` at `path` under `schema`, as Status causes worded like
 * apiextensions-apiserver's (kube-openapi's validate package): `spec.size in body must
 * be of type integer: "big"`, `Required value`, `Unsupported value`, bounds.
 */
export const schemaCauses = (schema: Schema, value: unknown, path = ""): Causes => {
  const c = new Causes();
  check(schema, value, path, c, true);
  return c;
};

const check = (s: Schema, v: unknown, path: string, c: Causes, root = false): void => {
  if (c.list.length >= MAX_CAUSES || !isObj(s)) return;
  if (v === null || v === undefined) {
    if (v === null && !s.nullable && s.type && !root) c.typeInvalid(path, v, `${path} in body must be of type ${s.type}: "null"`);
    return;
  }
  if (s["x-kubernetes-int-or-string"]) {
    if (jsonType(v) !== "integer" && typeof v !== "string") c.typeInvalid(path, v, `${path} in body must be of type integer,string: "${jsonType(v)}"`);
    return;
  }
  const type: string | undefined = s.type;
  if (type && !typeMatches(type, v)) {
    c.typeInvalid(path, v, `${path} in body must be of type ${type}: "${jsonType(v)}"`);
    return;
  }
  if (Array.isArray(s.enum) && s.enum.length && !s.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) {
    c.notSupported(
      path,
      v,
      s.enum.map((e: unknown) => (typeof e === "string" ? e : JSON.stringify(e))),
    );
  }
  if (typeof v === "string") checkString(s, v, path, c);
  else if (typeof v === "number") checkNumber(s, v, path, c);
  else if (Array.isArray(v)) {
    if (typeof s.maxItems === "number" && v.length > s.maxItems) c.tooMany(path, v.length, s.maxItems);
    if (typeof s.minItems === "number" && v.length < s.minItems) c.invalid(path, v.length, `${path} in body should have at least ${s.minItems} items`);
    if (isObj(s.items)) v.forEach((x, i) => check(s.items, x, index(path, i), c));
    listUniqueness(s, v, path, c);
  } else if (isObj(v)) {
    const props: Obj = isObj(s.properties) ? s.properties : {};
    for (const r of Array.isArray(s.required) ? s.required : []) {
      if (typeof r === "string" && (v[r] === undefined || v[r] === null) && !(root && (r === "apiVersion" || r === "kind" || r === "metadata"))) {
        c.required(child(path, r), "");
      }
    }
    // an embedded resource (x-kubernetes-embedded-resource) says what it is
    if (s["x-kubernetes-embedded-resource"] === true) {
      if (typeof v.apiVersion !== "string" || !v.apiVersion) c.required(child(path, "apiVersion"), "must not be empty");
      if (typeof v.kind !== "string" || !v.kind) c.required(child(path, "kind"), "must not be empty");
    }
    const n = Object.keys(v).length;
    if (typeof s.maxProperties === "number" && n > s.maxProperties) c.tooMany(path, n, s.maxProperties);
    if (typeof s.minProperties === "number" && n < s.minProperties) c.invalid(path, n, `${path} in body should have at least ${s.minProperties} properties`);
    for (const [k, x] of Object.entries(v)) {
      if (root && (k === "metadata" || k === "apiVersion" || k === "kind")) continue;
      const sub = props[k] ?? (isObj(s.additionalProperties) ? s.additionalProperties : undefined);
      if (sub) check(sub, x, child(path, k), c);
    }
  }
};

/** x-kubernetes-list-type set (unique items) and map (unique x-kubernetes-list-map-keys) */
const listUniqueness = (s: Schema, v: unknown[], path: string, c: Causes) => {
  const type = s["x-kubernetes-list-type"];
  const keys: string[] = Array.isArray(s["x-kubernetes-list-map-keys"]) ? s["x-kubernetes-list-map-keys"] : [];
  if (type !== "set" && !(type === "map" && keys.length)) return;
  const seen = new Set<string>();
  v.forEach((x, i) => {
    const id = type === "set" ? JSON.stringify(x) : JSON.stringify(keys.map((k) => (isObj(x) ? (x[k] ?? null) : null)));
    if (seen.has(id)) {
      if (type === "set") c.duplicate(index(path, i), x);
      else c.duplicate(index(path, i), Object.fromEntries(keys.map((k) => [k, isObj(x) ? x[k] : undefined])));
    }
    seen.add(id);
  });
};

const checkString = (s: Schema, v: string, path: string, c: Causes) => {
  const len = [...v].length;
  if (typeof s.maxLength === "number" && len > s.maxLength) c.tooLong(path, s.maxLength);
  if (typeof s.minLength === "number" && len < s.minLength) c.invalid(path, v, `${path} in body should be at least ${s.minLength} chars long`);
  if (typeof s.pattern === "string") {
    const re = compilePattern(s.pattern);
    if (re && !re.test(v)) c.invalid(path, v, `${path} in body should match '${s.pattern}'`);
  }
  const f = typeof s.format === "string" ? FORMATS[s.format] : undefined;
  if (f && !f.test(v)) c.invalid(path, v, `${path} in body must be of type ${s.format}: ${JSON.stringify(v)}`);
};

const checkNumber = (s: Schema, v: number, path: string, c: Causes) => {
  if (typeof s.maximum === "number") {
    if (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum) {
      c.invalid(path, v, `${path} in body should be less than ${s.exclusiveMaximum ? "" : "or equal to "}${s.maximum}`);
    }
  }
  if (typeof s.minimum === "number") {
    if (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum) {
      c.invalid(path, v, `${path} in body should be greater than ${s.exclusiveMinimum ? "" : "or equal to "}${s.minimum}`);
    }
  }
  if (typeof s.multipleOf === "number" && s.multipleOf > 0 && !Number.isInteger(v / s.multipleOf)) {
    c.invalid(path, v, `${path} in body should be a multiple of ${s.multipleOf}`);
  }
};

// ---------------------------------------------------------------- pruning

/** Whether a node keeps fields it does not declare. */
const preserves = (s: Schema) => s["x-kubernetes-preserve-unknown-fields"] === true;

/**
 * The paths of the fields pruning removes (`spec.extra`, `spec.items[0].x`), in
 * document order: fields an object schema does not declare, unless it (or
 * additionalProperties) preserves them. At the root apiVersion, kind and metadata
 * stay; an embedded resource keeps its apiVersion, kind and metadata too.
 */
export const unknownPaths = (schema: Schema, obj: unknown): string[] => {
  const out: string[] = [];
  walkPrune(schema, obj, "", out, true);
  return out;
};

const walkPrune = (s: Schema | undefined, v: unknown, path: string, out: string[], root = false): void => {
  if (!isObj(s) || out.length > 1000) return;
  if (Array.isArray(v)) {
    if (isObj(s.items)) v.forEach((x, i) => walkPrune(s.items, x, index(path, i), out));
    return;
  }
  if (!isObj(v)) return;
  const props: Obj = isObj(s.properties) ? s.properties : {};
  const embedded = root || s["x-kubernetes-embedded-resource"] === true;
  for (const [k, x] of Object.entries(v)) {
    if (embedded && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
    const sub = props[k];
    if (sub) walkPrune(sub, x, child(path, k), out);
    else if (isObj(s.additionalProperties)) walkPrune(s.additionalProperties, x, child(path, k), out);
    else if (!preserves(s) && s.additionalProperties !== true) out.push(child(path, k));
  }
};

// ---------------------------------------------------------------- defaulting

/**
 * Fill in the schema's defaults, in place: a missing (or, with nullable false, null)
 * property with a `default` gets a copy of it, then its own schema's defaults apply
 * below. Arrays and additionalProperties are defaulted element by element.
 */
export const applySchemaDefaults = (schema: Schema, obj: unknown): void => {
  walkDefault(schema, obj, 0);
};

const walkDefault = (s: Schema | undefined, v: unknown, depth: number): void => {
  if (!isObj(s) || depth > 64) return;
  if (Array.isArray(v)) {
    if (isObj(s.items)) for (const x of v) walkDefault(s.items, x, depth + 1);
    return;
  }
  if (!isObj(v)) return;
  const props: Obj = isObj(s.properties) ? s.properties : {};
  for (const [k, p] of Object.entries(props)) {
    if (!isObj(p)) continue;
    if (p.default !== undefined && (v[k] === undefined || (v[k] === null && !p.nullable))) v[k] = structuredClone(p.default);
    if (v[k] !== undefined) walkDefault(p, v[k], depth + 1);
  }
  if (isObj(s.additionalProperties)) {
    for (const [k, x] of Object.entries(v)) if (!(k in props)) walkDefault(s.additionalProperties, x, depth + 1);
  }
};

// ---------------------------------------------------------------- paths

/**
 * A value at a simple JSONPath as CRDs use them (additionalPrinterColumns, the scale
 * subresource): `.spec.replicas`, `.status.conditions[0].type`,
 * `.status.conditions[?(@.type=="Ready")].status`, `.metadata.labels.app`. Undefined
 * when absent or when the path is outside the subset.
 */
export const jsonPathValue = (obj: unknown, path: string): unknown => {
  const p = path.trim().replace(/^\{(.*)\}$/, "$1");
  const re = /\.([^.[\]]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*["']([^"']*)["']\)\]|\['([^']+)'\]/gy;
  let cur: unknown = obj;
  let at = 0;
  let m: RegExpExecArray | null;
  re.lastIndex = 0;
  while (at < p.length) {
    re.lastIndex = at;
    m = re.exec(p);
    if (!m) return undefined;
    at = re.lastIndex;
    if (m[1] !== undefined || m[5] !== undefined) cur = isObj(cur) ? cur[m[1] ?? m[5]] : undefined;
    else if (m[2] !== undefined) cur = Array.isArray(cur) ? cur[Number(m[2])] : undefined;
    else cur = Array.isArray(cur) ? cur.find((x) => isObj(x) && String(x[m![3]]) === m![4]) : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
};

/** Whether a JSONPath is in the subset jsonPathValue follows. */
export const isSimpleJsonPath = (path: string): boolean => {
  if (!path.startsWith(".")) return false;
  return /^(\.[^.[\]]+|\[\d+\]|\[\?\(@\.[A-Za-z0-9_.-]+\s*==\s*["'][^"']*["']\)\]|\['[^']+'\])+$/.test(path);
};

/** Set a value at a simple dotted path (`.spec.replicas`), creating objects on the way. */
export const setPathValue = (obj: Obj, path: string, value: unknown): void => {
  const parts = path.split(".").filter(Boolean);
  let cur: Obj = obj;
  for (const part of parts.slice(0, -1)) {
    if (!isObj(cur[part])) cur[part] = {};
    cur = cur[part];
  }
  cur[parts[parts.length - 1]] = value;
};
