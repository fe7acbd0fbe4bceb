/**
 * The node agent (Kubeflare's kubelet): registers its Node, renews its Lease, watches
 * the pods bound to it, runs them on the local engine, reports their status, and
 * confirms their deletion. Everything it knows comes from the API and from the
 * engine's container labels.
 */
import { WatchedObjects } from "./watchedobjects";
import { asLogger, type Logger } from "../shared/log";
import { rfc3339Micro } from "../shared/time";
import type { KObject, WatchEvent } from "../shared/types";
import { type ApiClient, ApiRequestError } from "./api";
import { NodeDns } from "./dns/node";
import type { Upstream } from "./dns/server";
import { PodEvents } from "./events";
// the ingress proxy (http-proxy-3, node-forge) and the API relay are loaded only by agents that run them
import type { IngressProxy, IngressSettings } from "./ingress/proxy";
import { resumeWatch, runInformers, type ServiceInformers, serviceInformers } from "./informer";
import { LogShipper } from "./logs";
import type { AgentMetrics } from "./metrics";
import type { PodNetwork } from "./network/cidr";
import { syncRoutes } from "./network/routes";
import { PodNetworkSetup } from "./network/setup";
import { nodeLabels, nodeStatus } from "./node";
import { PodWorker } from "./pods";
import { PodWorkers, Slots } from "./podworkers";
import { Prober } from "./probes";
import { type KubeProxySettings, ServiceProxy } from "./proxy/service-proxy";
import { NetworkPolicyController, type NetworkPolicySettings } from "./netpol/controller";
import type { ApiRelay } from "./relay/apirelay";
import { type ContainerInfo, type EngineEvent, LABELS, type ContainerRuntime } from "./runtime/runtime";
import { sleep, watchBackoffMs } from "./sleep";
import { LocalPathProvisioner } from "./storage/localpath";
import { containerFingerprints, SETTLED_RESYNC_MS, settledPod } from "./settled";
import { StatsCollector } from "./stats/collector";
import { StreamServer } from "./streams/server";
import { TunnelClient } from "./tunnel/client";
import { availableParallelism } from "node:os";
import { trace } from "./trace";

export interface AgentOptions {
  api: ApiClient;
  runtime: ContainerRuntime;
  nodeName: string;
  nodeIP: string;
  dataDir: string;
  labels?: Record<string, string>;
  pauseImage?: string;
  /** Lease renewal period (default 10 s, kubelet's: four renewals to the control plane's 40 s grace) */
  leaseIntervalMs?: number;
  /** the Lease's leaseDurationSeconds (kubelet's --node-lease-duration-seconds, default 40) */
  leaseDurationSeconds?: number;
  /** Lease renewal period while the control plane answers the node's heartbeats (the Worker's watch hub; default 10 min) */
  hubLeaseIntervalMs?: number;
  /** how often every pod is looked at even without a watch event (default 1 s) */
  syncIntervalMs?: number;
  /**
   * With the engine's event stream (Docker): how often the engine is listed when nothing
   * was heard of (a safety net under the events; default 10 s). Without: every pass.
   */
  engineRelistMs?: number;
  /** how many pods sync at once (kubelet's pod workers; default 32): one slow pod never holds up the others */
  podSyncConcurrency?: number;
  /** how many containers are created and started at once (default twice the CPUs, at least 2): the engine's work, in the pods' order */
  containerStartConcurrency?: number;
  /** kubelet's --sync-frequency: how often ConfigMap/Secret volumes are read again (default 60 s) */
  syncFrequencyMs?: number;
  /** how often new container output is shipped (default 2 s) */
  logIntervalMs?: number;
  /** how often the local-path volumes this node holds are checked for deletion (default 30 s) */
  storageSweepMs?: number;
  /** the node's podCIDR (--pod-cidr); else the Node's spec.podCIDR; else the engine's default network */
  podCIDR?: string;
  /** the pod network's Linux bridge (kf0) and Docker network (kubeflare): tests running side by side pick their own */
  podBridge?: string;
  podNetworkName?: string;
  /** --host-gw: route the other nodes' podCIDRs via their InternalIPs (boxes on one LAN), within this cluster CIDR */
  hostGw?: boolean;
  clusterCIDR?: string;
  /** where its log lines go: a plain function (every line at info), or a Logger (shared/log.ts) for levels and fields */
  log?: (msg: string) => void;
  /** the cluster DNS Service IP written into pods' resolv.conf (kubelet's --cluster-dns; default 10.43.0.10, "" for none: the engine's DNS) */
  clusterDNS?: string;
  /** kubelet's --cluster-domain (default cluster.local) */
  clusterDomain?: string;
  /** where the node-local DNS server forwards other names (default the host's /etc/resolv.conf nameservers) */
  dnsUpstreams?: Upstream[];
  /** where the node-local DNS server listens (default the pod bridge gateway 10.42.N.1, port 53); null: no DNS server */
  dnsListen?: Upstream | null;
  /** run kube-proxy (nftables rules for Services) with these settings; off when unset */
  kubeProxy?: KubeProxySettings;
  /** enforce NetworkPolicies with nftables (agent/netpol, table inet kubeflare-netpol) with these settings; off when unset */
  networkPolicy?: NetworkPolicySettings;
  /** with kube-proxy: relay the `kubernetes` Service to the control plane (agent/relay) on this port of the pod gateway (default 6444); false: don't */
  apiRelayPort?: number | false;
  /** the ingress proxy (agent/ingress) with these settings; unset: none; false: none, and the Node's ingress annotation removed */
  ingress?: IngressSettings | false;
  /** kubelet's and kube-proxy's metrics (agent/metrics.ts), served where --metrics-bind-address says; none when unset */
  metrics?: AgentMetrics;
  /** keep the tunnel to the control plane open (exec, attach, port-forward, proxy; agent/tunnel); default true */
  tunnel?: boolean;
}

