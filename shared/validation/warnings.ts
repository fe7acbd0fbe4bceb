/**
 * Warnings kube-apiserver returns (as `Warning: 299` headers) for objects it accepts
 * but finds questionable (pkg/api/pod/warnings.go), for the cases Kubeflare handles.
 */
import type { ResourceInfo } from "../resources";
import type { KObject } from "../types";
import { isObj, type Obj } from "./rules/json";

/** Where each kind keeps its pod spec. */
const POD_SPEC_PATH: Record<string, string[]> = {
  Pod: ["spec"],
  Deployment: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  ReplicationController: ["spec", "template", "spec"],
};

const podSpecWarnings = (spec: Obj, path: string): string[] => {
  const out: string[] = [];
  const grace = spec.terminationGracePeriodSeconds;
  if (typeof grace === "number" && grace < 0) {
    out.push(`${path}.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1`);
  }
  return out;
};

/**
 * The warnings for an object as it was sent (before defaulting): a negative
 * terminationGracePeriodSeconds, which a Pod stores as 1 (since Kubernetes 1.27) and a
 * pod template keeps, to be treated as 1 when its pods are made.
 */
export const objectWarnings = (info: ResourceInfo, obj: KObject): string[] => {
  const path = POD_SPEC_PATH[info.kind];
  if (!path) return [];
  let spec: unknown = obj;
  for (const p of path) spec = isObj(spec) ? spec[p] : undefined;
  return isObj(spec) ? podSpecWarnings(spec, path.join(".")) : [];
};
