/**
 * The rules of a CustomResourceDefinition (apiextensions.k8s.io/v1), as
 * apiextensions-apiserver's ValidateCustomResourceDefinition words them: the name is
 * `<plural>.<group>`, names are DNS labels, one storage version and at least one
 * served, and every version's openAPIV3Schema is structural (a type everywhere, no
 * disallowed keywords, the x-kubernetes-* extensions used where they may be).
 */
import type { StatusCause } from "../status";
import { Causes, child, index } from "../validation/causes";
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain } from "../validation/names";
import { compilePattern, isSimpleJsonPath, patternProblem, schemaCauses } from "./schema";

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

const TYPES = ["array", "boolean", "integer", "number", "object", "string"];
const COLUMN_TYPES = ["integer", "number", "string", "boolean", "date"];
const DISALLOWED = ["$ref", "$schema", "id", "definitions", "dependencies", "additionalItems", "patternProperties"];

/** Everything wrong with a CRD's spec (metadata is the generic rules'). */
export const validateCRD = (crd: Obj): StatusCause[] => {
  const c = new Causes();
  const spec: Obj = isObj(crd.spec) ? crd.spec : {};
  const names: Obj = isObj(spec.names) ? spec.names : {};
  const group = typeof spec.group === "string" ? spec.group : "";
  const name = crd.metadata?.name ?? "";
  if (!group) c.required("spec.group", "");
  else {
    for (const m of isDNS1123Subdomain(group)) c.invalid("spec.group", group, m);
    if (!group.includes(".")) c.invalid("spec.group", group, "should be a domain with at least one dot");
  }
  if (names.plural && group && name !== `${names.plural}.${group}`) c.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group');
  validateNames(names, "spec.names", c);
  if (!spec.scope) c.required("spec.scope", "");
  else if (spec.scope !== "Cluster" && spec.scope !== "Namespaced") c.notSupported("spec.scope", spec.scope, ["Cluster", "Namespaced"]);
  const versions: Obj[] = Array.isArray(spec.versions) ? spec.versions : [];
  if (!versions.length) c.invalid("spec.versions", versions, "must have exactly one version marked as storage version");
  else {
    const storage = versions.filter((v) => isObj(v) && v.storage === true).length;
    if (storage !== 1)
      c.invalid(
        "spec.versions",
        versions.map((v) => v?.name),
        "must have exactly one version marked as storage version",
      );
    if (!versions.some((v) => isObj(v) && v.served === true))
      c.invalid(
        "spec.versions",
        versions.map((v) => v?.name),
        "must have at least one version marked as served",
      );
  }
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const p = index("spec.versions", i);
    if (!isObj(v)) return c.typeInvalid(p, v, "must be an object");
    if (!v.name) c.required(child(p, "name"), "");
    else {
      for (const m of isDNS1035Label(String(v.name))) c.invalid(child(p, "name"), v.name, m);
      if (seen.has(v.name)) c.duplicate(child(p, "name"), v.name);
      seen.add(v.name);
    }
    if (typeof v.served !== "boolean") c.required(child(p, "served"), "");
    if (typeof v.storage !== "boolean") c.required(child(p, "storage"), "");
    const schema = v.schema?.openAPIV3Schema;
    if (!isObj(schema)) c.required(child(p, "schema.openAPIV3Schema"), "schemas are required");
    else validateStructural(schema, child(p, "schema.openAPIV3Schema"), c);
    validateSubresources(v.subresources, child(p, "subresources"), c);
    (Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns : []).forEach((col: Obj, j: number) => {
      const cp = index(child(p, "additionalPrinterColumns"), j);
      if (!col?.name) c.required(child(cp, "name"), "");
      if (!col?.type) c.required(child(cp, "type"), "");
      else if (!COLUMN_TYPES.includes(col.type)) c.notSupported(child(cp, "type"), col.type, COLUMN_TYPES);
      if (!col?.jsonPath) c.required(child(cp, "jsonPath"), "");
      else if (!isSimpleJsonPath(col.jsonPath)) c.invalid(child(cp, "jsonPath"), col.jsonPath, 'must be a simple JSON path (.a.b, [0], [?(@.k=="v")])');
    });
  });
  if (spec.preserveUnknownFields === true) {
    c.invalid("spec.preserveUnknownFields", true, "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead");
  }
  const strategy = spec.conversion?.strategy;
  if (strategy !== undefined && strategy !== "None" && strategy !== "Webhook") c.notSupported("spec.conversion.strategy", strategy, ["None", "Webhook"]);
  return c.list;
};

const validateNames = (names: Obj, p: string, c: Causes) => {
  for (const f of ["plural", "singular"]) {
    if (f === "plural" && !names.plural) c.required(child(p, f), "");
    else if (names[f]) for (const m of isDNS1123Label(String(names[f]))) c.invalid(child(p, f), names[f], m);
  }
  if (!names.kind) c.required(child(p, "kind"), "");
  for (const f of ["kind", "listKind"]) {
    if (names[f] && !/^[a-zA-Z][a-zA-Z0-9]*$/.test(String(names[f])))
      c.invalid(child(p, f), names[f], "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?");
  }
  if (names.kind && names.kind === names.listKind) c.invalid(child(p, "listKind"), names.listKind, "kind and listKind may not be the same");
  for (const f of ["shortNames", "categories"]) {
    (Array.isArray(names[f]) ? names[f] : []).forEach((s: unknown, i: number) => {
      for (const m of isDNS1123Label(String(s))) c.invalid(index(child(p, f), i), s, m);
    });
  }
};

