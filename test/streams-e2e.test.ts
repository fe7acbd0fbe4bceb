/**
 * Issue #13 end to end on the Node server: the real server (as `npm start` runs it, with
 * the tunnel endpoints of node/upgrade.ts), the real NodeAgent on Docker holding a node
 * credential and its tunnel open, and kubectl 1.33 against the server's kubeconfig:
 * exec (output, exit code, stdin, -it through a pseudo-terminal), port-forward with
 * requests in a row and in parallel, and pods/proxy to a server on the pod's loopback.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import { ContainerdRuntime } from "../agent/runtime/containerd";
import { DockerRuntime } from "../agent/runtime/docker";
import { type ContainerRuntime, LABELS } from "../agent/runtime/runtime";
import { type RunningServer, startServer } from "../node/server";
import { containerd, docker, type Engine, IMAGE } from "./agent-e2e/engines";
import { eventually, type Kubectl, kubectl, kubectlBinary } from "./kubectl";

const NS = "default";

const freePort = async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
};

for (const [engine, makeRuntime] of [
  [docker, () => new DockerRuntime()],
  [containerd, (d: string) => new ContainerdRuntime(d)],
] as [Engine, (dir: string) => ContainerRuntime][]) {
  const up = await engine.available();
  if (!up && process.env.CI) throw new Error(`CI must run the streams end-to-end test: ${engine.name} not reachable or ${IMAGE} missing`);
  const NODE = `streams-e2e-${engine.name}-${process.pid}`;

  describe.skipIf(!up)(`kubectl exec and port-forward through the agent tunnel (Node server, agent on ${engine.name})`, () => {
    let dir: string;
    let server: RunningServer;
    let admin: ApiClient;
    let agent: NodeAgent;
    let newAgent: () => NodeAgent;
    let k: Kubectl;

    const pod = (name: string, command: string[]) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: NS, labels: { app: name } },
      spec: {
        nodeName: NODE,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "main", image: IMAGE, command, ports: [{ containerPort: 8080 }] }],
      },
    });

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "kf-streams-e2e-"));
      server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "server"), synchronous: "NORMAL", controllers: [], log: () => {} });
      admin = new ApiClient({ server: server.url, token: server.adminToken, caPem: server.caPem });
      // as npm start's local agent: a node credential, not the admin token
      const cred = await server.registry.nodes.issue(NODE);
      const runtime = makeRuntime(join(dir, "runtime"));
      newAgent = () =>
        new NodeAgent({
          api: new ApiClient({ server: server.url, token: cred.token, caPem: server.caPem }),
          runtime,
          nodeName: NODE,
          nodeIP: "127.0.0.1",
          dataDir: join(dir, "agent"),
          pauseImage: "kubeflare/pause:test",
          clusterDNS: "",
          dnsListen: null,
          syncIntervalMs: 300,
          log: process.env.DEBUG_AGENT ? undefined : () => {},
        });
      agent = newAgent();
      await agent.start();
      for (const p of [
        pod("shell", ["sleep", "infinity"]),
        pod("printer", ["sh", "-c", "i=0; while :; do echo line $i; i=$((i+1)); sleep 0.2; done"]),
        pod("web", ["sh", "-c", "mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www"]),
      ]) {
        await admin.request("POST", `/api/v1/namespaces/${NS}/pods`, p);
      }
      for (const name of ["shell", "web", "printer"])
        await eventually(async () => (await admin.get(`/api/v1/namespaces/${NS}/pods/${name}`)).status?.phase === "Running", 60_000);
      k = kubectl(server.kubeconfigPath, "1.33");
    }, 120_000);

    afterAll(async () => {
      await agent?.stop();
      for (const c of await engine.containers({ [LABELS.node]: NODE })) await engine.remove(c.id);
      await admin?.close();
      await server?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it("exec: output, a failing command's exit code, stdin with -i", async () => {
      // (the short sleeps: ctr 1.6 can lose the output of a command that exits at once; see agent/runtime/containerd.ts)
      expect(await k(["exec", "shell", "--", "sh", "-c", "echo hello; echo oops >&2; sleep 0.2"])).toEqual({ code: 0, stdout: "hello\n", stderr: "oops\n" });
      expect((await k(["exec", "shell", "--", "sh", "-c", "exit 3"])).code).toBe(3);
      expect(await k(["exec", "-i", "shell", "--", "sh", "-c", "tr a-z A-Z; sleep 0.2"], { input: "shout\n" })).toMatchObject({ code: 0, stdout: "SHOUT\n" });
    }, 60_000);

    it("exec -it through a pseudo-terminal (script): a terminal in the container, input read through it", async () => {
      const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
        const cmd = `${kubectlBinary("1.33")} --kubeconfig ${server.kubeconfigPath} exec -it shell -- sh -c 'tty; read x; echo got-$x'`;
        const p = spawn("script", ["-qfec", cmd, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
        let text = "";
        p.stdout.on("data", (d) => (text += d));
        setTimeout(() => p.stdin.write("abc\r"), 1500);
        p.on("close", (code) => resolve({ code, text }));
      });
      expect(out.code).toBe(0);
      expect(out.text).toMatch(/\/dev\/pts\/\d+/);
      expect(out.text).toContain("got-abc");
    }, 60_000);

    it("exec -it over SPDY/3.1 (kubectl's fallback): the terminal gets the size kubectl sends", async () => {
      const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
        const cmd = `stty rows 33 cols 77; ${kubectlBinary("1.33")} --kubeconfig ${server.kubeconfigPath} exec -it shell -- sh -c 'sleep 0.5; stty size'`;
        const p = spawn("script", ["-qfec", cmd, "/dev/null"], {
          stdio: ["pipe", "pipe", "pipe"],
          env: { ...process.env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false" },
        });
        let text = "";
        p.stdout.on("data", (d) => (text += d));
        p.on("close", (code) => resolve({ code, text }));
      });
      expect(out.code).toBe(0);
      expect(out.text).toMatch(/33 77\r+\n/);
    }, 60_000);

    it("cp into a container and out of it (tar over exec with stdin)", async () => {
      const src = join(dir, "in.txt");
      const body = `${"kubeflare cp test\n".repeat(5000)}`;
      writeFileSync(src, body);
      expect(await k(["cp", src, "shell:/tmp/in.txt", "-c", "main"])).toMatchObject({ code: 0 });
      expect((await k(["exec", "shell", "--", "sh", "-c", "wc -c < /tmp/in.txt; sleep 0.2"])).stdout.trim()).toBe(String(body.length));
      const dst = join(dir, "out.txt");
      expect(await k(["cp", "shell:/tmp/in.txt", dst, "-c", "main"])).toMatchObject({ code: 0 });
      expect(readFileSync(dst, "utf8")).toBe(body);
    }, 60_000);

    it("attach: the lines a running container prints", async () => {
      const a = k.spawn(["attach", "printer", "-c", "main"]);
      try {
        await eventually(async () => (a.output().match(/line \d+\n/g) ?? []).length >= 3, 20_000);
      } finally {
        a.kill();
      }
    }, 60_000);

    it("port-forward pod/web: two requests in a row and two in parallel reach a server on the pod's loopback", async () => {
      const port = await freePort();
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
      expect(pf.output()).not.toMatch(/error/i);
    }, 60_000);

    it("port-forward svc/web and deploy/web: kubectl picks the pod, the service port maps to its target port", async () => {
      await admin.request("POST", `/api/v1/namespaces/${NS}/services`, {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web", namespace: NS },
        spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
      });
      await admin.request("POST", `/apis/apps/v1/namespaces/${NS}/deployments`, {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web", namespace: NS },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: "web" } },
          template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "main", image: IMAGE }] } },
        },
      });
      for (const [ref, remote] of [
        ["svc/web", "80"],
        ["deploy/web", "8080"],
      ]) {
        const port = await freePort();
        const pf = k.spawn(["port-forward", ref, `${port}:${remote}`]);
        try {
          await eventually(async () => pf.output().includes("Forwarding from"), 20_000);
          const get = () => fetch(`http://127.0.0.1:${port}/`).then(async (r) => `${r.status} ${await r.text()}`);
          expect(await Promise.all([get(), get()]), ref).toEqual(["200 hello-from-pod\n", "200 hello-from-pod\n"]);
        } finally {
          pf.kill();
        }
      }
    }, 60_000);

    it("kubectl 1.30: exec and port-forward (plain SPDY/3.1 in that version)", async () => {
      const k30 = kubectl(server.kubeconfigPath, "1.30");
      expect(await k30(["exec", "shell", "--", "sh", "-c", "echo v130; sleep 0.2; exit 2"])).toMatchObject({ code: 2, stdout: "v130\n" });
      const port = await freePort();
      const pf = k30.spawn(["port-forward", "pod/web", `${port}:8080`]);
      try {
        await eventually(async () => pf.output().includes("Forwarding from"), 20_000);
        const get = () => fetch(`http://127.0.0.1:${port}/`).then(async (r) => `${r.status} ${await r.text()}`);
        expect(await Promise.all([get(), get()])).toEqual(["200 hello-from-pod\n", "200 hello-from-pod\n"]);
      } finally {
        pf.kill();
      }
    }, 60_000);

    it("an agent restart while a stream is open ends that stream; new streams work with the restarted agent", async () => {
      const long = k.spawn(["exec", "shell", "--", "sh", "-c", "echo started; sleep 60"]);
      await eventually(async () => long.output().includes("started"), 20_000);
      const ended = new Promise<number | null>((r) => long.proc.on("close", (code) => r(code)));
      await agent.stop();
      // kubectl is told: it ends (with an error), it does not hang for the minute
      expect(await ended).not.toBe(0);
      agent = newAgent();
      await agent.start();
      const r = await eventually(async () => {
        const x = await k(["exec", "shell", "--", "sh", "-c", "echo back; sleep 0.2"]);
        return x.code === 0 && x;
      }, 30_000);
      expect(r.stdout).toBe("back\n");
    }, 90_000);

    it("pods/proxy reaches the pod's port through a tcp stream", async () => {
      const r = await k(["get", "--raw", `/api/v1/namespaces/${NS}/pods/web:8080/proxy/`]);
      expect(r).toMatchObject({ code: 0, stdout: "hello-from-pod\n" });
    }, 60_000);
  });
}
