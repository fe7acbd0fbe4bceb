import { describe, expect, it } from "vitest";
import {
  byteValue,
  compareQuantities,
  formatQuantity,
  isQuantity,
  MAX_QUANTITY_LENGTH,
  milliValue,
  parseQuantity,
  QUANTITY_MESSAGE,
  QuantityError,
  quantityError,
  value,
} from "./quantity";

describe("parseQuantity", () => {
  it.each([
    ["100m", 0.1],
    ["0.5", 0.5],
    ["1", 1],
    ["2", 2],
    ["2Gi", 2 * 1024 ** 3],
    ["512Mi", 512 * 1024 ** 2],
    ["1Ki", 1024],
    ["1Ei", 2 ** 60],
    ["1k", 1000],
    ["1M", 1e6],
    ["1.5G", 1.5e9],
    ["1e3", 1000],
    ["1E3", 1000],
    ["1.5e-3", 0.0015],
    ["+1", 1],
    ["-2", -2],
    [".5", 0.5],
    ["5.", 5],
    ["250n", 2.5e-7],
    ["3u", 3e-6],
    ["1T", 1e12],
    ["2P", 2e15],
    ["1E", 1e18],
  ])("parses %s", (q, want) => {
    expect(parseQuantity(q)).toBe(want);
    expect(isQuantity(q)).toBe(true);
  });

  it("accepts JSON numbers", () => {
    expect(parseQuantity(3)).toBe(3);
    expect(parseQuantity(0.25)).toBe(0.25);
    expect(isQuantity(1e-7)).toBe(true);
  });

  it.each(["lots", "1.2.3", "Gi", "", "1 Gi", " 1", "1 ", "1KB", "1gi", "1e", "1e3Gi", ".", "--1", "1Mi2", "0x10", "1,5"])("rejects %j", (bad) => {
    expect(() => parseQuantity(bad)).toThrow(QuantityError);
    expect(isQuantity(bad)).toBe(false);
  });

  it("rejects non-finite numbers and other types", () => {
    expect(() => parseQuantity(Number.NaN)).toThrow(QuantityError);
    expect(() => parseQuantity(Number.POSITIVE_INFINITY)).toThrow(QuantityError);
    expect(isQuantity(null)).toBe(false);
    expect(isQuantity({})).toBe(false);
    expect(isQuantity(true)).toBe(false);
  });

  it("throws with kube-apiserver's wording", () => {
    expect(() => parseQuantity("lots")).toThrow(QUANTITY_MESSAGE);
    expect(QUANTITY_MESSAGE).toBe("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    try {
      parseQuantity("nope");
    } catch (e) {
      expect(e).toBeInstanceOf(Error);
      expect((e as Error).name).toBe("QuantityError");
    }
  });
});

describe("milliValue, value and byteValue", () => {
  it("gives millis, rounding up without float noise", () => {
    expect(milliValue("0.1")).toBe(100);
    expect(milliValue("100m")).toBe(100);
    expect(milliValue("1")).toBe(1000);
    expect(milliValue("1.0001")).toBe(1001);
    expect(milliValue("0.3")).toBe(300); // 0.3 * 1000 = 300.00000000000006 in floats
    expect(milliValue("1.0000000000001")).toBe(1001);
    expect(milliValue("1n")).toBe(1);
    expect(milliValue(0.1)).toBe(100);
    expect(milliValue("-1.5")).toBe(-1500);
  });

  it("gives whole units, rounding up", () => {
    expect(value("1Mi")).toBe(1048576);
    expect(value("0.5")).toBe(1);
    expect(value("1.5Gi")).toBe(1610612736);
    expect(value("100m")).toBe(1);
    expect(value("2")).toBe(2);
    expect(value("-0.5")).toBe(0);
    expect(byteValue("128Mi")).toBe(134217728);
    expect(byteValue("1G")).toBe(1e9);
  });
});

describe("compareQuantities", () => {
  it("compares exactly across suffixes", () => {
    expect(compareQuantities("1", "1000m")).toBe(0);
    expect(compareQuantities("1Gi", "1G")).toBe(1);
    expect(compareQuantities("500m", "0.6")).toBe(-1);
    expect(compareQuantities("1024Mi", "1Gi")).toBe(0);
    expect(compareQuantities("1e3", "1k")).toBe(0);
    expect(compareQuantities(2, "3")).toBe(-1);
  });
});

