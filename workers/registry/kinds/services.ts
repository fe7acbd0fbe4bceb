/** Services (core/v1): ClusterIP and node port allocation at create and update, the service printer. */
import type { KObject } from "../../../shared/types";
import { cidrSize, type Cidr, containsIP, nthAddress, parseCidr, parseIPv4 } from "../../../shared/net/cidr";
import { internalError, invalid } from "../../../shared/status";
import { isValidIP } from "../../../shared/validation/names";
import { type AdmissionContext, defineKind } from "./kind";
import { AGE, age, col, mapSelector, NAME, type Printer, wide } from "./printing";

/**
 * The static band of a service range: its first addresses, which dynamic allocation
 * leaves for Services that ask for a clusterIP by hand while any other address is free
 * (kube-apiserver's KEP-3070: min(max(16, size/16), 256)).
 */
const staticBand = (usable: number) => Math.min(Math.max(16, Math.floor(usable / 16)), 256);

/**
 * A free member of [from, from + count): random probes first (so that writers racing
 * for one range rarely pick the same), then a scan from a random start; undefined
 * when there is none.
 */
const pickFree = (from: number, count: number, isFree: (n: number) => boolean, random: () => number): number | undefined => {
  if (count <= 0) return undefined;
  for (let i = 0; i < 32; i++) {
    const n = from + Math.floor(random() * count);
    if (isFree(n)) return n;
  }
  const start = Math.floor(random() * count);
  for (let i = 0; i < count; i++) {
    const n = from + ((start + i) % count);
    if (isFree(n)) return n;
  }
  return undefined;
};

/** A free address of the range, random in the dynamic band first, then in the static band; undefined when full. */
export const pickClusterIP = (range: Cidr, used: Set<string>, random = Math.random): string | undefined => {
  // the network and broadcast addresses are never handed out
  const usable = cidrSize(range) - 2;
  const band = Math.min(staticBand(usable), usable);
  const free = (i: number) => !used.has(nthAddress(range, 1 + i)!);
  const i = pickFree(band, usable - band, free, random) ?? pickFree(0, band, free, random);
  return i === undefined ? undefined : nthAddress(range, 1 + i);
};

/** kube-apiserver's --service-node-port-range default */
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

/** A free node port, random in the range; undefined when it is used up. */
export const pickNodePort = (used: Set<number>, random = Math.random): number | undefined =>
  pickFree(NODE_PORT_MIN, NODE_PORT_MAX - NODE_PORT_MIN + 1, (n) => !used.has(n), random);

const isNodePort = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= NODE_PORT_MIN && n <= NODE_PORT_MAX;

const allocationError = (svc: KObject, detail: string) =>
  invalid("Service", "", svc.metadata.name ?? "", [
    {
      reason: "FieldValueInvalid",
      field: "spec.clusterIPs",
      message: `Invalid value: ${JSON.stringify(svc.spec.clusterIPs ?? [svc.spec.clusterIP])}: ${detail}`,
    },
  ]);

/**
 * Service IP and node port allocation, as kube-apiserver's Service REST storage does
 * it: a ClusterIP from the service CIDR (its first address is the API's own
 * `kubernetes` Service, the tenth the cluster DNS), a clusterIP asked for by hand must
 * lie in it and be free; node ports from 30000-32767, unique across the cluster.
 * Services made before the range changed keep their addresses. Traffic forwarding is
 * the agents' business (kube-proxy).
 */
