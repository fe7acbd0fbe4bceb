import { describe, expect, it } from "vitest";
import { resourceByName } from "../../workers/registry/kinds";
import type { KObject } from "../types";
import { objectWarnings } from "./warnings";

const warn = (resource: string, obj: unknown) => objectWarnings(resourceByName(resource), obj as KObject);

describe("objectWarnings", () => {
  it("warns of a negative terminationGracePeriodSeconds in a Pod and in pod templates, as kube-apiserver words it", () => {
    expect(warn("pods", { spec: { terminationGracePeriodSeconds: -5 } })).toEqual([
      "spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1",
    ]);
    for (const r of ["deployments", "replicasets", "replicationcontrollers"]) {
      expect(warn(r, { spec: { template: { spec: { terminationGracePeriodSeconds: -1 } } } })).toEqual([
        "spec.template.spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1",
      ]);
    }
  });

  it("says nothing of valid or absent values, malformed shapes or other kinds", () => {
    expect(warn("pods", { spec: { terminationGracePeriodSeconds: 0 } })).toEqual([]);
    expect(warn("pods", { spec: {} })).toEqual([]);
    expect(warn("pods", { spec: "x" })).toEqual([]);
    expect(warn("deployments", { spec: { template: null } })).toEqual([]);
    expect(warn("configmaps", { spec: { terminationGracePeriodSeconds: -5 } })).toEqual([]);
  });
});
