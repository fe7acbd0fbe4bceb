import { describe, expect, it } from "vitest";
import { apiError } from "../../test/api-error";
import { parseJson, parseYamlDoc } from "./body";
import { flowDepthOver } from "../../shared/validation/limits";
import { decodeSegment } from "./rest";

describe("parseJson", () => {
  it("refuses nesting deeper than 1000 levels before parsing (400)", () => {
    expect(parseJson(`{"a":${"[".repeat(999)}${"]".repeat(999)}}`)).toBeDefined();
    const e = apiError(() => parseJson(`{"a":${"[".repeat(1000)}${"]".repeat(1000)}}`));
    expect([e.code, e.reason, e.message]).toEqual([400, "BadRequest", "the request body is not valid JSON: exceeded max depth of 1000"]);
    expect(apiError(() => parseJson("[".repeat(100_000) + "]".repeat(100_000))).code).toBe(400);
  });

  it("refuses numbers no double holds (400, naming where), instead of Infinity", () => {
    const e = apiError(() => parseJson('{"spec":{"containers":[{"resources":{"limits":{"memory":1e999}}}]}}'));
    expect([e.code, e.message]).toEqual([
      400,
      "the request body is not valid JSON: number 1e999 at spec.containers[0].resources.limits.memory is out of range",
    ]);
    expect(apiError(() => parseJson("-1e400")).message).toBe("the request body is not valid JSON: number -1e400 is out of range");
    expect(parseJson('{"a":1e308,"b":"1e999"}')).toEqual({ a: 1e308, b: "1e999" });
  });

  it("reports syntax errors as before", () => {
    expect(apiError(() => parseJson("{")).message).toMatch(/^the request body is not valid JSON: /);
  });
});

describe("parseYamlDoc", () => {
  it("refuses .inf and .nan (400), as kube-apiserver's YAML-to-JSON conversion does", () => {
    for (const [v, go] of [
      [".inf", "+Inf"],
      ["-.Inf", "-Inf"],
      [".NaN", "NaN"],
    ]) {
      const e = apiError(() => parseYamlDoc(`metadata:\n  name: x\ndata:\n  a: ${v}\n`));
      expect([e.code, e.reason, e.message]).toEqual([400, "BadRequest", `the request body is not valid YAML: data.a: json: unsupported value: ${go}`]);
    }
    expect(parseYamlDoc("a: '.inf'\n")).toEqual({ a: ".inf" });
  });

  it("refuses nesting deeper than 1000 levels, or than the YAML parser manages (400)", () => {
    expect(apiError(() => parseYamlDoc(`a: ${"[".repeat(1001)}${"]".repeat(1001)}\n`)).code).toBe(400);
    expect(apiError(() => parseYamlDoc(`a: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`)).code).toBe(400);
    expect(parseYamlDoc(`a: ${"[".repeat(500)}${"]".repeat(500)}\n`)).toBeDefined();
  });

  it("measures flow nesting before the parser recurses into it: the parser never sees the 20,000 levels", () => {
    const deep = `a: ${"{b: ".repeat(20_000)}1${"}".repeat(20_000)}\n`;
    const e = apiError(() => parseYamlDoc(deep));
    expect([e.code, e.message]).toEqual([400, "the request body is not valid YAML: exceeded max depth of 512 (flow collections)"]);
    // closing brackets first do not buy depth; brackets that close again cost nothing
    expect(flowDepthOver(`${"]".repeat(600)}${"[".repeat(513)}`)).toBe(true);
    expect(flowDepthOver(`${"[]".repeat(100_000)}`)).toBe(false);
    expect(flowDepthOver(`${"[".repeat(512)}`)).toBe(false);
  });
});

describe("decodeSegment", () => {
  it("decodes percent-escapes", () => {
    expect(decodeSegment("a%2Eb")).toBe("a.b");
    expect(decodeSegment("caf%C3%A9")).toBe("café");
    expect(decodeSegment("plain")).toBe("plain");
  });

  it("refuses malformed escapes with Go's message (400)", () => {
    for (const [seg, esc] of [
      ["%ZZ", "%ZZ"],
      ["a%", "%"],
      ["%E0%A4%A", "%A"],
      ["x%4", "%4"],
    ]) {
      const e = apiError(() => decodeSegment(seg));
      expect([e.code, e.reason, e.message]).toEqual([400, "BadRequest", `invalid URL escape "${esc}"`]);
    }
  });

  it("decodes escapes of bytes that are not UTF-8 to U+FFFD (a name nothing has)", () => {
    expect(decodeSegment("%E0%A4")).toMatch(/^\uFFFD+$/);
    expect(decodeSegment("a%FFb")).toBe("a\uFFFDb");
  });
});
