/**
 * `npm run bench -- allinone [--nodes 10] [--pods 100] [--duration 20]`: the all-in-one's
 * footprint (issue #14, goal 5: "server + local agent, 10 nodes' worth of objects, 100
 * pods ≤ 150 MB RSS including its wrappers"). The all-in-one starts as a user starts it,
 * `node bin/kubeflare.mjs` (the bundle, its local agent in the same process, on Docker),
 * with a fresh data dir; N-1 hollow nodes (bench/hollow-nodes.ts: the real agent code on
 * an in-memory engine, in a child process of their own, not counted) join it, so the
 * server keeps N nodes with their Leases; a Deployment of M sleeping busybox pods
 * (hostNetwork: one container each, no sandbox) is pinned to the local node by its
 * hostname label. The server's resident memory (VmRSS) is sampled once a second over a
 * window with the N nodes and no pods, then again with the M pods Running. What `npm
 * start` keeps in front of the server (the npm process and its shell) is measured in a
 * second, short run started with `npm start -- ...` (no agent, no objects: the wrappers
 * only wait for their child). Every container is removed at the end (by the agent when the
 * Deployment goes, forcibly if it did not), and so are the pod network and bridge.
 *
 * Unique names, so it can run beside tests: the node, the bridge and Docker network, a
 * cluster and service CIDR of its own (10.142/16, 10.143/16), ingress ports picked by the
 * kernel, and no kube-proxy (the host's nft tables are shared with other tests).
 *
 * For comparisons: KF_BENCH_NODE_FLAGS="--no-optimize-for-size" (node flags for the server)
 * and KF_BENCH_HEAP_SNAPSHOT=DIR (a heap snapshot of the server, after the window with pods).
 */
import { type ChildProcess, execFile, fork, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { ownMB } from "./resident-pages";
import { ApiClient } from "../agent/api";
import { LABELS } from "../agent/runtime/runtime";
import type { Figure } from "./figures";
import type { HollowMessage, HollowStart } from "./hollow-nodes";

const root = new URL("..", import.meta.url).pathname;
const AIM_MB = 150;

export interface Window {
  /** VmRSS once a second, MB */
  samples: number[];
  median: number;
  max: number;
  /** CPU over the window, % of one core */
  cpuPercent: number;
}

export interface AllinoneResult {
  engine: string;
  nodes: number;
  pods: number;
  windowSeconds: number;
  /** the server with the N nodes, no pods */
  idle: Window;
  /** the server with the M pods Running */
  loaded: Window;
  /** VmHWM: the most it was resident at any time, MB */
  peakMB: number;
  /** creation of the Deployment → all M pods Running, s */
  startSeconds: number;
  /** the server's CPU (control plane and local agent) over that, per pod, ms */
  cpuMsPerPod: number;
  /** what the server's memory is, with the pods: smaps_rollup and its own /metrics (process.memoryUsage), MB */
  split: Record<string, number>;
  /** `npm start`: each process of the tree (npm, sh, node) and its median VmRSS, MB */
  npmTree: { pid: number; command: string; rssMB: number }[];
  /** the processes in front of the server in that tree, MB (sum of their VmRSS) */
  wrappersMB: number;
  /** what they add to the machine: their resident pages that the server does not map too (bench/resident-pages.ts); undefined without root */
  wrappersOwnMB?: number;
  /** containers the agent had not removed 60 s after the Deployment went (removed here) */
  leftover: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const kib = (pid: number, field: string, file = "status"): number => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/${file}`, "utf8"));
  return m ? Number(m[1]) : Number.NaN;
};
/** VmRSS in MB (10^6 bytes, as the other footprint figures) */
const rssMB = (pid: number) => (kib(pid, "VmRSS") * 1024) / 1e6;
const ticks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime, clock ticks (100 a second)
};

/** VmRSS of `pid` once a second for `seconds`, and its CPU over them. */
const sampleWindow = async (pid: number, seconds: number, say: (s: number) => void): Promise<Window> => {
  const samples: number[] = [];
  const t0 = ticks(pid);
  const w0 = performance.now();
  for (let s = 0; s < seconds; s++) {
    say(s);
    samples.push(rssMB(pid));
    await sleep(1000);
  }
  const cpuPercent = ((ticks(pid) - t0) / 100 / ((performance.now() - w0) / 1000)) * 100;
  return { samples, median: median(samples), max: Math.max(...samples), cpuPercent };
};

/** Every process below `pid` (from /proc/<p>/stat's ppid), in the order of the tree. */
const descendants = (pid: number): number[] => {
  const parent = new Map<number, number>();
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      parent.set(Number(e), Number(readFileSync(`/proc/${e}/stat`, "utf8").split(") ")[1].split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent)
      if (pp === p) {
        out.push(c);
        walk(c);
      }
  };
  walk(pid);
  return out;
};
/** the server's own process in `npm start`'s tree (the rest are its wrappers) */
const isServer = (command: string) => command.includes("bin/kubeflare.mjs");
const commandOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");

/** A child whose output is kept (the last 64 kB) and watched for patterns. */
const launch = (cmd: string, args: string[], detached = false) => {
  const child = spawn(cmd, args, { cwd: root, detached, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > 65_536) out = out.slice(-65_536);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const orphan = () => (detached ? process.kill(-child.pid!, "SIGKILL") : child.kill("SIGKILL"));
  process.once("exit", orphan);
  child.once("exit", () => process.off("exit", orphan));
  const waitFor = async (re: RegExp, what: string, ms = 120_000): Promise<RegExpExecArray> => {
    const t0 = performance.now();
    for (;;) {
      const m = re.exec(out);
      if (m) return m;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what}: the process exited (${child.exitCode ?? child.signalCode}):\n${out}`);
      if (performance.now() - t0 > ms) throw new Error(`${what}: not within ${ms / 1000} s:\n${out}`);
      await sleep(100);
    }
  };
  return { child, output: () => out, waitFor };
};

