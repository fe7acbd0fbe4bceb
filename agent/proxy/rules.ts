/**
 * kube-proxy's nftables mode as a pure function: Services and EndpointSlices (as the
 * API returns them) and what the node knows about itself in, one nftables table
 * (`ip kubeflare`) out. The structure follows upstream pkg/proxy/nftables: a
 * `service-ips` verdict map (ClusterIP / external IP / LoadBalancer IP . proto . port)
 * and a `service-nodeports` map jump to one chain per service port, which spreads new
 * connections over per-endpoint chains with `numgen random mod N` (ClientIP affinity
 * first through one dynamic set per endpoint); each endpoint chain DNATs. Traffic that
 * must be masqueraded gets mark 0x4000 and is masqueraded in postrouting. Services
 * without usable endpoints are rejected (ICMP port unreachable) from the filter hooks,
 * `externalTrafficPolicy: Local` without a local endpoint drops.
 *
 * Differences from upstream, on purpose: NodePorts answer on 127.0.0.1 too (the
 * iptables mode's old behaviour; DNAT from loopback needs
 * `net.ipv4.conf.all.route_localnet=1`, which the applier sets), LoadBalancer Services
 * without a loadBalancerClass answer on this node's own IPs and 127.0.0.1 like k3s'
 * ServiceLB, the cluster DNS Service IP may be DNATed to a node-local DNS server, and
 * the `kubernetes` Service's port 443 to the agent's relay of the API (agent/relay).
 */
import { createHash } from "node:crypto";
import type { KObject } from "../../shared/types";

export const TABLE_FAMILY = "ip";
export const TABLE_NAME = "kubeflare";
export const MASQ_MARK = "0x4000";

export interface ProxyInput {
  services: KObject[];
  endpointSlices: KObject[];
  /** this node's name (EndpointSlice endpoints' nodeName decides what is local) */
  nodeName: string;
  /** this node's addresses (LoadBalancer Services answer on them, ServiceLB-style) */
  nodeIPs: string[];
  /** the pod network: traffic from it to a ClusterIP is not masqueraded */
  clusterCIDR: string;
  /** when given, packets to unallocated ClusterIPs are dropped, to unknown ports of ClusterIPs rejected */
  serviceCIDR?: string;
  /** DNAT the cluster DNS Service (serviceIP, default 10.43.0.10, port 53 UDP+TCP) to a node-local DNS server */
  localDNS?: { ip: string; port: number; serviceIP?: string };
  /** DNAT the `kubernetes` Service (serviceIP, default 10.43.0.1, TCP port 443) to the agent's API relay instead of its endpoints */
  localAPI?: { ip: string; port: number; serviceIP?: string };
}

export interface Ruleset {
  /** a `table ip kubeflare { ... }` block, loadable with `nft -f` */
  text: string;
  /** every chain, set and map in it, with its declaration (the applier diffs these) */
  chains: string[];
  sets: Map<string, string>;
  maps: string[];
  /**
   * UDP frontends and the endpoint addresses they DNAT to: `ip:port` (ClusterIPs, external
   * IPs) and `:nodePort`. A UDP conntrack entry outlives its endpoint, so the applier
   * deletes the entries of endpoints that went away (agent/proxy/conntrack.ts).
   */
  udp: Map<string, Set<string>>;
}

const PROTOS: Record<string, string> = { TCP: "tcp", UDP: "udp", SCTP: "sctp" };
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const isIPv4 = (s: unknown): s is string => typeof s === "string" && IPV4.test(s);
const isCIDR = (s: string) => {
  const [ip, len, ...rest] = s.split("/");
  return !rest.length && isIPv4(ip) && /^\d+$/.test(len ?? "") && Number(len) <= 32;
};
const isPort = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) < 65536;
/** nft identifiers: names and namespaces are DNS labels already; anything else is dropped */
const ident = (s: string, max = 63) =>
  String(s)
    .replace(/[^a-zA-Z0-9_.-]/g, "")
    .slice(0, max);
