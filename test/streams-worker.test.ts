/**
 * Issue #13 on the edge: the Worker in Miniflare (HTTPS on a local port, the per-node
 * Durable Object relaying the agent's tunnel), a joined NodeAgent on Docker with its
 * node credential, and kubectl 1.33 (WebSocket protocols only on the edge): exec with
 * output, exit code and stdin, and port-forward (SPDY inside WebSocket) to a server on
 * the pod's loopback.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import { DockerRuntime } from "../agent/runtime/docker";
import { LABELS } from "../agent/runtime/runtime";
import { docker, IMAGE } from "./agent-e2e/engines";
import { eventually, type Kubectl, kubectl } from "./kubectl";
import { send, startWorkerTarget } from "./targets";

const NODE = `streams-edge-${process.pid}`;
const NS = "default";

const up = await docker.available();
if (!up && process.env.CI) throw new Error(`CI must run the streams-on-the-Worker test: Docker not reachable or ${IMAGE} missing`);

describe.skipIf(!up)("kubectl exec and port-forward through the Worker's tunnel to a real agent (Miniflare, Docker)", () => {
  let dir: string;
  let t: Awaited<ReturnType<typeof startWorkerTarget>>;
  let agent: NodeAgent;
  let k: Kubectl;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kf-streams-edge-"));
    t = await startWorkerTarget({ https: true });
    const tok = await send(t, "POST", "/apis/kubeflare.dev/v1/bootstraptokens", { maxNodes: 1 });
    expect(tok.status).toBe(201);
    const joined = await send(t, "POST", "/apis/kubeflare.dev/v1/join", { nodeName: NODE }, {}, tok.json.token);
    expect(joined.status).toBe(201);
    agent = new NodeAgent({
      api: new ApiClient({ server: t.url!.replace(/\/$/, ""), token: joined.json.token, caPem: t.caPem }),
      runtime: new DockerRuntime(),
      nodeName: NODE,
      nodeIP: "127.0.0.1",
      dataDir: join(dir, "agent"),
      pauseImage: "kubeflare/pause:test",
      clusterDNS: "",
      dnsListen: null,
      syncIntervalMs: 300,
      log: process.env.DEBUG_AGENT ? undefined : () => {},
    });
    await agent.start();
    for (const [name, command] of [
      ["shell", ["sleep", "infinity"]],
      ["web", ["sh", "-c", "mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www"]],
    ] as [string, string[]][]) {
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: NS },
        spec: { nodeName: NODE, automountServiceAccountToken: false, terminationGracePeriodSeconds: 1, containers: [{ name: "main", image: IMAGE, command }] },
      };
      expect((await send(t, "POST", `/api/v1/namespaces/${NS}/pods`, pod)).status).toBe(201);
    }
    for (const name of ["shell", "web"])
      await eventually(async () => (await send(t, "GET", `/api/v1/namespaces/${NS}/pods/${name}`)).json?.status?.phase === "Running", 60_000);
    k = kubectl(t.kubeconfigPath!, "1.33");
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    for (const c of await docker.containers({ [LABELS.node]: NODE })) await docker.remove(c.id);
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("exec: output, exit code, stdin", async () => {
    const r = await eventually(async () => {
      const x = await k(["exec", "shell", "--", "sh", "-c", "echo hello; echo oops >&2"]);
      return x.code === 0 && x;
    }, 30_000);
    expect([r.stdout, r.stderr]).toEqual(["hello\n", "oops\n"]);
    expect((await k(["exec", "shell", "--", "sh", "-c", "exit 3"])).code).toBe(3);
    expect(await k(["exec", "-i", "shell", "--", "tr", "a-z", "A-Z"], { input: "edge\n" })).toMatchObject({ code: 0, stdout: "EDGE\n" });
  }, 90_000);

  it("port-forward pod/web: requests in a row and in parallel", async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    const pf = k.spawn(["port-forward", "pod/web", `${port}:8080`]);
    try {
      await eventually(async () => pf.output().includes("Forwarding from"), 20_000);
      const get = () => fetch(`http://127.0.0.1:${port}/`).then(async (r) => `${r.status} ${await r.text()}`);
      expect(await get()).toBe("200 hello-from-pod\n");
      expect(await get()).toBe("200 hello-from-pod\n");
      expect(await Promise.all([get(), get()])).toEqual(["200 hello-from-pod\n", "200 hello-from-pod\n"]);
    } finally {
      pf.kill();
    }
  }, 60_000);
});
