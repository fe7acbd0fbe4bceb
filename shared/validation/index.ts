/**
 * Validation of every served kind, from one set of zod schemas: the type check and
 * unknown-field detection (from the schemas), the semantic rules (rules.ts), and the
 * OpenAPI v3 component schemas kubectl reads for `explain` (also from the schemas).
 */
import { z } from "zod";
import type { ResourceInfo } from "../resources";
import type { StatusCause } from "../status";
import type { KObject } from "../types";
import { Deployment, EndpointSlice, Lease, ReplicaSet, Scale } from "./apps";
import { ConfigMap, Endpoints, Event, Namespace, Node, Pod, ReplicationController, Secret, Service } from "./core";
import { semanticCauses } from "./rules";

const SCHEMAS: Record<string, z.ZodType> = {
  Pod,
  Node,
  Service,
  Endpoints,
  Event,
  ConfigMap,
  Secret,
  Namespace,
  ReplicationController,
  Deployment,
  ReplicaSet,
  Lease,
  Scale,
  EndpointSlice,
};

export const schemaForKind = (kind: string): z.ZodType | undefined => SCHEMAS[kind];

/** `spec.containers[0].image` from a zod issue path. */
export const formatPath = (path: PropertyKey[]): string =>
  path.reduce<string>((s, p) => (typeof p === "number" ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)), "");

/** A copy without null-valued fields: JSON null means "unset" for Kubernetes' decoder. */
export const withoutNulls = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = withoutNulls(x);
  return out;
};

const typeName = (v: unknown) => (v === undefined ? "undefined" : Array.isArray(v) ? "array" : v === null ? "null" : typeof v);

const valueAt = (obj: unknown, path: PropertyKey[]): unknown => {
  let cur: any = obj;
  for (const p of path) cur = cur == null ? undefined : cur[p as any];
  return cur;
};

/** Paths of fields the kind's schema does not have, as kube-apiserver names them in `unknown field "..."`. */
export const unknownFields = (kind: string, obj: unknown): string[] => {
  const schema = SCHEMAS[kind];
  if (!schema) return [];
  const r = schema.safeParse(withoutNulls(obj));
  if (r.success) return [];
  const out: string[] = [];
  for (const issue of r.error.issues) {
    if (issue.code === "unrecognized_keys") for (const k of issue.keys) out.push(formatPath([...issue.path, k]));
  }
  return out;
};

/** Everything wrong with `obj`, as Status causes (empty when valid). Unknown fields are not reported here. */
export const validateObject = (info: ResourceInfo, obj: KObject): StatusCause[] => {
  const schema = SCHEMAS[info.kind];
  const clean = withoutNulls(obj) as KObject;
  if (schema) {
    const r = schema.safeParse(clean);
    if (!r.success) {
      const causes: StatusCause[] = [];
      for (const issue of r.error.issues) {
        if (issue.code === "unrecognized_keys") continue;
        const field = formatPath(issue.path);
        const actual = valueAt(clean, issue.path);
        if (actual === undefined) causes.push({ reason: "FieldValueRequired", field, message: "Required value" });
        else {
          const expected = issue.code === "invalid_type" ? issue.expected : issue.code === "invalid_union" ? "string or number" : "a valid value";
          causes.push({ reason: "FieldValueTypeInvalid", field, message: `Invalid value: ${JSON.stringify(actual)?.slice(0, 80)}: expected ${expected}, got ${typeName(actual)}` });
        }
      }
      if (causes.length) return causes;
    }
  }
  return semanticCauses(info, clean);
};

type Json = Record<string, any>;

/** Kubernetes writes these named scalar types as plain strings. */
const SCALARS: Record<string, Json> = {
  "io.k8s.apimachinery.pkg.api.resource.Quantity": { type: "string", description: "An amount of a resource, such as 100m or 0.5 CPUs, or 128Mi or 1G bytes." },
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": { type: "string", format: "int-or-string", "x-kubernetes-int-or-string": true, description: "Either a whole number or a string, such as a port number or a port name, or 25%." },
  "io.k8s.apimachinery.pkg.apis.meta.v1.Time": { type: "string", format: "date-time", description: "A point in time, written in RFC 3339 form (2006-01-02T15:04:05Z)." },
  "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": { type: "string", format: "date-time", description: "A point in time with microseconds, in RFC 3339 form." },
};

/** Tidy zod's JSON Schema into Kubernetes' OpenAPI style. */
const tidy = (v: any): any => {
  if (Array.isArray(v)) return v.map(tidy);
  if (!v || typeof v !== "object") return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === "additionalProperties" && x === false) continue;
    if (k === "$ref" && typeof x === "string") {
      out[k] = x.replace("#/definitions/", "#/components/schemas/").replace("#/$defs/", "#/components/schemas/");
      continue;
    }
    out[k] = tidy(x);
  }
  if (out.type === "integer") {
    const int32 = out.minimum === -2147483648 && out.maximum === 2147483647;
    if (int32 || Math.abs(out.minimum ?? 0) >= Number.MAX_SAFE_INTEGER) {
      delete out.minimum;
      delete out.maximum;
      out.format = int32 ? "int32" : "int64";
    }
  }
  // a record of anything: an object with free-form properties
  if (out.type === "object" && out.additionalProperties && Object.keys(out.additionalProperties).length === 0) {
    out["x-kubernetes-preserve-unknown-fields"] = true;
    delete out.additionalProperties;
  }
  // an optional field described at the use site: zod wraps the $ref in allOf (Kubernetes does too)
  return out;
};

let cached: Record<string, Json> | undefined;

/** OpenAPI v3 component schemas keyed by Kubernetes definition name (io.k8s.api.core.v1.Pod, ...). */
export const openApiSchemas = (): Record<string, Json> => {
  if (cached) return cached;
  const root = z.toJSONSchema(z.object(SCHEMAS as Record<string, z.ZodType>), { target: "openapi-3.0", unrepresentable: "any" } as any) as Json;
  const defs: Json = root.definitions ?? root.$defs ?? root.components?.schemas ?? {};
  const out: Record<string, Json> = {};
  for (const [name, schema] of Object.entries(defs)) out[name] = SCALARS[name] ?? tidy(schema);
  for (const [name, schema] of Object.entries(SCALARS)) out[name] ??= schema;
  cached = out;
  return out;
};
