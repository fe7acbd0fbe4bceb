/**
 * The agent with a real Docker engine against a real control plane (`npm start`'s
 * server with every controller): pods run as containers, restart, report status and
 * go away. Test pods use hostNetwork and listen on 127.0.0.1 only.
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
import { DockerRuntime } from "./runtime/docker";
import { LABELS } from "./runtime/runtime";

const IMAGE = "kubeflare/busybox:test";
const docker = new DockerRuntime();
const available = await docker.version().then(
  () => docker.hasImage(IMAGE),
  () => false,
);
if (!available && process.env.CI) throw new Error(`CI must run the Docker tests: no Docker engine or no ${IMAGE} image (run scripts/test-image.sh)`);

describe.skipIf(!available)("agent on Docker", () => {
  let server: RunningServer;
  let dir: string;
  let api: ApiClient;
  let agent: NodeAgent;
  const startAgent = async () => {
    agent = new NodeAgent({ api, runtime: docker, nodeName: "docker-node", nodeIP: "127.0.0.1", dataDir: join(dir, "agent"), leaseIntervalMs: 5000, syncIntervalMs: 500, log: () => {} });
    await agent.start();
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kf-agent-"));
    server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "server"), synchronous: "NORMAL", watchPollMs: 100, log: () => {} });
    api = new ApiClient({ server: server.url, token: server.adminToken, caPem: server.caPem });
    await startAgent();
  }, 60_000);
  afterAll(async () => {
    await agent?.stop();
    // leave nothing behind on the engine
    for (const c of await docker.list({ [LABELS.node]: "docker-node" })) await docker.remove(c.id);
    await api?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pod = (name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, ...meta },
    spec: { hostNetwork: true, terminationGracePeriodSeconds: 2, ...spec },
  });
  const get = (name: string) => api.get(`/api/v1/namespaces/default/pods/${name}`);
  const containersOf = async (name: string) =>
    (await docker.list({ [LABELS.node]: "docker-node", [LABELS.podName]: name, [LABELS.podNamespace]: "default" })).filter((c) => c.labels[LABELS.role] === "app");

  it("registers its node with capacity and a lease", async () => {
    const node = await api.get("/api/v1/nodes/docker-node");
    expect(node.status.conditions.find((c: any) => c.type === "Ready").status).toBe("True");
    expect(Number(node.status.capacity.cpu)).toBeGreaterThan(0);
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^docker:\/\//);
    const lease = await api.get("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/docker-node");
    expect(lease.spec.holderIdentity).toBe("docker-node");
  });

  it("runs a Deployment's httpd pod that answers on its hostNetwork port, with env, volumes and a memory limit", async () => {
    await api.request("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "web-config" }, data: { greeting: "hello from a configmap" } });
    await api.request("POST", "/api/v1/namespaces/default/secrets", { metadata: { name: "web-secret" }, stringData: { token: "s3cret" } });
    await api.request("POST", "/apis/apps/v1/namespaces/default/deployments", {
      metadata: { name: "web" },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            hostNetwork: true,
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: "httpd",
                image: IMAGE,
                imagePullPolicy: "Never",
                command: ["sh", "-c", 'mkdir -p /www && cat /config/greeting > /www/index.html && echo "$POD_NAME $TOKEN" > /www/env.txt && exec httpd -f -p 127.0.0.1:18081 -h /www'],
                env: [
                  { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                  { name: "TOKEN", valueFrom: { secretKeyRef: { name: "web-secret", key: "token" } } },
                ],
                resources: { limits: { memory: "64Mi", cpu: "500m" } },
                readinessProbe: { httpGet: { path: "/", port: 18081, host: "127.0.0.1" }, periodSeconds: 1 },
                volumeMounts: [{ name: "config", mountPath: "/config" }],
              },
            ],
            volumes: [{ name: "config", configMap: { name: "web-config" } }],
          },
        },
      },
    });
    const running = await eventually(async () => {
      const pods = (await api.request("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")).items;
      return pods.length === 1 && pods[0].status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") && pods[0];
    }, 60_000);
    expect(running.status.phase).toBe("Running");
    expect(running.status.containerStatuses[0]).toMatchObject({ name: "httpd", ready: true, restartCount: 0, state: { running: {} } });
    expect(await (await fetch("http://127.0.0.1:18081/")).text()).toBe("hello from a configmap");
    expect(await (await fetch("http://127.0.0.1:18081/env.txt")).text()).toBe(`${running.metadata.name} s3cret\n`);
    const [c] = await containersOf(running.metadata.name);
    const inspect = JSON.parse(execFileSync("docker", ["inspect", c.id]).toString())[0];
    expect(inspect.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(inspect.HostConfig.NanoCpus).toBe(500_000_000);
    const d = await eventually(async () => {
      const x = await api.get("/apis/apps/v1/namespaces/default/deployments/web");
      return x.status?.availableReplicas === 1 && x;
    }, 30_000);
    expect(d.status.readyReplicas).toBe(1);
  });

  it("restarts a killed container (restartCount 1) and backs off a crashing one (CrashLoopBackOff)", async () => {
    await api.request("POST", "/api/v1/namespaces/default/pods", pod("sleeper", { containers: [{ name: "c", image: IMAGE, imagePullPolicy: "Never", command: ["sleep", "3600"] }] }));
    await eventually(async () => (await get("sleeper")).status?.phase === "Running", 30_000);
    const [first] = await containersOf("sleeper");
    execFileSync("docker", ["kill", first.id]);
    const after = await eventually(async () => {
      const p = await get("sleeper");
      const s = p.status?.containerStatuses?.[0];
      return s?.restartCount === 1 && s.state.running && p;
    }, 40_000);
    expect(after.status.containerStatuses[0].lastState.terminated).toMatchObject({ exitCode: 137, reason: "Error" });

    await api.request("POST", "/api/v1/namespaces/default/pods", pod("crasher", { containers: [{ name: "c", image: IMAGE, imagePullPolicy: "Never", command: ["sh", "-c", "echo dying; exit 3"] }] }));
    const looping = await eventually(async () => {
      const s = (await get("crasher")).status?.containerStatuses?.[0];
      return s?.state?.waiting?.reason === "CrashLoopBackOff" && s;
    }, 40_000);
    expect(looping.lastState.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
    expect(looping.state.waiting.message).toMatch(/^back-off 10s restarting failed container=c pod=crasher_default/);
  });

  it("runs a pod to completion under restartPolicy Never", async () => {
    await api.request("POST", "/api/v1/namespaces/default/pods", pod("once", { restartPolicy: "Never", containers: [{ name: "c", image: IMAGE, imagePullPolicy: "Never", command: ["sh", "-c", "exit 0"] }] }));
    const done = await eventually(async () => {
      const p = await get("once");
      return p.status?.phase === "Succeeded" && p;
    }, 30_000);
    expect(done.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
  });

  it("deletes a pod gracefully: the container gets SIGTERM, goes away, and so does the pod", async () => {
    await api.request("POST", "/api/v1/namespaces/default/pods", pod("graceful", { containers: [{ name: "c", image: IMAGE, imagePullPolicy: "Never", command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"] }] }));
    await eventually(async () => (await get("graceful")).status?.phase === "Running", 30_000);
    expect(await containersOf("graceful")).toHaveLength(1);
    const started = Date.now();
    await api.request("DELETE", "/api/v1/namespaces/default/pods/graceful", {});
    await eventually(async () => (await api.find("/api/v1/namespaces/default/pods/graceful")) === null, 30_000);
    expect(await containersOf("graceful")).toEqual([]);
    // it honoured SIGTERM rather than waiting out the 2 s grace period and being killed
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("re-adopts running containers after an agent restart, without duplicates", async () => {
    await api.request("POST", "/api/v1/namespaces/default/pods", pod("steady", { containers: [{ name: "c", image: IMAGE, imagePullPolicy: "Never", command: ["sleep", "3600"] }] }));
    await eventually(async () => (await get("steady")).status?.phase === "Running", 30_000);
    const before = await containersOf("steady");
    await agent.stop();
    await startAgent();
    await new Promise((r) => setTimeout(r, 3000));
    const after = await containersOf("steady");
    expect(after.map((c) => c.id)).toEqual(before.map((c) => c.id));
    expect((await get("steady")).status.containerStatuses[0].restartCount).toBe(0);
  });

  it("serves kubectl logs: whole, --tail, -f following new lines, --previous, and deploy/x", async () => {
    const k = kubectl(server.kubeconfigPath, "1.32");
    await api.request(
      "POST",
      "/api/v1/namespaces/default/pods",
      pod("talker", { containers: [{ name: "talk", image: IMAGE, imagePullPolicy: "Never", command: ["sh", "-c", "for i in 1 2 3; do echo line $i; done; echo oops >&2; while true; do sleep 1; echo tick; done"] }] }),
    );
    await eventually(async () => (await k("logs talker")).stdout.includes("oops"), 30_000);
    const all = (await k("logs talker")).stdout.split("\n");
    // stdout keeps its order; stderr arrives through its own pipe, so its place among them may vary
    expect(all.filter((l) => l.startsWith("line"))).toEqual(["line 1", "line 2", "line 3"]);
    expect(all).toContain("oops");
    expect((await k("logs talker --tail=1")).stdout.trim().split("\n")).toHaveLength(1);
    expect((await k("logs talker --timestamps --tail=1")).stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (tick|oops|line \d)\n$/);
    // -f: the stream stays open and new lines arrive
    const f = k.spawn(["logs", "-f", "talker"]);
    try {
      await eventually(async () => f.output().includes("line 1"), 20_000);
      const ticks = () => f.output().split("\n").filter((l) => l === "tick").length;
      const before = ticks();
      await eventually(async () => ticks() >= before + 2, 20_000);
    } finally {
      f.kill();
    }
    // after a restart, --previous shows the first instance
    const [first] = await containersOf("talker");
    execFileSync("docker", ["kill", first.id]);
    await eventually(async () => (await get("talker")).status?.containerStatuses?.[0]?.restartCount === 1, 40_000);
    const prev = await k("logs talker --previous");
    expect(prev.stdout.split("\n").filter((l) => l.startsWith("line"))).toEqual(["line 1", "line 2", "line 3"]);
    const missing = await k("logs steady --previous");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('previous terminated container "c" in pod "steady" not found');
    const dep = await k("logs deploy/web");
    expect(dep.code).toBe(0);
    const nope = await k("logs nope");
    expect(nope.stderr).toContain('pods "nope" not found');
  });

  it("reports OOMKilled when a container exceeds its memory limit", async () => {
    await api.request(
      "POST",
      "/api/v1/namespaces/default/pods",
      pod("hog", {
        restartPolicy: "Never",
        containers: [{ name: "c", image: IMAGE, imagePullPolicy: "Never", command: ["sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo $x | wc -c"], resources: { limits: { memory: "16Mi" } } }],
      }),
    );
    const done = await eventually(async () => {
      const s = (await get("hog")).status;
      return s?.phase === "Failed" && s;
    }, 60_000);
    expect(done.containerStatuses[0].state.terminated).toMatchObject({ reason: "OOMKilled", exitCode: 137 });
  });

  it("keeps pods running while cut off from the control plane, and catches up after", async () => {
    // a second agent reaches the API through a proxy the test can cut
    const { createServer, connect } = await import("node:net");
    const target = new URL(server.url);
    const sockets = new Set<import("node:net").Socket>();
    let open = true;
    const proxy = createServer((client) => {
      if (!open) return client.destroy();
      const upstream = connect(Number(target.port), target.hostname);
      client.pipe(upstream).pipe(client);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
        s.on("error", () => s.destroy());
      }
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    const port = (proxy.address() as import("node:net").AddressInfo).port;
    const remote = new ApiClient({ server: `https://localhost:${port}`, token: server.adminToken, caPem: server.caPem, timeoutMs: 3000 });
    const island = new NodeAgent({ api: remote, runtime: docker, nodeName: "island", nodeIP: "127.0.0.1", dataDir: join(dir, "island"), leaseIntervalMs: 1000, syncIntervalMs: 500, log: () => {} });
    await island.start();
    try {
      await api.request("POST", "/api/v1/namespaces/default/pods", pod("castaway", { nodeName: "island", containers: [{ name: "c", image: IMAGE, imagePullPolicy: "Never", command: ["sleep", "3600"] }] }));
      await eventually(async () => (await get("castaway")).status?.phase === "Running", 30_000);
      const c = (await docker.list({ [LABELS.node]: "island", [LABELS.podName]: "castaway" })).find((x) => x.labels[LABELS.role] === "app")!;
      // cut the link, kill the container: the agent restarts it on its own
      open = false;
      for (const s of sockets) s.destroy();
      execFileSync("docker", ["kill", c.id]);
      await eventually(async () => {
        const now = (await docker.list({ [LABELS.node]: "island", [LABELS.podName]: "castaway" })).filter((x) => x.labels[LABELS.role] === "app");
        return now.some((x) => x.state === "running" && x.labels[LABELS.attempt] === "1");
      }, 40_000);
      expect((await get("castaway")).status.containerStatuses[0].restartCount).toBe(0); // the server has not heard yet
      open = true;
      const caught = await eventually(async () => {
        const s = (await get("castaway")).status?.containerStatuses?.[0];
        return s?.restartCount === 1 && s.state.running && s;
      }, 40_000);
      expect(caught.lastState.terminated.exitCode).toBe(137);
    } finally {
      open = true;
      await island.stop();
      // the island is gone for good: later pods must not be scheduled there
      await api.request("DELETE", "/api/v1/nodes/island", {}).catch(() => undefined);
      await api.request("DELETE", "/api/v1/namespaces/default/pods/castaway", { gracePeriodSeconds: 0 }).catch(() => undefined);
      for (const x of await docker.list({ [LABELS.node]: "island" })) await docker.remove(x.id);
      await remote.close();
      proxy.close();
    }
  });

  it("restarts a container whose liveness probe fails", async () => {
    await api.request(
      "POST",
      "/api/v1/namespaces/default/pods",
      pod("unhealthy", {
        containers: [{ name: "c", image: IMAGE, imagePullPolicy: "Never", command: ["sh", "-c", "touch /tmp/healthy; sleep 3; rm /tmp/healthy; sleep 3600"], livenessProbe: { exec: { command: ["cat", "/tmp/healthy"] }, periodSeconds: 1, failureThreshold: 2 } }],
      }),
    );
    await eventually(async () => ((await get("unhealthy")).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 60_000);
  });
});
