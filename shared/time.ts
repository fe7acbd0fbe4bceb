/** Timestamps as the Kubernetes API writes them. Pure. */

/** RFC 3339 to the second, as metav1.Time serializes: 2024-05-01T12:00:00Z. */
export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/** RFC 3339 to the microsecond, as metav1.MicroTime serializes: 2024-05-01T12:00:00.123000Z. */
export const rfc3339Micro = (d: Date): string => d.toISOString().replace(/Z$/, "000Z");
