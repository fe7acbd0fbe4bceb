/**
 * Cluster DNS on a node, as the agent runs it: one list-and-watch on Services and one
 * on EndpointSlices keep the view (which also gives the pods' service environment),
 * the DNS server answers on the pod bridge gateway (10.42.N.1:53, from the Node's
 * spec.podCIDR; kube-proxy's rules send the cluster DNS Service IP there), and each pod
 * gets its resolv.conf as a file bind-mounted at /etc/resolv.conf in its containers
 * (how CRI runtimes give it; Docker leaves its own out when a mount is there). One gap:
 * `ctr --net-host` mounts the host's resolv.conf after ours, so on containerd a
 * hostNetwork pod keeps the host's file (right for ClusterFirst/Default, not for
 * ClusterFirstWithHostNet) until the containerd runtime drops that mount.
 *
 * Upstreams: `--dns-upstream` or the host's /etc/resolv.conf nameservers. The server
 * runs in the host's network namespace, so a loopback stub (systemd-resolved's
 * 127.0.0.53) is a fine upstream for it; the pods never see it (Default-policy pods get
 * systemd-resolved's real upstreams, see resolvconf.ts). The server's own address and
 * the cluster DNS IP are never used as upstreams (a forwarding loop).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import type { KObject } from "../../shared/types";
import { type ApiClient, ApiRequestError } from "../api";
import type { EventSink } from "../events";
import type { Mount } from "../runtime/runtime";
import { formatResolvConf, hostResolvConfPath, parseResolvConf, podResolvConf, type ResolvConf } from "./resolvconf";
import { DnsServer, type Upstream } from "./server";
import { ClusterView } from "./view";

export interface NodeDnsOptions {
  api: ApiClient;
  nodeName: string;
  dataDir: string;
  /** the cluster DNS Service IP pods are told to use (kubelet's --cluster-dns); "" for none */
  clusterDNS: string;
  clusterDomain: string;
  /** forward-to resolvers; default the host's /etc/resolv.conf nameservers */
  upstreams?: Upstream[];
  /** where the server listens; default the pod bridge gateway from the Node's podCIDR, port 53 */
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

/** The pod bridge gateway: the first address of the podCIDR (10.42.N.0/24 → 10.42.N.1). */
export const gatewayOf = (cidr: string): string | null => {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr ?? "");
  if (!m) return null;
  const n = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const g = n + 1;
  return [g >>> 24, (g >>> 16) & 255, (g >>> 8) & 255, g & 255].join(".");
};

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((r) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      r();
    }
    signal.addEventListener("abort", done, { once: true });
  });

export class NodeDns {
  readonly view = new ClusterView();
  private server?: DnsServer;
  private readonly ac = new AbortController();
  private loops: Promise<void>[] = [];
  /** pods whose DNS warnings were recorded already */
  private readonly warned = new Set<string>();

  constructor(private readonly o: NodeDnsOptions) {}

  start(): void {
    this.loops = [
      this.watch(
        "/api/v1/services",
        (items) => this.view.resetServices(items),
        (t, s) => this.view.service(t, s),
      ),
      this.watch(
        "/apis/discovery.k8s.io/v1/endpointslices",
        (items) => this.view.resetSlices(items),
        (t, s) => this.view.slice(t, s),
      ),
      ...(this.o.serve === false ? [] : [this.serve()]),
    ];
  }

  async stop(): Promise<void> {
    this.ac.abort();
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

  /** List, then watch from the list's revision; relist on 410 or any error, with backoff. */
  private async watch(path: string, reset: (items: KObject[]) => void, event: (t: "ADDED" | "MODIFIED" | "DELETED", o: KObject) => void): Promise<void> {
    let failures = 0;
    const signal = this.ac.signal;
    while (!signal.aborted) {
      try {
        const list = await this.o.api.request<{ metadata: { resourceVersion: string }; items: KObject[] }>("GET", path);
        reset(list.items);
        failures = 0;
        let rv = list.metadata.resourceVersion;
        while (!signal.aborted) {
          await this.o.api.watch(
            path,
            rv,
            (ev) => {
              rv = ev.object.metadata.resourceVersion ?? rv;
              if (ev.type === "ADDED" || ev.type === "MODIFIED" || ev.type === "DELETED") event(ev.type, ev.object);
            },
            signal,
          );
        }
      } catch (e) {
        if (signal.aborted) return;
        failures++;
        if (!(e instanceof ApiRequestError && e.status === 410)) this.o.log(`dns: watch ${path} failed (${failures}): ${(e as Error).message}`);
        await sleep(Math.min(30_000, 250 * 2 ** Math.min(failures, 7)) * (0.5 + Math.random()), signal);
      }
    }
  }

  /** Start the server once its address exists (the bridge comes with the pod network), retrying every few seconds. */
  private async serve(): Promise<void> {
    const signal = this.ac.signal;
    let said = "";
    while (!signal.aborted) {
      try {
        const listen = this.o.listen ?? (await this.gateway());
        if (listen) {
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
        }
      } catch (e) {
        const m = (e as Error).message;
        if (m !== said) this.o.log(`dns: cannot serve yet (retrying): ${m}`);
        said = m;
      }
      await sleep(5000, signal);
    }
  }

  private async gateway(): Promise<Upstream | null> {
    const node = await this.o.api.find(`/api/v1/nodes/${this.o.nodeName}`);
    const gw = gatewayOf(node?.spec?.podCIDR ?? "");
    if (!gw) throw new Error(`node ${this.o.nodeName} has no spec.podCIDR yet`);
    return { host: gw, port: 53 };
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
    const dir = join(this.o.dataDir, "pods", uid);
    const path = join(dir, "resolv.conf");
    const text = formatResolvConf(config);
    let old = "";
    try {
      old = readFileSync(path, "utf8");
    } catch {
      // not written yet
    }
    if (old !== text) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${path}.tmp`, text, { mode: 0o644 });
      renameSync(`${path}.tmp`, path);
    }
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
