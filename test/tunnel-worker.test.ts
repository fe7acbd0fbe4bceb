/**
 * The agent tunnel on the Worker in Miniflare: the per-node Durable Object
 * (workers/tunnel/object.ts) behind the Worker's checks (workers/tunnel/edge.ts), with
 * toy agents, real `ws` clients over HTTPS and the real kubectl.
 */
import { request as httpsRequest } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "./kubectl";
import { startWorkerTarget } from "./targets";
import { commonCases, setupWorld, type TunnelEnv, type World } from "./tunnel-suite";

const ANSWER_TIMEOUT_MS = 1500;
const MAX_STREAMS = 4;

describe("agent tunnel on the Worker (Miniflare)", () => {
  let target: Awaited<ReturnType<typeof startWorkerTarget>>;
  let env: TunnelEnv;
  let world: World;

  beforeAll(async () => {
    target = await startWorkerTarget({
      https: true,
      bindings: { VIEWER_TOKENS: "viewer-token-1", TUNNEL_ANSWER_TIMEOUT_MS: String(ANSWER_TIMEOUT_MS), TUNNEL_MAX_STREAMS: String(MAX_STREAMS) },
    });
    env = { url: target.url!.replace(/\/$/, ""), ca: target.caPem!, admin: target.token, viewer: "viewer-token-1", kubeconfigPath: target.kubeconfigPath! };
    world = await setupWorld(env);
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    await target?.close();
  });

  commonCases(it, { env: () => env, world: () => world, answerTimeoutS: ANSWER_TIMEOUT_MS / 1000, maxStreams: MAX_STREAMS });

  it("an SPDY upgrade gets a Status naming the WebSocket-capable clients, and no agent is asked", async () => {
    const before = world.agents["node-a"].opens.length;
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(`${env.url}/api/v1/namespaces/default/pods/p-a/portforward`, {
        method: "POST",
        ca: env.ca,
        headers: { Authorization: `Bearer ${env.admin}`, Connection: "Upgrade", Upgrade: "SPDY/3.1", "X-Stream-Protocol-Version": "portforward.k8s.io" },
      });
      req.on("upgrade", () => reject(new Error("upgraded")));
      req.on("response", (r) => {
        let body = "";
        r.on("data", (d) => (body += d));
        r.on("end", () => resolve({ status: r.statusCode!, body }));
      });
      req.on("error", reject);
      req.end();
    });
    expect(res.status).toBe(400);
    const s = JSON.parse(res.body);
    expect(s.reason).toBe("BadRequest");
    expect(s.message).toContain("SPDY upgrades are not available on the edge");
    expect(s.message).toContain("1.31 or later for port-forward");
    expect(world.agents["node-a"].opens.length).toBe(before);
  });

  it("pods/proxy and services/proxy reach the pod port over a tcp stream through the node's Durable Object", async () => {
    const { api, seen } = world;
    const r1 = await api("GET", "/api/v1/namespaces/default/pods/p-a:8080/proxy/hello/there?x=1&y=2");
    expect([r1.status, r1.text]).toEqual([200, "backend saw GET /hello/there?x=1&y=2 "]);
    expect(seen.at(-1)!.authorization).toBeUndefined();
    const r2 = await api("POST", "/api/v1/namespaces/default/pods/p-a/proxy/submit", "a body");
    expect([r2.status, r2.text]).toEqual([200, "backend saw POST /submit a body"]);
    for (const id of ["web:80", "web:http", "http:web:80"]) {
      const r = await api("GET", `/api/v1/namespaces/default/services/${id}/proxy/`);
      expect([r.status, r.text]).toEqual([200, "backend saw GET / "]);
    }
    expect(world.agents["node-b"].opens.at(-1)).toMatchObject({ kind: "tcp", pod: "web-1", port: 8080 });
    const noPort = await api("GET", "/api/v1/namespaces/default/services/web:81/proxy/");
    expect([noPort.status, noPort.json.message]).toEqual([503, 'no service port 81 found for service "web"']);
    const viewer = await api("GET", "/api/v1/namespaces/default/services/web/proxy/", undefined, env.viewer);
    expect(viewer.status).toBe(403);
    const closed = await api("GET", "/api/v1/namespaces/default/pods/p-a:9999/proxy/");
    expect([closed.status, closed.json.message]).toEqual([503, "nothing listens on port 9999"]);
  });

  it("the real kubectl: exec with stdin and its exit code, get --raw through services/proxy", async () => {
    const k = kubectl(env.kubeconfigPath, "1.32");
    const ok = await k(["exec", "-i", "p-a", "--", "cat"], { input: "from kubectl\n" });
    expect([ok.code, ok.stdout]).toEqual([0, "hello from node-a/p-a/main\nfrom kubectl\n"]);
    const fail = await k(["exec", "-i", "p-a", "--", "sh"], { input: "exit 3\n" });
    expect(fail.code).toBe(3);
    const raw = await k(["get", "--raw", "/api/v1/namespaces/default/services/web:80/proxy/kubectl?q=1"]);
    expect(raw.stdout).toBe("backend saw GET /kubectl?q=1 ");
  });
});
