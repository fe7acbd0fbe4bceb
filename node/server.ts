import { attachWatchSockets, isWatchUpgrade } from "./watchsocket";
import { type Http2Bindings, type HttpBindings, serve, type ServerType } from "@hono/node-server";
import type { Client } from "@libsql/client";
import { createPrivateKey, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { hostname, networkInterfaces } from "node:os";
import { join, resolve } from "node:path";
import { asLogger, createLogger, logWarn } from "../shared/log";
import { DEFAULT_NETWORK, type NetworkConfig, networkConfigErrors, nthAddress, parseCidr, parseIPv4 } from "../shared/net/cidr";
import type { Duplex } from "node:stream";
import { ApiError } from "../shared/status";
import { AuthCaches } from "../workers/registry/rbac/service";
import { anyOf, parseTokenFile, staticTokens, type TokenFileEntry } from "../workers/api/auth";
import { composeApp, composeControlPlane } from "../workers/compose";
import { CONTROLLERS } from "../workers/controllers";
import type { ControllerConfig } from "../workers/controllers/context";
import type { Controller, ControllerManager } from "../workers/controllers/manager";
import { InProcessQueue } from "../workers/queue";
import type { Registry } from "../workers/registry/registry";
import type { Store } from "../workers/store/store";
import { CONNECTION_DEFAULTS, limitConnections, stopReading } from "./connections";
import { openDatabase } from "./db";
import { kubeconfigYaml, writeKubeconfig } from "./kubeconfig";
import { type PromControlPlaneMetrics, promMetrics } from "./metrics";
import { ensureTls } from "./tls";
import { NodeTunnels, rejectSocket, type TunnelOptions } from "./upgrade";
import { EXEC_PREFIX, execUpgrade } from "../workers/dashboard/terminal";
import { ResourceMetrics } from "../workers/registry/metrics-resources";

export interface ServerOptions {
  port: number;
  host: string;
  dataDir: string;
  /** libSQL URL; default: the embedded file in the data dir */
  dbUrl?: string;
  dbAuthToken?: string;
  tlsSans?: string[];
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** serve plain HTTP (tests of the wire format only: kubectl sends no token over http) */
  insecureHttp?: boolean;
  synchronous?: "FULL" | "NORMAL";
  compactIntervalMs?: number;
  compactKeepRevisions?: number;
  compactKeepMs?: number;
  maxBodyBytes?: number;
  watchPollMs?: number;
  /** controllers to run in-process (default: all; [] = API only) */
  controllers?: Controller[];
  controllerConfig?: Partial<ControllerConfig>;
  /** period of the controllers' resync (node leases, time-based work, GC sweep); default 10 s */
  resyncIntervalMs?: number;
  /** kube-apiserver's --token-auth-file: CSV `token,user,uid,"group1,group2"`; system:masters are admins, the rest read-only */
  tokenAuthFile?: string;
  /** connection limits; defaults in CONNECTION_DEFAULTS */
  handshakeTimeoutMs?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxConnectionsPerAddress?: number;
  maxHeaderBytes?: number;
  /** the pod network, a /24 per node (default 10.42.0.0/16; k3s' --cluster-cidr) */
  clusterCIDR?: string;
  /** the Services' virtual IPs (default 10.43.0.0/16; kube-apiserver's --service-cluster-ip-range) */
  serviceCIDR?: string;
  /**
   * the address the `kubernetes` Service's endpoints name (kube-apiserver's
   * --advertise-address); default: `host` when it is a specific non-loopback address,
   * else this machine's first non-loopback IPv4
   */
  advertiseAddress?: string;
  /** how long a node's resource usage is reused (default 15 s; tests) */
  metricsCacheMs?: number;
  /** the agents' tunnels: answer timeout, streams per node (tests) */
  tunnel?: Pick<TunnelOptions, "answerTimeoutMs" | "maxStreamsPerNode" | "pingIntervalMs">;
  /** where log lines go: a Logger (shared/log.ts: levels, fields, text or JSON), or a plain function; default text lines on stdout/stderr */
  log?: (msg: string) => void;
}

/** This machine's interface networks, less loopback and Kubeflare's own bridges (kf0, kf-sink), which lie inside the cluster CIDR by design. */
export const hostNetworks = (): { name: string; cidr: string }[] =>
  Object.entries(networkInterfaces()).flatMap(([name, list]) =>
    name.startsWith("kf") ? [] : (list ?? []).filter((a) => a.family === "IPv4" && !a.internal && a.cidr).map((a) => ({ name, cidr: a.cidr! })),
  );

/** The cluster and service CIDRs of a start, checked (throws with every problem). */
export const checkNetwork = (o: { clusterCIDR?: string; serviceCIDR?: string }, host = hostNetworks()): NetworkConfig => {
  const network = { clusterCIDR: o.clusterCIDR ?? DEFAULT_NETWORK.clusterCIDR, serviceCIDR: o.serviceCIDR ?? DEFAULT_NETWORK.serviceCIDR };
  const errors = networkConfigErrors(network, { cluster: "--cluster-cidr", service: "--service-cidr" }, host);
  if (errors.length) throw new Error(errors.join("; "));
  return network;
};

/**
 * The cluster DNS address npm start's local agent writes into pods' resolv.conf: --cluster-dns when
 * given, else the kube-dns Service's address, the 10th of the service CIDR (as k3s derives it), so
 * pods resolve names under any --service-cidr.
 */
export const localClusterDNS = (o: { clusterDNS?: string; serviceCIDR?: string }): string =>
  o.clusterDNS ?? nthAddress(parseCidr(o.serviceCIDR ?? DEFAULT_NETWORK.serviceCIDR)!, 10)!;

/** The first non-loopback IPv4 of this machine, or 127.0.0.1. */
export const firstHostIPv4 = (): string => {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return "127.0.0.1";
};

/** Where pods reach the API server: --advertise-address, else a specific listen address, else the machine's first IPv4. */
export const advertiseAddress = (o: { advertiseAddress?: string; host: string }): string => {
  if (o.advertiseAddress) {
    if (parseIPv4(o.advertiseAddress) === undefined) throw new Error(`--advertise-address must be an IPv4 address, got "${o.advertiseAddress}"`);
    return o.advertiseAddress;
  }
  const host = parseIPv4(o.host);
  if (host !== undefined && host !== 0 && o.host.split(".")[0] !== "127") return o.host;
  return firstHostIPv4();
};

/** Read and check a --token-auth-file; throws with the file and line when it is malformed. */
export const loadTokenFile = (path: string, log: (msg: string) => void): TokenFileEntry[] => {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read the token file ${path}: ${(e as Error).message}`);
  }
  const { entries, warnings } = parseTokenFile(text, `token file ${path}`);
  for (const w of warnings) logWarn(log, `token auth file: ${w}`);
  return entries;
};

export interface RunningServer {
  url: string;
  dataDir: string;
  port: number;
  adminToken: string;
  kubeconfigPath: string;
  caPem: string;
  client: Client;
  store: Store;
  registry: Registry;
  manager: ControllerManager;
  queue: InProcessQueue;
  /** what /metrics serves (prom-client) */
  metrics: PromControlPlaneMetrics;
  /** the agents' tunnels (node/upgrade.ts) */
  tunnels: NodeTunnels;
  close(): Promise<void>;
}

/** Read the admin token from the data dir, creating it (0600) on first start. */
export const ensureAdminToken = (dataDir: string): string => {
  const file = join(dataDir, "admin-token");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const token = randomBytes(32).toString("hex");
  writeFileSync(file, token + "\n", { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
};

/** The all-in-one control plane on Node: embedded libSQL, HTTPS, kubeconfig. */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const log = asLogger(o.log ?? createLogger({ sink: (line, level) => (level === "error" || level === "warn" ? console.error : console.log)(line) }));
  // a malformed token file stops the start before anything is made
  const tokenFile = o.tokenAuthFile ? loadTokenFile(o.tokenAuthFile, log) : [];
  const network = checkNetwork(o);
  const advertised = advertiseAddress(o);
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const adminToken = process.env.KUBEFLARE_ADMIN_TOKEN || ensureAdminToken(dataDir);
  // what pods dial: the `kubernetes` Service's names and ClusterIP, and the advertised address (kube-apiserver's default SANs)
  const inCluster = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"];
  const serviceIP = nthAddress(parseCidr(network.serviceCIDR)!, 1)!;
  const sans = [...new Set([o.host, ...(o.tlsSans ?? []), advertised, serviceIP, ...inCluster].filter((h) => h && h !== "0.0.0.0" && h !== "::"))];
  const tls = o.insecureHttp ? undefined : await ensureTls(dataDir, { sans, certFile: o.tlsCertFile, keyFile: o.tlsKeyFile });
  // the data dir's CA is the cluster CA too (kube-root-ca.crt, the nodes' relay certificates); else one kept in the database
  const clusterCA = tls?.caKey ? { cert: tls.ca, key: createPrivateKey(tls.caKey).export({ type: "pkcs8", format: "pem" }) as string } : undefined;
  const client = await openDatabase(o.dbUrl ?? `file:${join(dataDir, "kubeflare.db")}`, {
    authToken: o.dbAuthToken,
    synchronous: o.synchronous,
  });
  const metrics = promMetrics();
  // writes enqueue keys; the in-process queue hands them to the controllers as soon as the loop is free
  const cp = composeControlPlane({
    client,
    queue: (dispatch) => new InProcessQueue(dispatch),
    controllers: o.controllers ?? CONTROLLERS,
    // the resync period: the node lifecycle controller schedules the lease expiries due before the next resync
    config: { resyncIntervalMs: o.resyncIntervalMs ?? 10_000, ...o.controllerConfig },
    // the server is the database's only writer: the RBAC view needs no read until an RBAC object is written here
    registry: {
      watchPollMs: o.watchPollMs ?? 1000,
      watchCache: true,
      // what admission reads on nearly every create (namespace, LimitRanges, ResourceQuotas) is kept in memory
      readCache: !o.dbUrl,
      clusterCA,
      authCaches: new AuthCaches({ soleWriter: true }),
    },
    network,
    log: log.with({ component: "controller-manager" }),
    // request, queue and reconcile metrics, served at /metrics
    metrics,
  });
  const { store, registry, manager, queue } = cp;
  await registry.bootstrap();
  const resyncMs = o.resyncIntervalMs ?? 10_000;
  const resyncTimer = setInterval(() => {
    manager.resync({ at: new Date(), intervalMs: resyncMs }).catch((e) => log.error(`resync failed: ${(e as Error).message}`));
  }, resyncMs);
  resyncTimer.unref();
  const limits = {
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? CONNECTION_DEFAULTS.handshakeTimeoutMs,
    headersTimeoutMs: o.headersTimeoutMs ?? CONNECTION_DEFAULTS.headersTimeoutMs,
    requestTimeoutMs: o.requestTimeoutMs ?? CONNECTION_DEFAULTS.requestTimeoutMs,
    idleTimeoutMs: o.idleTimeoutMs ?? CONNECTION_DEFAULTS.idleTimeoutMs,
    maxConnectionsPerAddress: o.maxConnectionsPerAddress ?? CONNECTION_DEFAULTS.maxConnectionsPerAddress,
    maxHeaderBytes: o.maxHeaderBytes ?? CONNECTION_DEFAULTS.maxHeaderBytes,
  };
  const tokens = staticTokens({ adminToken, tokenFile });
  const app = composeApp(cp, {
    tokens,
    maxBodyBytes: o.maxBodyBytes,
    requestTimeoutMs: limits.requestTimeoutMs,
    dashboard: { secret: adminToken },
  });

  // A response given before its request body has arrived (401 before a join body, 413
  // part way through one): read no more of that body, answer, and close the connection
  // half a second later, as Go's server (so kube-apiserver) does, so that the client
  // reads the answer before the reset. Without this, Node would go on reading and
  // discarding the body at full speed to keep the connection alive.
  // the agents' tunnels: exec/attach/port-forward upgrades, pods/proxy and services/proxy (node/upgrade.ts)
  const tunnels = new NodeTunnels({
    registry,
    authenticate: registry.auth.authenticate(anyOf(tokens, (t) => registry.nodes.authenticate(t))),
    log,
    ...o.tunnel,
  });
  // resource usage (metrics.k8s.io, the HPA): asked of an agent through its tunnel when someone reads it, kept 15 s
  registry.resourceMetrics = new ResourceMetrics((node) => tunnels.stats(node), { ttlMs: o.metricsCacheMs, log: (m) => log.warn(m) });
  const fetch = async (req: Request, env: HttpBindings | Http2Bindings) => {
    const res = await (tunnels.fetch(req) ?? app.fetch(req, env));
    if (!env.incoming.complete && env.incoming instanceof IncomingMessage) stopReading(env.incoming.socket, env.outgoing as ServerResponse);
    return res;
  };
  const httpOptions = {
    headersTimeout: limits.headersTimeoutMs,
    // Node's requestTimeout bounds receiving a request (headers and body); it must not be shorter than headersTimeout
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    keepAliveTimeout: limits.idleTimeoutMs,
    // how often Node looks for connections past those timeouts
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    maxHeaderSize: limits.maxHeaderBytes,
  };

  let caPem = "";
  let server: ServerType;
  const listening = new Promise<number>((res, rej) => {
    const onListen = (info: { port: number }) => res(info.port);
    if (o.insecureHttp) {
      server = serve({ fetch, port: o.port, hostname: o.host, serverOptions: httpOptions }, onListen);
      limitConnections(server, limits);
    } else {
      caPem = tls!.ca;
      server = serve(
        {
          fetch,
          port: o.port,
          hostname: o.host,
          createServer: createHttpsServer,
          serverOptions: { key: tls!.key, cert: tls!.cert, handshakeTimeout: limits.handshakeTimeoutMs, ...httpOptions },
        },
        onListen,
      );
      limitConnections(server, limits);
    }
    server!.on("error", rej);
    // WebSocket watches (node/watchsocket.ts), the agent's transport on both runtimes
    attachWatchSockets(server! as unknown as import("node:http").Server, async (req) => app.fetch(req));
    // the agents' tunnels and the stream subresources; any other upgrade but a watch is unknown
    server!.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (isWatchUpgrade(req)) return;
      // the dashboard's terminal: its session's token on the API's exec path, then the same upgrade as kubectl's (workers/dashboard/terminal.tsx)
      if (req.url?.startsWith(EXEC_PREFIX)) {
        socket.on("error", () => socket.destroy());
        execUpgrade(adminToken, { url: new URL(req.url, "http://x"), cookie: req.headers.cookie, origin: req.headers.origin, host: req.headers.host }).then(
          ({ path, token }) => {
            req.url = path;
            req.headers.authorization = `Bearer ${token}`;
            delete req.headers.cookie;
            if (!tunnels.upgrade(req, socket, head)) rejectSocket(socket, new ApiError(404, "NotFound", "the server could not find the requested resource"));
          },
          (e) => rejectSocket(socket, e instanceof ApiError ? e : new ApiError(500, "InternalError", String(e))),
        );
        return;
      }
      if (!tunnels.upgrade(req, socket, head)) rejectSocket(socket, new ApiError(404, "NotFound", "the server could not find the requested resource"));
    });
  });
  const port = await listening;
  // the `kubernetes` Service's endpoint, now that the port is known
  await registry.bootstrap({ apiEndpoint: { ip: advertised, port } });
  const shownHost = o.host === "0.0.0.0" || o.host === "::" ? hostname() : o.host.includes(":") ? `[${o.host}]` : o.host;
  const url = `${o.insecureHttp ? "http" : "https"}://${shownHost}:${port}`;
  const kubeconfigPath = join(dataDir, "kubeconfig");
  writeKubeconfig(kubeconfigPath, kubeconfigYaml({ server: url, caPem: caPem || undefined, token: adminToken, clusterName: "kubeflare" }));

  const compactEvery = o.compactIntervalMs ?? 60_000;
  const compactTimer = setInterval(() => {
    store
      .compact({ keepRevisions: o.compactKeepRevisions, keepMs: o.compactKeepMs })
      .then(() => registry.logs.sweep())
      .catch((e) => log.error(`compaction failed: ${(e as Error).message}`));
  }, compactEvery);
  compactTimer.unref();

  log(`Kubeflare control plane listening on ${url}`);
  log(`data dir: ${dataDir}`);
  log(`kubeconfig: ${kubeconfigPath}`);
  log(`try: kubectl --kubeconfig ${kubeconfigPath} get ns`);
  log(
    `dashboard: ${url}/ (sign in with the admin token: ${process.env.KUBEFLARE_ADMIN_TOKEN ? "KUBEFLARE_ADMIN_TOKEN" : `cat ${join(dataDir, "admin-token")}`})`,
  );

  return {
    url,
    dataDir,
    port,
    adminToken,
    kubeconfigPath,
    caPem,
    client,
    store,
    registry,
    manager,
    queue,
    metrics,
    tunnels,
    close: async () => {
      clearInterval(compactTimer);
      clearInterval(resyncTimer);
      queue.close();
      tunnels.close();
      await new Promise<void>((res) => {
        const s = server as unknown as { close(cb: () => void): void; closeAllConnections?: () => void };
        s.close(() => res());
        s.closeAllConnections?.();
      });
      client.close();
    },
  };
}
