/** Timestamps as the Kubernetes API writes them. Pure. */

/** RFC 3339 to the second, as metav1.Time serializes: 2024-05-01T12:00:00Z. */
export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/** RFC 3339 to the microsecond, as metav1.MicroTime serializes: 2024-05-01T12:00:00.123000Z. */
export const rfc3339Micro = (d: Date): string => d.toISOString().replace(/Z$/, "000Z");

/** The layout Go's time.RFC3339 names, as its parse errors quote it. */
const RFC3339_LAYOUT = "2006-01-02T15:04:05Z07:00";

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,]\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * Why `s` is not a time metav1.Time (or MicroTime) decodes: Go's time.Parse with
 * RFC 3339 (fraction optional, `T` and `Z` upper case, every field in range).
 * Undefined when it is one.
 */
export const rfc3339Error = (s: string): string | undefined => {
  const shown = JSON.stringify(s);
  const m = RFC3339_RE.exec(s);
  if (!m) return `parsing time ${shown} as "${RFC3339_LAYOUT}": not an RFC 3339 time`;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const outOf = (what: string) => `parsing time ${shown}: ${what} out of range`;
  if (month < 1 || month > 12) return outOf("month");
  if (day < 1 || day > daysIn(year, month)) return outOf("day");
  if (hour > 23) return outOf("hour");
  if (minute > 59) return outOf("minute");
  if (second > 59) return outOf("second");
  if (m[7] !== undefined && (Number(m[7]) > 23 || Number(m[8]) > 59)) return `parsing time ${shown}: time zone offset out of range`;
  return undefined;
};
