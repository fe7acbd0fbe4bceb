/**
 * Streams through the agent tunnel (issue #13): on the Node server and on the Worker in
 * Miniflare, each with a real NodeAgent on Docker (else containerd) holding its tunnel:
 * - exec round trip: one `cat` session over v5.channel.k8s.io; a 64-byte line written on
 *   stdin until it comes back on stdout, 200 times (p50, p99);
 * - exec of `true`: from the WebSocket's dial to the Success status (p50 of 20);
 * - port-forward throughput: `kubectl port-forward` (1.33: SPDY inside WebSocket) and a
 *   64 MiB file fetched through it from a server on the pod's loopback (median of 3, MB/s).
 * Figures are for information (the issue sets no aim).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import type { ContainerRuntime } from "../agent/runtime/runtime";
import type { Figure } from "./figures";

export interface StreamsTargetResult {
  target: "node" | "worker";
  execRoundTripP50Ms: number;
  execRoundTripP99Ms: number;
  execRunP50Ms: number;
  portForwardMBps: number;
  portForwardMBpsMin: number;
  portForwardMBpsMax: number;
}

export interface StreamsResult {
  engine: string;
  targets: StreamsTargetResult[];
}

const NS = "default";
const FILE_MB = 64;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

interface Env {
  url: string;
  caPem: string;
  adminToken: string;
  kubeconfigPath: string;
  /** a node credential for `node` */
  credential(node: string): Promise<string>;
  close(): Promise<void>;
}

async function nodeEnv(dir: string): Promise<Env> {
  const { startServer } = await import("../node/server");
  const server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "server"), synchronous: "NORMAL", controllers: [], log: () => {} });
  return {
    url: server.url,
    caPem: server.caPem,
    adminToken: server.adminToken,
    kubeconfigPath: server.kubeconfigPath,
    credential: async (node) => (await server.registry.nodes.issue(node)).token,
    close: () => server.close(),
  };
}

async function workerEnv(): Promise<Env> {
  const { startWorkerTarget, send } = await import("../test/targets");
  const t = await startWorkerTarget({ https: true });
  return {
    url: t.url!.replace(/\/$/, ""),
    caPem: t.caPem!,
    adminToken: t.token,
    kubeconfigPath: t.kubeconfigPath!,
    credential: async (node) => {
      const tok = await send(t, "POST", "/apis/kubeflare.dev/v1/bootstraptokens", { maxNodes: 1 });
      return (await send(t, "POST", "/apis/kubeflare.dev/v1/join", { nodeName: node }, {}, tok.json.token)).json.token;
    },
    close: () => t.close(),
  };
}

/** an exec WebSocket (v5.channel.k8s.io) to the pod's container */
const execWs = (env: Env, pod: string, command: string[], stdin: boolean) => {
  const q = new URLSearchParams([...command.map((c) => ["command", c]), ["container", "main"], ["stdout", "true"], ...(stdin ? [["stdin", "true"]] : [])]);
  return new WebSocket(`${env.url.replace(/^http/, "ws")}/api/v1/namespaces/${NS}/pods/${pod}/exec?${q}`, ["v5.channel.k8s.io"], {
    headers: { Authorization: `Bearer ${env.adminToken}` },
    ca: env.caPem,
  });
};

