/**
 * `npm run bench -- load [--concurrency 50] [--duration 30] [--sync full|normal] [--cpu-prof DIR] [-o json]`:
 * the API under load (issue #14, goal 4). The real all-in-one server as `npm start
 * --no-agent` runs it (bench/node-server.ts: the bundle; HTTPS, the admin token, the
 * embedded libSQL file with its default `--sync full`, every controller) runs as a child
 * process, so the load generator does not share its event loop. Each of C clients loops create → get → list → patch → delete on
 * pods of its own namespace over keep-alive connections (undici); first one client alone
 * (the sequential figures), then C at once for the duration. Per verb: p50 and p99; in
 * total: requests per second. A watch on all pods measures delivery: a write's request
 * sent → its event received (an upper bound of commit → event: the commit happens in
 * between), matched by resourceVersion. With --cpu-prof the server runs from the sources
 * under `node --cpu-prof` (so the profile names their files) and writes its profile there.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { Agent, request } from "undici";
import type { Figure } from "./figures";
import { startServerChild, stopChild } from "./node-server";

export const VERBS = ["create", "get", "list", "patch", "delete"] as const;
export type Verb = (typeof VERBS)[number];

export interface VerbStats {
  count: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  /** up to 1,000 latencies evenly taken from the sorted samples, for charts */
  samples: number[];
}

export interface LoadPhase {
  clients: number;
  seconds: number;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  verbs: Record<Verb, VerbStats>;
  /** requests completed in each second of the phase */
  perSecond: number[];
  /** the server process's CPU time (all its threads) per request, ms: what the box's load does not change much */
  serverCpuMsPerRequest: number;
  /** the clients' CPU time per request (this process, all its threads): the load generator shares the box */
  clientCpuMsPerRequest: number;
  watch: {
    events: number;
    p50Ms: number;
    p99Ms: number;
    samples: number[];
    /** p50 of the writes sent in each tenth of the phase: rising means the watch falls behind */
    p50ByTenthMs: number[];
  };
}

export interface LoadResult {
  sync: string;
  sequential: LoadPhase;
  concurrent: LoadPhase;
  aims: { p99Ms: number; requestsPerSecond: number; watchP99Ms: number };
  profileDir?: string;
  /**
   * The transport floor, same clients, same run: a bare HTTPS + hono server keeping the
   * pods in a Map (bench/floor-server.ts), no store or API machinery behind it
   */
  floor?: LoadPhase;
  /** with --cpu-prof: where the server's threads spent their time, whole run */
  profile?: ProfileSummary;
}

export interface ProfileSummary {
  /** the main (event loop) thread: ms and share of its samples by area, busiest first */
  main: { area: string; ms: number; pct: number }[];
  /** the writer thread: share of its time not idle (SQLite work and fsync waits) */
  writerBusyPct?: number;
}

const AIMS = { p99Ms: 25, requestsPerSecond: 3000, watchP99Ms: 50 };
const REFERENCE = { requestsPerSecond: 270, p50Ms: 175, createP99Ms: 1580 };

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : Number.NaN;
const thin = (sorted: number[], n = 1000) =>
  sorted.length <= n ? sorted.map(round) : Array.from({ length: n }, (_, i) => round(sorted[Math.floor((i * (sorted.length - 1)) / (n - 1))]));
const round = (x: number) => Math.round(x * 100) / 100;
const cores = availableParallelism();
/** requests per second the box's cores could serve at a phase's CPU cost per request (server and clients) */
const ceiling = (p: LoadPhase) => Math.round((cores * 1000) / (p.serverCpuMsPerRequest + p.clientCpuMsPerRequest));
const pctOf = (x: number, of: number) => `${Math.round((100 * x) / of)} %`;

/**
 * Where the time went, from a V8 CPU profile: each sample goes to the first area that
 * a frame matches, walking from the leaf (what ran) towards the root (who called it).
 */
