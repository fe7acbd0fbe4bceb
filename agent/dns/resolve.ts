/**
 * The cluster zone's answers, computed from the view alone (pure: a view and a
 * question in, the answer sections out), following CoreDNS's kubernetes plugin, which
 * implements the Kubernetes DNS-Based Service Discovery specification:
 *
 * - `<svc>.<ns>.svc.<zone>`: A → the ClusterIP; a headless Service → its ready
 *   endpoint addresses; an ExternalName Service → a CNAME to its externalName (chased
 *   here when it is inside the zone, by the server through the upstream otherwise).
 *   AAAA on an IPv4-only Service is NODATA.
 * - `<endpoint>.<svc>.<ns>.svc.<zone>`: the ready endpoint whose hostname (StatefulSet
 *   pods with a subdomain) or dashed IP is `<endpoint>`, for any Service.
 * - `_<port>._<proto>.<svc>.<ns>.svc.<zone>` SRV (or SRV on the Service's own name for
 *   every port): priority 0, weight 100/n, the port; target the Service's name, or for
 *   headless Services `<hostname-or-dashed-ip>.<svc>.<ns>.svc.<zone>`, with its address
 *   in the additional section.
 * - `<a-b-c-d>.<ns>.pod.<zone>` → a.b.c.d, without checking a pod has it ("pods insecure").
 * - PTR for ClusterIPs and endpoint addresses under in-addr.arpa; other reverse names go upstream.
 * - Anything else in the zone: NXDOMAIN, a name that exists without the type: NODATA
 *   (NOERROR, no answers), both with the zone's SOA in the authority section. Until the
 *   view has listed Services and EndpointSlices once, SERVFAIL.
 *
 * Namespaces: CoreDNS answers NXDOMAIN for a namespace that does not exist; a node may not
 * list namespaces here, so every namespace counts as existing (only the answer for a bare
 * `<ns>.svc.<zone>`, or a pod name in a missing namespace, differs).
 */
import type { Answer, Question } from "dns-packet";
import { isIPv4, isIPv6 } from "node:net";
import type { ClusterView, Endpoint } from "./view";

/** CoreDNS's kubernetes plugin default TTL (its `ttl` option; 5 s). */
export const DEFAULT_TTL = 5;
/** CoreDNS's answer for `dns-version.<zone>` TXT (the DNS specification's schema version). */
const SCHEMA_VERSION = "1.1.0";
/** how many CNAMEs inside the zone are followed (CoreDNS: maxCnameChainLength) */
const MAX_CHAIN = 10;

export interface ResolveOptions {
  /** the cluster domain, e.g. cluster.local */
  domain: string;
  ttl?: number;
  /** the cluster DNS Service IP: the A record of ns.dns.<zone> (the zone's NS) */
  dnsIP?: string;
}

export type Rcode = "NOERROR" | "FORMERR" | "SERVFAIL" | "NXDOMAIN" | "NOTIMP" | "REFUSED";

export interface Answered {
  forward?: false;
  rcode: Rcode;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /** a CNAME led outside the zone: the server resolves this upstream and appends what it gets */
  chase?: { name: string; type: "A" | "AAAA" };
}

/** Not a name of the cluster: the upstream resolvers answer. */
export interface Forward {
  forward: true;
}

export type Resolution = Answered | Forward;

/** A record the zone holds for a name: an address (with a port and SRV target) or an alias. */
type Rec = { ip: string; port: number; target: string } | { cname: string };

const FORWARD: Forward = { forward: true };
const eqi = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const stripUnderscore = (s: string) => (s.startsWith("_") ? s.slice(1) : s);
const matchPort = (rPort: string, pName: string, rProto: string, pProto: string) => (!rPort || eqi(rPort, pName)) && (!rProto || eqi(rProto, pProto));

/** CoreDNS's endpointHostname: the endpoint's hostname, else its address with dashes. */
export const endpointHostname = (e: Endpoint): string => {
  if (e.hostname) return e.hostname;
  if (e.ip.includes(".")) return e.ip.replaceAll(".", "-");
  const v6 = e.ip.replaceAll(":", "-");
  return v6.endsWith("-") ? `${v6}0` : v6;
};

/** The ClusterIPs of a Service, or [] for headless ("None") and ExternalName ones. */
export const clusterIPs = (svc: any): string[] => {
  const ips: string[] = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec?.clusterIP ? [svc.spec.clusterIP] : [];
  return ips.filter((ip) => ip && ip !== "None");
};

const isHeadless = (svc: any) => svc.spec?.type !== "ExternalName" && (svc.spec?.clusterIP === "None" || !clusterIPs(svc).length);

