/**
 * `npm run bench -- deadnode [--nodes 3] [--pods 30] [--rounds 3] [-o json]`: a dead node
 * (issue #14, goal 6). The Node server in this process with its default settings, N
 * real node agents (agent/agent.ts on the in-memory engine, test/hollow-runtime.ts)
 * with theirs, and a Deployment of M pods spread over them. Then the agent holding the
 * most pods is killed right after one of its Lease renewals (the worst moment: the
 * lease has its whole grace period to run) with no goodbye: every request from then on
 * fails and its connections drop (test/cut-client.ts). The clock runs from the kill
 * until every replica of the Deployment is Running on another node; on the way: the
 * Node marked Unknown, the first eviction. A fresh cluster for each round; medians
 * with min and max. Aim ≤ 60 s; Kubernetes' defaults take about 6 minutes (50 s grace
 * + 300 s tolerationSeconds). No Docker, no root.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import { startServer } from "../node/server";
import type { KObject } from "../shared/types";
import { CutClient } from "../test/cut-client";
import { HollowRuntime } from "../test/hollow-runtime";
import type { Figure } from "./figures";

export interface DeadnodeOptions {
  nodes: number;
  pods: number;
  rounds: number;
}

export interface DeadnodeRound {
  /** pods the dead node held */
  lost: number;
  /** kill → the Node's Ready condition Unknown */
  unknownMs: number;
  /** kill → the first of its pods marked for deletion */
  firstEvictionMs: number;
  /** kill → every replica Running on another node */
  allRunningMs: number;
  /** kill → each replacement Running, in order */
  replacementsMs: number[];
}

export interface DeadnodeResult {
  options: DeadnodeOptions;
  defaults: { leaseRenewSeconds: number; nodeGraceSeconds: number; tolerationSeconds: number };
  rounds: DeadnodeRound[];
}

export const AIM_S = 60;
const NS = "default";
const DEPLOY = "deadnode";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined | false>): Promise<T> {
  const t0 = performance.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(100);
  }
}

