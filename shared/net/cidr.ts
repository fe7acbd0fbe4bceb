/**
 * IPv4 address and CIDR arithmetic for the cluster and service networks: parse,
 * contains, overlaps, the n-th subnet and the n-th address of a block. Pure code;
 * addresses are unsigned 32-bit integers.
 */

export interface Cidr {
  /** the network address (host bits zero) */
  base: number;
  prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** A dotted-quad IPv4 address as an integer, or undefined (no leading zeros, as Go's netip). */
export const parseIPv4 = (s: string): number | undefined => {
  if (typeof s !== "string") return undefined;
  const parts = s.split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
};

export const formatIPv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

const size = (prefix: number) => 2 ** (32 - prefix);

/** `a.b.c.d/p` with host bits zero, or undefined. */
export const parseCidr = (s: string): Cidr | undefined => {
  if (typeof s !== "string") return undefined;
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m) return undefined;
  const base = parseIPv4(m[1]);
  const prefix = Number(m[2]);
  if (base === undefined || prefix > 32 || String(prefix) !== m[2]) return undefined;
  if (base % size(prefix) !== 0) return undefined;
  return { base, prefix };
};

export const formatCidr = (c: Cidr): string => `${formatIPv4(c.base)}/${c.prefix}`;

/** How many addresses the block holds. */
export const cidrSize = (c: Cidr): number => size(c.prefix);

export const containsIP = (c: Cidr, ip: number): boolean => ip >= c.base && ip < c.base + size(c.prefix);

export const overlaps = (a: Cidr, b: Cidr): boolean => containsIP(a, b.base) || containsIP(b, a.base);

/** The n-th address of the block (0 is the network address), or undefined past its end. */
export const nthAddress = (c: Cidr, n: number): string | undefined =>
  Number.isInteger(n) && n >= 0 && n < size(c.prefix) ? formatIPv4(c.base + n) : undefined;

/** How many /`prefix` subnets the block splits into (0 if `prefix` is shorter than the block's). */
export const subnetCount = (c: Cidr, prefix: number): number => (prefix < c.prefix || prefix > 32 ? 0 : 2 ** (prefix - c.prefix));

/** The n-th /`prefix` subnet of the block, or undefined past its end. */
export const nthSubnet = (c: Cidr, prefix: number, n: number): Cidr | undefined =>
  Number.isInteger(n) && n >= 0 && n < subnetCount(c, prefix) ? { base: c.base + n * size(prefix), prefix } : undefined;

/** The network an interface address with a netmask belongs to (os.networkInterfaces() gives `cidr` strings like 192.168.1.5/24). */
export const networkOf = (addressWithPrefix: string): Cidr | undefined => {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(addressWithPrefix);
  if (!m) return undefined;
  const ip = parseIPv4(m[1]);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 32) return undefined;
  return { base: ip - (ip % size(prefix)), prefix };
};

// ---------------------------------------------------------------- the cluster's networks

/** k3s' defaults: pods in 10.42.0.0/16 (a /24 per node), Services in 10.43.0.0/16. */
export const DEFAULT_CLUSTER_CIDR = "10.42.0.0/16";
export const DEFAULT_SERVICE_CIDR = "10.43.0.0/16";
/** Each node's podCIDR is a block of this size (kube-controller-manager's --node-cidr-mask-size). */
export const NODE_CIDR_PREFIX = 24;

export interface NetworkConfig {
  clusterCIDR: string;
  serviceCIDR: string;
}

export const DEFAULT_NETWORK: NetworkConfig = { clusterCIDR: DEFAULT_CLUSTER_CIDR, serviceCIDR: DEFAULT_SERVICE_CIDR };

/**
 * What is wrong with a cluster/service CIDR pair (empty when nothing): IPv4 blocks,
 * the cluster CIDR /8 to /22 (room for four /24 nodes at least), the service CIDR /12
 * to /24 (kube-apiserver refuses more than 2^20 service IPs), not overlapping each
 * other nor `hostNetworks` (the machine's own interface networks: a pod or Service
 * address there would shadow a real host).
 */
export const networkConfigErrors = (
  o: { clusterCIDR: string; serviceCIDR: string },
  names: { cluster: string; service: string },
  hostNetworks: { name: string; cidr: string }[] = [],
): string[] => {
  const errors: string[] = [];
  const cluster = parseCidr(o.clusterCIDR);
  const service = parseCidr(o.serviceCIDR);
  if (!cluster) errors.push(`${names.cluster} must be an IPv4 CIDR with its host bits zero (like 10.42.0.0/16), got "${o.clusterCIDR}"`);
  else if (cluster.prefix < 8 || cluster.prefix > 22) errors.push(`${names.cluster} must be a /8 to /22 (each node gets a /24), got "${o.clusterCIDR}"`);
  if (!service) errors.push(`${names.service} must be an IPv4 CIDR with its host bits zero (like 10.43.0.0/16), got "${o.serviceCIDR}"`);
  else if (service.prefix < 12 || service.prefix > 24) errors.push(`${names.service} must be a /12 to /24, got "${o.serviceCIDR}"`);
  if (errors.length) return errors;
  if (overlaps(cluster!, service!)) errors.push(`${names.cluster} ${o.clusterCIDR} and ${names.service} ${o.serviceCIDR} overlap`);
  for (const h of hostNetworks) {
    const net = networkOf(h.cidr);
    if (!net) continue;
    for (const [flag, c, text] of [
      [names.cluster, cluster!, o.clusterCIDR],
      [names.service, service!, o.serviceCIDR],
    ] as const) {
      if (overlaps(c, net)) errors.push(`${flag} ${text} overlaps this machine's network ${formatCidr(net)} (interface ${h.name}); pick another range`);
    }
  }
  return errors;
};
