/**
 * Kubernetes resource quantities ("100m", "0.5", "128Mi", "1G", "1e3"): parsing to a
 * number of base units (cores, bytes, pods) and formatting back.
 */

export class QuantityError extends Error {}

const PATTERN = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export const QUANTITY_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** The value of a quantity in base units; throws QuantityError when it is not one. */
export const parseQuantity = (q: string | number): number => {
  if (typeof q === "number") {
    if (!Number.isFinite(q)) throw new QuantityError(QUANTITY_MESSAGE);
    return q;
  }
  if (typeof q !== "string") throw new QuantityError(QUANTITY_MESSAGE);
  const m = PATTERN.exec(q.trim() === q ? q : "");
  if (!m) throw new QuantityError(QUANTITY_MESSAGE);
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  return n * SUFFIX[m[3] ?? ""];
};

export const isQuantity = (q: unknown): boolean => {
  if (typeof q !== "string" && typeof q !== "number") return false;
  try {
    parseQuantity(q);
    return true;
  } catch {
    return false;
  }
};

/** Round up, forgiving floating-point noise (0.1 * 1000 = 100.00000000000001). */
const ceil = (x: number) => Math.ceil(Number(x.toPrecision(12)));

/** Thousandths (millicores for cpu). */
export const milliValue = (q: string | number): number => ceil(parseQuantity(q) * 1000);

/** Whole base units, rounded up (bytes for memory). */
export const value = (q: string | number): number => ceil(parseQuantity(q));

/** Canonical text: the largest exact suffix (binary for BinarySI, decimal for DecimalSI). */
export const formatQuantity = (v: number, format: "BinarySI" | "DecimalSI" = "DecimalSI"): string => {
  if (v === 0) return "0";
  const sign = v < 0 ? "-" : "";
  const a = Math.abs(v);
  if (format === "BinarySI" && Number.isInteger(a) && a >= 1024) {
    for (const s of ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"]) {
      if (a % SUFFIX[s] === 0) return `${sign}${a / SUFFIX[s]}${s}`;
    }
  }
  for (const s of ["E", "P", "T", "G", "M", "k", "", "m", "u", "n"]) {
    const n = a / SUFFIX[s];
    const r = Math.round(n);
    if (r >= 1 && Math.abs(n - r) < 1e-9 * Math.max(1, r)) return `${sign}${r}${s}`;
  }
  return `${sign}${a}`;
};
