import { serve, type ServerType } from "@hono/node-server";
import type { Client } from "@libsql/client";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { createApp } from "../workers/api/app";
import { anyOf, staticTokens } from "../workers/api/auth";
import { CONTROLLERS } from "../workers/controllers";
import type { ControllerConfig } from "../workers/controllers/context";
import { type Controller, ControllerManager } from "../workers/controllers/manager";
import { InProcessQueue } from "../workers/queue";
import { Registry } from "../workers/registry/registry";
import { Store } from "../workers/store/store";
import { openDatabase } from "./db";
import { kubeconfigYaml, writeKubeconfig } from "./kubeconfig";
import { ensureTls } from "./tls";

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
  log?: (msg: string) => void;
}

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
  const log = o.log ?? ((m: string) => console.log(m));
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const adminToken = process.env.KUBEFLARE_ADMIN_TOKEN || ensureAdminToken(dataDir);
  const client = await openDatabase(o.dbUrl ?? `file:${join(dataDir, "kubeflare.db")}`, {
    authToken: o.dbAuthToken,
    synchronous: o.synchronous,
  });
  const store = new Store(client);
  // writes enqueue keys; the in-process queue hands them to the controllers as soon as the loop is free
  let manager: ControllerManager | undefined;
  const queue = new InProcessQueue((keys) => manager!.dispatch(keys));
  const registry = new Registry({
    store,
    queue,
    watchPollMs: o.watchPollMs ?? 1000,
    defaultTolerationSeconds: o.controllerConfig?.defaultTolerationSeconds,
  });
  manager = new ControllerManager({ registry, queue, controllers: o.controllers ?? CONTROLLERS, config: o.controllerConfig, log });
  await registry.bootstrap();
  const resyncTimer = setInterval(() => {
    manager!.resync().catch((e) => log(`resync failed: ${(e as Error).message}`));
  }, o.resyncIntervalMs ?? 10_000);
  resyncTimer.unref();
  const app = createApp({
    registry,
    authenticate: anyOf(staticTokens({ adminToken }), (t) => registry.nodes.authenticate(t)),
    maxBodyBytes: o.maxBodyBytes,
    ready: async () => {
      await client.execute("SELECT 1");
      return true;
    },
  });

  let caPem = "";
  let server: ServerType;
  const listening = new Promise<number>((res, rej) => {
    const onListen = (info: { port: number }) => res(info.port);
    if (o.insecureHttp) {
      server = serve({ fetch: app.fetch, port: o.port, hostname: o.host }, onListen);
    } else {
      const sans = [...new Set([o.host, ...(o.tlsSans ?? [])].filter((h) => h && h !== "0.0.0.0" && h !== "::"))];
      ensureTls(dataDir, { sans, certFile: o.tlsCertFile, keyFile: o.tlsKeyFile }).then((tls) => {
        caPem = tls.ca;
        server = serve(
          {
            fetch: app.fetch,
            port: o.port,
            hostname: o.host,
            createServer: createHttpsServer,
            serverOptions: { key: tls.key, cert: tls.cert },
          },
          onListen,
        );
        server.on("error", rej);
      }, rej);
      return;
    }
    server!.on("error", rej);
  });
  const port = await listening;
  const shownHost = o.host === "0.0.0.0" || o.host === "::" ? hostname() : o.host.includes(":") ? `[${o.host}]` : o.host;
  const url = `${o.insecureHttp ? "http" : "https"}://${shownHost}:${port}`;
  const kubeconfigPath = join(dataDir, "kubeconfig");
  writeKubeconfig(kubeconfigPath, kubeconfigYaml({ server: url, caPem: caPem || undefined, token: adminToken, clusterName: "kubeflare" }));

  const compactEvery = o.compactIntervalMs ?? 60_000;
  const compactTimer = setInterval(() => {
    store
      .compact({ keepRevisions: o.compactKeepRevisions, keepMs: o.compactKeepMs })
      .then(() => registry.logs.sweep())
      .catch((e) => log(`compaction failed: ${(e as Error).message}`));
  }, compactEvery);
  compactTimer.unref();

  log(`Kubeflare control plane listening on ${url}`);
  log(`  data dir:   ${dataDir}`);
  log(`  kubeconfig: ${kubeconfigPath}`);
  log(`  try:        kubectl --kubeconfig ${kubeconfigPath} get ns`);

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
    close: async () => {
      clearInterval(compactTimer);
      clearInterval(resyncTimer);
      queue.close();
      await new Promise<void>((res) => {
        const s = server as unknown as { close(cb: () => void): void; closeAllConnections?: () => void };
        s.close(() => res());
        s.closeAllConnections?.();
      });
      client.close();
    },
  };
}