describe("formatQuantity", () => {
  it.each([
    [1024 ** 3, "BinarySI", "1Gi"],
    [1536 * 1024 ** 2, "BinarySI", "1536Mi"],
    [1024, "BinarySI", "1Ki"],
    [1500, "BinarySI", "1500"],
    [1024.5, "BinarySI", "1025"],
    [512, "BinarySI", "512"],
    [0.5, "BinarySI", "500m"],
    [2 ** 60, "BinarySI", "1Ei"],
    [0.1, "DecimalSI", "100m"],
    [1.5, "DecimalSI", "1500m"],
    [2000, "DecimalSI", "2k"],
    [1500, "DecimalSI", "1500"],
    [1.5e9, "DecimalSI", "1500M"],
    [4, "DecimalSI", "4"],
    [110, "DecimalSI", "110"],
    [1e-10, "DecimalSI", "1n"],
    [2.5e-7, "DecimalSI", "250n"],
    [1e21, "DecimalSI", "1000E"],
    [-2000, "DecimalSI", "-2k"],
    [0, "DecimalSI", "0"],
    [0, "BinarySI", "0"],
  ] as const)("formats %d as %s → %s", (v, format, want) => {
    expect(formatQuantity(v, format)).toBe(want);
  });

  it("defaults to DecimalSI and round-trips", () => {
    expect(formatQuantity(0.25)).toBe("250m");
    for (const v of [0.001, 0.25, 1, 1000, 123456, 8 * 1024 ** 3]) {
      expect(parseQuantity(formatQuantity(v, "BinarySI"))).toBe(v);
      expect(parseQuantity(formatQuantity(v, "DecimalSI"))).toBe(v);
    }
  });
});

describe("bounds", () => {
  it("refuses text longer than MAX_QUANTITY_LENGTH before parsing it, and says so", () => {
    expect(MAX_QUANTITY_LENGTH).toBe(100);
    const longest = `1${"0".repeat(MAX_QUANTITY_LENGTH - 1)}`;
    expect(isQuantity(longest)).toBe(true);
    expect(isQuantity(`${longest}0`)).toBe(false);
    // 2.5 million digits: what froze the server (quadratic BigInt parsing) is refused at once
    const huge = "1".repeat(2_500_000);
    const e = quantityError(huge);
    expect(e).toBeInstanceOf(QuantityError);
    expect(e?.tooLong).toBe(true);
    expect(e?.message).toBe("quantities may not be more than 100 characters");
    expect(() => milliValue(huge)).toThrow(QuantityError);
    expect(() => parseQuantity(`${"9".repeat(200)}Mi`)).toThrow("may not be more than 100 characters");
    // a malformed one is not "too long"
    expect(quantityError("lots")?.tooLong).toBe(false);
    expect(quantityError("1Gi")).toBeUndefined();
    expect(quantityError({})?.message).toBe(QUANTITY_MESSAGE);
  });

  it("caps binary-suffixed values at 2^63-1, as kube-apiserver's ParseQuantity does", () => {
    const max = 2 ** 63; // 2^63-1 as a double
    expect(value("99999999999999999999Ei")).toBe(max);
    expect(value("-99999999999999999999Ei")).toBe(-max);
    expect(compareQuantities("99999999999999999999Ei", "9223372036854775807")).toBe(0);
    expect(compareQuantities("8Ei", "9223372036854775807")).toBe(0); // 8Ei is 2^63: one past the cap
    expect(compareQuantities("9223372036854775808", "9223372036854775807")).toBe(1); // decimal values are not capped
    expect(value("7Ei")).toBe(7 * 2 ** 60); // under the cap: exact
  });

  it("saturates milliValue and value at ±(2^63-1), as Go's int64 results", () => {
    expect(milliValue("1e400")).toBe(2 ** 63);
    expect(value("1e1000")).toBe(2 ** 63);
    expect(milliValue("-1e30")).toBe(-(2 ** 63));
    expect(milliValue("9223372036854775")).toBe(9223372036854775000);
    expect(parseQuantity("1e400")).toBe(Number.POSITIVE_INFINITY); // the float view is unbounded
  });
});