const hash = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 8).toUpperCase();

interface Endpoint {
  ip: string;
  port: number;
  local: boolean;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/** kube-proxy's endpoint choice: the ready ones; if none is ready, the serving-and-terminating ones */
const usable = (eps: Endpoint[]) => {
  const ready = eps.filter((e) => e.ready);
  return ready.length ? ready : eps.filter((e) => e.serving && e.terminating);
};

/** endpoints of one service port, from every slice of the Service, deduplicated by ip:port */
function endpointsFor(slices: KObject[], portName: string, protocol: string, nodeName: string): Endpoint[] {
  const out = new Map<string, Endpoint>();
  for (const s of slices) {
    if (s.addressType !== "IPv4") continue;
    const sp = (s.ports ?? []).find((p: any) => (p?.name ?? "") === portName && (p?.protocol ?? "TCP") === protocol);
    if (!sp || !isPort(sp.port)) continue;
    for (const e of s.endpoints ?? []) {
      const ip = e?.addresses?.[0];
      if (!isIPv4(ip)) continue;
      const c = e.conditions ?? {};
      const ready = c.ready !== false;
      const ep = {
        ip,
        port: sp.port,
        local: e.nodeName === nodeName,
        ready,
        serving: c.serving ?? ready,
        terminating: c.terminating ?? false,
      };
      if (!out.has(`${ip}:${sp.port}`)) out.set(`${ip}:${sp.port}`, ep);
    }
  }
  return [...out.values()].sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
}

const byAge = (a: KObject, b: KObject) =>
  (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
  `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`);

export function buildRuleset(input: ProxyInput): Ruleset {
  if (!isCIDR(input.clusterCIDR)) throw new Error(`invalid cluster CIDR ${input.clusterCIDR}`);
  if (input.serviceCIDR !== undefined && !isCIDR(input.serviceCIDR)) throw new Error(`invalid service CIDR ${input.serviceCIDR}`);
  const podNet = input.clusterCIDR;
  const chains: { name: string; rules: string[] }[] = [];
  const sets = new Map<string, string>();
  const clusterIPs = new Set<string>();
  // map key -> verdict; the first writer of a key wins (older Services first), so one
  // conflicting Service can never make the whole ruleset invalid
  const serviceIPs = new Map<string, string>();
  const nodePorts = new Map<string, string>();
  const noEpServices = new Map<string, string>();
  const noEpNodePorts = new Map<string, string>();
  const udp = new Map<string, Set<string>>();
  const put = (m: Map<string, string>, k: string, v: string) => {
    if (!m.has(k)) m.set(k, v);
  };

  if (input.localDNS && isIPv4(input.localDNS.ip) && isPort(input.localDNS.port)) {
    const dnsIP = input.localDNS.serviceIP ?? "10.43.0.10";
    if (isIPv4(dnsIP)) {
      const to = `${input.localDNS.ip}:${input.localDNS.port}`;
      chains.push({ name: "local-dns", rules: [`meta l4proto { tcp, udp } dnat to ${to}`] });
      put(serviceIPs, `${dnsIP} . udp . 53`, "goto local-dns");
      put(serviceIPs, `${dnsIP} . tcp . 53`, "goto local-dns");
      clusterIPs.add(dnsIP);
    }
  }

  if (input.localAPI && isIPv4(input.localAPI.ip) && isPort(input.localAPI.port)) {
    const apiIP = input.localAPI.serviceIP ?? "10.43.0.1";
    if (isIPv4(apiIP)) {
      // first writer wins: this goes before the `kubernetes` Service's own chain
      chains.push({ name: "local-api", rules: [`meta l4proto tcp dnat to ${input.localAPI.ip}:${input.localAPI.port}`] });
      put(serviceIPs, `${apiIP} . tcp . 443`, "goto local-api");
      clusterIPs.add(apiIP);
    }
  }

  const slicesBySvc = new Map<string, KObject[]>();
  for (const s of input.endpointSlices) {
    const svc = s.metadata?.labels?.["kubernetes.io/service-name"];
    if (!svc) continue;
    const k = `${s.metadata.namespace}/${svc}`;
    slicesBySvc.set(k, [...(slicesBySvc.get(k) ?? []), s]);
  }

  for (const svc of [...input.services].sort(byAge)) {
    const spec = svc.spec ?? {};
    const ns = ident(svc.metadata.namespace ?? "default");
    const name = ident(svc.metadata.name ?? "");
    const clusterIP = spec.clusterIP;
    if (spec.type === "ExternalName" || !isIPv4(clusterIP)) continue; // headless ("None") and IPv6 get no proxying
    clusterIPs.add(clusterIP);
    const slices = slicesBySvc.get(`${svc.metadata.namespace}/${svc.metadata.name}`) ?? [];
    const etpLocal = (spec.type === "NodePort" || spec.type === "LoadBalancer") && spec.externalTrafficPolicy === "Local";
    const itpLocal = spec.internalTrafficPolicy === "Local";
    const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    // 1..86400 as the API validates; anything else gets the default
    const affinity = spec.sessionAffinity === "ClientIP" ? (Number.isInteger(timeout) && timeout > 0 && timeout <= 86400 ? timeout : 10800) : 0;
    const lb = spec.type === "LoadBalancer";
    // external destinations: externalIPs, LoadBalancer ingress IPs, and (ServiceLB) this node's IPs
    const externalIPs = new Set<string>((spec.externalIPs ?? []).filter(isIPv4));
    if (lb) {
      for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (isIPv4(ing?.ip)) externalIPs.add(ing.ip);
      if (!spec.loadBalancerClass) for (const ip of [...input.nodeIPs, "127.0.0.1"]) if (isIPv4(ip)) externalIPs.add(ip);
    }

    for (const sp of spec.ports ?? []) {
      const proto = PROTOS[sp?.protocol ?? "TCP"];
      if (!proto || !isPort(sp.port)) continue;
      const portName = ident(sp.name ?? "", 15);
      const base = `${ns}/${name}/${proto}/${portName}`;
      const h = hash(base);
      const svcChain = `service-${h}-${base}`;
      const extChain = `external-${h}-${base}`;
      const nodePort = (spec.type === "NodePort" || lb) && isPort(sp.nodePort) ? sp.nodePort : 0;
      const all = endpointsFor(slices, sp.name ?? "", sp.protocol ?? "TCP", input.nodeName);
      const clusterEps = usable(itpLocal ? all.filter((e) => e.local) : all);
      const localEps = usable(all.filter((e) => e.local));
      const hasExternal = nodePort > 0 || externalIPs.size > 0;
      const externalEps = etpLocal ? localEps : clusterEps;

      const epChain = (e: Endpoint) => `endpoint-${hash(`${base}__${e.ip}/${e.port}`)}-${base}__${e.ip}/${e.port}`;
      const affSet = (e: Endpoint) => `affinity-${hash(`${base}__${e.ip}/${e.port}`)}-${base}__${e.ip}/${e.port}`;
      /** the rules that pick one of `eps`: sticky first, then at random */
      const dispatch = (eps: Endpoint[]) => [
        ...(affinity ? eps.map((e) => `ip saddr @${affSet(e)} goto ${epChain(e)}`) : []),
        `numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${epChain(e)}`).join(", ")} }`,
      ];

      const reject = "goto reject-chain";
      if (!clusterEps.length) {
        put(noEpServices, `${clusterIP} . ${proto} . ${sp.port}`, reject);
      } else {
        chains.push({
          name: svcChain,
          rules: [`ip daddr ${clusterIP} ${proto} dport ${sp.port} ip saddr != ${podNet} jump mark-for-masquerade`, ...dispatch(clusterEps)],
        });
        put(serviceIPs, `${clusterIP} . ${proto} . ${sp.port}`, `goto ${svcChain}`);
      }
      if (hasExternal) {
        if (!clusterEps.length && !externalEps.length) {
          for (const ip of externalIPs) put(noEpServices, `${ip} . ${proto} . ${sp.port}`, reject);
          if (nodePort) put(noEpNodePorts, `${proto} . ${nodePort}`, reject);
        } else {
          const rules = etpLocal
            ? [
                ...(clusterEps.length
                  ? [
                      `ip saddr ${podNet} goto ${svcChain} comment "short-circuit pod traffic"`,
                      `fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"`,
                      `fib saddr type local goto ${svcChain} comment "short-circuit local traffic"`,
                    ]
                  : []),
                ...(localEps.length ? dispatch(localEps) : []),
              ]
            : ["jump mark-for-masquerade", `goto ${svcChain}`];
          chains.push({ name: extChain, rules });
          for (const ip of externalIPs) put(serviceIPs, `${ip} . ${proto} . ${sp.port}`, `goto ${extChain}`);
          if (nodePort) put(nodePorts, `${proto} . ${nodePort}`, `goto ${extChain}`);
          if (!externalEps.length) {
            // Local policy and nothing local: traffic from outside is dropped (pods and the node still short-circuit)
            for (const ip of externalIPs) put(noEpServices, `${ip} . ${proto} . ${sp.port}`, "drop");
            if (nodePort) put(noEpNodePorts, `${proto} . ${nodePort}`, "drop");
          }
        }
      }
      if (proto === "udp") {
        const note = (k: string, eps: Endpoint[]) => {
          if (eps.length) udp.set(k, new Set([...(udp.get(k) ?? []), ...eps.map((e) => e.ip)]));
        };
        note(`${clusterIP}:${sp.port}`, clusterEps);
        // externally sent traffic goes to externalEps, short-circuited traffic (Local policy) to clusterEps
        if (hasExternal)
          for (const k of [...[...externalIPs].map((ip) => `${ip}:${sp.port}`), ...(nodePort ? [`:${nodePort}`] : [])]) {
            note(k, externalEps);
            if (etpLocal) note(k, clusterEps);
          }
      }
      const used = new Map<string, Endpoint>();
      for (const e of [...clusterEps, ...(hasExternal ? externalEps : [])]) used.set(epChain(e), e);
      for (const [chain, e] of used) {
        if (affinity) sets.set(affSet(e), `type ipv4_addr; flags dynamic,timeout; timeout ${affinity}s;`);
        chains.push({
          name: chain,
          rules: [
            `ip saddr ${e.ip} jump mark-for-masquerade`,
            ...(affinity ? [`update @${affSet(e)} { ip saddr }`] : []),
            `meta l4proto ${proto} dnat to ${e.ip}:${e.port}`,
          ],
        });
      }
    }
  }
  // A key in both service-ips and a no-endpoint map is harmless: the no-endpoint maps are
  // consulted after DNAT, so they only see what no service chain rewrote.
  return { ...render(input, chains, sets, { clusterIPs, serviceIPs, nodePorts, noEpServices, noEpNodePorts }), udp };
}

