/**
 * Hollow nodes in a child process of the scale bench (bench/scale.ts), as kubemark runs
 * many hollow kubelets per process across many processes: the real node agent
 * (agent/agent.ts) on the in-memory engine (test/hollow-runtime.ts), each node joining
 * with the bench's bootstrap token. The bench sends one `start` (the names this process
 * runs), is told of each node started, and sends `stop` at the end; the process then
 * stops its agents and exits. Nothing here is a mock of the agent: only the engine is in
 * memory, and no tunnel or DNS server is opened (kubemark's hollow kubelets serve no
 * exec or port-forward either).
 */
import { join } from "node:path";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import { HollowRuntime } from "../test/hollow-runtime";

export interface HollowStart {
  op: "start";
  server: string;
  caPem?: string;
  joinToken: string;
  names: string[];
  dataDir: string;
  /** container ids start with it (unique per node) */
  tag: string;
  /** agents started at once */
  concurrency: number;
}

export type HollowMessage = { op: "started"; name: string } | { op: "failed"; name: string; message: string } | { op: "stopped" } | { op: "log"; line: string };

/** `names` split into `parts` runs of nearly equal length, in order (the first ones one longer). */
export const shares = <T>(names: T[], parts: number): T[][] => {
  const k = Math.max(1, Math.min(parts, names.length));
  const out: T[][] = [];
  let at = 0;
  for (let i = 0; i < k; i++) {
    const n = Math.floor(names.length / k) + (i < names.length % k ? 1 : 0);
    out.push(names.slice(at, at + n));
    at += n;
  }
  return out;
};

/** Hollow-node processes for `nodes` nodes: one per 250 (kubemark packs about that many hollow kubelets per process's worth of CPU), at least one. */
export const processesFor = (nodes: number, perProcess = 250): number => Math.max(1, Math.ceil(nodes / perProcess));

const send = (m: HollowMessage) => process.send?.(m);

async function main(): Promise<void> {
  const agents: NodeAgent[] = [];
  const apis: ApiClient[] = [];
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled(agents.map((a) => a.stop()));
    await Promise.allSettled(apis.map((a) => a.close()));
    send({ op: "stopped" });
    process.disconnect?.();
    process.exit(0);
  };
  process.on("disconnect", () => void stop());
  process.on("message", async (m: HollowStart | { op: "stop" }) => {
    if (m.op === "stop") return void stop();
    if (m.op !== "start") return;
    const joiner = new ApiClient({ server: m.server, token: m.joinToken, caPem: m.caPem, timeoutMs: 120_000 });
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(m.concurrency, m.names.length) }, async () => {
        while (next < m.names.length && !stopping) {
          const i = next++;
          const nodeName = m.names[i];
          try {
            const cred = await joiner.request("POST", "/apis/kubeflare.dev/v1/join", { nodeName });
            const api = new ApiClient({ server: m.server, token: cred.token, caPem: m.caPem, timeoutMs: 120_000 });
            apis.push(api);
            const agent = new NodeAgent({
              api,
              runtime: new HollowRuntime(`${m.tag}${i.toString(36)}c`),
              nodeName,
              nodeIP: "127.0.0.1",
              dataDir: join(m.dataDir, nodeName),
              clusterDNS: "",
              dnsListen: null,
              tunnel: false,
              log: () => {},
            });
            await agent.start();
            agents.push(agent);
            send({ op: "started", name: nodeName });
          } catch (e) {
            send({ op: "failed", name: nodeName, message: (e as Error).message });
          }
        }
      }),
    );
    await joiner.close();
  });
}

if (process.send && process.argv[1] && /bench\/hollow-nodes\.ts$/.test(process.argv[1])) void main();
