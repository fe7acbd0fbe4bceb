import { describe, expect, it } from "vitest";
import { ApiError } from "../status";
import { formatLabelSelector, matchLabels, parseLabelSelector, selectorFromLabelSelector, selectorFromMap } from "./labels";

describe("label selectors", () => {
  it("parses every operator", () => {
    expect(parseLabelSelector("a=b,c==d,e!=f")).toEqual([
      { key: "a", op: "=", values: ["b"] },
      { key: "c", op: "=", values: ["d"] },
      { key: "e", op: "!=", values: ["f"] },
    ]);
    expect(parseLabelSelector("env in (prod, devel),tier notin (web),app,!canary")).toEqual([
      { key: "env", op: "in", values: ["devel", "prod"] },
      { key: "tier", op: "notin", values: ["web"] },
      { key: "app", op: "exists", values: [] },
      { key: "canary", op: "!exists", values: [] },
    ]);
    expect(parseLabelSelector("example.com/app=x, a=")).toEqual([
      { key: "example.com/app", op: "=", values: ["x"] },
      { key: "a", op: "=", values: [""] },
    ]);
    expect(parseLabelSelector("")).toEqual([]);
  });

  it("rejects bad syntax and invalid keys with 400", () => {
    for (const bad of ["a in ()", "a in (b", "=b", "a b", "bad key!=x", "a=b c", "a,,b", "a in b", "a=(b)"]) {
      let err: unknown;
      try {
        parseLabelSelector(bad);
      } catch (e) {
        err = e;
      }
      expect([bad, err instanceof ApiError && err.code]).toEqual([bad, 400]);
    }
  });

  it("matches with Kubernetes semantics", () => {
    const l = { env: "prod", app: "web" };
    expect(matchLabels(parseLabelSelector("env=prod"), l)).toBe(true);
    expect(matchLabels(parseLabelSelector("env!=prod"), l)).toBe(false);
    expect(matchLabels(parseLabelSelector("tier!=web"), l)).toBe(true); // missing label matches !=
    expect(matchLabels(parseLabelSelector("tier notin (web)"), l)).toBe(true);
    expect(matchLabels(parseLabelSelector("env in (devel)"), l)).toBe(false);
    expect(matchLabels(parseLabelSelector("app,!canary"), l)).toBe(true);
    expect(matchLabels(parseLabelSelector("canary"), l)).toBe(false);
    expect(matchLabels([], undefined)).toBe(true);
  });

  it("converts LabelSelector objects and map selectors", () => {
    expect(selectorFromLabelSelector(undefined)).toBeNull();
    expect(selectorFromLabelSelector({})).toEqual([]);
    const reqs = selectorFromLabelSelector({ matchLabels: { app: "x" }, matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }, { key: "k", operator: "DoesNotExist" }] })!;
    expect(formatLabelSelector(reqs)).toBe("app=x,!k,tier in (a,b)");
    expect(selectorFromMap({})).toBeNull();
    expect(selectorFromMap({ app: "kubia" })).toEqual([{ key: "app", op: "=", values: ["kubia"] }]);
    expect(() => selectorFromLabelSelector({ matchExpressions: [{ key: "a", operator: "Near" }] })).toThrow(ApiError);
  });

  it("round-trips through the canonical string", () => {
    const s = "a=1,b!=2,c in (x,y),d notin (z),e,!f";
    expect(formatLabelSelector(parseLabelSelector(formatLabelSelector(parseLabelSelector(s))))).toBe(s);
  });
});
