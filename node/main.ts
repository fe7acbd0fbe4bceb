#!/usr/bin/env node
/**
 * `npm start`: the all-in-one Kubeflare control plane on Node (embedded libSQL file,
 * HTTPS with a generated CA, kubeconfig in the data dir).
 */
import { parseArgs } from "node:util";
import { hostname } from "node:os";
import { join } from "node:path";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import { AgentMetrics } from "../agent/metrics";
import { dnsFlags } from "../agent/dns/node";
import { localAgentNetwork } from "./localagent";
import { defaultNodeIP } from "../agent/node";
import { ingressPorts } from "../agent/ingress/flags";
import { pickRuntime } from "../agent/runtime/pick";
import { createLogger, type Logger, logFlags } from "../shared/log";
import { advertiseAddress, checkNetwork, startServer } from "./server";

const HELP = `Usage: npm start -- [options]

  --port N                  HTTPS port (default 6443)
  --host ADDR               listen address (default 127.0.0.1)
  --data-dir DIR            state, certificates, token and kubeconfig (default ./.kubeflare)
  --tls-san NAME            extra name or IP for the serving certificate (repeatable)
  --tls-cert-file FILE      use your own serving certificate ...
  --tls-private-key-file F  ... and its key
  --db-url URL              use a remote libSQL (sqld/Turso) instead of the embedded file
  --sync full|normal        SQLite synchronous mode for the embedded file (default full)
  --token-auth-file FILE    static bearer tokens, kube-apiserver's format: lines token,user,uid,"group1,group2";
                            users in group system:masters are admins, all others read-only
  --cluster-cidr CIDR       the pod network, a /24 of it per node (default 10.42.0.0/16)
  --service-cidr CIDR       the Services' virtual IPs (default 10.43.0.0/16; kubernetes gets .1, kube-dns .10)
  --advertise-address ADDR  where pods reach the API (the kubernetes Service's endpoint; default: --host when it is a
                            specific non-loopback address, else the first non-loopback IPv4; pods reach it only if the
                            server listens there, e.g. --host 0.0.0.0)
  --max-connections-per-address N
                            open connections one client address may hold (default 200)
  --resync-interval S       controllers' periodic resync, seconds (default 10)
  --node-grace S            a node whose lease is older is unreachable, seconds (default 40; agents renew every 10)
  --toleration-seconds S    how long new pods stay on an unreachable node (default 10; Kubernetes: 300): a dead
                            node's pods run elsewhere within a minute
  --no-agent                don't run a node agent for this machine (default: run one when Docker or containerd is reachable)
  --node-name NAME          this machine's node name (default: the host name)
  --node-ip ADDR            this machine's address (default: its first non-loopback IPv4)
  --pause-image IMAGE       the pod sandbox image of this machine's agent (default registry.k8s.io/pause:3.10)
  --pod-bridge NAME         the Linux bridge of this machine's pod network (default kf0)
  --pod-network-name NAME   its Docker network name (default kubeflare)
  --cluster-dns IP          the cluster DNS address in pods' resolv.conf (default the 10th address of --service-cidr,
                            kube-dns' ClusterIP: 10.43.0.10; "" for the engine's DNS)
  --cluster-domain DOMAIN   the cluster's DNS domain (default cluster.local)
  --dns-upstream IP[:PORT],...
                            where the node-local DNS forwards other names (default: the host's /etc/resolv.conf nameservers)
  --no-kube-proxy           no kube-proxy in this machine's agent (default: nftables rules for Services when root with nft)
  --no-network-policy       no NetworkPolicy enforcement in this machine's agent (default: on wherever kube-proxy runs)
  --ingress-http-port N     the port of this machine's ingress proxy for HTTP (default 80)
  --ingress-https-port N    the port of this machine's ingress proxy for HTTPS (default 443)
  --no-ingress              no ingress proxy in this machine's agent (default: serve Ingresses of the kubeflare class)
  --log-format text|json    one line per event: readable text (default) or JSON with ts, level, msg
                            (also --logging-format, kube components' spelling, and -o json)
  --log-level LEVEL         the least severe level written: error, warn, info (default) or debug
  -v, --v N                 klog verbosity: more detail from 1 up; 4 and more include debug lines
  -h, --help                this text

Environment: LIBSQL_URL / LIBSQL_AUTH_TOKEN (remote database), KUBEFLARE_ADMIN_TOKEN (fixed admin token).`;

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "6443" },
    host: { type: "string", default: "127.0.0.1" },
    "data-dir": { type: "string", default: "./.kubeflare" },
    "tls-san": { type: "string", multiple: true, default: [] },
    "tls-cert-file": { type: "string" },
    "tls-private-key-file": { type: "string" },
    "db-url": { type: "string" },
    sync: { type: "string", default: "full" },
    "token-auth-file": { type: "string" },
    "cluster-cidr": { type: "string" },
    "service-cidr": { type: "string" },
    "advertise-address": { type: "string" },
    "max-connections-per-address": { type: "string", default: "200" },
    "no-agent": { type: "boolean", default: false },
    "no-kube-proxy": { type: "boolean", default: false },
    "no-network-policy": { type: "boolean", default: false },
    "ingress-http-port": { type: "string" },
    "ingress-https-port": { type: "string" },
    "no-ingress": { type: "boolean", default: false },
    "resync-interval": { type: "string", default: "10" },
    "node-grace": { type: "string", default: "40" },
    "toleration-seconds": { type: "string", default: "10" },
    "node-name": { type: "string" },
    "node-ip": { type: "string" },
    "pause-image": { type: "string" },
    "pod-bridge": { type: "string" },
    "pod-network-name": { type: "string" },
    "cluster-dns": { type: "string" },
    "cluster-domain": { type: "string" },
    "dns-upstream": { type: "string" },
    "log-format": { type: "string" },
    "logging-format": { type: "string" },
    output: { type: "string", short: "o" },
    "log-level": { type: "string" },
    v: { type: "string", short: "v" },
    help: { type: "boolean", short: "h", default: false },
  },
  allowPositionals: false,
});

