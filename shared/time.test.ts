import { describe, expect, it } from "vitest";
import { rfc3339, rfc3339Error, rfc3339Micro } from "./time";

describe("API timestamps", () => {
  const d = new Date(Date.UTC(2024, 4, 1, 12, 0, 7, 89));
  it("metav1.Time drops the fraction", () => {
    expect(rfc3339(d)).toBe("2024-05-01T12:00:07Z");
    expect(rfc3339(new Date(Date.UTC(2024, 4, 1)))).toBe("2024-05-01T00:00:00Z");
  });
  it("metav1.MicroTime keeps six fractional digits", () => {
    expect(rfc3339Micro(d)).toBe("2024-05-01T12:00:07.089000Z");
  });
  it("accepts the RFC 3339 times metav1.Time decodes, and says why others are not", () => {
    for (const ok of [
      "2024-05-01T12:00:07Z",
      "2024-05-01T12:00:07.089000Z",
      "2024-02-29T23:59:59+05:30",
      "0001-01-01T00:00:00Z",
      rfc3339(d),
      rfc3339Micro(d),
    ]) {
      expect(rfc3339Error(ok), ok).toBeUndefined();
    }
    expect(rfc3339Error("not-a-time")).toBe('parsing time "not-a-time" as "2006-01-02T15:04:05Z07:00": not an RFC 3339 time');
    for (const bad of ["", "2024-05-01", "2024-05-01 12:00:07Z", "2024-05-01t12:00:07z", "2024-05-01T12:00:07", "1714564807"]) {
      expect(rfc3339Error(bad), bad).toContain("not an RFC 3339 time");
    }
    expect(rfc3339Error("2024-13-01T00:00:00Z")).toContain("month out of range");
    expect(rfc3339Error("2023-02-29T00:00:00Z")).toContain("day out of range");
    expect(rfc3339Error("2024-05-01T24:00:00Z")).toContain("hour out of range");
    expect(rfc3339Error("2024-05-01T12:00:60Z")).toContain("second out of range");
    expect(rfc3339Error("2024-05-01T12:00:00+24:00")).toContain("time zone offset out of range");
  });
});