/**
 * How often the Lease is renewed: kubelet's 10 s (a quarter of its 40 s lease). With the
 * control plane's 40 s grace, three renewals in a row may be lost before the node is
 * marked Unknown, so a network hiccup of 10-20 s does not flap it (issue #14, goal 6).
 */
export const LEASE_RENEW_MS = 10_000;

/** With the engine's events: the engine is listed at least this often even when none came (a safety net) */
export const ENGINE_RELIST_MS = 10_000;
/** After a container died: how often the engine is listed until its listing says so too (Docker's lags the event), and for how long at most */
const DIED_RELIST_MS = 50;
const DIED_WAIT_MS = 5000;

/**
 * The runtime, calling `changed` after each change the agent itself makes to the engine
 * (create, start, stop, remove): the next pass lists the engine again.
 */
const reportingChanges = (rt: ContainerRuntime, changed: () => void): ContainerRuntime => {
  const changes = new Set<PropertyKey>(["create", "start", "stop", "remove"]);
  /** per method: the engine's own function (looked up on each call: tests replace some) and it bound to the engine, or wrapped */
  const made = new Map<PropertyKey, { own: unknown; fn: unknown }>();
  return new Proxy(rt, {
    get: (t, p) => {
      const own = Reflect.get(t, p, t);
      if (typeof own !== "function") return own;
      const have = made.get(p);
      if (have && have.own === own) return have.fn;
      // the engine's methods run on the engine itself (its fields are set on it, not on the proxy)
      const fn = changes.has(p)
        ? async (...a: unknown[]) => {
            try {
              return await own.apply(t, a);
            } finally {
              changed();
            }
          }
        : own.bind(t);
      made.set(p, { own, fn });
      return fn;
    },
  });
};

/** kubelet's nodeStatusReportFrequency: an unchanged status is posted this often */
const NODE_STATUS_REPORT_MS = 5 * 60_000;

/** The Node status without its timestamps: posted again when this changes. */
export const nodeStatusEssence = (s: any): string =>
  JSON.stringify([s?.capacity, s?.allocatable, s?.addresses, s?.nodeInfo, (s?.conditions ?? []).map((c: any) => [c.type, c.status, c.reason])]);

/** What makes a watch event worth a sync now (kubelet's podsDifferSemantically): all but the status and versions. */
const podEssence = (p: KObject): string =>
  JSON.stringify([p.spec, p.metadata.labels, p.metadata.annotations, p.metadata.deletionTimestamp, p.metadata.deletionGracePeriodSeconds]);

const jitter = (ms: number) => ms * (0.9 + Math.random() * 0.2);
/**
 * The parts of a pod status the agent owns, without timestamps: if the server's copy
 * differs from the agent's in these, someone else changed it and the agent writes again.
 */
export const statusEssence = (s: any): string =>
  JSON.stringify([
    s?.phase ?? "",
    s?.podIP ?? "",
    (s?.conditions ?? []).map((c: any) => `${c.type}=${c.status}`).sort(),
    [...(s?.initContainerStatuses ?? []), ...(s?.containerStatuses ?? [])].map((c: any) => [
      c.name,
      !!c.ready,
      c.restartCount ?? 0,
      c.containerID ?? "",
      Object.keys(c.state ?? {})[0] ?? "",
      c.state?.waiting?.reason ?? c.state?.terminated?.reason ?? "",
    ]),
  ]);

