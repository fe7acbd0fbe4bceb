/**
 * The node's pod network, as the agent derives it from its podCIDR (Node.spec.podCIDR or
 * --pod-cidr): the subnet, the bridge's gateway address (the subnet's first address,
 * 10.42.N.1) and the range pods get addresses from. Pure code: the engines' parts
 * (network/docker.ts, network/cni.ts) take it from here.
 */

/** What an engine needs to attach pod sandboxes to the node's pod network. */
export interface PodNetwork {
  /** the node's podCIDR, normalized (10.42.7.0/24) */
  subnet: string;
  /** the bridge's address, the subnet's first one (10.42.7.1) */
  gateway: string;
  /** the first and last address a pod may get */
  rangeStart: string;
  rangeEnd: string;
  /** the Linux bridge (kf0) */
  bridge: string;
  /** Docker's network name (kubeflare) */
  name: string;
  /** where CNI keeps its state (host-local's leases, cached results): under the agent's data dir */
  cniDataDir: string;
}

export const ipToInt = (ip: string): number => {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`"${ip}" is not an IPv4 address`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
};

export const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

/** An IPv4 CIDR's network address and prefix length; throws on anything else. */
export const parseCIDR = (cidr: string): { base: number; prefix: number } => {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m || Number(m[2]) > 32) throw new Error(`"${cidr}" is not an IPv4 CIDR such as 10.42.0.0/24`);
  const prefix = Number(m[2]);
  const size = 2 ** (32 - prefix);
  const base = Math.floor(ipToInt(m[1]) / size) * size;
  return { base, prefix };
};

export const contains = (cidr: string, ip: string): boolean => {
  const { base, prefix } = parseCIDR(cidr);
  const n = ipToInt(ip);
  return n >= base && n < base + 2 ** (32 - prefix);
};

/** The pod bridge's gateway: the first host address of a CIDR (10.42.N.0/24 → 10.42.N.1); undefined for no IPv4 CIDR or one without host addresses (/31, /32). */
export const gatewayOf = (cidr: string): string | undefined => {
  try {
    const { base, prefix } = parseCIDR(cidr);
    return prefix > 30 ? undefined : intToIp(base + 1);
  } catch {
    return undefined;
  }
};

/** The pod network for a podCIDR; it needs room for the gateway and at least one pod. */
export const podNetwork = (podCIDR: string, o: { bridge?: string; name?: string; cniDataDir: string }): PodNetwork => {
  const { base, prefix } = parseCIDR(podCIDR);
  if (prefix > 29) throw new Error(`podCIDR ${podCIDR} is too small: a /29 or larger is needed`);
  const size = 2 ** (32 - prefix);
  return {
    subnet: `${intToIp(base)}/${prefix}`,
    gateway: gatewayOf(podCIDR)!,
    rangeStart: intToIp(base + 2),
    rangeEnd: intToIp(base + size - 2),
    bridge: o.bridge ?? "kf0",
    name: o.name ?? "kubeflare",
    cniDataDir: o.cniDataDir,
  };
};
