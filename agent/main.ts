/**
 * `kubeflare-agent`: join this machine to a Kubeflare cluster and run its pods.
 *
 *   kubeflare-agent join --server URL --token JOIN_TOKEN [--name N] [--labels k=v,...] [--runtime docker|containerd|auto] [--ca-file F] [--config F] [--force-replace]
 *   kubeflare-agent run [--config F]
 *   kubeflare-agent install [--config F] [--print]
 *   kubeflare-agent uninstall [--config F]
 *   kubeflare-agent status [--config F] [-o json]
 *   kubeflare-agent token create --kubeconfig F [--ttl 24h] [--usages authentication] [--max-nodes 1] [--allow-replace NODE]
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createLogger, logFlags } from "../shared/log";
import { nthAddress, parseCidr } from "../shared/net/cidr";
import { nodeMaySetLabel } from "../shared/nodelabels";
import { NodeAgent } from "./agent";
import { ApiClient, ApiRequestError } from "./api";
import { podNetwork } from "./network/cidr";
import { dnsFlags } from "./dns/node";
import type { Upstream } from "./dns/server";
import { defaultNodeIP } from "./node";
import { kubeProxySetting } from "./proxy/service-proxy";
import { ingressPorts } from "./ingress/flags";
import { pickRuntime } from "./runtime/pick";
import { removeKubeProxy, uninstallNode } from "./uninstall";

export interface AgentConfig {
  server: string;
  nodeName: string;
  token: string;
  caPem?: string;
  runtime: "docker" | "containerd";
  labels?: Record<string, string>;
  nodeIP?: string;
  dataDir: string;
  /** the pod sandbox image (default registry.k8s.io/pause:3.10) */
  pauseImage?: string;
  /** seconds between refreshes of ConfigMap/Secret volumes (kubelet's --sync-frequency, default 60) */
  syncFrequencySeconds?: number;
  /** the node's podCIDR (--pod-cidr), for boxes whose control plane gives none; else the Node's spec.podCIDR */
  podCIDR?: string;
  /** the pod network's Linux bridge (default kf0) and Docker network name (default kubeflare) */
  podBridge?: string;
  podNetworkName?: string;
  /** --host-gw: route the other nodes' podCIDRs via their InternalIPs (boxes on one LAN), within --cluster-cidr (default 10.42.0.0/16) */
  hostGw?: boolean;
  clusterCIDR?: string;
  /** the cluster DNS Service IP for pods' resolv.conf (default the 10th address of serviceCIDR: 10.43.0.10; "" for the engine's DNS) */
  clusterDNS?: string;
  /** the cluster's Service range (--service-cidr, default 10.43.0.0/16): kube-proxy's relay of the `kubernetes` Service and its drop of unallocated ClusterIPs */
  serviceCIDR?: string;
  /** default cluster.local */
  clusterDomain?: string;
  /** where the node-local DNS server forwards other names (default the host's /etc/resolv.conf nameservers) */
  dnsUpstreams?: Upstream[];
  /** false: no kube-proxy on this node (join/run --no-kube-proxy) */
  kubeProxy?: boolean;
  /** false: no ingress proxy (--no-ingress); its ports otherwise (--ingress-http-port, --ingress-https-port; default 80, 443) */
  ingress?: false | { httpPort?: number; httpsPort?: number };
  /** serve the agent's metrics (kubelet's and kube-proxy's) at http://ADDR/metrics (--metrics-bind-address); off when unset */
  metricsBindAddress?: string;
}

const DEFAULT_CONFIG = "/etc/kubeflare/agent.json";

class CliError extends Error {}

const fail = (msg: string): never => {
  throw new CliError(msg);
};

const parseLabels = (s: string | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const part of (s ?? "").split(",").filter(Boolean)) {
    const i = part.indexOf("=");
    if (i <= 0) fail(`--labels: "${part}" is not key=value`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  // the control plane refuses these on a node's own Node (NodeRestriction): say so before joining
  const refused = Object.keys(out).filter((k) => !nodeMaySetLabel(k));
  if (refused.length) {
    fail(
      `--labels: a node may not set ${refused.join(", ")} on itself (kubernetes.io and k8s.io labels other than kubelet's, such as node-role.kubernetes.io/*, are for admins: kubectl label node <name> ...)`,
    );
  }
  return out;
};

const parseDuration = (s: string, flag = "--ttl"): number => {
  const m = /^(\d+)(s|m|h|d)?$/.exec(s);
  if (!m) return fail(`${flag}: "${s}" is not a duration such as 30s, 30m, 24h or 7d`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? "s") as "s"];
};

