/** Which keys a write affects: the controllers' work queue gets these. */
import { jsonEqual } from "../../shared/json";
import type { ResourceInfo } from "../../shared/resources";
import type { KObject, ObjectKey } from "../../shared/types";
import type { QueuedKey } from "../queue";
import { resourceByKind } from "./kinds";

const keyOf = (info: ResourceInfo, obj: KObject): ObjectKey => ({ resource: info.resource, namespace: obj.metadata.namespace ?? "", name: obj.metadata.name! });

/** One committed write, as the controllers' predicates see it. */
export interface WriteChange {
  key: ObjectKey;
  /** the object as stored (on a final deletion: as it was removed) */
  obj: KObject;
  /** the object before an update, when the write path had it */
  old?: KObject;
  /** the object is gone */
  deleted: boolean;
}

/**
 * Which controllers need a write of its object (controller-runtime's predicates; see
 * ControllerManager.wants): true, every one it concerns; false, none; or the names of
 * those that do, when some of the controllers it concerns filter it out.
 */
export type WriteFilter = (change: WriteChange) => boolean | string[];

/**
 * An object without what a write may change while telling no controller anything: its
 * resourceVersion and managedFields, and the heartbeat times of its conditions (a
 * Node's status re-posted unchanged).
 */
const essence = (o: KObject) => {
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = o.metadata as KObject["metadata"] & { managedFields?: unknown };
  const conditions = o.status?.conditions;
  const status = Array.isArray(conditions)
    ? { ...o.status, conditions: conditions.map((c: any) => (c && typeof c === "object" ? { ...c, lastHeartbeatTime: undefined } : c)) }
    : o.status;
  return { ...o, metadata, status };
};

/** An update that changed nothing a controller reads (only versions and heartbeats). */
export const onlyVolatileChanged = (old: KObject, obj: KObject): boolean => jsonEqual(essence(old), essence(obj));

/**
 * The object itself, its owners (before and after the write) and, when it is gone,
 * its dependents (the garbage collector re-checks them). An update that changed only
 * versions and heartbeats affects nothing; the object's own key goes only if `wants`
 * (the controllers' predicates) says a controller needs it.
 */
export const affectedKeys = (
  info: ResourceInfo,
  obj: KObject,
  old: KObject | undefined,
  dependents: KObject[],
  o: { deleted?: boolean; wants?: WriteFilter } = {},
): QueuedKey[] => {
  const deleted = !!o.deleted;
  if (old && !deleted && onlyVolatileChanged(old, obj)) return [];
  const self = keyOf(info, obj);
  const wanted = o.wants ? o.wants({ key: self, obj, old, deleted }) : true;
  // the object's own key: for all the controllers it concerns, or one key for each that wants it
  const keys: QueuedKey[] = wanted === true ? [self] : wanted === false ? [] : wanted.map((controller) => ({ ...self, controller }));
  for (const x of [obj, old]) {
    for (const ref of x?.metadata.ownerReferences ?? []) {
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
