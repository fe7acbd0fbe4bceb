/** Small helpers over JSON values: the patch formats, the registry and the controllers use them. */

export type Obj = Record<string, unknown>;

/** A JSON object (not an array, not null). */
export const isObject = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** An own property (a patch's `__proto__` or `constructor` key is data, not the prototype's). */
export const own = (o: object, k: string): boolean => Object.hasOwn(o, k);

/**
 * Structural equality of two JSON values. Key order does not matter, and a key whose
 * value is undefined counts as absent (objects built with spreads have such keys).
 */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => own(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
};

/**
 * A string that two JSON values share exactly when jsonEqual holds for them (key order
 * aside, a key whose value is undefined absent): a key for Map and Set lookups where
 * comparing every pair would be quadratic.
 */
export const jsonKey = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(jsonKey).join(",")}]`;
  if (isObject(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${jsonKey(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "undefined";
};
