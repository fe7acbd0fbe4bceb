/**
 * NetworkPolicy enforcement as a pure function, node-local as kube-router and Calico do
 * it: NetworkPolicies, Namespaces and Pods (as the API returns them) and this node's name
 * in, one nftables table (`inet kubeflare-netpol`) out.
 *
 * One base chain on the `forward` hook sees every packet to or from a pod of this node:
 * routed traffic between nodes, and — with br_netfilter's bridge-nf-call-iptables, which
 * kube-proxy needs already — traffic between two pods on this node's bridge. It runs after
 * kube-proxy's DNAT (nat prerouting), so a connection to a ClusterIP is judged by the
 * backend pod's IP, as Kubernetes requires. In it:
 *
 *   ct state established,related accept     replies and related traffic always pass
 *   ip saddr vmap @egress4 (ip6: @egress6)  a pod isolated for egress: its egress chain
 *   ip daddr vmap @ingress4 (@ingress6)     a pod isolated for ingress: its ingress chain
 *
 * A pod's chain `return`s for what some rule of some policy selecting it allows (the union
 * of all policies) and drops the rest; pods no policy selects have no entry and are not
 * touched. Traffic between a pod and its own node (host-network processes, probes) does not
 * cross the forward hook and is always allowed, as Kubernetes asks.
 *
 * Peers: podSelector (the policy's namespace), namespaceSelector (with podSelector: those
 * pods of those namespaces), ipBlock (cidr less except). Ports: TCP/UDP/SCTP, a number, a
 * range (endPort) or a name: for ingress the selected pod's container port of that name,
 * for egress the peer pod's (so such a rule allows only pods that have the port). A rule's
 * peers are worked out once, and address lists longer than INLINE_MAX go in named sets
 * that every chain using the same list shares.
 */
import { createHash } from "node:crypto";
import { formatIPNet, parseIP, parseIPNet } from "../../shared/net/ipnet";
import { type LabelSelectorObject, matchLabels, selectorFromLabelSelector } from "../../shared/selectors/labels";
import type { KObject } from "../../shared/types";

export const NETPOL_FAMILY = "inet";
export const NETPOL_TABLE = "kubeflare-netpol";

export interface NetpolInput {
  policies: KObject[];
  namespaces: KObject[];
  /** every pod of the cluster (peers' addresses); the ones bound to nodeName get chains */
  pods: KObject[];
  nodeName: string;
}

export interface NetpolRuleset {
  /** a `table inet kubeflare-netpol { ... }` block, loadable with `nft -f` */
  text: string;
  /** pods with an ingress chain and pods with an egress chain ("namespace/name") */
  ingressIsolated: string[];
  egressIsolated: string[];
}

type Dir = "ingress" | "egress";
const PROTOS: Record<string, string> = { TCP: "tcp", UDP: "udp", SCTP: "sctp" };

interface PodInfo {
  key: string;
  namespace: string;
  labels: Record<string, string>;
  ips: string[];
  /** named container ports: name → [{proto, port}] */
  ports: Map<string, { proto: string; port: number }[]>;
  node: string;
}

const hash = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 12);
/** a comment nft accepts: printable, no quotes */
const comment = (s: string) => `comment "${s.replace(/[^A-Za-z0-9_./:=, [\]-]/g, "").slice(0, 120)}"`;

/** A pod that takes part: has an IP on the pod network, is not on the host network, is not finished. */
const podInfo = (p: KObject): PodInfo | undefined => {
  if (p.spec?.hostNetwork || p.status?.phase === "Succeeded" || p.status?.phase === "Failed") return undefined;
  const raw: unknown[] = Array.isArray(p.status?.podIPs) && p.status.podIPs.length ? p.status.podIPs.map((x: any) => x?.ip) : [p.status?.podIP];
  const ips = raw.filter((ip): ip is string => typeof ip === "string" && parseIP(ip) !== undefined);
  if (!ips.length) return undefined;
  const ports = new Map<string, { proto: string; port: number }[]>();
  for (const c of [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])]) {
    for (const cp of c?.ports ?? []) {
      if (typeof cp?.name !== "string" || !Number.isInteger(cp.containerPort)) continue;
      const list = ports.get(cp.name) ?? [];
      list.push({ proto: PROTOS[cp.protocol ?? "TCP"] ?? "tcp", port: cp.containerPort });
      ports.set(cp.name, list);
    }
  }
  const namespace = String(p.metadata?.namespace ?? "default");
  return { key: `${namespace}/${p.metadata?.name}`, namespace, labels: p.metadata?.labels ?? {}, ips, ports, node: String(p.spec?.nodeName ?? "") };
};

