/**
 * `kubeflare-agent uninstall`: what k3s' killall/uninstall scripts do for a k3s agent,
 * for what this agent put on the box. With the agent's config: the node's containers
 * (app containers first, then sandboxes, each sandbox's pod network torn down the CNI way
 * so its address and masquerade rule go too), the pod network (the Docker network, or the
 * CNI bridge and CNI's state), the host-gw routes (`proto 66`, only ours), and kube-proxy's
 * nftables table when this agent ran kube-proxy. The config and the data dir stay (as the
 * systemd unit's removal leaves /etc/kubeflare): `join` again reuses them.
 */
import { execFile } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { promisify } from "node:util";
import Docker from "dockerode";
import { type PodNetwork, parseCIDR, podNetwork, intToIp } from "./network/cidr";
import { removeDockerNetwork } from "./network/docker";
import { ROUTE_PROTO } from "./network/routes";
import { kubeProxyUnavailable, removeProxyRules } from "./proxy/service-proxy";
import { removeNetpolRules } from "./netpol/enforcer";
import { pickRuntime } from "./runtime/pick";
import { LABELS } from "./runtime/runtime";

const run = promisify(execFile);

export interface UninstallConfig {
  nodeName: string;
  runtime: "docker" | "containerd";
  dataDir: string;
  podCIDR?: string;
  podBridge?: string;
  podNetworkName?: string;
  hostGw?: boolean;
  kubeProxy?: boolean;
}

/** The pod network a CNI bridge carries now (its IPv4 address is the gateway), or undefined. */
const bridgeNetwork = async (bridge: string, cniDataDir: string): Promise<PodNetwork | undefined> => {
  if (!existsSync(`/sys/class/net/${bridge}`)) return undefined;
  const addrs = JSON.parse((await run("ip", ["-j", "addr", "show", "dev", bridge])).stdout || "[]");
  const a = addrs.flatMap((l: any) => l.addr_info ?? []).find((x: any) => x.family === "inet");
  if (!a) return undefined;
  const { base } = parseCIDR(`${a.local}/${a.prefixlen}`);
  return podNetwork(`${intToIp(base)}/${a.prefixlen}`, { bridge, cniDataDir });
};

/** Remove what the agent of `config` made on this box; each step is tried, the failures returned. */
export async function uninstallNode(config: UninstallConfig, log: (m: string) => void = console.log): Promise<string[]> {
  const errors: string[] = [];
  const step = async (what: string, f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  const bridge = config.podBridge ?? "kf0";
  const cniDataDir = `${config.dataDir}/cni`;
  const { runtime } = await pickRuntime(config.runtime, config.dataDir);
  if (runtime.name === "containerd") {
    // the sandboxes' CNI DEL needs the network they are on
    const net = config.podCIDR ? podNetwork(config.podCIDR, { bridge, cniDataDir }) : await bridgeNetwork(bridge, cniDataDir).catch(() => undefined);
    if (net) await step(`pod network ${net.subnet}`, () => runtime.setPodNetwork(net));
  }
  const containers = await runtime.list({ [LABELS.node]: config.nodeName });
  const sandboxLast = [...containers].sort((a, b) => Number(a.labels[LABELS.role] === "sandbox") - Number(b.labels[LABELS.role] === "sandbox"));
  for (const c of sandboxLast) await step(`container ${c.name}`, () => runtime.remove(c.id));
  if (containers.length) log(`removed ${containers.length} container(s) of node "${config.nodeName}" (${runtime.name})`);
  if (runtime.name === "docker") {
    const name = config.podNetworkName ?? "kubeflare";
    await step(`Docker network ${name}`, () => removeDockerNetwork(new Docker(), name));
    log(`removed the pod network (Docker network ${name})`);
  } else {
    if (existsSync(`/sys/class/net/${bridge}`)) await step(`bridge ${bridge}`, () => run("ip", ["link", "del", bridge]));
    rmSync(cniDataDir, { recursive: true, force: true });
    log(`removed the pod network (bridge ${bridge}, CNI state in ${cniDataDir})`);
  }
  if (config.hostGw) {
    await step("host-gw routes", () => run("ip", ["route", "flush", "proto", String(ROUTE_PROTO)]));
    log(`removed the host-gw routes (proto ${ROUTE_PROTO})`);
  }
  if (config.kubeProxy !== false) await removeKubeProxy(log);
  return errors;
}

/** kube-proxy's nftables table, when nft is there to remove it. */
export async function removeKubeProxy(log: (m: string) => void = console.log): Promise<void> {
  const why = kubeProxyUnavailable();
  if (why) return log(`kube-proxy rules: nothing removed (${why})`);
  await removeProxyRules();
  log("removed kube-proxy's nftables table (ip kubeflare)");
  await removeNetpolRules();
  log("removed the network policy nftables table (inet kubeflare-netpol)");
}