const validateSubresources = (sub: unknown, p: string, c: Causes) => {
  if (!isObj(sub) || !isObj(sub.scale)) return;
  const s = sub.scale;
  const sp = child(p, "scale");
  if (!s.specReplicasPath) c.required(child(sp, "specReplicasPath"), "");
  else if (!/^\.spec(\.[^.[\]]+)+$/.test(s.specReplicasPath)) c.invalid(child(sp, "specReplicasPath"), s.specReplicasPath, "should start with .spec");
  if (!s.statusReplicasPath) c.required(child(sp, "statusReplicasPath"), "");
  else if (!/^\.status(\.[^.[\]]+)+$/.test(s.statusReplicasPath)) c.invalid(child(sp, "statusReplicasPath"), s.statusReplicasPath, "should start with .status");
  if (s.labelSelectorPath && !/^\.(status|spec)(\.[^.[\]]+)+$/.test(s.labelSelectorPath)) {
    c.invalid(child(sp, "labelSelectorPath"), s.labelSelectorPath, "should start with .spec or .status");
  }
};

/**
 * The structural schema rules (apiextensions-apiserver's pkg/apiserver/schema):
 * every property and item has a non-empty type (except under
 * x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields), the
 * disallowed keywords are absent, uniqueItems is not true, properties and
 * additionalProperties exclude each other, x-kubernetes-embedded-resource needs an
 * object, the root is an object and its metadata restricts only name and
 * generateName; defaults validate against their schema.
 */
export const validateStructural = (schema: Obj, p: string, c: Causes) => {
  if (schema.type !== "object") c.invalid(child(p, "type"), schema.type ?? "", "must be object at the root");
  walk(schema, p, c, 0, true);
  const meta = schema.properties?.metadata;
  if (isObj(meta)) {
    const mp = child(p, "properties[metadata]");
    if (meta.type !== undefined && meta.type !== "object") c.invalid(child(mp, "type"), meta.type, "must be object");
    for (const k of Object.keys(meta)) {
      if (!["type", "properties", "description"].includes(k)) c.forbidden(child(mp, k), "must not be specified");
    }
    for (const k of Object.keys(isObj(meta.properties) ? meta.properties : {})) {
      if (k !== "name" && k !== "generateName") c.forbidden(child(mp, `properties[${k}]`), "must not be specified");
    }
  }
};

const walk = (s: unknown, p: string, c: Causes, depth: number, root = false): void => {
  if (!isObj(s)) {
    c.typeInvalid(p, s, "must be an object");
    return;
  }
  if (depth > 64) {
    c.forbidden(p, "nested too deeply");
    return;
  }
  for (const k of DISALLOWED) if (s[k] !== undefined) c.forbidden(child(p, k), "must not be specified in a structural schema");
  if (s.uniqueItems === true) c.forbidden(child(p, "uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity becomes quadratic");
  const intOrString = s["x-kubernetes-int-or-string"] === true;
  const preserve = s["x-kubernetes-preserve-unknown-fields"] === true;
  if (s["x-kubernetes-preserve-unknown-fields"] === false) c.invalid(child(p, "x-kubernetes-preserve-unknown-fields"), false, "must be true or undefined");
  if (intOrString) {
    if (s.type) c.invalid(child(p, "type"), s.type, "must be empty if x-kubernetes-int-or-string is true");
  } else if (!s.type) {
    if (!preserve) c.required(child(p, "type"), "must not be empty for specified object fields");
  } else if (!TYPES.includes(s.type)) c.notSupported(child(p, "type"), s.type, TYPES);
  if (s["x-kubernetes-embedded-resource"] === true && s.type !== "object")
    c.required(child(p, "type"), "must be object if x-kubernetes-embedded-resource is true");
  if (s.nullable !== undefined && typeof s.nullable !== "boolean") c.typeInvalid(child(p, "nullable"), s.nullable, "must be a boolean");
  if (isObj(s.properties) && s.additionalProperties !== undefined && s.additionalProperties !== false) {
    c.forbidden(child(p, "additionalProperties"), "additionalProperties and properties are mutual exclusive");
  }
  if (typeof s.pattern === "string" && !compilePattern(s.pattern))
    c.invalid(child(p, "pattern"), s.pattern, patternProblem(s.pattern) || "must be a valid regular expression");
  if (s.type === "array" && !isObj(s.items)) c.required(child(p, "items"), "must be specified");
  if (Array.isArray(s.required) && s.required.some((r: unknown) => typeof r !== "string")) c.typeInvalid(child(p, "required"), s.required, "must be strings");
  if (isObj(s.properties)) for (const [k, x] of Object.entries(s.properties)) walk(x, `${child(p, "properties")}[${k}]`, c, depth + 1);
  if (isObj(s.items)) walk(s.items, child(p, "items"), c, depth + 1);
  else if (Array.isArray(s.items)) c.forbidden(child(p, "items"), "items must be a schema object and not an array");
  if (isObj(s.additionalProperties)) walk(s.additionalProperties, child(p, "additionalProperties"), c, depth + 1);
  for (const k of ["allOf", "anyOf", "oneOf"]) {
    if (s[k] !== undefined && !Array.isArray(s[k])) c.typeInvalid(child(p, k), s[k], "must be a list of schemas");
  }
  if (s.default !== undefined && !root) {
    c.list.push(...schemaCauses(s, s.default, child(p, "default")).list);
  }
};
