/**
 * `npm run bench -- scale [--nodes 200] [--pods 2000] [--sync full|normal] [--cpu-prof DIR] [--subrequests N] [--batch-timeout S] [-o json]`:
 * scheduling end to end (issue #14, goal 3), kubemark-style. N hollow nodes — the real
 * node agent (agent/agent.ts) on the in-memory engine (test/hollow-runtime.ts), in
 * child processes (bench/hollow-nodes.ts, one per 250 nodes) as kubemark runs many
 * hollow kubelets per process (KF_BENCH_AGENT_PROF=DIR: under `node --cpu-prof`) — join the control
 * plane; once every Node is Ready, Deployments totalling M pods are created, and one
 * watch on the pods times, for each pod, its creation (ADDED), its binding
 * (spec.nodeName set) and its Running (status.phase reported by its agent).
 *
 * Two control planes:
 * - the Node server as `npm start --no-agent` runs it (HTTPS, embedded libSQL, every
 *   controller), in a child process of its own so that its event loop is not the
 *   agents' (with --cpu-prof it runs under `node --cpu-prof`, and the profile's areas
 *   are summarised as the load scenario does);
 * - the Worker in Miniflare (bench/edge-worker.ts: libSQL over Hrana, the queue, the
 *   watch hub), at a smaller scale (EDGE_NODES, EDGE_PODS) that completes in a few
 *   minutes on this machine. Its invocations keep to the Worker's subrequest limit
 *   (SUBREQUESTS_PER_INVOCATION: 50 as on Workers Free unless --subrequests says, e.g.
 *   1000 as on Paid): the queue consumer's database requests past it are refused and
 *   their keys go back to the queue and come again in the next batch, at once with
 *   wrangler.toml's max_batch_timeout of 0 (--batch-timeout 1: a second later, and at 50
 *   the pods' rate is then bounded by what ~42 database requests a second do).
 *
 * The hollow agents keep their defaults (lease every 10 s, a sync pass every second,
 * their own watches of pods, Services and EndpointSlices) but open no tunnel (exec and
 * port-forward; kubemark's hollow kubelets serve none either) and no DNS server. The
 * rates are end to end: from the first Deployment sent to the last pod bound, and to
 * the last pod Running. Before the Deployments the idle cluster is measured for 15 s
 * (the server's and the agents' CPU, requests per second). No Docker, no root.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Agent, fetch } from "undici";
import { ApiClient } from "../agent/api";
import type { KObject, WatchEvent } from "../shared/types";
import type { Figure } from "./figures";
import { type HollowMessage, type HollowStart, processesFor, shares } from "./hollow-nodes";
import { startServerChild } from "./node-server";

export interface ScaleOptions {
  nodes: number;
  pods: number;
  /** SQLite synchronous mode of the Node server's embedded file (default full, as `npm start`) */
  sync?: string;
  /** run the Node server under `node --cpu-prof`, its profiles written here */
  cpuProfDir?: string;
  /** child processes the hollow nodes run in (default one per 250 nodes) */
  processes?: number;
  /** the Worker's scale (0 nodes: no Worker run) */
  edgeNodes?: number;
  edgePods?: number;
  /** the Worker's SUBREQUESTS_PER_INVOCATION (default its own: 50, as on Workers Free) */
  subrequests?: number;
  /** the queue consumer's max_batch_timeout, seconds (default wrangler.toml's 0) */
  batchTimeout?: number;
}

