/** Server-set metadata helpers. Pure apart from randomness and the clock passed in. */

const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

/** The random suffix kube-apiserver appends to generateName (5 characters). */
export const randomSuffix = (n = 5): string => {
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => ALPHANUMS[b % ALPHANUMS.length]).join("");
};

export const generateName = (prefix: string): string => {
  // names are at most 253 characters (63 for DNS labels): trim the prefix as Kubernetes does
  const max = 63 - 5;
  return (prefix.length > max ? prefix.slice(0, max) : prefix) + randomSuffix();
};

/** RFC 3339 with second precision, as metav1.Time serializes. */
export { rfc3339 as timestamp } from "../../shared/time";

export const newUid = (): string => crypto.randomUUID();

export const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** Deep structural equality of JSON values. */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => jsonEqual(ao[k], bo[k]));
};
