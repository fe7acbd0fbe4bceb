/**
 * /metrics on the Node server (prom-client, kube-apiserver's names and labels) and its
 * absence on the Worker: real HTTPS, real controllers, no mocks.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Agent, fetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../node/server";
import { buildWorker } from "../scripts/build-worker";
import { sample } from "./prom";
import { startWorkerTarget } from "./targets";

describe("/metrics on the Node server", () => {
  let dir: string;
  let server: RunningServer;
  let dispatcher: Agent;
  const VIEWER = "metrics-viewer-token-0123456789";
  const call = (path: string, init: { method?: string; body?: unknown; token?: string | null; contentType?: string } = {}) =>
    fetch(server.url + path, {
      method: init.method ?? "GET",
      dispatcher,
      headers: {
        ...(init.token === null ? {} : { Authorization: `Bearer ${init.token ?? server.adminToken}` }),
        ...(init.body !== undefined ? { "Content-Type": init.contentType ?? "application/json" } : {}),
      },
      body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
    });
  const metrics = async () => {
    const res = await call("/metrics");
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kf-metrics-"));
    // RBAC: /metrics is for system:monitoring (and cluster-admin), as kube-apiserver serves it
    writeFileSync(join(dir, "tokens.csv"), `${VIEWER},jane,1001,system:monitoring\n`);
    // the default controllers run: the scheduler's queue and reconciles show up
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: join(dir, "data"),
      tokenAuthFile: join(dir, "tokens.csv"),
      // ranges no other test's interfaces are in
      clusterCIDR: "10.201.0.0/16",
      serviceCIDR: "10.202.0.0/16",
      log: () => {},
    });
    dispatcher = new Agent({ connect: { ca: server.caPem } });
  });
  afterAll(async () => {
    await server?.close();
    // destroy: close() would wait for the aborted watch's connection to time out
    await dispatcher?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts requests by kube-apiserver's verb, resource, scope and code, with duration buckets", async () => {
    expect((await call("/api/v1/namespaces/default/pods")).status).toBe(200);
    expect((await call("/api/v1/pods")).status).toBe(200);
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "m1" }, data: { a: "1" } };
    expect((await call("/api/v1/namespaces/default/configmaps", { method: "POST", body: cm })).status).toBe(201);
    expect((await call("/api/v1/namespaces/default/configmaps/m1")).status).toBe(200);
    expect((await call("/api/v1/namespaces/default/configmaps/nope")).status).toBe(404);
    const apply = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "m2" }, data: { b: "2" } };
    const applied = await call("/api/v1/namespaces/default/configmaps/m2?fieldManager=t", {
      method: "PATCH",
      body: apply,
      contentType: "application/apply-patch+yaml",
    });
    expect(applied.status).toBe(201);
    expect((await call("/apis/apps/v1/namespaces/default/deployments/d1/scale")).status).toBe(404);
    expect((await call("/api/v1/namespaces/default/configmaps?dryRun=All", { method: "POST", body: { ...cm, metadata: { name: "dry" } } })).status).toBe(201);
    // discovery and unknown resources are no per-resource series
    expect((await call("/api/v1/widgets")).status).toBe(404);

    const text = await metrics();
    const pods = { resource: "pods", group: "", version: "v1", subresource: "", component: "apiserver" };
    expect(sample(text, "apiserver_request_total", { ...pods, verb: "LIST", scope: "namespace", code: "200" })).toBe(1);
    expect(sample(text, "apiserver_request_total", { ...pods, verb: "LIST", scope: "cluster", code: "200" })).toBe(1);
    const cms = { resource: "configmaps", group: "", version: "v1", subresource: "" };
    expect(sample(text, "apiserver_request_total", { ...cms, verb: "POST", scope: "namespace", dry_run: "", code: "201" })).toBe(1);
    expect(sample(text, "apiserver_request_total", { ...cms, verb: "POST", dry_run: "All", code: "201" })).toBe(1);
    expect(sample(text, "apiserver_request_total", { ...cms, verb: "GET", scope: "resource", code: "200" })).toBe(1);
    expect(sample(text, "apiserver_request_total", { ...cms, verb: "GET", scope: "resource", code: "404" })).toBe(1);
    expect(sample(text, "apiserver_request_total", { ...cms, verb: "APPLY", scope: "resource", code: "201" })).toBe(1);
    expect(sample(text, "apiserver_request_total", { resource: "deployments", group: "apps", subresource: "scale", verb: "GET", code: "404" })).toBe(1);
    expect(sample(text, "apiserver_request_total", { resource: "widgets" })).toBeUndefined();
    // the histogram: kube-apiserver's buckets, one observation per request
    expect(text).toContain("# TYPE apiserver_request_duration_seconds histogram");
    const podList = { resource: "pods", verb: "LIST", scope: "namespace" };
    expect(sample(text, "apiserver_request_duration_seconds_bucket", { ...podList, le: "0.005" })).toBeDefined();
    expect(sample(text, "apiserver_request_duration_seconds_bucket", { ...podList, le: "60" })).toBe(1);
    expect(sample(text, "apiserver_request_duration_seconds_bucket", { ...podList, le: "+Inf" })).toBe(1);
    expect(sample(text, "apiserver_request_duration_seconds_count", { ...cms, verb: "GET" })).toBe(2);
    // Node's process defaults
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(text).toContain("# TYPE nodejs_eventloop_lag_seconds gauge");
  });

  it("shows open watches in apiserver_longrunning_requests while they last", async () => {
    const ac = new AbortController();
    const res = await fetch(`${server.url}/api/v1/namespaces/default/configmaps?watch=true`, {
      dispatcher,
      headers: { Authorization: `Bearer ${server.adminToken}` },
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    const watch = { resource: "configmaps", verb: "WATCH", scope: "namespace" };
    expect(sample(await metrics(), "apiserver_longrunning_requests", watch)).toBe(1);
    ac.abort();
    await res.body?.cancel().catch(() => {});
    let open: number | undefined = 1;
    for (let i = 0; i < 100 && open !== 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      open = sample(await metrics(), "apiserver_longrunning_requests", watch);
    }
    expect(open).toBe(0);
    // counted when it ended
    expect(sample(await metrics(), "apiserver_request_total", { ...watch, code: "200" })).toBe(1);
  });

  it("reports each controller's work queue and reconciles", async () => {
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p1" }, spec: { containers: [{ name: "c", image: "busybox" }] } };
    expect((await call("/api/v1/namespaces/default/pods", { method: "POST", body: pod })).status).toBe(201);
    let text = "";
    for (let i = 0; i < 100; i++) {
      text = await metrics();
      if ((sample(text, "scheduler_schedule_attempts_total", { result: "unschedulable" }) ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(sample(text, "workqueue_adds_total", { name: "scheduler" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "workqueue_depth", { name: "scheduler" })).toBeGreaterThanOrEqual(0);
    expect(sample(text, "controller_runtime_reconcile_total", { controller: "scheduler" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "controller_runtime_reconcile_time_seconds_count", { controller: "scheduler" })).toBeGreaterThanOrEqual(1);
    // kube-scheduler's attempts: no node, so the pod is unschedulable
    const unschedulable = sample(text, "scheduler_schedule_attempts_total", { result: "unschedulable", profile: "default-scheduler" });
    expect(unschedulable).toBeGreaterThanOrEqual(1);
    expect(sample(text, "scheduler_scheduling_attempt_duration_seconds_count", { result: "unschedulable" })).toBe(unschedulable);
    expect(sample(text, "scheduler_schedule_attempts_total", { result: "scheduled" })).toBeUndefined();
  });

  it("is authorised like kube-apiserver's: 401 without credentials, viewers read, a node credential is refused", async () => {
    const anonymous = await call("/metrics", { token: null });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { reason: string }).reason).toBe("Unauthorized");
    const viewer = await call("/metrics", { token: VIEWER });
    expect(viewer.status).toBe(200);
    expect(viewer.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const { token } = await server.registry.nodes.issue("metrics-node");
    const node = await call("/metrics", { token });
    expect(node.status).toBe(403);
    const status = (await node.json()) as { reason: string; message: string };
    expect(status.reason).toBe("Forbidden");
    expect(status.message).toBe('forbidden: User "system:node:metrics-node" cannot get path "/metrics"');
    // refused requests with no credentials are no request series (kube-apiserver refuses them before routing)
    await call("/api/v1/namespaces/default/secrets", { token: null });
    expect(sample(await metrics(), "apiserver_request_total", { resource: "secrets" })).toBeUndefined();
  });
});

describe("/metrics on the Worker", () => {
  it("answers 404 NotFound: the Worker keeps no metrics", async () => {
    const t = await startWorkerTarget();
    try {
      expect((await t.fetch("/metrics", { token: null })).status).toBe(401);
      const res = await t.fetch("/metrics");
      expect(res.status).toBe(404);
      const status = (await res.json()) as { reason: string; message: string };
      expect(status.reason).toBe("NotFound");
      expect(status.message).toMatch(/keeps no metrics/);
    } finally {
      await t.close();
    }
  }, 60_000);

  it("bundles no metrics library (prom-client needs Node's cluster, v8 and perf_hooks)", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "kf-metrics-bundle-")), "worker.js");
    try {
      const bundle = readFileSync(await buildWorker(out), "utf8");
      expect(bundle).toContain("keeps no metrics");
      expect(bundle).not.toMatch(/prom-client|collectDefaultMetrics|apiserver_request_total/);
    } finally {
      rmSync(dirname(out), { recursive: true, force: true });
    }
  }, 60_000);
});
