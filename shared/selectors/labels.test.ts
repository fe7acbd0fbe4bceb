import { describe, expect, it } from "vitest";
import { apiError } from "../../test/api-error";
import {
  formatLabelSelector,
  labelKeyError,
  labelSelectorAsString,
  labelValueError,
  matchLabels,
  parseLabelSelector,
  selectorFromLabelSelector,
  selectorFromMap,
} from "./labels";

describe("parseLabelSelector", () => {
  it("parses equality operators, normalizing == to =", () => {
    expect(parseLabelSelector("a=b")).toEqual([{ key: "a", op: "=", values: ["b"] }]);
    expect(parseLabelSelector("a==b")).toEqual([{ key: "a", op: "=", values: ["b"] }]);
    expect(parseLabelSelector("a!=b")).toEqual([{ key: "a", op: "!=", values: ["b"] }]);
  });

  it("parses set operators with sorted, de-duplicated values", () => {
    expect(parseLabelSelector("env in (prod, devel,prod)")).toEqual([{ key: "env", op: "in", values: ["devel", "prod"] }]);
    expect(parseLabelSelector("tier notin (web, db)")).toEqual([{ key: "tier", op: "notin", values: ["db", "web"] }]);
    expect(parseLabelSelector("tier notin(web)")).toEqual([{ key: "tier", op: "notin", values: ["web"] }]);
  });

  it("parses existence requirements", () => {
    expect(parseLabelSelector("app")).toEqual([{ key: "app", op: "exists", values: [] }]);
    expect(parseLabelSelector("!canary")).toEqual([{ key: "canary", op: "!exists", values: [] }]);
    expect(parseLabelSelector("! canary")).toEqual([{ key: "canary", op: "!exists", values: [] }]);
  });

  it("returns requirements sorted by key, as labels.Parse does", () => {
    expect(parseLabelSelector("z=1,a in (x),m,!b").map((r) => r.key)).toEqual(["a", "b", "m", "z"]);
  });

  it("tolerates whitespace (spaces, tabs, newlines) around every token", () => {
    expect(parseLabelSelector("  a = b ,\tc  !=  d ,\n e in ( x , y ) , ! f ")).toEqual([
      { key: "a", op: "=", values: ["b"] },
      { key: "c", op: "!=", values: ["d"] },
      { key: "e", op: "in", values: ["x", "y"] },
      { key: "f", op: "!exists", values: [] },
    ]);
  });

  it("accepts DNS-prefixed keys and empty values", () => {
    expect(parseLabelSelector("example.com/app=x")).toEqual([{ key: "example.com/app", op: "=", values: ["x"] }]);
    expect(parseLabelSelector("app.kubernetes.io/name in (web)")).toEqual([{ key: "app.kubernetes.io/name", op: "in", values: ["web"] }]);
    expect(parseLabelSelector("a=")).toEqual([{ key: "a", op: "=", values: [""] }]);
    expect(parseLabelSelector("a=,b!=")).toEqual([
      { key: "a", op: "=", values: [""] },
      { key: "b", op: "!=", values: [""] },
    ]);
    expect(parseLabelSelector("a in (x,)")).toEqual([{ key: "a", op: "in", values: ["", "x"] }]);
    expect(parseLabelSelector("a in (,x)")).toEqual([{ key: "a", op: "in", values: ["", "x"] }]);
    expect(parseLabelSelector("a in (x,,y)")).toEqual([{ key: "a", op: "in", values: ["", "x", "y"] }]);
  });

  it("reads 'in' and 'notin' as identifiers where keys and values go", () => {
    expect(parseLabelSelector("in=notin")).toEqual([{ key: "in", op: "=", values: ["notin"] }]);
    expect(parseLabelSelector("a in (in, notin)")).toEqual([{ key: "a", op: "in", values: ["in", "notin"] }]);
    expect(parseLabelSelector("notin")).toEqual([{ key: "notin", op: "exists", values: [] }]);
  });

  it("treats an empty or blank selector as everything", () => {
    expect(parseLabelSelector("")).toEqual([]);
    expect(parseLabelSelector("   ")).toEqual([]);
  });

  it("rejects bad syntax with 400 BadRequest", () => {
    for (const bad of [
      "a in ()",
      "a in (b",
      "a in b",
      "a in",
      "=b",
      "a b",
      "a=b c",
      "a,,b",
      "a,",
      ",a",
      "a=(b)",
      "a in (b c)",
      "!a=b",
      "!",
      "a>1",
      "a<1",
      "a===b",
      "(a)",
    ]) {
      const e = apiError(() => parseLabelSelector(bad));
      expect([bad, e.code, e.reason]).toEqual([bad, 400, "BadRequest"]);
    }
  });

  it("words syntax errors as kube-apiserver does", () => {
    expect(apiError(() => parseLabelSelector("a,,b")).message).toBe("found ',', expected: identifier after ','");
    expect(apiError(() => parseLabelSelector("a=b c")).message).toBe("found 'c', expected: ',' or 'end of string'");
    expect(apiError(() => parseLabelSelector("=b")).message).toBe("found '=', expected: !, identifier, or 'end of string'");
    expect(apiError(() => parseLabelSelector("a b")).message).toBe("unable to parse requirement: found 'b', expected: in, notin, =, ==, !=");
    expect(apiError(() => parseLabelSelector("a in b")).message).toBe("unable to parse requirement: found 'b' expected: '('");
    expect(apiError(() => parseLabelSelector("a in (b")).message).toBe("unable to parse requirement: found '', expected: ',' or ')'");
    expect(apiError(() => parseLabelSelector("a=(b)")).message).toBe("unable to parse requirement: found '(', expected: identifier");
    expect(apiError(() => parseLabelSelector("!a=b")).message).toBe("found '=', expected: ',' or 'end of string'");
    expect(apiError(() => parseLabelSelector("a in ()")).message).toMatch(/^unable to parse requirement: .*values set can't be empty$/);
  });

  it("validates keys and values with the Kubernetes label rules", () => {
    const key = apiError(() => parseLabelSelector("-ltier=postgres"));
    expect(key.code).toBe(400);
    expect(key.message).toBe(
      `unable to parse requirement: <nil>: Invalid value: "-ltier": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    );
    expect(apiError(() => parseLabelSelector("Example.com/app=x")).message).toContain("prefix part a lowercase RFC 1123 subdomain");
    expect(apiError(() => parseLabelSelector("a/b/c=x")).message).toContain("a qualified name must consist of");
    expect(apiError(() => parseLabelSelector(`${"k".repeat(64)}=x`)).message).toContain("name part must be no more than 63 characters");
    const value = apiError(() => parseLabelSelector("app=-bad"));
    expect(value.message).toMatch(/^unable to parse requirement: values\[0\]\[app\]: Invalid value: "-bad": a valid label must be an empty string/);
    expect(apiError(() => parseLabelSelector(`app=${"v".repeat(64)}`)).message).toContain("must be no more than 63 characters");
    expect(apiError(() => parseLabelSelector("app in (ok, bad_)")).message).toContain('Invalid value: "bad_"');
    expect(parseLabelSelector(`${"k".repeat(63)}=${"v".repeat(63)}`)).toHaveLength(1);
  });
});

describe("label key and value rules", () => {
  it("accepts valid keys and values and explains invalid ones", () => {
    for (const k of ["app", "a.b-c_d", "example.com/app", "kubernetes.io/hostname", "A1", "x/y"]) expect([k, labelKeyError(k)]).toEqual([k, null]);
    expect(labelKeyError("")).toBe("name part must be non-empty");
    expect(labelKeyError("/app")).toBe("prefix part must be non-empty");
    expect(labelKeyError("example.com/")).toBe("name part must be non-empty");
    expect(labelKeyError("app_")).toMatch(/^name part must consist of/);
    expect(labelKeyError(`${"a".repeat(254)}/x`)).toBe("prefix part must be no more than 253 characters");
    for (const v of ["", "x", "1.0", "My_Value-2"]) expect([v, labelValueError(v)]).toEqual([v, null]);
    expect(labelValueError("a b")).toMatch(/^a valid label must be an empty string/);
    expect(labelValueError("x".repeat(64))).toBe("must be no more than 63 characters");
  });
});

describe("matchLabels", () => {
  const l = { env: "prod", app: "web", empty: "" };
  const m = (s: string, labels: Record<string, string> | undefined = l) => matchLabels(parseLabelSelector(s), labels);

  it("matches equality", () => {
    expect(m("env=prod")).toBe(true);
    expect(m("env==prod")).toBe(true);
    expect(m("env=dev")).toBe(false);
    expect(m("missing=x")).toBe(false);
    expect(m("empty=")).toBe(true);
    expect(m("missing=")).toBe(false); // = needs the label, even for ""
  });

  it("matches != and notin when the label is absent", () => {
    expect(m("env!=prod")).toBe(false);
    expect(m("env!=dev")).toBe(true);
    expect(m("tier!=web")).toBe(true);
    expect(m("tier notin (web)")).toBe(true);
    expect(m("env notin (prod, dev)")).toBe(false);
    expect(m("env notin (dev)")).toBe(true);
  });

  it("matches in only when the label is present with a listed value", () => {
    expect(m("env in (dev, prod)")).toBe(true);
    expect(m("env in (dev)")).toBe(false);
    expect(m("tier in (web)")).toBe(false);
    expect(m("empty in (,x)")).toBe(true);
  });

  it("matches existence", () => {
    expect(m("app")).toBe(true);
    expect(m("empty")).toBe(true);
    expect(m("canary")).toBe(false);
    expect(m("!canary")).toBe(true);
    expect(m("!app")).toBe(false);
  });

  it("ANDs requirements and handles missing label maps", () => {
    expect(m("app,!canary,env in (prod)")).toBe(true);
    expect(m("app,!canary,env in (dev)")).toBe(false);
    expect(matchLabels([], undefined)).toBe(true);
    expect(m("!a,b!=c", undefined)).toBe(true);
    expect(m("a", undefined)).toBe(false);
  });

  it("does not see inherited properties as labels", () => {
    expect(m("constructor", {})).toBe(false);
    expect(m("!toString", {})).toBe(true);
  });
});

describe("LabelSelector objects and map selectors", () => {
  it("maps nil to nothing and {} to everything", () => {
    expect(selectorFromLabelSelector(undefined)).toBeNull();
    expect(selectorFromLabelSelector(null)).toBeNull();
    expect(selectorFromLabelSelector({})).toEqual([]);
    expect(selectorFromLabelSelector({ matchLabels: {}, matchExpressions: [] })).toEqual([]);
    expect(labelSelectorAsString(undefined)).toBeNull();
    expect(labelSelectorAsString({})).toBe("");
  });

  it("converts matchLabels and every matchExpressions operator, sorted by key", () => {
    const reqs = selectorFromLabelSelector({
      matchLabels: { tier: "web", app: "x" },
      matchExpressions: [
        { key: "env", operator: "In", values: ["prod", "dev"] },
        { key: "track", operator: "NotIn", values: ["canary"] },
        { key: "owner", operator: "Exists" },
        { key: "legacy", operator: "DoesNotExist", values: [] },
      ],
    });
    expect(reqs).toEqual([
      { key: "app", op: "=", values: ["x"] },
      { key: "env", op: "in", values: ["dev", "prod"] },
      { key: "legacy", op: "!exists", values: [] },
      { key: "owner", op: "exists", values: [] },
      { key: "tier", op: "=", values: ["web"] },
      { key: "track", op: "notin", values: ["canary"] },
    ]);
    expect(matchLabels(reqs!, { app: "x", tier: "web", env: "dev", owner: "me" })).toBe(true);
    expect(matchLabels(reqs!, { app: "x", tier: "web", env: "dev", owner: "me", legacy: "1" })).toBe(false);
    expect(labelSelectorAsString({ matchLabels: { app: "x" }, matchExpressions: [{ key: "k", operator: "DoesNotExist" }] })).toBe("app=x,!k");
  });

  it("rejects an unknown operator with 400", () => {
    const e = apiError(() => selectorFromLabelSelector({ matchExpressions: [{ key: "a", operator: "Near" }] }));
    expect([e.code, e.message]).toEqual([400, '"Near" is not a valid label selector operator']);
  });

  it("an In without values matches nothing (stored objects never make it throw)", () => {
    const reqs = selectorFromLabelSelector({ matchExpressions: [{ key: "a", operator: "In" }] })!;
    expect(reqs).toEqual([{ key: "a", op: "in", values: [] }]);
    expect(matchLabels(reqs, { a: "" })).toBe(false);
    expect(matchLabels(selectorFromLabelSelector({ matchExpressions: [{ key: "a", operator: "NotIn", values: [] }] })!, { a: "x" })).toBe(true);
  });

  it("treats a nil or empty map selector (Service, RC) as selecting nothing", () => {
    expect(selectorFromMap(undefined)).toBeNull();
    expect(selectorFromMap(null)).toBeNull();
    expect(selectorFromMap({})).toBeNull();
    expect(selectorFromMap({ tier: "fe", app: "kubia" })).toEqual([
      { key: "app", op: "=", values: ["kubia"] },
      { key: "tier", op: "=", values: ["fe"] },
    ]);
  });
});

describe("formatLabelSelector", () => {
  it("prints as labels.Selector.String(): sorted by key, set values sorted", () => {
    expect(
      formatLabelSelector([
        { key: "tier", op: "in", values: ["b", "a"] },
        { key: "app", op: "=", values: ["x"] },
        { key: "k", op: "!exists", values: [] },
        { key: "env", op: "notin", values: ["prod"] },
        { key: "e", op: "exists", values: [] },
        { key: "b", op: "!=", values: [""] },
      ]),
    ).toBe("app=x,b!=,e,env notin (prod),!k,tier in (a,b)");
    expect(formatLabelSelector([])).toBe("");
  });

  it("round-trips through the parser", () => {
    const s = "a=1,b!=2,c in (x,y),d notin (z),e,example.com/g=,!f";
    expect(formatLabelSelector(parseLabelSelector(s))).toBe(s);
    expect(formatLabelSelector(parseLabelSelector(" c in (y, x) , a==1 "))).toBe("a=1,c in (x,y)");
    expect(parseLabelSelector(formatLabelSelector(parseLabelSelector(s)))).toEqual(parseLabelSelector(s));
  });
});
