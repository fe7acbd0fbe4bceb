/**
 * kube-proxy in the agent: one watch on Services and one on EndpointSlices (never on
 * pods), this node's Node for its podCIDR, and the nftables rules rebuilt from them on
 * every change (coalesced, in the kernel well within 1 s; see ProxyLoop).
 */
import { execFileSync } from "node:child_process";
import type { KObject } from "../../shared/types";
import { type ApiClient, ApiRequestError } from "../api";
import { NftProxier, ProxyLoop } from "./proxier";
import type { ProxyInput } from "./rules";

export interface ServiceProxyOptions {
  api: ApiClient;
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
  log?: (msg: string) => void;
}

/** what the agent's callers choose (the agent adds its API client, node name and address) */
export type KubeProxySettings = Omit<ServiceProxyOptions, "api" | "nodeName" | "nodeIPs" | "log" | "localAPI">;

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

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

/** the first host address of a CIDR: the pod bridge's gateway (10.42.N.1) */
export const gatewayOf = (cidr: string): string | undefined => {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const n = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const len = Number(m[5]);
  if (len > 30) return undefined;
  const g = ((n & (len ? (~0 << (32 - len)) >>> 0 : 0)) + 1) >>> 0;
  return [g >>> 24, (g >>> 16) & 255, (g >>> 8) & 255, g & 255].join(".");
};

export class ServiceProxy {
  private readonly ac = new AbortController();
  private readonly services = new Map<string, KObject>();
  private readonly slices = new Map<string, KObject>();
  private readonly synced = { services: false, slices: false };
  private podCIDR?: string;
  private loops: Promise<void>[] = [];
  readonly loop: ProxyLoop;

  constructor(private readonly o: ServiceProxyOptions) {
    this.loop = new ProxyLoop({ prefix: o.prefix, minIntervalMs: o.minIntervalMs, log: o.log });
  }

  private log = (m: string) => this.o.log?.(`kube-proxy: ${m}`);

  start() {
    this.loops = [
      this.informer("/api/v1/services", this.services, "services"),
      this.informer("/apis/discovery.k8s.io/v1/endpointslices", this.slices, "slices"),
      this.nodeLoop(),
    ];
  }

  /** stop watching; the rules stay (like kube-proxy: traffic keeps flowing across restarts) unless `removeRules` */
  async stop(removeRules = false) {
    this.ac.abort();
    await Promise.allSettled(this.loops);
    await this.loop.stop(removeRules);
  }

  /** what the rules are built from right now */
  input(): ProxyInput {
    const gw = this.podCIDR ? gatewayOf(this.podCIDR) : undefined;
    return {
      services: [...this.services.values()],
      endpointSlices: [...this.slices.values()],
      nodeName: this.o.nodeName,
      nodeIPs: this.o.nodeIPs,
      clusterCIDR: this.o.clusterCIDR ?? this.podCIDR ?? "10.42.0.0/16",
      serviceCIDR: this.o.serviceCIDR ?? "10.43.0.0/16",
      ...(this.o.clusterDNS && gw ? { localDNS: { serviceIP: this.o.clusterDNS, ip: gw, port: 53 } } : {}),
      ...(gw && this.o.localAPI?.() ? { localAPI: { ip: gw, port: this.o.localAPI()!, serviceIP: gatewayOf(this.o.serviceCIDR ?? "10.43.0.0/16") } } : {}),
    };
  }

  /** rebuild the rules now (the API relay started listening) */
  refresh() {
    this.changed();
  }

  private changed() {
    // no rules from half a picture: a Service without its slices would be rejected for a moment
    if (this.synced.services && this.synced.slices) this.loop.update(this.input());
  }

  /** list, then watch from the list's revision; relist on 410 or any error, with backoff */
  private async informer(path: string, store: Map<string, KObject>, which: "services" | "slices") {
    const key = (o: KObject) => `${o.metadata.namespace}/${o.metadata.name}`;
    let failures = 0;
    while (!this.ac.signal.aborted) {
      try {
        const list = await this.o.api.request<{ metadata: { resourceVersion: string }; items: KObject[] }>("GET", path);
        store.clear();
        for (const o of list.items) store.set(key(o), o);
        this.synced[which] = true;
        this.changed();
        failures = 0;
        let rv = list.metadata.resourceVersion;
        for (;;) {
          await this.o.api.watch(
            path,
            rv,
            (ev) => {
              rv = ev.object.metadata.resourceVersion ?? rv;
              if (ev.type === "BOOKMARK") return;
              if (ev.type === "DELETED") store.delete(key(ev.object));
              else store.set(key(ev.object), ev.object);
              this.changed();
            },
            this.ac.signal,
          );
          if (this.ac.signal.aborted) return;
        }
      } catch (e) {
        if (this.ac.signal.aborted) return;
        failures++;
        if (!(e instanceof ApiRequestError && e.status === 410)) this.log(`${which} watch failed (${failures}): ${(e as Error).message}`);
        await sleep(Math.min(30_000, 250 * 2 ** Math.min(failures, 7)) * (0.5 + Math.random()), this.ac.signal);
      }
    }
  }

  /**
   * This node's podCIDR (allocated by the control plane after registration: the local DNS
   * target, the local pod network), and the periodic check that the table is still there.
   */
  private async nodeLoop() {
    while (!this.ac.signal.aborted) {
      try {
        const node = await this.o.api.find(`/api/v1/nodes/${this.o.nodeName}`);
        const cidr = node?.spec?.podCIDR;
        if (typeof cidr === "string" && cidr !== this.podCIDR && gatewayOf(cidr)) {
          this.podCIDR = cidr;
          this.changed();
        }
      } catch (e) {
        this.log(`reading node ${this.o.nodeName}: ${(e as Error).message}`);
      }
      await this.loop.resync().catch(() => {});
      await sleep(this.podCIDR ? 30_000 : 2000, this.ac.signal);
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