export interface ScaleRun {
  target: "node" | "worker";
  /** the Worker's subrequests per invocation, when not its default (50) */
  subrequests?: number;
  /** the queue's max_batch_timeout (s), when given (wrangler.toml's: 0) */
  batchTimeout?: number;
  nodes: number;
  pods: number;
  /** every agent started (joined, registered) → every Node Ready */
  nodesReadyMs: number;
  /** the Node server's cluster idle for IDLE_MS once every node is Ready: CPU (cores) and requests and reconciles per second */
  idle?: { seconds: number; serverCores?: number; agentsCores: number; requests: { what: string; perSecond: number }[] };
  /** first Deployment sent → last pod seen (created by the ReplicaSet controller) */
  allCreatedMs: number;
  /** first Deployment sent → last pod bound */
  allBoundMs: number;
  /** first Deployment sent → last pod Running */
  allRunningMs: number;
  /** per pod, ADDED seen → Running seen (ms), sorted */
  createdToRunningMs: number[];
  /** per pod, ADDED seen → bound seen (ms), sorted */
  createdToBoundMs: number[];
  /** pods Running per second of the run, from the first Deployment sent */
  runningPerSecond: number[];
  /** the most pods one node got */
  maxPodsOnANode: number;
  /** pods seen created and deleted (evictions and their replacements: more than `pods` created) */
  podsCreated: number;
  podsDeleted: number;
  /** Warning events in the namespace by reason */
  warnings: Record<string, number>;
  /** the control plane's CPU over the pods' part (ms; the server child only) */
  serverCpuMs?: number;
  /** the hollow-node processes' CPU over the pods' part (ms) */
  agentsCpuMs: number;
  /** this process's CPU (the watch timing the pods) over the pods' part (ms) */
  watcherCpuMs?: number;
  /** how many processes the hollow nodes ran in */
  agentProcesses?: number;
  /** the Node server's requests (verb resource[/subresource]) and reconciles over the pods' part, most first */
  requests?: { what: string; count: number }[];
  /** with --cpu-prof: the server's main thread by area */
  profile?: { area: string; ms: number; pct: number }[];
  writerBusyPct?: number;
}

export interface ScaleResult {
  runs: ScaleRun[];
  /** why the Worker did not run, when it did not */
  edgeSkipped?: string;
}

export const AIM_PODS_PER_SECOND = 1000;
/** The Worker's default scale: what completes in a few minutes in Miniflare on a 2-core box (see README) */
export const EDGE_NODES = 20;
export const EDGE_PODS = 200;
const NS = "scale";
/** how long the idle cluster is measured before the Deployments */
const IDLE_MS = 15_000;
/** replicas per Deployment */
const PER_DEPLOYMENT = 1000;
const root = new URL("..", import.meta.url).pathname;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : Number.NaN;

interface Target {
  url: string;
  adminToken: string;
  caPem?: string;
  /** the server's pid (its CPU time is read from /proc) */
  pid?: number;
  close(): Promise<void>;
}

/** CPU time (user + system, ms) of a process, from /proc; undefined elsewhere. */
const cpuMsOf = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return undefined;
  }
};
const ownCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The Node server as `npm start --no-agent` runs it, in a child process. */
const startNodeServer = (dir: string, sync: string, profileDir?: string) =>
  startServerChild(join(dir, "server"), {
    sync,
    profileDir,
    stopGraceMs: 30_000,
    args: [
      // a /24 of pod addresses per node: the default /16 has 256 (kubemark's clusters are given a larger one too)
      "--cluster-cidr",
      "10.128.0.0/12",
      // every hollow node connects from 127.0.0.1: a few connections each (requests, watches)
      "--max-connections-per-address",
      "100000",
    ],
  });

/** The Worker in Miniflare, as the edge scenario runs it (bench/edge-worker.ts, libSQL over Hrana, the queue, the hub), the cron once a minute. */
const startWorker = async (dir: string, subrequests?: number, batchTimeout?: number): Promise<Target> =>
  (await import("./edge-miniflare")).startEdgeWorker(dir, {
    cron: true,
    bindings: subrequests ? { SUBREQUESTS_PER_INVOCATION: String(subrequests) } : undefined,
    batchTimeout,
    miniflare: {
      // the Worker's console (e.g. "subrequest budget spent" lines) goes to stderr with the progress: stdout is the report, or JSON with -o json
      handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) {
        stdout.pipe(process.stderr, { end: false });
        stderr.pipe(process.stderr, { end: false });
      },
    },
  });

/**
 * The Node server's request and reconcile counters (/metrics), summed by what they
 * count: `VERB resource[/subresource]` and `reconcile CONTROLLER`.
 */