if (values.help) {
  console.log(HELP);
  process.exit(0);
}

let logger: Logger;
try {
  logger = createLogger({ ...logFlags(values), sink: (line, level) => (level === "error" || level === "warn" ? console.error : console.log)(line) });
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`error: --port must be a port number, got "${values.port}"`);
  process.exit(2);
}
let dns: ReturnType<typeof dnsFlags>;
try {
  dns = dnsFlags(values);
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
}
if (values["pod-bridge"] !== undefined && !/^[A-Za-z0-9_.-]{1,15}$/.test(values["pod-bridge"])) {
  console.error(`error: --pod-bridge: "${values["pod-bridge"]}" is not a Linux interface name (1-15 letters, digits, _ . -)`);
  process.exit(2);
}
const sync = String(values.sync).toUpperCase();
if (sync !== "FULL" && sync !== "NORMAL") {
  console.error(`error: --sync must be full or normal, got "${values.sync}"`);
  process.exit(2);
}

const seconds = (name: "resync-interval" | "node-grace" | "toleration-seconds") => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`error: --${name} must be a number of seconds, got "${values[name]}"`);
    process.exit(2);
  }
  return n;
};
const maxConnections = Number(values["max-connections-per-address"]);
if (!Number.isInteger(maxConnections) || maxConnections < 1) {
  console.error(`error: --max-connections-per-address must be a positive integer, got "${values["max-connections-per-address"]}"`);
  process.exit(2);
}
let network: ReturnType<typeof checkNetwork>;
try {
  network = checkNetwork({ clusterCIDR: values["cluster-cidr"], serviceCIDR: values["service-cidr"] });
  advertiseAddress({ advertiseAddress: values["advertise-address"], host: values.host! });
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
}
const resyncSeconds = seconds("resync-interval");
const graceSeconds = seconds("node-grace");
const tolerationSeconds = seconds("toleration-seconds");

try {
  const server = await startServer({
    resyncIntervalMs: resyncSeconds * 1000,
    controllerConfig: { nodeMonitorGracePeriodMs: graceSeconds * 1000, defaultTolerationSeconds: tolerationSeconds },
    port,
    host: values.host!,
    dataDir: values["data-dir"]!,
    dbUrl: values["db-url"] ?? process.env.LIBSQL_URL,
    dbAuthToken: process.env.LIBSQL_AUTH_TOKEN,
    tlsSans: values["tls-san"],
    tlsCertFile: values["tls-cert-file"],
    tlsKeyFile: values["tls-private-key-file"],
    synchronous: sync,
    tokenAuthFile: values["token-auth-file"],
    maxConnectionsPerAddress: maxConnections,
    clusterCIDR: values["cluster-cidr"],
    serviceCIDR: values["service-cidr"],
    advertiseAddress: values["advertise-address"],
    log: logger.with({ component: "kubeflare" }),
  });
  let agent: NodeAgent | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: shutting down`);
    await agent?.stop();
    await server.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));

  // like k3s server: an agent for this machine in the same process, when an engine is reachable
  if (!values["no-agent"]) {
    const picked = await pickRuntime("auto", join(server.dataDir, "agent")).catch((e) => {
      logger.warn(`node agent: ${(e as Error).message}; running the control plane only`);
      return undefined;
    });
    if (picked) {
      const nodeName = (values["node-name"] ?? hostname()).toLowerCase();
      // the local agent holds a node credential like any other, not the admin token
      const cred = await server.registry.nodes.issue(nodeName);
      agent = new NodeAgent({
        api: new ApiClient({ server: server.url, token: cred.token, caPem: server.caPem || undefined }),
        runtime: picked.runtime,
        nodeName,
        nodeIP: values["node-ip"] ?? defaultNodeIP(),
        dataDir: join(server.dataDir, "agent"),
        pauseImage: values["pause-image"],
        podBridge: values["pod-bridge"],
        podNetworkName: values["pod-network-name"],
        ...dns,
        ...localAgentNetwork({ clusterDNS: dns.clusterDNS, noKubeProxy: values["no-kube-proxy"], noNetworkPolicy: values["no-network-policy"] }, network),
        ingress: values["no-ingress"] ? false : ingressPorts(values["ingress-http-port"], values["ingress-https-port"]),
        // its kubelet and kube-proxy metrics are part of the server's /metrics (one process, one set of process metrics)
        metrics: new AgentMetrics({ registry: server.metrics.registry }),
        log: logger,
      });
      await agent.start().catch((e) => {
        logger.error(`node agent: could not start: ${(e as Error).message}`);
        agent = undefined;
      });
      if (agent) logger.info(`node agent: ${nodeName} on ${picked.version}`);
    }
  }
} catch (e) {
  const err = e as NodeJS.ErrnoException;
  // the exit message, plain like the flags' errors (what a user reads when the start fails)
  if (err.code === "EADDRINUSE") console.error(`error: port ${port} on ${values.host} is already in use (try --port)`);
  else console.error(`error: ${err.message}`);
  process.exit(1);
}
