import { customStorageResources, RESOURCES } from "../registry/kinds";
import { isConflict } from "./client";
import type { ReconcileResult } from "./context";
import type { Controller } from "./manager";
import { rfc3339 } from "../../shared/time";

// the create-only reviews (LocalSubjectAccessReview) store nothing: no list to make
const NAMESPACED = RESOURCES.filter((r) => r.namespaced && (!r.verbs || r.verbs.includes("list")));

/**
 * The namespace controller: a namespace marked for deletion (phase Terminating) has
 * all its content deleted; once nothing is left, its `kubernetes` finalizer is
 * removed and the namespace goes.
 */
export const namespaceController: Controller = {
  name: "namespace",
  primary: ["namespaces"],

  async reconcile(key, ctx): Promise<ReconcileResult> {
    const ns = await ctx.api.get("namespaces", "", key.name);
    if (!ns?.metadata.deletionTimestamp) return;
    let remaining = 0;
    const left: string[] = [];
    for (const info of [...NAMESPACED, ...customStorageResources().filter((r) => r.namespaced)]) {
      const items = await ctx.api.list(info.resource, key.name);
      if (!items.length) continue;
      remaining += items.length;
      left.push(`${info.resource}.${info.group || ""}`.replace(/\.$/, "") + ` has ${items.length} resource instances`);
      for (const o of items) {
        if (o.metadata.deletionTimestamp) continue;
        await ctx.api.delete(info.resource, key.name, o.metadata.name!, { propagationPolicy: "Background" });
      }
    }
    if (remaining > 0) {
      const message = `Some resources are remaining: ${left.join(", ")}`;
      const conditions = [
        { type: "NamespaceContentRemaining", status: "True", reason: "SomeResourcesRemain", message, lastTransitionTime: rfc3339(ctx.now()) },
      ];
      const prev = (ns.status?.conditions ?? []).find((c: any) => c.type === "NamespaceContentRemaining");
      if (prev?.message !== message) {
        try {
          await ctx.api.updateStatus("namespaces", { ...ns, status: { ...ns.status, conditions } });
        } catch (e) {
          if (!isConflict(e)) throw e;
        }
      }
      // content deletions do not name the namespace: look again shortly
      return { requeueAfterMs: 1_000 };
    }
    const finalizers: string[] = ns.spec?.finalizers ?? [];
    if (finalizers.includes("kubernetes")) {
      const rest = finalizers.filter((f) => f !== "kubernetes");
      await ctx.api.update("namespaces", { ...ns, spec: { ...ns.spec, finalizers: rest.length ? rest : undefined } });
    }
  },

  async resync(ctx) {
    const all = await ctx.api.list("namespaces", "", { fieldSelector: "status.phase=Terminating" });
    return all.map((n) => ({ resource: "namespaces", namespace: "", name: n.metadata.name! }));
  },
};
