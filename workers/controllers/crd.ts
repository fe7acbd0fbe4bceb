/**
 * The CRD finalizer (apiextensions-apiserver's finalizing controller): a deleted
 * CustomResourceDefinition keeps the `customresourcecleanup.apiextensions.k8s.io`
 * finalizer and the Terminating condition (set by its DELETE) until every instance of
 * its resource is gone; this controller deletes the instances, waits for them (they
 * may have finalizers of their own), then drops the finalizer, which completes the
 * CRD's deletion and takes the resource out of the catalog.
 */
import { customKind, rememberCustomResourceDefinition } from "../registry/crd/catalog";
import { CLEANUP_FINALIZER, CRD_RESOURCE } from "../registry/crd/kind";
import { isConflict } from "./client";
import type { Controller } from "./manager";
import { pool } from "./manager";

const RECHECK_MS = 1000;

export const crdController: Controller = {
  name: "customresourcedefinition-cleanup",
  primary: [CRD_RESOURCE],
  wants: (change) => !change.deleted && !!change.obj.metadata.deletionTimestamp,
  async reconcile(key, ctx) {
    const crd = await ctx.api.get(CRD_RESOURCE, "", key.name);
    if (!crd?.metadata.deletionTimestamp || !(crd.metadata.finalizers ?? []).includes(CLEANUP_FINALIZER)) return {};
    // this isolate may not have loaded the CRD yet: its kinds come from the object in hand
    rememberCustomResourceDefinition(crd);
    const plural = crd.status?.acceptedNames?.plural;
    // a CRD whose names were never accepted serves nothing (its plural may be another CRD's)
    const ours = plural && customKind(plural)?.strategy.custom?.crd === crd.metadata.name;
    if (ours) {
      const items = await ctx.api.list(plural);
      if (items.length) {
        const live = items.filter((o) => !o.metadata.deletionTimestamp);
        await pool(live, 8, async (o) => {
          await ctx.api.delete(plural, o.metadata.namespace ?? "", o.metadata.name!, { preconditions: { uid: o.metadata.uid } }).catch(() => false);
        });
        return { requeueAfterMs: RECHECK_MS };
      }
    }
    const finalizers = (crd.metadata.finalizers ?? []).filter((f: string) => f !== CLEANUP_FINALIZER);
    try {
      await ctx.api.update(CRD_RESOURCE, { ...crd, metadata: { ...crd.metadata, finalizers } });
    } catch (e) {
      if (isConflict(e)) return { requeueAfterMs: 100 };
      throw e;
    }
    return {};
  },
  async resync(ctx) {
    const crds = await ctx.api.list(CRD_RESOURCE);
    return crds.filter((c) => c.metadata.deletionTimestamp).map((c) => ({ resource: CRD_RESOURCE, namespace: "", name: c.metadata.name! }));
  },
};
