/**
 * `npm run bench -- agent [--pods 10] [--duration 20]`: the node agent's footprint
 * (issue #14, goal 5). A real `kubeflare-agent` process on Docker (else containerd)
 * keeping N hostNetwork busybox pods in sync: its resident memory and its CPU over an
 * idle window, next to the aims (≤ 45 MB, ≤ 0.5 % of a core; k3s' agent: 275 MB). The
 * window starts SETTLE_SECONDS after the last pod turned Running: until then the agent is
 * still finishing the start (the pods' status, their first stats, the engine's event tail),
 * which the bench reports on its own line.
 * Needs an engine with kubeflare/busybox:test (scripts/test-image.sh).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ApiClient } from "../agent/api";
import { startServer } from "../node/server";
import { joinArgs } from "../test/agent-e2e/process";
import type { Figure } from "./figures";

export interface AgentResult {
  engine: string;
  pods: number;
  windowSeconds: number;
  startSeconds: number;
  rssMB: number;
  cpuPercent: number;
  /** CPU over the SETTLE_SECONDS right after the last pod turned Running */
  settleCpuPercent: number;
}

const NODE = "bench-box";
const SETTLE_SECONDS = 10;

export async function benchAgent(o: { pods: number; duration: number }, say: (m: string, fraction?: number) => void = () => {}): Promise<AgentResult | string> {
  const { docker, containerd } = await import("../test/agent-e2e/engines");
  const engine = (await docker.available()) ? docker : (await containerd.available()) ? containerd : undefined;
  if (!engine) return "skipped: no Docker or containerd with kubeflare/busybox:test (see scripts/test-image.sh)";
  const { agentCli, AgentProcess } = await import("../test/agent-e2e/process");
  const base = mkdtempSync(join(tmpdir(), "kf-bench-agent-"));
  const server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(base, "server"), synchronous: "NORMAL", log: () => {} });
  const caFile = join(base, "ca.crt");
  writeFileSync(caFile, server.caPem);
  const config = join(base, "agent.json");
  const token = JSON.parse((await agentCli(["token", "create", "--kubeconfig", server.kubeconfigPath, "-o", "json"])).stdout).token;
  // hostNetwork pods only: no Service rules in the host's tables, and a pod network of its own (removed after)
  await agentCli(joinArgs({ server: server.url, token, name: NODE, runtime: engine.name, caFile, config, podBridge: "kfbench", podNetworkName: "kfbench" }));
  const agent = new AgentProcess(config);
  agent.start();
  const api = new ApiClient({ server: server.url, token: server.adminToken, caPem: server.caPem });
  try {
    say(`agent: starting ${o.pods} pods on ${engine.name}`, 0);
    for (let i = 0; i < o.pods; i++)
      await api.request("POST", "/api/v1/namespaces/default/pods", {
        metadata: { name: `bench-${i}` },
        spec: {
          nodeName: NODE,
          hostNetwork: true,
          terminationGracePeriodSeconds: 1,
          containers: [{ name: "c", image: "kubeflare/busybox:test", imagePullPolicy: "Never", command: ["sleep", "3600"] }],
        },
      });
    const t0 = performance.now();
    for (;;) {
      const pods = (await api.request<{ items: any[] }>("GET", "/api/v1/namespaces/default/pods")).items;
      if (pods.filter((p) => p.status?.phase === "Running").length === o.pods) break;
      if (performance.now() - t0 > 120_000) throw new Error(`the agent did not start the bench pods within 2 minutes:\n${agent.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const startSeconds = (performance.now() - t0) / 1000;
    const pid = agent.pid()!;
    const ticks = () => {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100 per second)
    };
    const settleStart = ticks();
    for (let s = 0; s < SETTLE_SECONDS; s++) {
      say(`agent: settling after the start, ${s} of ${SETTLE_SECONDS} s`, 0.2);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const before = ticks();
    const settleCpuPercent = ((before - settleStart) / 100 / SETTLE_SECONDS) * 100;
    for (let s = 0; s < o.duration; s++) {
      say(`agent: idle window, ${s} of ${o.duration} s`, 0.2 + (0.8 * s) / o.duration);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const cpuPercent = ((ticks() - before) / 100 / o.duration) * 100;
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
    return { engine: engine.name, pods: o.pods, windowSeconds: o.duration, startSeconds, rssMB: (rssKiB * 1024) / 1e6, cpuPercent, settleCpuPercent };
  } finally {
    await agent.kill("SIGTERM");
    for (const c of await engine.containers({ "io.kubeflare.node": NODE })) await engine.remove(c.id);
    const quiet = (cmd: string, args: string[]) => new Promise((r) => execFile(cmd, args, () => r(undefined)));
    if (engine.name === "docker") await quiet("docker", ["network", "rm", "kfbench"]);
    await quiet("ip", ["link", "del", "kfbench"]);
    await api.close();
    await server.close();
    rmSync(base, { recursive: true, force: true });
  }
}

export const agentFigures = (r: AgentResult): Figure[] => [
  {
    name: `agent: resident memory with ${r.pods} pods (${r.engine})`,
    value: r.rssMB,
    unit: "MB",
    aim: { op: "<=", value: 45 },
    reference: "issue #14; k3s agent 275 MB",
  },
  {
    name: `agent: CPU keeping ${r.pods} pods in sync, ${r.windowSeconds} s idle`,
    value: r.cpuPercent,
    unit: "% of a core",
    aim: { op: "<=", value: 0.5 },
    reference: "issue #14",
  },
  { name: `agent: CPU in the ${SETTLE_SECONDS} s after the last pod turned Running (the start's tail)`, value: r.settleCpuPercent, unit: "% of a core" },
  { name: `agent: ${r.pods} pods bound → Running (${r.engine})`, value: r.startSeconds, unit: "s" },
];
