import { describe, expect, it } from "vitest";
import { ApiError } from "../../shared/status";
import { deleteOptions, listOptions, writeOptions } from "./options";

const q = (s: string) => new URLSearchParams(s);

/** The ApiError `f` throws (fails when it throws nothing or something else). */
const thrown = (f: () => unknown): ApiError => {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
};

describe("write options (CreateOptions, UpdateOptions, PatchOptions)", () => {
  it("takes what kubectl sends", () => {
    expect(writeOptions(q("fieldManager=kubectl-client-side-apply&fieldValidation=Strict"), "create")).toEqual({
      dryRun: false,
      fieldValidation: "Strict",
      fieldManager: "kubectl-client-side-apply",
      force: undefined,
    });
    expect(writeOptions(q("dryRun=All&fieldManager=kubectl-edit"), "update").dryRun).toBe(true);
    expect(writeOptions(q("fieldManager=kubectl&force=true"), "patch", "apply")).toMatchObject({ fieldManager: "kubectl", force: true });
    expect(writeOptions(q("fieldManager=kubectl"), "patch", "apply").force).toBe(false);
    expect(writeOptions(q(""), "patch", "strategic").force).toBeUndefined();
    // 128 bytes and printable Unicode are fine
    expect(writeOptions(q(`fieldManager=${"m".repeat(128)}`), "create").fieldManager).toHaveLength(128);
    expect(writeOptions(q("fieldManager=mé nager ✓"), "create").fieldManager).toBe("mé nager ✓");
  });

  it("refuses a fieldManager over 128 bytes or with characters that are not printable (422 naming the options kind)", () => {
    const long = thrown(() => writeOptions(q(`fieldManager=${"m".repeat(129)}`), "create"));
    expect(long.code).toBe(422);
    expect(long.reason).toBe("Invalid");
    expect(long.message).toBe('CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes');
    expect(long.details?.causes).toEqual([{ reason: "FieldValueTooLong", field: "fieldManager", message: "Too long: may not be more than 128 bytes" }]);
    // 65 two-byte characters are 130 bytes
    expect(thrown(() => writeOptions(q(`fieldManager=${"é".repeat(65)}`), "update")).message).toContain("UpdateOptions.meta.k8s.io");
    expect(thrown(() => writeOptions(q("fieldManager=a%01b"), "update")).message).toBe(
      'UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\u0001b": invalid character U+0001 (at position 1)',
    );
    // positions are byte offsets, as Go's range over a string gives them
    expect(thrown(() => writeOptions(q("fieldManager=%C3%A9%0A"), "patch", "merge")).message).toContain("invalid character U+000A (at position 2)");
    expect(thrown(() => writeOptions(q("fieldManager=a%C2%A0b"), "create")).message).toContain("invalid character U+00A0 (at position 1)");
  });

  it("refuses dryRun values other than All and unknown fieldValidation directives (422)", () => {
    expect(thrown(() => writeOptions(q("dryRun=all"), "create")).message).toBe(
      'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"all"}: supported values: "All"',
    );
    expect(thrown(() => writeOptions(q("dryRun=All&dryRun=Bogus"), "update")).code).toBe(422);
    expect(thrown(() => writeOptions(q("fieldValidation=Bogus"), "patch", "json")).message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Bogus": supported values: "", "Ignore", "Strict", "Warn"',
    );
  });

  it("requires a fieldManager for server-side apply and refuses force on other patches (422)", () => {
    expect(thrown(() => writeOptions(q(""), "patch", "apply")).message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    for (const type of ["json", "merge", "strategic"] as const) {
      for (const v of ["true", "false", ""]) {
        expect(thrown(() => writeOptions(q(`force=${v}`), "patch", type)).message).toBe(
          'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
        );
      }
    }
    // force is not a create or update option: it is not looked at there
    expect(writeOptions(q("force=true"), "create").force).toBeUndefined();
    // booleans decode as kube's codec does: anything but absent, 0 and false (any case) is true
    expect(writeOptions(q("force=maybe&fieldManager=x"), "patch", "apply").force).toBe(true);
    expect(writeOptions(q("force=FALSE&fieldManager=x"), "patch", "apply").force).toBe(false);
  });
});

describe("boolean query parameters", () => {
  it("decode as kube's parameter codec: only absent, 0 and false (any case) are false", () => {
    for (const v of ["true", "True", "TRUE", "1", "t", "yes", "maybe", ""]) expect(listOptions(q(`watch=${v}`)).watch, v).toBe(true);
    for (const v of ["false", "False", "FALSE", "fAlSe", "0"]) expect(listOptions(q(`watch=${v}`)).watch, v).toBe(false);
    expect(listOptions(q("")).watch).toBe(false);
    expect(listOptions(q("watch")).watch).toBe(true);
  });
});

describe("list options (ListOptions)", () => {
  it("takes a list's and a watch's usual parameters", () => {
    expect(listOptions(q("labelSelector=a%3Db&limit=5&continue=abc"))).toEqual({
      watch: false,
      allowWatchBookmarks: false,
      timeoutSeconds: undefined,
      query: { labelSelector: "a=b", fieldSelector: undefined, limit: 5, continue: "abc", resourceVersion: undefined, resourceVersionMatch: undefined },
    });
    expect(listOptions(q("resourceVersion=12&resourceVersionMatch=Exact")).query).toMatchObject({ resourceVersion: "12", resourceVersionMatch: "Exact" });
    expect(listOptions(q("resourceVersion=0&resourceVersionMatch=NotOlderThan")).query.resourceVersionMatch).toBe("NotOlderThan");
    expect(listOptions(q("watch=1&resourceVersion=7&allowWatchBookmarks=true&timeoutSeconds=30"))).toMatchObject({
      watch: true,
      allowWatchBookmarks: true,
      timeoutSeconds: 30,
    });
    expect(listOptions(q("timeoutSeconds=5")).timeoutSeconds).toBe(5);
  });

  it("refuses parameters that do not decode (400)", () => {
    for (const s of ["timeoutSeconds=abc", "limit=1.5", "limit=99999999999999999999"]) {
      const e = thrown(() => listOptions(q(s)));
      expect([e.code, e.reason], s).toEqual([400, "BadRequest"]);
    }
    expect(thrown(() => listOptions(q("resourceVersion=abc"))).message).toBe(
      'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax',
    );
    expect(thrown(() => listOptions(q("resourceVersion=99999999999999999999999"))).message).toContain("value out of range");
    expect(thrown(() => listOptions(q("watch=true&resourceVersion=-1"))).code).toBe(400);
  });

  it("validates resourceVersionMatch and sendInitialEvents as ValidateListOptions does (422)", () => {
    const msg = (s: string) => thrown(() => listOptions(q(s))).message;
    expect(msg("resourceVersionMatch=Exact")).toBe(
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
    );
    expect(msg("resourceVersion=1&resourceVersionMatch=Bogus")).toBe(
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "Bogus": supported values: "Exact", "NotOlderThan", ""',
    );
    expect(msg("resourceVersion=0&resourceVersionMatch=Exact")).toContain('resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
    expect(msg("resourceVersion=1&resourceVersionMatch=Exact&continue=x")).toContain("resourceVersionMatch is forbidden when continue is provided");
    expect(msg("sendInitialEvents=true")).toBe('ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list');
    expect(msg("sendInitialEvents=false")).toContain("sendInitialEvents is forbidden for list");
    // a watch takes resourceVersionMatch only with sendInitialEvents, and this server has no WatchList
    expect(msg("watch=true&resourceVersionMatch=Bogus")).toBe(
      'ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided, resourceVersionMatch: Unsupported value: "Bogus": supported values: "NotOlderThan"]',
    );
    expect(msg("watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan")).toContain(
      "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
    );
    for (const s of ["resourceVersionMatch=Exact", "watch=1&resourceVersionMatch=NotOlderThan", "sendInitialEvents=true"])
      expect(thrown(() => listOptions(q(s))).code, s).toBe(422);
  });

  it("reads a deletecollection's query as a list, never as a watch", () => {
    expect(listOptions(q("watch=true&labelSelector=a"), { collectionDelete: true }).watch).toBe(false);
    expect(thrown(() => listOptions(q("resourceVersionMatch=Exact"), { collectionDelete: true })).code).toBe(422);
  });
});

describe("DeleteOptions", () => {
  it("takes kubectl's body and curl's query", () => {
    expect(deleteOptions(q(""), { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" })).toEqual({
      propagationPolicy: "Background",
      gracePeriodSeconds: undefined,
      preconditions: undefined,
      dryRun: false,
      orphanDependents: false,
    });
    expect(deleteOptions(q(""), { dryRun: ["All"], gracePeriodSeconds: 0, preconditions: { uid: "u" } })).toMatchObject({
      dryRun: true,
      gracePeriodSeconds: 0,
      preconditions: { uid: "u" },
    });
    expect(deleteOptions(q("gracePeriodSeconds=5&propagationPolicy=Foreground&dryRun=All"), undefined)).toMatchObject({
      gracePeriodSeconds: 5,
      propagationPolicy: "Foreground",
      dryRun: true,
    });
    expect(deleteOptions(q("orphanDependents=true"), undefined).orphanDependents).toBe(true);
    expect(deleteOptions(q(""), { orphanDependents: false }).orphanDependents).toBe(false);
  });

  it("refuses dryRun values other than All, in the body or the query (422)", () => {
    const body = thrown(() => deleteOptions(q(""), { dryRun: ["Bogus"] }));
    expect([body.code, body.message]).toEqual([
      422,
      'DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Bogus"}: supported values: "All"',
    ]);
    expect(thrown(() => deleteOptions(q("dryRun=Bogus"), undefined)).code).toBe(422);
    expect(thrown(() => deleteOptions(q("dryRun=All&dryRun=all"), undefined)).code).toBe(422);
  });

  it("refuses orphanDependents together with a propagationPolicy, and unknown policies (422)", () => {
    expect(thrown(() => deleteOptions(q(""), { orphanDependents: true, propagationPolicy: "Foreground" })).message).toBe(
      'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Foreground": orphanDependents and deletionPropagation cannot be both set',
    );
    expect(thrown(() => deleteOptions(q("orphanDependents=false&propagationPolicy=Background"), undefined)).code).toBe(422);
    expect(thrown(() => deleteOptions(q("propagationPolicy=Bogus"), undefined)).message).toBe(
      'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Bogus": supported values: "Foreground", "Background", "Orphan", "nil"',
    );
  });

  it("refuses bodies that are not DeleteOptions objects and parameters that do not decode (400)", () => {
    for (const b of [
      [],
      "x",
      5,
      null,
      true,
      { dryRun: "All" },
      { dryRun: { a: 1 } },
      { gracePeriodSeconds: "5" },
      { gracePeriodSeconds: 1.5 },
      { orphanDependents: "yes" },
      { propagationPolicy: 1 },
      { preconditions: "x" },
      { preconditions: { uid: 5 } },
      { kind: "Pod" },
    ]) {
      const e = thrown(() => deleteOptions(q(""), b));
      expect([e.code, e.reason], JSON.stringify(b)).toEqual([400, "BadRequest"]);
    }
    for (const s of ["gracePeriodSeconds=abc", "gracePeriodSeconds=99999999999999999999"]) {
      expect(thrown(() => deleteOptions(q(s), undefined)).code, s).toBe(400);
    }
    expect(deleteOptions(q("orphanDependents=maybe"), undefined).orphanDependents).toBe(true);
  });
});