const allocateAddresses = async (svc: KObject, ctx: AdmissionContext, old?: KObject): Promise<void> => {
  const spec = svc.spec;
  if (!spec || typeof spec !== "object") return;
  const type = spec.type ?? "ClusterIP";
  if (type === "ExternalName" || spec.clusterIP === "None") return;
  // on an update, the Service's own addresses are not someone else's
  const services = (await ctx.list("services")).filter((s) => !svc.metadata.uid || s.metadata.uid !== svc.metadata.uid);
  const range = parseCidr(ctx.serviceCIDR)!;
  const used = new Set(services.flatMap((s) => [s.spec?.clusterIP, ...(Array.isArray(s.spec?.clusterIPs) ? s.spec.clusterIPs : [])]).filter(Boolean));
  if (!spec.clusterIP && Array.isArray(spec.clusterIPs) && typeof spec.clusterIPs[0] === "string") spec.clusterIP = spec.clusterIPs[0];
  if (!spec.clusterIP) {
    const ip = pickClusterIP(range, used);
    if (!ip) throw allocationError(svc, `failed to allocate a serviceIP: range is full`);
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
  } else if (typeof spec.clusterIP === "string" && spec.clusterIP !== old?.spec?.clusterIP) {
    const ip = spec.clusterIP;
    const n = parseIPv4(ip);
    // malformed addresses are the validation's to report
    if (n === undefined) {
      if (ip.includes(":") && isValidIP(ip)) throw allocationError(svc, "expected an IPv4 value as indicated by `ipFamilies[0]`");
    } else {
      if (!containsIP(range, n) || n === range.base || n === range.base + cidrSize(range) - 1) {
        throw allocationError(
          svc,
          `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${ctx.serviceCIDR}`,
        );
      }
      if (used.has(ip)) throw allocationError(svc, `failed to allocate IP ${ip}: provided IP is already allocated`);
    }
    spec.clusterIPs ??= [ip];
  }
  if (type === "NodePort" || type === "LoadBalancer") allocateNodePorts(svc, services, old);
};

/**
 * Node ports, as kube-apiserver's allocators do (initNodePorts, updateNodePorts): a
 * port asked for by hand must be free (out of the range is the validation's to
 * report), unless the Service held it already; ports of one number (TCP and UDP of
 * one port) may share one node port, and on create a missing one takes its twin's;
 * the rest get a free port of the range, unless the Service is a LoadBalancer with
 * allocateLoadBalancerNodePorts: false.
 */