export class NodeAgent {
  private readonly ac = new AbortController();
  private readonly pods = new Map<string, KObject>();
  private readonly worker: PodWorker;
  /** the local-path provisioner (agent/storage) */
  private readonly provisioner: LocalPathProvisioner;
  /** the ConfigMaps and Secrets its pods mount, each kept current by a watch */
  private readonly watched: WatchedObjects;
  /** one sync of a pod at a time, updates coalesced, different pods in parallel (by uid) */
  private readonly podWorkers: PodWorkers;
  private readonly prober: Prober;
  private readonly lastStatus = new Map<string, string>();
  /** settled pods (settledPod) by uid: left out of the periodic pass until their resourceVersion or containers change, or `until` */
  private readonly settled = new Map<string, { rv: string; containers: string; until: number }>();
  /** the containers of each pod as of the last pass (containerFingerprints) */
  private fingerprints = new Map<string, string>();
  /** when a pod was first seen finished (Succeeded/Failed), by uid */
  private readonly finishedAt = new Map<string, number>();
  private listed = false;
  /** pods being stopped (graceful deletion runs in the background, one at a time per pod) */
  private readonly terminating = new Map<string, Promise<void>>();
  private wake: (() => void) | undefined;
  private loops: Promise<void>[] = [];
  private runtimeVersion = "";
  private readonly shipper: LogShipper;
  /** the engine's containers of this node as of the last listing */
  private listing: ContainerInfo[] = [];
  /** the engine's event stream is open (runtime.events): the pass lists the engine only when something changed (syncAll) */
  private engineEvents = false;
  /** something may have changed on the engine since the last listing (an engine event, the agent's own change, a pod's) */
  private engineDirty = true;
  /** when the engine was last listed */
  private listedAt = 0;
  /** containers an event said died, by id: listed again every DIED_RELIST_MS until the listing agrees, up to this time */
  private readonly died = new Map<string, number>();
  /** when every pod was last handed to its worker (a pass woken early, or listing again for a death, hands on only the pods whose containers changed) */
  private fullPassAt = 0;
  private readonly events: PodEvents;
  private readonly podNet: PodNetworkSetup;
  /** when the Node was last read for its podCIDR while it had none */
  private podCIDRCheckedAt = 0;
  /** the one watch on Services and the one on EndpointSlices, shared by cluster DNS (and the service environment) and kube-proxy */
  private readonly informers: ServiceInformers;
  private readonly dns: NodeDns;
  private proxy?: ServiceProxy;
  /** the ingress proxy on ports 80 and 443 (agent/ingress) */
  ingress?: IngressProxy;
  /** the network-policy controller, when enforcing */
  netpol?: NetworkPolicyController;
  /** the relay of the `kubernetes` Service (pods reach the control plane through it) */
  private relay?: ApiRelay;
  /** the Lease and the Node as last written (their resourceVersions make the next write a compare-and-swap) */
  private lease: KObject | null = null;
  private node: KObject | null = null;
  /** what the Node's status said when last posted, and when */
  private statusWritten?: { essence: string; at: number };
  /** serves exec, attach, port-forward and proxy streams to this node's pods (agent/streams) */
  readonly streams: StreamServer;
  private tunnel?: TunnelClient;
  /** container and node resource usage, collected when asked over the tunnel (agent/stats) */
  readonly stats: StatsCollector;

  constructor(private readonly o: AgentOptions) {
    // the pod worker's and prober's changes to the engine are listed on the next pass
    const runtime = reportingChanges(o.runtime, () => (this.engineDirty = true));
    this.events = new PodEvents(o.api, o.nodeName, Date.now, this.log);
    const clusterDNS = o.clusterDNS ?? "10.43.0.10";
    this.informers = serviceInformers(o.api, this.log);
    this.dns = new NodeDns({
      informers: this.informers,
      podNetwork: () => this.podNetwork,
      dataDir: o.dataDir,
      clusterDNS,
      clusterDomain: o.clusterDomain ?? "cluster.local",
      upstreams: o.dnsUpstreams,
      listen: o.dnsListen ?? undefined,
      serve: o.dnsListen !== null,
      events: this.events,
      log: this.log,
    });
    this.provisioner = new LocalPathProvisioner({ api: o.api, nodeName: o.nodeName, dataDir: o.dataDir, log: this.log, sweepMs: o.storageSweepMs });
    this.watched = new WatchedObjects({ api: o.api, now: Date.now, log: this.log });
    this.worker = new PodWorker({
      provisioner: this.provisioner,
      watched: this.watched,
      runtime,
      api: o.api,
      nodeName: o.nodeName,
      hostIP: o.nodeIP,
      dataDir: o.dataDir,
      pauseImage: o.pauseImage ?? "registry.k8s.io/pause:3.10",
      now: Date.now,
      log: this.log,
      events: this.events,
      volumeRefreshMs: o.syncFrequencyMs,
      clusterDomain: o.clusterDomain,
      services: () => this.dns.services(),
      // the cluster DNS only once it can answer: served here and reachable at the Service IP
      // through kube-proxy; until then (or without root and nft) pods keep the engine's DNS
      slots: new Slots(o.containerStartConcurrency ?? Math.max(2, 2 * availableParallelism())),
      resolvConf: clusterDNS ? (pod) => (this.dns.port && this.proxy ? this.dns.resolvConfMount(pod) : undefined) : undefined,
    });
    this.podWorkers = new PodWorkers({
      limit: o.podSyncConcurrency ?? 32,
      sync: (uid) => this.syncPodByUid(uid),
      onError: (uid, e) => {
        const p = this.pods.get(uid)?.metadata;
        this.log.error(`pod ${p ? `${p.namespace}/${p.name}` : uid}: ${(e as Error).message}`);
      },
    });
    this.shipper = new LogShipper(o.runtime, o.api);
    this.stats = new StatsCollector({ runtime: o.runtime, nodeName: o.nodeName });
    this.streams = new StreamServer({
      runtime: o.runtime,
      pods: {
        pod: (namespace, name) => [...this.pods.values()].find((p) => p.metadata.namespace === namespace && p.metadata.name === name),
        containers: (pod) => this.worker.containers(pod),
      },
      // resource usage for metrics.k8s.io and the HPA, read only when the control plane asks (agent/stats)
      stats: () => this.stats.summary(),
      log: this.log,
    });
    this.podNet = new PodNetworkSetup(o.runtime, { podCIDR: o.podCIDR, bridge: o.podBridge, networkName: o.podNetworkName, dataDir: o.dataDir }, this.log);
    this.prober = new Prober(
      runtime,
      this.worker.probes,
      async (id, grace, why) => {
        this.log(`${why}: stopping container ${id.slice(0, 12)} (grace ${grace}s)`);
        await runtime.stop(id, grace);
      },
      this.events,
    );
  }

