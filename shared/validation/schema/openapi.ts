/**
 * OpenAPI v3 component schemas built from the type descriptions, in the shape
 * kube-apiserver publishes them: one component per Kubernetes definition name,
 * `$ref: "#/components/schemas/<name>"` for named types (wrapped in `allOf` when the
 * property carries its own description), int32/int64 formats, enums, and the
 * x-kubernetes-* extensions for list semantics and group-version-kinds.
 */
import { type Field, type NamedType, reachable, type TypeRef } from "./dsl";

export type Json = Record<string, any>;

export const REF_PREFIX = "#/components/schemas/";

const typeSchema = (t: TypeRef): Json => {
  switch (t.kind) {
    case "string":
      return { type: "string" };
    case "boolean":
      return { type: "boolean" };
    case "int32":
      return { type: "integer", format: "int32" };
    case "int64":
      return { type: "integer", format: "int64" };
    case "number":
      return { type: "number", format: "double" };
    case "enum":
      return { type: "string", enum: t.values.filter((v) => v !== "").sort() };
    case "named":
      return { $ref: REF_PREFIX + t.type.name };
    case "array":
      return { type: "array", items: typeSchema(t.items) };
    case "map":
      return { type: "object", additionalProperties: typeSchema(t.values) };
    case "json":
      return { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  }
};

const property = (f: Field): Json => {
  const s = typeSchema(f.type);
  if (s.$ref) return { description: f.description, allOf: [s], ...f.extensions };
  return { description: f.description, ...s, ...f.extensions };
};

const definition = (t: NamedType): Json => {
  if (t.kind === "named-scalar") return { description: t.description, ...t.openapi };
  const required = Object.entries(t.fields)
    .filter(([, f]) => f.required)
    .map(([k]) => k);
  return {
    description: t.description,
    type: "object",
    properties: Object.fromEntries(Object.entries(t.fields).map(([k, f]) => [k, property(f)])),
    ...(required.length ? { required } : {}),
    ...t.extensions,
  };
};

/** The components for `roots` and every type they reach, keyed by definition name. */
export const openApiComponents = (roots: NamedType[]): Record<string, Json> => Object.fromEntries(reachable(roots).map((t) => [t.name, definition(t)]));
