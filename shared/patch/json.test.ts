import { describe, expect, it } from "vitest";
import { apiError } from "../../test/api-error";
import { ApiError } from "../status";
import { jsonPatch, MAX_JSON_PATCH_OPERATIONS } from "./json";

const deploy = () => ({
  metadata: { name: "d", labels: { app: "d" }, annotations: { "a/b": "1" } },
  spec: {
    replicas: 2,
    template: { spec: { containers: [{ name: "web", image: "nginx:1", args: ["a", "b"] }] } },
  },
});

describe("jsonPatch: operations", () => {
  it("kubectl rollout undo: replaces the template and an annotation", () => {
    const doc = deploy();
    const out = jsonPatch(doc, [
      { op: "replace", path: "/spec/template", value: { spec: { containers: [{ name: "web", image: "nginx:0" }] } } },
      { op: "replace", path: "/metadata/annotations", value: { "deployment.kubernetes.io/revision": "3" } },
    ]);
    expect(out.spec.template.spec.containers[0].image).toBe("nginx:0");
    expect(out.metadata.annotations).toEqual({ "deployment.kubernetes.io/revision": "3" });
  });

  it("adds object members, array elements at an index and at the end (-)", () => {
    const out = jsonPatch(deploy(), [
      { op: "add", path: "/metadata/labels/tier", value: "fe" },
      { op: "add", path: "/spec/template/spec/containers/0/args/1", value: "x" },
      { op: "add", path: "/spec/template/spec/containers/0/args/-", value: "z" },
      { op: "add", path: "/spec/template/spec/containers/-", value: { name: "side", image: "busybox" } },
    ]);
    expect(out.metadata.labels).toEqual({ app: "d", tier: "fe" });
    expect(out.spec.template.spec.containers[0].args).toEqual(["a", "x", "b", "z"]);
    expect(out.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(["web", "side"]);
  });

  it("add on an existing member replaces it", () => {
    expect(jsonPatch({ a: 1 }, [{ op: "add", path: "/a", value: 2 }])).toEqual({ a: 2 });
  });

  it("removes members and array elements", () => {
    const out = jsonPatch(deploy(), [
      { op: "remove", path: "/metadata/labels/app" },
      { op: "remove", path: "/spec/template/spec/containers/0/args/0" },
    ]);
    expect(out.metadata.labels).toEqual({});
    expect(out.spec.template.spec.containers[0].args).toEqual(["b"]);
  });

  it("unescapes ~1 and ~0 in pointers (annotation keys with /)", () => {
    const out = jsonPatch(deploy(), [
      { op: "replace", path: "/metadata/annotations/a~1b", value: "2" },
      { op: "add", path: "/metadata/annotations/x~0y", value: "3" },
    ]);
    expect(out.metadata.annotations).toEqual({ "a/b": "2", "x~y": "3" });
  });

  it("moves and copies", () => {
    const out = jsonPatch({ a: { b: 1 }, c: [1, 2] }, [
      { op: "copy", from: "/a", path: "/d" },
      { op: "move", from: "/a/b", path: "/e" },
      { op: "move", from: "/c/0", path: "/c/-" },
    ]);
    expect(out).toEqual({ a: {}, d: { b: 1 }, e: 1, c: [2, 1] });
  });

  it("copy is by value: later changes to the copy leave the source alone", () => {
    const out = jsonPatch({ a: { b: 1 } }, [
      { op: "copy", from: "/a", path: "/c" },
      { op: "replace", path: "/c/b", value: 2 },
    ]);
    expect(out).toEqual({ a: { b: 1 }, c: { b: 2 } });
  });

  it("passing tests let the patch apply (optimistic concurrency with test)", () => {
    const out = jsonPatch(deploy(), [
      { op: "test", path: "/spec/replicas", value: 2 },
      { op: "test", path: "/spec/template/spec/containers/0", value: { name: "web", image: "nginx:1", args: ["a", "b"] } },
      { op: "test", path: "/metadata/labels/missing", value: null },
      { op: "replace", path: "/spec/replicas", value: 5 },
    ]);
    expect(out.spec.replicas).toBe(5);
  });

  it("replaces the whole document at the root path", () => {
    expect(jsonPatch({ a: 1 }, [{ op: "replace", path: "", value: { b: 2 } }])).toEqual({ b: 2 });
    expect(jsonPatch({ a: 1 }, [{ op: "test", path: "", value: { a: 1 } }])).toEqual({ a: 1 });
  });

  it("an empty patch returns an equal copy", () => {
    const doc = deploy();
    const out = jsonPatch(doc, []);
    expect(out).toEqual(doc);
    expect(out).not.toBe(doc);
  });
});

describe("jsonPatch: no mutation, no aliasing", () => {
  it("leaves the document and the patch unchanged", () => {
    const doc = deploy();
    const before = structuredClone(doc);
    const ops = [
      { op: "add", path: "/metadata/labels/x", value: "y" },
      { op: "remove", path: "/spec/template/spec/containers/0/args" },
      { op: "add", path: "/spec/extra", value: { list: [1] } },
    ];
    const opsBefore = structuredClone(ops);
    const out = jsonPatch(doc, ops);
    expect(doc).toEqual(before);
    expect(ops).toEqual(opsBefore);
    (out.spec as any).extra.list.push(2);
    expect(ops[2].value).toEqual({ list: [1] });
  });

  it("leaves the document unchanged when a later operation fails", () => {
    const doc = deploy();
    const before = structuredClone(doc);
    expect(() =>
      jsonPatch(doc, [
        { op: "replace", path: "/spec/replicas", value: 9 },
        { op: "test", path: "/spec/replicas", value: 2 },
      ]),
    ).toThrow(ApiError);
    expect(doc).toEqual(before);
  });
});

describe("jsonPatch: errors", () => {
  it("a failed test is 422 Invalid naming the path", () => {
    const e = apiError(() => jsonPatch(deploy(), [{ op: "test", path: "/metadata/name", value: "other" }]));
    expect([e.code, e.reason]).toEqual([422, "Invalid"]);
    expect(e.message).toBe("the server rejected our request due to an error in our request: testing value /metadata/name failed: test failed");
    expect(e.toStatus().details?.causes?.[0].message).toBe("testing value /metadata/name failed: test failed");
    expect(apiError(() => jsonPatch(deploy(), [{ op: "test", path: "/metadata/missing", value: "x" }])).code).toBe(422);
  });

  it("a path that does not exist is 422 naming the path", () => {
    const cases: [unknown, string][] = [
      [{ op: "remove", path: "/spec/foo" }, 'remove operation does not apply: doc is missing path: "/spec/foo"'],
      [{ op: "replace", path: "/spec/foo", value: 1 }, "replace operation does not apply: doc is missing key: /spec/foo"],
      [{ op: "add", path: "/spec/foo/bar", value: 1 }, 'add operation does not apply: doc is missing path: "/spec/foo/bar"'],
      [{ op: "add", path: "/spec/replicas/x", value: 1 }, 'add operation does not apply: doc is missing path: "/spec/replicas/x"'],
      [{ op: "move", from: "/spec/foo", path: "/spec/bar" }, "move operation does not apply: doc is missing from path: /spec/foo"],
      [{ op: "copy", from: "/spec/foo", path: "/spec/bar" }, "copy operation does not apply: doc is missing from path: /spec/foo"],
      [{ op: "remove", path: "/spec/template/spec/containers/1" }, 'remove operation does not apply: doc is missing path: "/spec/template/spec/containers/1"'],
      [
        { op: "add", path: "/spec/template/spec/containers/5", value: {} },
        'add operation does not apply: invalid index referenced: "/spec/template/spec/containers/5"',
      ],
      [
        { op: "replace", path: "/spec/template/spec/containers/x", value: {} },
        "replace operation does not apply: doc is missing key: /spec/template/spec/containers/x",
      ],
      [{ op: "move", from: "/spec", path: "/spec/template/x" }, "move operation does not apply: cannot move /spec into its own child /spec/template/x"],
    ];
    for (const [op, message] of cases) {
      const e = apiError(() => jsonPatch(deploy(), [op]));
      expect([op, e.code, e.reason, e.message]).toEqual([op, 422, "Invalid", `the server rejected our request due to an error in our request: ${message}`]);
    }
  });

  it("inherited properties are not document members", () => {
    expect(apiError(() => jsonPatch({}, [{ op: "replace", path: "/constructor", value: 1 }])).code).toBe(422);
    expect(apiError(() => jsonPatch({}, [{ op: "add", path: "/constructor/polluted", value: 1 }])).code).toBe(422);
    expect(apiError(() => jsonPatch({ a: {} }, [{ op: "remove", path: "/a/toString" }])).code).toBe(422);
    expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined();
    // an own member named like a prototype property is fine
    expect(jsonPatch({}, [{ op: "add", path: "/constructor", value: "x" }])).toEqual({ constructor: "x" });
  });

  it("malformed operations are 400 BadRequest", () => {
    const bad: unknown[] = [
      "add",
      null,
      [],
      { op: "explode", path: "/a" },
      { path: "/a", value: 1 },
      { op: "add", value: 1 },
      { op: "add", path: "a", value: 1 },
      { op: "add", path: "/a~2", value: 1 },
      { op: "add", path: "/a" },
      { op: "replace", path: "/a" },
      { op: "test", path: "/a" },
      { op: "move", path: "/a" },
      { op: "copy", path: "/a", from: 3 },
    ];
    for (const op of bad) {
      const e = apiError(() => jsonPatch({ a: 1 }, [op]));
      expect([op, e.code, e.reason]).toEqual([op, 400, "BadRequest"]);
    }
    expect(apiError(() => jsonPatch({ a: 1 }, { op: "add" } as unknown as unknown[])).code).toBe(400);
  });

  it("rejects __proto__ in paths with 400 and does not pollute prototypes", () => {
    for (const op of [
      { op: "add", path: "/__proto__/polluted", value: 1 },
      { op: "add", path: "/a/__proto__", value: { polluted: 1 } },
      { op: "copy", from: "/__proto__", path: "/x" },
      { op: "add", path: "/constructor/prototype/polluted", value: 1 },
    ]) {
      expect([op, apiError(() => jsonPatch({ a: {} }, [op])).code]).toEqual([op, op.path.includes("__proto__") || op.from ? 400 : 422]);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("copies adding more than 3 MiB between them are 422 (each could double the document)", () => {
    const ops = [{ op: "add", path: "/x", value: { v: "y".repeat(100) } }];
    for (let i = 0; i < 30; i++) ops.push({ op: "copy", from: "/x", path: `/x/c${i}` } as never);
    const e = apiError(() => jsonPatch({ a: 1 }, ops));
    expect([e.code, e.reason]).toEqual([422, "Invalid"]);
    expect(e.message).toMatch(/Unable to complete the copy, the accumulated size increase of copy is \d+, greater than 3145728$/);
    expect(Object.keys((jsonPatch({ a: 1 }, ops.slice(0, 10)) as any).x)).toHaveLength(10);
  });

  it("10,000 moves of a large value, each checked without copying the document", () => {
    const doc = { a: "z".repeat(1_000_000), list: [1, 2, 3] };
    const moves = Array.from({ length: MAX_JSON_PATCH_OPERATIONS }, (_, i) =>
      i % 2 ? { op: "move", from: "/b", path: "/a" } : { op: "move", from: "/a", path: "/b" },
    );
    expect(jsonPatch(doc, moves)).toEqual(doc);
    // a move within one array: the target index counts after the value left
    expect(jsonPatch(doc, [{ op: "move", from: "/list/0", path: "/list/2" }]).list).toEqual([2, 3, 1]);
    expect(apiError(() => jsonPatch(doc, [{ op: "move", from: "/list/0", path: "/list/3" }])).code).toBe(422);
  });

  it("more than 10000 operations is 413", () => {
    const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: "test", path: "/a", value: 1 }));
    const e = apiError(() => jsonPatch({ a: 1 }, ops));
    expect([e.code, e.reason]).toEqual([413, "RequestEntityTooLarge"]);
    expect(jsonPatch({ a: 1 }, ops.slice(1))).toEqual({ a: 1 });
  });
});