/** SIGTERM (to the process group when `group`), SIGKILL after `graceMs`; resolves once it (and its group) is gone. */
const stop = async (child: ChildProcess, group: boolean, graceMs = 20_000) => {
  const signal = (s: NodeJS.Signals | 0) => (group ? process.kill(-child.pid!, s) : child.kill(s || undefined));
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child.once("exit", r));
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), graceMs);
    await gone;
    clearTimeout(timer);
  }
  if (!group) return;
  // npm exits before the server it started: wait until nothing of the process group is left
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(-child.pid!, i < 150 ? 0 : "SIGKILL");
    } catch {
      return;
    }
    await sleep(100);
  }
};

const quiet = (cmd: string, args: string[]) => new Promise((r) => execFile(cmd, args, () => r(undefined)));
const run = promisify(execFile);

/** GET /metrics (Prometheus text) as the admin */
const metricsText = (url: string, token: string, ca: string) =>
  new Promise<string>((resolve, reject) => {
    const req = httpsRequest(`${url}/metrics`, { headers: { Authorization: `Bearer ${token}` }, ca, timeout: 10_000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("GET /metrics: timeout")));
    req.end();
  });
const metric = (text: string, name: string) => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "m").exec(text);
  return m ? Number(m[1]) / 1e6 : Number.NaN;
};

