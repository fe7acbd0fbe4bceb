/**
 * Kubernetes resource quantities (resource.Quantity): "100m", "0.5", "128Mi", "1G",
 * "1e3". Parsing is exact (a decimal mantissa with power-of-ten and power-of-two
 * exponents, kept as BigInts), so rounding to millis or whole units never suffers from
 * floating-point noise; formatting follows Kubernetes' canonical form.
 *
 * Parsing is bounded: a quantity is at most MAX_QUANTITY_LENGTH characters and its
 * exponent at most 1000, so no input costs more than a few microseconds (BigInt parsing
 * of a long digit string is quadratic: 2.5 million digits took seconds).
 * kube-apiserver has no length limit (it stores arbitrary-precision decimals), but no
 * real quantity comes anywhere near it: int64 has 19 digits, nano precision 9 more.
 * Out-of-range values are handled as kube-apiserver handles them: binary-suffixed
 * values are capped at 2^63-1 (ParseQuantity's maxAllowed); milliValue and value,
 * which stand for Go's int64 MilliValue/Value, saturate at ±(2^63-1).
 */

export class QuantityError extends Error {
  constructor(
    message = QUANTITY_MESSAGE,
    /** set when the text is longer than MAX_QUANTITY_LENGTH */
    readonly tooLong = false,
  ) {
    super(message);
    this.name = "QuantityError";
  }
}

/** The longest quantity text Kubeflare parses. */
export const MAX_QUANTITY_LENGTH = 100;

/** int64's largest value: what kube-apiserver caps binary-suffixed quantities at. */
const MAX_INT64 = 2n ** 63n - 1n;

/** The message kube-apiserver gives for a malformed quantity. */
export const QUANTITY_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** <sign><digits>[.<digits>] then one of: a decimal exponent, an SI suffix, a binary suffix. */
const PATTERN = /^([+-]?)(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

/** Power of ten of each decimal suffix, power of two of each binary one. */
const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** An exact quantity: mantissa × 10^exp10 × 2^exp2 (exp2 ≥ 0). */
interface Exact {
  mantissa: bigint;
  exp10: number;
  exp2: number;
}

const parseExact = (q: string | number): Exact => {
  let text: string;
  if (typeof q === "number") {
    if (!Number.isFinite(q)) throw new QuantityError();
    // integers past 2^53 are taken exactly (2^60 is 1Ei, not its shortest decimal)
    if (Number.isInteger(q) && Math.abs(q) > Number.MAX_SAFE_INTEGER) return { mantissa: BigInt(q), exp10: 0, exp2: 0 };
    text = String(q); // the shortest decimal that round-trips, e.g. "0.1", "1e-7", "1e+21"
  } else if (typeof q === "string") {
    text = q;
  } else {
    throw new QuantityError();
  }
  if (text.length > MAX_QUANTITY_LENGTH) throw new QuantityError(`quantities may not be more than ${MAX_QUANTITY_LENGTH} characters`, true);
  const m = PATTERN.exec(text);
  if (!m) throw new QuantityError();
  const [, sign, number, exponent, suffix] = m;
  const [whole, fraction = ""] = number.split(".");
  let mantissa = BigInt((whole || "0") + fraction);
  if (sign === "-") mantissa = -mantissa;
  let exp10 = -fraction.length;
  let exp2 = 0;
  if (exponent !== undefined) exp10 += Number(exponent);
  else if (suffix !== undefined && suffix in BINARY_SUFFIX) exp2 = BINARY_SUFFIX[suffix];
  else exp10 += DECIMAL_SUFFIX[suffix ?? ""];
  if (!Number.isFinite(exp10) || Math.abs(exp10) > 1000) throw new QuantityError();
  if (exp2 > 0 && exceedsInt64(mantissa, exp10, exp2)) return { mantissa: mantissa < 0n ? -MAX_INT64 : MAX_INT64, exp10: 0, exp2: 0 };
  return { mantissa, exp10, exp2 };
};

/** |mantissa × 10^exp10 × 2^exp2| > 2^63-1 (exp10 is ≤ 0 here: binary suffixes take no exponent). */
const exceedsInt64 = (mantissa: bigint, exp10: number, exp2: number): boolean => {
  const abs = (mantissa < 0n ? -mantissa : mantissa) << BigInt(exp2);
  return exp10 >= 0 ? abs * 10n ** BigInt(exp10) > MAX_INT64 : abs > MAX_INT64 * 10n ** BigInt(-exp10);
};

/** A BigInt as a number, saturated at ±(2^63-1) as Go's int64 results would be. */
const int64Number = (n: bigint): number => Number(n > MAX_INT64 ? MAX_INT64 : n < -MAX_INT64 ? -MAX_INT64 : n);

const pow10 = (n: number) => 10n ** BigInt(n);

/** ⌈a / b⌉ for b > 0. */
const ceilDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
};

