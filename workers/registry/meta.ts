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
