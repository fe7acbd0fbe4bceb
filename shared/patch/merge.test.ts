import { describe, expect, it } from "vitest";
import { ApiError } from "../status";
import { jsonPatch } from "./json";
import { jsonMergePatch } from "./merge";

describe("JSON merge patch", () => {
  it("merges maps, deletes with null, replaces arrays", () => {
    const doc = { metadata: { labels: { a: "1", b: "2" } }, spec: { list: [1, 2] } };
    expect(jsonMergePatch(doc, { metadata: { labels: { a: null, c: "3" } }, spec: { list: [3] } })).toEqual({ metadata: { labels: { b: "2", c: "3" } }, spec: { list: [3] } });
    expect(doc.metadata.labels).toEqual({ a: "1", b: "2" });
  });
});

describe("JSON patch", () => {
  it("applies ops without touching the input (rollout undo's replace)", () => {
    const doc = { spec: { template: { a: 1 } }, metadata: { annotations: { x: "1" } } };
    const out = jsonPatch(doc, [
      { op: "replace", path: "/spec/template", value: { b: 2 } },
      { op: "add", path: "/metadata/annotations/y", value: "2" },
    ]);
    expect(out).toEqual({ spec: { template: { b: 2 } }, metadata: { annotations: { x: "1", y: "2" } } });
    expect(doc.spec.template).toEqual({ a: 1 });
  });

  it("fails a test op or a missing path with 422, malformed ops with 400", () => {
    const doc = { a: 1 };
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof ApiError ? e.code : -1;
      }
      return 0;
    };
    expect(code(() => jsonPatch(doc, [{ op: "test", path: "/a", value: 2 }]))).toBe(422);
    expect(code(() => jsonPatch(doc, [{ op: "replace", path: "/missing/deep", value: 2 }]))).toBe(422);
    expect(code(() => jsonPatch(doc, [{ op: "explode", path: "/a" }]))).toBe(400);
    expect(code(() => jsonPatch(doc, [{ op: "add", path: "/__proto__/x", value: 1 }]))).toBe(400);
  });
});
