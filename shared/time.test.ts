import { describe, expect, it } from "vitest";
import { rfc3339, rfc3339Micro } from "./time";

describe("API timestamps", () => {
  const d = new Date(Date.UTC(2024, 4, 1, 12, 0, 7, 89));
  it("metav1.Time drops the fraction", () => {
    expect(rfc3339(d)).toBe("2024-05-01T12:00:07Z");
    expect(rfc3339(new Date(Date.UTC(2024, 4, 1)))).toBe("2024-05-01T00:00:00Z");
  });
  it("metav1.MicroTime keeps six fractional digits", () => {
    expect(rfc3339Micro(d)).toBe("2024-05-01T12:00:07.089000Z");
  });
});
