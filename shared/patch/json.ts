/**
 * RFC 6902 JSON patch (`application/json-patch+json`, what `kubectl patch --type=json`
 * and `kubectl rollout undo` send), applied with fast-json-patch to a deep copy.
 *
 * Errors, as kube-apiserver classes them:
 * - a malformed patch (not an array, an operation that is not an object, an unknown
 *   `op`, a missing or malformed `path`/`from`, a missing `value`) → 400 BadRequest;
 * - more than 10000 operations → 413 RequestEntityTooLarge;
 * - `copy` operations that add more than 3 MiB between them (kube-apiserver's
 *   --json-patch-max-copy-bytes: each copy can double the document) → 422;
 * - an operation that does not apply to the document (a missing path, an index out of
 *   range, a failed `test`) → 422 Invalid, "the server rejected our request due to an
 *   error in our request: <what failed, naming the path>".
 *
 * Paths may not go through `__proto__`, and every step of a path must be an own
 * property of the document (so `/constructor/...` cannot reach Object).
 */
import jsonpatch, { type Operation } from "fast-json-patch";
import { ApiError, badRequest } from "../status";
import { jsonEqual, isObject, own } from "../json";

/** kube-apiserver's limit on the number of operations in one JSON patch. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/** kube-apiserver's limit on what a patch's `copy` operations may add between them (JSON bytes). */
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;

const OPS = ["add", "remove", "replace", "move", "copy", "test"] as const;
type OpName = (typeof OPS)[number];

const unprocessable = (detail: string) =>
  new ApiError(422, "Invalid", `the server rejected our request due to an error in our request: ${detail}`, {
    causes: [{ reason: "UnexpectedServerResponse", message: detail }],
  });

/** The reference tokens of a JSON pointer, or an error message. */
const parsePointer = (p: string): string[] | string => {
  if (p === "") return [];
  if (!p.startsWith("/")) return `path ${JSON.stringify(p)} must be empty or start with "/"`;
  const out: string[] = [];
  for (const raw of p.slice(1).split("/")) {
    if (/~(?![01])/.test(raw)) return `path ${JSON.stringify(p)} has an invalid escape sequence`;
    const tok = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (tok === "__proto__") return `path ${JSON.stringify(p)} may not contain __proto__`;
    out.push(tok);
  }
  return out;
};

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/** The value at `tokens` (own properties and in-range indices only), or `found: false`. */
const lookup = (doc: unknown, tokens: string[]): { found: true; value: unknown } | { found: false } => {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      if (!ARRAY_INDEX.test(t) || Number(t) >= cur.length) return { found: false };
      cur = cur[Number(t)];
    } else if (isObject(cur)) {
      if (!own(cur, t)) return { found: false };
      cur = cur[t];
    } else return { found: false };
  }
  return { found: true, value: cur };
};

interface CheckedOp {
  op: OpName;
  path: string;
  tokens: string[];
  from?: string;
  fromTokens?: string[];
  value?: unknown;
}

/** Shape checks of one operation (400 on failure). */
const checkOp = (raw: unknown, i: number): CheckedOp => {
  if (!isObject(raw)) throw badRequest(`json patch operation ${i} is not an object`);
  const op = raw.op;
  if (typeof op !== "string" || !(OPS as readonly string[]).includes(op)) {
    throw badRequest(`json patch operation ${i}: unexpected op ${JSON.stringify(op ?? null)} (one of ${OPS.join(", ")})`);
  }
  if (typeof raw.path !== "string") throw badRequest(`json patch operation ${i} (${op}): missing path`);
  const tokens = parsePointer(raw.path);
  if (typeof tokens === "string") throw badRequest(`json patch operation ${i} (${op}): ${tokens}`);
  const out: CheckedOp = { op: op as OpName, path: raw.path, tokens };
  if (op === "move" || op === "copy") {
    if (typeof raw.from !== "string") throw badRequest(`json patch operation ${i} (${op}): missing from`);
    const fromTokens = parsePointer(raw.from);
    if (typeof fromTokens === "string") throw badRequest(`json patch operation ${i} (${op}): from ${fromTokens}`);
    out.from = raw.from;
    out.fromTokens = fromTokens;
  }
  if (op === "add" || op === "replace" || op === "test") {
    if (!own(raw, "value") || raw.value === undefined) throw badRequest(`json patch operation ${i} (${op}): missing value`);
    out.value = raw.value;
  }
  return out;
};

