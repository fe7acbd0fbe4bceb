import { describe, expect, it } from "vitest";
import { jsonMergePatch } from "./merge";

describe("jsonMergePatch (RFC 7386)", () => {
  it("kubectl label/annotate: merges labels, null removes one", () => {
    const pod = { metadata: { name: "p", labels: { a: "1", b: "2" }, annotations: { x: "y" } }, spec: { nodeName: "n1" } };
    const out = jsonMergePatch(pod, { metadata: { labels: { a: null, c: "3" } } });
    expect(out).toEqual({ metadata: { name: "p", labels: { b: "2", c: "3" }, annotations: { x: "y" } }, spec: { nodeName: "n1" } });
  });

  it("replaces arrays wholesale (no element merging)", () => {
    const d = {
      spec: {
        template: {
          spec: {
            containers: [
              { name: "a", image: "x" },
              { name: "b", image: "y" },
            ],
          },
        },
      },
    };
    const out = jsonMergePatch(d, { spec: { template: { spec: { containers: [{ name: "a", image: "z" }] } } } });
    expect(out.spec.template.spec.containers).toEqual([{ name: "a", image: "z" }]);
  });

  it("kubectl patch --type=merge removing finalizers: [] and null", () => {
    const o = { metadata: { name: "p", finalizers: ["a", "b"] } };
    expect(jsonMergePatch(o, { metadata: { finalizers: [] } })).toEqual({ metadata: { name: "p", finalizers: [] } });
    expect(jsonMergePatch(o, { metadata: { finalizers: null } })).toEqual({ metadata: { name: "p" } });
  });

  it("follows the RFC 7386 appendix examples", () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ a: "b" }, { a: "c" }, { a: "c" }],
      [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
      [{ a: "b" }, { a: null }, {}],
      [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
      [{ a: ["b"] }, { a: "c" }, { a: "c" }],
      [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
      [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
      [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
      [
        ["a", "b"],
        ["c", "d"],
        ["c", "d"],
      ],
      [{ a: "b" }, ["c"], ["c"]],
      [{ a: "foo" }, null, null],
      [{ a: "foo" }, "bar", "bar"],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: "b", c: null }, { a: "b" }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [doc, patch, want] of cases) {
      expect([doc, patch, jsonMergePatch(doc, patch)]).toEqual([doc, patch, want]);
    }
  });

  it("keeps nulls inside arrays (arrays are values)", () => {
    expect(jsonMergePatch({}, { a: [null, { b: null }] })).toEqual({ a: [null, { b: null }] });
  });

  it("replaces a scalar with an object, dropping the object's nulls", () => {
    expect(jsonMergePatch({ a: 1 }, { a: { b: 2, c: null } })).toEqual({ a: { b: 2 } });
  });

  it("changes neither input and shares nothing with them", () => {
    const doc = { metadata: { labels: { a: "1" } }, spec: { deep: { x: [1] } } };
    const patch = { metadata: { labels: { b: "2" } }, spec: { list: [{ k: 1 }] } };
    const docBefore = structuredClone(doc);
    const patchBefore = structuredClone(patch);
    const out = jsonMergePatch(doc, patch) as any;
    expect(doc).toEqual(docBefore);
    expect(patch).toEqual(patchBefore);
    out.spec.deep.x.push(2);
    out.spec.list[0].k = 9;
    expect(doc.spec.deep.x).toEqual([1]);
    expect(patch.spec.list[0].k).toBe(1);
  });

  it("ignores __proto__ in the patch", () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "metadata": {"__proto__": {"polluted": true}}}');
    const out = jsonMergePatch({ metadata: {} }, patch) as Record<string, any>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(out.polluted).toBeUndefined();
    expect(out.metadata.polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});
