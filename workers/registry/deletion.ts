/** What a DELETE does to an object: remove it now, or mark it and wait (finalizers, graceful deletion). */
import type { KObject } from "../../shared/types";
import type { Kind } from "./kinds/kind";
import { clone, timestamp } from "./meta";

export interface DeleteOptions {
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  orphanDependents?: boolean;
}

/** The object as a DELETE leaves it, and whether it goes now (`now`) or stays marked for deletion. */
export const planDelete = (kind: Kind, current: KObject, opts: DeleteOptions, now: Date): { object: KObject; now: boolean } => {
  const obj = clone(current);
  delete obj.metadata.resourceVersion;
  const policy = opts.propagationPolicy ?? (opts.orphanDependents ? "Orphan" : undefined);
  // after the strategy, which may add a finalizer of its own (a CRD's customresourcecleanup)
  const waits = kind.strategy.prepareForDelete?.(obj, { now, gracePeriodSeconds: opts.gracePeriodSeconds }) ?? false;
  const finalizers = new Set(obj.metadata.finalizers ?? []);
  if (policy === "Foreground") finalizers.add("foregroundDeletion");
  if (policy === "Orphan") finalizers.add("orphan");
  if (!obj.metadata.deletionTimestamp) {
    obj.metadata.deletionTimestamp = timestamp(now);
    obj.metadata.deletionGracePeriodSeconds = obj.metadata.deletionGracePeriodSeconds ?? 0;
  }
  if (finalizers.size > 0 || waits) {
    if (finalizers.size) obj.metadata.finalizers = [...finalizers];
    return { object: obj, now: false };
  }
  return { object: obj, now: true };
};

/** Removing the last finalizer of an object marked for deletion completes the deletion (once the kind agrees). */
export const deletionFinishes = (kind: Kind, obj: KObject): boolean =>
  !!obj.metadata.deletionTimestamp && !obj.metadata.finalizers?.length && (kind.strategy.deletionComplete?.(obj) ?? true);