/** Can a value be added at `tokens` (the parent exists; an array index is in 0..length or "-")? */
const checkAddTarget = (doc: unknown, tokens: string[], what: string, path: string) => {
  if (tokens.length === 0) return;
  const parent = lookup(doc, tokens.slice(0, -1));
  const last = tokens[tokens.length - 1];
  if (!parent.found || (!isObject(parent.value) && !Array.isArray(parent.value))) {
    throw unprocessable(`${what} operation does not apply: doc is missing path: ${JSON.stringify(path)}`);
  }
  if (Array.isArray(parent.value) && last !== "-" && (!ARRAY_INDEX.test(last) || Number(last) > parent.value.length)) {
    throw unprocessable(`${what} operation does not apply: invalid index referenced: ${JSON.stringify(path)}`);
  }
};

/** Apply an RFC 6902 patch to a deep copy of `doc`; neither argument is changed. */
export const jsonPatch = <T>(doc: T, ops: unknown[]): T => {
  if (!Array.isArray(ops)) throw badRequest("a JSON patch must be an array of operations");
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new ApiError(413, "RequestEntityTooLarge", `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`);
  }
  const checked = ops.map(checkOp);
  let cur: unknown = structuredClone(doc);
  let copied = 0;
  for (const o of checked) {
    switch (o.op) {
      case "test": {
        const at = lookup(cur, o.tokens);
        // as evanphx/json-patch: testing null against a missing member succeeds
        const ok = at.found ? jsonEqual(at.value, o.value) : o.value === null;
        if (!ok) throw unprocessable(`testing value ${o.path} failed: test failed`);
        continue;
      }
      case "add":
        checkAddTarget(cur, o.tokens, "add", o.path);
        break;
      case "remove":
        if (o.tokens.length === 0 || !lookup(cur, o.tokens).found) {
          throw unprocessable(`remove operation does not apply: doc is missing path: ${JSON.stringify(o.path)}`);
        }
        break;
      case "replace":
        if (!lookup(cur, o.tokens).found) throw unprocessable(`replace operation does not apply: doc is missing key: ${o.path}`);
        break;
      case "move":
      case "copy": {
        const from = lookup(cur, o.fromTokens!);
        if (!from.found) throw unprocessable(`${o.op} operation does not apply: doc is missing from path: ${o.from}`);
        if (o.op === "copy") {
          copied += JSON.stringify(from.value)?.length ?? 0;
          if (copied > MAX_JSON_PATCH_COPY_BYTES) {
            throw unprocessable(`Unable to complete the copy, the accumulated size increase of copy is ${copied}, greater than ${MAX_JSON_PATCH_COPY_BYTES}`);
          }
          checkAddTarget(cur, o.tokens, o.op, o.path);
          break;
        }
        if (o.path === o.from) continue;
        if ((o.path + "/").startsWith(o.from! + "/")) {
          throw unprocessable(`move operation does not apply: cannot move ${o.from} into its own child ${o.path}`);
        }
        // a remove, then an add whose target is checked after the value left `from` (the
        // document is this patch's own copy: a failed check discards it with the patch)
        try {
          const { removed } = jsonpatch.applyOperation(cur, { op: "remove", path: o.from! }, false, true, true);
          checkAddTarget(cur, o.tokens, o.op, o.path);
          cur = jsonpatch.applyOperation(cur, { op: "add", path: o.path, value: removed }, false, true, true).newDocument;
        } catch (e) {
          if (e instanceof ApiError) throw e;
          throw unprocessable(`move operation does not apply: ${(e as Error).message.split("\n")[0]}`);
        }
        continue;
      }
    }
    const operation = { op: o.op, path: o.path, from: o.from, value: o.value === undefined ? undefined : structuredClone(o.value) } as Operation;
    if (operation.op !== "move" && operation.op !== "copy") delete (operation as { from?: string }).from;
    if (o.value === undefined) delete (operation as { value?: unknown }).value;
    try {
      cur = jsonpatch.applyOperation(cur, operation, false, true, true).newDocument;
    } catch (e) {
      throw unprocessable(`${o.op} operation does not apply: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return cur as T;
};