const allocateNodePorts = (svc: KObject, services: KObject[], old?: KObject): void => {
  const ports: any[] = (Array.isArray(svc.spec.ports) ? svc.spec.ports : []).filter((p: unknown) => p && typeof p === "object");
  const held = new Set<number>(needsNodePorts(old?.spec) ? nodePortsOf(old!.spec) : []);
  const used = new Set<number>(services.flatMap((s) => (needsNodePorts(s.spec) ? nodePortsOf(s.spec) : [])).filter(isNodePort));
  (Array.isArray(svc.spec.ports) ? svc.spec.ports : []).forEach((p: any, i: number) => {
    if (!p || typeof p !== "object" || !isNodePort(p.nodePort) || held.has(p.nodePort) || !used.has(p.nodePort)) return;
    throw invalid("Service", "", svc.metadata.name ?? "", [
      { reason: "FieldValueInvalid", field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is already allocated` },
    ]);
  });
  for (const p of ports) if (typeof p.nodePort === "number") used.add(p.nodePort);
  // a LoadBalancer may do without node ports (allocateLoadBalancerNodePorts: false): only hand-set ones then
  if (svc.spec.type === "LoadBalancer" && svc.spec.allocateLoadBalancerNodePorts === false) return;
  for (const p of ports) {
    if (p.nodePort) continue;
    const twin = old ? undefined : ports.find((q) => q !== p && q.port === p.port && q.nodePort);
    const port = twin?.nodePort ?? pickNodePort(used);
    if (port === undefined) throw internalError("failed to allocate a nodePort: range is full");
    p.nodePort = port;
    used.add(port);
  }
};

const needsClusterIP = (spec: any) => (spec?.type ?? "ClusterIP") !== "ExternalName";
const needsNodePorts = (spec: any) => spec?.type === "NodePort" || spec?.type === "LoadBalancer";
const nodePortsOf = (spec: any): number[] => (Array.isArray(spec?.ports) ? spec.ports : []).map((p: any) => p?.nodePort ?? 0);

/** The ClusterIPs and node ports a Service holds alone; on an update, those it did not hold before. */
const uniqueValues = (svc: KObject, old?: KObject) => {
  const ips = (spec: any): string[] =>
    needsClusterIP(spec)
      ? [spec?.clusterIP, ...(Array.isArray(spec?.clusterIPs) ? spec.clusterIPs : [])].filter((ip) => typeof ip === "string" && ip && ip !== "None")
      : [];
  const ports = (spec: any): number[] => (needsNodePorts(spec) ? nodePortsOf(spec).filter((n) => typeof n === "number" && n > 0) : []);
  const oldIPs = new Set(ips(old?.spec));
  const oldPorts = new Set(ports(old?.spec));
  const newIPs = [...new Set(ips(svc.spec))].filter((ip) => !oldIPs.has(ip));
  const newPorts = [...new Set(ports(svc.spec))].filter((n) => !oldPorts.has(n));
  return [
    { path: "$.spec.clusterIPs", values: newIPs },
    { path: "$.spec.clusterIP", values: newIPs },
    { path: "$.spec.ports", member: "$.nodePort", values: newPorts },
  ].filter((c) => c.values.length);
};

/**
 * An update keeps what the server allocated and the client left out, and drops what
 * a new type no longer uses, as kube-apiserver's Service REST storage does
 * (patchAllocatedValues, dropTypeDependentFields): an empty clusterIP keeps the old
 * one (which may not change once set), a port without nodePort keeps its old one;
 * a Service that is no longer a NodePort/LoadBalancer loses its node ports and
 * externalTrafficPolicy, one that becomes ExternalName its ClusterIP, when the client
 * left them as they were. Then whatever the new type still lacks is allocated.
 */
const admitUpdate = async (svc: KObject, old: KObject, ctx: AdmissionContext): Promise<void> => {
  const spec = svc.spec;
  const prev = old.spec ?? {};
  if (!spec || typeof spec !== "object") return;
  if (needsClusterIP(prev) && prev.clusterIP) {
    if (needsClusterIP(spec) && !spec.clusterIP && !(Array.isArray(spec.clusterIPs) && spec.clusterIPs.length)) {
      spec.clusterIP = prev.clusterIP;
      spec.clusterIPs = prev.clusterIPs ?? [prev.clusterIP];
    } else if (!needsClusterIP(spec) && spec.clusterIP === prev.clusterIP) {
      for (const f of ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"]) delete spec[f];
    } else if (needsClusterIP(spec) && spec.clusterIP !== prev.clusterIP) {
      throw invalid("Service", "", svc.metadata.name ?? "", [
        { reason: "FieldValueInvalid", field: "spec.clusterIPs[0]", message: `Invalid value: ${JSON.stringify(spec.clusterIP)}: may not change once set` },
      ]);
    }
  }
  if (needsNodePorts(prev) && needsNodePorts(spec)) {
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
      if (!p || typeof p !== "object" || p.nodePort) continue;
      const was = (prev.ports ?? []).find((q: any) => q?.port === p.port && (q?.protocol ?? "TCP") === (p.protocol ?? "TCP"));
      if (was?.nodePort) p.nodePort = was.nodePort;
    }
  }
  if (needsNodePorts(prev) && !needsNodePorts(spec)) {
    if (JSON.stringify(nodePortsOf(spec)) === JSON.stringify(nodePortsOf(prev)))
      for (const p of spec.ports ?? []) if (p && typeof p === "object") delete p.nodePort;
    if (spec.externalTrafficPolicy === prev.externalTrafficPolicy && !(spec.externalIPs ?? []).length) delete spec.externalTrafficPolicy;
  }
  if (prev.type === "LoadBalancer" && spec.type !== "LoadBalancer") {
    for (const f of ["allocateLoadBalancerNodePorts", "loadBalancerClass"]) if (spec[f] === prev[f]) delete spec[f];
  }
  await allocateAddresses(svc, ctx, old);
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
    admitUpdate,
    unique: uniqueValues,
  },
});
