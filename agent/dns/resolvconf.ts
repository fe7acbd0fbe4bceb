/**
 * A pod's /etc/resolv.conf, by kubelet's rules (pkg/kubelet/network/dns/dns.go):
 *
 * - ClusterFirst (the default; for a hostNetwork pod it means Default) and
 *   ClusterFirstWithHostNet: the cluster DNS as the only nameserver, search
 *   `<ns>.svc.<domain> svc.<domain> <domain>` then the host's search domains (without
 *   duplicates), `options ndots:5`. Without a cluster DNS the pod falls back to Default
 *   (kubelet's MissingClusterDNS warning).
 * - Default: the node's resolv.conf (nameservers, search, options) as it is.
 * - None: nothing but the pod's dnsConfig.
 * - A dnsConfig is appended in every case: nameservers and searches added without
 *   duplicates, options merged by name (the pod's value wins).
 * - Limits: at most 3 nameservers, at most 32 search domains of at most 253 characters
 *   and 2048 characters in all (kubelet's ExpandedDNSConfig limits), with a
 *   DNSConfigForming warning when something was left out.
 *
 * The node's resolv.conf is /etc/resolv.conf, unless its nameservers are all loopback
 * stubs (systemd-resolved's 127.0.0.53), which a pod can't reach: then systemd-resolved's
 * own list of upstreams, /run/systemd/resolve/resolv.conf, as kubeadm and k3s do.
 */
import { existsSync, readFileSync } from "node:fs";
import type { KObject } from "../../shared/types";

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

export interface DnsWarning {
  reason: "DNSConfigForming" | "MissingClusterDNS";
  message: string;
}

/** kubelet's limits (validation.MaxDNSNameservers, MaxDNSSearchPathsExpanded, MaxDNSSearchListCharsExpanded). */
export const MAX_NAMESERVERS = 3;
export const MAX_SEARCH_PATHS = 32;
export const MAX_SEARCH_CHARS = 2048;
const MAX_DOMAIN = 253;
/** kubelet reads at most this much of a resolv.conf */
const MAX_RESOLV_CONF = 10 << 20;

/** kubelet's parseResolvConf: nameservers accumulate, the last search and options lines win. */
export const parseResolvConf = (text: string): ResolvConf => {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const line of text.slice(0, MAX_RESOLV_CONF).split("\n")) {
    const t = line.trim();
    if (t.startsWith("#")) continue;
    const f = t.split(/\s+/).filter(Boolean);
    if (f[0] === "nameserver" && f[1]) out.nameservers.push(f[1]);
    if (f[0] === "search") out.searches = f.slice(1).map((s) => s.replace(/\.$/, ""));
    if (f[0] === "options") out.options = f.slice(1);
  }
  return out;
};

/** The file, in containerd's CRI layout (search, nameservers, options). */
export const formatResolvConf = (c: ResolvConf): string =>
  [
    ...(c.searches.length ? [`search ${c.searches.join(" ")}`] : []),
    ...c.nameservers.map((n) => `nameserver ${n}`),
    ...(c.options.length ? [`options ${c.options.join(" ")}`] : []),
  ]
    .map((l) => `${l}\n`)
    .join("");

const unique = (xs: string[]) => [...new Set(xs)];
const isLoopback = (ip: string) => ip.startsWith("127.") || ip === "::1";

/** The node's resolv.conf for pods (see the file comment on systemd-resolved). */
export const hostResolvConfPath = (exists = existsSync, read = (p: string) => readFileSync(p, "utf8")): string => {
  const etc = "/etc/resolv.conf";
  const resolved = "/run/systemd/resolve/resolv.conf";
  try {
    const ns = parseResolvConf(read(etc)).nameservers;
    if (ns.length && ns.every(isLoopback) && exists(resolved)) return resolved;
  } catch {
    // no /etc/resolv.conf: nothing better to offer
  }
  return etc;
};

/** kubelet's mergeDNSOptions: by name, the pod's entries win; order: the existing ones, then new names. */
const mergeOptions = (existing: string[], pod: { name?: string; value?: string }[]): string[] => {
  const m = new Map<string, string>();
  for (const op of existing) {
    const i = op.indexOf(":");
    if (i >= 0) m.set(op.slice(0, i), op.slice(i + 1));
    else m.set(op, "");
  }
  for (const op of pod) if (op.name) m.set(op.name, op.value ?? "");
  return [...m].map(([k, v]) => (v ? `${k}:${v}` : k));
};

/** kubelet's formDNSSearchFitsLimits. */
const fitSearches = (searches: string[], warn: (m: string) => void): string[] => {
  let out = searches.slice(0, MAX_SEARCH_PATHS);
  let exceeded = out.length < searches.length;
  const kept = out.filter((s) => s.length <= MAX_DOMAIN);
  exceeded ||= kept.length < out.length;
  out = kept;
  while (out.join(" ").length > MAX_SEARCH_CHARS) {
    out = out.slice(0, -1);
    exceeded = true;
  }
  if (exceeded) warn(`Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${out.join(" ")}`);
  return out;
};

export interface PodDnsOptions {
  /** the cluster DNS addresses (kubelet's --cluster-dns); [] for none */
  clusterDNS: string[];
  /** kubelet's --cluster-domain (cluster.local); "" for none */
  clusterDomain: string;
  /** the node's resolv.conf, parsed; null when kubelet's --resolv-conf is "" (no host DNS) */
  host: ResolvConf | null;
}

/** The pod's resolv.conf and the warnings kubelet records as events. */
export const podResolvConf = (pod: KObject, o: PodDnsOptions): { config: ResolvConf; warnings: DnsWarning[] } => {
  const warnings: DnsWarning[] = [];
  const spec = pod.spec ?? {};
  const policy: string = spec.dnsPolicy ?? "ClusterFirst";
  let type: "cluster" | "host" | "none" =
    policy === "None" ? "none" : policy === "ClusterFirstWithHostNet" ? "cluster" : policy === "Default" || spec.hostNetwork ? "host" : "cluster";
  const host = o.host ?? { nameservers: [], searches: [], options: [] };
  let config: ResolvConf = { nameservers: [...host.nameservers], searches: [...host.searches], options: [...host.options] };
  if (type === "cluster" && !o.clusterDNS.length) {
    warnings.push({
      reason: "MissingClusterDNS",
      message: `kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`,
    });
    type = "host";
  }
  if (type === "none") config = { nameservers: [], searches: [], options: [] };
  else if (type === "cluster") {
    const d = o.clusterDomain;
    config = {
      nameservers: [...o.clusterDNS],
      searches: d ? unique([`${pod.metadata.namespace}.svc.${d}`, `svc.${d}`, d, ...host.searches]) : host.searches,
      options: ["ndots:5"],
    };
  } else if (!o.host) {
    // kubelet with --resolv-conf="": the node's own loopback, search "."
    config = { nameservers: ["127.0.0.1"], searches: ["."], options: [] };
  }
  const dc = spec.dnsConfig;
  if (dc) {
    config = {
      nameservers: unique([...config.nameservers, ...(dc.nameservers ?? [])]),
      searches: unique([...config.searches, ...(dc.searches ?? [])]),
      options: mergeOptions(config.options, dc.options ?? []),
    };
  }
  if (config.nameservers.length > MAX_NAMESERVERS) {
    config.nameservers = config.nameservers.slice(0, MAX_NAMESERVERS);
    warnings.push({
      reason: "DNSConfigForming",
      message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${config.nameservers.join(" ")}`,
    });
  }
  config.searches = fitSearches(config.searches, (message) => warnings.push({ reason: "DNSConfigForming", message }));
  return { config, warnings };
};