const policyTypes = (np: KObject): Dir[] => {
  const t: unknown[] = np.spec?.policyTypes ?? [];
  // as defaulted by the API; a policy stored without them reads as kube's defaults
  if (!t.length) return Array.isArray(np.spec?.egress) && np.spec.egress.length ? ["ingress", "egress"] : ["ingress"];
  return [...(t.includes("Ingress") ? ["ingress" as const] : []), ...(t.includes("Egress") ? ["egress" as const] : [])];
};

/** nft's match of an address set for one family: `ip saddr { ... }` */
const addrMatch = (dir: Dir, family: 4 | 6, items: string[], negate = false) =>
  `${family === 4 ? "ip" : "ip6"} ${dir === "ingress" ? "saddr" : "daddr"} ${negate ? "!= " : ""}{ ${items.join(", ")} }`;

/** One port entry of a rule, resolved: undefined = every port; [] = nothing (an unresolvable name). */
type PortMatch = { proto: string; ports?: string; ip?: string };

/** Address lists longer than this become named sets (shared by every chain that uses the same list). */
export const INLINE_MAX = 8;

interface RulePeers {
  anyPeer: boolean;
  /** the peer pods' addresses by family, sorted */
  ips: Record<4 | 6, string[]>;
  podPeers: PodInfo[];
  blocks: { cidr: string; family: 4 | 6; except: string[] }[];
}

