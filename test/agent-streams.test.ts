/**
 * The agent's side of the tunnel (issue #13), on real Docker and containerd: the real
 * NodeAgent runs pods against the real Node server; its tunnel client connects to a test
 * control plane (test/tunnel-server.ts) that plays the contract of shared/tunnel.ts and
 * puts the stream subresources in front of it, so real clients speak to the agent:
 * @kubernetes/client-node's Exec, Attach and PortForward (WebSocket channel protocols),
 * kubectl 1.33 (exec over v5.channel.k8s.io and over SPDY/3.1; port-forward over SPDY
 * inside WebSocket and over plain SPDY), and plain ws clients for the refusals.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { Attach, Exec, KubeConfig, PortForward } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import { ContainerdRuntime } from "../agent/runtime/containerd";
import { DockerRuntime } from "../agent/runtime/docker";
import { type ContainerRuntime, LABELS } from "../agent/runtime/runtime";
import { TunnelClient } from "../agent/tunnel/client";
import type { StreamOpen } from "../shared/tunnel";
import { containerd, docker, type Engine, IMAGE } from "./agent-e2e/engines";
import { eventually, kubectlBinary } from "./kubectl";
import { send, startNodeTarget } from "./targets";
import { startTunnelTestServer, type TunnelTestServer } from "./tunnel-server";
import { hostAgentOptions, httpGet, portForward } from "./host-agent";

const NS = "default";

const collect = () => {
  const s = new PassThrough();
  let text = "";
  s.on("data", (d) => (text += d.toString()));
  return { stream: s, text: () => text };
};

function suite(engine: Engine, makeRuntime: (dir: string) => ContainerRuntime) {
  describe(`agent streams on ${engine.name}`, async () => {
    const up = await engine.available();
    if (!up && process.env.CI) throw new Error(`CI must run the ${engine.name} stream tests: engine not reachable or ${IMAGE} missing`);
    const NODE = `streams-${engine.name}-${process.pid}`;
    let t: Awaited<ReturnType<typeof startNodeTarget>>;
    let agent: NodeAgent;
    let tunnel: TunnelClient;
    let ts: TunnelTestServer;
    let dir: string;
    let kc: KubeConfig;
    let kubeconfigPath: string;

    const pod = (name: string, command: string[], extra: Record<string, unknown> = {}) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: NS },
      spec: {
        nodeName: NODE,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "main", image: IMAGE, command, ...extra }],
      },
    });

    beforeAll(async () => {
      if (!up) return;
      dir = mkdtempSync(join(tmpdir(), `kf-streams-${engine.name}-`));
      t = await startNodeTarget();
      agent = new NodeAgent({
        api: new ApiClient({ server: t.url, token: t.token, caPem: t.caPem }),
        runtime: makeRuntime(join(dir, "runtime")),
        nodeName: NODE,
        ...hostAgentOptions(dir),
        tunnel: false,
        log: process.env.DEBUG_AGENT ? undefined : () => {},
      });
      await agent.start();
      ts = await startTunnelTestServer(NODE, { url: t.url, caPem: t.caPem, token: t.token });
      tunnel = new TunnelClient({
        server: ts.url,
        token: "node-credential",
        nodeName: NODE,
        streams: agent.streams,
        log: process.env.DEBUG_AGENT ? console.log : undefined,
      });
      tunnel.start();
      await ts.agentConnected();
      const pods = [
        pod("shell", ["sleep", "infinity"]),
        pod("printer", ["sh", "-c", "i=0; while :; do echo line $i; i=$((i+1)); sleep 0.2; done"]),
        // listening on the pod's loopback only: reachable from the pod's own network namespace, as with kubelet
        pod("web", [
          "sh",
          "-c",
          "mkdir -p /www && echo hello-from-pod > /www/index.html && head -c 8388608 /dev/zero > /www/big && exec httpd -f -p 127.0.0.1:8080 -h /www",
        ]),
      ];
      for (const p of pods) expect((await send(t, "POST", `/api/v1/namespaces/${NS}/pods`, p)).status).toBe(201);
      for (const p of pods) {
        const running = await eventually(async () => {
          const got = (await send(t, "GET", `/api/v1/namespaces/${NS}/pods/${p.metadata.name}`)).json;
          return got?.status?.phase === "Running" && got;
        }, 60_000);
        ts.uids.set(`${NS}/${p.metadata.name}`, running.metadata.uid);
      }
      kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: "c", server: ts.url, skipTLSVerify: true }],
        users: [{ name: "u", token: t.token }],
        contexts: [{ name: "x", cluster: "c", user: "u" }],
        currentContext: "x",
      });
      kubeconfigPath = join(dir, "kubeconfig");
      writeFileSync(
        kubeconfigPath,
        JSON.stringify({
          apiVersion: "v1",
          kind: "Config",
          clusters: [{ name: "c", cluster: { server: ts.url } }],
          users: [{ name: "u", user: { token: t.token } }],
          contexts: [{ name: "x", context: { cluster: "c", user: "u", namespace: NS } }],
          "current-context": "x",
        }),
      );
    }, 120_000);

    afterAll(async () => {
      if (!up) return;
      await tunnel?.stop();
      await ts?.close();
      await agent?.stop();
      for (const c of await engine.containers({ [LABELS.node]: NODE })) await engine.remove(c.id);
      await t?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    const exec = async (command: string[], o: { stdin?: string; tty?: boolean; pod?: string } = {}) => {
      const out = collect();
      const err = collect();
      const stdin = o.stdin !== undefined ? Readable.from([Buffer.from(o.stdin)]) : null;
      let status: any;
      const done = new Promise<void>((resolve) => {
        void new Exec(kc).exec(NS, o.pod ?? "shell", "main", command, out.stream, o.tty ? null : err.stream, stdin, !!o.tty, (s) => {
          status = s;
          resolve();
        });
      });
      await done;
      return { stdout: out.text(), stderr: err.text(), status };
    };

    it.skipIf(!up)("client-node Exec: output on stdout and stderr, then Success on the error channel (v5.channel.k8s.io)", async () => {
      // (the short sleep: ctr 1.6 can lose the output of a command that exits at once on a busy
      // node, deleting the exec before containerd's shim has copied it; see agent/runtime/containerd.ts)
      const r = await exec(["sh", "-c", "echo out; echo err >&2; sleep 0.2"]);
      expect(r.stdout).toBe("out\n");
      expect(r.stderr).toBe("err\n");
      expect(r.status).toMatchObject({ status: "Success" });
      expect(ts.opened.at(-1)).toMatchObject({ kind: "exec", framing: "websocket", protocols: expect.arrayContaining(["v5.channel.k8s.io"]) });
    });

    it.skipIf(!up)("client-node Exec: a failing command's exit code on the error channel (NonZeroExitCode, cause ExitCode)", async () => {
      const r = await exec(["sh", "-c", "exit 3"]);
      expect(r.status).toMatchObject({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "3" }] } });
    });

    it.skipIf(!up)("client-node Exec: stdin reaches the command, and its end (v5 close signal) ends the command's input", async () => {
      // a command that reads late: the client is held back meanwhile (the WebSocket paused), nothing lost
      const r = await exec(["sh", "-c", "sleep 0.5; wc -c; sleep 0.2"], { stdin: "x".repeat(5_000_000) });
      expect(r.stdout.trim()).toBe("5000000");
      expect(r.status).toMatchObject({ status: "Success" });
    });

    it.skipIf(!up)("client-node Exec with a TTY: one output stream from a terminal, and a resize reaches it", async () => {
      // the terminal's size is what the client sent (resize channel 4), read inside the container
      // (1.5 s on: on containerd the resize is an `stty -F` of the pty from the host, which under load
      // took longer than 0.5 s, and the container's stty running at the same moment failed with ECHILD)
      const out = collect();
      let status: any;
      const stdin = new PassThrough();
      const ws = new WebSocket(
        `${ts.url.replace("http", "ws")}/api/v1/namespaces/${NS}/pods/shell/exec?container=main&command=sh&command=-c&command=sleep%201.5%3B%20stty%20size%3B%20tty&stdin=true&stdout=true&tty=true`,
        ["v4.channel.k8s.io"],
      );
      await new Promise((r) => ws.once("open", r));
      expect(ws.protocol).toBe("v4.channel.k8s.io");
      ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: 91, Height: 37 }))]));
      await new Promise<void>((resolve) => {
        ws.on("message", (d: Buffer) => {
          if (d[0] === 1) out.stream.write(d.subarray(1));
          if (d[0] === 3) status = JSON.parse(d.subarray(1).toString());
        });
        ws.on("close", () => resolve());
      });
      stdin.end();
      // (containerd's console path writes \r\r\n for a newline; a terminal shows the same)
      expect(out.text()).toMatch(/37 91\r+\n/);
      expect(out.text()).toMatch(/\/dev\/pts\/\d+/);
      expect(status).toMatchObject({ status: "Success" });
    });

    it.skipIf(!up)("client-node PortForward (v4.channel.k8s.io channels) reaches a server on the pod's loopback, two connections at once", async () => {
      const once = async () => {
        const out = collect();
        // (the input stays open: with v4.channel.k8s.io, which has no close signal, its end closes the connection)
        const input = new PassThrough();
        input.write("GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n");
        const ws = (await new PortForward(kc, false).portForward(NS, "web", [8080], out.stream, null, input, 0)) as WebSocket;
        // the server answers and closes its side: so does the forward
        await new Promise((r) => ws.once("close", r));
        input.end();
        expect(ws.protocol).toBe("v4.channel.k8s.io");
        return out.text();
      };
      const [a, b] = await Promise.all([once(), once()]);
      for (const r of [a, b]) {
        expect(r).toMatch(/^HTTP\/1\.[01] 200/);
        expect(r).toContain("hello-from-pod");
      }
    });

    it.skipIf(!up)(
      "kubectl 1.33 exec (v5.channel.k8s.io): output, stdin with -i, the exit code of a failing command",
      async () => {
        const bin = kubectlBinary("1.33");
        const k = (args: string[], input?: string) =>
          new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
            const p = spawn(bin, ["--kubeconfig", kubeconfigPath, ...args]);
            let stdout = "";
            let stderr = "";
            p.stdout.on("data", (d) => (stdout += d));
            p.stderr.on("data", (d) => (stderr += d));
            p.on("close", (code) => resolve({ code, stdout, stderr }));
            p.stdin.end(input ?? "");
          });
        const r1 = await k(["exec", "shell", "--", "sh", "-c", "echo hello; echo oops >&2; sleep 0.2"]);
        expect([r1.code, r1.stdout, r1.stderr]).toEqual([0, "hello\n", "oops\n"]);
        const r2 = await k(["exec", "-i", "shell", "--", "sh", "-c", "tr a-z A-Z; sleep 0.2"], "shout\n");
        expect(r2).toMatchObject({ code: 0, stdout: "SHOUT\n" });
        const r3 = await k(["exec", "shell", "--", "sh", "-c", "exit 3"]);
        expect(r3.code).toBe(3);
        // SPDY/3.1 (kubectl's fallback, and what 1.29 and older speak)
        const env = { ...process.env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false" };
        const spdy = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
          const p = spawn(bin, ["--kubeconfig", kubeconfigPath, "exec", "-i", "shell", "--", "sh", "-c", "cat; sleep 0.2; exit 4"], { env });
          let stdout = "";
          p.stdout.on("data", (d) => (stdout += d));
          p.on("close", (code) => resolve({ code, stdout }));
          p.stdin.end("over spdy\n");
        });
        expect(spdy).toEqual({ code: 4, stdout: "over spdy\n" });
        // more than SPDY's 64 KiB windows both ways (kubectl's spdystream has no flow control)
        const bulk = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
          const p = spawn(
            bin,
            ["--kubeconfig", kubeconfigPath, "exec", "-i", "shell", "--", "sh", "-c", "wc -c; head -c 3000000 /dev/zero | tr '\\0' x; sleep 0.2"],
            { env },
          );
          let stdout = "";
          p.stdout.on("data", (d) => (stdout += d));
          p.on("close", (code) => resolve({ code, stdout }));
          p.stdin.end(Buffer.alloc(5_000_000, 65));
        });
        expect(bulk.code).toBe(0);
        expect(bulk.stdout.split("\n")[0].trim()).toBe("5000000");
        expect(bulk.stdout.length).toBe("5000000\n".length + 3_000_000);
        expect(ts.opened.some((o) => o.kind === "exec" && o.framing === "raw" && o.upgrade === "SPDY/3.1")).toBe(true);
      },
      60_000,
    );

    it.skipIf(!up)(
      "kubectl 1.33 exec -it over v5 and over SPDY/3.1, in a pseudo-terminal (script): the container's terminal has kubectl's size",
      async () => {
        for (const websockets of ["true", "false"]) {
          const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
            const cmd = `stty rows 33 cols 77; ${kubectlBinary("1.33")} --kubeconfig ${kubeconfigPath} exec -it shell -- sh -c 'sleep 0.5; stty size; sleep 0.2'`;
            const p = spawn("script", ["-qfec", cmd, "/dev/null"], { env: { ...process.env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: websockets } });
            let text = "";
            p.stdout.on("data", (d) => (text += d));
            p.on("close", (code) => resolve({ code, text }));
          });
          expect(out.code, websockets).toBe(0);
          expect(out.text, websockets).toMatch(/33 77\r+\n/);
        }
        const ttys = ts.opened.filter((o) => o.kind === "exec" && /tty=true/.test(o.query ?? ""));
        expect(ttys.map((o) => o.framing)).toEqual(expect.arrayContaining(["websocket", "raw"]));
      },
      60_000,
    );

    it.skipIf(!up)(
      "kubectl 1.33 port-forward (SPDY inside WebSocket, and plain SPDY): two requests in a row and two in parallel",
      async () => {
        for (const ws of ["true", "false"]) {
          const pf = await portForward(kubeconfigPath, "pod/web", 8080, { env: { ...process.env, KUBECTL_PORT_FORWARD_WEBSOCKETS: ws } });
          const { port } = pf;
          try {
            for (let i = 0; i < 2; i++) expect(await httpGet(port)).toEqual({ status: 200, body: "hello-from-pod\n" });
            // more than SPDY's 64 KiB window: kubectl's spdystream never sends WINDOW_UPDATE
            const big = await fetch(`http://127.0.0.1:${port}/big`).then(async (r) => (await r.arrayBuffer()).byteLength);
            expect(big).toBe(8 * 1024 * 1024);
            const both = await Promise.all([httpGet(port), httpGet(port)]);
            expect(both).toEqual([
              { status: 200, body: "hello-from-pod\n" },
              { status: 200, body: "hello-from-pod\n" },
            ]);
          } finally {
            pf.stop();
          }
          expect(pf.output()).not.toMatch(/error/i);
        }
        const pf = ts.opened.filter((o) => o.kind === "portforward");
        expect(pf.some((o) => o.framing === "websocket" && o.protocols.includes("SPDY/3.1+portforward.k8s.io"))).toBe(true);
        expect(pf.some((o) => o.framing === "raw")).toBe(true);
      },
      60_000,
    );

    it.skipIf(!up)("refuses a stream for an unknown pod, a pod under another uid, and a container the pod does not run", async () => {
      const base = { kind: "exec" as const, namespace: NS, framing: "websocket" as const, protocols: ["v5.channel.k8s.io"], query: "command=true&stdout=true" };
      const unknown = await ts.open({ ...base, pod: "nope", uid: "u", container: "main" });
      expect(unknown.answer).toMatchObject({ type: "reject", status: { code: 404, reason: "NotFound" } });
      const otherUid = await ts.open({ ...base, pod: "shell", uid: "00000000-1111-2222-3333-444444444444", container: "main" });
      expect(otherUid.answer).toMatchObject({ type: "reject", status: { code: 404, reason: "NotFound" } });
      const uid = ts.uids.get(`${NS}/shell`)!;
      const noContainer = await ts.open({ ...base, pod: "shell", uid, container: "sidecar" });
      expect(noContainer.answer).toMatchObject({ type: "reject", status: { code: 400, reason: "BadRequest", message: expect.stringContaining("sidecar") } });
      const noCommand = await ts.open({ ...base, pod: "shell", uid, container: "main", query: "stdout=true" });
      expect(noCommand.answer).toMatchObject({ type: "reject", status: { code: 400 } });
      const ok = await ts.open({ ...base, pod: "shell", uid, container: "main" });
      expect(ok.answer).toEqual({ type: "accept", protocol: "v5.channel.k8s.io" });
      ok.ws.close();
    });

    /** a new tunnel client of the agent, once its control channel is up */
    const newTunnel = async (o: { maxStreams?: number } = {}) => {
      const before = ts.connections();
      tunnel = new TunnelClient({ server: ts.url, token: "node-credential", nodeName: NODE, streams: agent.streams, ...o });
      tunnel.start();
      await eventually(async () => ts.connections() > before, 20_000);
      return tunnel;
    };

    /** the agent's side of a stream as the contract carries it: messages on the stream connection after the answer */
    const openWs = async (o: Omit<StreamOpen, "type" | "id" | "namespace" | "uid">) => {
      const r = await ts.open({ namespace: NS, uid: ts.uids.get(`${NS}/${o.pod}`)!, ...o });
      const got: { data: Buffer; binary: boolean }[] = [];
      r.ws.on("message", (data: Buffer, binary) => got.push({ data, binary }));
      const closed = new Promise<number>((resolve) => r.ws.on("close", (code) => resolve(code)));
      return { ...r, got, closed };
    };

    it.skipIf(!up)("speaks the older channel protocols: channel.k8s.io (failure message only) and v4.base64.channel.k8s.io (text)", async () => {
      const v1 = await openWs({
        kind: "exec",
        pod: "shell",
        container: "main",
        framing: "websocket",
        protocols: ["channel.k8s.io"],
        query: "command=sh&command=-c&command=echo%20hi%3B%20sleep%200.2%3B%20exit%205&stdout=true",
      });
      expect(v1.answer).toEqual({ type: "accept", protocol: "channel.k8s.io" });
      await v1.closed;
      const stdout = Buffer.concat(v1.got.filter((m) => m.data[0] === 1).map((m) => m.data.subarray(1))).toString();
      expect(stdout).toBe("hi\n");
      const err = v1.got.filter((m) => m.data[0] === 3 && m.data.length > 1).map((m) => m.data.subarray(1).toString());
      expect(err).toEqual([expect.stringContaining("exited with 5")]);

      const b64 = await openWs({
        kind: "exec",
        pod: "shell",
        container: "main",
        framing: "websocket",
        protocols: ["v4.base64.channel.k8s.io"],
        query: "command=sh&command=-c&command=echo%20hi%3B%20sleep%200.2&stdout=true",
      });
      expect(b64.answer).toEqual({ type: "accept", protocol: "v4.base64.channel.k8s.io" });
      await b64.closed;
      expect(b64.got.every((m) => !m.binary)).toBe(true);
      const text = b64.got.map((m) => m.data.toString());
      expect(
        text
          .filter((t) => t.startsWith("1"))
          .map((t) => Buffer.from(t.slice(1), "base64").toString())
          .join(""),
      ).toBe("hi\n");
      expect(JSON.parse(Buffer.from(text.find((t) => t.startsWith("3"))!.slice(1), "base64").toString())).toMatchObject({ status: "Success" });

      const none = await ts.open({
        kind: "exec",
        namespace: NS,
        pod: "shell",
        uid: ts.uids.get(`${NS}/shell`)!,
        container: "main",
        framing: "websocket",
        protocols: ["v9.channel.k8s.io"],
        query: "command=true&stdout=true",
      });
      expect(none.answer).toMatchObject({ type: "reject", status: { code: 400, message: expect.stringContaining("v9.channel.k8s.io") } });
    });

    it.skipIf(!up)("tcp (pods/proxy): the pod port's bytes both ways; a closed port is refused with 503 before any byte", async () => {
      const r = await openWs({ kind: "tcp", pod: "web", port: 8080, framing: "raw", protocols: [] });
      expect(r.answer).toEqual({ type: "accept", protocol: "" });
      r.ws.send(Buffer.from("GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n"));
      await r.closed;
      const text = Buffer.concat(r.got.map((m) => m.data)).toString();
      expect(text).toMatch(/^HTTP\/1\.[01] 200/);
      expect(text).toContain("hello-from-pod");
      const refused = await openWs({ kind: "tcp", pod: "web", port: 8081, framing: "raw", protocols: [] });
      expect(refused.answer).toMatchObject({ type: "reject", status: { code: 503, message: expect.stringContaining("connection refused") } });
    });

    it.skipIf(!up)("port-forward to a closed port: the error on the port's error channel, as kubelet words it", async () => {
      const r = await openWs({ kind: "portforward", pod: "web", framing: "websocket", protocols: ["v4.channel.k8s.io"], query: "ports=8081" });
      expect(r.answer).toEqual({ type: "accept", protocol: "v4.channel.k8s.io" });
      await r.closed;
      const errors = r.got.filter((m) => m.data[0] === 1 && m.data.length > 3).map((m) => m.data.subarray(1).toString());
      expect(errors).toEqual([expect.stringMatching(/^error forwarding port 8081 to pod web, uid .*connection refused/)]);
    });

    it.skipIf(!up)("an agent that goes away ends its open streams with a close the client sees; a new tunnel serves new streams", async () => {
      const long = await openWs({
        kind: "exec",
        pod: "shell",
        container: "main",
        framing: "websocket",
        protocols: ["v5.channel.k8s.io"],
        query: "command=sleep&command=30&stdout=true",
      });
      expect(long.answer.type).toBe("accept");
      const old = tunnel;
      expect(old.openStreams).toBeGreaterThan(0);
      await old.stop();
      expect(await long.closed).toBe(1001);
      await newTunnel();
      const r = await exec(["sh", "-c", "echo again; sleep 0.2"]);
      expect(r.stdout).toBe("again\n");
    });

    it.skipIf(!up)("reconnects when the control channel drops, and refuses streams over its limit with 429", async () => {
      const before = ts.connections();
      ts.dropAgent();
      await eventually(async () => ts.connections() > before, 20_000);
      const r = await exec(["sh", "-c", "echo back; sleep 0.2"]);
      expect(r.stdout).toBe("back\n");

      await tunnel.stop();
      const limited = await newTunnel({ maxStreams: 1 });
      const first = await openWs({
        kind: "exec",
        pod: "shell",
        container: "main",
        framing: "websocket",
        protocols: ["v5.channel.k8s.io"],
        query: "command=sleep&command=30&stdout=true",
      });
      expect(first.answer.type).toBe("accept");
      const second = await ts.open({
        kind: "exec",
        namespace: NS,
        pod: "shell",
        uid: ts.uids.get(`${NS}/shell`)!,
        container: "main",
        framing: "websocket",
        protocols: ["v5.channel.k8s.io"],
        query: "command=true&stdout=true",
      });
      expect(second.answer).toMatchObject({ type: "reject", status: { code: 429, reason: "TooManyRequests" } });
      first.ws.close();
      // the tests after this one get an unlimited tunnel again
      await limited.stop();
      await newTunnel();
    });

    it.skipIf(!up)("client-node Attach sees the lines a container prints", async () => {
      const out = collect();
      const ws = await new Attach(kc).attach(NS, "printer", "main", out.stream, null, null, false);
      await eventually(async () => (out.text().match(/line \d+\n/g) ?? []).length >= 3, 10_000);
      ws.close();
    });

    if (engine.name === "containerd")
      it.skipIf(!up)("attach with stdin on containerd ends with a Status that says it is not supported", async () => {
        const uid = ts.uids.get(`${NS}/printer`)!;
        const r = await openWs({
          kind: "attach",
          pod: "printer",
          container: "main",
          framing: "websocket",
          protocols: ["v5.channel.k8s.io"],
          query: "stdin=true&stdout=true",
        });
        expect(r.answer.type).toBe("accept");
        await r.closed;
        const status = r.got.find((m) => m.data[0] === 3 && m.data.length > 1);
        expect(JSON.parse(status!.data.subarray(1).toString())).toMatchObject({
          status: "Failure",
          message: expect.stringContaining("not supported on containerd"),
        });
        expect(uid).toBeTruthy();
      });
  });
}

suite(docker, () => new DockerRuntime());
suite(containerd, (dir) => new ContainerdRuntime(dir));
