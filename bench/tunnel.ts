/**
 * Streams through the agent tunnel (issue #13): exec round-trip latency (a byte of stdin
 * to `cat` and back, over v5.channel.k8s.io, in one open session) and port-forward
 * throughput (kubectl 1.33 port-forward, a 64 MiB file from the pod's httpd), on the
 * Node server and on the Worker in Miniflare, with the real NodeAgent on Docker joined
 * by a node credential. Scenario shape: bench/figures.ts.
 *
 *   npx tsx bench/tunnel.ts [-o json]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import { DockerRuntime } from "../agent/runtime/docker";
import { docker, IMAGE } from "../test/agent-e2e/engines";
import { eventually } from "../test/kubectl";
import { hostAgentOptions, joinNode, portForward, startControlPlane, stopHostAgent } from "../test/host-agent";
import { apiOf } from "../test/tunnel-suite";
import type { Figure } from "./figures";

export interface TunnelRuntimeResult {
  /** exec round trips, ms */
  execRttMs: number[];
  /** port-forward: bytes and seconds of each download */
  forwardMBps: number[];
}

export interface TunnelBenchResult {
  node: TunnelRuntimeResult;
  worker: TunnelRuntimeResult;
  fileMiB: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const median = (xs: number[]) => quantile(xs, 0.5);

const FILE_MIB = Number(process.env.TUNNEL_BENCH_MIB ?? 32);

async function onRuntime(runtime: "node" | "worker", o: { roundTrips: number; downloads: number }, say: (m: string) => void): Promise<TunnelRuntimeResult> {
  const NODE = `bench-tun-${runtime}-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), `kf-bench-tun-${runtime}-`));
  const { env, close } = await startControlPlane(runtime);
  const api = apiOf(env);
  const agent = new NodeAgent({
    api: new ApiClient({ server: env.url, token: await joinNode(api, NODE), caPem: env.ca }),
    runtime: new DockerRuntime(),
    nodeName: NODE,
    ...hostAgentOptions(dir),
    log: () => {},
  });
  try {
    await agent.start();
    const pod = (name: string, command: string[]) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: {
        nodeName: NODE,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "main", image: IMAGE, imagePullPolicy: "Never", command }],
      },
    });
    await api("POST", "/api/v1/namespaces/default/pods", pod("shell", ["sleep", "infinity"]));
    await api(
      "POST",
      "/api/v1/namespaces/default/pods",
      pod("files", [
        "sh",
        "-c",
        `mkdir -p /www && dd if=/dev/urandom of=/www/big bs=1048576 count=${FILE_MIB} 2>/dev/null && echo ok > /www/ready && exec httpd -f -p 8080 -h /www`,
      ]),
    );
    for (const name of ["shell", "files"]) {
      await eventually(async () => (await api("GET", `/api/v1/namespaces/default/pods/${name}`)).json?.status?.phase === "Running", 60_000);
    }

    say(`${runtime}: exec round trips`);
    const ws = new WebSocket(
      `${env.url.replace(/^http/, "ws")}/api/v1/namespaces/default/pods/shell/exec?command=cat&stdin=true&stdout=true`,
      ["v5.channel.k8s.io"],
      { ca: env.ca, headers: { Authorization: `Bearer ${env.admin}` } },
    );
    await new Promise((r, j) => {
      ws.once("open", r);
      ws.once("error", j);
      ws.once("unexpected-response", (_q, res) => j(new Error(`exec refused: ${res.statusCode}`)));
    });
    const execRttMs: number[] = [];
    let waiting: (() => void) | undefined;
    ws.on("message", (d: Buffer) => {
      if (d[0] === 1) waiting?.();
    });
    for (let i = 0; i < o.roundTrips + 5; i++) {
      const t0 = performance.now();
      await new Promise<void>((r) => {
        waiting = r;
        ws.send(Buffer.from([0, 0x61, 0x0a]));
      });
      if (i >= 5) execRttMs.push(performance.now() - t0);
    }
    ws.close();

    say(`${runtime}: port-forward downloads`);
    const pf = await portForward(env.kubeconfigPath, "pod/files", 8080);
    const { port } = pf;
    const forwardMBps: number[] = [];
    try {
      // httpd starts once the file is made
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.text())) === "ok\n", 30_000, 500);
      for (let i = 0; i < o.downloads; i++) {
        const t0 = performance.now();
        const r = await fetch(`http://127.0.0.1:${port}/big`);
        const n = (await r.arrayBuffer()).byteLength;
        const s = (performance.now() - t0) / 1000;
        if (n !== FILE_MIB * 1048576) throw new Error(`port-forward download got ${n} bytes`);
        forwardMBps.push(n / 1e6 / s);
      }
    } finally {
      pf.stop();
    }
    return { execRttMs, forwardMBps };
  } finally {
    await stopHostAgent(agent, docker, NODE, close, dir);
  }
}

export async function benchTunnel(
  o: { roundTrips?: number; downloads?: number } = {},
  say: (m: string) => void = () => {},
): Promise<TunnelBenchResult | string> {
  if (!(await docker.available())) return `skipped: Docker not reachable or ${IMAGE} missing`;
  const opts = { roundTrips: o.roundTrips ?? 200, downloads: o.downloads ?? 3 };
  const node = await onRuntime("node", opts, say);
  const worker = await onRuntime("worker", opts, say);
  return { node, worker, fileMiB: FILE_MIB };
}

export const tunnelFigures = (r: TunnelBenchResult | string): Figure[] => {
  if (typeof r === "string") return [];
  const out: Figure[] = [];
  for (const [name, x] of [
    ["Node server", r.node],
    ["Worker (Miniflare)", r.worker],
  ] as const) {
    out.push({
      name: `exec round trip p50, ${name}`,
      value: median(x.execRttMs),
      unit: "ms",
      reference: "stdin → cat → stdout in one v5.channel.k8s.io session",
      samples: x.execRttMs,
    });
    out.push({ name: `exec round trip p99, ${name}`, value: quantile(x.execRttMs, 0.99), unit: "ms" });
    out.push({
      name: `port-forward throughput, ${name}`,
      value: median(x.forwardMBps),
      min: Math.min(...x.forwardMBps),
      max: Math.max(...x.forwardMBps),
      unit: "MB/s",
      reference: `kubectl 1.33 port-forward, ${r.fileMiB} MiB over HTTP`,
      samples: x.forwardMBps,
    });
  }
  return out;
};

export const tunnelReport = (r: TunnelBenchResult | string): string => {
  if (typeof r === "string") return `streams through the agent tunnel: ${r}`;
  return [
    "streams through the agent tunnel (real agent on Docker)",
    ...tunnelFigures(r).map((f) => `  ${f.name.padEnd(48)} ${f.value.toFixed(2).padStart(10)} ${f.unit}`),
  ].join("\n");
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const json = process.argv.includes("json");
  const r = await benchTunnel({}, (m) => !json && console.error(m));
  console.log(json ? JSON.stringify(typeof r === "string" ? { skipped: r } : { figures: tunnelFigures(r) }, null, 2) : tunnelReport(r));
  process.exit(0);
}
