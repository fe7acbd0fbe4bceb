/**
 * Cluster DNS on a node, as the agent runs it: the agent's shared informers on Services
 * and EndpointSlices keep the view (which also gives the pods' service environment),
 * the DNS server answers on the pod bridge gateway (10.42.N.1:53, of the pod network the
 * agent set up from --pod-cidr or the Node's spec.podCIDR; kube-proxy's rules send the
 * cluster DNS Service IP there), and each pod gets its resolv.conf as a file
 * bind-mounted at /etc/resolv.conf in its containers (how CRI runtimes give it; Docker
 * leaves its own out when a mount is there, and the containerd runtime mounts the host's
 * file into hostNetwork containers only when the pod brings none).
 *
 * Upstreams: `--dns-upstream` or the host's /etc/resolv.conf nameservers. The server
 * runs in the host's network namespace, so a loopback stub (systemd-resolved's
 * 127.0.0.53) is a fine upstream for it; the pods never see it (Default-policy pods get
 * systemd-resolved's real upstreams, see resolvconf.ts). The server's own address and
 * the cluster DNS IP are never used as upstreams (a forwarding loop).
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { KObject } from "../../shared/types";
import type { EventSink } from "../events";
import type { ServiceInformers } from "../informer";
import type { PodNetwork } from "../network/cidr";
import { writePodFile } from "../podfile";
import type { Mount } from "../runtime/runtime";
import { sleep } from "../sleep";
import { formatResolvConf, hostResolvConfPath, parseResolvConf, podResolvConf, type ResolvConf } from "./resolvconf";
import { DnsServer, type Upstream } from "./server";
import { ClusterView } from "./view";

export interface NodeDnsOptions {
  /** the agent's informers on Services and EndpointSlices (run by the agent, shared with kube-proxy) */
  informers: ServiceInformers;
  /** the node's pod network once the agent has set it up: the server listens on its gateway */
  podNetwork?: () => Pick<PodNetwork, "gateway"> | undefined;
  dataDir: string;
  /** the cluster DNS Service IP pods are told to use (kubelet's --cluster-dns); "" for none */
  clusterDNS: string;
  clusterDomain: string;
  /** forward-to resolvers; default the host's /etc/resolv.conf nameservers */
  upstreams?: Upstream[];
  /** where the server listens; default the pod network's gateway, port 53 */
  listen?: Upstream;
  /** run the DNS server (false: only the view, for the service environment) */
  serve?: boolean;
  events: EventSink;
  log(msg: string): void;
}

/** `ip`, `ip:port` or `[v6]:port` (port 53 when not given). */
export const parseHostPort = (s: string): Upstream | null => {
  const t = s.trim();
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  const [host, port] = v6 ? [v6[1], v6[2]] : isIP(t) ? [t, undefined] : t.split(":");
  const p = port === undefined ? 53 : Number(port);
  if (!isIP(host ?? "") || !Number.isInteger(p) || p < 1 || p > 65535) return null;
  return { host, port: p };
};

/** The host's resolvers as upstreams (/etc/resolv.conf as the agent itself sees it). */
export const hostUpstreams = (text: string): Upstream[] =>
  parseResolvConf(text)
    .nameservers.map((n) => parseHostPort(n.includes(":") && !n.startsWith("[") ? `[${n}]` : n))
    .filter((u): u is Upstream => !!u);

export class NodeDns {
  readonly view = new ClusterView();
  private server?: DnsServer;
  private readonly ac = new AbortController();
  private loops: Promise<void>[] = [];
  private unregister: (() => void)[] = [];
  /** pods whose DNS warnings were recorded already */
  private readonly warned = new Set<string>();

  constructor(private readonly o: NodeDnsOptions) {}

  start(): void {
    const { services, endpointSlices } = this.o.informers;
    this.unregister = [
      services.addHandler({ onReset: (items) => this.view.resetServices(items), onEvent: (t, o) => this.view.service(t, o) }),
      endpointSlices.addHandler({ onReset: (items) => this.view.resetSlices(items), onEvent: (t, o) => this.view.slice(t, o) }),
    ];
    this.loops = this.o.serve === false ? [] : [this.serve()];
  }

  async stop(): Promise<void> {
    this.ac.abort();
    for (const u of this.unregister) u();
    await Promise.allSettled(this.loops);
    await this.server?.stop();
  }

  /** The DNS server's port once it serves (0 before). */
  get port(): number {
    return this.server?.port ?? 0;
  }

