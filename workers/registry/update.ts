/** What an update writes onto the stored object, per subresource. */
import { groupVersion, type ResourceInfo } from "../../shared/resources";
import { badRequest } from "../../shared/status";
import type { KObject } from "../../shared/types";
import type { Kind } from "./kinds/kind";
import { clone } from "./meta";

/**
 * The object an update writes: the main resource keeps status (unless the kind
 * writes both) and server-owned metadata; /status changes status only; a
 * namespace's /finalize changes spec.finalizers only. Null for other subresources.
 */
export const prepareUpdate = (kind: Kind, current: KObject, next: KObject, sub: string): KObject | null => {
  if (sub === "status") {
    const out = clone(current);
    out.status = clone(next.status);
    return out;
  }
  if (sub === "finalize" && kind.info.resource === "namespaces") {
    const finalizers = next.spec?.finalizers;
    const out = clone(current);
    out.spec = { ...(out.spec ?? {}), finalizers };
    if (!finalizers?.length) delete out.spec.finalizers;
    return out;
  }
  if (sub) return null;
  const out = clone(next);
  if (kind.info.hasStatus && !kind.strategy.statusOnMainUpdate) out.status = clone(current.status);
  return keepServerMetadata(out, current);
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

/**
 * The object's name (and namespace) must be the URL's (kube-apiserver's checkName: 400).
 * An update must name its object; a server-side apply that creates one may leave the
 * name to the URL.
 */
export const checkNameAndNamespace = (info: ResourceInfo, obj: KObject, namespace: string, name: string, opts: { nameOptional?: boolean } = {}) => {
  const objName = obj.metadata.name ?? "";
  if ((objName || !opts.nameOptional) && objName !== name) {
    throw badRequest(
      `the name of the object (${typeof objName === "string" ? objName : JSON.stringify(objName)}) does not match the name on the URL (${name})`,
    );
  }
  if (info.namespaced && obj.metadata.namespace && obj.metadata.namespace !== namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
};

const shown = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** A patch may not rename or move its object (kube-apiserver's checkName: 400). */
export const checkPatchedName = (patched: KObject, namespace: string, name: string): void => {
  const objName = patched.metadata.name ?? "";
  if (objName !== name) throw badRequest(`the name of the object (${shown(objName)}) does not match the name on the URL (${name})`);
  const objNamespace = patched.metadata.namespace ?? "";
  if (namespace && objNamespace && objNamespace !== namespace) {
    throw badRequest(`the namespace of the object (${shown(objNamespace)}) does not match the namespace on the request (${namespace})`);
  }
};

/**
 * A server-side apply configuration must say what it is: its apiVersion must be the
 * endpoint's (kube-apiserver's field manager: 400 "Incorrect version specified in apply
 * patch"), and it must name its kind. Other mismatches are toObject's.
 */
export const checkApplyTypeMeta = (info: ResourceInfo, patch: unknown): unknown => {
  if (!patch || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const { apiVersion, kind } = patch as Record<string, unknown>;
  const gv = groupVersion(info);
  if (apiVersion !== gv) {
    throw badRequest(
      `Incorrect version specified in apply patch. Specified patch version: ${typeof apiVersion === "string" ? apiVersion : ""}, expected: ${gv}`,
    );
  }
  if (kind === undefined || kind === null || kind === "") throw badRequest(`kind must be set in an apply patch (expected: ${info.kind})`);
  return patch;
};