async function measure(
  env: Env,
  target: "node" | "worker",
  runtime: ContainerRuntime,
  engineName: string,
  log: (m: string) => void,
): Promise<StreamsTargetResult> {
  const { eventually, kubectl } = await import("../test/kubectl");
  const { LABELS } = await import("../agent/runtime/runtime");
  const { docker, containerd } = await import("../test/agent-e2e/engines");
  const engine = engineName === "docker" ? docker : containerd;
  const node = `bench-streams-${target}-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), `kf-bench-streams-${target}-`));
  const admin = new ApiClient({ server: env.url, token: env.adminToken, caPem: env.caPem });
  const agent = new NodeAgent({
    api: new ApiClient({ server: env.url, token: await env.credential(node), caPem: env.caPem }),
    runtime,
    nodeName: node,
    nodeIP: "127.0.0.1",
    dataDir: join(dir, "agent"),
    pauseImage: "kubeflare/pause:test",
    clusterDNS: "",
    dnsListen: null,
    syncIntervalMs: 300,
    log: () => {},
  });
  try {
    await agent.start();
    const pod = (name: string, command: string[]) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: NS },
      spec: {
        nodeName: node,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "main", image: "kubeflare/busybox:test", command }],
      },
    });
    await admin.request("POST", `/api/v1/namespaces/${NS}/pods`, pod("cat", ["sleep", "infinity"]));
    await admin.request(
      "POST",
      `/api/v1/namespaces/${NS}/pods`,
      pod("big", ["sh", "-c", `mkdir -p /www && head -c ${FILE_MB * 1024 * 1024} /dev/zero > /www/f && exec httpd -f -p 127.0.0.1:8080 -h /www`]),
    );
    for (const name of ["cat", "big"])
      await eventually(async () => (await admin.get(`/api/v1/namespaces/${NS}/pods/${name}`)).status?.phase === "Running", 60_000);

    // exec round trips on one cat session
    log(`${target}: exec round trips`);
    const ws = execWs(env, "cat", ["cat"], true);
    const rtts: number[] = [];
    await eventually(async () => ws.readyState === WebSocket.OPEN || (ws.readyState > 1 ? Promise.reject(new Error("exec refused")) : false), 30_000);
    let waiting: (() => void) | undefined;
    let got = 0;
    ws.on("message", (d: Buffer) => {
      if (d[0] !== 1) return;
      got += d.length - 1;
      if (got >= 65 && waiting) {
        got -= 65;
        waiting();
      }
    });
    const line = Buffer.concat([Buffer.from([0]), Buffer.from(`${"x".repeat(64)}\n`)]);
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await new Promise<void>((r) => {
        waiting = r;
        ws.send(line);
      });
      rtts.push(performance.now() - t0);
    }
    ws.close();

    // exec of `true`, dial to status
    log(`${target}: exec runs`);
    const runs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        const w = execWs(env, "cat", ["true"], false);
        w.on("message", (d: Buffer) => d[0] === 3 && d.length > 1 && resolve());
        w.on("error", reject);
        w.on("close", () => resolve());
      });
      runs.push(performance.now() - t0);
    }

    // port-forward throughput
    log(`${target}: port-forward throughput`);
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    const pf = kubectl(env.kubeconfigPath, "1.33").spawn(["port-forward", "pod/big", `${port}:8080`]);
    const rates: number[] = [];
    try {
      await eventually(async () => pf.output().includes("Forwarding from"), 30_000);
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const res = await fetch(`http://127.0.0.1:${port}/f`);
        const bytes = (await res.arrayBuffer()).byteLength;
        if (bytes !== FILE_MB * 1024 * 1024) throw new Error(`port-forward: got ${bytes} bytes`);
        rates.push(bytes / 1e6 / ((performance.now() - t0) / 1000));
      }
    } finally {
      pf.kill();
    }
    for (const c of await engine.containers({ [LABELS.node]: node })) await engine.remove(c.id);
    return {
      target,
      execRoundTripP50Ms: pct(rtts, 50),
      execRoundTripP99Ms: pct(rtts, 99),
      execRunP50Ms: pct(runs, 50),
      portForwardMBps: pct(rates, 50),
      portForwardMBpsMin: Math.min(...rates),
      portForwardMBpsMax: Math.max(...rates),
    };
  } finally {
    await agent.stop();
    for (const c of await engine.containers({ [LABELS.node]: node })) await engine.remove(c.id);
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchStreams(o: { targets?: ("node" | "worker")[] } = {}, log: (m: string) => void = () => {}): Promise<StreamsResult | string> {
  const { docker, containerd } = await import("../test/agent-e2e/engines");
  const engine = (await docker.available()) ? docker : (await containerd.available()) ? containerd : undefined;
  if (!engine) return "skipped: no Docker or containerd with kubeflare/busybox:test (see scripts/test-image.sh)";
  const base = mkdtempSync(join(tmpdir(), "kf-bench-streams-"));
  const targets: StreamsTargetResult[] = [];
  try {
    for (const target of o.targets ?? ["node", "worker"]) {
      const env = target === "node" ? await nodeEnv(base) : await workerEnv();
      try {
        const runtime: ContainerRuntime =
          engine.name === "docker"
            ? new (await import("../agent/runtime/docker")).DockerRuntime()
            : new (await import("../agent/runtime/containerd")).ContainerdRuntime(join(base, `runtime-${target}`));
        targets.push(await measure(env, target, runtime, engine.name, log));
      } finally {
        await env.close();
      }
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  return { engine: engine.name, targets };
}

const label = (t: "node" | "worker") => (t === "node" ? "Node" : "Worker (Miniflare)");

export function streamsFigures(r: StreamsResult | string): Figure[] {
  if (typeof r === "string") return [];
  return r.targets.flatMap((t) => [
    {
      name: `streams ${label(t.target)}: port-forward throughput`,
      value: t.portForwardMBps,
      unit: "MB/s",
      min: t.portForwardMBpsMin,
      max: t.portForwardMBpsMax,
    },
    { name: `streams ${label(t.target)}: exec round trip p50`, value: t.execRoundTripP50Ms, unit: "ms" },
    { name: `streams ${label(t.target)}: exec round trip p99`, value: t.execRoundTripP99Ms, unit: "ms" },
    { name: `streams ${label(t.target)}: exec of true, p50`, value: t.execRunP50Ms, unit: "ms" },
  ]);
}

export function streamsReport(r: StreamsResult | string): string {
  if (typeof r === "string") return `streams: ${r}`;
  const rows = r.targets.map(
    (t) =>
      `  ${label(t.target).padEnd(20)} port-forward ${t.portForwardMBps.toFixed(1)} MB/s (${t.portForwardMBpsMin.toFixed(1)}–${t.portForwardMBpsMax.toFixed(1)}), ` +
      `exec round trip p50 ${t.execRoundTripP50Ms.toFixed(2)} ms p99 ${t.execRoundTripP99Ms.toFixed(2)} ms, exec of true p50 ${t.execRunP50Ms.toFixed(0)} ms`,
  );
  return [`streams through the agent tunnel (agent on ${r.engine}):`, ...rows].join("\n");
}

if (process.argv[1] && /bench\/streams\.ts$/.test(process.argv[1])) {
  const r = await benchStreams({}, (m) => console.error(m));
  console.log(process.argv.includes("json") ? JSON.stringify(r, null, 2) : streamsReport(r));
  process.exit(0);
}
