/**
 * metrics.k8s.io on the Worker in Miniflare: the node's resource summary asked of its
 * agent through the node's tunnel Durable Object (a `stats` stream), with the agent's
 * real tunnel client, stream server and stats collector (over an in-memory engine that
 * reports one busy container), and the real kubectl top.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../agent/runtime/runtime";
import type { Sample } from "../agent/stats/cgroup";
import { StatsCollector } from "../agent/stats/collector";
import { StreamServer } from "../agent/streams/server";
import { TunnelClient } from "../agent/tunnel/client";
import { eventually, kubectl } from "./kubectl";
import { startWorkerTarget } from "./targets";
import { apiOf } from "./tunnel-suite";

describe("metrics.k8s.io on the Worker (Miniflare)", () => {
  let target: Awaited<ReturnType<typeof startWorkerTarget>>;
  let api: ReturnType<typeof apiOf>;
  let tunnel: TunnelClient;
  let asks = 0;
  const node = "metrics-node";
  let podUid = "";
  /** the busy container's cumulative CPU: one core's worth per second of wall time */
  const started = Date.now();

  beforeAll(async () => {
    target = await startWorkerTarget({ https: true });
    const env = { url: target.url!.replace(/\/$/, ""), ca: target.caPem!, admin: target.token, viewer: "", kubeconfigPath: target.kubeconfigPath! };
    api = apiOf(env);
    const tok = await api("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { maxNodes: 1 });
    const j = await api("POST", "/apis/kubeflare.dev/v1/join", { nodeName: node }, tok.json.token);
    expect(j.status, j.text).toBe(201);
    const n = await api("POST", "/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: node },
      status: { capacity: { cpu: "2", memory: "4Gi" }, allocatable: { cpu: "2", memory: "4Gi" } },
    });
    expect([201, 409]).toContain(n.status);
    const c = await api("POST", "/api/v1/namespaces/default/pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "busy", labels: { app: "busy" } },
      spec: { nodeName: node, containers: [{ name: "burn", image: "x" }] },
    });
    expect(c.status, c.text).toBe(201);
    podUid = c.json.metadata.uid;
    const s = await api("PUT", "/api/v1/namespaces/default/pods/busy/status", { ...c.json, status: { phase: "Running" } });
    expect(s.status, s.text).toBe(200);
    const labels = {
      [LABELS.node]: node,
      [LABELS.podUid]: podUid,
      [LABELS.podName]: "busy",
      [LABELS.podNamespace]: "default",
      [LABELS.container]: "burn",
      [LABELS.role]: "app",
    };
    const stats = new StatsCollector({
      nodeName: node,
      node: async (): Promise<Sample> => ({ at: Date.now(), cpuNs: (Date.now() - started) * 1.5e6, workingSet: 1 << 30 }),
      runtime: {
        list: async () => [{ id: "c1", name: "c1", image: "x", state: "running", labels }],
        stats: async () => ({ at: Date.now(), cpuNs: (Date.now() - started) * 1e6, workingSet: 50 << 20 }),
      },
    });
    const server = new StreamServer({
      runtime: {} as never,
      pods: { pod: () => undefined, containers: async () => new Map() },
      stats: () => {
        asks++;
        return stats.summary();
      },
    });
    tunnel = new TunnelClient({ server: env.url, token: j.json.token, caPem: env.ca, nodeName: node, streams: server });
    tunnel.start();
    await tunnel.connected;
  }, 120_000);

  afterAll(async () => {
    await tunnel?.stop();
    await target?.close();
  });

  it("is in discovery, and kubectl top pods/nodes show the agent's numbers; a second read within 15 s asks the agent nothing", async () => {
    const groups = await api("GET", "/apis");
    expect(groups.json.groups.map((g: any) => g.name)).toContain("metrics.k8s.io");
    const k = kubectl(target.kubeconfigPath!, "1.32");
    const top = await eventually(async () => {
      const r = await k("top pods --containers --no-headers");
      return r.code === 0 && r.stdout.includes("burn") && r.stdout;
    }, 30_000);
    const [pod, container, cpu, memory] = top.trim().split(/\s+/);
    expect([pod, container]).toEqual(["busy", "burn"]);
    // one core, give or take the timing of the reads
    expect(Number(cpu.replace(/m$/, ""))).toBeGreaterThan(800);
    expect(Number(cpu.replace(/m$/, ""))).toBeLessThan(1200);
    expect(memory).toBe("50Mi");
    const before = asks;
    const nodes = await k("top nodes --no-headers");
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(nodes.stdout).toMatch(new RegExp(`^${node}\\s+1[45]\\d\\dm\\s+7[45]%\\s+1024Mi\\s+25%`));
    expect(asks).toBe(before); // cached per isolate
    const one = await api("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy");
    expect(one.json).toMatchObject({ kind: "PodMetrics", metadata: { name: "busy", namespace: "default" }, containers: [{ name: "burn" }] });
    expect((await api("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nobody")).status).toBe(404);
    expect((await api("DELETE", "/apis/metrics.k8s.io/v1beta1/nodes/x")).status).toBe(405);
  });
});