/**
 * The records of a name inside the zone (`base`: its labels left of the zone, lower
 * case), or "nx" when the name does not exist. [] is a name that exists with no records.
 */
const records = (view: ClusterView, base: string[], zone: string): Rec[] | "nx" => {
  if (!base.length) return [];
  const kind = base[base.length - 1];
  if (kind !== "svc" && kind !== "pod") return "nx";
  if (base.length === 1) return [];
  const ns = base[base.length - 2];
  if (base.length === 2) return [];
  const name = base[base.length - 3];
  const rest = base.slice(0, -3);
  if (kind === "pod") {
    if (rest.length) return "nx";
    const ip = (name.split("-").length === 4 && !name.includes("--") ? name.replaceAll("-", ".") : name.replaceAll("-", ":")).toLowerCase();
    return isIPv4(ip) || isIPv6(ip) ? [{ ip, port: -1, target: "" }] : "nx";
  }
  if (rest.length > 2) return "nx";
  const endpoint = rest.length === 1 ? rest[0] : "";
  const port = rest.length === 2 ? stripUnderscore(rest[0]) : "";
  const proto = rest.length === 2 ? stripUnderscore(rest[1]) : "";
  const svc = view.getService(ns, name);
  if (!svc) return "nx";
  const svcName = `${name}.${ns}.svc.${zone}`;
  if (svc.spec?.type === "ExternalName") {
    if (endpoint || port || proto || !svc.spec.externalName) return "nx";
    return [{ cname: String(svc.spec.externalName).replace(/\.$/, "") }];
  }
  const out: Rec[] = [];
  if (isHeadless(svc) || endpoint) {
    for (const e of view.endpoints(ns, name)) {
      const host = endpointHostname(e);
      if (endpoint && !eqi(endpoint, host)) continue;
      const ports = e.ports.length ? e.ports : [{ name: "", port: -1, protocol: "" }];
      for (const p of ports) if (matchPort(port, p.name, proto, p.protocol)) out.push({ ip: e.ip, port: p.port, target: `${host}.${svcName}` });
    }
    return out.length ? out : "nx";
  }
  let matched = false;
  for (const p of svc.spec?.ports ?? []) {
    if (!matchPort(port, p.name ?? "", proto, p.protocol ?? "TCP")) continue;
    matched = true;
    for (const ip of clusterIPs(svc)) out.push({ ip, port: p.port, target: svcName });
  }
  return matched ? out : "nx";
};

/** The zone's SOA (CoreDNS: ns.dns.<zone>, hostmaster.<zone>, 7200 1800 86400, minimum the TTL). */
const soa = (zone: string, ttl: number, serial: number): Answer => ({
  type: "SOA",
  name: zone,
  ttl,
  class: "IN",
  data: { mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl },
});

const reply = (rcode: Rcode, answers: Answer[] = [], authorities: Answer[] = [], additionals: Answer[] = []): Answered => ({
  rcode,
  answers,
  authorities,
  additionals,
});

/** PTR for a ClusterIP or an endpoint address; null when the cluster has no such address. */
const reverse = (view: ClusterView, qname: string, zone: string, ttl: number): Answered | null => {
  const labels = qname.toLowerCase().split(".");
  if (labels.length !== 6) return null;
  const ip = labels.slice(0, 4).reverse().join(".");
  if (!isIPv4(ip)) return null;
  const names: string[] = [];
  for (const svc of view.allServices()) {
    const { name, namespace } = svc.metadata;
    if (clusterIPs(svc).includes(ip)) names.push(`${name}.${namespace}.svc.${zone}`);
    else if (svc.spec?.type !== "ExternalName")
      for (const e of view.endpoints(namespace!, name!)) if (e.ip === ip) names.push(`${endpointHostname(e)}.${name}.${namespace}.svc.${zone}`);
  }
  if (!names.length) return null;
  return reply(
    "NOERROR",
    [...new Set(names)].map((data) => ({ type: "PTR", name: qname, ttl, class: "IN", data })),
  );
};

/** Answer `q` from the view, or say it is not the cluster's to answer. */
export const resolve = (view: ClusterView, q: Question, o: ResolveOptions): Resolution => resolveIn(view, q, o, 0);

