/**
 * `npm run bench -- core`: the quick figures of the control plane, in this process, no
 * engine needed. Store write/read throughput on the embedded libSQL file, sequential
 * API request latency through the Node server (HTTPS), and the scheduler's placement
 * rate with 1,000 nodes (the pure function: no store, no API). One round; the harness
 * repeats it (--rounds) and takes medians.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Agent, fetch } from "undici";
import { openDatabase } from "../node/db";
import { startServer } from "../node/server";
import type { KObject } from "../shared/types";
import { placePods } from "../workers/controllers/scheduling/place";
import { Store } from "../workers/store/store";
import type { Figure } from "./figures";

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

export interface CoreResult {
  figures: Figure[];
}

export async function benchCore(_o: unknown, say: (m: string, fraction?: number) => void = () => {}): Promise<CoreResult> {
  const figures: Figure[] = [];
  const add = (f: Figure) => figures.push(f);
  const dir = mkdtempSync(join(tmpdir(), "kf-bench-core-"));
  try {
    // ---- store
    say("store: creates and read-modify-writes", 0);
    const client = await openDatabase(`file:${join(dir, "store.db")}`, { synchronous: "NORMAL" });
    const store = new Store(client);
    const cm = (i: number): KObject => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `cm-${i}`, namespace: "bench", uid: `u-${i}`, labels: { app: `a${i % 10}` } },
      data: { v: String(i) },
    });
    let t = performance.now();
    const N = 2000;
    for (let i = 0; i < N; i++) await store.create({ resource: "configmaps", namespace: "bench", name: `cm-${i}` }, cm(i));
    add({ name: "store: sequential creates", value: N / ((performance.now() - t) / 1000), unit: "writes/s", reference: "embedded libSQL, synchronous=NORMAL" });
    t = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = w; i < N; i += 8) {
          const key = { resource: "configmaps", namespace: "bench", name: `cm-${i}` };
          const cur = (await store.get(key))!;
          await store.update(key, { ...cur, data: { v: "x" } }, Number(cur.metadata.resourceVersion));
        }
      }),
    );
    add({ name: "store: read-modify-write, 8 writers", value: N / ((performance.now() - t) / 1000), unit: "updates/s" });
    const lat: number[] = [];
    for (let i = 0; i < 50; i++) {
      const s = performance.now();
      await store.list("configmaps", { namespace: "bench", labels: [{ key: "app", op: "=", values: ["a3"] }] });
      lat.push(performance.now() - s);
    }
    add({ name: "store: list 200 of 2000 by label, p50", value: pct(lat, 50), unit: "ms", samples: lat });
    client.close();

    // ---- API through the Node server (HTTPS), one request at a time
    say("api: sequential requests", 0.4);
    const server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "server"), synchronous: "NORMAL", controllers: [], log: () => {} });
    const dispatcher = new Agent({ connect: { ca: server.caPem } });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(server.url + path, {
        method,
        dispatcher,
        headers: { Authorization: `Bearer ${server.adminToken}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      await res.text();
      return res.status;
    };
    const create: number[] = [];
    for (let i = 0; i < 300; i++) {
      const s = performance.now();
      await call("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: `c${i}` }, data: { a: "b" } });
      create.push(performance.now() - s);
    }
    add({ name: "api: create configmap, sequential, p50", value: pct(create, 50), unit: "ms", samples: create });
    add({ name: "api: create configmap, sequential, p99", value: pct(create, 99), unit: "ms", reference: "issue #14 measured 2.4 ms per create" });
    const get: number[] = [];
    for (let i = 0; i < 300; i++) {
      const s = performance.now();
      await call("GET", `/api/v1/namespaces/default/configmaps/c${i}`);
      get.push(performance.now() - s);
    }
    add({ name: "api: get configmap, sequential, p99", value: pct(get, 99), unit: "ms", samples: get });
    await dispatcher.close();
    await server.close();

    // ---- scheduler placement, the pure function
    say("scheduler: placing 5000 pods on 1000 nodes", 0.8);
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
      metadata: {
        name: `p${i}`,
        namespace: "default",
        creationTimestamp: "2026-01-01T00:00:00Z",
        ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `rs${i % 50}`, uid: `rs${i % 50}`, controller: true }],
      },
      spec: { containers: [{ name: "c", image: "i", resources: { requests: { cpu: "100m", memory: "128Mi" } } }] },
    })) as KObject[];
    t = performance.now();
    const placed = placePods(pods, nodes, []);
    add({
      name: "scheduler: placement, 5000 pods on 1000 nodes",
      value: placed.bindings.length / ((performance.now() - t) / 1000),
      unit: "pods/s",
      reference: "the pure function; kube-scheduler's floor is 270 pods/s at 5,000 nodes end to end",
    });
    add({ name: "bench process: resident memory", value: process.memoryUsage().rss / 1024 / 1024, unit: "MiB" });
    say("core: done", 1);
    return { figures };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const coreFigures = (r: CoreResult): Figure[] => r.figures;
