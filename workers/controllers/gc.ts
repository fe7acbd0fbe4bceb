import type { ResourceInfo } from "../../shared/resources";
import { resourceByKind, servedResources } from "../registry/kinds";
import type { KObject, ObjectKey, OwnerReference } from "../../shared/types";
import { isConflict } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";

const infoOf = (o: KObject): ResourceInfo | undefined => resourceByKind(o.apiVersion ?? "", o.kind ?? "");

const keyOf = (o: KObject): ObjectKey | undefined => {
  const info = infoOf(o);
  return info && { resource: info.resource, namespace: o.metadata.namespace ?? "", name: o.metadata.name! };
};

/** Re-read and rewrite `key` with `edit` until the compare-and-swap succeeds; false when the object is gone. */
const mutate = async (ctx: ControllerContext, key: ObjectKey, uid: string, edit: (o: KObject) => boolean): Promise<boolean> => {
  for (let attempt = 0; attempt < 5; attempt++) {
    const o = await ctx.api.get(key.resource, key.namespace, key.name);
    if (!o || o.metadata.uid !== uid) return false;
    if (!edit(o)) return true;
    try {
      await ctx.api.update(key.resource, o);
      return true;
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
  }
  throw new Error(`too many conflicts updating ${key.resource} ${key.namespace}/${key.name}`);
};

const removeFinalizer = (ctx: ControllerContext, key: ObjectKey, uid: string, finalizer: string) =>
  mutate(ctx, key, uid, (o) => {
    const f = o.metadata.finalizers ?? [];
    if (!f.includes(finalizer)) return false;
    o.metadata.finalizers = f.filter((x) => x !== finalizer);
    return true;
  });

/** Does `dep` hold up the foreground deletion of `ownerUid`? (Kubernetes: blockOwnerDeletion.) */
const blocks = (dep: KObject, ownerUid: string) => (dep.metadata.ownerReferences ?? []).some((r) => r.uid === ownerUid && r.blockOwnerDeletion);

/** The owner a reference names, when it still exists with that uid. */
const liveOwner = async (ctx: ControllerContext, dep: KObject, ref: OwnerReference): Promise<KObject | null | "unknown"> => {
  const info = resourceByKind(ref.apiVersion, ref.kind);
  if (!info) return "unknown"; // a kind we don't serve: leave the reference alone
  const owner = await ctx.api.get(info.resource, info.namespaced ? (dep.metadata.namespace ?? "") : "", ref.name);
  return owner && owner.metadata.uid === ref.uid ? owner : null;
};

/**
 * The garbage collector, as Kubernetes' works: an object whose owners are all gone
 * is deleted (Background); dangling references to some owners are removed; an owner
 * deleted with `propagationPolicy: Orphan` has its dependents' references removed
 * before it goes; one deleted with `Foreground` waits for its dependents to go.
 */
export const garbageCollector: Controller = {
  name: "garbage-collector",
  // custom resources (CRDs) come and go: the list is read each time
  get primary() {
    return servedResources().map((r) => r.resource);
  },
  /** objects with owners, and owners being deleted Orphan or Foreground; an owner's deletion enqueues its dependents, and the resync sweeps */
  wants: ({ obj }) =>
    !!obj.metadata.ownerReferences?.length ||
    (!!obj.metadata.deletionTimestamp && !!obj.metadata.finalizers?.some((f) => f === "orphan" || f === "foregroundDeletion")),

  async reconcile(key, ctx): Promise<ReconcileResult> {
    const obj = await ctx.api.get(key.resource, key.namespace, key.name);
    if (!obj) return;
    const uid = obj.metadata.uid!;
    const finalizers = obj.metadata.finalizers ?? [];

    if (obj.metadata.deletionTimestamp && finalizers.includes("orphan")) {
      for (const dep of await ctx.api.dependents(uid)) {
        const k = keyOf(dep);
        if (!k) continue;
        await mutate(ctx, k, dep.metadata.uid!, (d) => {
          const refs = d.metadata.ownerReferences ?? [];
          if (!refs.some((r) => r.uid === uid)) return false;
          d.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
          if (!d.metadata.ownerReferences.length) delete d.metadata.ownerReferences;
          return true;
        });
      }
      await removeFinalizer(ctx, key, uid, "orphan");
      return;
    }

    if (obj.metadata.deletionTimestamp && finalizers.includes("foregroundDeletion")) {
      const deps = await ctx.api.dependents(uid);
      for (const dep of deps) {
        const k = keyOf(dep);
        if (!k || dep.metadata.deletionTimestamp) continue;
        const hasOwnDependents = (await ctx.api.dependents(dep.metadata.uid!)).length > 0;
        await ctx.api.delete(k.resource, k.namespace, k.name, {
          propagationPolicy: hasOwnDependents ? "Foreground" : "Background",
          preconditions: { uid: dep.metadata.uid },
        });
      }
      const waiting = (await ctx.api.dependents(uid)).filter((d) => blocks(d, uid));
      if (waiting.length === 0) {
        await removeFinalizer(ctx, key, uid, "foregroundDeletion");
        return;
      }
      // dependents' deletions enqueue this owner again; the resync is the safety net
      return { requeueAfterMs: 5_000 };
    }

    const refs = obj.metadata.ownerReferences ?? [];
    if (!refs.length) return;
    const gone: string[] = [];
    for (const ref of refs) {
      if ((await liveOwner(ctx, obj, ref)) === null) gone.push(ref.uid);
    }
    if (!gone.length) return;
    if (gone.length === refs.length) {
      if (!obj.metadata.deletionTimestamp) {
        await ctx.api.delete(key.resource, key.namespace, key.name, { propagationPolicy: "Background", preconditions: { uid } });
      }
      return;
    }
    await mutate(ctx, key, uid, (o) => {
      const before = o.metadata.ownerReferences ?? [];
      o.metadata.ownerReferences = before.filter((r) => !gone.includes(r.uid));
      return o.metadata.ownerReferences.length !== before.length;
    });
  },

  /** Sweep: objects that still name owners that no longer exist (a lost queue message, a crash). */
  async resync(ctx) {
    return ctx.api.danglingDependents(500);
  },
};