export function buildNetpolRuleset(input: NetpolInput): NetpolRuleset {
  const pods = input.pods.map(podInfo).filter((p): p is PodInfo => !!p);
  const nsLabels = new Map(input.namespaces.map((n) => [String(n.metadata?.name), n.metadata?.labels ?? {}]));
  const local = pods.filter((p) => p.node === input.nodeName).sort((a, b) => a.key.localeCompare(b.key));
  const policies = [...input.policies]
    .filter((np) => !np.metadata?.deletionTimestamp)
    .sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));

  // selectors parsed once each (an empty one matches everything, a malformed one nothing)
  const matchers = new Map<string, (labels: Record<string, string>) => boolean>();
  const matches = (sel: unknown, labels: Record<string, string>): boolean => {
    const k = JSON.stringify(sel ?? {});
    let m = matchers.get(k);
    if (!m) {
      try {
        const reqs = selectorFromLabelSelector((sel ?? {}) as LabelSelectorObject) ?? [];
        m = (l) => matchLabels(reqs, l);
      } catch {
        m = () => false;
      }
      matchers.set(k, m);
    }
    return m(labels);
  };

  /** the pods a peer stands for (not for ipBlock peers) */
  const peerPods = (np: KObject, peer: any): PodInfo[] => {
    const ns = String(np.metadata?.namespace);
    return pods.filter((p) => {
      if (peer.namespaceSelector) {
        if (!nsLabels.has(p.namespace) || !matches(peer.namespaceSelector, nsLabels.get(p.namespace) ?? {})) return false;
      } else if (p.namespace !== ns) return false;
      return peer.podSelector ? matches(peer.podSelector, p.labels) : true;
    });
  };

  // a rule's peers do not depend on the pod it selects: worked out once per rule
  const peerCache = new Map<any, RulePeers>();
  const rulePeers = (dir: Dir, np: KObject, rule: any): RulePeers => {
    const hit = peerCache.get(rule);
    if (hit) return hit;
    const peers: any[] = Array.isArray(rule?.[dir === "ingress" ? "from" : "to"]) ? rule[dir === "ingress" ? "from" : "to"] : [];
    const byKey = new Map<string, PodInfo>();
    const blocks: RulePeers["blocks"] = [];
    for (const peer of peers) {
      if (peer?.ipBlock) {
        const net = parseIPNet(String(peer.ipBlock.cidr));
        if (!net) continue;
        const except = (peer.ipBlock.except ?? [])
          .map((e: string) => parseIPNet(String(e)))
          .filter((e: any) => e && e.family === net.family)
          .map(formatIPNet);
        blocks.push({ cidr: formatIPNet(net), family: net.family, except });
      } else if (peer && (peer.podSelector || peer.namespaceSelector)) for (const p of peerPods(np, peer)) byKey.set(p.key, p);
    }
    const podPeers = [...byKey.values()];
    const all = [...new Set(podPeers.flatMap((p) => p.ips))].sort();
    const r: RulePeers = {
      anyPeer: peers.length === 0,
      ips: { 4: all.filter((ip) => parseIP(ip)!.family === 4), 6: all.filter((ip) => parseIP(ip)!.family === 6) },
      podPeers,
      blocks,
    };
    peerCache.set(rule, r);
    return r;
  };

  // long address lists go in named sets, one per distinct list
  const sets = new Map<string, string>();
  const setNames = new WeakMap<string[], string>();
  const addrs = (dir: Dir, family: 4 | 6, items: string[]): string => {
    if (items.length <= INLINE_MAX) return addrMatch(dir, family, items);
    let name = setNames.get(items);
    if (!name) {
      name = `peers${family}-${hash(items.join(","))}`;
      setNames.set(items, name);
      sets.set(name, `type ${family === 4 ? "ipv4_addr" : "ipv6_addr"}; elements = { ${items.join(", ")} };`);
    }
    return `${family === 4 ? "ip" : "ip6"} ${dir === "ingress" ? "saddr" : "daddr"} @${name}`;
  };

  const chains: { name: string; rules: string[] }[] = [];
  const vmaps: Record<Dir, string[]> = { ingress: [], egress: [] };
  const isolated: Record<Dir, string[]> = { ingress: [], egress: [] };

  for (const pod of local) {
    for (const dir of ["ingress", "egress"] as const) {
      const selecting = policies.filter(
        (np) => np.metadata?.namespace === pod.namespace && policyTypes(np).includes(dir) && matches(np.spec?.podSelector ?? {}, pod.labels),
      );
      if (!selecting.length) continue;
      const name = `${dir === "ingress" ? "in" : "out"}-${hash(pod.key)}`;
      const rules: string[] = [];
      for (const np of selecting) {
        const label = `${np.metadata?.namespace}/${np.metadata?.name}`;
        (np.spec?.[dir] ?? []).forEach((rule: any, i: number) => {
          rules.push(...ruleLines(dir, pod, np, rule, `${label} ${dir}[${i}]`));
        });
      }
      rules.push(`drop ${comment(`${pod.key}: isolated for ${dir}, nothing allowed this`)}`);
      chains.push({ name, rules });
      isolated[dir].push(pod.key);
      for (const ip of pod.ips) vmaps[dir].push(`${ip} : jump ${name}`);
    }
  }

  /** a rule's nft lines: one per (peer kind, port entry) */
  function ruleLines(dir: Dir, pod: PodInfo, np: KObject, rule: any, label: string): string[] {
    const ports: any[] = Array.isArray(rule?.ports) ? rule.ports : [];
    const { anyPeer, ips, podPeers, blocks } = rulePeers(dir, np, rule);
    // the port entries, resolved; none: every port
    const entries: (PortMatch | "any")[] = [];
    if (!ports.length) entries.push("any");
    for (const pt of ports) {
      const proto = PROTOS[pt?.protocol ?? "TCP"];
      if (!proto) continue;
      if (pt.port === undefined || pt.port === null) entries.push({ proto });
      else if (typeof pt.port === "number") entries.push({ proto, ports: pt.endPort ? `${pt.port}-${pt.endPort}` : String(pt.port) });
      else if (dir === "ingress") {
        // the selected pod's own port of that name
        for (const cp of pod.ports.get(String(pt.port)) ?? []) if (cp.proto === proto) entries.push({ proto, ports: String(cp.port) });
      } else {
        // the destination pod's port of that name: only pods that have it
        const candidates = anyPeer ? pods : [...podPeers, ...pods.filter((p) => blocks.some((b) => inBlock(p, b)))];
        for (const p of candidates)
          for (const cp of p.ports.get(String(pt.port)) ?? [])
            if (cp.proto === proto) for (const ip of p.ips) entries.push({ proto, ports: String(cp.port), ip });
      }
    }
    const portPart = (e: PortMatch | "any") => (e === "any" ? "" : ` meta l4proto ${e.proto}${e.ports ? ` th dport ${e.ports}` : ""}`);
    const tag = ` return ${comment(label)}`;
    const out: string[] = [];
    for (const e of entries) {
      if (e !== "any" && e.ip) {
        // an egress named port: that pod's address and port, if the pod is a peer (already filtered)
        const fam = parseIP(e.ip)!.family;
        out.push(`${addrMatch(dir, fam, [e.ip])}${portPart(e)}${tag}`);
        continue;
      }
      if (anyPeer) {
        out.push(`${portPart(e)}${tag}`.trim());
        continue;
      }
      for (const fam of [4, 6] as const) if (ips[fam].length) out.push(`${addrs(dir, fam, ips[fam])}${portPart(e)}${tag}`);
      for (const b of blocks) {
        const ex = b.except.length ? ` ${addrMatch(dir, b.family, b.except, true)}` : "";
        out.push(`${addrMatch(dir, b.family, [b.cidr])}${ex}${portPart(e)}${tag}`);
      }
    }
    return out;
  }

  const lines = [`table ${NETPOL_FAMILY} ${NETPOL_TABLE} {`, `  comment "NetworkPolicy enforcement of the kubeflare agent"`];
  for (const [name, decl] of [...sets].sort()) lines.push(`  set ${name} { ${decl} }`);
  for (const dir of ["egress", "ingress"] as const) {
    const els = vmaps[dir].sort();
    const v4 = els.filter((e) => parseIP(e.split(" ")[0]!)!.family === 4);
    const v6 = els.filter((e) => parseIP(e.split(" ")[0]!)!.family === 6);
    lines.push(`  map ${dir}4 { type ipv4_addr : verdict;${v4.length ? ` elements = { ${v4.join(", ")} };` : ""} }`);
    lines.push(`  map ${dir}6 { type ipv6_addr : verdict;${v6.length ? ` elements = { ${v6.join(", ")} };` : ""} }`);
  }
  lines.push(
    "  chain forward {",
    "    type filter hook forward priority filter; policy accept;",
    "    ct state established,related accept",
    "    ip saddr vmap @egress4",
    "    ip6 saddr vmap @egress6",
    "    ip daddr vmap @ingress4",
    "    ip6 daddr vmap @ingress6",
    "  }",
  );
  for (const c of chains) {
    lines.push(`  chain ${c.name} {`);
    for (const r of c.rules) lines.push(`    ${r}`);
    lines.push("  }");
  }
  lines.push("}", "");
  return { text: lines.join("\n"), ingressIsolated: isolated.ingress, egressIsolated: isolated.egress };
}

/** is one of the pod's addresses in the ipBlock (cidr, not in an except)? */
function inBlock(p: PodInfo, b: { cidr: string; except: string[] }): boolean {
  const within = (ip: string, cidr: string) => {
    const a = parseIP(ip);
    const n = parseIPNet(cidr);
    if (!a || !n || a.family !== n.family) return false;
    const host = BigInt((n.family === 4 ? 32 : 128) - n.prefix);
    return a.value >> host === n.base >> host;
  };
  return p.ips.some((ip) => within(ip, b.cidr) && !b.except.some((e) => within(ip, e)));
}
