/** RFC 6902 JSON patch (`application/json-patch+json`), as `kubectl rollout undo` sends it. */
import jsonpatch, { type Operation } from "fast-json-patch";
import { ApiError, badRequest } from "../status";

const OPS = new Set(["add", "remove", "replace", "move", "copy", "test"]);

export const jsonPatch = <T>(doc: T, ops: unknown[]): T => {
  for (const [i, op] of ops.entries()) {
    if (!op || typeof op !== "object" || Array.isArray(op)) throw badRequest(`json patch operation ${i} is not an object`);
    const o = op as Record<string, unknown>;
    if (typeof o.op !== "string" || !OPS.has(o.op)) throw badRequest(`json patch operation ${i}: unknown op ${JSON.stringify(o.op)}`);
    if (typeof o.path !== "string") throw badRequest(`json patch operation ${i}: missing path`);
    for (const p of [o.path, o.from]) {
      if (typeof p === "string" && /(^|\/)(__proto__|constructor|prototype)(\/|$)/.test(p)) throw badRequest(`json patch operation ${i}: forbidden path ${p}`);
    }
  }
  const copy = structuredClone(doc);
  const err = jsonpatch.validate(ops as Operation[], copy);
  if (err) {
    if (err.name === "TEST_OPERATION_FAILED") throw new ApiError(422, "Invalid", `the server rejected our request due to an error in our request: testing value ${JSON.stringify((err.operation as { value?: unknown })?.value)} at ${err.operation?.path} failed`);
    throw new ApiError(422, "Invalid", `the server rejected our request due to an error in our request: ${err.message.split("\n")[0]} (${err.operation?.op} ${err.operation?.path})`);
  }
  try {
    return jsonpatch.applyPatch(copy, ops as Operation[], false, true).newDocument as T;
  } catch (e) {
    throw new ApiError(422, "Invalid", `the server rejected our request due to an error in our request: ${(e as Error).message.split("\n")[0]}`);
  }
};
