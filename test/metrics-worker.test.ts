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
    target = await startWorkerTarget({ https: true, controllers: true });
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
        // the busy pod, and the Deployment's pods bound to this node (each as busy: one core)
        list: async () => {
          const web = await api("GET", `/api/v1/namespaces/default/pods?labelSelector=app%3Dweb`);
          const extra = ((web.json?.items ?? []) as any[]).map((p) => ({
            id: p.metadata.uid,
            name: p.metadata.name,
            image: "x",
            state: "running" as const,
            labels: { ...labels, [LABELS.podUid]: p.metadata.uid, [LABELS.podName]: p.metadata.name, [LABELS.container]: "main" },
          }));
          return [{ id: "c1", name: "c1", image: "x", state: "running" as const, labels }, ...extra];
        },
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

  it("kubectl autoscale makes an autoscaling/v2 HPA; the cron's sync reads the pods' CPU through the tunnel and scales the Deployment up", async () => {
    const k = kubectl(target.kubeconfigPath!, "1.32");
    const dep = await k("apply -f -", {
      input: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeName: ${node}
      # this test's node has no lease: its pods stay (no taint-based eviction)
      tolerations: [{operator: Exists}]
      containers: [{name: main, image: x, resources: {requests: {cpu: 500m}}}]
`,
    });
    expect(dep.code, dep.stderr).toBe(0);
    // the pods run (what their agent would report): Running, Ready for a minute, started ten minutes ago
    const markRunning = async () => {
      const pods = (await api("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")).json.items as any[];
      const t = (ms: number) => new Date(Date.now() - ms).toISOString().replace(/\.\d+Z$/, "Z");
      for (const p of pods.filter((p) => p.status?.phase !== "Running")) {
        const r = await api("PUT", `/api/v1/namespaces/default/pods/${p.metadata.name}/status`, {
          ...p,
          status: { phase: "Running", startTime: t(600_000), conditions: [{ type: "Ready", status: "True", lastTransitionTime: t(60_000) }] },
        });
        expect(r.status, r.text).toBe(200);
      }
      return pods.length;
    };
    await eventually(async () => (await markRunning()) === 1, 30_000);
    const auto = await k("autoscale deployment web --cpu-percent=50 --min=1 --max=4");
    expect(auto.code, auto.stderr).toBe(0);
    const hpa = (await api("GET", "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web")).json;
    expect(hpa.spec).toMatchObject({
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { averageUtilization: 50 } } }],
    });
    expect((await k("get hpa web --no-headers")).stdout).toMatch(/^web\s+Deployment\/web\s+cpu: (<unknown>|\d+%)\/50%\s+1\s+4\s+/);
    // the cron (once a minute on Cloudflare): one core used of 500m requested is 200 %, four times the target: 4 replicas
    // (a sync may first find no usage for a pod the node's last summary, cached 15 s, did not have yet: the next cron finds it)
    const worker = (await target.mf.getWorker()) as any;
    const d = await eventually(
      async () => {
        await worker.scheduled({ cron: "* * * * *", scheduledTime: new Date() });
        const got = (await api("GET", "/apis/apps/v1/namespaces/default/deployments/web")).json;
        return got.spec.replicas !== 1 && got;
      },
      60_000,
      1000,
    );
    expect(d.spec.replicas).toBe(4);
    const after = (await api("GET", "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web")).json;
    expect(after.status).toMatchObject({
      desiredReplicas: 4,
      currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: expect.any(Number) } } }],
    });
    expect(after.status.currentMetrics[0].resource.current.averageUtilization).toBeGreaterThan(150);
    expect(after.status.conditions.find((c: any) => c.type === "ScalingActive")).toMatchObject({ status: "True", reason: "ValidMetricFound" });
    expect((await k("get hpa web --no-headers")).stdout).toMatch(/^web\s+Deployment\/web\s+cpu: \d+%\/50%\s+1\s+4\s+/);
    const described = await k("describe hpa web");
    expect(described.code, described.stderr).toBe(0);
    expect(described.stdout).toMatch(/Reference:\s+Deployment\/web/);
    expect(described.stdout).toMatch(/Min replicas:\s+1/);
    expect(described.stdout).toContain("SuccessfulRescale");
    // autoscaling/v1 shows the same object in its own form
    const v1 = (await api("GET", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web")).json;
    expect(v1).toMatchObject({ apiVersion: "autoscaling/v1", spec: { maxReplicas: 4, targetCPUUtilizationPercentage: 50 }, status: { desiredReplicas: 4 } });
    expect(v1.status.currentCPUUtilizationPercentage).toBeGreaterThan(150);
    // a patch of the v1 form lands in the v2 metric
    const patched = await k([
      "patch",
      "horizontalpodautoscalers.v1.autoscaling",
      "web",
      "--type",
      "merge",
      "-p",
      '{"spec":{"targetCPUUtilizationPercentage":60}}',
    ]);
    expect(patched.code, patched.stderr).toBe(0);
    const v2 = (await api("GET", "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web")).json;
    expect(v2.spec.metrics).toEqual([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } }]);
  });
});
