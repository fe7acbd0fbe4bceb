/**
 * The agent tunnel on the Node server (node/upgrade.ts): exec/attach/port-forward
 * upgrades (WebSocket and SPDY), pods/proxy and services/proxy, the tunnel's own
 * authentication and limits, with toy agents (test/tunnel-toy-agent.ts), real `ws`
 * clients and the real kubectl.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../node/server";
import { kubectl } from "./kubectl";
import { eventually } from "./kubectl";
import { commonCases, session, setupWorld, type TunnelEnv, type World } from "./tunnel-suite";

const ANSWER_TIMEOUT_MS = 1500;
const MAX_STREAMS = 4;

describe("agent tunnel on the Node server", () => {
  let server: RunningServer;
  let env: TunnelEnv;
  let world: World;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kf-tunnel-"));
    const tokenFile = join(dir, "tokens.csv");
    writeFileSync(tokenFile, 'viewer-token-1,viewer,u1,"system:authenticated,kubeflare:viewers"\n');
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: join(dir, "data"),
      synchronous: "NORMAL",
      controllers: [],
      tokenAuthFile: tokenFile,
      tunnel: { answerTimeoutMs: ANSWER_TIMEOUT_MS, maxStreamsPerNode: MAX_STREAMS },
      log: () => {},
    });
    env = { url: server.url, ca: server.caPem, admin: server.adminToken, viewer: "viewer-token-1", kubeconfigPath: server.kubeconfigPath };
    world = await setupWorld(env);
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  commonCases(it, { env: () => env, world: () => world, answerTimeoutS: ANSWER_TIMEOUT_MS / 1000, maxStreams: MAX_STREAMS });

  it("an answer that comes after the timeout is closed and frees no other stream's slot", async () => {
    // node-c's agent answers pod "lonely" late
    const late = await world.startAgent("node-c", { late: new Map([["lonely", ANSWER_TIMEOUT_MS + 500]]) });
    const refusedLate = await session(env, "/api/v1/namespaces/default/pods/lonely/exec?command=sh&stdin=true&stdout=true").catch((e) => e);
    expect(String(refusedLate)).toContain("500");
    expect(server.tunnels.streams("node-c")).toBe(0);
    // the late answer arrives: the server closes that stream connection, and counts nothing for it
    await eventually(async () => late.streams.size === 0 && late.opens.length === 1, 10_000);
    expect(server.tunnels.streams("node-c")).toBe(0);
    await late.close();
  });

  it("SPDY/3.1 upgrades: 101 with the version the agent chose, then the connection's bytes both ways", async () => {
    const { socket, res } = await new Promise<{ socket: import("node:net").Socket; res: import("node:http").IncomingMessage }>((resolve, reject) => {
      const req = httpsRequest(`${env.url}/api/v1/namespaces/default/pods/p-a/exec?command=sh&stdin=true&stdout=true`, {
        method: "POST",
        ca: env.ca,
        headers: {
          Authorization: `Bearer ${env.admin}`,
          Connection: "Upgrade",
          Upgrade: "SPDY/3.1",
          "X-Stream-Protocol-Version": ["v4.channel.k8s.io", "v3.channel.k8s.io"],
        },
      });
      req.on("upgrade", (res, socket) => resolve({ socket, res }));
      req.on("response", (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on("error", reject);
      req.end();
    });
    expect(res.statusCode).toBe(101);
    expect(res.headers["x-stream-protocol-version"]).toBe("v4.channel.k8s.io");
    expect(res.headers.upgrade).toBe("SPDY/3.1");
    const open = world.agents["node-a"].opens.at(-1)!;
    expect(open).toMatchObject({ kind: "exec", framing: "raw", upgrade: "SPDY/3.1", protocols: ["v4.channel.k8s.io", "v3.channel.k8s.io"] });
    const got = new Promise<string>((r) => {
      let s = "";
      socket.on("data", (d) => {
        s += d;
        if (s.includes("spdy bytes")) r(s);
      });
    });
    socket.write("spdy bytes");
    expect(await got).toBe("spdy bytes");
    socket.destroy();
  });

  it("pods/proxy and services/proxy reach the pod port over a tcp stream, with kube's forms and messages", async () => {
    const { api, seen } = world;
    const r1 = await api("GET", "/api/v1/namespaces/default/pods/p-a:8080/proxy/hello/there?x=1&y=2");
    expect([r1.status, r1.text]).toEqual([200, "backend saw GET /hello/there?x=1&y=2 "]);
    // the client's credential stays with the control plane
    expect(seen.at(-1)!.authorization).toBeUndefined();
    // no port: the first container port
    const r2 = await api("POST", "/api/v1/namespaces/default/pods/p-a/proxy/submit", "a body");
    expect([r2.status, r2.text]).toEqual([200, "backend saw POST /submit a body"]);
    expect(world.agents["node-a"].opens.at(-1)).toMatchObject({ kind: "tcp", pod: "p-a", port: 8080, framing: "raw" });
    // services/proxy: by port number, by port name, with a scheme; the endpoint's pod is on node-b
    for (const id of ["web:80", "web:http", "http:web:80"]) {
      const r = await api("GET", `/api/v1/namespaces/default/services/${id}/proxy/`);
      expect([r.status, r.text]).toEqual([200, "backend saw GET / "]);
    }
    expect(world.agents["node-b"].opens.at(-1)).toMatchObject({ kind: "tcp", pod: "web-1", port: 8080 });
    const noPort = await api("GET", "/api/v1/namespaces/default/services/web:81/proxy/");
    expect([noPort.status, noPort.json.reason, noPort.json.message]).toEqual([503, "ServiceUnavailable", 'no service port 81 found for service "web"']);
    const noSvc = await api("GET", "/api/v1/namespaces/default/services/nope/proxy/");
    expect([noSvc.status, noSvc.json.message]).toEqual([404, 'services "nope" not found']);
    const badId = await api("GET", "/api/v1/namespaces/default/services/ftp:web:80/proxy/");
    expect([badId.status, badId.json.message]).toEqual([400, 'invalid service request "ftp:web:80"']);
    const viewer = await api("GET", "/api/v1/namespaces/default/pods/p-a/proxy/", undefined, env.viewer);
    expect(viewer.status).toBe(403);
    expect(viewer.json.message).toContain('cannot get resource "pods/proxy"');
    const node = await api("GET", "/api/v1/namespaces/default/services/web/proxy/", undefined, world.creds["node-b"]);
    expect(node.status).toBe(403);
    // nothing listens on the pod's port 9999: the agent's Status
    const closed = await api("GET", "/api/v1/namespaces/default/pods/p-a:9999/proxy/");
    expect([closed.status, closed.json.message]).toEqual([503, "nothing listens on port 9999"]);
  });

  it("the real kubectl: exec with stdin, its exit code, and get --raw through pods/proxy and services/proxy", async () => {
    const k = kubectl(env.kubeconfigPath, "1.32");
    const ok = await k(["exec", "-i", "p-a", "--", "cat"], { input: "from kubectl\n" });
    expect(ok.stdout).toBe("hello from node-a/p-a/main\nfrom kubectl\n");
    expect(ok.code).toBe(0);
    const fail = await k(["exec", "-i", "p-a", "--", "sh"], { input: "exit 3\n" });
    expect(fail.code).toBe(3);
    const viewerless = await k(["exec", "-i", "p-a", "--token", env.viewer, "--", "cat"], { input: "" });
    expect(viewerless.code).not.toBe(0);
    expect(viewerless.stderr).toContain('cannot create resource "pods/exec"');
    const raw = await k(["get", "--raw", "/api/v1/namespaces/default/services/web:80/proxy/kubectl?q=1"]);
    expect(raw.stdout).toBe("backend saw GET /kubectl?q=1 ");
  });
});
