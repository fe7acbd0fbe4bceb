/**
 * ServiceLB (k3s' klipper-lb, the status half): a Service of type LoadBalancer with no
 * spec.loadBalancerClass, or Kubeflare's own, is answered on its ports by every node
 * (the agents' kube-proxy does that), so its status.loadBalancer.ingress lists the
 * InternalIP of every Ready, schedulable node, sorted, and follows the nodes as they
 * come, go, turn NotReady or are cordoned. Services of another class are left to
 * whoever implements it. A Service that stops being a LoadBalancer loses the ingress
 * this controller gave it.
 */
import { parseIPv4 } from "../../shared/net/cidr";
import type { KObject, ObjectKey } from "../../shared/types";
import { jsonEqual } from "../../shared/json";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";

export const SERVICELB_CLASS = "kubeflare.dev/servicelb";

const ours = (svc: KObject) => !svc.spec?.loadBalancerClass || svc.spec.loadBalancerClass === SERVICELB_CLASS;
const isLoadBalancer = (svc: KObject) => svc.spec?.type === "LoadBalancer";

const nodeReady = (n: KObject) => (n.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");

/** The ingress points of our LoadBalancer Services: the Ready, schedulable nodes' InternalIPs, in address order. */
export const nodeIngress = (nodes: KObject[]): { ip: string; ipMode: "VIP" }[] => {
  const ips = new Set<string>();
  for (const n of nodes) {
    if (n.metadata.deletionTimestamp || n.spec?.unschedulable || !nodeReady(n)) continue;
    const ip = (n.status?.addresses ?? []).find((a: any) => a.type === "InternalIP")?.address;
    if (typeof ip === "string" && parseIPv4(ip) !== undefined) ips.add(ip);
  }
  return [...ips].sort((a, b) => parseIPv4(a)! - parseIPv4(b)!).map((ip) => ({ ip, ipMode: "VIP" as const }));
};

const reconcile = async (key: ObjectKey, ctx: ControllerContext): Promise<ReconcileResult> => {
  const svc = await ctx.api.get("services", key.namespace, key.name);
  if (!svc || !ours(svc)) return;
  const current = svc.status?.loadBalancer?.ingress ?? [];
  let wanted: unknown[];
  if (isLoadBalancer(svc)) wanted = nodeIngress(await ctx.api.list("nodes"));
  else if (current.length)
    wanted = []; // no longer a LoadBalancer: what we published goes
  else return;
  if (jsonEqual(current, wanted)) return;
  try {
    await ctx.api.updateStatus("services", {
      ...svc,
      status: { ...(svc.status ?? {}), loadBalancer: wanted.length ? { ingress: wanted } : {} },
    });
  } catch (e) {
    if (isConflict(e) || isNotFound(e)) return { requeueAfterMs: 20 };
    throw e;
  }
};

/** Every Service this controller serves (a node change may change all their ingress lists). */
const loadBalancers = async (ctx: ControllerContext): Promise<ObjectKey[]> =>
  (await ctx.api.list("services"))
    .filter((s) => ours(s) && (isLoadBalancer(s) || (s.status?.loadBalancer?.ingress ?? []).length))
    .map((s) => ({ resource: "services", namespace: s.metadata.namespace ?? "", name: s.metadata.name! }));

export const serviceLBController: Controller = {
  name: "servicelb",
  primary: ["services"],
  watches: [{ resource: "nodes", mapAll: (_keys, ctx) => loadBalancers(ctx) }],
  reconcile,
  resync: loadBalancers,
};
