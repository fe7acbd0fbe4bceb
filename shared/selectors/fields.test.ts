import { describe, expect, it } from "vitest";
import { ApiError } from "../status";
import { fieldValue, matchFields, parseFieldSelector } from "./fields";

describe("field selectors", () => {
  it("parses =, == and != with escapes", () => {
    expect(parseFieldSelector("metadata.name=web,status.phase!=Running,spec.nodeName==n1")).toEqual([
      { field: "metadata.name", op: "=", value: "web" },
      { field: "status.phase", op: "!=", value: "Running" },
      { field: "spec.nodeName", op: "=", value: "n1" },
    ]);
    expect(parseFieldSelector("spec.nodeName=")).toEqual([{ field: "spec.nodeName", op: "=", value: "" }]);
    expect(parseFieldSelector("metadata.name=a\\,b")).toEqual([{ field: "metadata.name", op: "=", value: "a,b" }]);
    expect(parseFieldSelector("")).toEqual([]);
  });

  it("rejects malformed selectors with 400", () => {
    for (const bad of ["metadata.name", "=x", "a=b\\q"]) {
      expect(() => parseFieldSelector(bad)).toThrow(ApiError);
    }
  });

  it("reads values and matches", () => {
    const pod = { metadata: { name: "web" }, spec: { nodeName: "n1", hostNetwork: true }, status: { phase: "Running" } };
    expect(fieldValue(pod, "spec.hostNetwork")).toBe("true");
    expect(fieldValue(pod, "spec.missing.deep")).toBe("");
    expect(matchFields(parseFieldSelector("spec.nodeName=n1,status.phase!=Failed"), pod)).toBe(true);
    expect(matchFields(parseFieldSelector("spec.nodeName="), pod)).toBe(false);
    expect(matchFields(parseFieldSelector("spec.nodeName="), { spec: {} })).toBe(true);
  });
});