const loadConfig = (path: string): AgentConfig => {
  if (!existsSync(path)) fail(`no agent config at ${path}: run "kubeflare-agent join" first (or pass --config)`);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as AgentConfig;
  } catch (e) {
    return fail(`cannot read ${path}: ${(e as Error).message}`);
  }
};

const reachable = async (server: string, caPem?: string) => {
  const api = new ApiClient({ server, token: "", caPem, timeoutMs: 10_000 });
  try {
    await api.request("GET", "/version");
  } catch (e) {
    const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    fail(`cannot reach ${server}: ${err.code ?? err.cause?.code ?? err.cause?.message ?? err.message}`);
  } finally {
    await api.close();
  }
};

async function join(v: Record<string, any>): Promise<void> {
  const server = String(v.server ?? fail("--server is required")).replace(/\/$/, "");
  const token = String(v.token ?? fail("--token is required (create one with: kubeflare-agent token create --kubeconfig ...)"));
  const nodeName = String(v.name ?? hostname()).toLowerCase();
  const syncFrequencySeconds = v["sync-frequency"] ? parseDuration(String(v["sync-frequency"]), "--sync-frequency") : undefined;
  if (v["pod-bridge"] && !/^[A-Za-z0-9_.-]{1,15}$/.test(String(v["pod-bridge"])))
    fail(`--pod-bridge: "${v["pod-bridge"]}" is not a Linux interface name (1-15 letters, digits, _ . -)`);
  for (const flag of ["pod-cidr", "cluster-cidr"]) {
    if (!v[flag]) continue;
    try {
      podNetwork(String(v[flag]), { cniDataDir: "" });
    } catch (e) {
      fail(`--${flag}: ${(e as Error).message}`);
    }
  }
  if (v["service-cidr"] && !parseCidr(String(v["service-cidr"])))
    fail(`--service-cidr: must be an IPv4 CIDR with its host bits zero (like 10.43.0.0/16), got "${v["service-cidr"]}"`);
  const labels = parseLabels(v.labels);
  const ingress = v["no-ingress"] ? (false as const) : v["ingress-http-port"] || v["ingress-https-port"] ? checkedIngress(v) : undefined;
  const dns = checkedDnsFlags(v);
  const metricsBindAddress = await checkedMetricsAddress(v["metrics-bind-address"]);
  const caPem = v["ca-file"] ? readFileSync(String(v["ca-file"]), "utf8") : undefined;
  const configPath = resolve(String(v.config ?? DEFAULT_CONFIG));
  const dataDir = resolve(String(v["data-dir"] ?? (configPath.startsWith("/etc/") ? "/var/lib/kubeflare-agent" : `${dirname(configPath)}/agent-data`)));
  const picked = await pickRuntime(String(v.runtime ?? "auto"), dataDir);
  const version = picked.version;
  await reachable(server, caPem);
  const api = new ApiClient({ server, token, caPem });
  let cred: { token: string; nodeName: string };
  try {
    cred = await api.request("POST", "/apis/kubeflare.dev/v1/join", { nodeName, ...(v["force-replace"] ? { forceReplace: true } : {}) });
  } catch (e) {
    if (e instanceof ApiRequestError && e.status === 401) return fail(`the server refused the join token: ${e.message}`);
    if (e instanceof ApiRequestError && (e.status === 409 || e.status === 403)) return fail(`the server refused to join "${nodeName}": ${e.message}`);
    throw e;
  } finally {
    await api.close();
  }
  const config: AgentConfig = {
    server,
    nodeName: cred.nodeName,
    token: cred.token,
    ...(caPem ? { caPem } : {}),
    runtime: picked.name,
    labels,
    ...(v["node-ip"] ? { nodeIP: String(v["node-ip"]) } : {}),
    dataDir,
    ...(v["pause-image"] ? { pauseImage: String(v["pause-image"]) } : {}),
    ...(syncFrequencySeconds !== undefined ? { syncFrequencySeconds } : {}),
    ...(v["pod-cidr"] ? { podCIDR: String(v["pod-cidr"]) } : {}),
    ...(v["pod-bridge"] ? { podBridge: String(v["pod-bridge"]) } : {}),
    ...(v["pod-network-name"] ? { podNetworkName: String(v["pod-network-name"]) } : {}),
    ...(v["host-gw"] ? { hostGw: true } : {}),
    ...(v["cluster-cidr"] ? { clusterCIDR: String(v["cluster-cidr"]) } : {}),
    ...(v["service-cidr"] ? { serviceCIDR: String(v["service-cidr"]) } : {}),
    ...dns,
    ...(v["no-kube-proxy"] ? { kubeProxy: false } : {}),
    ...(ingress !== undefined ? { ingress } : {}),
    ...(metricsBindAddress ? { metricsBindAddress } : {}),
  };
  mkdirSync(dirname(configPath), { recursive: true, mode: 0o700 });
  writeFileSync(configPath, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  chmodSync(configPath, 0o600);
  console.log(`joined ${server} as node "${cred.nodeName}" (runtime ${version})`);
  console.log(`config written to ${configPath}; start the agent with: kubeflare-agent run --config ${configPath}`);
}

const checkedIngress = (v: Record<string, any>) => {
  try {
    return ingressPorts(v["ingress-http-port"], v["ingress-https-port"]);
  } catch (e) {
    return fail((e as Error).message);
  }
};

/**
 * The Service range a node works with and the cluster DNS address that follows from it:
 * --cluster-dns if given, else the range's 10th address (as k3s and the server's
 * kube-dns Service: 10.43.0.10 in the default 10.43.0.0/16).
 */
export const serviceDefaults = (c: { clusterDNS?: string; serviceCIDR?: string }): { clusterDNS?: string; serviceCIDR?: string } => {
  const range = c.serviceCIDR ? parseCidr(c.serviceCIDR) : undefined;
  return { serviceCIDR: c.serviceCIDR, clusterDNS: c.clusterDNS ?? (range ? nthAddress(range, 10) : undefined) };
};

const checkedDnsFlags = (v: Record<string, any>) => {
  try {
    return dnsFlags(v);
  } catch (e) {
    return fail((e as Error).message);
  }
};

/**
 * --metrics-bind-address, checked. The listener is off unless asked for: it answers
 * without credentials (as kube-proxy's 127.0.0.1:10249 does), several agents may share
 * a host (a fixed default port would collide), and the address is taken as given, so
 * it is on a non-loopback address only when someone writes one.
 */
const checkedMetricsAddress = async (a: unknown): Promise<string | undefined> => {
  if (a === undefined) return undefined;
  const { parseBindAddress } = await import("./metrics");
  try {
    parseBindAddress(String(a));
  } catch (e) {
    return fail((e as Error).message);
  }
  return String(a);
};

async function run(v: Record<string, any>): Promise<void> {
  let flags: ReturnType<typeof logFlags>;
  try {
    flags = logFlags(v);
  } catch (e) {
    return fail((e as Error).message);
  }
  const log = createLogger({ ...flags, sink: (line, level) => (level === "error" || level === "warn" ? console.error : console.log)(line) });
  // the DNS flags given to run override the config's
  const config = { ...loadConfig(resolve(String(v.config ?? DEFAULT_CONFIG))), ...checkedDnsFlags(v) };
  const metricsAddress = await checkedMetricsAddress(v["metrics-bind-address"] ?? config.metricsBindAddress);
  // metrics (prom-client) are loaded only with --metrics-bind-address
  const metrics = metricsAddress ? new (await import("./metrics")).AgentMetrics() : undefined;
  const { runtime, version } = await pickRuntime(config.runtime ?? "auto", config.dataDir);
  const services = serviceDefaults(config);
  const kubeProxy = kubeProxySetting(!v["no-kube-proxy"] && config.kubeProxy !== false, services.serviceCIDR ? { serviceCIDR: services.serviceCIDR } : {});
  const agent = new NodeAgent({
    api: new ApiClient({ server: config.server, token: config.token, caPem: config.caPem }),
    runtime,
    nodeName: config.nodeName,
    nodeIP: config.nodeIP ?? defaultNodeIP(),
    dataDir: config.dataDir,
    labels: config.labels,
    pauseImage: config.pauseImage,
    syncFrequencyMs: config.syncFrequencySeconds !== undefined ? config.syncFrequencySeconds * 1000 : undefined,
    podCIDR: config.podCIDR,
    podBridge: config.podBridge,
    podNetworkName: config.podNetworkName,
    hostGw: config.hostGw,
    clusterCIDR: config.clusterCIDR,
    clusterDNS: services.clusterDNS,
    clusterDomain: config.clusterDomain,
    dnsUpstreams: config.dnsUpstreams,
    kubeProxy,
    // NetworkPolicy enforcement wherever kube-proxy runs (root, nft), unless --no-network-policy
    ...(kubeProxy && !v["no-network-policy"] ? { networkPolicy: {} } : {}),
    // on by default (ports 80 and 443); the flags given to run override the config's
    ingress:
      v["no-ingress"] || config.ingress === false
        ? false
        : { ...(config.ingress || {}), ...(v["ingress-http-port"] || v["ingress-https-port"] ? checkedIngress(v) : {}) },
    metrics,
    log,
  });
  // metrics from the start: a node that cannot register shows it there too
  if (metrics && metricsAddress) {
    const served = await metrics.serve(metricsAddress);
    log.info(`metrics at http://${served.host.includes(":") ? `[${served.host}]` : served.host}:${served.port}/metrics`);
  }
  // the control plane may be away: keep trying, pods keep running meanwhile
  for (let attempt = 1; ; attempt++) {
    try {
      await agent.start();
      break;
    } catch (e) {
      const wait = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
      log.error(`cannot register with ${config.server} (${(e as Error).message}); retrying in ${Math.round(wait / 1000)} s`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
  log.info(`kubeflare-agent: node "${config.nodeName}" on ${version}, control plane ${config.server}`);
  const stop = async (signal: string) => {
    log.info(`${signal}: stopping (containers keep running)`);
    await agent.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

/**
 * Undo install and what the agent made: the systemd unit; with the agent's config (--config,
 * default /etc/kubeflare/agent.json) the node's containers, the pod network, host-gw routes and
 * kube-proxy's table (agent/uninstall.ts); without one, kube-proxy's table only. Config and data stay.
 */
async function uninstall(v: Record<string, any>): Promise<void> {
  const path = "/etc/systemd/system/kubeflare-agent.service";
  if (existsSync(path)) {
    try {
      execFileSync("systemctl", ["disable", "--now", "kubeflare-agent.service"], { stdio: "inherit" });
    } catch (e) {
      console.error(`systemctl disable: ${(e as Error).message}`);
    }
    rmSync(path);
    console.log(`removed ${path}`);
  }
  const configPath = resolve(String(v.config ?? DEFAULT_CONFIG));
  if (v.config === undefined && !existsSync(configPath)) return removeKubeProxy();
  const errors = await uninstallNode(loadConfig(configPath));
  if (errors.length) fail(`could not remove everything:\n  ${errors.join("\n  ")}`);
}

export const systemdUnit = (configPath: string, execPath: string) => `[Unit]
Description=Kubeflare node agent
Documentation=https://github.com/kubeflare/kubeflare
After=network-online.target docker.service
Wants=network-online.target

[Service]
ExecStart=${execPath} run --config ${configPath}
Restart=always
RestartSec=5
KillMode=process

[Install]
WantedBy=multi-user.target
`;

async function install(v: Record<string, any>): Promise<void> {
  const configPath = resolve(String(v.config ?? DEFAULT_CONFIG));
  const exec = process.argv[1]?.endsWith(".mjs") ? process.argv[1] : "/usr/bin/env npx kubeflare-agent";
  const unit = systemdUnit(configPath, exec);
  if (v.print) {
    process.stdout.write(unit);
    return;
  }
  loadConfig(configPath);
  const path = "/etc/systemd/system/kubeflare-agent.service";
  writeFileSync(path, unit);
  execFileSync("systemctl", ["daemon-reload"], { stdio: "inherit" });
  execFileSync("systemctl", ["enable", "--now", "kubeflare-agent.service"], { stdio: "inherit" });
  console.log(`installed ${path} and started it`);
}

async function status(v: Record<string, any>): Promise<void> {
  const config = loadConfig(resolve(String(v.config ?? DEFAULT_CONFIG)));
  const out: Record<string, unknown> = { server: config.server, nodeName: config.nodeName, runtime: config.runtime, dataDir: config.dataDir };
  try {
    out.runtimeVersion = (await pickRuntime(config.runtime, config.dataDir)).version;
  } catch (e) {
    out.runtimeError = (e as Error).message;
  }
  const api = new ApiClient({ server: config.server, token: config.token, caPem: config.caPem, timeoutMs: 10_000 });
  try {
    const node = await api.get(`/api/v1/nodes/${config.nodeName}`);
    out.ready = node.status?.conditions?.find((c: any) => c.type === "Ready")?.status ?? "Unknown";
    const pods = await api.request("GET", `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${config.nodeName}`)}`);
    out.pods = pods.items.length;
  } catch (e) {
    out.serverError = (e as Error).message;
  } finally {
    await api.close();
  }
  if (v.output === "json") console.log(JSON.stringify(out, null, 2));
  else for (const [k, val] of Object.entries(out)) console.log(`${k.padEnd(15)} ${val}`);
}

async function tokenCreate(v: Record<string, any>): Promise<void> {
  const file = String(v.kubeconfig ?? process.env.KUBECONFIG ?? fail("--kubeconfig is required (an admin kubeconfig)"));
  // loaded here only: `run` never needs a YAML parser in memory
  // (a CommonJS package: bundled with code splitting, its exports come as the default)
  const yaml: any = await import("yaml");
  const parseYaml: (text: string) => any = yaml.parse ?? yaml.default.parse;
  const kc = parseYaml(readFileSync(file, "utf8"));
  const ctx = kc.contexts?.find((c: any) => c.name === kc["current-context"])?.context ?? kc.contexts?.[0]?.context;
  const cluster = kc.clusters?.find((c: any) => c.name === ctx?.cluster)?.cluster;
  const user = kc.users?.find((u: any) => u.name === ctx?.user)?.user;
  if (!cluster?.server || !user?.token) fail(`${file}: need a cluster server and a user token`);
  const caPem = cluster["certificate-authority-data"] ? Buffer.from(cluster["certificate-authority-data"], "base64").toString() : undefined;
  const options: Record<string, unknown> = { ttlSeconds: parseDuration(String(v.ttl ?? "24h")) };
  if (v.usages !== undefined)
    options.usages = String(v.usages)
      .split(",")
      .map((u) => u.trim())
      .filter(Boolean);
  if (v["max-nodes"] !== undefined) {
    if (!/^[1-9]\d*$/.test(String(v["max-nodes"]))) fail(`--max-nodes: "${v["max-nodes"]}" is not a positive whole number`);
    options.maxNodes = Number(v["max-nodes"]);
  }
  if (v["allow-replace"] !== undefined) options.allowReplace = String(v["allow-replace"]).toLowerCase();
  const api = new ApiClient({ server: cluster.server, token: user.token, caPem });
  try {
    const t = await api.request("POST", "/apis/kubeflare.dev/v1/bootstraptokens", options);
    if (v.output === "json") console.log(JSON.stringify(t));
    else {
      console.log(t.token);
      const uses = t.maxNodes === 1 ? "single-use" : `good for ${t.maxNodes} nodes`;
      const replace = t.allowReplace ? ` --name ${t.allowReplace} --force-replace` : "";
      console.error(
        `${uses}, expires ${t.expiration}; join with: kubeflare-agent join --server ${cluster.server} --token ${t.token}${replace}${caPem ? " --ca-file <the cluster's ca.crt>" : ""}`,
      );
    }
  } finally {
    await api.close();
  }
}

const HELP = `Usage: kubeflare-agent <command> [options]

Commands:
  join     --server URL --token TOKEN [--name NAME] [--labels k=v,...] [--runtime docker|containerd|auto]
           [--ca-file FILE] [--node-ip ADDR] [--data-dir DIR] [--pause-image IMAGE] [--sync-frequency 1m]
           [--cluster-dns 10.43.0.10] [--cluster-domain cluster.local] [--dns-upstream IP[:PORT],...]
           [--service-cidr 10.43.0.0/16] [--pod-cidr 10.42.N.0/24] [--pod-bridge kf0] [--pod-network-name kubeflare] [--host-gw [--cluster-cidr 10.42.0.0/16]]
           [--config FILE] [--force-replace] [--no-kube-proxy] [--metrics-bind-address 127.0.0.1:10249]
           [--ingress-http-port 80] [--ingress-https-port 443] [--no-ingress]
           exchange a join token for this node's credential; writes the config (0600).
           A name an existing node has is refused; --force-replace takes it over, and only
           with a token created with --allow-replace NAME
  run      [--config FILE] [--no-kube-proxy] [--no-network-policy] [--metrics-bind-address IP:PORT]
           [--ingress-http-port N] [--ingress-https-port N] [--no-ingress]
                                      the ingress proxy (on by default, ports 80 and 443) serves the
                                      Ingresses of the kubeflare class, routing to Services' pods;
                                      run the agent (register, heartbeat, run pods, and kube-proxy:
                                      nftables rules for Services, table "ip kubeflare"; needs root and nft;
                                      with it, NetworkPolicies are enforced, table "inet kubeflare-netpol",
                                      unless --no-network-policy);
                                      the DNS flags given here override the config's;
                                      --metrics-bind-address serves kubelet's and kube-proxy's metrics
                                      at http://IP:PORT/metrics without credentials (off by default;
                                      use a loopback address such as 127.0.0.1:10249 unless scraped remotely)
           [--log-format text|json] [--log-level error|warn|info|debug] [-v N]
                                      logs, one line per event: readable text (default) or JSON with ts, level,
                                      msg (--logging-format json and -o json too); -v 4 and up include debug
  install  [--config FILE] [--print]  install a systemd unit for "run" (or print it)
  uninstall [--config FILE]           stop and remove the systemd unit; the node's containers, pod network,
                                      host-gw routes and kube-proxy's and network policy's nftables rules
  status   [--config FILE] [-o json]  show the node's state as the control plane sees it
  token create --kubeconfig FILE [--ttl 24h] [--usages authentication] [--max-nodes 1]
           [--allow-replace NODE] [-o json]
           (admin) create a join token: single-use unless --max-nodes says more;
           --allow-replace lets a join with --force-replace take over that existing node

The config defaults to ${DEFAULT_CONFIG}.`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: "string" },
      token: { type: "string" },
      name: { type: "string" },
      labels: { type: "string" },
      runtime: { type: "string" },
      "ca-file": { type: "string" },
      "node-ip": { type: "string" },
      "data-dir": { type: "string" },
      "pause-image": { type: "string" },
      "sync-frequency": { type: "string" },
      "pod-cidr": { type: "string" },
      "host-gw": { type: "boolean" },
      "pod-bridge": { type: "string" },
      "pod-network-name": { type: "string" },
      "cluster-cidr": { type: "string" },
      "cluster-dns": { type: "string" },
      "service-cidr": { type: "string" },
      "cluster-domain": { type: "string" },
      "dns-upstream": { type: "string" },
      config: { type: "string" },
      print: { type: "boolean" },
      kubeconfig: { type: "string" },
      ttl: { type: "string" },
      usages: { type: "string" },
      "max-nodes": { type: "string" },
      "allow-replace": { type: "string" },
      "force-replace": { type: "boolean" },
      "no-kube-proxy": { type: "boolean" },
      "no-network-policy": { type: "boolean" },
      "no-ingress": { type: "boolean" },
      "ingress-http-port": { type: "string" },
      "ingress-https-port": { type: "string" },
      "metrics-bind-address": { type: "string" },
      "log-format": { type: "string" },
      "logging-format": { type: "string" },
      "log-level": { type: "string" },
      v: { type: "string", short: "v" },
      output: { type: "string", short: "o" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [cmd, sub] = positionals;
  try {
    if (values.help || !cmd) {
      console.log(HELP);
      return cmd ? 0 : 2;
    }
    if (cmd === "join") await join(values);
    else if (cmd === "run") await run(values);
    else if (cmd === "install") await install(values);
    else if (cmd === "uninstall") await uninstall(values);
    else if (cmd === "status") await status(values);
    else if (cmd === "token" && sub === "create") await tokenCreate(values);
    else fail(`unknown command "${positionals.join(" ")}" (see --help)`);
    return 0;
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && /agent\/main\.ts$/.test(process.argv[1])) {
  const code = await main(process.argv.slice(2));
  if (code !== 0) process.exit(code);
}
