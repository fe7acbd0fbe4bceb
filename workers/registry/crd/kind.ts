/**
 * The kinds a CustomResourceDefinition serves: one catalog entry per served version,
 * with a strategy that checks, prunes and defaults objects against that version's
 * structural schema (shared/crd/schema.ts), the status and scale subresources, and a
 * printer from additionalPrinterColumns (apiextensions-apiserver's
 * customresource_handler and tableconvertor).
 */
import { applySchemaDefaults, jsonPathValue, type Schema, schemaCauses, unknownPaths } from "../../../shared/crd/schema";
import { parseLabelSelector } from "../../../shared/selectors/labels";
import { methodNotAllowed, type StatusCause } from "../../../shared/status";
import type { KObject } from "../../../shared/types";
import { withoutNulls } from "../../../shared/validation";
import { semanticCauses } from "../../../shared/validation/rules";
import { object, opt, string } from "../../../shared/validation/schema/dsl";
import { ObjectMeta } from "../../../shared/validation/schema/meta";
import { typeCauses } from "../../../shared/validation/typecheck";
import { defineKind, type Kind } from "../kinds/kind";
import { type Column, col, NAME, since } from "../kinds/printing";

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** What every custom object has besides its schema: apiVersion, kind and ObjectMeta. */
const CustomObjectMeta = object("io.k8s.kubeflare.CustomObject", "A custom object.", {
  apiVersion: opt(string, "API version."),
  kind: opt(string, "Kind."),
  metadata: opt(ObjectMeta, "Standard object metadata."),
});

export const CRD_RESOURCE = "customresourcedefinitions";
export const CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";

const condition = (crd: KObject, type: string) => (crd.status?.conditions ?? []).find((c: Obj) => c?.type === type);
export const isEstablished = (crd: KObject) => condition(crd, "Established")?.status === "True";
export const isTerminating = (crd: KObject) => !!crd.metadata.deletionTimestamp || condition(crd, "Terminating")?.status === "True";

/** The custom resource a version of a CRD serves: subresources, schema and columns. */
export interface CustomVersion {
  crd: string;
  schema: Schema;
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  /** the storage version's name (objects are stored with its apiVersion) */
  storage: string;
  /** the warning every request to this version gets when it is deprecated */
  deprecation?: string;
  terminating: boolean;
}

/** The printer of a version: its additionalPrinterColumns, or NAME and AGE (kube's default for CRs). */
const printerOf = (cols: Obj[]) => {
  const columns: Column[] = [NAME];
  const paths: { path: string; type: string }[] = [];
  for (const c of cols) {
    if (!isObj(c) || typeof c.jsonPath !== "string") continue;
    const type = c.type === "date" ? "date" : c.type === "integer" || c.type === "number" || c.type === "boolean" ? c.type : "string";
    columns.push(col(String(c.name ?? ""), String(c.description ?? ""), { type, format: String(c.format ?? ""), priority: Number(c.priority ?? 0) }));
    paths.push({ path: c.jsonPath, type });
  }
  if (!cols.length) {
    columns.push(col("Age", "Time since the object was created.", { type: "date" }));
    paths.push({ path: ".metadata.creationTimestamp", type: "date" });
  }
  return {
    columns,
    cells: (o: KObject, now: number) => [
      o.metadata.name,
      ...paths.map(({ path, type }) => {
        const v = jsonPathValue(o, path);
        if (v === undefined || v === null) return null;
        if (type === "string") return typeof v === "string" ? v : JSON.stringify(v);
        // a date column is printed as the time since (apiextensions-apiserver's table convertor)
        if (type === "date") return typeof v === "string" ? since(v, now) : null;
        return v;
      }),
    ],
  };
};

