/** Small helpers over parsed JSON values, shared by the three patch formats. */

export type Obj = Record<string, unknown>;

/** A JSON object (not an array, not null). */
export const isObject = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** An own property (a patch's `__proto__` or `constructor` key is data, not the prototype's). */
export const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Structural equality of two JSON values. */
export const deepEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => own(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
};