const AREAS: [string, RegExp][] = [
  ["idle", /^\(idle\) /],
  ["garbage collection", /^\(garbage collector\) /],
  ["SQLite reads on the main thread", /^(runRead|readBatch) .*node\/db\.ts/],
  ["hand-off to the writer thread", /^postMessage |node:internal\/worker/],
  ["module loading and compiling (tsx)", /node:internal\/modules|source_map|compileSourceTextModule|^wrapSafe /],
  ["bearer token SHA-256 (WebCrypto)", /workers\/api\/auth\.ts|node:internal\/crypto/],
  ["validation (zod, shared/validation)", /node_modules\/zod|shared\/validation/],
  ["store: SQL, JSON encode/decode", /workers\/store\//],
  ["watch", /workers\/registry\/watch\.ts/],
  ["controllers", /workers\/controllers\//],
  ["registry: admission, defaults, patch, metadata", /workers\/registry\/|shared\//],
  ["metrics (prom-client)", /prom-client|node\/metrics\.ts|workers\/api\/metrics/],
  ["API layer (workers/api)", /workers\/api\//],
  ["hono and @hono/node-server", /node_modules\/(hono|@hono)\//],
  ["HTTP, TLS, sockets, streams (Node)", /node:_http|node:net|node:tls|node:_tls|stream|^writev |node:internal\/(http|url|webstreams|deps\/undici)/],
];

const summarizeProfile = (file: string): { areas: Map<string, number>; total: number } => {
  const p = JSON.parse(readFileSync(file, "utf8")) as {
    nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const area = new Map<number, string>();
  const areaOf = (leaf: number): string => {
    const known = area.get(leaf);
    if (known) return known;
    let found = "other";
    search: for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      const label = `${f.functionName || "(anonymous)"} ${f.url}`;
      for (const [name, re] of AREAS)
        if (re.test(label)) {
          found = name;
          break search;
        }
    }
    area.set(leaf, found);
    return found;
  };
  const areas = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const a = areaOf(id);
    areas.set(a, (areas.get(a) ?? 0) + dt);
  });
  return { areas, total };
};

/** The server's profiles (one file per thread, named CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile). */
export const summarizeProfiles = (dir: string, pid: number): ProfileSummary | undefined => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile") && f.split(".")[3] === String(pid));
  const main = files.find((f) => f.split(".")[4] === "0");
  if (!main) return undefined;
  const m = summarizeProfile(join(dir, main));
  const summary: ProfileSummary = {
    main: [...m.areas].sort((a, b) => b[1] - a[1]).map(([a, ms]) => ({ area: a, ms: Math.round(ms), pct: round((100 * ms) / m.total) })),
  };
  for (const f of files) {
    const text = readFileSync(join(dir, f), "utf8");
    if (!text.includes('"[worker eval]"') || !text.includes('"flush"')) continue;
    const w = summarizeProfile(join(dir, f));
    summary.writerBusyPct = round((100 * (w.total - (w.areas.get("idle") ?? 0))) / w.total);
  }
  return summary;
};

interface Api {
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any }>;
}

/**
 * A watch on every pod, read on a thread of its own (the 50 clients keep this thread's
 * loop busy): for each event, when it arrived (epoch ms) by resourceVersion. Writes
 * record when they were sent by the resourceVersion their answer carried; `delays()`
 * pairs the two.
 */
const WATCHER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { Agent, request } = require(workerData.undici);
const arrived = new Map();
const ac = new AbortController();
const dispatcher = new Agent({ connect: { ca: workerData.ca }, bodyTimeout: 0 });
parentPort.on("message", (m) => {
  if (m === "arrivals") parentPort.postMessage({ arrivals: arrived });
  if (m === "stop") { ac.abort(); dispatcher.destroy().catch(() => {}).finally(() => parentPort.close()); }
});
(async () => {
  const res = await request(workerData.url, { dispatcher, headers: { Authorization: "Bearer " + workerData.token }, signal: ac.signal });
  if (res.statusCode !== 200) throw new Error("watch: HTTP " + res.statusCode + ": " + (await res.body.text()));
  parentPort.postMessage({ started: true });
  let buf = "";
  for await (const chunk of res.body) {
    const now = performance.timeOrigin + performance.now();
    buf += chunk.toString();
    for (let nl = buf.indexOf("\\n"); nl >= 0; nl = buf.indexOf("\\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const rv = /"resourceVersion":"(\\d+)"/.exec(line)?.[1];
      if (rv && !arrived.has(rv)) arrived.set(rv, now);
    }
  }
})().catch((e) => { if (!ac.signal.aborted) parentPort.postMessage({ error: String(e && e.message || e) }); });
`;

/** now, in epoch ms with sub-ms precision: comparable across this process's threads */
const epochNow = () => performance.timeOrigin + performance.now();

const watchPods = async (url: string, ca: string, token: string, fromRv: string) => {
  const worker = new Worker(WATCHER_SOURCE, {
    eval: true,
    workerData: {
      undici: createRequire(import.meta.url).resolve("undici"),
      url: `${url}/api/v1/pods?watch=1&resourceVersion=${fromRv}&allowWatchBookmarks=false`,
      ca,
      token,
    },
  });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", (m) => (m.started ? resolve() : reject(new Error(m.error))));
    worker.once("error", reject);
  });
  return {
    /** per write, in the order they were sent: its event's arrival − its sending (ms) */
    async delays(sent: Map<string, number>): Promise<number[]> {
      const arrived = await new Promise<Map<string, number>>((resolve) => {
        const on = (m: { arrivals?: Map<string, number> }) => {
          if (!m.arrivals) return;
          worker.off("message", on);
          resolve(m.arrivals);
        };
        worker.on("message", on);
        worker.postMessage("arrivals");
      });
      const out: number[] = [];
      for (const [rv, t] of sent) {
        const at = arrived.get(rv);
        if (at !== undefined) out.push(at - t);
      }
      return out;
    },
    async stop() {
      const exited = new Promise((r) => worker.once("exit", r));
      worker.postMessage("stop");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      await worker.terminate();
    },
  };
};

/** C clients, each looping the five verbs on pods of its namespace, until `seconds` pass (or `loops` rounds each). */
/** user + system CPU time of a process so far, ms (Linux; NaN elsewhere) */
const cpuMs = (pid: number | undefined): number => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
};

const runPhase = async (
  api: Api,
  o: { clients: number; seconds: number; loops?: number; namespaces: string[]; tag: string; serverPid?: number },
  watch: Awaited<ReturnType<typeof watchPods>> | undefined,
): Promise<LoadPhase> => {
  const lat: Record<Verb, number[]> = { create: [], get: [], list: [], patch: [], delete: [] };
  const errors: Record<Verb, number> = { create: 0, get: 0, list: 0, patch: 0, delete: 0 };
  const sent = new Map<string, number>();
  const done: number[] = [];
  const cpu0 = cpuMs(o.serverPid);
  const own0 = cpuMs(process.pid);
  const t0 = performance.now();
  const end = t0 + o.seconds * 1000;
  const timed = async (verb: Verb, method: string, path: string, body?: unknown, contentType?: string) => {
    const s = performance.now();
    const sentAt = epochNow();
    // a transport failure (a connect timing out on a saturated server) counts as an error
    const r = await api.call(method, path, body, contentType).catch((err: Error) => ({ status: 0, body: { message: err.message } }));
    const e = performance.now();
    lat[verb].push(e - s);
    done.push(e);
    if (r.status >= 300 || r.status === 0) {
      errors[verb]++;
      if (errors[verb] <= 3) console.error(`load: ${verb} ${path}: HTTP ${r.status} ${JSON.stringify(r.body?.message ?? r.body)}`);
    } else if (verb !== "get" && verb !== "list") {
      const rv = r.body?.metadata?.resourceVersion;
      if (rv) sent.set(String(rv), sentAt);
    }
    return r;
  };
  await Promise.all(
    Array.from({ length: o.clients }, async (_, c) => {
      const ns = o.namespaces[c];
      const base = `/api/v1/namespaces/${ns}/pods`;
      for (let i = 0; (o.loops === undefined || i < o.loops) && performance.now() < end; i++) {
        const name = `${o.tag}-${c}-${i}`;
        await timed("create", "POST", base, {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name, labels: { app: "load", client: String(c) } },
          spec: { containers: [{ name: "c", image: "kubeflare/busybox:test", command: ["sleep", "3600"] }] },
        });
        await timed("get", "GET", `${base}/${name}`);
        await timed("list", "GET", `${base}?labelSelector=app%3Dload`);
        await timed("patch", "PATCH", `${base}/${name}`, { metadata: { labels: { step: String(i) } } }, "application/merge-patch+json");
        await timed("delete", "DELETE", `${base}/${name}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuMs(o.serverPid) - cpu0;
  const own = cpuMs(process.pid) - own0;
  // let the last events arrive
  await new Promise((r) => setTimeout(r, 500));
  const inOrder = watch ? await watch.delays(sent) : [];
  const tenth = Math.max(1, Math.ceil(inOrder.length / 10));
  const p50ByTenthMs = Array.from({ length: Math.ceil(inOrder.length / tenth) }, (_, i) =>
    round(
      pct(
        inOrder.slice(i * tenth, (i + 1) * tenth).sort((a, b) => a - b),
        50,
      ),
    ),
  );
  const delays = [...inOrder].sort((a, b) => a - b);
  const perSecond = Array.from({ length: Math.ceil(seconds) }, () => 0);
  for (const e of done) perSecond[Math.min(perSecond.length - 1, Math.floor((e - t0) / 1000))]++;
  const verbs = Object.fromEntries(
    VERBS.map((v) => {
      const xs = lat[v].sort((a, b) => a - b);
      return [v, { count: xs.length, errors: errors[v], p50Ms: round(pct(xs, 50)), p99Ms: round(pct(xs, 99)), samples: thin(xs) }];
    }),
  ) as Record<Verb, VerbStats>;
  const requests = done.length;
  return {
    clients: o.clients,
    seconds: round(seconds),
    requests,
    errors: Object.values(errors).reduce((a, b) => a + b, 0),
    requestsPerSecond: round(requests / seconds),
    verbs,
    perSecond,
    serverCpuMsPerRequest: round(cpu / requests),
    clientCpuMsPerRequest: round(own / requests),
    watch: { events: delays.length, p50Ms: round(pct(delays, 50)), p99Ms: round(pct(delays, 99)), samples: thin(delays), p50ByTenthMs },
  };
};

export async function benchLoad(
  o: { concurrency: number; durationSeconds: number; sync?: string; cpuProfDir?: string; sequentialLoops?: number; floor?: boolean },
  log: (m: string) => void,
): Promise<LoadResult> {
  const sync = o.sync ?? "full";
  const base = mkdtempSync(join(tmpdir(), "kf-bench-load-"));
  try {
    return await loadIn(base, sync, o, log);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

const loadIn = async (base: string, sync: string, o: Parameters<typeof benchLoad>[0], log: (m: string) => void): Promise<LoadResult> => {
  const dataDir = join(base, "server");
  const server = await startServerChild(dataDir, { sync, profileDir: o.cpuProfDir });
  const token = server.adminToken;
  const ca = server.caPem;
  const { api, dispatcher } = client(server.url, ca, token, o.concurrency);
  let result: LoadResult | undefined;
  try {
    log(`load: server ${server.url} (--sync ${sync}), ${o.concurrency} namespaces`);
    const namespaces = Array.from({ length: o.concurrency }, (_, i) => `load-${i}`);
    for (const ns of namespaces) {
      const r = await api.call("POST", "/api/v1/namespaces", { metadata: { name: ns } });
      if (r.status !== 201) throw new Error(`creating namespace ${ns}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    }
    const rv = (await api.call("GET", "/api/v1/pods?limit=1")).body.metadata.resourceVersion;
    const watch = await watchPods(server.url, ca, token, rv);
    // warm up (modules load and compile on first use) before anything is measured
    await runPhase(api, { clients: 5, seconds: 3, namespaces, tag: "warm" }, watch);
    log("load: one client alone (sequential)");
    const sequential = await runPhase(
      api,
      { clients: 1, seconds: Math.max(5, o.durationSeconds / 3), loops: o.sequentialLoops ?? 200, namespaces, tag: "seq", serverPid: server.child.pid },
      watch,
    );
    log(`load: ${o.concurrency} clients for ${o.durationSeconds} s`);
    const concurrent = await runPhase(api, { clients: o.concurrency, seconds: o.durationSeconds, namespaces, tag: "load", serverPid: server.child.pid }, watch);
    await watch.stop();
    result = { sync, sequential, concurrent, aims: AIMS, profileDir: o.cpuProfDir };
  } finally {
    await dispatcher.close();
    await server.close();
  }
  // the profiles are written as the server exits
  if (o.cpuProfDir && server.child.pid) result.profile = summarizeProfiles(o.cpuProfDir, server.child.pid);
  if (o.floor !== false) {
    log(`load: the transport floor (HTTPS + hono, no store), ${o.concurrency} clients for ${Math.min(10, o.durationSeconds)} s`);
    result.floor = await floorPhase(ca, token, o.concurrency, Math.min(10, o.durationSeconds), dataDir);
  }
  return result;
};

/** One keep-alive client pool (undici) for `clients` concurrent callers. */
const client = (url: string, ca: string, token: string, clients: number) => {
  const dispatcher = new Agent({ connect: { ca, timeout: 60_000 }, connections: clients + 4, pipelining: 1 });
  const api: Api = {
    async call(method, path, body, contentType = "application/json") {
      const res = await request(url + path, {
        method: method as "GET",
        dispatcher,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": contentType, Accept: "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.statusCode, body: await res.body.json().catch(() => undefined) };
    },
  };
  return { api, dispatcher };
};

/** The same clients against bench/floor-server.ts (the server's certificate, in its own process). */
const floorPhase = async (ca: string, token: string, clients: number, seconds: number, dataDir: string): Promise<LoadPhase> => {
  const file = new URL("./floor-server.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, ["--import", "tsx", file, join(dataDir, "tls")], {
    cwd: new URL("..", import.meta.url).pathname,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const orphan = () => child.kill("SIGKILL");
  process.once("exit", orphan);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d) => {
        out += d;
        const m = /listening on (https:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.stderr!.on("data", (d) => (out += d));
      child.once("exit", (code) => reject(new Error(`the floor server exited (${code}):\n${out}`)));
    });
    const { api, dispatcher } = client(url, ca, token, clients);
    try {
      const namespaces = Array.from({ length: clients }, (_, i) => `load-${i}`);
      await runPhase(api, { clients: 5, seconds: 2, namespaces, tag: "warm" }, undefined);
      return await runPhase(api, { clients, seconds, namespaces, tag: "floor", serverPid: child.pid }, undefined);
    } finally {
      await dispatcher.close();
    }
  } finally {
    await stopChild(child, 2000);
    process.off("exit", orphan);
  }
};

/** The harness's figures: per-verb p99 and total req/s under load next to the aims, the sequential ones beside them. */
export function loadFigures(r: LoadResult): Figure[] {
  const c = r.concurrent;
  const s = r.sequential;
  const figures: Figure[] = [
    {
      name: `API under load: total, ${c.clients} clients`,
      value: c.requestsPerSecond,
      unit: "req/s",
      aim: { op: ">=", value: r.aims.requestsPerSecond },
      reference: `issue #14: ${REFERENCE.requestsPerSecond} req/s before; 1 client: ${s.requestsPerSecond} req/s`,
      samples: c.perSecond,
    },
  ];
  for (const v of VERBS) {
    figures.push({
      name: `API under load: ${v} p99`,
      value: c.verbs[v].p99Ms,
      unit: "ms",
      aim: { op: "<=", value: r.aims.p99Ms },
      reference: `1 client: ${s.verbs[v].p99Ms} ms${v === "create" ? `; issue #14: ${REFERENCE.createP99Ms} ms before` : ""}`,
      samples: c.verbs[v].samples,
    });
    figures.push({
      name: `API under load: ${v} p50`,
      value: c.verbs[v].p50Ms,
      unit: "ms",
      reference: `1 client: ${s.verbs[v].p50Ms} ms; issue #14: ≈${REFERENCE.p50Ms} ms before`,
    });
  }
  figures.push({
    name: "API under load: watch delivery p99",
    value: c.watch.p99Ms,
    unit: "ms",
    aim: { op: "<=", value: r.aims.watchP99Ms },
    reference: `write sent → event received (bounds commit → event); 1 client: ${s.watch.p99Ms} ms`,
    samples: c.watch.samples,
  });
  figures.push({
    name: "API under load: server CPU per request",
    value: c.serverCpuMsPerRequest,
    unit: "ms",
    reference: `all server threads; 1 client: ${s.serverCpuMsPerRequest} ms`,
  });
  figures.push({
    name: "API under load: the box's ceiling at this CPU per request",
    value: ceiling(c),
    unit: "req/s",
    reference: `${cores} cores ÷ (server ${c.serverCpuMsPerRequest} + clients ${c.clientCpuMsPerRequest} ms per request)`,
  });
  figures.push({ name: "API under load: errors", value: c.errors + s.errors, unit: "responses", aim: { op: "<=", value: 0 } });
  const f = r.floor;
  if (f) {
    figures.push({
      name: `API under load: the transport floor, ${f.clients} clients`,
      value: f.requestsPerSecond,
      unit: "req/s",
      reference: `HTTPS + hono + JSON, pods in a Map, no store (bench/floor-server.ts), same clients, same run; Kubeflare ${pctOf(c.requestsPerSecond, f.requestsPerSecond)} of it`,
      samples: f.perSecond,
    });
    figures.push({
      name: "API under load: the transport floor, p99 of the worst verb",
      value: Math.max(...VERBS.map((v) => f.verbs[v].p99Ms)),
      unit: "ms",
      reference: `p50 ${Math.max(...VERBS.map((v) => f.verbs[v].p50Ms))} ms; its process's CPU per request ${f.serverCpuMsPerRequest} ms`,
    });
  }
  return figures;
}

export function loadReport(r: LoadResult): string {
  const c = r.concurrent;
  const s = r.sequential;
  const row = (name: string, seq: string, load: string, aim: string, pass?: boolean) =>
    `${name.padEnd(22)} ${seq.padStart(14)} ${load.padStart(14)} ${aim.padStart(12)}  ${pass === undefined ? "" : pass ? "pass" : "MISS"}`;
  const lines = [
    `API under load: the Node server (--sync ${r.sync}), ${c.clients} clients for ${c.seconds} s (${c.requests} requests, ${c.errors} errors); 1 client: ${s.requests} requests`,
    row("", "1 client", `${c.clients} clients`, "aim"),
    row(
      "total",
      `${s.requestsPerSecond} req/s`,
      `${c.requestsPerSecond} req/s`,
      `≥ ${r.aims.requestsPerSecond}`,
      c.requestsPerSecond >= r.aims.requestsPerSecond,
    ),
  ];
  for (const v of VERBS) {
    lines.push(row(`${v} p50`, `${s.verbs[v].p50Ms} ms`, `${c.verbs[v].p50Ms} ms`, ""));
    lines.push(row(`${v} p99`, `${s.verbs[v].p99Ms} ms`, `${c.verbs[v].p99Ms} ms`, `≤ ${r.aims.p99Ms} ms`, c.verbs[v].p99Ms <= r.aims.p99Ms));
  }
  lines.push(row("server CPU / request", `${s.serverCpuMsPerRequest} ms`, `${c.serverCpuMsPerRequest} ms`, ""));
  lines.push(row("clients' CPU / request", `${s.clientCpuMsPerRequest} ms`, `${c.clientCpuMsPerRequest} ms`, ""));
  lines.push(
    `the box's ceiling for this mix: ${cores} cores ÷ (server + clients ${round(c.serverCpuMsPerRequest + c.clientCpuMsPerRequest)} ms per request) = ${ceiling(c)} req/s`,
  );
  lines.push(row("watch delivery p50", `${s.watch.p50Ms} ms`, `${c.watch.p50Ms} ms`, ""));
  lines.push(row("watch delivery p99", `${s.watch.p99Ms} ms`, `${c.watch.p99Ms} ms`, `≤ ${r.aims.watchP99Ms} ms`, c.watch.p99Ms <= r.aims.watchP99Ms));
  lines.push(`watch delivery p50 by tenth of the run (${c.clients} clients): ${c.watch.p50ByTenthMs.join(", ")} ms`);
  lines.push(
    `(watch delivery: write sent → event received, ${c.watch.events} events; before this work: ${REFERENCE.requestsPerSecond} req/s, p50 ≈ ${REFERENCE.p50Ms} ms)`,
  );
  if (r.floor) {
    const f = r.floor;
    lines.push(
      `the transport floor (HTTPS + hono + JSON, pods in a Map, no store; same clients, ${f.seconds} s): ${f.requestsPerSecond} req/s` +
        ` (Kubeflare: ${pctOf(c.requestsPerSecond, f.requestsPerSecond)} of it), p99 per verb ${VERBS.map((v) => f.verbs[v].p99Ms).join(" / ")} ms,` +
        ` its CPU per request ${f.serverCpuMsPerRequest} ms, the clients' ${f.clientCpuMsPerRequest} ms (ceiling ${ceiling(f)} req/s)`,
    );
  }
  if (r.profileDir) lines.push(`server CPU profiles (node --cpu-prof, whole run): ${r.profileDir}`);
  if (r.profile) {
    lines.push("  main thread, by area:");
    for (const a of r.profile.main) if (a.pct >= 0.5) lines.push(`    ${a.area.padEnd(48)} ${String(a.ms).padStart(7)} ms ${a.pct.toFixed(1).padStart(5)} %`);
    if (r.profile.writerBusyPct !== undefined) lines.push(`  writer thread not idle (SQLite writes and fsync): ${r.profile.writerBusyPct} % of the run`);
  }
  return lines.join("\n");
}
