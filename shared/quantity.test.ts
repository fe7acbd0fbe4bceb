import { describe, expect, it } from "vitest";
import { formatQuantity, isQuantity, milliValue, parseQuantity, QuantityError, value } from "./quantity";

describe("quantities", () => {
  it("parses decimal, binary, exponent and milli forms", () => {
    expect(parseQuantity("100m")).toBeCloseTo(0.1);
    expect(parseQuantity("2")).toBe(2);
    expect(parseQuantity("0.5")).toBe(0.5);
    expect(parseQuantity("2Gi")).toBe(2 * 1024 ** 3);
    expect(parseQuantity("512Mi")).toBe(512 * 1024 ** 2);
    expect(parseQuantity("1k")).toBe(1000);
    expect(parseQuantity("1.5G")).toBe(1.5e9);
    expect(parseQuantity("1e3")).toBe(1000);
    expect(parseQuantity("+1")).toBe(1);
    expect(parseQuantity(3)).toBe(3);
  });

  it("rejects what Kubernetes rejects", () => {
    for (const bad of ["lots", "1.2.3", "Gi", "", "1 Gi", " 1", "1KB", "1gi"]) {
      expect(() => parseQuantity(bad)).toThrow(QuantityError);
      expect(isQuantity(bad)).toBe(false);
    }
  });

  it("gives millicores and bytes, rounding up", () => {
    expect(milliValue("0.1")).toBe(100);
    expect(milliValue("100m")).toBe(100);
    expect(milliValue("1")).toBe(1000);
    expect(milliValue("1.0001")).toBe(1001);
    expect(value("1Mi")).toBe(1048576);
    expect(value("0.5")).toBe(1);
  });

  it("formats canonically", () => {
    expect(formatQuantity(1024 ** 3, "BinarySI")).toBe("1Gi");
    expect(formatQuantity(1536 * 1024 ** 2, "BinarySI")).toBe("1536Mi");
    expect(formatQuantity(0.1)).toBe("100m");
    expect(formatQuantity(2000)).toBe("2k");
    expect(formatQuantity(1500)).toBe("1500");
    expect(formatQuantity(0)).toBe("0");
  });
});
