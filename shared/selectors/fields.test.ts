import { describe, expect, it } from "vitest";
import { apiError } from "../../test/api-error";
import { escapeFieldValue, fieldValue, formatFieldSelector, matchFields, parseFieldSelector, unescapeFieldValue } from "./fields";

describe("parseFieldSelector", () => {
  it("parses =, == and !=", () => {
    expect(parseFieldSelector("metadata.name=web")).toEqual([{ field: "metadata.name", op: "=", value: "web" }]);
    expect(parseFieldSelector("spec.nodeName==n1")).toEqual([{ field: "spec.nodeName", op: "=", value: "n1" }]);
    expect(parseFieldSelector("status.phase!=Running")).toEqual([{ field: "status.phase", op: "!=", value: "Running" }]);
  });

  it("parses comma-separated terms, sorted as fields.ParseSelector sorts them", () => {
    expect(parseFieldSelector("status.phase!=Running,metadata.name=web,spec.nodeName==n1")).toEqual([
      { field: "metadata.name", op: "=", value: "web" },
      { field: "spec.nodeName", op: "=", value: "n1" },
      { field: "status.phase", op: "!=", value: "Running" },
    ]);
  });

  it("allows empty values and skips empty terms", () => {
    expect(parseFieldSelector("spec.nodeName=")).toEqual([{ field: "spec.nodeName", op: "=", value: "" }]);
    expect(parseFieldSelector("spec.nodeName!=")).toEqual([{ field: "spec.nodeName", op: "!=", value: "" }]);
    expect(parseFieldSelector("a=1,,b=2,")).toEqual([
      { field: "a", op: "=", value: "1" },
      { field: "b", op: "=", value: "2" },
    ]);
    expect(parseFieldSelector("")).toEqual([]);
  });

  it("splits at the first operator: a value may hold ! and a leading =", () => {
    expect(parseFieldSelector("a=!b")).toEqual([{ field: "a", op: "=", value: "!b" }]);
    expect(parseFieldSelector("a!=!b")).toEqual([{ field: "a", op: "!=", value: "!b" }]);
    expect(parseFieldSelector("a==\\=b")).toEqual([{ field: "a", op: "=", value: "=b" }]);
  });

  it("unescapes \\, \\= and \\\\ in values", () => {
    expect(parseFieldSelector("metadata.name=a\\,b")).toEqual([{ field: "metadata.name", op: "=", value: "a,b" }]);
    expect(parseFieldSelector("metadata.name=a\\=b")).toEqual([{ field: "metadata.name", op: "=", value: "a=b" }]);
    expect(parseFieldSelector("metadata.name=a\\\\b")).toEqual([{ field: "metadata.name", op: "=", value: "a\\b" }]);
    expect(parseFieldSelector("x=a\\,b,y=c")).toEqual([
      { field: "x", op: "=", value: "a,b" },
      { field: "y", op: "=", value: "c" },
    ]);
  });

  it("does not trim: whitespace belongs to the field and value", () => {
    expect(parseFieldSelector("metadata.name = web")).toEqual([{ field: "metadata.name ", op: "=", value: " web" }]);
  });

  it("rejects malformed selectors with 400 and kube-apiserver's wording", () => {
    for (const bad of ["metadata.name", "=x", "a=b\\q", "a=b\\", "a=b=c", "x=1,noop"]) {
      const e = apiError(() => parseFieldSelector(bad));
      expect([bad, e.code, e.reason]).toEqual([bad, 400, "BadRequest"]);
    }
    expect(apiError(() => parseFieldSelector("metadata.name")).message).toBe("invalid selector: 'metadata.name'; can't understand 'metadata.name'");
    expect(apiError(() => parseFieldSelector("a=b\\q")).message).toBe("invalid field selector: invalid escape sequence: \\q");
    expect(apiError(() => parseFieldSelector("a=b\\")).message).toBe("invalid field selector: invalid escape sequence: \\");
    expect(apiError(() => parseFieldSelector("a=b=c")).message).toBe("invalid field selector: unescaped character in value: 61");
  });
});

describe("escaping", () => {
  it("escapes and unescapes inversely", () => {
    for (const v of ["plain", "a,b", "a=b", "a\\b", "\\,=", ""]) {
      expect(unescapeFieldValue(escapeFieldValue(v))).toBe(v);
    }
    expect(escapeFieldValue("a,b=c\\d")).toBe("a\\,b\\=c\\\\d");
  });

  it("formats requirements so they parse back", () => {
    const reqs = [
      { field: "metadata.name", op: "=" as const, value: "a,b" },
      { field: "status.phase", op: "!=" as const, value: "x=y" },
    ];
    expect(formatFieldSelector(reqs)).toBe("metadata.name=a\\,b,status.phase!=x\\=y");
    expect(parseFieldSelector(formatFieldSelector(reqs))).toEqual(reqs);
  });
});

describe("fieldValue and matchFields", () => {
  const pod = {
    metadata: { name: "web", namespace: "default" },
    spec: { nodeName: "n1", hostNetwork: true, priority: 100, schedulerName: null, securityContext: { runAsUser: 0 }, containers: [{ name: "c" }] },
    status: { phase: "Running", ready: false },
  };

  it("reads dotted paths as strings", () => {
    expect(fieldValue(pod, "metadata.name")).toBe("web");
    expect(fieldValue(pod, "spec.hostNetwork")).toBe("true");
    expect(fieldValue(pod, "status.ready")).toBe("false");
    expect(fieldValue(pod, "spec.priority")).toBe("100");
    expect(fieldValue(pod, "spec.securityContext.runAsUser")).toBe("0");
  });

  it("reads missing and null fields as the empty string", () => {
    expect(fieldValue(pod, "spec.missing")).toBe("");
    expect(fieldValue(pod, "spec.missing.deep")).toBe("");
    expect(fieldValue(pod, "spec.nodeName.deeper")).toBe("");
    expect(fieldValue(pod, "spec.schedulerName")).toBe("");
    expect(fieldValue(pod, "spec.containers.0.name")).toBe("");
    expect(fieldValue(undefined, "metadata.name")).toBe("");
    expect(fieldValue(pod, "constructor")).toBe("");
    expect(fieldValue({}, "toString")).toBe("");
  });

  it("matches with = and !=, an absent field equalling the empty value", () => {
    expect(matchFields(parseFieldSelector("spec.nodeName=n1,status.phase!=Failed"), pod)).toBe(true);
    expect(matchFields(parseFieldSelector("spec.nodeName=n2"), pod)).toBe(false);
    expect(matchFields(parseFieldSelector("spec.nodeName=n1,status.phase=Pending"), pod)).toBe(false);
    expect(matchFields(parseFieldSelector("spec.nodeName="), pod)).toBe(false);
    expect(matchFields(parseFieldSelector("spec.nodeName="), { spec: {} })).toBe(true);
    expect(matchFields(parseFieldSelector("spec.nodeName!="), pod)).toBe(true);
    expect(matchFields(parseFieldSelector("spec.nodeName!="), { spec: {} })).toBe(false);
    expect(matchFields(parseFieldSelector("spec.hostNetwork=true"), pod)).toBe(true);
    expect(matchFields([], pod)).toBe(true);
  });
});
