/**
 * `npm run bench`: figures, not assertions. Store write/read throughput on the
 * embedded libSQL file, API request latency through the Node server, and the
 * scheduler's placement rate with 1,000 nodes, the kube-proxy data path against the direct
 * one. Prints plain lines, or JSON with -o json.
 *
 * `npm run bench -- edge [--nodes 10] [--pods 3] [--window 60] [--settle 15] [-o json]`
 * runs only the edge scenario (bench/edge.ts): what N idle nodes cost on Cloudflare.
 *
 * `npm run bench -- startup [--pods 20] [--rounds 3] [-o json]` runs only pod startup on
 * the real engine (bench/startup.ts): creation → Running through a watch, p50/p99.
 *
 * `npm run bench -- load [--concurrency 50] [--duration 30] [--sync full|normal] [--cpu-prof DIR] [-o json]`
 * runs only the API under load (bench/load.ts).
 */
import { joinArgs } from "../test/agent-e2e/process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { openDatabase } from "../node/db";
import { startServer } from "../node/server";
import type { KObject } from "../shared/types";
import { placePods } from "../workers/controllers/scheduling/place";
import { Store } from "../workers/store/store";
import { Agent, fetch } from "undici";
import { benchProxy } from "./proxy";

const json = process.argv.includes("-o") && process.argv[process.argv.indexOf("-o") + 1] === "json";
if (process.argv[2] === "edge") {
  const { values } = parseArgs({
    args: process.argv.slice(3),
    options: {
      nodes: { type: "string", default: "10" },
      pods: { type: "string", default: "3" },
      window: { type: "string", default: "60" },
      settle: { type: "string", default: "15" },
      output: { type: "string", short: "o" },
    },
  });
  const { benchEdge, edgeReport } = await import("./edge");
  const r = await benchEdge(
    { nodes: Number(values.nodes), podsPerNode: Number(values.pods), windowSeconds: Number(values.window), settleSeconds: Number(values.settle) },
    (m) => !json && console.error(m),
  );
  console.log(json ? JSON.stringify(r, null, 2) : edgeReport(r));
  process.exit(0);
}
if (process.argv[2] === "startup") {
  const { values } = parseArgs({
    args: process.argv.slice(3),
    options: { pods: { type: "string", default: "20" }, rounds: { type: "string", default: "3" }, output: { type: "string", short: "o" } },
  });
  const { benchStartup, startupReport } = await import("./startup");
  const r = await benchStartup({ pods: Number(values.pods), rounds: Number(values.rounds) }, (m) => !json && console.error(m));
  console.log(json ? JSON.stringify(typeof r === "string" ? { skipped: r } : r, null, 2) : startupReport(r));
  process.exit(0);
}
if (process.argv[2] === "load") {
  const { values } = parseArgs({
    args: process.argv.slice(3),
    options: {
      concurrency: { type: "string", default: "50" },
      duration: { type: "string", default: "30" },
      sync: { type: "string", default: "full" },
      "cpu-prof": { type: "string" },
      output: { type: "string", short: "o" },
    },
  });
  const { benchLoad, loadReport } = await import("./load");
  const r = await benchLoad(
    { concurrency: Number(values.concurrency), durationSeconds: Number(values.duration), sync: values.sync, cpuProfDir: values["cpu-prof"] },
    (m) => !json && console.error(m),
  );
  console.log(json ? JSON.stringify(r, null, 2) : loadReport(r));
  process.exit(0);
}
const results: Record<string, number | string> = {};
const report = (name: string, value: number, unit: string) => {
  results[name] = Number(value.toFixed(2));
  if (!json) console.log(`${name.padEnd(44)} ${value.toFixed(2).padStart(12)} ${unit}`);
};
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