async function round(o: DeadnodeOptions, index: number, say: (m: string, fraction?: number) => void): Promise<DeadnodeRound> {
  const dir = mkdtempSync(join(tmpdir(), "kf-bench-deadnode-"));
  // the server's defaults: grace, tolerationSeconds, resync; nothing shortened
  const server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "server"), synchronous: "NORMAL", log: () => {} });
  const admin = new ApiClient({ server: server.url, token: server.adminToken, caPem: server.caPem });
  const tag = `dn${process.pid % 10000}r${index}`;
  const agents: { name: string; agent: NodeAgent; api: CutClient }[] = [];
  try {
    for (let i = 0; i < o.nodes; i++) {
      const name = `${tag}-n${i}`;
      const cred = await server.registry.nodes.issue(name);
      const api = new CutClient({ server: server.url, token: cred.token, caPem: server.caPem });
      // the agent's defaults too: lease renewal period and duration
      const agent = new NodeAgent({
        api,
        runtime: new HollowRuntime(`${tag}${i}c`),
        nodeName: name,
        nodeIP: "127.0.0.1",
        dataDir: join(dir, name),
        clusterDNS: "",
        dnsListen: null,
        log: () => {},
      });
      await agent.start();
      agents.push({ name, agent, api });
    }
    await admin.request("POST", `/apis/apps/v1/namespaces/${NS}/deployments`, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: DEPLOY },
      spec: {
        replicas: o.pods,
        selector: { matchLabels: { app: DEPLOY } },
        template: {
          metadata: { labels: { app: DEPLOY } },
          spec: { automountServiceAccountToken: false, containers: [{ name: "c", image: "kubeflare/pause:test" }] },
        },
      },
    });
    const pods = async () => (await admin.request<{ items: KObject[] }>("GET", `/api/v1/namespaces/${NS}/pods?labelSelector=app%3D${DEPLOY}`)).items;
    const running = (p: KObject) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp;
    await until(`${o.pods} pods Running`, 120_000, async () => (await pods()).filter(running).length === o.pods);
    // the victim: the node with the most pods
    const before = await pods();
    const count = (n: string) => before.filter((p) => p.spec?.nodeName === n).length;
    const victim = agents.reduce((a, b) => (count(b.name) > count(a.name) ? b : a));
    const lost = count(victim.name);
    say(`round ${index + 1}: ${o.pods} pods Running on ${o.nodes} nodes; killing ${victim.name} (${lost} pods) after its next lease renewal`);
    // kill it right after a renewal
    const t0 = await new Promise<number>((resolve) => {
      victim.api.afterRenewal = () => {
        const t = performance.now();
        void victim.api.kill().then(() => victim.agent.stop());
        resolve(t);
      };
    });
    const since = () => performance.now() - t0;
    let unknownMs: number | undefined;
    let firstEvictionMs: number | undefined;
    const replaced = new Map<string, number>();
    const original = new Set(before.map((p) => p.metadata.uid));
    const allRunningMs = await until("every replica Running on another node", 600_000, async () => {
      const [node, now] = await Promise.all([admin.request<KObject>("GET", `/api/v1/nodes/${victim.name}`), pods()]);
      const t = since();
      if (unknownMs === undefined && node.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "Unknown")) {
        unknownMs = t;
        say(`round ${index + 1}: ${victim.name} Unknown after ${(t / 1000).toFixed(1)} s`);
      }
      if (firstEvictionMs === undefined && now.some((p) => p.spec?.nodeName === victim.name && p.metadata.deletionTimestamp)) firstEvictionMs = t;
      for (const p of now) if (running(p) && !original.has(p.metadata.uid) && !replaced.has(p.metadata.uid!)) replaced.set(p.metadata.uid!, t);
      say(
        `round ${index + 1}: ${(t / 1000).toFixed(0)} s since the kill, ${replaced.size}/${lost} replaced`,
        (index + Math.min(1, t / (AIM_S * 1000))) / o.rounds,
      );
      const elsewhere = now.filter((p) => running(p) && p.spec?.nodeName !== victim.name);
      return elsewhere.length === o.pods && t;
    });
    say(`round ${index + 1}: all ${o.pods} replicas Running elsewhere ${(allRunningMs / 1000).toFixed(1)} s after the kill`, (index + 1) / o.rounds);
    return {
      lost,
      unknownMs: unknownMs ?? Number.NaN,
      firstEvictionMs: firstEvictionMs ?? allRunningMs,
      allRunningMs,
      replacementsMs: [...replaced.values()].sort((a, b) => a - b),
    };
  } finally {
    await Promise.allSettled(
      agents.map(async (a) => {
        await a.api.kill();
        await a.agent.stop();
      }),
    );
    await admin.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchDeadnode(o: DeadnodeOptions, say: (m: string, fraction?: number) => void = () => {}): Promise<DeadnodeResult> {
  const { DEFAULT_CONFIG } = await import("../workers/controllers/context");
  const { LEASE_RENEW_MS } = await import("../agent/agent");
  const rounds: DeadnodeRound[] = [];
  for (let i = 0; i < o.rounds; i++) rounds.push(await round(o, i, say));
  return {
    options: o,
    defaults: {
      leaseRenewSeconds: LEASE_RENEW_MS / 1000,
      nodeGraceSeconds: DEFAULT_CONFIG.nodeMonitorGracePeriodMs / 1000,
      tolerationSeconds: DEFAULT_CONFIG.defaultTolerationSeconds,
    },
    rounds,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const seconds = (name: string, xs: number[], extra: Partial<Figure> = {}): Figure => ({
  name,
  value: median(xs) / 1000,
  min: Math.min(...xs) / 1000,
  max: Math.max(...xs) / 1000,
  unit: "s",
  ...extra,
});

export function deadnodeFigures(r: DeadnodeResult): Figure[] {
  const d = r.defaults;
  const n = `${r.options.nodes} nodes, ${r.options.pods} pods`;
  return [
    seconds(
      `dead node (${n}): kill → all its pods Running elsewhere`,
      r.rounds.map((x) => x.allRunningMs),
      {
        aim: { op: "<=", value: AIM_S },
        reference: `issue #14; Kubernetes' defaults ≈ 350 s (50 s grace + 300 s toleration)`,
        samples: r.rounds.flatMap((x) => x.replacementsMs.map((ms) => ms / 1000)),
      },
    ),
    seconds(
      "dead node: kill → Node Unknown",
      r.rounds.map((x) => x.unknownMs),
      {
        reference: `grace ${d.nodeGraceSeconds} s, renewals every ${d.leaseRenewSeconds} s (Kubernetes: 50 s, 10 s)`,
      },
    ),
    seconds(
      "dead node: kill → first eviction",
      r.rounds.map((x) => x.firstEvictionMs),
      {
        reference: `+ tolerationSeconds ${d.tolerationSeconds} s (Kubernetes: 300 s)`,
      },
    ),
  ];
}

export function deadnodeReport(r: DeadnodeResult): string {
  const d = r.defaults;
  const lines = [
    `dead node: ${r.options.nodes} nodes, a Deployment of ${r.options.pods} pods (in-memory engine), the busiest agent killed right after a lease renewal;`,
    `defaults: lease renewed every ${d.leaseRenewSeconds} s, node grace ${d.nodeGraceSeconds} s, tolerationSeconds ${d.tolerationSeconds} s`,
  ];
  r.rounds.forEach((x, i) =>
    lines.push(
      `  round ${i + 1}: ${x.lost} pods lost; Unknown ${(x.unknownMs / 1000).toFixed(1)} s, first eviction ${(x.firstEvictionMs / 1000).toFixed(1)} s, all Running elsewhere ${(x.allRunningMs / 1000).toFixed(1)} s`,
    ),
  );
  return lines.join("\n");
}