export async function benchAllinone(
  o: { nodes: number; pods: number; duration: number },
  say: (m: string, fraction?: number) => void = () => {},
): Promise<AllinoneResult | string> {
  const { docker } = await import("../test/agent-e2e/engines");
  if (!(await docker.available())) return "skipped: no Docker with kubeflare/busybox:test (see scripts/test-image.sh)";
  const tag = `fp${process.pid % 100000}`;
  const node = `${tag}-local`;
  const bridge = `kf${tag}`.slice(0, 15);
  const network = `kubeflare-${tag}`;
  const base = mkdtempSync(join(tmpdir(), "kf-bench-allinone-"));
  const dataDir = join(base, "server");
  const args = [
    "--port",
    "0",
    "--data-dir",
    dataDir,
    "--node-name",
    node,
    "--node-ip",
    "127.0.0.1",
    "--cluster-cidr",
    "10.142.0.0/16",
    "--service-cidr",
    "10.143.0.0/16",
    "--pod-bridge",
    bridge,
    "--pod-network-name",
    network,
    "--pause-image",
    "kubeflare/pause:test",
    "--no-kube-proxy",
    "--ingress-http-port",
    "0",
    "--ingress-https-port",
    "0",
  ];
  let server: ReturnType<typeof launch> | undefined;
  let hollow: ChildProcess | undefined;
  let api: ApiClient | undefined;
  let leftover = 0;
  // `docker ps` alone (the agent removes containers meanwhile: an inspect of a listed one can fail)
  const engineContainers = async (status?: "running") =>
    (await run("docker", ["ps", "-aq", "--no-trunc", "--filter", `label=${LABELS.node}=${node}`, ...(status ? ["--filter", `status=${status}`] : [])])).stdout
      .split("\n")
      .filter(Boolean);
  try {
    // ---- the all-in-one, as `npm start` runs it minus npm: node bin/kubeflare.mjs
    say(`allinone: starting node bin/kubeflare.mjs (local agent on Docker)`, 0);
    // KF_BENCH_NODE_FLAGS: node flags to try on the server (e.g. "--max-semi-space-size=2"), for comparisons
    // KF_BENCH_HEAP_SNAPSHOT=DIR: a heap snapshot of the server there, after the window with the pods
    const snapshotDir = process.env.KF_BENCH_HEAP_SNAPSHOT;
    const flags = [
      ...(process.env.KF_BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean),
      ...(snapshotDir ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${snapshotDir}`] : []),
    ];
    server = launch(process.execPath, [...flags, join(root, "bin/kubeflare.mjs"), ...args]);
    const url = (await server.waitFor(/listening on (https:\/\/\S+)/, "the server"))[1];
    await server.waitFor(new RegExp(`node agent: ${node} on docker://`), "the local agent", 60_000);
    const pid = server.child.pid!;
    const adminToken = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    const caPem = readFileSync(join(dataDir, "tls", "ca.crt"), "utf8");
    api = new ApiClient({ server: url, token: adminToken, caPem, timeoutMs: 60_000 });

    // ---- N-1 hollow nodes in a child process of their own (not counted)
    const names = Array.from({ length: o.nodes - 1 }, (_, i) => `${tag}-hollow-${i}`);
    if (names.length) {
      const { token: joinToken } = await api.request("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { maxNodes: names.length });
      const child = fork(join(root, "bench/hollow-nodes.ts"), [], { cwd: root, execArgv: ["--import", "tsx"], stdio: ["ignore", "pipe", "pipe", "ipc"] });
      hollow = child;
      child.stdout!.pipe(process.stderr, { end: false });
      child.stderr!.pipe(process.stderr, { end: false });
      const orphan = () => child.kill("SIGKILL");
      process.once("exit", orphan);
      child.once("exit", () => process.off("exit", orphan));
      await new Promise<void>((resolve, reject) => {
        let done = 0;
        const failed: string[] = [];
        child.once("exit", (code) => reject(new Error(`the hollow-node process exited (${code}) with ${done}/${names.length} nodes started`)));
        child.on("message", (m: HollowMessage) => {
          if (m.op === "failed") failed.push(`${m.name}: ${m.message}`);
          if (m.op !== "started" && m.op !== "failed") return;
          say(`allinone: ${++done}/${names.length} hollow nodes started`, 0.05 + (0.1 * done) / names.length);
          if (done === names.length) failed.length ? reject(new Error(`hollow nodes failed: ${failed.join("; ")}`)) : resolve();
        });
        const start: HollowStart = { op: "start", server: url, caPem, joinToken, names, dataDir: join(base, "nodes"), tag: `${tag}x`, concurrency: 3 };
        child.send(start);
      });
    }
    const t0 = performance.now();
    for (;;) {
      const items = (await api.request<{ items: any[] }>("GET", "/api/v1/nodes")).items;
      const ready = items.filter((n) => n.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True")).length;
      if (ready >= o.nodes) break;
      if (performance.now() - t0 > 120_000) throw new Error(`only ${ready}/${o.nodes} nodes Ready after 2 minutes`);
      say(`allinone: ${ready}/${o.nodes} nodes Ready`, 0.15);
      await sleep(500);
    }

    // ---- the idle window: N nodes, no pods
    await sleep(5000);
    const idle = await sampleWindow(pid, o.duration, (s) =>
      say(`allinone: ${o.nodes} nodes, no pods: window ${s}/${o.duration} s`, 0.2 + (0.15 * s) / o.duration),
    );

    // ---- M pods on the local agent: a Deployment pinned to it
    const c0 = ticks(pid);
    await api.request("POST", "/apis/apps/v1/namespaces/default/deployments", {
      metadata: { name: tag },
      spec: {
        replicas: o.pods,
        selector: { matchLabels: { app: tag } },
        template: {
          metadata: { labels: { app: tag } },
          spec: {
            nodeSelector: { "kubernetes.io/hostname": node },
            hostNetwork: true,
            terminationGracePeriodSeconds: 1,
            containers: [{ name: "c", image: "kubeflare/busybox:test", imagePullPolicy: "Never", command: ["sleep", "3600"] }],
          },
        },
      },
    });
    const p0 = performance.now();
    for (;;) {
      const items = (await api.request<{ items: any[] }>("GET", `/api/v1/namespaces/default/pods?labelSelector=app%3D${tag}`)).items;
      const running = items.filter((p) => p.status?.phase === "Running" && p.spec?.nodeName === node).length;
      if (running >= o.pods) break;
      if (performance.now() - p0 > 300_000) throw new Error(`only ${running}/${o.pods} pods Running after 5 minutes:\n${server.output().slice(-4000)}`);
      say(`allinone: ${running}/${o.pods} pods Running`, 0.35 + (0.3 * running) / o.pods);
      await sleep(1000);
    }
    const startSeconds = (performance.now() - p0) / 1000;
    const cpuMsPerPod = ((ticks(pid) - c0) * 10) / o.pods;
    const onEngine = (await engineContainers("running")).length;
    if (onEngine < o.pods) throw new Error(`${o.pods} pods Running but ${onEngine} containers running on Docker`);

    // ---- the loaded window: N nodes, M pods Running
    await sleep(5000);
    const loaded = await sampleWindow(pid, o.duration, (s) =>
      say(`allinone: ${o.pods} pods Running: window ${s}/${o.duration} s`, 0.65 + (0.2 * s) / o.duration),
    );
    const peakMB = (kib(pid, "VmHWM") * 1024) / 1e6;
    if (snapshotDir) {
      const before = new Set(readdirSync(snapshotDir));
      process.kill(pid, "SIGUSR2");
      say("allinone: writing a heap snapshot", 0.85);
      for (let i = 0; i < 120 && !readdirSync(snapshotDir).some((f) => !before.has(f) && f.endsWith(".heapsnapshot")); i++) await sleep(500);
      await sleep(5000); // written synchronously once it appears, the server stalls until it is done
    }
    const mb = (k: number) => (k * 1024) / 1e6;
    const text = await metricsText(url, adminToken, caPem);
    const split: Record<string, number> = {
      "RSS: anonymous (heap, code, malloc)": mb(kib(pid, "RssAnon")),
      "RSS: file pages (node binary, libraries, bundle)": mb(kib(pid, "RssFile")),
      "V8 heap used": metric(text, "nodejs_heap_size_used_bytes"),
      "V8 heap total": metric(text, "nodejs_heap_size_total_bytes"),
      "external (Buffers, off-heap)": metric(text, "nodejs_external_memory_bytes"),
      ...Object.fromEntries(
        ["new", "old", "code", "large_object"].map((space) => [`V8 ${space} space`, metric(text, `nodejs_heap_space_size_total_bytes\\{space="${space}"\\}`)]),
      ),
    };

    // ---- the Deployment goes; the agent removes its containers
    say("allinone: deleting the Deployment", 0.85);
    await api.request("DELETE", `/apis/apps/v1/namespaces/default/deployments/${tag}?propagationPolicy=Foreground`);
    const d0 = performance.now();
    for (;;) {
      const left = (await engineContainers()).length;
      if (left === 0) break;
      if (performance.now() - d0 > 60_000) {
        leftover = left;
        break;
      }
      say(`allinone: ${left} containers still on Docker`, 0.87);
      await sleep(1000);
    }

    // ---- npm start: what it keeps in front of the server (a short second run, no agent)
    say("allinone: npm start -- --no-agent: measuring its wrappers", 0.9);
    const npmDir = join(base, "npm");
    const npm = launch("npm", ["start", "--", "--port", "0", "--data-dir", npmDir, "--no-agent"], true);
    let npmTree: AllinoneResult["npmTree"] = [];
    let wrappersOwnMB: number | undefined;
    try {
      await npm.waitFor(/listening on (https:\/\/\S+)/, "npm start");
      await sleep(2000);
      const pids = [npm.child.pid!, ...descendants(npm.child.pid!)];
      const rss = new Map<number, number[]>(pids.map((p) => [p, []]));
      for (let s = 0; s < 5; s++) {
        for (const p of pids) rss.get(p)!.push(rssMB(p));
        await sleep(1000);
      }
      npmTree = pids.map((p) => ({ pid: p, command: commandOf(p), rssMB: median(rss.get(p)!) }));
      wrappersOwnMB = ownMB(
        npmTree.filter((p) => !isServer(p.command)).map((p) => p.pid),
        npmTree.filter((p) => isServer(p.command)).map((p) => p.pid),
      );
    } finally {
      await stop(npm.child, true);
    }
    const wrappers = npmTree.filter((p) => !isServer(p.command));
    if (npmTree.length && wrappers.length === npmTree.length)
      throw new Error(`npm start: no bin/kubeflare.mjs in its tree: ${npmTree.map((p) => p.command).join("; ")}`);
    return {
      engine: "docker",
      nodes: o.nodes,
      pods: o.pods,
      windowSeconds: o.duration,
      idle,
      loaded,
      peakMB,
      startSeconds,
      cpuMsPerPod,
      split,
      npmTree,
      wrappersMB: wrappers.reduce((s, p) => s + p.rssMB, 0),
      wrappersOwnMB,
      leftover,
    };
  } finally {
    say("allinone: cleaning up", 0.95);
    if (api) await api.request("DELETE", `/apis/apps/v1/namespaces/default/deployments/${tag}`).catch(() => undefined);
    if (hollow && hollow.exitCode === null && hollow.signalCode === null) {
      const exited = new Promise((r) => hollow!.once("exit", r));
      try {
        hollow.send({ op: "stop" });
      } catch {
        hollow.kill("SIGKILL");
      }
      const timer = setTimeout(() => hollow!.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    }
    await api?.close();
    if (server) await stop(server.child, false);
    // whatever the agent left (a failed run), and its pod network
    const left = await engineContainers();
    if (left.length) await quiet("docker", ["rm", "-f", ...left]);
    await quiet("docker", ["network", "rm", network]);
    await quiet("ip", ["link", "del", bridge]);
    rmSync(base, { recursive: true, force: true });
  }
}

const ref = (r: AllinoneResult) => `hostNetwork busybox pods, no kube-proxy; ${r.nodes - 1} hollow nodes`;

export const allinoneFigures = (r: AllinoneResult): Figure[] => [
  {
    name: `allinone: server resident memory, ${r.nodes} nodes, ${r.pods} pods (${r.engine}), ${r.windowSeconds} s window`,
    value: r.loaded.median,
    min: Math.min(...r.loaded.samples),
    max: r.loaded.max,
    unit: "MB",
    aim: { op: "<=", value: AIM_MB },
    reference: `issue #14; node bin/kubeflare.mjs; ${ref(r)}`,
  },
  ...(r.wrappersOwnMB === undefined
    ? []
    : [
        {
          name: `allinone: npm start in all, server + what npm's wrappers add (${r.npmTree.length - 1} processes)`,
          value: r.loaded.median + r.wrappersOwnMB,
          unit: "MB",
          aim: { op: "<=", value: AIM_MB },
          reference: `issue #14; the wrappers' own pages ${r.wrappersOwnMB.toFixed(1)} MB (not the node binary and libraries the server maps too)`,
        } satisfies Figure,
      ]),
  {
    name: `allinone: npm start, server VmRSS + the wrappers' VmRSS`,
    value: r.loaded.median + r.wrappersMB,
    unit: "MB",
    ...(r.wrappersOwnMB === undefined ? { aim: { op: "<=" as const, value: AIM_MB } } : {}),
    reference: `wrappers ${r.wrappersMB.toFixed(1)} MB, measured idle in a second run${r.wrappersOwnMB === undefined ? "" : "; counts the pages both processes map twice"}`,
  },
  {
    name: `allinone: server resident memory, ${r.nodes} nodes, no pods`,
    value: r.idle.median,
    min: Math.min(...r.idle.samples),
    max: r.idle.max,
    unit: "MB",
  },
  { name: "allinone: server peak resident memory (VmHWM)", value: r.peakMB, unit: "MB" },
  { name: `allinone: server CPU with ${r.pods} pods, idle window`, value: r.loaded.cpuPercent, unit: "% of a core" },
  { name: `allinone: ${r.pods} pods created → Running (${r.engine})`, value: r.startSeconds, unit: "s" },
  { name: "allinone: server CPU per pod started (control plane + local agent)", value: r.cpuMsPerPod, unit: "ms" },
];

export const allinoneReport = (r: AllinoneResult): string => {
  const f = (x: number) => `${x.toFixed(1)} MB`;
  const lines = [
    `allinone: node bin/kubeflare.mjs with its local agent on ${r.engine}, ${r.nodes} nodes (${r.nodes - 1} hollow, in another process), ${r.pods} pods (${ref(r)})`,
    `  server VmRSS, ${r.windowSeconds} s windows: no pods ${f(r.idle.median)} (max ${f(r.idle.max)}), ${r.pods} pods ${f(r.loaded.median)} (max ${f(r.loaded.max)}); peak ${f(r.peakMB)}; CPU ${r.idle.cpuPercent.toFixed(2)} / ${r.loaded.cpuPercent.toFixed(2)} % of a core`,
    `  where it goes, with the pods: ${Object.entries(r.split)
      .map(([k, v]) => `${k} ${f(v)}`)
      .join(", ")}`,
    `  npm start's tree (idle, --no-agent, second run): ${r.npmTree.map((p) => `${p.command.split(" --")[0]} ${f(p.rssMB)}`).join(" → ")}${r.wrappersOwnMB === undefined ? "" : `; the wrappers' own pages (not also the server's) ${f(r.wrappersOwnMB)}`}`,
    `  ${r.pods} pods Running in ${r.startSeconds.toFixed(1)} s (server CPU ${r.cpuMsPerPod.toFixed(1)} ms a pod); ${r.leftover ? `${r.leftover} containers left by the agent after 60 s (removed by the bench)` : "the agent removed every container when the Deployment went"}`,
  ];
  return lines.join("\n");
};