const dir = mkdtempSync(join(tmpdir(), "kf-bench-"));
try {
  // ---- store
  const client = await openDatabase(`file:${join(dir, "store.db")}`, { synchronous: "NORMAL" });
  const store = new Store(client);
  const cm = (i: number): KObject => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `cm-${i}`, namespace: "bench", uid: `u-${i}`, labels: { app: `a${i % 10}` } },
    data: { v: String(i) },
  });
  let t = performance.now();
  const N = 2000;
  for (let i = 0; i < N; i++) await store.create({ resource: "configmaps", namespace: "bench", name: `cm-${i}` }, cm(i));
  report("store: sequential creates", N / ((performance.now() - t) / 1000), "writes/s");
  t = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < N; i += 8) {
        const cur = (await store.get({ resource: "configmaps", namespace: "bench", name: `cm-${i}` }))!;
        await store.update({ resource: "configmaps", namespace: "bench", name: `cm-${i}` }, { ...cur, data: { v: "x" } }, Number(cur.metadata.resourceVersion));
      }
    }),
  );
  report("store: read-modify-write, 8 writers", N / ((performance.now() - t) / 1000), "updates/s");
  const lat: number[] = [];
  for (let i = 0; i < 50; i++) {
    const s = performance.now();
    await store.list("configmaps", { namespace: "bench", labels: [{ key: "app", op: "=", values: ["a3"] }] });
    lat.push(performance.now() - s);
  }
  report("store: list 200 of 2000 by label, p50", pct(lat, 50), "ms");
  client.close();

  // ---- API through the Node server (HTTPS)
  const server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "server"), synchronous: "NORMAL", controllers: [], log: () => {} });
  const dispatcher = new Agent({ connect: { ca: server.caPem } });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      dispatcher,
      headers: { Authorization: `Bearer ${server.adminToken}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await res.text();
    return res.status;
  };
  const apiLat: number[] = [];
  for (let i = 0; i < 300; i++) {
    const s = performance.now();
    await call("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: `c${i}` }, data: { a: "b" } });
    apiLat.push(performance.now() - s);
  }
  report("api: create configmap, p50", pct(apiLat, 50), "ms");
  report("api: create configmap, p99", pct(apiLat, 99), "ms");
  const getLat: number[] = [];
  for (let i = 0; i < 300; i++) {
    const s = performance.now();
    await call("GET", `/api/v1/namespaces/default/configmaps/c${i}`);
    getLat.push(performance.now() - s);
  }
  report("api: get configmap, p99", pct(getLat, 99), "ms");
  await dispatcher.close();
  await server.close();

  // ---- scheduler placement
  const nodes = Array.from({ length: 1000 }, (_, i) => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: `n${i}`, labels: { "kubernetes.io/hostname": `n${i}`, zone: `z${i % 3}` } },
    spec: {},
    status: { allocatable: { cpu: "8", memory: "32Gi", pods: "110" }, conditions: [{ type: "Ready", status: "True" }] },
  })) as KObject[];
  const pods = Array.from({ length: 5000 }, (_, i) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `p${i}`,
      namespace: "default",
      creationTimestamp: "2026-01-01T00:00:00Z",
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `rs${i % 50}`, uid: `rs${i % 50}`, controller: true }],
    },
    spec: { containers: [{ name: "c", image: "i", resources: { requests: { cpu: "100m", memory: "128Mi" } } }] },
  })) as KObject[];
  t = performance.now();
  const placed = placePods(pods, nodes, []);
  const secs = (performance.now() - t) / 1000;
  report("scheduler: placement, 5000 pods on 1000 nodes", placed.bindings.length / secs, "pods/s");
  report("process: resident memory", process.memoryUsage().rss / 1024 / 1024, "MiB");

  // ---- kube-proxy: the kernel path next to the direct one, in network namespaces (root and nft)
  await benchProxy(report, (m) => !json && console.log(m));

  // ---- the node agent: a real kubeflare-agent process keeping 10 pods, when an engine is here
  await benchAgent(join(dir, "agent"));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (json) console.log(JSON.stringify(results, null, 2));

/** Resident memory and CPU of the agent process while it keeps 10 running pods in sync. */
async function benchAgent(base: string): Promise<void> {
  const { docker, containerd } = await import("../test/agent-e2e/engines");
  const engine = (await docker.available()) ? docker : (await containerd.available()) ? containerd : undefined;
  if (!engine) {
    if (!json) console.log("agent: skipped (no Docker or containerd with kubeflare/busybox:test; see scripts/test-image.sh)");
    return;
  }
  const { agentCli, AgentProcess } = await import("../test/agent-e2e/process");
  const server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(base, "server"), synchronous: "NORMAL", log: () => {} });
  const caFile = join(base, "ca.crt");
  writeFileSync(caFile, server.caPem);
  const config = join(base, "agent.json");
  const token = JSON.parse((await agentCli(["token", "create", "--kubeconfig", server.kubeconfigPath, "-o", "json"])).stdout).token;
  // hostNetwork pods only: no Service rules in the host's tables, and a pod network of
  // its own (removed after) rather than the default kf0
  await agentCli(
    joinArgs({
      server: server.url,
      token,
      name: "bench-box",
      runtime: engine.name,
      caFile,
      config,
      podBridge: "kfbench",
      podNetworkName: "kfbench",
    }),
  );
  const agent = new AgentProcess(config);
  agent.start();
  const dispatcher = new Agent({ connect: { ca: server.caPem } });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      dispatcher,
      headers: { Authorization: `Bearer ${server.adminToken}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return res.json() as Promise<any>;
  };
  try {
    const PODS = 10;
    for (let i = 0; i < PODS; i++) {
      await api("POST", "/api/v1/namespaces/default/pods", {
        metadata: { name: `bench-${i}` },
        spec: {
          nodeName: "bench-box",
          hostNetwork: true,
          terminationGracePeriodSeconds: 1,
          containers: [{ name: "c", image: "kubeflare/busybox:test", imagePullPolicy: "Never", command: ["sleep", "3600"] }],
        },
      });
    }
    const t0 = performance.now();
    for (;;) {
      const pods = (await api("GET", "/api/v1/namespaces/default/pods")).items ?? [];
      if (pods.filter((p: any) => p.status?.phase === "Running").length === PODS) break;
      if (performance.now() - t0 > 120_000) throw new Error("the agent did not start the bench pods within 2 minutes");
      await new Promise((r) => setTimeout(r, 200));
    }
    report(`agent: ${PODS} pods bound to Running (${engine.name})`, (performance.now() - t0) / 1000, "s");
    const pid = agent.pid()!;
    const ticks = () => {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100 per second)
    };
    const before = ticks();
    const WINDOW = 20;
    await new Promise((r) => setTimeout(r, WINDOW * 1000));
    report(`agent: CPU keeping ${PODS} pods in sync`, ((ticks() - before) / 100 / WINDOW) * 100, "% of a core");
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
    report(`agent: resident memory with ${PODS} pods`, rss / 1024, "MiB");
  } finally {
    await agent.kill("SIGTERM");
    for (const c of await engine.containers({ "io.kubeflare.node": "bench-box" })) await engine.remove(c.id);
    const { execFile } = await import("node:child_process");
    const quiet = (cmd: string, args: string[]) => new Promise((r) => execFile(cmd, args, () => r(undefined)));
    if (engine.name === "docker") await quiet("docker", ["network", "rm", "kfbench"]);
    await quiet("ip", ["link", "del", "kfbench"]);
    await dispatcher.close();
    await server.close();
  }
}
process.exit(0);
