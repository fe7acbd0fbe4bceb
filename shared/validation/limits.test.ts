import { describe, expect, it } from "vitest";
import { checkValue, goFloat, MAX_DEPTH, scanJsonText } from "./limits";

const nested = (depth: number, inner = "1") => "[".repeat(depth) + inner + "]".repeat(depth);
const nestedObject = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

describe("scanJsonText", () => {
  it("allows nesting up to MAX_DEPTH and reports one level more", () => {
    expect(MAX_DEPTH).toBe(1000);
    expect(scanJsonText(nested(MAX_DEPTH))).toBeUndefined();
    expect(scanJsonText(nestedObject(MAX_DEPTH))).toBeUndefined();
    expect(scanJsonText(nested(MAX_DEPTH + 1))).toEqual({ kind: "depth", offset: MAX_DEPTH });
    expect(scanJsonText(`{"x":${nestedObject(10_000)}}`)?.kind).toBe("depth");
    expect(scanJsonText(nested(4), 3)?.kind).toBe("depth");
  });

  it("counts depth, not total brackets, and ignores brackets inside strings", () => {
    const wide = `[${Array.from({ length: 5000 }, () => "[[]]").join(",")}]`;
    expect(scanJsonText(wide, 3)).toBeUndefined();
    expect(scanJsonText(`{"a":"${"[".repeat(5000)}","b":"\\"[[[[["}`, 2)).toBeUndefined();
    expect(scanJsonText(`["\\\\", [[1]]]`, 2)?.kind).toBe("depth"); // an escaped backslash ends before the quote
  });

  it("finds number literals no double can hold", () => {
    expect(scanJsonText('{"memory":1e999}')).toEqual({ kind: "number", literal: "1e999", offset: 10 });
    expect(scanJsonText("[-1E+400]")).toMatchObject({ kind: "number", literal: "-1E+400" });
    expect(scanJsonText(`[1${"0".repeat(400)}]`)).toMatchObject({ kind: "number" });
    expect(scanJsonText('[1e308, 2.5e-400, -0, 123456789012345678901234567890, "1e999"]')).toBeUndefined();
    // malformed literals are JSON.parse's business
    expect(scanJsonText("[1e5e5]")).toBeUndefined();
  });

  it("is iterative: a 1 MB bracket run is no problem", () => {
    expect(scanJsonText(nested(500_000), 1_000_000)).toBeUndefined();
  });
});

describe("checkValue", () => {
  it("reports values deeper than the limit, with the path", () => {
    expect(checkValue(JSON.parse(nested(MAX_DEPTH)))).toBeUndefined();
    const p = checkValue({ spec: JSON.parse(nested(MAX_DEPTH)) });
    expect(p?.kind).toBe("depth");
    expect(p?.path.length).toBe(MAX_DEPTH);
    expect(p?.path.slice(0, 3)).toEqual(["spec", 0, 0]);
  });

  it("reports the first non-finite number in document order, with its path", () => {
    expect(checkValue({ a: 1, b: [2, { c: Number.POSITIVE_INFINITY }], d: Number.NaN })).toEqual({
      kind: "number",
      path: ["b", 1, "c"],
      value: Number.POSITIVE_INFINITY,
    });
    expect(checkValue({ d: Number.NaN, a: Number.NEGATIVE_INFINITY })).toMatchObject({ path: ["d"] });
    expect(checkValue(Number.NaN)).toEqual({ kind: "number", path: [], value: Number.NaN });
    expect(checkValue({ a: [1, "x", null, true, { b: -0 }] })).toBeUndefined();
  });

  it("is iterative: 200,000 levels do not overflow the stack", () => {
    let v: unknown = 1;
    for (let i = 0; i < 200_000; i++) v = [v];
    expect(checkValue(v, Number.MAX_SAFE_INTEGER)).toBeUndefined();
    expect(checkValue(v)?.kind).toBe("depth");
  });

  it("prints floats as Go does", () => {
    expect([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN].map(goFloat)).toEqual(["+Inf", "-Inf", "NaN"]);
  });
});
