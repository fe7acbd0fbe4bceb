/**
 * The OpenAPI schemas of the custom resources (kubectl explain, clients): each served
 * version's openAPIV3Schema under the definition name kube-apiserver gives it
 * (`<reversed group>.<version>.<Kind>`, e.g. com.example.stable.v1.CronTab), with
 * apiVersion, kind and a reference to ObjectMeta, and x-kubernetes-group-version-kind.
 */
import type { ResourceInfo } from "../../../shared/resources";
import { REF_PREFIX } from "../../../shared/validation/schema/openapi";
import type { Kind } from "../kinds/kind";
import { customKinds } from "./catalog";

type Json = Record<string, any>;

export const customSchemaName = (info: Pick<ResourceInfo, "group" | "version" | "kind">) =>
  `${info.group.split(".").reverse().join(".")}.${info.version}.${info.kind}`;

const schemaOf = (k: Kind): Json => {
  const s: Json = structuredClone(k.strategy.custom?.schema ?? {});
  s.type ??= "object";
  s.properties = {
    apiVersion: {
      type: "string",
      description:
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.",
    },
    kind: { type: "string", description: "Kind is a string value representing the REST resource this object represents. In CamelCase." },
    metadata: { allOf: [{ $ref: `${REF_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` }], description: "Standard object's metadata." },
    ...(s.properties ?? {}),
  };
  // the root's metadata may only restrict name and generateName: the ObjectMeta reference says the rest
  s.properties.metadata = { allOf: [{ $ref: `${REF_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` }], description: "Standard object's metadata." };
  s["x-kubernetes-group-version-kind"] = [{ group: k.info.group, kind: k.info.kind, version: k.info.version }];
  return s;
};

/** Definition name to schema, for every served version of every established CRD. */
export const customOpenApiSchemas = (): Record<string, Json> => Object.fromEntries(customKinds().map((k) => [customSchemaName(k.info), schemaOf(k)]));
