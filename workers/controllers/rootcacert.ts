/**
 * The root CA publisher (kube-controller-manager's root-ca-cert-publisher): every
 * namespace gets a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster CA, the
 * one that vouches for the API as pods reach it (kubernetes.default.svc, through the
 * node's relay). It is created when a namespace appears, and put back when someone
 * edits or deletes it; a namespace being deleted is left alone. Pods get it mounted at
 * /var/run/secrets/kubernetes.io/serviceaccount/ca.crt (the kube-api-access volume).
 */
import { ApiError } from "../../shared/status";
import type { KObject, ObjectKey } from "../../shared/types";
import { isConflict, isNotFound } from "./client";
import type { ReconcileResult } from "./context";
import type { Controller } from "./manager";

export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";
export const DESCRIPTION_ANNOTATION = "kubernetes.io/description";
export const DESCRIPTION =
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. " +
  "No other usage is guaranteed across distributions of Kubernetes clusters.";

const nsKey = (name: string): ObjectKey => ({ resource: "namespaces", namespace: "", name });

export const rootCACertPublisher: Controller = {
  name: "root-ca-cert-publisher",
  primary: ["namespaces"],
  watches: [
    {
      // an edited or deleted kube-root-ca.crt: look at its namespace again
      resource: "configmaps",
      map: (key) => (key.name === ROOT_CA_CONFIGMAP ? [nsKey(key.namespace)] : []),
    },
  ],
  // of the ConfigMaps, only kube-root-ca.crt's writes (others would cost a queue message for nothing)
  wants: ({ key }) => key.resource !== "configmaps" || key.name === ROOT_CA_CONFIGMAP,

  async reconcile(key, ctx): Promise<ReconcileResult> {
    const ns = await ctx.api.get("namespaces", "", key.name);
    if (!ns || ns.metadata.deletionTimestamp) return;
    const data = { "ca.crt": await ctx.api.rootCA() };
    const cm = await ctx.api.get("configmaps", key.name, ROOT_CA_CONFIGMAP);
    try {
      if (!cm) {
        await ctx.api.create("configmaps", key.name, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: ROOT_CA_CONFIGMAP, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
          data,
        } as KObject);
        return;
      }
      const same = JSON.stringify(cm.data ?? {}) === JSON.stringify(data) && !cm.binaryData && !!cm.metadata.annotations?.[DESCRIPTION_ANNOTATION];
      if (same) return;
      const { binaryData: _b, ...rest } = cm;
      await ctx.api.update("configmaps", {
        ...rest,
        metadata: { ...cm.metadata, annotations: { ...cm.metadata.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
        data,
      });
    } catch (e) {
      // someone else wrote it meanwhile: look again
      if (isConflict(e) || (e instanceof ApiError && e.reason === "AlreadyExists")) return { requeueAfterMs: 20 };
      // the namespace went, or began terminating, meanwhile: nothing to publish there
      if (isNotFound(e) || (e instanceof ApiError && e.code === 403)) return;
      throw e;
    }
  },

  /** the active namespaces whose kube-root-ca.crt is missing or not the current CA (three reads, however many namespaces) */
  async resync(ctx) {
    const [namespaces, maps, ca] = await Promise.all([
      ctx.api.list("namespaces"),
      ctx.api.list("configmaps", "", { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` }),
      ctx.api.rootCA(),
    ]);
    const current = new Set(
      maps.filter((m) => m.data?.["ca.crt"] === ca && !!m.metadata.annotations?.[DESCRIPTION_ANNOTATION]).map((m) => m.metadata.namespace),
    );
    return namespaces.filter((n) => !n.metadata.deletionTimestamp && !current.has(n.metadata.name)).map((n) => nsKey(n.metadata.name!));
  },
};
