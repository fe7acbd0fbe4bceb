/**
 * Ingresses (networking.k8s.io/v1): status subresource, kube's DefaultIngressClass
 * admission (an Ingress naming no class, by field or by the deprecated annotation, gets
 * the default class), `kubectl get ingress` columns.
 */
import { INGRESS_CLASS_ANNOTATION } from "../../../shared/validation/rules/networking";
import { defineKind } from "./kind";
import { AGE, age, col, NAME } from "./printing";
import { defaultIngressClass } from "./ingressclasses";

/** kubectl's formatHosts: the first three hosts, "+ N more...", or "*" when no rule names a host. */
export const hostsCell = (rules: unknown): string => {
  const list: string[] = [];
  const all = Array.isArray(rules) ? rules : [];
  const max = 3;
  let more = false;
  for (const r of all) {
    if (list.length === max) more = true;
    if (!more && typeof r?.host === "string" && r.host) list.push(r.host);
  }
  if (list.length === 0) return "*";
  return more ? `${list.join(",")} + ${all.length - max} more...` : list.join(",");
};

/** kubectl's ingressLoadBalancerStatusStringer (not wide: cut to 16 characters). */
export const addressCell = (status: any, wideOutput = false): string => {
  const points: any[] = Array.isArray(status?.loadBalancer?.ingress) ? status.loadBalancer.ingress : [];
  const r = points
    .map((p) => p?.ip || p?.hostname || "")
    .filter((s) => s)
    .join(",");
  return !wideOutput && r.length > 16 ? `${r.slice(0, 13)}...` : r;
};

export const ingresses = defineKind({
  info: {
    resource: "ingresses",
    singular: "ingress",
    kind: "Ingress",
    group: "networking.k8s.io",
    version: "v1",
    namespaced: true,
    shortNames: ["ing"],
    subresources: ["status"],
    hasStatus: true,
  },
  printer: {
    columns: [
      NAME,
      col("Class", "The name of the IngressClass resource that should be used for ingress."),
      col("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
      col("Address", "Address is a list containing ingress points for the load-balancer"),
      col("Ports", "Ports of TLS configurations that open"),
      AGE,
    ],
    cells: (o, now) => [
      o.metadata.name,
      typeof o.spec?.ingressClassName === "string" ? o.spec.ingressClassName : "<none>",
      hostsCell(o.spec?.rules),
      addressCell(o.status),
      Array.isArray(o.spec?.tls) && o.spec.tls.length > 0 ? "80, 443" : "80",
      age(o, now),
    ],
  },
  strategy: {
    tracksGeneration: true,
    prepareForCreate: (ing) => {
      ing.status = {};
    },
    admit: async (ing, ctx) => {
      // DefaultIngressClass: neither the field nor the deprecated annotation names a class
      if (!ing.spec || typeof ing.spec !== "object") return;
      if (typeof ing.spec.ingressClassName === "string" || ing.metadata.annotations?.[INGRESS_CLASS_ANNOTATION] !== undefined) return;
      const ic = defaultIngressClass(await ctx.list("ingressclasses"));
      if (ic) ing.spec.ingressClassName = ic.metadata.name;
    },
  },
});
