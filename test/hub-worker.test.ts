/**
 * The Worker's watch hub (workers/hub) in Miniflare with real libSQL (Hrana): WebSocket
 * watches get changes pushed after each write without any database polling, resume
 * from a resourceVersion, get 410 once history is compacted; kubectl's HTTP watch is
 * served from the hub too; and a killed agent's node goes NotReady by the hub's
 * liveness alarm, without the cron.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import type { WatchEvent } from "../shared/types";
import { HollowRuntime } from "./hollow-runtime";
import { eventually, kubectl } from "./kubectl";
import { send, startWorkerTarget } from "./targets";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A WebSocket watch with the admin token: its events as they come, and whether it closed. */
let ca: string | undefined;
const openWatch = async (origin: string, token: string, path: string) => {
  const events: WatchEvent[] = [];
  const arrivals: number[] = [];
  const ws = new WebSocket(`${origin.replace(/^http/, "ws")}${path}`, { headers: { Authorization: `Bearer ${token}` }, ca });
  let closed = false;
  ws.on("message", (d) => {
    events.push(JSON.parse(d.toString()));
    arrivals.push(Date.now());
  });
  ws.on("close", () => {
    closed = true;
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  return { ws, events, arrivals, closed: () => closed, close: () => ws.close(1000) };
};

const cm = (name: string) => ({ metadata: { name }, data: { a: name } });

describe("the watch hub on the Worker", () => {
  let t: Awaited<ReturnType<typeof startWorkerTarget>>;
  beforeAll(async () => {
    // compaction keeps nothing it does not have to, so a test can make history expire
    t = await startWorkerTarget({ https: true, bindings: { COMPACT_KEEP_REVISIONS: "0", COMPACT_KEEP_SECONDS: "0" } });
    ca = t.caPem;
  }, 60_000);
  afterAll(async () => t?.close());

  it("pushes a change to a WebSocket watch within a second, and polls nothing while idle", async () => {
    const list = await send(t, "GET", "/api/v1/namespaces/default/configmaps");
    const w = await openWatch(t.origin, t.token, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${list.json.metadata.resourceVersion}`);
    try {
      // idle: no database request at all (a polling watch makes one every 0.5–2 s)
      await sleep(500);
      const before = t.dbRequests();
      await sleep(4000);
      expect(t.dbRequests() - before).toBe(0);

      const sent = Date.now();
      expect((await send(t, "POST", "/api/v1/namespaces/default/configmaps", cm("pushed"))).status).toBe(201);
      await eventually(async () => w.events.length === 1, 5000);
      expect(w.events[0].type).toBe("ADDED");
      expect(w.events[0].object.metadata.name).toBe("pushed");
      expect(w.events[0].object.kind).toBe("ConfigMap");
      expect(w.arrivals[0] - sent).toBeLessThan(1000);
      // and a filtered-out change (another namespace) reaches it not at all
      await send(t, "POST", "/api/v1/namespaces/kube-system/configmaps", cm("elsewhere"));
      await send(t, "DELETE", "/api/v1/namespaces/default/configmaps/pushed");
      await eventually(async () => w.events.length === 2, 5000);
      expect(w.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED pushed", "DELETED pushed"]);
    } finally {
      w.close();
    }
  }, 30_000);

  it("resumes after a disconnect from the last resourceVersion", async () => {
    const list = await send(t, "GET", "/api/v1/namespaces/default/configmaps");
    const w1 = await openWatch(t.origin, t.token, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${list.json.metadata.resourceVersion}`);
    await send(t, "POST", "/api/v1/namespaces/default/configmaps", cm("r1"));
    await eventually(async () => w1.events.length === 1, 5000);
    const rv = w1.events[0].object.metadata.resourceVersion;
    w1.close();
    await eventually(async () => w1.closed(), 5000);
    // missed while disconnected
    await send(t, "POST", "/api/v1/namespaces/default/configmaps", cm("r2"));
    await send(t, "DELETE", "/api/v1/namespaces/default/configmaps/r1");
    const w2 = await openWatch(t.origin, t.token, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`);
    try {
      await eventually(async () => w2.events.length === 2, 5000);
      expect(w2.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED r2", "DELETED r1"]);
      // and it goes on live
      await send(t, "POST", "/api/v1/namespaces/default/configmaps", cm("r3"));
      await eventually(async () => w2.events.length === 3, 5000);
      expect(w2.events[2].object.metadata.name).toBe("r3");
    } finally {
      w2.close();
    }
  }, 30_000);

  it("answers a watch from a compacted revision with 410 Expired", async () => {
    const first = await send(t, "POST", "/api/v1/namespaces/default/configmaps", cm("old"));
    const rv = Number(first.json.metadata.resourceVersion);
    for (let i = 0; i < 3; i++)
      await send(t, "PUT", "/api/v1/namespaces/default/configmaps/old", {
        ...(await send(t, "GET", "/api/v1/namespaces/default/configmaps/old")).json,
        data: { i: String(i) },
      });
    const worker = await t.mf.getWorker();
    // a minute of the cron's housekeeping (every fifth minute) compacts
    await (worker as any).scheduled({ cron: "* * * * *", scheduledTime: new Date(Math.floor(Date.now() / 300_000) * 300_000) });
    const w = await openWatch(t.origin, t.token, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv - 1}`);
    await eventually(async () => w.events.length >= 1, 5000);
    w.close();
    expect(w.events[0].type).toBe("ERROR");
    expect((w.events[0].object as any).code).toBe(410);
    expect((w.events[0].object as any).reason).toBe("Expired");
  }, 30_000);

  it("refuses a watch the user may not make before any upgrade (401)", async () => {
    await expect(openWatch(t.origin, "wrong-token", "/api/v1/configmaps?watch=true")).rejects.toThrow(/401/);
  });

  it("serves kubectl get -w (an HTTP watch) from the hub", async () => {
    const k = kubectl(t.kubeconfigPath!, "1.32");
    const w = k.spawn(["get", "configmaps", "-n", "default", "-w", "--output-watch-events", "--watch-only"]);
    try {
      await sleep(1500);
      const before = t.dbRequests();
      await sleep(3000);
      // the open HTTP watch polls nothing either
      expect(t.dbRequests() - before).toBe(0);
      expect((await k("create configmap streamed --from-literal=a=b")).code).toBe(0);
      await eventually(async () => /ADDED\s+streamed/.test(w.output()), 10_000);
      expect((await k("delete configmap streamed")).code).toBe(0);
      await eventually(async () => /DELETED\s+streamed/.test(w.output()), 10_000);
    } finally {
      w.kill();
    }
  }, 40_000);
});

describe("node liveness through the hub", () => {
  const dir = mkdtempSync(join(tmpdir(), "kf-hub-agent-"));
  let t: Awaited<ReturnType<typeof startWorkerTarget>>;
  let agent: NodeAgent | undefined;
  afterAll(async () => {
    await agent?.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("heartbeats keep a node Ready with a rare Lease; a killed agent's node goes NotReady within the grace period by the alarm, and its pod is evicted", async () => {
    const grace = 6;
    t = await startWorkerTarget({ controllers: true, nodeGraceSeconds: grace, tolerationSeconds: 2 });
    const admin = new ApiClient({ server: t.origin, token: t.token });
    const { token } = await admin.request("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { maxNodes: 1 });
    const nodeName = `hub-${process.pid}`;
    const cred = await new ApiClient({ server: t.origin, token }).request("POST", "/apis/kubeflare.dev/v1/join", { nodeName });
    const api = new ApiClient({ server: t.origin, token: cred.token });
    agent = new NodeAgent({
      api,
      runtime: new HollowRuntime(`hub${process.pid}`),
      nodeName,
      nodeIP: "127.0.0.1",
      dataDir: join(dir, nodeName),
      clusterDNS: "",
      dnsListen: null,
      leaseDurationSeconds: grace,
      log: () => {},
    });
    await agent.start();
    await admin.request("POST", "/api/v1/namespaces/default/pods", {
      metadata: { name: "on-hub-node" },
      spec: { nodeName, containers: [{ name: "c", image: "kubeflare/busybox:test" }] },
    });
    const ready = async () => ((await admin.request("GET", `/api/v1/nodes/${nodeName}`)).status?.conditions ?? []).find((c: any) => c.type === "Ready")?.status;
    await eventually(async () => (await ready()) === "True", 20_000);
    // the hub vouches: the Lease is rewritten with a duration that covers the long renewal interval
    await eventually(
      async () => (await admin.request("GET", `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`)).spec.leaseDurationSeconds > 600,
      15_000,
    );
    const renewed = (await admin.request("GET", `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`)).spec.renewTime;
    // three grace periods with no Lease renewal: the heartbeats alone keep it Ready (the cron runs too, and agrees)
    await sleep(3 * grace * 1000);
    const worker = await t.mf.getWorker();
    await (worker as any).scheduled({ cron: "* * * * *", scheduledTime: new Date() });
    expect((await admin.request("GET", `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`)).spec.renewTime).toBe(renewed);
    expect(await ready()).toBe("True");

    // killed: no cron from here on; the hub's alarm notices
    const killed = Date.now();
    await agent.stop();
    agent = undefined;
    await eventually(async () => (await ready()) === "Unknown", 3 * grace * 1000);
    // within the grace period of its last heartbeat (a heartbeat every grace/4), plus the alarm's and the test's polling
    expect(Date.now() - killed).toBeLessThan((grace + 4) * 1000);
    // and its pod is evicted after its tolerationSeconds (2 s), still without the cron
    await eventually(
      async () =>
        !!(await admin.find("/api/v1/namespaces/default/pods/on-hub-node"))?.metadata.deletionTimestamp ||
        !(await admin.find("/api/v1/namespaces/default/pods/on-hub-node")),
      15_000,
    );
    await admin.close();
  }, 90_000);
});