interface Elements {
  clusterIPs: Set<string>;
  serviceIPs: Map<string, string>;
  nodePorts: Map<string, string>;
  noEpServices: Map<string, string>;
  noEpNodePorts: Map<string, string>;
}

const hook = (type: string, hk: string, prio: number, ...rules: string[]) => ({
  name: "",
  decl: `type ${type} hook ${hk} priority ${prio}; policy accept;`,
  rules,
});

function render(input: ProxyInput, svcChains: { name: string; rules: string[] }[], sets: Map<string, string>, el: Elements): Omit<Ruleset, "udp"> {
  // NodePorts: every local address, 127.0.0.1 included (route_localnet)
  const nodePortMatch = "fib daddr type local";
  const base: { name: string; decl?: string; rules: string[] }[] = [
    { ...hook("filter", "forward", 0, "ct state new jump service-endpoints-check", "ct state new jump cluster-ips-check"), name: "filter-forward" },
    {
      ...hook(
        "filter",
        "input",
        0,
        // route_localnet must not open 127.0.0.1 to the network (CVE-2020-8558; kubelet's KUBE-FIREWALL rule)
        `ip daddr 127.0.0.0/8 ip saddr != 127.0.0.0/8 ct state != { established, related } ct status & dnat == 0 drop comment "martian to localhost"`,
        "ct state new jump nodeport-endpoints-check",
        "ct state new jump service-endpoints-check",
      ),
      name: "filter-input",
    },
    { ...hook("filter", "output", 0, "ct state new jump service-endpoints-check", "ct state new jump cluster-ips-check"), name: "filter-output" },
    { ...hook("nat", "prerouting", -100, "jump services"), name: "nat-prerouting" },
    { ...hook("nat", "output", -100, "jump services"), name: "nat-output" },
    { ...hook("nat", "postrouting", 100, "jump masquerading"), name: "nat-postrouting" },
    { name: "mark-for-masquerade", rules: [`mark set mark or ${MASQ_MARK}`] },
    { name: "masquerading", rules: [`mark and ${MASQ_MARK} == 0 return`, `mark set mark xor ${MASQ_MARK}`, "masquerade fully-random"] },
    {
      name: "services",
      rules: ["ip daddr . meta l4proto . th dport vmap @service-ips", `${nodePortMatch} meta l4proto . th dport vmap @service-nodeports`],
    },
    { name: "service-endpoints-check", rules: ["ip daddr . meta l4proto . th dport vmap @no-endpoint-services"] },
    { name: "nodeport-endpoints-check", rules: [`${nodePortMatch} meta l4proto . th dport vmap @no-endpoint-nodeports`] },
    {
      name: "cluster-ips-check",
      rules: [
        `ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`,
        ...(input.serviceCIDR ? [`ip daddr ${input.serviceCIDR} drop comment "Drop traffic to unallocated ClusterIPs"`] : []),
      ],
    },
    { name: "reject-chain", rules: ["reject"] },
  ];
  const elements = (items: string[]) => (items.length ? ` elements = { ${items.join(",\n      ")} };` : "");
  const vm = (m: Map<string, string>) => [...m].map(([k, v]) => `${k} : ${v}`);
  const maps: [string, string, string[]][] = [
    ["service-ips", "ipv4_addr . inet_proto . inet_service : verdict", vm(el.serviceIPs)],
    ["service-nodeports", "inet_proto . inet_service : verdict", vm(el.nodePorts)],
    ["no-endpoint-services", "ipv4_addr . inet_proto . inet_service : verdict", vm(el.noEpServices)],
    ["no-endpoint-nodeports", "inet_proto . inet_service : verdict", vm(el.noEpNodePorts)],
  ];
  const lines = [`table ${TABLE_FAMILY} ${TABLE_NAME} {`, `  comment "kube-proxy (nftables mode) of the kubeflare agent"`];
  lines.push(`  set cluster-ips { type ipv4_addr;${elements([...el.clusterIPs].sort())} }`);
  for (const [name, decl] of [...sets].sort()) lines.push(`  set ${name} { ${decl} }`);
  for (const [name, type, items] of maps) lines.push(`  map ${name} { type ${type};${elements(items.sort())} }`);
  const allChains: { name: string; decl?: string; rules: string[] }[] = [...base, ...svcChains];
  for (const c of allChains) {
    lines.push(`  chain ${c.name} {`);
    if (c.decl) lines.push(`    ${c.decl}`);
    for (const r of c.rules) lines.push(`    ${r}`);
    lines.push("  }");
  }
  lines.push("}", "");
  return {
    text: lines.join("\n"),
    chains: allChains.map((c) => c.name),
    sets: new Map([["cluster-ips", "type ipv4_addr;"], ...sets]),
    maps: maps.map(([n]) => n),
  };
}
