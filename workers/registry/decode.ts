/** A request body as an object of the endpoint's kind, and what fieldValidation does with unknown fields. */
import { groupVersion, type ResourceInfo } from "../../shared/resources";
import { badRequest } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { unknownFields } from "../../shared/validation";
import { clone } from "./meta";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

/**
 * A copy of `body` as an object of `info`'s kind (apiVersion and kind filled in); 400 when it is not one.
 * `fresh`: `body` is already a copy no one else holds (a patch's result), taken as it is.
 */
export const toObject = (info: ResourceInfo, body: unknown, o: { fresh?: boolean } = {}): KObject => {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("the request body must be a JSON or YAML object");
  const obj = (o.fresh ? body : clone(body)) as KObject;
  const gv = groupVersion(info);
  if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
    throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${gv})`);
  }
  if (obj.kind !== undefined && obj.kind !== info.kind) {
    throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${info.kind})`);
  }
  if (obj.metadata !== undefined && (typeof obj.metadata !== "object" || obj.metadata === null || Array.isArray(obj.metadata))) {
    throw badRequest("metadata must be an object");
  }
  obj.apiVersion = gv;
  obj.kind = info.kind;
  obj.metadata = obj.metadata ?? {};
  return obj;
};

/** fieldValidation: Strict rejects unknown fields (400), Warn drops them with a warning, Ignore drops them silently. */
export const checkUnknownFields = (kind: string, obj: KObject, mode: FieldValidation = "Warn", find?: (obj: KObject) => string[]): string[] => {
  // a custom resource's are the fields its schema prunes (find)
  const unknown = find ? find(obj) : unknownFields(kind, obj);
  if (unknown.length === 0) return [];
  if (mode === "Strict") {
    throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(", ")}`);
  }
  dropPaths(obj, unknown);
  return mode === "Warn" ? unknown.map((f) => `unknown field "${f}"`) : [];
};

/** Remove dotted/indexed paths such as `spec.containers[0].foo` from an object. */
export const dropPaths = (obj: unknown, paths: string[]): void => {
  for (const path of paths) {
    const parts = path.match(/[^.[\]]+/g) ?? [];
    let cur: any = obj;
    for (let i = 0; i < parts.length - 1 && cur != null; i++) cur = cur[Array.isArray(cur) ? Number(parts[i]) : parts[i]];
    if (cur && typeof cur === "object") delete cur[parts[parts.length - 1]];
  }
};
