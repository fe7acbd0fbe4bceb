/** RFC 7386 JSON merge patch (`application/merge-patch+json`): null deletes, arrays replace. */
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

export const jsonMergePatch = <T>(doc: T, patch: unknown): T => {
  if (!isObject(patch)) return structuredClone(patch) as T;
  const out: Record<string, unknown> = isObject(doc) ? { ...(doc as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === "__proto__") continue;
    if (v === null) delete out[k];
    else out[k] = isObject(v) ? jsonMergePatch(out[k], v) : structuredClone(v);
  }
  return out as T;
};