  /**
   * The node's pod network once set up (subnet, gateway 10.42.N.1, bridge), from
   * --pod-cidr or else the Node's spec.podCIDR: the one source for the node-local DNS
   * server's address and kube-proxy's local pod CIDR and DNS target.
   */
  get podNetwork(): PodNetwork | undefined {
    return this.podNet.network;
  }

  private logger?: Logger;
  /**
   * The agent's log: a Logger given as `log` (agent/main.ts, node/main.ts) gets the
   * component and node as fields; a plain function gets "[agent NAME] " before each line.
   */
  private get log(): Logger {
    this.logger ??= asLogger(this.o.log ?? ((x: string) => console.log(x)), { component: "agent", node: this.o.nodeName }, `[agent ${this.o.nodeName}] `);
    return this.logger;
  }

  async start(): Promise<void> {
    this.runtimeVersion = await this.o.runtime.version();
    await this.register();
    await this.renewLease();
    if (this.o.hostGw) await this.routes();
    this.loops = [
      this.leaseLoop(),
      this.watchLoop(),
      this.syncLoop(),
      this.engineEventLoop(),
      this.logLoop(),
      runInformers(this.informers, this.ac.signal),
      this.provisioner.run(this.ac.signal),
    ];
    this.dns.start();
    if (this.o.tunnel !== false) {
      this.tunnel = new TunnelClient({ ...this.o.api.credentials, nodeName: this.o.nodeName, streams: this.streams, log: this.log });
      this.tunnel.start();
    }
    if (this.o.kubeProxy) {
      this.proxy = new ServiceProxy({
        clusterDNS: this.o.clusterDNS ?? "10.43.0.10",
        onSync: this.o.metrics?.proxySynced, // metrics: kube-proxy's sync_proxy_rules
        ...this.o.kubeProxy,
        informers: this.informers,
        podNetwork: () => this.podNetwork,
        nodeName: this.o.nodeName,
        nodeIPs: [this.o.nodeIP],
        log: this.log,
        localAPI: () => this.relay?.listening?.port,
      });
      this.proxy.start();
      if (this.o.apiRelayPort !== false) {
        const { ApiRelay } = await import("./relay/apirelay");
        const relay = new ApiRelay({
          api: this.o.api,
          nodeName: this.o.nodeName,
          clusterDomain: this.o.clusterDomain,
          port: this.o.apiRelayPort,
          log: this.log,
        });
        this.relay = relay;
        this.loops.push(
          relay.serve(
            () => this.podNetwork?.gateway,
            () => this.proxy?.refresh(),
            this.ac.signal,
          ),
        );
      }
    }
    if (this.o.networkPolicy) {
      this.netpol = new NetworkPolicyController({ ...this.o.networkPolicy, api: this.o.api, nodeName: this.o.nodeName, log: this.log });
      this.netpol.start();
    }
    if (this.o.ingress) {
      const { announceIngress, IngressProxy } = await import("./ingress/proxy");
      const ingress = new IngressProxy({ ...this.o.ingress, api: this.o.api, nodeName: this.o.nodeName, informers: this.informers, log: this.log });
      try {
        await ingress.start();
        this.ingress = ingress;
      } catch (e) {
        await ingress.stop();
        this.log(`ingress: not serving: ${(e as Error).message}`);
        await announceIngress(this.o.api, this.o.nodeName, null, this.log);
      }
    } else if (this.o.ingress === false && this.node?.metadata?.annotations?.["kubeflare.dev/ingress-proxy"] !== undefined) {
      // (INGRESS_PROXY_ANNOTATION) a proxy this node ran before: no longer announced; none: nothing to load or remove
      await (await import("./ingress/proxy")).announceIngress(this.o.api, this.o.nodeName, null, this.log);
    }
    this.log(`registered; runtime ${this.runtimeVersion}`);
  }

