/**
 * `npm run bench -- startup [--pods 20] [--rounds 3] [-o json]`: pod startup on the real
 * engine (issue #14, goal 1). The Node server and a real `kubeflare-agent` process on
 * Docker (else containerd); each round creates N hostNetwork busybox pods that sleep,
 * all at once, and a watch on the pods records when each is first reported Running.
 * Per pod: creation (its POST sent) → Running seen through the watch; per round: p50,
 * p99 and the time until all are Running. Medians over the rounds, with min and max,
 * next to the aim (p99 ≤ 1 s; Kubernetes' SLO is 5 s).
 */
import { joinArgs } from "../test/agent-e2e/process";
import { execFile } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ApiClient } from "../agent/api";
import { traceNow } from "../agent/trace";
import { startServer } from "../node/server";
import type { Figure } from "./figures";
import type { RefRound } from "./swarm";

export interface StartupRound {
  p50Ms: number;
  p99Ms: number;
  allRunningMs: number;
}

export interface RoundsSummary {
  rounds: StartupRound[];
  median: StartupRound;
  min: StartupRound;
  max: StartupRound;
}

export interface StartupResult extends RoundsSummary {
  engine: string;
  pods: number;
  aimP99Ms: number;
  pass: boolean;
  /** Docker Swarm on the same engine, same run (or why not) */
  swarm?: RoundsSummary | string;
  /** the engine alone, N containers created and started at once: the floor */
  dockerAlone?: RoundsSummary;
}

const AIM_P99_MS = 1000;
/** Kubeflare's time to all running against Swarm's (issue #14, goal 2) */
const AIM_SWARM_RATIO = 0.5;
const IMAGE = "kubeflare/busybox:test";
const NODE = "startup-box";
const NS = "default";

/** KUBEFLARE_TRACE=FILE: the agent and this benchmark write each pod's steps there (agent/trace.ts), summed up at the end */
const TRACE = process.env.KUBEFLARE_TRACE || undefined;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const median = (xs: number[]) => pct(xs, 50);

