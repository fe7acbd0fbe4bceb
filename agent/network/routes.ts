/**
 * Between boxes, flannel's host-gw model: every other node's podCIDR is routed via that
 * node's InternalIP, which works for boxes on one LAN (one L2 segment: the next hop must
 * be directly reachable). planRoutes is the pure part: from the Node list and the routes
 * the agent put in place before (marked with their own route protocol number, so they
 * are found and removed again), what to add and what to delete. It only ever routes
 * prefixes inside the cluster CIDR, so a Node object can't steer the host's other traffic.
 */
import { contains, intToIp, ipToInt, parseCIDR } from "./cidr";

/** The route protocol number the agent's routes carry (`ip route ... proto 66`), to tell them from anyone else's. */
export const ROUTE_PROTO = 66;

export interface RouteNode {
  name: string;
  podCIDR?: string;
  internalIP?: string;
}

export interface Route {
  dst: string;
  via: string;
}

/** A Node object's name, podCIDR and first InternalIP. */
export const routeNode = (n: any): RouteNode => ({
  name: String(n?.metadata?.name ?? ""),
  podCIDR: n?.spec?.podCIDR,
  internalIP: (n?.status?.addresses ?? []).find((a: any) => a?.type === "InternalIP")?.address,
});

const normalize = (cidr: string): string | null => {
  try {
    const { base, prefix } = parseCIDR(cidr);
    return `${intToIp(base)}/${prefix}`;
  } catch {
    return null;
  }
};

const overlaps = (a: string, b: string): boolean => {
  const x = parseCIDR(a);
  const y = parseCIDR(b);
  const p = Math.min(x.prefix, y.prefix);
  const size = 2 ** (32 - p);
  return Math.floor(x.base / size) === Math.floor(y.base / size);
};

const usableIP = (ip: string | undefined): ip is string => {
  if (!ip) return false;
  try {
    const n = ipToInt(ip);
    // not loopback, not 0.0.0.0/8, not multicast or above
    return n >= 2 ** 24 && Math.floor(n / 2 ** 24) !== 127 && n < 224 * 2 ** 24;
  } catch {
    return false;
  }
};

/**
 * The routes this node wants: one per other node with a podCIDR inside the cluster CIDR
 * (overlapping neither this node's nor an earlier node's) and a usable InternalIP outside
 * the cluster CIDR; and what to change to get there from `current`.
 */
export const planRoutes = (self: string, nodes: RouteNode[], current: Route[], clusterCIDR = "10.42.0.0/16"): { want: Route[]; add: Route[]; del: Route[] } => {
  const cluster = normalize(clusterCIDR);
  if (!cluster) throw new Error(`"${clusterCIDR}" is not an IPv4 CIDR`);
  const mine = normalize(nodes.find((n) => n.name === self)?.podCIDR ?? "");
  const taken: string[] = mine ? [mine] : [];
  const want: Route[] = [];
  // by name, so two nodes claiming one range resolve the same way on every box
  for (const n of [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (n.name === self) continue;
    const dst = normalize(n.podCIDR ?? "");
    if (!dst || !usableIP(n.internalIP)) continue;
    if (parseCIDR(dst).prefix < parseCIDR(cluster).prefix || !contains(cluster, dst.split("/")[0])) continue;
    if (contains(cluster, n.internalIP)) continue;
    if (taken.some((t) => overlaps(t, dst))) continue;
    taken.push(dst);
    want.push({ dst, via: n.internalIP });
  }
  const key = (r: Route) => `${normalize(r.dst) ?? r.dst} ${r.via}`;
  const wanted = new Set(want.map(key));
  const have = new Set(current.map(key));
  return { want, add: want.filter((r) => !have.has(key(r))), del: current.filter((r) => !wanted.has(key(r))) };
};

const runIp = async (args: string[]): Promise<string> => {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve, reject) =>
    execFile("ip", args, { timeout: 10_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`ip ${args.join(" ")}: ${String(stderr || err.message).trim()}`)) : resolve(stdout),
    ),
  );
};

/**
 * Keeps the host's routes to the other nodes' podCIDRs as planRoutes says (`ip route`,
 * marked `proto 66`). Opt-in (`--host-gw`): only for boxes on one LAN. Returns what
 * could not be done, for the log; never throws.
 */
export const syncRoutes = async (self: string, nodes: any[], clusterCIDR?: string): Promise<string[]> => {
  const errors: string[] = [];
  let current: Route[] = [];
  try {
    const listed = JSON.parse((await runIp(["-j", "route", "show", "proto", String(ROUTE_PROTO)])) || "[]");
    current = listed.filter((r: any) => r.dst && r.gateway).map((r: any) => ({ dst: String(r.dst), via: String(r.gateway) }));
  } catch (e) {
    return [(e as Error).message];
  }
  const plan = planRoutes(self, nodes.map(routeNode), current, clusterCIDR);
  for (const r of plan.del) await runIp(["route", "del", r.dst, "via", r.via, "proto", String(ROUTE_PROTO)]).catch((e) => errors.push(e.message));
  for (const r of plan.add) await runIp(["route", "replace", r.dst, "via", r.via, "proto", String(ROUTE_PROTO)]).catch((e) => errors.push(e.message));
  return errors;
};
