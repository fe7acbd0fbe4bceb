/**
 * The two runtimes the conformance suite runs against: the Node server (embedded
 * libSQL file, real HTTPS) and the bundled Worker in Miniflare (libSQL over the
 * Hrana protocol through a service binding).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { Agent, fetch as undiciFetch } from "undici";
import { buildWorker } from "../scripts/build-worker";
import { openDatabase } from "../node/db";
import { createHranaHandler } from "../dev/hrana";
import { kubeconfigYaml, writeKubeconfig } from "../node/kubeconfig";
import { startServer } from "../node/server";
import { ensureTls } from "../node/tls";

export interface Target {
  name: string;
  token: string;
  /** fetch with the admin token unless headers say otherwise */
  fetch(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  close(): Promise<void>;
}

const withAuth = (init: (RequestInit & { token?: string | null }) | undefined, token: string): RequestInit => {
  const headers = new Headers(init?.headers);
  const t = init?.token === undefined ? token : init.token;
  if (t !== null && !headers.has("Authorization")) headers.set("Authorization", `Bearer ${t}`);
  const { token: _t, ...rest } = init ?? {};
  return { ...rest, headers };
};

/** What `send` returns: the status, the body as text and (when it is JSON) parsed. */
export interface Sent {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

/**
 * One request to a target: a body that is not a string goes as JSON (Content-Type
 * application/json unless `headers` says another); `token` null sends none.
 */
export const send = async (
  t: Target,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  token?: string | null,
): Promise<Sent> => {
  const res = await t.fetch(path, {
    method,
    headers: body === undefined ? headers : { "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    token,
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
};

export interface TargetOptions {
  watchPollMs?: number;
  /** run the controllers too (default: the API alone, so API tests see only their own writes) */
  controllers?: boolean;
  /** node lease grace period and default pod tolerationSeconds (short, so node failures play out quickly) */
  nodeGraceSeconds?: number;
  tolerationSeconds?: number;
  /** Node: resync period (ms) */
  resyncIntervalMs?: number;
  /** Worker: also serve HTTPS on a local port (certificate from the Node TLS code), for kubectl */
  https?: boolean;
  /** the cluster and service CIDRs (Node: --cluster-cidr/--service-cidr; Worker: CLUSTER_CIDR/SERVICE_CIDR) */
  network?: { clusterCIDR?: string; serviceCIDR?: string };
  /** Worker: bind the watch hub Durable Object (default true, as wrangler.toml does) */
  hub?: boolean;
  /** Worker: extra vars/secrets (e.g. TOKEN_AUTH_FILE) */
  bindings?: Record<string, string>;
}

export async function startNodeTarget(opts: TargetOptions = {}): Promise<Target & { dataDir: string; url: string; caPem: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), "kf-node-"));
  const server = await startServer({
    port: 0,
    host: "127.0.0.1",
    dataDir,
    synchronous: "NORMAL",
    watchPollMs: opts.watchPollMs,
    ...(opts.controllers ? {} : { controllers: [] }),
    controllerConfig: {
      ...(opts.nodeGraceSeconds !== undefined ? { nodeMonitorGracePeriodMs: opts.nodeGraceSeconds * 1000 } : {}),
      ...(opts.tolerationSeconds !== undefined ? { defaultTolerationSeconds: opts.tolerationSeconds } : {}),
    },
    resyncIntervalMs: opts.resyncIntervalMs,
    clusterCIDR: opts.network?.clusterCIDR,
    serviceCIDR: opts.network?.serviceCIDR,
    log: () => {},
  });
  const dispatcher = new Agent({ connect: { ca: server.caPem } });
  return {
    name: "node",
    token: server.adminToken,
    dataDir,
    url: server.url,
    caPem: server.caPem,
    fetch: (path, init) => undiciFetch(server.url + path, { ...(withAuth(init, server.adminToken) as any), dispatcher }) as unknown as Promise<Response>,
    close: async () => {
      await server.close();
      await dispatcher.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let bundled: Promise<string> | undefined;

export async function startWorkerTarget(
  opts: TargetOptions = {},
): Promise<Target & { mf: Miniflare; url?: string; caPem?: string; kubeconfigPath?: string; origin: string; dbRequests(): number }> {
  const dir = mkdtempSync(join(tmpdir(), "kf-worker-"));
  bundled ??= buildWorker(join(tmpdir(), `kubeflare-worker-${process.pid}.js`));
  const scriptPath = await bundled;
  const dbPath = join(dir, "db.sqlite");
  // schema first, as `npm run db:migrate` does against a real Turso/sqld
  (await openDatabase(`file:${dbPath}`, { synchronous: "NORMAL" })).close();
  const hrana = createHranaHandler({ path: dbPath });
  /** the Worker's database requests (Hrana pipelines), for tests that count them */
  let dbRequests = 0;
  const token = "worker-test-admin-token";
  const tls = opts.https ? await ensureTls(dir, { sans: [] }) : undefined;
  const mf = new Miniflare({
    ...(tls ? { https: true, httpsKey: tls.key, httpsCert: tls.cert, host: "127.0.0.1", port: 0 } : {}),
    modules: true,
    scriptPath,
    modulesRoot: tmpdir(),
    compatibilityDate: "2025-09-01",
    compatibilityFlags: ["nodejs_compat"],
    bindings: {
      LIBSQL_URL: "http://db.internal",
      ADMIN_TOKEN: token,
      MAX_BODY_BYTES: String(3 * 1024 * 1024),
      // as on Workers Paid, for speed: a batch of work is not spread over invocations of 50
      // subrequests (test/controllers-runtime.test.ts and bench edge run with the Free plan's)
      SUBREQUESTS_PER_INVOCATION: "1000",
      ...(opts.controllers ? {} : { CONTROLLERS: "none" }),
      ...(opts.nodeGraceSeconds !== undefined ? { NODE_GRACE_SECONDS: String(opts.nodeGraceSeconds) } : {}),
      ...(opts.tolerationSeconds !== undefined ? { DEFAULT_TOLERATION_SECONDS: String(opts.tolerationSeconds) } : {}),
      ...(opts.network?.clusterCIDR ? { CLUSTER_CIDR: opts.network.clusterCIDR } : {}),
      ...(opts.network?.serviceCIDR ? { SERVICE_CIDR: opts.network.serviceCIDR } : {}),
      ...opts.bindings,
    },
    serviceBindings: {
      DB: (req: Request) => {
        dbRequests++;
        return hrana.handler(req) as any;
      },
    },
    queueProducers: { QUEUE: { queueName: "kubeflare-work" } },
    // a tenth of a second to fill a batch (wrangler.toml: 0; at its former 1 s, Miniflare's queue running
    // one batch at a time, each controller hop of a test — Deployment → ReplicaSet → pods → status — waited that long)
    queueConsumers: { "kubeflare-work": { maxBatchSize: 100, maxBatchTimeout: 0.1 } },
    // as wrangler.toml binds them: the agents' tunnels, and the watch hub (opts.hub false: without it, watches poll)
    durableObjects: {
      TUNNEL: { className: "TunnelObject", useSQLite: true },
      ...(opts.hub === false ? {} : { HUB: { className: "WatchHub", useSQLite: true } }),
    },
  } as any);
  const ready = await mf.ready;
  let kubeconfigPath: string | undefined;
  let url: string | undefined;
  if (tls) {
    url = ready.origin;
    kubeconfigPath = join(dir, "kubeconfig");
    writeKubeconfig(kubeconfigPath, kubeconfigYaml({ server: url, caPem: tls.ca, token, clusterName: "kubeflare-worker" }));
  }
  return {
    name: "worker",
    mf,
    url,
    origin: ready.origin,
    dbRequests: () => dbRequests,
    caPem: tls?.ca,
    kubeconfigPath,
    token,
    fetch: async (path, init) => {
      const res = await mf.dispatchFetch(`http://kubeflare.test${path}`, withAuth(init, token) as any);
      return res as unknown as Response;
    },
    close: async () => {
      // never let a stuck runtime hold the suite
      await Promise.race([mf.dispose(), new Promise((r) => setTimeout(r, 10_000))]);
      hrana.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
