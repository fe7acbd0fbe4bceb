import type { ResourceInfo } from "../../shared/resources";
import type { KObject } from "../../shared/types";
import { clone, jsonEqual } from "./meta";

/**
 * Per-kind rules kube-apiserver keeps in its "strategies": what a create resets,
 * what an update of the main resource or of /status may change, and whether the
 * kind tracks metadata.generation.
 */

/** Kinds whose metadata.generation counts spec changes. */
const TRACKS_GENERATION = new Set(["deployments", "replicasets", "replicationcontrollers", "pods"]);

export const tracksGeneration = (info: ResourceInfo) => TRACKS_GENERATION.has(info.resource);

export const specChanged = (a: KObject, b: KObject): boolean => !jsonEqual(a.spec ?? null, b.spec ?? null);

/** Status as a freshly created object of this kind has it. */
export const resetStatusOnCreate = (info: ResourceInfo, obj: KObject): void => {
  switch (info.resource) {
    case "pods":
      obj.status = { phase: "Pending", qosClass: qosClass(obj) };
      break;
    case "namespaces":
      obj.status = { phase: "Active" };
      // the namespace controller removes this once the namespace's content is gone
      if (!obj.spec || typeof obj.spec !== "object") obj.spec = {};
      obj.spec.finalizers ??= ["kubernetes"];
      break;
    case "deployments":
      obj.status = {};
      break;
    case "replicasets":
    case "replicationcontrollers":
      obj.status = { replicas: 0 };
      break;
    case "services":
      obj.status = { loadBalancer: {} };
      break;
    case "nodes":
      // kubelets (our agents) register nodes with their status
      break;
    default:
      break;
  }
};

/** Kubernetes QoS class from the containers' requests and limits. */
export const qosClass = (pod: KObject): string => {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let allGuaranteed = containers.length > 0;
  let any = false;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ["cpu", "memory"]) {
      const l = lim[r];
      const q = req[r] ?? l;
      if (l === undefined || String(q) !== String(l)) allGuaranteed = false;
    }
  }
  if (allGuaranteed) return "Guaranteed";
  return any ? "Burstable" : "BestEffort";
};

/**
 * Merge an update of the main resource onto the stored object: status is the
 * subresource's and is kept; server-owned metadata is kept.
 */
export const prepareMainUpdate = (info: ResourceInfo, next: KObject, old: KObject): KObject => {
  const out = clone(next);
  if (info.hasStatus && info.resource !== "nodes" && info.resource !== "namespaces") {
    out.status = clone(old.status);
  }
  if (info.resource === "namespaces") {
    out.status = clone(old.status);
  }
  return keepServerMetadata(out, old);
};

/** An update of /status changes status only (and, like Kubernetes, nothing in metadata but nothing else). */
export const prepareStatusUpdate = (next: KObject, old: KObject): KObject => {
  const out = clone(old);
  out.status = clone(next.status);
  return out;
};

const keepServerMetadata = (out: KObject, old: KObject): KObject => {
  out.metadata = {
    ...out.metadata,
    name: old.metadata.name,
    namespace: old.metadata.namespace,
    uid: old.metadata.uid,
    creationTimestamp: old.metadata.creationTimestamp,
  };
  if (old.metadata.generation !== undefined) out.metadata.generation = old.metadata.generation;
  else delete out.metadata.generation;
  if (old.metadata.deletionTimestamp) {
    out.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
    out.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
  } else {
    delete out.metadata.deletionTimestamp;
    delete out.metadata.deletionGracePeriodSeconds;
  }
  if (out.metadata.generateName === undefined && old.metadata.generateName !== undefined) {
    out.metadata.generateName = old.metadata.generateName;
  }
  return out;
};

const base64 = (s: string): string => {
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
};

/** Conversions every write of a kind goes through (Secret stringData becomes data). */
export const normalize = (info: ResourceInfo, obj: KObject): void => {
  if (info.resource === "secrets" && obj.stringData && typeof obj.stringData === "object") {
    obj.data = { ...(obj.data ?? {}) };
    for (const [k, v] of Object.entries(obj.stringData as Record<string, unknown>)) obj.data[k] = base64(String(v));
    delete obj.stringData;
  }
};