export async function benchStartup(o: { pods: number; rounds: number; noSwarm?: boolean }, log: (m: string) => void): Promise<StartupResult | string> {
  const { docker, containerd } = await import("../test/agent-e2e/engines");
  const engine = (await docker.available()) ? docker : (await containerd.available()) ? containerd : undefined;
  if (!engine) return "skipped: no Docker or containerd with kubeflare/busybox:test (see scripts/test-image.sh)";
  const { agentCli, AgentProcess } = await import("../test/agent-e2e/process");
  const base = mkdtempSync(join(tmpdir(), "kf-bench-startup-"));
  const server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(base, "server"), synchronous: "NORMAL", log: () => {} });
  const caFile = join(base, "ca.crt");
  writeFileSync(caFile, server.caPem);
  const config = join(base, "agent.json");
  const token = JSON.parse((await agentCli(["token", "create", "--kubeconfig", server.kubeconfigPath, "-o", "json"])).stdout).token;
  const joined = await agentCli(
    joinArgs({ server: server.url, token, name: NODE, runtime: engine.name, caFile, config, podBridge: "kfstartup", podNetworkName: "kfstartup" }),
  );
  if (joined.code !== 0) throw new Error(`kubeflare-agent join failed: ${joined.stderr}`);
  const agent = new AgentProcess(config);
  agent.start();
  const api = new ApiClient({ server: server.url, token: server.adminToken, caPem: server.caPem });
  const ac = new AbortController();
  try {
    // the node is there and Ready before the clock starts
    for (const t0 = performance.now(); ; ) {
      const node = await api.find(`/api/v1/nodes/${NODE}`);
      if (node?.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True")) break;
      if (performance.now() - t0 > 60_000) throw new Error(`the agent did not register within a minute:\n${agent.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    /** one round of Kubeflare's: N pods POSTed at once, each one's creation → Running seen through the watch */
    const kubeflareRound = async (round: number): Promise<StartupRound> => {
      const names = Array.from({ length: o.pods }, (_, i) => `startup-${round}-${i}`);
      const created = new Map<string, number>();
      const running = new Map<string, number>();
      let allSeen!: () => void;
      const all = new Promise<void>((r) => (allSeen = r));
      const list = await api.request<{ metadata: { resourceVersion: string } }>("GET", `/api/v1/namespaces/${NS}/pods`);
      const watching = api
        .watch(
          `/api/v1/namespaces/${NS}/pods`,
          list.metadata.resourceVersion,
          (ev) => {
            const name = ev.object.metadata.name!;
            if (ev.type === "BOOKMARK" || running.has(name) || !created.has(name) || ev.object.status?.phase !== "Running") return;
            running.set(name, performance.now());
            if (running.size === o.pods) allSeen();
          },
          ac.signal,
        )
        .catch((e) => {
          if (!ac.signal.aborted) throw e;
        });
      const uids = new Map<string, string>();
      const posted = new Map<string, number>();
      await Promise.all(
        names.map(async (name) => {
          created.set(name, performance.now());
          const epoch = traceNow();
          const made = await api.request<{ metadata: { uid: string } }>("POST", `/api/v1/namespaces/${NS}/pods`, {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name },
            spec: {
              nodeName: NODE,
              hostNetwork: true,
              automountServiceAccountToken: false,
              terminationGracePeriodSeconds: 1,
              containers: [{ name: "c", image: IMAGE, imagePullPolicy: "Never", command: ["sleep", "3600"] }],
            },
          });
          uids.set(name, made.metadata.uid);
          posted.set(name, epoch);
          if (TRACE) appendFileSync(TRACE, `${epoch.toFixed(1)} ${made.metadata.uid} post\n${traceNow().toFixed(1)} ${made.metadata.uid} posted\n`);
        }),
      );
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("the pods were not all Running within 2 minutes")), 120_000).unref());
      await Promise.race([all, timeout, watching.then(() => Promise.reject(new Error("the watch ended")))]);
      const lat = names.map((n) => running.get(n)! - created.get(n)!);
      if (TRACE)
        for (const n of names) appendFileSync(TRACE, `${(posted.get(n)! + running.get(n)! - created.get(n)!).toFixed(1)} ${uids.get(n)} seen-running\n`);
      const r = { p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), allRunningMs: Math.max(...running.values()) - Math.min(...created.values()) };
      // clean slate for the next round: the pods deleted and confirmed gone by the agent
      await Promise.all(names.map((n) => api.request("DELETE", `/api/v1/namespaces/${NS}/pods/${n}`).catch(() => undefined)));
      for (const t0 = performance.now(); ; ) {
        const left = await api.request<{ items: unknown[] }>("GET", `/api/v1/namespaces/${NS}/pods`);
        if (!left.items.length) break;
        if (performance.now() - t0 > 120_000) throw new Error("the pods were not gone within 2 minutes");
        await new Promise((r) => setTimeout(r, 200));
      }
      return r;
    };
    const fmt = (r: StartupRound) => `p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms, all ${o.pods} running after ${r.allRunningMs.toFixed(0)} ms`;
    const asRound = (x: RefRound): StartupRound => ({ p50Ms: pct(x.latencies, 50), p99Ms: pct(x.latencies, 99), allRunningMs: x.allRunningMs });
    // on Docker, the references in the same run: Swarm and the bare engine, rounds alternating with Kubeflare's
    const refs = engine.name === "docker" && !o.noSwarm ? await import("./swarm") : undefined;
    const swarm = refs ? await refs.BenchSwarm.join() : undefined;
    if (typeof swarm === "string") log(`swarm: skipped: ${swarm}`);
    const rounds: StartupRound[] = [];
    const swarmRounds: StartupRound[] = [];
    const engineRounds: StartupRound[] = [];
    try {
      for (let round = 0; round < o.rounds; round++) {
        const tag = `${process.pid}-${round}`;
        const steps: (() => Promise<void>)[] = [
          async () => {
            const r = await kubeflareRound(round);
            rounds.push(r);
            log(`round ${round + 1}/${o.rounds}: kubeflare: ${fmt(r)}`);
          },
        ];
        if (refs) {
          steps.push(async () => {
            const r = asRound(await refs.engineRound(IMAGE, o.pods, tag));
            engineRounds.push(r);
            log(`round ${round + 1}/${o.rounds}: docker alone: ${fmt(r)}`);
          });
          if (swarm && typeof swarm !== "string")
            steps.push(async () => {
              const r = asRound(await swarm.round(IMAGE, o.pods, tag));
              swarmRounds.push(r);
              log(`round ${round + 1}/${o.rounds}: swarm: ${fmt(r)}`);
            });
        }
        // alternating: Kubeflare first in even rounds, last in odd ones
        for (const step of round % 2 ? steps.reverse() : steps) await step();
      }
    } finally {
      if (swarm && typeof swarm !== "string") await swarm.leave();
    }
    const summary = (rs: StartupRound[]) => {
      const pick = (f: (xs: number[]) => number) => ({
        p50Ms: f(rs.map((r) => r.p50Ms)),
        p99Ms: f(rs.map((r) => r.p99Ms)),
        allRunningMs: f(rs.map((r) => r.allRunningMs)),
      });
      return { rounds: rs, median: pick(median), min: pick((xs) => Math.min(...xs)), max: pick((xs) => Math.max(...xs)) };
    };
    const med = summary(rounds).median;
    if (TRACE && existsSync(TRACE)) log(traceSummary(readFileSync(TRACE, "utf8")));
    return {
      engine: engine.name,
      pods: o.pods,
      ...summary(rounds),
      aimP99Ms: AIM_P99_MS,
      pass: med.p99Ms <= AIM_P99_MS,
      swarm: swarmRounds.length ? summary(swarmRounds) : typeof swarm === "string" ? swarm : refs ? undefined : "no Docker",
      dockerAlone: engineRounds.length ? summary(engineRounds) : undefined,
    };
  } finally {
    ac.abort();
    await agent.kill("SIGTERM");
    for (const c of await engine.containers({ "io.kubeflare.node": NODE })) await engine.remove(c.id);
    const quiet = (cmd: string, args: string[]) => new Promise((r) => execFile(cmd, args, () => r(undefined)));
    if (engine.name === "docker") await quiet("docker", ["network", "rm", "kfstartup"]);
    await quiet("ip", ["link", "del", "kfstartup"]);
    await api.close();
    await server.close();
    rmSync(base, { recursive: true, force: true });
  }
}

/** Per round, Kubeflare's time to all running over Swarm's (rounds paired as they ran, alternating); their median, min and max. */
export const swarmRatio = (r: StartupResult): { value: number; min: number; max: number } | undefined => {
  if (!r.swarm || typeof r.swarm === "string") return undefined;
  const sw = r.swarm.rounds;
  const xs = r.rounds.slice(0, sw.length).map((k, i) => k.allRunningMs / sw[i].allRunningMs);
  return { value: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
};

/**
 * Per round, the bare engine's time to all running over Swarm's: the lowest ratio an
 * orchestrator on this engine could reach in this run (it must still create and start
 * every container); the aim (≤ 0.5) is out of reach wherever this is above it.
 */
export const floorRatio = (r: StartupResult): { value: number; min: number; max: number } | undefined => {
  if (!r.swarm || typeof r.swarm === "string" || !r.dockerAlone) return undefined;
  const sw = r.swarm.rounds;
  const xs = r.dockerAlone.rounds.slice(0, sw.length).map((k, i) => k.allRunningMs / sw[i].allRunningMs);
  return xs.length ? { value: median(xs), min: Math.min(...xs), max: Math.max(...xs) } : undefined;
};

/** The result as a small table: figure, median (min–max), aim, pass/miss. */
export function startupReport(r: StartupResult | string): string {
  if (typeof r === "string") return `startup: ${r}`;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const row = (figure: string, x: RoundsSummary, k: keyof StartupRound, aim = "", verdict = "") =>
    `${figure.padEnd(40)} ${`${s(x.median[k])} (${s(x.min[k])}–${s(x.max[k])})`.padEnd(24)} ${aim.padEnd(10)} ${verdict}`;
  const lines = [
    `pod startup: ${r.pods} hostNetwork pods on ${r.engine}, creation → Running seen through a watch, median of ${r.rounds.length} rounds (min–max)`,
    `${"figure".padEnd(40)} ${"measured".padEnd(24)} ${"aim".padEnd(10)} result`,
    row("per pod, p50", r, "p50Ms"),
    row("per pod, p99", r, "p99Ms", "≤ 1.00 s", r.pass ? "pass" : "miss"),
    row(`all ${r.pods} running`, r, "allRunningMs"),
  ];
  if (r.swarm && typeof r.swarm !== "string") {
    const ratio = swarmRatio(r)!;
    lines.push(
      row("Swarm: per replica, p50", r.swarm, "p50Ms", "> kubeflare", r.median.p50Ms < r.swarm.median.p50Ms ? "pass" : "miss"),
      row(`Swarm: all ${r.pods} running`, r.swarm, "allRunningMs"),
      `${"all running, kubeflare ÷ Swarm".padEnd(40)} ${`${ratio.value.toFixed(2)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`.padEnd(24)} ${`≤ ${AIM_SWARM_RATIO}`.padEnd(10)} ${ratio.value <= AIM_SWARM_RATIO ? "pass" : "miss"}`,
    );
  } else lines.push(`Swarm: skipped: ${r.swarm ?? "not asked"}`);
  if (r.dockerAlone) lines.push(row("docker alone: p50", r.dockerAlone, "p50Ms"), row(`docker alone: all ${r.pods} running`, r.dockerAlone, "allRunningMs"));
  const floor = floorRatio(r);
  if (floor)
    lines.push(
      `${"all running, docker alone ÷ Swarm (floor)".padEnd(40)} ${`${floor.value.toFixed(2)} (${floor.min.toFixed(2)}–${floor.max.toFixed(2)})`.padEnd(24)}`,
    );
  return lines.join("\n");
}

/** The figures for the harness's table: per-pod p50 and p99 (the aim), and all running; medians over the rounds with min and max; Swarm's and the bare engine's beside them. */
export function startupFigures(r: StartupResult): Figure[] {
  const s = (x: RoundsSummary, k: keyof StartupRound) => ({ value: x.median[k] / 1000, min: x.min[k] / 1000, max: x.max[k] / 1000, unit: "s" });
  const out: Figure[] = [
    { name: `pod startup (${r.pods} pods, ${r.engine}): creation → Running via watch, p50`, ...s(r, "p50Ms") },
    {
      name: `pod startup (${r.pods} pods, ${r.engine}): creation → Running via watch, p99`,
      ...s(r, "p99Ms"),
      aim: { op: "<=", value: r.aimP99Ms / 1000 },
      reference: "issue #14; Kubernetes' SLO 5 s",
    },
    { name: `pod startup: all ${r.pods} Running`, ...s(r, "allRunningMs") },
  ];
  if (r.swarm && typeof r.swarm !== "string") {
    out.push(
      {
        name: `Docker Swarm, same engine and run: ${r.pods} replicas, per replica p50`,
        ...s(r.swarm, "p50Ms"),
        aim: { op: ">=", value: r.median.p50Ms / 1000 },
        reference: "above kubeflare's p50 (issue #14)",
      },
      { name: `Docker Swarm: all ${r.pods} running`, ...s(r.swarm, "allRunningMs") },
      {
        name: "pod startup: all running, kubeflare ÷ Swarm (per round)",
        ...swarmRatio(r)!,
        unit: "×",
        aim: { op: "<=", value: AIM_SWARM_RATIO },
        reference: "issue #14",
      },
    );
  }
  if (r.dockerAlone)
    out.push(
      { name: `docker alone (no orchestrator): ${r.pods} containers created and started at once, p50`, ...s(r.dockerAlone, "p50Ms") },
      { name: `docker alone: all ${r.pods} running`, ...s(r.dockerAlone, "allRunningMs") },
    );
  const floor = floorRatio(r);
  if (floor)
    out.push({
      name: "pod startup: all running, docker alone ÷ Swarm (per round)",
      ...floor,
      unit: "×",
      reference: "the floor of the ratio above: no orchestrator could go below it on this engine in this run",
    });
  return out;
}

/**
 * Where the time went, from a trace (agent/trace.ts): for each step, when pods reached it
 * after their POST was sent (first occurrence per pod), p50 and max over all pods.
 */
export function traceSummary(text: string): string {
  const byUid = new Map<string, Map<string, number>>();
  for (const line of text.split("\n")) {
    const [t, uid, ...rest] = line.split(" ");
    if (!uid) continue;
    const steps = byUid.get(uid) ?? new Map<string, number>();
    byUid.set(uid, steps);
    const step = rest.join(" ");
    if (!steps.has(step)) steps.set(step, Number(t));
  }
  const offsets = new Map<string, number[]>();
  for (const steps of byUid.values()) {
    const t0 = steps.get("post");
    if (t0 === undefined) continue;
    for (const [step, t] of steps) offsets.set(step, [...(offsets.get(step) ?? []), t - t0]);
  }
  const rows = [...offsets].map(([step, xs]) => ({ step, p50: pct(xs, 50), max: Math.max(...xs), n: xs.length })).sort((a, b) => a.p50 - b.p50);
  return [
    "trace: step, ms after the POST (p50 / max over pods)",
    ...rows.map((r) => `  ${r.step.padEnd(20)} ${r.p50.toFixed(0).padStart(6)} ${r.max.toFixed(0).padStart(6)}  (${r.n})`),
  ].join("\n");
}