  async stop(): Promise<void> {
    this.ac.abort();
    this.watched.stop();
    this.wake?.();
    // kube-proxy's rules stay in the kernel (Services keep working across agent restarts); uninstall removes them
    await Promise.allSettled([
      ...this.loops,
      this.podWorkers.close(),
      ...this.terminating.values(),
      this.dns.stop(),
      this.proxy?.stop(),
      this.netpol?.stop(),
      this.relay?.stop(),
      this.ingress?.stop(),
      this.tunnel?.stop(),
    ]);
    // the last events (Killing on a deletion) are small writes: let them land before the client closes
    await Promise.race([this.events.settled(), new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  // ---------------------------------------------------------------- node and lease

  /**
   * Post the Node's status (creating the Node if it is missing). The PUT carries the
   * Node last written or read; a 409 (someone else changed it: node-ipam's podCIDR, the
   * node controller's taints) or a 404 reads it again first.
   */
  private async register(): Promise<void> {
    const path = `/api/v1/nodes/${this.o.nodeName}`;
    const status = this.currentStatus();
    // a condition that did not change keeps the time it last did (Kubernetes' lastTransitionTime)
    const put = (node: KObject) => {
      const before: any[] = node.status?.conditions ?? [];
      const conditions = status.conditions.map((c: any) => {
        const prev = before.find((p) => p?.type === c.type);
        return prev?.status === c.status && prev.lastTransitionTime ? { ...c, lastTransitionTime: prev.lastTransitionTime } : c;
      });
      return this.o.api.requestUrgent<KObject>("PUT", `${path}/status`, { ...node, status: { ...node.status, ...status, conditions } });
    };
    let written: KObject | undefined;
    if (this.node) {
      try {
        written = await put(this.node);
      } catch (e) {
        if (!(e instanceof ApiRequestError && (e.status === 409 || e.status === 404))) throw e;
      }
    }
    if (!written) {
      const existing = await this.o.api.find(path, { urgent: true });
      written = existing
        ? await put(existing)
        : await this.o.api.requestUrgent<KObject>("POST", "/api/v1/nodes", {
            apiVersion: "v1",
            kind: "Node",
            metadata: { name: this.o.nodeName, labels: nodeLabels(this.o.nodeName, this.o.labels) },
            spec: {},
            status,
          });
    }
    this.node = written;
    this.statusWritten = { essence: nodeStatusEssence(status), at: Date.now() };
    await this.podNet.fromNode(written);
  }

  private currentStatus = () => nodeStatus({ nodeIP: this.o.nodeIP, runtimeVersion: this.runtimeVersion, dataDir: this.o.dataDir, now: new Date() });

  /**
   * Renew the node's Lease: one PUT of the Lease this agent holds (its resourceVersion),
   * as kubelet's lease controller does; the Lease is read again only when that PUT is
   * refused (409: changed by someone else; 404: deleted) or none is held yet.
   */
  private async renewLease(): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.o.nodeName}`;
    const spec = { holderIdentity: this.o.nodeName, leaseDurationSeconds: this.leaseSeconds(this.hubVouches), renewTime: rfc3339Micro(new Date()) };
    // on the urgent connection: a renewal queued behind pod status writes on a slow server arrives too late
    const put = (lease: KObject) => this.o.api.requestUrgent<KObject>("PUT", path, { ...lease, spec: { ...lease.spec, ...spec } });
    if (this.lease) {
      try {
        this.lease = await put(this.lease);
        return;
      } catch (e) {
        if (!(e instanceof ApiRequestError && (e.status === 409 || e.status === 404))) throw e;
      }
    }
    const lease = await this.o.api.find(path, { urgent: true });
    this.lease = lease
      ? await put(lease)
      : await this.o.api.requestUrgent<KObject>("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: this.o.nodeName },
          spec,
        });
  }

  private get leaseDurationSeconds() {
    return this.o.leaseDurationSeconds ?? 40;
  }

  /** when the control plane last answered this node's heartbeat (0: not on this connection) */
  private pongAt = 0;
  /** wakes the lease loop early (the heartbeat started or stopped) */
  private wakeLease?: () => void;

  /**
   * The control plane vouches for this node's liveness: it answered a heartbeat within
   * half a lease duration (the Worker's watch hub does; the Node server does not answer).
   */
  private get hubVouches(): boolean {
    return this.pongAt > 0 && Date.now() - this.pongAt < (this.leaseDurationSeconds * 1000) / 2;
  }

  /** how long the Lease says it lasts: the renewal interval too when the hub vouches, so the Lease never looks lapsed */
  private leaseSeconds(vouched: boolean): number {
    return vouched ? Math.ceil(this.hubLeaseIntervalMs / 1000) + this.leaseDurationSeconds : this.leaseDurationSeconds;
  }

  private get hubLeaseIntervalMs(): number {
    return this.o.hubLeaseIntervalMs ?? 10 * 60_000;
  }

  /**
   * Renew the Lease every 10 s; post the Node's status only when it changed, every
   * 5 minutes regardless (kubelet's nodeStatusReportFrequency), or when renewals stopped
   * for longer than the lease lasts (the node controller has then marked the Node
   * Unknown, and the status says Ready again).
   *
   * While the Worker's watch hub answers this node's heartbeats, it vouches for the
   * node's liveness and node lifecycle takes that as renewal: the Lease is then renewed
   * only every 10 minutes (hubLeaseIntervalMs), its leaseDurationSeconds covering the
   * interval, and at once when the heartbeat starts or stops.
   */
  private async leaseLoop(): Promise<void> {
    let failures = 0;
    /** when the last renewal that went through was sent (about its renewTime) */
    let renewedAt = Date.now();
    let renewedVouched = false;
    while (!this.ac.signal.aborted) {
      const interval = renewedVouched && this.hubVouches ? this.hubLeaseIntervalMs : (this.o.leaseIntervalMs ?? LEASE_RENEW_MS);
      await sleep(failures ? Math.min(30_000, 1000 * 2 ** failures) : jitter(interval), this.ac.signal, (wake) => (this.wakeLease = wake));
      this.wakeLease = undefined;
      if (this.ac.signal.aborted) break;
      const vouched = this.hubVouches;
      // woken early, with nothing changed (a heartbeat that keeps being answered): sleep on
      if (!failures && vouched && renewedVouched && Date.now() - renewedAt < this.hubLeaseIntervalMs * 0.9) continue;
      try {
        // the control plane's view: the Lease lapsed if this renewal lands more than its duration after the
        // previous one's renewTime (when that was sent), however soon the previous PUT was answered
        const sent = Date.now();
        await this.renewLease();
        const lapsed = Date.now() - renewedAt > this.leaseSeconds(renewedVouched) * 1000;
        renewedAt = sent;
        renewedVouched = vouched;
        const changed = nodeStatusEssence(this.currentStatus()) !== this.statusWritten?.essence;
        if (lapsed || changed || Date.now() - (this.statusWritten?.at ?? 0) > NODE_STATUS_REPORT_MS) await this.register();
        if (this.o.hostGw) await this.routes();
        failures = 0;
      } catch (e) {
        failures++;
        this.log(`lease renewal failed (${failures}): ${(e as Error).message}`);
      }
    }
  }

  /** host-gw: the routes to the other nodes' pod networks, from the Node list */
  private async routes(): Promise<void> {
    try {
      const nodes = await this.o.api.request<{ items: KObject[] }>("GET", "/api/v1/nodes");
      for (const e of await syncRoutes(this.o.nodeName, nodes.items, this.o.clusterCIDR)) this.log(`host-gw: ${e}`);
    } catch (e) {
      this.log.warn(`host-gw: listing nodes failed: ${(e as Error).message}`);
    }
  }

  private async logLoop(): Promise<void> {
    while (!this.ac.signal.aborted) {
      await sleep(this.o.logIntervalMs ?? 2000, this.ac.signal);
      if (this.ac.signal.aborted || !this.listed) continue;
      try {
        await this.shipper.ship([...this.pods.values()], this.listing);
      } catch (e) {
        this.log.warn(`log shipping failed: ${(e as Error).message}`);
      }
    }
  }

  // ---------------------------------------------------------------- pods

  private background(uid: string, work: () => Promise<void>): void {
    const p = work()
      .catch((e) => this.log.error(`stopping pod ${uid}: ${(e as Error).message}`))
      .finally(() => this.terminating.delete(uid));
    this.terminating.set(uid, p);
  }

  private podsPath = () => `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${this.o.nodeName}`)}`;

  /**
   * List, then watch from the list's revision over a WebSocket that stays open: a
   * watch that ends or breaks resumes from the last resourceVersion (with back-off); a
   * 410 lists again. This watch carries the node's heartbeat: a "ping" every quarter of
   * the lease duration, which the Worker's watch hub answers itself ("pong") and counts
   * as the node's liveness (see leaseLoop).
   */
  private async watchLoop(): Promise<void> {
    let failures = 0;
    while (!this.ac.signal.aborted) {
      try {
        const list = await this.o.api.request<{ metadata: { resourceVersion: string }; items: KObject[] }>("GET", this.podsPath());
        this.pods.clear();
        for (const p of list.items) this.pods.set(p.metadata.uid!, p);
        this.listed = true;
        this.wake?.();
        failures = 0;
        let rv = list.metadata.resourceVersion;
        const heartbeat = {
          pingMs: (this.leaseDurationSeconds * 1000) / 4,
          onPong: () => {
            const vouched = this.hubVouches;
            this.pongAt = Date.now();
            if (!vouched) this.wakeLease?.();
          },
        };
        await resumeWatch(
          (onEvent) =>
            this.o.api.watch(this.podsPath(), rv, onEvent, this.ac.signal, undefined, heartbeat).finally(() => {
              // the heartbeat stops with the socket: the Lease carries liveness again until it is back
              if (this.pongAt) {
                this.pongAt = 0;
                this.wakeLease?.();
              }
            }),
          (ev) => this.podEvent(ev, (v) => (rv = v)),
          this.ac.signal,
          (n, e) => this.log(`pod watch broke (${n}), resuming: ${e.message}`),
        );
      } catch (e) {
        if (this.ac.signal.aborted) return;
        failures++;
        if (!(e instanceof ApiRequestError && e.status === 410)) this.log.warn(`pod watch failed (${failures}): ${(e as Error).message}`);
        await sleep(watchBackoffMs(failures), this.ac.signal);
      }
    }
  }

  private podEvent(ev: WatchEvent, setRv: (rv: string) => void): void {
    if (ev.object.metadata.resourceVersion) setRv(ev.object.metadata.resourceVersion);
    if (ev.type === "BOOKMARK") return;
    const uid = ev.object.metadata.uid!;
    // our own status write may have put a newer copy here than an event still in flight
    const have = Number(this.pods.get(uid)?.metadata.resourceVersion ?? 0);
    if (ev.type === "DELETED") {
      this.pods.delete(uid);
      this.settled.delete(uid);
      // a pass removes what the pod left behind (from a fresh listing)
      this.engineDirty = true;
      this.wake?.();
    } else {
      const before = this.pods.get(uid);
      if (!before) trace(uid, "agent-watch");
      if (Number(ev.object.metadata.resourceVersion ?? 0) >= have) this.pods.set(uid, ev.object);
      // a new pod, or one whose spec, labels or deletion changed: its worker, right away (not
      // the next pass); not a change of status only, such as this agent's own write (kubelet's
      // config source ignores those too)
      if (this.listed && (!before || podEssence(before) !== podEssence(ev.object))) {
        this.engineDirty = true;
        this.podWorkers.update(uid);
      }
    }
  }

  private async syncLoop(): Promise<void> {
    while (!this.ac.signal.aborted) {
      if (this.listed) {
        try {
          await this.syncAll();
        } catch (e) {
          this.log.error(`sync failed: ${(e as Error).message}`);
        }
        // event counts held back by the patch interval go out once it has passed
        this.events.flush();
      }
      // a container that died and is not listed as exited yet: soon again
      await sleep(this.died.size ? DIED_RELIST_MS : (this.o.syncIntervalMs ?? 1000), this.ac.signal, (wake) => (this.wake = wake));
      this.wake = undefined;
    }
  }

  /**
   * Follow the engine's events (runtime.events; Docker): while the stream is open the
   * pass lists the engine only after an event, after the agent's own changes, or every
   * ENGINE_RELIST_MS, where it listed every second (an idle node's main cost). A
   * container that died starts a pass at once. A stream that breaks (the engine
   * restarted) leaves the pass listing every second until it is open again (back-off).
   */
  private async engineEventLoop(): Promise<void> {
    const events = this.o.runtime.events?.bind(this.o.runtime);
    if (!events) return;
    let failures = 0;
    while (!this.ac.signal.aborted) {
      let openedAt = 0;
      try {
        await events(
          { [LABELS.node]: this.o.nodeName },
          {
            open: () => {
              openedAt = Date.now();
              // whatever happened before the subscription is in the next listing
              this.engineDirty = true;
              this.engineEvents = true;
            },
            event: (e) => this.engineEvent(e),
          },
          this.ac.signal,
        );
        if (!this.ac.signal.aborted) this.log.warn("engine event stream ended; listing the engine every pass until it is back");
      } catch (e) {
        if (this.ac.signal.aborted) break;
        this.log.warn(`engine event stream failed; listing the engine every pass until it is back: ${(e as Error).message}`);
      }
      this.engineEvents = false;
      this.engineDirty = true;
      // a stream that stayed open a while starts the back-off over
      failures = openedAt && Date.now() - openedAt > 60_000 ? 1 : failures + 1;
      await sleep(watchBackoffMs(failures), this.ac.signal);
    }
    this.engineEvents = false;
  }

  /** An engine event: the next pass lists the engine; a container's death starts one now. */
  private engineEvent(e: EngineEvent): void {
    this.engineDirty = true;
    if (e.action === "die" || e.action === "oom") {
      this.died.set(e.id, Date.now() + DIED_WAIT_MS);
      this.wake?.();
    }
  }

  /**
   * One pass: the engine listed once (with its events, only when something changed),
   * every desired pod handed to its worker (which syncs it a step further and writes its
   * status when done, in parallel with other pods), containers of unknown pods removed.
   * The pass does not wait for the syncs. A pass sooner than syncIntervalMs after the
   * last full one (woken by a death or a deletion) hands on only the pods whose
   * containers changed.
   */
  async syncAll(): Promise<void> {
    // no pod network yet: look for the podCIDR the control plane gives the Node every few seconds, not only at lease renewals
    if (!this.podNet.network && Date.now() - this.podCIDRCheckedAt > 5000) {
      this.podCIDRCheckedAt = Date.now();
      const node = await this.o.api.find(`/api/v1/nodes/${this.o.nodeName}`).catch(() => null);
      // the freshest copy also makes the next status post a compare-and-swap that holds
      if (node) this.node = node;
      await this.podNet.fromNode(node);
    }
    // the engine listed again unless its events say nothing changed since the last listing
    const relist = !this.engineEvents || this.engineDirty || Date.now() - this.listedAt >= (this.o.engineRelistMs ?? ENGINE_RELIST_MS);
    const before = this.fingerprints;
    if (relist) await this.relist();
    // every pod to its worker, but a settled one only when it or its containers changed or its resync is due
    const at = Date.now();
    const full = at - this.fullPassAt >= (this.o.syncIntervalMs ?? 1000) * 0.9;
    if (full) this.fullPassAt = at;
    for (const [uid, pod] of this.pods) {
      const containers = this.fingerprints.get(uid) ?? "";
      if (!full && containers === (before.get(uid) ?? "")) continue;
      const s = this.settled.get(uid);
      if (s && at < s.until && s.rv === (pod.metadata.resourceVersion ?? "") && s.containers === containers) continue;
      this.settled.delete(uid);
      this.podWorkers.update(uid);
    }
  }

  /**
   * List the engine once for the pods' syncs (the pod worker re-lists pods changed since
   * it began); forget the probe state of containers that ended, and remove containers of
   * pods no longer bound here.
   */
  private async relist(): Promise<void> {
    this.engineDirty = false;
    this.listedAt = Date.now();
    const all = await this.worker.listAll();
    const previous = this.listing;
    this.listing = all;
    this.o.metrics?.containers(all); // metrics: kubelet_running_pods, kubelet_running_containers
    this.fingerprints = containerFingerprints(all);
    // containers an event said died: until the listing says so too, another pass soon (Docker's listing can lag its events)
    if (this.died.size) {
      const byId = new Map(all.map((c) => [c.id, c]));
      for (const [id, until] of this.died) {
        const c = byId.get(id);
        if (!c || c.state === "exited" || Date.now() > until) this.died.delete(id);
      }
      if (this.died.size) this.engineDirty = true;
    }
    // probe state of containers that stopped or went away goes with them (a restart is a new container)
    const now = new Set(all.map((c) => c.id));
    for (const c of all) if (c.state === "exited") this.prober.forget(c.id);
    for (const c of previous) if (!now.has(c.id)) this.prober.forget(c.id);
    // containers whose pod is gone from this node
    const uids = new Set(all.map((c) => c.labels[LABELS.podUid]).filter(Boolean));
    for (const uid of uids) {
      if (this.pods.has(uid) || this.terminating.has(uid)) continue;
      // a pod deleted while its worker still syncs it is removed on a later pass (which lists again)
      if (this.podWorkers.busy(uid)) this.engineDirty = true;
      else {
        this.log(`removing containers of pod ${uid}, which is no longer bound here`);
        this.background(uid, async () => {
          await this.worker.teardown(uid, 2);
          this.lastStatus.delete(uid);
          this.finishedAt.delete(uid);
          this.settled.delete(uid);
        });
      }
    }
  }

  /** The pod worker's sync: the pod as known now (a newer update is coalesced into this sync). */
  private async syncPodByUid(uid: string): Promise<void> {
    const pod = this.pods.get(uid);
    if (pod) await this.syncPod(pod);
  }

  private async syncPod(pod: KObject): Promise<void> {
    const uid = pod.metadata.uid!;
    const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
    if (pod.metadata.deletionTimestamp) {
      if (this.terminating.has(uid)) return;
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      // SIGTERM, up to the grace period, SIGKILL, then confirm: in the background, so other pods go on
      this.background(uid, async () => {
        await this.worker.teardown(uid, grace, pod);
        try {
          await this.o.api.request("DELETE", path, { gracePeriodSeconds: 0, preconditions: { uid } });
        } catch (e) {
          if (!(e instanceof ApiRequestError && (e.status === 404 || e.status === 409))) throw e;
        }
        this.pods.delete(uid);
        this.lastStatus.delete(uid);
        this.finishedAt.delete(uid);
        this.settled.delete(uid);
      });
      return;
    }
    // a finished pod is left alone once its final status has had a few seconds to settle (Docker's OOM flag comes late)
    if (["Succeeded", "Failed"].includes(pod.status?.phase) && this.lastStatus.has(uid)) {
      const since = this.finishedAt.get(uid) ?? Date.now();
      this.finishedAt.set(uid, since);
      if (Date.now() - since > 10_000) return;
    }
    const syncStart = Date.now(); // metrics
    trace(uid, "sync");
    const status = await this.worker.sync(pod);
    trace(uid, "synced");
    this.o.metrics?.podSynced(pod, status, syncStart); // metrics: pod worker duration, pod start
    // probes for running containers (the pod's containers listed only for a pod that has probes)
    let listed: Map<string, ContainerInfo[]> | undefined;
    const containers = async () => (listed ??= await this.worker.containers(pod));
    for (const c of pod.spec?.containers ?? []) {
      if (!(c.livenessProbe || c.readinessProbe || c.startupProbe)) continue;
      const inst = (await containers()).get(c.name)?.[0];
      if (inst?.state === "running" && (c.livenessProbe || c.readinessProbe || c.startupProbe)) {
        const info = await this.worker.detail(inst);
        if (info) this.prober.tick(pod, c, info, status.podIP ?? this.o.nodeIP);
      }
    }
    const text = JSON.stringify(status);
    const settle = () => {
      const now = this.pods.get(uid);
      if (!now || !settledPod(now, status)) return this.settled.delete(uid);
      const period = Math.min(SETTLED_RESYNC_MS, this.o.syncFrequencyMs ?? SETTLED_RESYNC_MS);
      this.settled.set(uid, { rv: now.metadata.resourceVersion ?? "", containers: this.fingerprints.get(uid) ?? "", until: Date.now() + jitter(period) });
    };
    // write when what we see changed, or when the pod's status on the server no longer says
    // what we wrote (the node controller marks pods NotReady while a node is unreachable)
    if (this.lastStatus.get(uid) === text && statusEssence(status) === statusEssence(pod.status)) {
      settle();
      return;
    }
    // a status that says a container terminated comes after that container's last output
    // (kubelet reads logs from the engine; this agent ships them every few seconds)
    const terminated = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])].some((c: any) => c.state?.terminated);
    if (terminated)
      await this.shipper.shipPod(pod, [...(await containers()).values()].flat()).catch((e) => this.log.warn(`log shipping failed: ${(e as Error).message}`));
    try {
      trace(uid, `put ${status.phase}`);
      const written = await this.o.api.request<KObject>("PUT", `${path}/status`, { ...pod, status });
      trace(uid, "put-done");
      // unless a watch event brought a newer copy (or the deletion) while the write was out
      const have = this.pods.get(uid);
      if (have && Number(written.metadata.resourceVersion ?? 0) >= Number(have.metadata.resourceVersion ?? 0)) this.pods.set(uid, written);
      this.lastStatus.set(uid, text);
      settle();
    } catch (e) {
      if (e instanceof ApiRequestError && e.status === 409) {
        const fresh = await this.o.api.find(path);
        if (fresh) this.pods.set(uid, fresh);
        return;
      }
      if (e instanceof ApiRequestError && e.status === 404) {
        this.pods.delete(uid);
        return;
      }
      throw e;
    }
  }
}
