/**
 * The HorizontalPodAutoscaler on real Docker: `npm start`'s server with every controller
 * (HPA synced every 3 s and metrics kept 3 s, so the test runs in well under two
 * minutes), a real `kubeflare-agent` joined like a second box, the real kubectl. A
 * Deployment of busy-loop containers, whose load a ConfigMap turns on and off, is scaled
 * up by `kubectl autoscale`-like HPA with short stabilization windows, and back down
 * once the load stops.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "../agent/api";
import { LABELS } from "../agent/runtime/runtime";
import { type RunningServer, startServer } from "../node/server";
import { docker, IMAGE } from "./agent-e2e/engines";
import { AgentProcess, agentCli, joinArgs, untilNodeReady } from "./agent-e2e/process";
import { eventually, type Kubectl, kubectl } from "./kubectl";
import { canTouchNetwork, type NetSink, netSink } from "./netsink";

const up = await docker.available();
if (!up && process.env.CI) throw new Error(`CI must run the HPA end-to-end test: Docker not reachable or ${IMAGE} missing (scripts/test-image.sh)`);

describe.skipIf(!up)("HorizontalPodAutoscaler on Docker", () => {
  const nodeName = `hpa-box-${process.pid}`;
  const net = { cidr: `10.42.${100 + (process.pid % 50)}.0/24`, bridge: `kfh${process.pid}`.slice(0, 15), name: `kf-hpa-${process.pid}` };
  let server: RunningServer;
  let dir: string;
  let admin: ApiClient;
  let k: Kubectl;
  let agent: AgentProcess;
  let sink: NetSink | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kf-hpa-"));
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: join(dir, "server"),
      synchronous: "NORMAL",
      watchPollMs: 100,
      controllerConfig: { horizontalSyncPeriodMs: 3_000 },
      resyncIntervalMs: 2_000,
      metricsCacheMs: 2_500,
      log: () => {},
    });
    admin = new ApiClient({ server: server.url, token: server.adminToken, caPem: server.caPem });
    k = kubectl(server.kubeconfigPath, "1.32");
    const caFile = join(dir, "ca.crt");
    writeFileSync(caFile, server.caPem);
    if (!(await canTouchNetwork())) throw new Error("the HPA end-to-end test runs an agent with a pod network: it needs root and `ip`");
    sink = await netSink(`kfsh${process.pid}`.slice(0, 15), 6700 + (process.pid % 800));
    sink.alsoLinks(net.bridge);
    const token = JSON.parse((await agentCli(["token", "create", "--kubeconfig", server.kubeconfigPath, "--ttl", "10m", "-o", "json"])).stdout).token;
    const config = join(dir, "agent.json");
    const r = await agentCli(
      joinArgs({
        server: server.url,
        token,
        name: nodeName,
        runtime: "docker",
        caFile,
        config,
        dataDir: join(dir, "agent-data"),
        podCIDR: net.cidr,
        podBridge: net.bridge,
        podNetworkName: net.name,
        extra: ["--sync-frequency", "2s"],
      }),
    );
    expect(r.code, r.stderr).toBe(0);
    agent = new AgentProcess(config);
    agent.start();
    await untilNodeReady(admin, nodeName);
  }, 90_000);

  afterAll(async () => {
    await agent?.kill("SIGTERM");
    for (const c of await docker.containers({ [LABELS.node]: nodeName })) await docker.remove(c.id);
    await promisify(execFile)("docker", ["network", "rm", net.name]).catch(() => undefined);
    await sink?.cleanup();
    await admin?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail") console.error(`--- ${nodeName} agent output (tail) ---\n${agent.output().slice(-4000)}`);
  });

  it("scales a busy Deployment up under load and back down when the load stops; kubectl get hpa shows TARGETS", async () => {
    const manifest = (load: "on" | "off") => `
apiVersion: v1
kind: ConfigMap
metadata: {name: load}
data: {load: "${load}"}
`;
    const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: burner}
spec:
  replicas: 1
  selector: {matchLabels: {app: burner}}
  template:
    metadata: {labels: {app: burner}}
    spec:
      hostNetwork: true
      terminationGracePeriodSeconds: 1
      nodeName: ${nodeName}
      containers:
      - name: burn
        image: ${IMAGE}
        imagePullPolicy: Never
        # busy while the ConfigMap says "on" (a fifth of a core at most: the limit), idle otherwise
        command: ["sh", "-c", "while :; do if [ \\"$(cat /load/load)\\" = on ]; then i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; else sleep 1; fi; done"]
        resources: {requests: {cpu: 50m}, limits: {cpu: 200m}}
        volumeMounts: [{name: load, mountPath: /load}]
      volumes: [{name: load, configMap: {name: load}}]
`;
    const hpa = `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: burner}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burner}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 5}
    scaleUp: {stabilizationWindowSeconds: 0}
`;
    for (const m of [manifest("on"), deployment]) {
      const r = await k("apply -f -", { input: m });
      expect(r.code, r.stderr).toBe(0);
    }
    // before any reading: <unknown>
    const created = await k("apply -f -", { input: hpa });
    expect(created.code, created.stderr).toBe(0);
    const first = await k("get hpa burner --no-headers");
    expect(first.stdout).toMatch(/^burner\s+Deployment\/burner\s+cpu: (<unknown>|\d+%)\/50%\s+1\s+3\s+\d+\s+/);

    // under load (about 200 % of the request): up to the maximum, 3
    const upAt = await eventually(
      async () => {
        const d = await admin.get("/apis/apps/v1/namespaces/default/deployments/burner");
        return d.spec.replicas === 3 && d;
      },
      60_000,
      500,
    );
    expect(upAt.spec.replicas).toBe(3);
    const h = await admin.get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/burner");
    expect(h.status.desiredReplicas).toBe(3);
    expect(h.status.lastScaleTime).toBeDefined();
    const conds = Object.fromEntries(h.status.conditions.map((c: any) => [c.type, c]));
    expect(conds.AbleToScale.status).toBe("True");
    expect(conds.ScalingActive).toMatchObject({ status: "True", reason: "ValidMetricFound" });
    const table = await eventually(async () => {
      const r = await k("get hpa burner --no-headers");
      return /cpu: \d+%\/50%/.test(r.stdout) && r.stdout;
    }, 20_000);
    expect(table).toMatch(/^burner\s+Deployment\/burner\s+cpu: \d+%\/50%\s+1\s+3\s+[1-3]\s+/);
    const events = await k("get events --field-selector reason=SuccessfulRescale -o jsonpath={.items[*].message}");
    expect(events.stdout).toMatch(/New size: [23]; reason: cpu resource utilization \(percentage of request\) above target/);

    // the load stops: back down to the minimum
    const off = await k("apply -f -", { input: manifest("off") });
    expect(off.code, off.stderr).toBe(0);
    await eventually(async () => (await admin.get("/apis/apps/v1/namespaces/default/deployments/burner")).spec.replicas === 1, 60_000, 500);
    const after = await admin.get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/burner");
    expect(after.status.desiredReplicas).toBe(1);
    expect(after.status.currentMetrics[0].resource.current.averageUtilization).toBeLessThan(50);
  }, 150_000);
});
