/**
 * The service account controller (kube-controller-manager's serviceaccount-controller):
 * every active namespace has a ServiceAccount `default`, made when the namespace appears
 * and made again when someone deletes it. A namespace being deleted is left alone.
 */
import { ApiError } from "../../shared/status";
import type { KObject, ObjectKey } from "../../shared/types";
import { isNotFound } from "./client";
import type { ReconcileResult } from "./context";
import type { Controller } from "./manager";

export const DEFAULT_SERVICE_ACCOUNT = "default";

const nsKey = (name: string): ObjectKey => ({ resource: "namespaces", namespace: "", name });

export const serviceAccountController: Controller = {
  name: "serviceaccount",
  primary: ["namespaces"],
  watches: [
    {
      // a deleted `default` account: look at its namespace again
      resource: "serviceaccounts",
      map: (key) => (key.name === DEFAULT_SERVICE_ACCOUNT ? [nsKey(key.namespace)] : []),
    },
  ],
  // of the ServiceAccounts, only `default`'s writes matter here
  wants: ({ key }) => key.resource !== "serviceaccounts" || key.name === DEFAULT_SERVICE_ACCOUNT,

  async reconcile(key, ctx): Promise<ReconcileResult> {
    const ns = await ctx.api.get("namespaces", "", key.name);
    if (!ns || ns.metadata.deletionTimestamp) return;
    if (await ctx.api.get("serviceaccounts", key.name, DEFAULT_SERVICE_ACCOUNT)) return;
    try {
      await ctx.api.create("serviceaccounts", key.name, {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: DEFAULT_SERVICE_ACCOUNT },
      } as KObject);
    } catch (e) {
      // made meanwhile by someone else, or the namespace went or began terminating
      if (e instanceof ApiError && (e.reason === "AlreadyExists" || e.code === 403)) return;
      if (isNotFound(e)) return;
      throw e;
    }
  },

  /** the active namespaces without their `default` account (two reads, however many namespaces) */
  async resync(ctx) {
    const [namespaces, accounts] = await Promise.all([
      ctx.api.list("namespaces"),
      ctx.api.list("serviceaccounts", "", { fieldSelector: `metadata.name=${DEFAULT_SERVICE_ACCOUNT}` }),
    ]);
    const has = new Set(accounts.map((a) => a.metadata.namespace));
    return namespaces.filter((n) => !n.metadata.deletionTimestamp && !has.has(n.metadata.name)).map((n) => nsKey(n.metadata.name!));
  },
};
