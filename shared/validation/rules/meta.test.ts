import { describe, expect, it } from "vitest";
import { resourceByName } from "../../../workers/registry/kinds";
import type { KObject } from "../../types";
import { Causes } from "../causes";
import { validateObject } from "../index";
import { selectorIsEmpty, selectorMatches, validateLabelSelector } from "./meta";

const meta = (m: Record<string, unknown>, resource = "configmaps") => validateObject(resourceByName(resource), { metadata: m } as KObject);
const fields = (m: Record<string, unknown>, resource?: string) => meta(m, resource).map((c) => `${c.field} ${c.reason}`);

describe("object metadata", () => {
  it("requires a name or generateName, checking both", () => {
    expect(fields({ name: "ok.name" })).toEqual([]);
    expect(fields({ generateName: "web-" })).toEqual([]);
    expect(fields({ generateName: "Web-" })).toEqual(["metadata.generateName FieldValueInvalid"]);
    expect(fields({})).toEqual(["metadata.name FieldValueRequired"]);
    expect(fields({ name: "x".repeat(254) })).toEqual(["metadata.name FieldValueInvalid"]);
  });

  it("checks namespaces of namespaced kinds only", () => {
    expect(fields({ name: "a", namespace: "kube-system" })).toEqual([]);
    expect(fields({ name: "a", namespace: "a.b" })).toEqual(["metadata.namespace FieldValueInvalid"]);
    expect(fields({ name: "a", namespace: "x" }, "namespaces")).toEqual(["metadata.namespace FieldValueForbidden"]);
  });

  it("checks labels keys and values, one cause per problem", () => {
    expect(fields({ name: "a", labels: { "app.kubernetes.io/name": "web", empty: "" } })).toEqual([]);
    const causes = meta({ name: "a", labels: { "Bad.Prefix/x": "v", k: "x".repeat(64) } });
    expect(causes.map((c) => c.message)).toEqual([
      expect.stringMatching(/^Invalid value: "Bad.Prefix\/x": prefix part a lowercase RFC 1123 subdomain/),
      'Invalid value: "' + "x".repeat(64) + '": must be no more than 63 characters',
    ]);
    expect(causes.every((c) => c.field === "metadata.labels")).toBe(true);
  });

  it("checks annotation keys case-insensitively and their total size", () => {
    expect(fields({ name: "a", annotations: { "Example.COM/Note": "x", "kubectl.kubernetes.io/last-applied-configuration": "{}" } })).toEqual([]);
    expect(fields({ name: "a", annotations: { "bad key": "x" } })).toEqual(["metadata.annotations FieldValueInvalid"]);
    const big = meta({ name: "a", annotations: { a: "x".repeat(256 * 1024) } });
    expect(big).toEqual([{ reason: "FieldValueTooLong", field: "metadata.annotations", message: "Too long: may not be more than 262144 bytes" }]);
  });

  it("checks owner references and finalizers", () => {
    expect(fields({ name: "a", ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "1", controller: true }] })).toEqual([]);
    expect(fields({ name: "a", ownerReferences: [{ apiVersion: "apps/", kind: "", name: "", uid: "" }] })).toEqual([
      "metadata.ownerReferences.apiVersion FieldValueInvalid",
      "metadata.ownerReferences.kind FieldValueInvalid",
      "metadata.ownerReferences.name FieldValueInvalid",
      "metadata.ownerReferences.uid FieldValueInvalid",
    ]);
    const two = meta({
      name: "a",
      ownerReferences: [
        { apiVersion: "v1", kind: "A", name: "a", uid: "1", controller: true },
        { apiVersion: "v1", kind: "B", name: "b", uid: "2", controller: true },
      ],
    });
    expect(two.map((c) => c.field)).toEqual(["metadata.ownerReferences"]);
    expect(two[0].message).toMatch(/Only one reference can have Controller set to true. Found "true" in references for A\/a and B\/b$/);
    expect(fields({ name: "a", finalizers: ["kubernetes", "orphan", "foregroundDeletion", "example.com/x"] })).toEqual([]);
    expect(fields({ name: "a", finalizers: ["mine"] })).toEqual(["metadata.finalizers FieldValueInvalid"]);
    expect(fields({ name: "a", finalizers: ["bad/name/x"] })).toEqual(["metadata.finalizers FieldValueInvalid"]);
  });

  it("checks server fields", () => {
    expect(fields({ name: "a", generation: -1 })).toEqual(["metadata.generation FieldValueInvalid"]);
    expect(fields({ name: "a", creationTimestamp: 5 })).toEqual(["metadata.creationTimestamp FieldValueTypeInvalid"]);
  });
});

describe("label selectors", () => {
  it("validates requirement syntax", () => {
    const c = new Causes();
    validateLabelSelector(
      {
        matchExpressions: [
          { key: "a", operator: "Exists", values: ["x"] },
          { key: "b", operator: "In", values: ["-bad"] },
          { key: "c", operator: "Huh" },
        ],
      },
      "spec.selector",
      c,
    );
    expect(c.list.map((x) => `${x.field} ${x.reason}`)).toEqual([
      "spec.selector.matchExpressions[0].values FieldValueForbidden",
      "spec.selector.matchExpressions[1].values[0] FieldValueInvalid",
      "spec.selector.matchExpressions[2].operator FieldValueInvalid",
    ]);
  });

  it("matches labels like metav1.LabelSelectorAsSelector", () => {
    const labels = { app: "web", tier: "front" };
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: "web" } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: "db" } }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "In", values: ["front", "back"] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["front"] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "canary", operator: "Exists" }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "Huh" }] }, labels)).toBe(false);
    expect(selectorIsEmpty({ matchLabels: {}, matchExpressions: [] })).toBe(true);
    expect(selectorIsEmpty({ matchLabels: { a: "b" } })).toBe(false);
  });
});
