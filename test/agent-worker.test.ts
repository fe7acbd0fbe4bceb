/**
 * The node agent against the edge control plane: the Worker in Miniflare (HTTPS on a
 * local port, libSQL over Hrana, controllers on the queue). A real `kubeflare-agent`
 * process joins it with a join token and runs a Deployment's pod on Docker; `kubectl
 * logs` reads the shipped output back through the Worker.
 */
import { execFile } from "node:child_process";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { docker } from "./agent-e2e/engines";
import { AgentProcess, agentCli, joinArgs } from "./agent-e2e/process";
import { LABELS } from "../agent/runtime/runtime";
import { type NetSink, netSink } from "./netsink";
import { eventually, kubectl } from "./kubectl";
import { startWorkerTarget } from "./targets";

const up = await docker.available();
if (!up && process.env.CI) throw new Error("CI must run the agent-against-the-Worker test: Docker with kubeflare/busybox:test is needed");

describe.skipIf(!up)("the agent against the Worker", () => {
  const dir = mkdtempSync(join(tmpdir(), "kf-edge-agent-"));
  let t: Awaited<ReturnType<typeof startWorkerTarget>> | undefined;
  let agent: AgentProcess | undefined;
  // NET.md: the agent makes a pod network on this host (the Worker's node-ipam gives it a
  // podCIDR): the cluster CIDRs go into a sink first; the network, bridge and sink go after
  const podNet = `kfw${process.pid % 100000}`;
  let sink: NetSink | undefined;
  afterAll(async () => {
    await agent?.kill("SIGTERM");
    for (const c of await docker.containers({ [LABELS.node]: "edge-box" })) await docker.remove(c.id);
    await promisify(execFile)("docker", ["network", "rm", podNet]).catch(() => undefined);
    await sink?.cleanup();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("joins with a token, runs a Deployment's pod, and ships its logs", async () => {
    sink = await netSink(`kfsw${process.pid % 100000}`, 7900 + (process.pid % 90));
    sink.alsoLinks(podNet);
    t = await startWorkerTarget({ controllers: true, https: true });
    const k = kubectl(t.kubeconfigPath!, "1.33");
    const ca = join(dir, "ca.crt");
    writeFileSync(ca, t.caPem!);
    const token = await agentCli(["token", "create", "--kubeconfig", t.kubeconfigPath!, "--ttl", "10m", "-o", "json"]);
    expect(token.code).toBe(0);
    const config = join(dir, "agent.json");
    const joined = await agentCli(
      joinArgs({
        server: t.url!,
        token: JSON.parse(token.stdout).token,
        name: "edge-box",
        runtime: "docker",
        caFile: ca,
        podBridge: podNet,
        podNetworkName: podNet,
        config,
        dataDir: join(dir, "data"),
      }),
    );
    expect(joined.stderr).toBe("");
    agent = new AgentProcess(config);
    agent.start();
    await eventually(async () => (await k("get node edge-box --no-headers")).stdout.includes(" Ready "), 60_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${agent!.output()}`);
    });

    const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: edge}
spec:
  replicas: 1
  selector: {matchLabels: {app: edge}}
  template:
    metadata: {labels: {app: edge}}
    spec:
      hostNetwork: true
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: kubeflare/busybox:test, imagePullPolicy: Never, command: [sh, -c, "echo hello from the edge; exec sleep 3600"]}
`;
    const applied = await k(["apply", "-f", "-"], { input: manifest });
    expect(applied.stdout).toBe("deployment.apps/edge created\n");
    const rollout = await k(["rollout", "status", "deployment/edge", "--timeout=120s"], { timeoutMs: 130_000 });
    if (!rollout.stdout.includes("successfully rolled out")) {
      const state = await k("get deploy,rs,pods,nodes -o wide");
      const ev = await k("get events -A");
      throw new Error(`rollout did not finish: ${rollout.stdout}${rollout.stderr}\n${state.stdout}\n${ev.stdout}\nagent:\n${agent.output().slice(-3000)}`);
    }
    const pods = (await k("get pods -l app=edge -o wide --no-headers")).stdout.trim().split("\n");
    expect(pods).toHaveLength(1);
    expect(pods[0]).toMatch(/ 1\/1 +Running +0 .* edge-box /);
    const running = (await docker.containers({ [LABELS.node]: "edge-box", [LABELS.podNamespace]: "default" })).filter((c) => c.running);
    expect(running.map((c) => c.labels[LABELS.podName])).toEqual([pods[0].split(/\s+/)[0]]);
    await eventually(async () => (await k("logs deploy/edge")).stdout === "hello from the edge\n", 60_000);
  }, 240_000);
});
