import { describe, expect, it } from "vitest";
import { apiError } from "../../test/api-error";
import { parseJson, parseYamlDoc } from "./body";
import { flowDepthOver } from "../../shared/validation/limits";
import { YAML_MAX_CHARS } from "../../shared/validation/yaml";
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

  it("refuses a key set twice in one mapping (400, naming its line), found in one pass however many keys there are", () => {
    const e = apiError(() => parseYamlDoc("metadata:\n  name: x\ndata:\n  a: '1'\n  b: '2'\n  a: '3'\n"));
    expect([e.code, e.message]).toEqual([400, 'the request body is not valid YAML: line 6: key "a" already set in map']);
    expect(apiError(() => parseYamlDoc("a:\n- {x: 1, y: 2, x: 3}\n")).message).toBe('the request body is not valid YAML: line 2: key "x" already set in map');
    // the same key in two mappings is no duplicate
    expect(parseYamlDoc("a: {x: 1}\nb: {x: 2}\n")).toEqual({ a: { x: 1 }, b: { x: 2 } });
    // 20,000 keys in one mapping (the parser's own check compared each with every earlier one)
    let many = "data:\n";
    for (let i = 0; i < 20_000; i++) many += `  k${i}: v\n`;
    expect(Object.keys((parseYamlDoc(many) as { data: object }).data)).toHaveLength(20_000);
    expect(apiError(() => parseYamlDoc(`${many}  k7: w\n`)).message).toBe('the request body is not valid YAML: line 20002: key "k7" already set in map');
  });

  it("parses JSON natively whatever its size, and refuses other YAML longer than 256 KiB (413)", () => {
    const data = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`key${i}`, `value ${i}`]));
    const json = JSON.stringify({ kind: "ConfigMap", data });
    expect(json.length).toBeGreaterThan(YAML_MAX_CHARS);
    expect(parseYamlDoc(json)).toEqual({ kind: "ConfigMap", data });
    // what JSON cannot carry is refused as on the YAML path
    expect(apiError(() => parseYamlDoc('{"a": {"b": 1e999}}')).message).toBe("the request body is not valid YAML: a.b: json: unsupported value: +Inf");
    expect(apiError(() => parseYamlDoc(`{"a":${"[".repeat(1001)}${"]".repeat(1001)}}`)).code).toBe(400);
    // flow YAML that is not JSON goes to the YAML parser
    expect(parseYamlDoc("{a: 1, b: [x, y]}")).toEqual({ a: 1, b: ["x", "y"] });
    const yaml = `kind: ConfigMap\ndata:\n${Object.entries(data)
      .map(([k, v]) => `  ${k}: ${v}\n`)
      .join("")}`;
    const e = apiError(() => parseYamlDoc(yaml));
    expect([e.code, e.reason, e.message]).toEqual([
      413,
      "RequestEntityTooLarge",
      `a YAML request body is limited to ${YAML_MAX_CHARS} characters (this one has ${yaml.length}): send it as JSON`,
    ]);
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