const counters = async (target: Target): Promise<Map<string, number>> => {
  const out = new Map<string, number>();
  const dispatcher = new Agent({ connect: { ca: target.caPem } });
  let text = "";
  try {
    const res = await fetch(`${target.url}/metrics`, { dispatcher, headers: { Authorization: `Bearer ${target.adminToken}` } });
    text = await res.text();
  } finally {
    await dispatcher.close();
  }
  for (const line of text.split("\n")) {
    const m = /^(apiserver_request_total|controller_runtime_reconcile_total)\{([^}]*)\} (\S+)/.exec(line);
    if (!m) continue;
    const l = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const key = m[1] === "apiserver_request_total" ? `${l.verb} ${l.resource}${l.subresource ? `/${l.subresource}` : ""}` : `reconcile ${l.controller}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[3]));
  }
  return out;
};

/** How long N nodes get to join and be Ready: 10 minutes, or 0.9 s a node (1,000 joined in about 6.5 minutes on a busy 2-core box) */
export const readyTimeoutMs = (nodes: number) => Math.max(600_000, nodes * 900);

type HollowProcess = ChildProcess;

/**
 * A child process for hollow nodes (bench/hollow-nodes.ts); its output goes to this
 * process's stderr. With KF_BENCH_AGENT_PROF=DIR it runs under `node --cpu-prof`, its
 * profile written to DIR when it exits.
 */
const startHollowProcess = (): HollowProcess => {
  const prof = process.env.KF_BENCH_AGENT_PROF;
  const child = fork(join(root, "bench/hollow-nodes.ts"), [], {
    cwd: root,
    execArgv: [...(prof ? ["--cpu-prof", "--cpu-prof-dir", prof] : []), "--import", "tsx"],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  child.stdout!.pipe(process.stderr, { end: false });
  child.stderr!.pipe(process.stderr, { end: false });
  const orphan = () => child.kill("SIGKILL");
  process.once("exit", orphan);
  child.once("exit", () => process.off("exit", orphan));
  return child;
};

/** Ask a hollow-node process to stop its agents; killed if it has not exited within 60 s. */
const stopHollowProcess = async (child: HollowProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    child.send({ op: "stop" });
  } catch {
    child.kill("SIGKILL");
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  await exited;
  clearTimeout(timer);
};

interface PodTimes {
  added: number;
  bound?: number;
  running?: number;
  node?: string;
}

/** One run against a control plane: join N hollow nodes, wait Ready, create the Deployments, time every pod. */
async function run(
  target: Target,
  kind: "node" | "worker",
  o: { nodes: number; pods: number; dir: string; processes?: number },
  say: (m: string, fraction?: number) => void,
  span: [number, number],
): Promise<ScaleRun> {
  const progress = (f: number) => span[0] + (span[1] - span[0]) * f;
  const admin = new ApiClient({ server: target.url, token: target.adminToken, caPem: target.caPem, timeoutMs: 120_000 });
  const ac = new AbortController();
  const procs = shares(
    Array.from({ length: o.nodes }, (_, i) => `hollow-${kind[0]}${i}`),
    o.processes ?? processesFor(o.nodes),
  ).map((names, k) => ({ names, k }));
  const children: HollowProcess[] = [];
  try {
    // ---- N hollow nodes join with one bootstrap token, as `kubeflare-agent join` does, from a few child processes
    const { token: joinToken } = await admin.request("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { maxNodes: o.nodes });
    const tag = `s${process.pid % 10000}${kind[0]}`;
    const t0 = performance.now();
    let started = 0;
    const failed: string[] = [];
    await Promise.all(
      procs.map(
        ({ names, k }) =>
          new Promise<void>((resolve, reject) => {
            const child = startHollowProcess();
            children.push(child);
            let done = 0;
            child.once("exit", (code) => reject(new Error(`${kind}: hollow-node process ${k} exited (${code}) with ${done}/${names.length} nodes started`)));
            child.on("message", (m: HollowMessage) => {
              if (m.op === "failed") failed.push(`${m.name}: ${m.message}`);
              if (m.op !== "started" && m.op !== "failed") return;
              started++;
              if (started % 50 === 0 || started === o.nodes)
                say(`${kind}: ${started}/${o.nodes} hollow nodes started in ${procs.length} processes`, progress((0.2 * started) / o.nodes));
              if (++done === names.length) resolve();
            });
            const start: HollowStart = {
              op: "start",
              server: target.url,
              caPem: target.caPem,
              joinToken,
              names,
              dataDir: join(o.dir, "nodes"),
              tag: `${tag}${k.toString(36)}x`,
              concurrency: Math.max(2, Math.ceil(16 / procs.length)),
            };
            child.send(start);
          }),
      ),
    );
    if (failed.length) throw new Error(`${kind}: ${failed.length} hollow nodes failed to start, e.g. ${failed[0]}`);
    let ready = 0;
    for (;;) {
      const nodes = (await admin.request<{ items: KObject[] }>("GET", "/api/v1/nodes")).items;
      ready = nodes.filter((n) => n.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True")).length;
      if (ready >= o.nodes) break;
      if (performance.now() - t0 > readyTimeoutMs(o.nodes))
        throw new Error(`${kind}: only ${ready}/${o.nodes} nodes Ready after ${Math.round(readyTimeoutMs(o.nodes) / 1000)} s`);
      say(`${kind}: ${ready}/${o.nodes} nodes Ready`, progress(0.2));
      await sleep(1000);
    }
    const nodesReadyMs = performance.now() - t0;
    say(`${kind}: ${o.nodes} nodes Ready after ${(nodesReadyMs / 1000).toFixed(1)} s`, progress(0.25));

    // ---- what the idle cluster costs: IDLE_MS with every node Ready and no pods yet
    const agentsCpu = () => children.reduce((a, c) => a + (c.pid ? (cpuMsOf(c.pid) ?? 0) : 0), 0);
    let idle: ScaleRun["idle"];
    if (kind === "node") {
      const at0 = { t: performance.now(), server: target.pid ? cpuMsOf(target.pid) : undefined, agents: agentsCpu(), counted: await counters(target) };
      await sleep(IDLE_MS);
      const counted = await counters(target);
      const t = (performance.now() - at0.t) / 1000;
      const server = target.pid ? cpuMsOf(target.pid) : undefined;
      const rates = [...counted].map(([k, n]) => ({ what: k, perSecond: (n - (at0.counted.get(k) ?? 0)) / t })).filter((x) => x.perSecond > 0);
      idle = {
        seconds: t,
        serverCores: server !== undefined && at0.server !== undefined ? (server - at0.server) / 1000 / t : undefined,
        agentsCores: (agentsCpu() - at0.agents) / 1000 / t,
        requests: rates.sort((a, b) => b.perSecond - a.perSecond),
      };
      say(
        `${kind}: idle, ${o.nodes} nodes: server ${idle.serverCores?.toFixed(2)} cores, hollow agents ${idle.agentsCores.toFixed(2)} cores, ` +
          `${rates
            .filter((x) => !x.what.startsWith("reconcile "))
            .reduce((a, x) => a + x.perSecond, 0)
            .toFixed(0)} requests/s`,
        progress(0.25),
      );
    }

    // ---- one watch times every pod
    await admin.request("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    const pods = new Map<string, PodTimes>();
    let bound = 0;
    let running = 0;
    let deleted = 0;
    const list = await admin.request<{ metadata: { resourceVersion: string } }>("GET", `/api/v1/namespaces/${NS}/pods`);
    let rv = list.metadata.resourceVersion;
    const onEvent = (ev: WatchEvent) => {
      const now = performance.now();
      if (ev.object?.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
      if (ev.type === "DELETED") deleted++;
      if (ev.type !== "ADDED" && ev.type !== "MODIFIED") return;
      const p = ev.object;
      let t = pods.get(p.metadata.uid!);
      if (!t) pods.set(p.metadata.uid!, (t = { added: now }));
      if (t.bound === undefined && p.spec?.nodeName) {
        t.bound = now;
        t.node = p.spec.nodeName;
        bound++;
      }
      if (t.running === undefined && p.status?.phase === "Running") {
        t.running = now;
        running++;
      }
    };
    const _watching = (async () => {
      while (!ac.signal.aborted) {
        try {
          await admin.watch(`/api/v1/namespaces/${NS}/pods`, rv, onEvent, ac.signal);
        } catch (e) {
          if (ac.signal.aborted) return;
          say(`${kind}: the pods' watch broke, resuming: ${(e as Error).message}`);
          await sleep(200);
        }
      }
    })();
    await sleep(500);

    // ---- the Deployments
    const cpu0 = { server: target.pid ? cpuMsOf(target.pid) : undefined, own: ownCpuMs(), agents: agentsCpu() };
    const counted0 = kind === "node" ? await counters(target) : undefined;
    const start = performance.now();
    const deployments = Math.ceil(o.pods / PER_DEPLOYMENT);
    for (let d = 0; d < deployments; d++) {
      const replicas = Math.min(PER_DEPLOYMENT, o.pods - d * PER_DEPLOYMENT);
      await admin.request("POST", `/apis/apps/v1/namespaces/${NS}/deployments`, {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: `scale-${d}` },
        spec: {
          replicas,
          selector: { matchLabels: { app: `scale-${d}` } },
          template: {
            metadata: { labels: { app: `scale-${d}` } },
            spec: { automountServiceAccountToken: false, containers: [{ name: "c", image: "kubeflare/pause:test" }] },
          },
        },
      });
    }
    const since = () => performance.now() - start;
    let allCreatedMs: number | undefined;
    let allBoundMs: number | undefined;
    const perSecond: number[] = [];
    let lastProgress = -1;
    const timeoutMs = Math.max(600_000, o.pods * 200);
    while (running < o.pods) {
      await sleep(100);
      if (allCreatedMs === undefined && pods.size >= o.pods) allCreatedMs = since();
      if (allBoundMs === undefined && bound >= o.pods) allBoundMs = since();
      const s = Math.floor(since() / 1000);
      if (s !== lastProgress) {
        lastProgress = s;
        perSecond.push(running);
        say(
          `${kind}: ${s} s: ${pods.size} created, ${bound} bound, ${running} Running of ${o.pods}`,
          progress(0.25 + (0.75 * (bound + running)) / (2 * o.pods)),
        );
      }
      const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
      if (dead) throw new Error(`${kind}: a hollow-node process exited (${dead.exitCode ?? dead.signalCode}) while the pods started`);
      if (since() > timeoutMs) throw new Error(`${kind}: ${running}/${o.pods} pods Running (${bound} bound) after ${Math.round(timeoutMs / 1000)} s`);
    }
    const allRunningMs = since();
    allCreatedMs ??= allRunningMs;
    allBoundMs ??= allRunningMs;
    const cpu1 = { server: target.pid ? cpuMsOf(target.pid) : undefined, own: ownCpuMs(), agents: agentsCpu() };
    const counted1 = counted0 ? await counters(target) : undefined;
    const requests = counted1 && [...counted1].map(([k, n]) => ({ what: k, count: n - (counted0!.get(k) ?? 0) })).filter((x) => x.count > 0);
    perSecond.push(running);
    // pods deleted on the way (evictions) and their replacements never reached Running: only the pods there now count
    const live = new Set((await admin.request<{ items: KObject[] }>("GET", `/api/v1/namespaces/${NS}/pods`)).items.map((p) => p.metadata.uid!));
    const times = [...pods].filter(([uid, t]) => live.has(uid) && t.running !== undefined).map(([, t]) => t);
    const warnings = new Map<string, number>();
    for (const e of (await admin.request<{ items: KObject[] }>("GET", `/api/v1/namespaces/${NS}/events?fieldSelector=type%3DWarning`)).items as any[])
      warnings.set(e.reason, (warnings.get(e.reason) ?? 0) + (e.count ?? 1));
    const perNode = new Map<string, number>();
    for (const t of times) if (t.node) perNode.set(t.node, (perNode.get(t.node) ?? 0) + 1);
    say(`${kind}: ${o.pods} pods bound after ${(allBoundMs / 1000).toFixed(1)} s, Running after ${(allRunningMs / 1000).toFixed(1)} s`, progress(1));
    return {
      target: kind,
      nodes: o.nodes,
      pods: o.pods,
      nodesReadyMs,
      idle,
      allCreatedMs,
      allBoundMs,
      allRunningMs,
      createdToRunningMs: times.map((t) => t.running! - t.added).sort((a, b) => a - b),
      createdToBoundMs: times.map((t) => t.bound! - t.added).sort((a, b) => a - b),
      // cumulative counts each second → pods Running in each second
      runningPerSecond: perSecond.map((n, i) => n - (perSecond[i - 1] ?? 0)),
      maxPodsOnANode: Math.max(0, ...perNode.values()),
      podsCreated: pods.size,
      podsDeleted: deleted,
      warnings: Object.fromEntries(warnings),
      serverCpuMs: cpu0.server !== undefined && cpu1.server !== undefined ? cpu1.server - cpu0.server : undefined,
      agentsCpuMs: cpu1.agents - cpu0.agents,
      watcherCpuMs: cpu1.own - cpu0.own,
      agentProcesses: procs.length,
      requests: requests?.sort((a, b) => b.count - a.count),
    };
  } finally {
    ac.abort();
    say(`${kind}: stopping the hollow nodes`);
    await Promise.all(children.map((c) => stopHollowProcess(c)));
    await admin.close();
  }
}

