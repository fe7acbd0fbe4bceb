/**
 * Small builders for the API schemas: named object types (with Kubernetes definition
 * names, so the OpenAPI documents use the names kubectl expects), scalars, maps and
 * the Kubernetes special strings (Quantity, IntOrString, Time).
 */
import { z } from "zod";

/** A named, closed object type: unknown fields are reported (and dropped or rejected). */
export const named = <S extends z.ZodRawShape>(id: string, description: string, shape: S, extra: Record<string, unknown> = {}) =>
  z.strictObject(shape).meta({ id, description, ...extra });

export const str = (description: string) => z.string().describe(description).optional();
export const bool = (description: string) => z.boolean().describe(description).optional();
export const int32 = (description: string) => z.int32().describe(description).optional();
export const int64 = (description: string) => z.int().describe(description).optional();
export const strList = (description: string) => z.array(z.string()).describe(description).optional();
export const strMap = (description: string) => z.record(z.string(), z.string()).describe(description).optional();
/** A free-form object (kept as is). */
export const anyObject = (description: string) => z.record(z.string(), z.unknown()).describe(description).optional();

export const Quantity = z
  .union([z.string(), z.number()])
  .meta({ id: "io.k8s.apimachinery.pkg.api.resource.Quantity", description: "An amount of a resource, such as 100m or 0.5 CPUs, or 128Mi or 1G bytes." });
export const IntOrString = z
  .union([z.int32(), z.string()])
  .meta({ id: "io.k8s.apimachinery.pkg.util.intstr.IntOrString", description: "Either a whole number or a string, such as a port number or a port name, or 25%." });
export const Time = z
  .string()
  .meta({ id: "io.k8s.apimachinery.pkg.apis.meta.v1.Time", description: "A point in time, written in RFC 3339 form (2006-01-02T15:04:05Z)." });
export const MicroTime = z
  .string()
  .meta({ id: "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime", description: "A point in time with microseconds, in RFC 3339 form." });

export const quantityMap = (description: string) => z.record(z.string(), Quantity).describe(description).optional();

/** A list field that merges by `key` in strategic merge patches. */
export const keyedList = <T extends z.ZodType>(item: T, key: string, description: string) =>
  z.array(item).meta({
    description,
    "x-kubernetes-patch-merge-key": key,
    "x-kubernetes-patch-strategy": "merge",
    "x-kubernetes-list-map-keys": [key],
    "x-kubernetes-list-type": "map",
  }).optional();

export const atomicList = <T extends z.ZodType>(item: T, description: string) =>
  z.array(item).meta({ description, "x-kubernetes-list-type": "atomic" }).optional();

export const gvk = (group: string, version: string, kind: string) => ({ "x-kubernetes-group-version-kind": [{ group, kind, version }] });

export const TYPE_META = {
  apiVersion: str("The versioned schema of this object, such as v1 or apps/v1; the server fills it in."),
  kind: str("The kind of this object, such as Pod; the server fills it in."),
};