const resolveIn = (view: ClusterView, q: Question, o: ResolveOptions, depth: number): Resolution => {
  const ttl = o.ttl ?? DEFAULT_TTL;
  const qname = q.name.replace(/\.$/, "");
  const lower = qname.toLowerCase();
  const zoneLower = o.domain.toLowerCase().replace(/\.$/, "");
  if (q.class && q.class !== "IN") return FORWARD;
  if (q.type === "PTR" && lower.endsWith(".in-addr.arpa")) {
    if (!view.hasSynced) return FORWARD;
    return reverse(view, qname, o.domain, ttl) ?? FORWARD;
  }
  if (lower !== zoneLower && !lower.endsWith(`.${zoneLower}`)) return FORWARD;
  // the zone as the client spelled it (CoreDNS keeps the query's case)
  const zone = qname.slice(qname.length - zoneLower.length);
  const authority = () => [soa(zone, ttl, view.serial >>> 0)];
  if (!view.hasSynced) return reply("SERVFAIL", [], authority());
  const base = lower === zoneLower ? [] : lower.slice(0, -zoneLower.length - 1).split(".");
  if (q.type === "AXFR" || q.type === "IXFR") return reply("REFUSED");
  if (!base.length && q.type === "SOA") return reply("NOERROR", authority());
  if (!base.length && q.type === "NS") {
    const ns = `ns.dns.${zone}`;
    return reply(
      "NOERROR",
      [{ type: "NS", name: qname, ttl, class: "IN", data: ns }],
      [],
      o.dnsIP ? [{ type: "A", name: ns, ttl, class: "IN", data: o.dnsIP }] : [],
    );
  }
  if (q.type === "TXT" && base.length === 1 && base[0] === "dns-version")
    return reply("NOERROR", [{ type: "TXT", name: qname, ttl: 28800, class: "IN", data: SCHEMA_VERSION }]);
  // ns.dns.<zone>: the cluster DNS itself
  if (base.length === 2 && base[0] === "ns" && base[1] === "dns") {
    if (q.type === "A" && o.dnsIP) return reply("NOERROR", [{ type: "A", name: qname, ttl, class: "IN", data: o.dnsIP }]);
    return reply("NOERROR", [], authority());
  }
  const recs = records(view, base, zone);
  if (recs === "nx") return reply("NXDOMAIN", [], authority());
  const nodata = () => reply("NOERROR", [], authority());
  switch (q.type) {
    case "A":
    case "AAAA": {
      const want = q.type === "A" ? isIPv4 : isIPv6;
      const answers: Answer[] = [];
      const seen = new Set<string>();
      let chase: Answered["chase"];
      for (const r of recs) {
        if ("cname" in r) {
          if (eqi(r.cname, qname)) continue;
          answers.push({ type: "CNAME", name: qname, ttl, class: "IN", data: r.cname });
          const target = r.cname.toLowerCase();
          if (target === zoneLower || target.endsWith(`.${zoneLower}`)) {
            if (depth >= MAX_CHAIN) continue;
            const next = resolveIn(view, { type: q.type, name: r.cname }, o, depth + 1);
            if (!next.forward) {
              answers.push(...next.answers);
              chase = next.chase;
            }
          } else chase = { name: r.cname, type: q.type };
          continue;
        }
        if (!want(r.ip) || seen.has(r.ip)) continue;
        seen.add(r.ip);
        answers.push({ type: q.type, name: qname, ttl, class: "IN", data: r.ip });
      }
      if (!answers.length) return nodata();
      return { ...reply("NOERROR", answers), ...(chase ? { chase } : {}) };
    }
    case "SRV": {
      const addrs = recs.filter((r): r is Extract<Rec, { ip: string }> => "ip" in r);
      const weight = Math.max(1, Math.floor(100 / Math.max(1, addrs.length)));
      const answers: Answer[] = [];
      const additionals: Answer[] = [];
      const seen = new Set<string>();
      for (const r of addrs) {
        if (r.port < 0 || !r.target) continue;
        if (!seen.has(`${r.target} ${r.port}`)) {
          seen.add(`${r.target} ${r.port}`);
          answers.push({ type: "SRV", name: qname, ttl, class: "IN", data: { priority: 0, weight, port: r.port, target: r.target } });
        }
        if (!seen.has(`${r.target} ${r.ip}`)) {
          seen.add(`${r.target} ${r.ip}`);
          additionals.push({ type: isIPv4(r.ip) ? "A" : "AAAA", name: r.target, ttl, class: "IN", data: r.ip });
        }
      }
      return answers.length ? reply("NOERROR", answers, [], additionals) : nodata();
    }
    case "CNAME": {
      const answers: Answer[] = recs
        .filter((r) => "cname" in r)
        .map((r) => ({ type: "CNAME", name: qname, ttl, class: "IN", data: (r as { cname: string }).cname }));
      return answers.length ? reply("NOERROR", answers) : nodata();
    }
    default:
      return nodata();
  }
};