  /** The Services for the pods' service environment; null until they were listed once. */
  services(): Iterable<KObject> | null {
    return this.view.servicesSynced ? this.view.allServices() : null;
  }

  /** Start the server once its address exists (the bridge comes with the pod network), retrying every few seconds. */
  private async serve(): Promise<void> {
    const signal = this.ac.signal;
    let said = "";
    while (!signal.aborted) {
      let wait = 5000;
      try {
        const gateway = this.o.podNetwork?.()?.gateway;
        const listen = this.o.listen ?? (gateway ? { host: gateway, port: 53 } : null);
        if (!listen) {
          // the agent sets the pod network up once it knows the podCIDR: look again soon
          wait = 1000;
          throw new Error("no pod network on this node yet (no --pod-cidr, no spec.podCIDR)");
        }
        const upstreams = (this.o.upstreams ?? hostUpstreams(readFileSync("/etc/resolv.conf", "utf8"))).filter(
          (u) => !(u.host === listen.host && u.port === listen.port) && u.host !== this.o.clusterDNS,
        );
        const server = new DnsServer({
          host: listen.host,
          port: listen.port,
          view: this.view,
          domain: this.o.clusterDomain,
          dnsIP: this.o.clusterDNS || undefined,
          upstreams,
          log: this.o.log,
        });
        await server.start();
        this.server = server;
        this.o.log(
          `dns: serving ${this.o.clusterDomain} on ${listen.host}:${server.port}, forwarding to ${upstreams.map((u) => `${u.host}:${u.port}`).join(", ") || "nothing"}`,
        );
        return;
      } catch (e) {
        const m = (e as Error).message;
        if (m !== said) this.o.log(`dns: cannot serve yet (retrying): ${m}`);
        said = m;
      }
      await sleep(wait, signal);
    }
  }

  /**
   * The pod's resolv.conf, written under its directory (`pods/<uid>/resolv.conf`, gone
   * with the pod), and the mount that puts it at /etc/resolv.conf.
   */
  resolvConfMount(pod: KObject): Mount {
    let host: ResolvConf | null = null;
    try {
      host = parseResolvConf(readFileSync(hostResolvConfPath(), "utf8"));
    } catch {
      host = { nameservers: [], searches: [], options: [] };
    }
    const { config, warnings } = podResolvConf(pod, { clusterDNS: this.o.clusterDNS ? [this.o.clusterDNS] : [], clusterDomain: this.o.clusterDomain, host });
    const uid = pod.metadata.uid!;
    if (!this.warned.has(uid)) {
      this.warned.add(uid);
      if (this.warned.size > 10_000) this.warned.clear();
      for (const w of warnings) this.o.events.record(pod, "Warning", w.reason, w.message);
    }
    const path = writePodFile(this.o.dataDir, uid, "resolv.conf", formatResolvConf(config));
    return { hostPath: path, containerPath: "/etc/resolv.conf", readOnly: false };
  }
}

/** The agent's DNS flags (`--cluster-dns`, `--cluster-domain`, `--dns-upstream a[,b]`), checked; throws with the flag's name. */
export const dnsFlags = (v: { "cluster-dns"?: string; "cluster-domain"?: string; "dns-upstream"?: string }) => {
  const out: { clusterDNS?: string; clusterDomain?: string; dnsUpstreams?: Upstream[] } = {};
  if (v["cluster-dns"] !== undefined) {
    if (v["cluster-dns"] !== "" && !isIP(v["cluster-dns"])) throw new Error(`--cluster-dns: "${v["cluster-dns"]}" is not an IP address`);
    out.clusterDNS = v["cluster-dns"];
  }
  if (v["cluster-domain"] !== undefined) {
    const d = v["cluster-domain"].replace(/\.$/, "").toLowerCase();
    if (d.length > 253 || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/.test(d))
      throw new Error(`--cluster-domain: "${v["cluster-domain"]}" is not a DNS domain such as cluster.local`);
    out.clusterDomain = d;
  }
  if (v["dns-upstream"] !== undefined) {
    out.dnsUpstreams = v["dns-upstream"]
      .split(",")
      .filter((s) => s.trim())
      .map(
        (s) =>
          parseHostPort(s) ??
          (() => {
            throw new Error(`--dns-upstream: "${s}" is not an address such as 192.0.2.53 or 192.0.2.53:5353`);
          })(),
      );
  }
  return out;
};