/** ⌈value × 10^scale⌉, exactly. */
const ceilScaled = (x: Exact, scale: number): bigint => {
  const e = x.exp10 + scale;
  const n = x.mantissa << BigInt(x.exp2);
  return e >= 0 ? n * pow10(e) : ceilDiv(n, pow10(-e));
};

/** The value of a quantity in base units (cores, bytes, ...); throws QuantityError when it is not one. */
export const parseQuantity = (q: string | number): number => {
  const x = parseExact(q);
  return Number(`${x.mantissa}e${x.exp10}`) * 2 ** x.exp2;
};

/** What is wrong with `q` as a quantity (undefined when it is one). */
export const quantityError = (q: unknown): QuantityError | undefined => {
  if (typeof q !== "string" && typeof q !== "number") return new QuantityError();
  try {
    parseExact(q);
    return undefined;
  } catch (e) {
    if (e instanceof QuantityError) return e;
    throw e;
  }
};

export const isQuantity = (q: unknown): boolean => quantityError(q) === undefined;

/** Thousandths of the value, rounded up (millicores for cpu): "0.1" → 100, "1.0001" → 1001; at most 2^63-1. */
export const milliValue = (q: string | number): number => int64Number(ceilScaled(parseExact(q), 3));

/** Thousandths of the value, rounded up, exactly (no int64 saturation): for sums of quantities (quota usage). */
export const milliExact = (q: string | number): bigint => ceilScaled(parseExact(q), 3);

/** Whole base units, rounded up (bytes for memory): "0.5" → 1, "1Mi" → 1048576; at most 2^63-1. */
export const value = (q: string | number): number => int64Number(ceilScaled(parseExact(q), 0));

/** Same as value(): bytes for memory and storage. */
export const byteValue = value;

/** Exact comparison of two quantities: -1, 0 or 1. */
export const compareQuantities = (a: string | number, b: string | number): -1 | 0 | 1 => {
  const x = parseExact(a);
  const y = parseExact(b);
  // bring both to the same power of ten, then compare mantissa × 2^exp2
  const e = Math.min(x.exp10, y.exp10);
  const nx = (x.mantissa << BigInt(x.exp2)) * pow10(x.exp10 - e);
  const ny = (y.mantissa << BigInt(y.exp2)) * pow10(y.exp10 - e);
  return nx < ny ? -1 : nx > ny ? 1 : 0;
};

const DECIMAL_BY_EXPONENT: Record<number, string> = { [-9]: "n", [-6]: "u", [-3]: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E" };
const BINARY_NAMES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

const formatDecimal = (sign: string, mantissa: bigint, exp10: number): string => {
  // no precision below nano: round up (away from zero)
  if (exp10 < -9) {
    mantissa = ceilDiv(mantissa, pow10(-9 - exp10));
    exp10 = -9;
  }
  if (mantissa === 0n) return "0";
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exp10++;
  }
  // the largest suffix that leaves a whole mantissa
  let e = Math.floor(exp10 / 3) * 3;
  if (e > 18) e = 18;
  if (e < -9) e = -9;
  return `${sign}${mantissa * pow10(exp10 - e)}${DECIMAL_BY_EXPONENT[e]}`;
};

/**
 * Canonical text of a value, as Kubernetes serializes quantities: DecimalSI uses the
 * largest decimal suffix with a whole mantissa (1500 → "1500", 2000 → "2k", 0.1 →
 * "100m"); BinarySI uses binary suffixes for whole values of at least 1024 (1Gi,
 * 1536Mi) and decimal notation below that. Sub-nano precision is rounded up.
 */
export const formatQuantity = (v: number | string, format: "BinarySI" | "DecimalSI" = "DecimalSI"): string => {
  const x = parseExact(v);
  const sign = x.mantissa < 0n ? "-" : "";
  const abs = x.mantissa < 0n ? -x.mantissa : x.mantissa;
  if (format === "BinarySI" && Math.abs(typeof v === "number" ? v : parseQuantity(v)) >= 1024) {
    let n = ceilScaled({ mantissa: abs, exp10: x.exp10, exp2: x.exp2 }, 0);
    let i = 0;
    while (i < BINARY_NAMES.length - 1 && n % 1024n === 0n) {
      n /= 1024n;
      i++;
    }
    return `${sign}${n}${BINARY_NAMES[i]}`;
  }
  return formatDecimal(sign, abs << BigInt(x.exp2), x.exp10);
};
