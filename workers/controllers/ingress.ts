/**
 * Ingress status: the Ingresses served by Kubeflare's classes (controller
 * kubeflare.dev/ingress; or naming no class while one of those is the default) are
 * answered by the ingress proxy of every node running one (the agent annotates its Node
 * with kubeflare.dev/ingress-proxy), so their status.loadBalancer.ingress lists the
 * InternalIP of every Ready such node, sorted, and follows the nodes as they come, go or
 * turn NotReady. One writer for all agents, as servicelb is for LoadBalancer Services.
 */
import { ingressServedBy } from "../../shared/ingressclass";
import { jsonEqual } from "../../shared/json";
import { parseIPv4 } from "../../shared/net/cidr";
import type { KObject, ObjectKey } from "../../shared/types";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";

export const INGRESS_CONTROLLER = "kubeflare.dev/ingress";
export const INGRESS_PROXY_ANNOTATION = "kubeflare.dev/ingress-proxy";

const nodeReady = (n: KObject) => (n.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");

/** The ingress points: the InternalIPs of the Ready nodes running the proxy, in address order. */
export const ingressPoints = (nodes: KObject[]): { ip: string }[] => {
  const ips = new Set<string>();
  for (const n of nodes) {
    if (n.metadata.deletionTimestamp || !n.metadata.annotations?.[INGRESS_PROXY_ANNOTATION] || !nodeReady(n)) continue;
    const ip = (n.status?.addresses ?? []).find((a: any) => a.type === "InternalIP")?.address;
    if (typeof ip === "string" && parseIPv4(ip) !== undefined) ips.add(ip);
  }
  return [...ips].sort((a, b) => parseIPv4(a)! - parseIPv4(b)!).map((ip) => ({ ip }));
};

/** Is the Ingress served by our controller? */
export const ours = (ing: KObject, classes: KObject[]): boolean => ingressServedBy(ing, classes, INGRESS_CONTROLLER);

const reconcile = async (key: ObjectKey, ctx: ControllerContext): Promise<ReconcileResult> => {
  const ing = await ctx.api.get("ingresses", key.namespace, key.name);
  if (!ing || ing.metadata.deletionTimestamp) return;
  const current = ing.status?.loadBalancer?.ingress ?? [];
  const mine = ours(ing, await ctx.api.list("ingressclasses"));
  // an Ingress moved to another class loses only addresses we would have written (nodes' IPs)
  const wanted = mine ? ingressPoints(await ctx.api.list("nodes")) : [];
  if (!mine && !current.length) return;
  if (!mine) {
    const nodeIPs = new Set(ingressPoints(await ctx.api.list("nodes")).map((p) => p.ip));
    if (!current.every((p: any) => nodeIPs.has(p?.ip))) return; // someone else's
  }
  if (jsonEqual(current, wanted)) return;
  try {
    await ctx.api.updateStatus("ingresses", { ...ing, status: { ...(ing.status ?? {}), loadBalancer: wanted.length ? { ingress: wanted } : {} } });
  } catch (e) {
    if (isConflict(e) || isNotFound(e)) return { requeueAfterMs: 20 };
    throw e;
  }
};

const allIngresses = async (ctx: ControllerContext): Promise<ObjectKey[]> =>
  (await ctx.api.list("ingresses")).map((i) => ({ resource: "ingresses", namespace: i.metadata.namespace ?? "", name: i.metadata.name! }));

export const ingressStatusController: Controller = {
  name: "ingress-status",
  primary: ["ingresses"],
  watches: [
    { resource: "nodes", mapAll: (_keys, ctx) => allIngresses(ctx) },
    { resource: "ingressclasses", mapAll: (_keys, ctx) => allIngresses(ctx) },
  ],
  reconcile,
  resync: allIngresses,
};
