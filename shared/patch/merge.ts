/**
 * RFC 7386 JSON merge patch (`application/merge-patch+json`, what `kubectl patch
 * --type=merge` and `kubectl label`/`annotate` send): objects merge key by key, `null`
 * deletes a key, arrays and scalars replace, a patch that is not an object replaces the
 * whole document. Neither input is changed and the result shares nothing with them.
 * `__proto__` keys of the patch are ignored.
 */
import { isObject, type Obj, own } from "../json";

/** A JSON value with the `null` members of its objects removed (a patch applied to nothing). */
const withoutNulls = (patch: Obj): Obj => mergeInto({}, patch);

const mergeInto = (target: Obj, patch: Obj): Obj => {
  for (const [k, v] of Object.entries(patch)) {
    if (k === "__proto__") continue;
    if (v === null) {
      delete target[k];
    } else if (isObject(v)) {
      const cur = own(target, k) ? target[k] : undefined;
      target[k] = isObject(cur) ? mergeInto(cur, v) : withoutNulls(v);
    } else {
      target[k] = structuredClone(v);
    }
  }
  return target;
};

export const jsonMergePatch = <T>(doc: T, patch: unknown): T => {
  if (!isObject(patch)) return structuredClone(patch) as T;
  const target: Obj = isObject(doc) ? structuredClone(doc) : {};
  return mergeInto(target, patch) as T;
};
