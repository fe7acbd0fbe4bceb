/**
 * `npm run bench`: figures, not assertions. Store write/read throughput on the
 * embedded libSQL file, API request latency through the Node server, and the
 * scheduler's placement rate with 1,000 nodes. Prints plain lines, or JSON with -o json.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openDatabase } from "../node/db";
import { startServer } from "../node/server";
import type { KObject } from "../shared/types";
import { placePods } from "../workers/controllers/scheduling/place";
import { Store } from "../workers/store/store";
import { Agent, fetch } from "undici";

const json = process.argv.includes("-o") && process.argv[process.argv.indexOf("-o") + 1] === "json";
const results: Record<string, number | string> = {};
const report = (name: string, value: number, unit: string) => {
  results[name] = Number(value.toFixed(2));
  if (!json) console.log(`${name.padEnd(44)} ${value.toFixed(2).padStart(12)} ${unit}`);
};
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

const dir = mkdtempSync(join(tmpdir(), "kf-bench-"));
try {
  // ---- store
  const client = await openDatabase(`file:${join(dir, "store.db")}`, { synchronous: "NORMAL" });
  const store = new Store(client);
  const cm = (i: number): KObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${i}`, namespace: "bench", uid: `u-${i}`, labels: { app: `a${i % 10}` } }, data: { v: String(i) } });
  let t = performance.now();
  const N = 2000;
  for (let i = 0; i < N; i++) await store.create({ resource: "configmaps", namespace: "bench", name: `cm-${i}` }, cm(i));
  report("store: sequential creates", N / ((performance.now() - t) / 1000), "writes/s");
  t = performance.now();
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let i = w; i < N; i += 8) {
      const cur = (await store.get({ resource: "configmaps", namespace: "bench", name: `cm-${i}` }))!;
      await store.update({ resource: "configmaps", namespace: "bench", name: `cm-${i}` }, { ...cur, data: { v: "x" } }, Number(cur.metadata.resourceVersion));
    }
  }));
  report("store: read-modify-write, 8 writers", N / ((performance.now() - t) / 1000), "updates/s");
  const lat: number[] = [];
  for (let i = 0; i < 50; i++) {
    const s = performance.now();
    await store.list("configmaps", { namespace: "bench", labels: [{ key: "app", op: "=", values: ["a3"] }] });
    lat.push(performance.now() - s);
  }
  report("store: list 200 of 2000 by label, p50", pct(lat, 50), "ms");
  client.close();

  // ---- API through the Node server (HTTPS)
  const server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "server"), synchronous: "NORMAL", controllers: [], log: () => {} });
  const dispatcher = new Agent({ connect: { ca: server.caPem } });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, { method, dispatcher, headers: { Authorization: `Bearer ${server.adminToken}`, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    await res.text();
    return res.status;
  };
  const apiLat: number[] = [];
  for (let i = 0; i < 300; i++) {
    const s = performance.now();
    await call("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: `c${i}` }, data: { a: "b" } });
    apiLat.push(performance.now() - s);
  }
  report("api: create configmap, p50", pct(apiLat, 50), "ms");
  report("api: create configmap, p99", pct(apiLat, 99), "ms");
  const getLat: number[] = [];
  for (let i = 0; i < 300; i++) {
    const s = performance.now();
    await call("GET", `/api/v1/namespaces/default/configmaps/c${i}`);
    getLat.push(performance.now() - s);
  }
  report("api: get configmap, p99", pct(getLat, 99), "ms");
  await dispatcher.close();
  await server.close();

  // ---- scheduler placement
  const nodes = Array.from({ length: 1000 }, (_, i) => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: `n${i}`, labels: { "kubernetes.io/hostname": `n${i}`, zone: `z${i % 3}` } },
    spec: {},
    status: { allocatable: { cpu: "8", memory: "32Gi", pods: "110" }, conditions: [{ type: "Ready", status: "True" }] },
  })) as KObject[];
  const pods = Array.from({ length: 5000 }, (_, i) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `p${i}`, namespace: "default", creationTimestamp: "2026-01-01T00:00:00Z", ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `rs${i % 50}`, uid: `rs${i % 50}`, controller: true }] },
    spec: { containers: [{ name: "c", image: "i", resources: { requests: { cpu: "100m", memory: "128Mi" } } }] },
  })) as KObject[];
  t = performance.now();
  const placed = placePods(pods, nodes, []);
  const secs = (performance.now() - t) / 1000;
  report("scheduler: placement, 5000 pods on 1000 nodes", placed.bindings.length / secs, "pods/s");
  report("process: resident memory", process.memoryUsage().rss / 1024 / 1024, "MiB");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (json) console.log(JSON.stringify(results, null, 2));
process.exit(0);
