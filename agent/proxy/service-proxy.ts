/**
 * kube-proxy in the agent: the agent's shared informers on Services and EndpointSlices
 * (never pods; the same two watches cluster DNS uses), the node's pod network as the
 * agent set it up, and the nftables rules rebuilt from them on every change (coalesced,
 * in the kernel well within 1 s; see ProxyLoop).
 */
import { execFileSync } from "node:child_process";
import type { ServiceInformers } from "../informer";
import { gatewayOf, type PodNetwork } from "../network/cidr";
import { sleep } from "../sleep";
import { NftProxier, ProxyLoop } from "./proxier";
import type { ProxyInput } from "./rules";

export interface ServiceProxyOptions {
  /** the agent's informers on Services and EndpointSlices (run by the agent, shared with cluster DNS) */
  informers: ServiceInformers;
  /** the node's pod network once the agent has set it up (--pod-cidr or spec.podCIDR): the local pod CIDR and the DNS server's gateway */
  podNetwork?: () => Pick<PodNetwork, "subnet" | "gateway"> | undefined;
  nodeName: string;
  nodeIPs: string[];
  /** the pod network (not masqueraded); default: this node's podCIDR (kube-proxy's NodeCIDR local detection), 10.42.0.0/16 until it is known */
  clusterCIDR?: string;
  /** default 10.43.0.0/16 */
  serviceCIDR?: string;
  /** DNAT this cluster DNS Service IP (port 53) to the node-local DNS server on the pod gateway (10.42.N.1:53); off when unset */
  clusterDNS?: string;
  /** the agent's API relay port on the pod gateway, once it listens: the `kubernetes` Service's 443 is DNATed there (agent/relay) */
  localAPI?: () => number | undefined;
  /** run nft in another network namespace (tests) */
  prefix?: string[];
  minIntervalMs?: number;
  /** each rule sync's duration and outcome (agent/metrics.ts) */
  onSync?: (seconds: number, ok: boolean) => void;
  log?: (msg: string) => void;
}

/** what the agent's callers choose (the agent adds its informers, pod network, node name and address, API relay) */
export type KubeProxySettings = Omit<ServiceProxyOptions, "informers" | "podNetwork" | "nodeName" | "nodeIPs" | "log" | "localAPI">;

/** why kube-proxy cannot run here, or "" */
export function kubeProxyUnavailable(): string {
  if (process.platform !== "linux") return "not Linux";
  if (process.getuid?.() !== 0) return "not root";
  try {
    execFileSync("nft", ["--version"], { stdio: "ignore" });
  } catch {
    return "nft not installed (apt-get install nftables)";
  }
  return "";
}

/** `nft delete table ip kubeflare` (uninstall, --no-kube-proxy); nothing to do is fine */
export const removeProxyRules = (prefix?: string[]) => new NftProxier({ prefix, sysctls: false }).remove();

export class ServiceProxy {
  private readonly ac = new AbortController();
  /** the pod network the rules were last built with */
  private podCIDR?: string;
  private loops: Promise<void>[] = [];
  private unregister: (() => void)[] = [];
  readonly loop: ProxyLoop;

  constructor(private readonly o: ServiceProxyOptions) {
    this.loop = new ProxyLoop({ prefix: o.prefix, minIntervalMs: o.minIntervalMs, log: o.log, onSync: o.onSync });
  }

  start() {
    const { services, endpointSlices } = this.o.informers;
    const changed = { onReset: () => this.changed(), onEvent: () => this.changed() };
    this.unregister = [services.addHandler(changed), endpointSlices.addHandler(changed)];
    this.loops = [this.nodeLoop()];
  }

  /** stop following; the rules stay (like kube-proxy: traffic keeps flowing across restarts) unless `removeRules` */
  async stop(removeRules = false) {
    this.ac.abort();
    for (const u of this.unregister) u();
    await Promise.allSettled(this.loops);
    await this.loop.stop(removeRules);
  }

  /** what the rules are built from right now */
  input(): ProxyInput {
    const net = this.o.podNetwork?.();
    return {
      services: this.o.informers.services.items(),
      endpointSlices: this.o.informers.endpointSlices.items(),
      nodeName: this.o.nodeName,
      nodeIPs: this.o.nodeIPs,
      clusterCIDR: this.o.clusterCIDR ?? net?.subnet ?? "10.42.0.0/16",
      serviceCIDR: this.o.serviceCIDR ?? "10.43.0.0/16",
      ...(this.o.clusterDNS && net ? { localDNS: { serviceIP: this.o.clusterDNS, ip: net.gateway, port: 53 } } : {}),
      ...(net && this.o.localAPI?.()
        ? { localAPI: { ip: net.gateway, port: this.o.localAPI()!, serviceIP: gatewayOf(this.o.serviceCIDR ?? "10.43.0.0/16") } }
        : {}),
    };
  }

  /** rebuild the rules now (the API relay started listening) */
  refresh() {
    this.changed();
  }

  private changed() {
    // no rules from half a picture: a Service without its slices would be rejected for a moment
    if (!this.o.informers.services.synced || !this.o.informers.endpointSlices.synced) return;
    this.podCIDR = this.o.podNetwork?.()?.subnet;
    this.loop.update(this.input());
  }

  /**
   * The pod network appearing or changing (the agent sets it up once the control plane
   * has given the Node its podCIDR: the local DNS target, the local pod CIDR), and the
   * periodic check that the table is still there.
   */
  private async nodeLoop() {
    let resyncAt = 0;
    while (!this.ac.signal.aborted) {
      if (this.o.podNetwork?.()?.subnet !== this.podCIDR) this.changed();
      if (Date.now() >= resyncAt) {
        await this.loop.resync().catch(() => {});
        resyncAt = Date.now() + 30_000;
      }
      await sleep(1000, this.ac.signal);
    }
  }
}

/**
 * kube-proxy's settings when it is wanted and can run here (root, Linux, nft), else
 * undefined with a log line saying why. Turning it off leaves an earlier run's table
 * alone (another agent on this host may own it); `kubeflare-agent uninstall` removes it.
 */
export function kubeProxySetting(wanted: boolean, settings: KubeProxySettings = {}, log = (m: string) => console.log(m)): KubeProxySettings | undefined {
  if (!wanted) return undefined;
  const why = kubeProxyUnavailable();
  if (why) {
    log(`kube-proxy: not running (${why}): Services get no ClusterIP/NodePort data path on this node`);
    return undefined;
  }
  return settings;
}
