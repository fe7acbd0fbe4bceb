/**
 * A small declarative language for the API types: every served type is written once,
 * with Kubernetes definition names, field descriptions and list semantics, and both
 * the zod schemas (type checks, unknown fields) and the OpenAPI v3 components (kubectl
 * explain) are built from it.
 *
 *   export const ContainerPort = object("io.k8s.api.core.v1.ContainerPort", "A port a container listens on.", {
 *     containerPort: req(int32, "Port number inside the container."),
 *     protocol: opt(oneOf(["SCTP", "TCP", "UDP"]), "TCP, UDP or SCTP."),
 *   });
 */

/** How a named scalar is checked and documented. */
export type ScalarCheck = "quantity" | "int-or-string" | "time" | "object";

/** A type with a Kubernetes definition name: an object with fields, or a named scalar (Quantity, Time, ...). */
export type NamedType = ObjectType | NamedScalar;

export interface ObjectType {
  kind: "object";
  name: string;
  description: string;
  fields: Record<string, Field>;
  /** extensions on the definition itself (x-kubernetes-group-version-kind, x-kubernetes-map-type) */
  extensions: Record<string, unknown>;
}

export interface NamedScalar {
  kind: "named-scalar";
  name: string;
  description: string;
  check: ScalarCheck;
  /** the OpenAPI body (type, format, extensions), without the description */
  openapi: Record<string, unknown>;
}

export type TypeRef =
  | { kind: "string" | "boolean" | "int32" | "int64" | "number" }
  | {
      kind: "enum";
      /** in the order kube-apiserver lists them in "supported values" */
      values: readonly string[];
      /** whether the type check rejects other values (false: documented only, the rules check it) */
      check: boolean;
      /** whether "" is accepted too (an empty value that means "unset" or "all") */
      allowEmpty: boolean;
    }
  | { kind: "named"; type: NamedType }
  | { kind: "array"; items: TypeRef }
  | { kind: "map"; values: TypeRef }
  /** a free-form JSON object, kept as is */
  | { kind: "json" };

export interface Field {
  type: TypeRef;
  description: string;
  required: boolean;
  /** x-kubernetes-* extensions on the property */
  extensions: Record<string, unknown>;
}

// ---------------------------------------------------------------- types

export const string: TypeRef = { kind: "string" };
export const boolean: TypeRef = { kind: "boolean" };
export const int32: TypeRef = { kind: "int32" };
export const int64: TypeRef = { kind: "int64" };
export const number: TypeRef = { kind: "number" };
/** A free-form object (a part of the API Kubeflare keeps but does not model). */
export const json: TypeRef = { kind: "json" };

/** A string with a fixed set of values. */
export const oneOf = (values: readonly string[], opts: { allowEmpty?: boolean; check?: boolean } = {}): TypeRef => ({
  kind: "enum",
  values,
  check: opts.check ?? true,
  allowEmpty: opts.allowEmpty ?? false,
});

const toRef = (t: TypeRef | NamedType): TypeRef => ("name" in t ? { kind: "named", type: t } : t);

export const listOf = (items: TypeRef | NamedType): TypeRef => ({ kind: "array", items: toRef(items) });
export const mapOf = (values: TypeRef | NamedType): TypeRef => ({ kind: "map", values: toRef(values) });
/** map[string]string, as labels, annotations and selectors are. */
export const stringMap: TypeRef = { kind: "map", values: string };

// ---------------------------------------------------------------- list and map semantics

export type Semantics = Record<string, unknown>;

/**
 * A list merged element by element on `mergeKey` by strategic merge patch, and a
 * map-typed list (keyed by `mapKeys`) for server-side apply.
 */
export const keyed = (mergeKey: string, mapKeys: string[] = [mergeKey], patchStrategy = "merge"): Semantics => ({
  "x-kubernetes-list-map-keys": mapKeys,
  "x-kubernetes-list-type": "map",
  "x-kubernetes-patch-merge-key": mergeKey,
  "x-kubernetes-patch-strategy": patchStrategy,
});
/** A map-typed list for server-side apply that strategic merge patch replaces. */
export const mapList = (...mapKeys: string[]): Semantics => ({ "x-kubernetes-list-map-keys": mapKeys, "x-kubernetes-list-type": "map" });
/** A list replaced as a whole. */
export const atomic: Semantics = { "x-kubernetes-list-type": "atomic" };
/** A list of unique scalars, merged as a set. */
export const set: Semantics = { "x-kubernetes-list-type": "set" };
/** A struct or map replaced as a whole. */
export const atomicMap: Semantics = { "x-kubernetes-map-type": "atomic" };

// ---------------------------------------------------------------- fields

const field =
  (required: boolean) =>
  (type: TypeRef | NamedType, description: string, ...semantics: Semantics[]): Field => ({
    type: toRef(type),
    description,
    required,
    extensions: Object.assign({}, ...semantics),
  });

/** An optional field. */
export const opt = field(false);
/** A field the schema lists as required. */
export const req = field(true);

// ---------------------------------------------------------------- named types

export const object = (name: string, description: string, fields: Record<string, Field>, ...extensions: Semantics[]): ObjectType => ({
  kind: "object",
  name,
  description,
  fields,
  extensions: Object.assign({}, ...extensions),
});

/** Marks a top-level kind for kubectl: x-kubernetes-group-version-kind. */
export const gvk = (group: string, version: string, kind: string): Semantics => ({
  "x-kubernetes-group-version-kind": [{ group, kind, version }],
});

export const namedScalar = (name: string, description: string, check: ScalarCheck, openapi: Record<string, unknown>): NamedScalar => ({
  kind: "named-scalar",
  name,
  description,
  check,
  openapi,
});

/** The types `t` refers to directly. */
export const references = (t: TypeRef): NamedType[] => {
  switch (t.kind) {
    case "named":
      return [t.type];
    case "array":
      return references(t.items);
    case "map":
      return references(t.values);
    default:
      return [];
  }
};

/** Every named type reachable from `roots`, each once, in first-seen order. */
export const reachable = (roots: NamedType[]): NamedType[] => {
  const seen = new Map<string, NamedType>();
  const visit = (t: NamedType) => {
    const prior = seen.get(t.name);
    if (prior) {
      if (prior !== t) throw new Error(`two different types are named ${t.name}`);
      return;
    }
    seen.set(t.name, t);
    if (t.kind === "object") for (const f of Object.values(t.fields)) references(f.type).forEach(visit);
  };
  roots.forEach(visit);
  return [...seen.values()];
};
