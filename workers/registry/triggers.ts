/** Which keys a write affects: the controllers' work queue gets these. */
import type { ResourceInfo } from "../../shared/resources";
import type { KObject, ObjectKey } from "../../shared/types";
import { resourceByKind } from "./kinds";

const keyOf = (info: ResourceInfo, obj: KObject): ObjectKey => ({ resource: info.resource, namespace: obj.metadata.namespace ?? "", name: obj.metadata.name! });

/**
 * The object itself, its owners (before and after the write) and, when it is gone,
 * its dependents (the garbage collector re-checks them).
 */
export const affectedKeys = (info: ResourceInfo, obj: KObject, old: KObject | undefined, dependents: KObject[]): ObjectKey[] => {
  const keys: ObjectKey[] = [keyOf(info, obj)];
  for (const o of [obj, old]) {
    for (const ref of o?.metadata.ownerReferences ?? []) {
      const owner = resourceByKind(ref.apiVersion, ref.kind);
      if (owner) keys.push({ resource: owner.resource, namespace: owner.namespaced ? (obj.metadata.namespace ?? "") : "", name: ref.name });
    }
  }
  for (const d of dependents) {
    const dinfo = resourceByKind(d.apiVersion ?? "", d.kind ?? "");
    if (dinfo) keys.push(keyOf(dinfo, d));
  }
  return keys;
};
