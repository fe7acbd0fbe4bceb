/** Services (core/v1): ClusterIP and node port allocation at create, the service printer. */
import type { KObject } from "../../../shared/types";
import { type AdmissionContext, defineKind } from "./kind";
import { AGE, age, col, mapSelector, NAME, type Printer, wide } from "./printing";

/**
 * Service IP and node port allocation: a ClusterIP from 10.96.0.0/12 (10.96.0.1 is
 * the API's own `kubernetes` Service) and node ports from 30000-32767, unique across
 * the cluster. Kubeflare records them as Kubernetes does; traffic forwarding is the
 * agents' business.
 */
const allocateAddresses = async (svc: KObject, ctx: AdmissionContext): Promise<void> => {
  const spec = svc.spec;
  if (!spec || typeof spec !== "object") return;
  const type = spec.type ?? "ClusterIP";
  if (type === "ExternalName" || spec.clusterIP === "None") return;
  const services = await ctx.list("services");
  if (!spec.clusterIP) {
    const used = new Set(services.map((s) => s.spec?.clusterIP).filter(Boolean));
    // 10.96.0.0/12 has 2^20 addresses; start at a random offset and take the first free one
    const start = 10 + Math.floor(Math.random() * ((1 << 20) - 20));
    for (let i = 0; i < 1 << 20; i++) {
      const n = ((start + i) % ((1 << 20) - 2)) + 2;
      const ip = `10.${96 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
      if (!used.has(ip)) {
        spec.clusterIP = ip;
        break;
      }
    }
    spec.clusterIPs = [spec.clusterIP];
  }
  if (type === "NodePort" || type === "LoadBalancer") {
    const used = new Set(services.flatMap((s) => (s.spec?.ports ?? []).map((p: any) => p.nodePort)).filter(Boolean));
    let next = 30000 + Math.floor(Math.random() * 2768);
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
      if (!p || typeof p !== "object" || p.nodePort) continue;
      for (let i = 0; i < 2768 && used.has(next); i++) next = next >= 32767 ? 30000 : next + 1;
      p.nodePort = next;
      used.add(next);
    }
  }
};

const servicePorts = (s: KObject) => {
  const ports: any[] = s.spec?.ports ?? [];
  if (!ports.length) return "<none>";
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? "TCP"}` : `${p.port}/${p.protocol ?? "TCP"}`)).join(",");
};

const externalIps = (s: KObject) => {
  const type = s.spec?.type ?? "ClusterIP";
  const ext: string[] = s.spec?.externalIPs ?? [];
  if (type === "ExternalName") return s.spec?.externalName ?? "<none>";
  if (type === "LoadBalancer") {
    const ing = (s.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip || i.hostname);
    const all = [...ing, ...ext];
    return all.length ? all.join(",") : "<pending>";
  }
  return ext.length ? ext.join(",") : "<none>";
};

const printer: Printer = {
  columns: [
    NAME,
    col("Type", "type determines how the Service is exposed."),
    col("Cluster-IP", "clusterIP is the IP address of the service."),
    col("External-IP", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
    col("Port(s)", "The list of ports that are exposed by this service."),
    AGE,
    wide("Selector", "Route service traffic to pods with label keys and values matching this selector."),
  ],
  cells: (s, now) => [
    s.metadata.name,
    s.spec?.type ?? "ClusterIP",
    s.spec?.clusterIP || "<none>",
    externalIps(s),
    servicePorts(s),
    age(s, now),
    mapSelector(s.spec?.selector),
  ],
};

export const services = defineKind({
  info: {
    resource: "services",
    singular: "service",
    kind: "Service",
    group: "",
    version: "v1",
    namespaced: true,
    shortNames: ["svc"],
    categories: ["all"],
    subresources: ["status"],
    hasStatus: true,
  },
  printer,
  strategy: {
    prepareForCreate: (svc) => {
      svc.status = { loadBalancer: {} };
    },
    admit: allocateAddresses,
  },
});
