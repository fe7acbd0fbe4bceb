/** The four PATCH formats applied to a live object. */
import { jsonPatch } from "../../shared/patch/json";
import { jsonMergePatch } from "../../shared/patch/merge";
import { strategicMergePatch } from "../../shared/patch/strategic";
import { ApiError, badRequest } from "../../shared/status";
import type { KObject } from "../../shared/types";

export type PatchType = "json" | "merge" | "strategic" | "apply";

const isObject = (v: unknown) => !!v && typeof v === "object" && !Array.isArray(v);

/**
 * `base` with `patch` applied, for an object of `kind` (strategic merge needs the
 * kind's patch strategies). `applied` is the server-side apply configuration already
 * checked as an object of the kind. A patch that cannot apply is 422 Invalid.
 */
export const applyPatch = (
  base: KObject,
  type: PatchType,
  patch: unknown,
  kind: string,
  target: { name: string; group: string; resource: string },
): KObject => {
  let out: unknown;
  try {
    switch (type) {
      case "json":
        if (!Array.isArray(patch)) throw badRequest("a JSON patch must be an array of operations");
        out = jsonPatch(base, patch);
        break;
      case "merge":
        if (!isObject(patch)) throw badRequest("a merge patch must be a JSON object");
        out = jsonMergePatch(base, patch as object);
        break;
      case "strategic":
        if (!isObject(patch)) throw badRequest("a strategic merge patch must be a JSON object");
        out = strategicMergePatch(base, patch as object, kind);
        break;
      case "apply":
        // Server-side apply, simplified: the applied configuration is merged over the
        // live object with strategic-merge semantics (no managedFields conflicts).
        out = strategicMergePatch(base, patch as object, kind);
        break;
    }
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(422, "Invalid", (e as Error).message, { name: target.name, group: target.group, kind: target.resource });
  }
  if (!isObject(out)) throw badRequest("the patch did not produce an object");
  return out as KObject;
};