/** The served versions of an established CRD as catalog entries (first: the storage version, then the rest in spec order). */
export const customKindsOf = (crd: KObject): Kind[] => {
  const spec: Obj = crd.spec ?? {};
  const names: Obj = crd.status?.acceptedNames?.plural ? crd.status.acceptedNames : (spec.names ?? {});
  const versions: Obj[] = (Array.isArray(spec.versions) ? spec.versions : []).filter((v: Obj) => isObj(v) && v.served);
  const storage = (spec.versions ?? []).find((v: Obj) => v?.storage)?.name ?? versions[0]?.name;
  versions.sort((a, b) => (a.name === storage ? -1 : b.name === storage ? 1 : 0));
  return versions.map((v) => {
    const status = isObj(v.subresources) && v.subresources.status !== undefined && v.subresources.status !== null;
    const scale = isObj(v.subresources?.scale) ? v.subresources.scale : undefined;
    const schema: Schema = isObj(v.schema?.openAPIV3Schema) ? v.schema.openAPIV3Schema : { type: "object", "x-kubernetes-preserve-unknown-fields": true };
    const deprecation = v.deprecated ? (v.deprecationWarning ?? `${spec.group}/${v.name} ${names.kind} is deprecated`) : undefined;
    const custom: CustomVersion = { crd: crd.metadata.name!, schema, scale, storage, terminating: isTerminating(crd), deprecation };
    const namespaced = spec.scope === "Namespaced";
    return defineKind({
      info: {
        resource: names.plural,
        singular: names.singular || String(names.kind ?? "").toLowerCase(),
        kind: names.kind,
        listKind: names.listKind || `${names.kind}List`,
        group: spec.group,
        version: v.name,
        namespaced,
        shortNames: Array.isArray(names.shortNames) ? names.shortNames : undefined,
        categories: Array.isArray(names.categories) ? names.categories : undefined,
        subresources: [...(status ? ["status"] : []), ...(scale ? ["scale"] : [])],
        hasStatus: status,
      },
      strategy: customStrategy(custom, spec.group, namespaced, status),
      printer: printerOf(Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns : []),
    });
  });
};

const customStrategy = (custom: CustomVersion, group: string, namespaced: boolean, status: boolean): Kind["strategy"] => ({
  custom,
  // kube counts generation for every custom resource
  tracksGeneration: true,
  prepareForCreate(obj) {
    // with the status subresource, a create does not set status
    if (status) delete obj.status;
  },
  admit() {
    if (custom.terminating) throw methodNotAllowed("create not allowed while custom resource definition is terminating");
    return [];
  },
  // defaulting from the schema (after pruning, before validation), as the CR decoder does
  normalize(obj) {
    applySchemaDefaults(custom.schema, obj);
    // stored in the storage version (conversion None: only apiVersion differs); reads show the version asked for
    obj.apiVersion = `${group}/${custom.storage}`;
  },
  unknownFields: (obj) => unknownPaths(custom.schema, obj),
  typeErrors: (obj) => [
    ...typeCauses(CustomObjectMeta, withoutNulls({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata })),
    ...schemaCauses(custom.schema, obj).list,
  ],
  validate: (obj): StatusCause[] => {
    const causes = semanticCauses("", namespaced, withoutNulls(obj));
    causes.push(...schemaCauses(custom.schema, obj).list);
    if (custom.scale) {
      const r = jsonPathValue(obj, custom.scale.specReplicasPath);
      if (r !== undefined && r !== null && (!Number.isInteger(r) || (r as number) < 0)) {
        causes.push({
          reason: "FieldValueInvalid",
          field: custom.scale.specReplicasPath.slice(1),
          message: `Invalid value: ${JSON.stringify(r)}: should be a non-negative integer`,
        });
      }
    }
    return causes;
  },
  scaleSelector: custom.scale?.labelSelectorPath
    ? (obj) => {
        const s = jsonPathValue(obj, custom.scale!.labelSelectorPath!);
        if (typeof s !== "string" || !s) return null;
        try {
          return parseLabelSelector(s);
        } catch {
          return null;
        }
      }
    : undefined,
});
