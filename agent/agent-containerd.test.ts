/**
 * The agent on containerd (through ctr) against `npm start`'s control plane: a pod runs,
 * answers on its hostNetwork port, restarts after a kill, shows its logs, and goes away.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../node/server";
import { eventually, kubectl } from "../test/kubectl";
import { NodeAgent } from "./agent";
import { ApiClient } from "./api";
import { ContainerdRuntime } from "./runtime/containerd";
import { LABELS } from "./runtime/runtime";

const IMAGE = "kubeflare/busybox:test";
const stateDir = mkdtempSync(join(tmpdir(), "kf-ctrd-"));
const runtime = new ContainerdRuntime(stateDir);
const available = await runtime.version().then(() => runtime.hasImage(IMAGE), () => false);
if (!available && process.env.CI) throw new Error(`CI must run the containerd tests: containerd not reachable or ${IMAGE} not imported (scripts/test-image.sh)`);

describe.skipIf(!available)("agent on containerd", () => {
  let server: RunningServer;
  let dir: string;
  let api: ApiClient;
  let agent: NodeAgent;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kf-agent-ctrd-"));
    server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "server"), synchronous: "NORMAL", watchPollMs: 100, log: () => {} });
    api = new ApiClient({ server: server.url, token: (await server.registry.issueNodeCredential("ctrd-node")).token, caPem: server.caPem });
    agent = new NodeAgent({ api, runtime, nodeName: "ctrd-node", nodeIP: "127.0.0.1", dataDir: join(dir, "agent"), leaseIntervalMs: 5000, syncIntervalMs: 500, log: () => {} });
    await agent.start();
  }, 60_000);
  afterAll(async () => {
    await agent?.stop();
    for (const c of await runtime.list({ [LABELS.node]: "ctrd-node" })) await runtime.remove(c.id);
    await api?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("runs a pod, restarts it after a kill, serves its logs, and deletes it", async () => {
    const k = kubectl(server.kubeconfigPath, "1.32");
    const admin = new ApiClient({ server: server.url, token: server.adminToken, caPem: server.caPem });
    const node = await admin.get("/api/v1/nodes/ctrd-node");
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
    await admin.request("POST", "/api/v1/namespaces/default/pods", {
      metadata: { name: "web" },
      spec: {
        hostNetwork: true,
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: "httpd",
            image: IMAGE,
            imagePullPolicy: "Never",
            command: ["sh", "-c", "mkdir -p /www && echo containerd > /www/index.html && echo serving && exec httpd -f -p 127.0.0.1:18082 -h /www"],
            readinessProbe: { tcpSocket: { port: 18082, host: "127.0.0.1" }, periodSeconds: 1 },
          },
        ],
      },
    });
    const ready = await eventually(async () => {
      const p = await admin.get("/api/v1/namespaces/default/pods/web");
      return p.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") && p;
    }, 60_000);
    expect(ready.spec.nodeName).toBe("ctrd-node");
    expect(await (await fetch("http://127.0.0.1:18082/")).text()).toBe("containerd\n");
    await eventually(async () => (await k("logs web")).stdout.includes("serving"), 30_000);

    const [c] = (await runtime.list({ [LABELS.node]: "ctrd-node", [LABELS.podName]: "web" })).filter((x) => x.labels[LABELS.role] === "app");
    execFileSync("ctr", ["-n", "kubeflare", "tasks", "kill", "-s", "SIGKILL", c.id]);
    const restarted = await eventually(async () => {
      const s = (await admin.get("/api/v1/namespaces/default/pods/web")).status?.containerStatuses?.[0];
      return s?.restartCount === 1 && s.state.running && s;
    }, 60_000);
    expect(restarted.lastState.terminated.exitCode).toBe(137);

    await admin.request("DELETE", "/api/v1/namespaces/default/pods/web", {});
    await eventually(async () => (await admin.find("/api/v1/namespaces/default/pods/web")) === null, 30_000);
    expect(await runtime.list({ [LABELS.node]: "ctrd-node", [LABELS.podName]: "web" })).toEqual([]);
    await admin.close();
  });

  it("backs off a crashing container, and re-adopts running ones after an agent restart", async () => {
    const admin = new ApiClient({ server: server.url, token: server.adminToken, caPem: server.caPem });
    const pod = (name: string, command: string[]) => ({
      metadata: { name },
      spec: { hostNetwork: true, nodeName: "ctrd-node", terminationGracePeriodSeconds: 2, containers: [{ name: "c", image: IMAGE, imagePullPolicy: "Never", command }] },
    });
    await admin.request("POST", "/api/v1/namespaces/default/pods", pod("crasher", ["sh", "-c", "exit 3"]));
    const looping = await eventually(async () => {
      const s = (await admin.get("/api/v1/namespaces/default/pods/crasher")).status?.containerStatuses?.[0];
      return s?.state?.waiting?.reason === "CrashLoopBackOff" && s;
    }, 60_000);
    expect(looping.lastState.terminated).toMatchObject({ exitCode: 3, reason: "Error" });

    await admin.request("POST", "/api/v1/namespaces/default/pods", pod("steady", ["sleep", "3600"]));
    await eventually(async () => (await admin.get("/api/v1/namespaces/default/pods/steady")).status?.phase === "Running", 60_000);
    const ids = async () => (await runtime.list({ [LABELS.node]: "ctrd-node", [LABELS.podName]: "steady" })).filter((c) => c.labels[LABELS.role] === "app").map((c) => c.id);
    const before = await ids();
    expect(before).toHaveLength(1);
    await agent.stop();
    agent = new NodeAgent({ api, runtime, nodeName: "ctrd-node", nodeIP: "127.0.0.1", dataDir: join(dir, "agent"), leaseIntervalMs: 5000, syncIntervalMs: 500, log: () => {} });
    await agent.start();
    await new Promise((r) => setTimeout(r, 3000));
    expect(await ids()).toEqual(before);
    expect((await admin.get("/api/v1/namespaces/default/pods/steady")).status.containerStatuses[0]).toMatchObject({ restartCount: 0, state: { running: {} } });
    await admin.close();
  });
});