export async function benchScale(o: ScaleOptions, say: (m: string, fraction?: number) => void = () => {}): Promise<ScaleResult> {
  const runs: ScaleRun[] = [];
  const edgeNodes = o.edgeNodes ?? Math.min(o.nodes, EDGE_NODES);
  const edgePods = o.edgePods ?? Math.min(o.pods, EDGE_PODS);
  const share = edgeNodes ? 0.75 : 1;
  // ---- the Node server
  {
    const dir = mkdtempSync(join(tmpdir(), "kf-bench-scale-"));
    const server = await startNodeServer(dir, o.sync ?? "full", o.cpuProfDir);
    let r: ScaleRun;
    try {
      say(`node: server ${server.url} (--sync ${o.sync ?? "full"})`, 0);
      r = await run(server, "node", { nodes: o.nodes, pods: o.pods, dir, processes: o.processes }, say, [0, share]);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
    if (o.cpuProfDir && server.child.pid) {
      const { summarizeProfiles } = await import("./load");
      const p = summarizeProfiles(o.cpuProfDir, server.child.pid);
      r.profile = p?.main;
      r.writerBusyPct = p?.writerBusyPct;
    }
    runs.push(r);
  }
  // ---- the Worker in Miniflare, smaller
  if (edgeNodes) {
    const dir = mkdtempSync(join(tmpdir(), "kf-bench-scale-edge-"));
    const worker = await startWorker(dir, o.subrequests, o.batchTimeout);
    try {
      const r = await run(worker, "worker", { nodes: edgeNodes, pods: edgePods, dir }, say, [share, 1]);
      runs.push({ ...r, ...(o.subrequests && { subrequests: o.subrequests }), ...(o.batchTimeout !== undefined && { batchTimeout: o.batchTimeout }) });
    } finally {
      await worker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { runs };
}

const rate = (r: ScaleRun, ms: number) => r.pods / (ms / 1000);

export function scaleFigures(res: ScaleResult): Figure[] {
  const figures: Figure[] = [];
  for (const r of res.runs) {
    const where =
      r.target === "node"
        ? "Node server"
        : `Worker in Miniflare${r.subrequests ? `, ${r.subrequests} subrequests per invocation` : ""}${r.batchTimeout !== undefined ? `, batch timeout ${r.batchTimeout} s` : ""}`;
    const n = `scale (${where}, ${r.nodes.toLocaleString("en-US")} hollow nodes, ${r.pods.toLocaleString("en-US")} pods)`;
    const aim = r.target === "node" ? { aim: { op: ">=" as const, value: AIM_PODS_PER_SECOND } } : {};
    figures.push(
      {
        name: `${n}: Deployments → all bound`,
        value: rate(r, r.allBoundMs),
        unit: "pods/s",
        ...aim,
        reference: "issue #14; kube-scheduler's floor 270 pods/s at 5,000 nodes",
      },
      {
        name: `${n}: Deployments → all Running`,
        value: rate(r, r.allRunningMs),
        unit: "pods/s",
        ...aim,
        reference: "status reported by the hollow agents",
        samples: r.runningPerSecond,
      },
      { name: `${n}: creation → Running, p50`, value: pct(r.createdToRunningMs, 50) / 1000, unit: "s" },
      {
        name: `${n}: creation → Running, p99`,
        value: pct(r.createdToRunningMs, 99) / 1000,
        unit: "s",
        reference: "Kubernetes' SLO 5 s (pod startup, p99)",
        samples: r.createdToRunningMs.filter((_, i) => i % Math.max(1, Math.floor(r.createdToRunningMs.length / 1000)) === 0).map((x) => x / 1000),
      },
    );
  }
  return figures;
}

export function scaleReport(res: ScaleResult): string {
  const lines: string[] = [];
  for (const r of res.runs) {
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    lines.push(
      `scale on the ${r.target === "node" ? "Node server (child process)" : `Worker in Miniflare (${r.subrequests ?? 50} subrequests per invocation, batch timeout ${r.batchTimeout ?? 0} s)`}: ${r.nodes} hollow nodes Ready in ${s(r.nodesReadyMs)}; ` +
        `${r.pods} pods in ${Math.ceil(r.pods / PER_DEPLOYMENT)} Deployments`,
      `  all created ${s(r.allCreatedMs)} (${rate(r, r.allCreatedMs).toFixed(0)} pods/s), all bound ${s(r.allBoundMs)} (${rate(r, r.allBoundMs).toFixed(0)} pods/s), ` +
        `all Running ${s(r.allRunningMs)} (${rate(r, r.allRunningMs).toFixed(0)} pods/s)`,
      `  creation → bound p50 ${s(pct(r.createdToBoundMs, 50))} p99 ${s(pct(r.createdToBoundMs, 99))}; creation → Running p50 ${s(pct(r.createdToRunningMs, 50))} p99 ${s(pct(r.createdToRunningMs, 99))}; ` +
        `most pods on one node ${r.maxPodsOnANode}; pods created ${r.podsCreated}, deleted ${r.podsDeleted}; warnings ${JSON.stringify(r.warnings)}`,
      `  CPU over the pods' part: ${r.serverCpuMs !== undefined ? `server ${s(r.serverCpuMs)} (${(r.serverCpuMs / r.allRunningMs).toFixed(2)} cores), ` : ""}` +
        `hollow agents ${s(r.agentsCpuMs)} (${(r.agentsCpuMs / r.allRunningMs).toFixed(2)} cores${r.agentProcesses ? `, ${r.agentProcesses} processes` : ""})` +
        (r.watcherCpuMs !== undefined ? `, the bench's watch ${s(r.watcherCpuMs)}` : ""),
    );
    if (r.idle) {
      const http = r.idle.requests.filter((x) => !x.what.startsWith("reconcile ")).reduce((a, x) => a + x.perSecond, 0);
      lines.push(
        `  idle (${r.idle.seconds.toFixed(0)} s, every node Ready, no pods yet): server ${r.idle.serverCores?.toFixed(2) ?? "?"} cores, hollow agents ${r.idle.agentsCores.toFixed(2)} cores; ` +
          `${http.toFixed(0)} requests/s: ${r.idle.requests
            .slice(0, 8)
            .map((x) => `${x.what} ${x.perSecond.toFixed(1)}/s`)
            .join(", ")}`,
      );
    }
    if (r.requests) {
      const http = r.requests.filter((x) => !x.what.startsWith("reconcile ")).reduce((a, x) => a + x.count, 0);
      lines.push(
        `  requests to the server: ${http} (${(http / r.pods).toFixed(1)} per pod): ` +
          r.requests
            .slice(0, 14)
            .map((x) => `${x.what} ${(x.count / r.pods).toFixed(2)}`)
            .join(", ") +
          " (per pod)",
      );
    }
    if (r.profile) {
      lines.push(`  server main thread (node --cpu-prof, whole run)${r.writerBusyPct !== undefined ? `; writer thread busy ${r.writerBusyPct} %` : ""}:`);
      for (const a of r.profile.slice(0, 12)) lines.push(`    ${a.area.padEnd(48)} ${String(a.pct).padStart(6)} %`);
    }
  }
  if (res.edgeSkipped) lines.push(`Worker: ${res.edgeSkipped}`);
  return lines.join("\n");
}
