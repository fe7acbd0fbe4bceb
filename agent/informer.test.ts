/**
 * The shared informer against the real Node control plane, through a small real HTTP
 * relay in front of it that logs every request the agent's ApiClient makes and, when
 * told, answers a watch with the ERROR 410 (Expired) event a compacted history gives.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KObject } from "../shared/types";
import { startNodeTarget } from "../test/targets";
import { ApiClient } from "./api";
import { Informer, type InformerEventType } from "./informer";

let target: Awaited<ReturnType<typeof startNodeTarget>>;
let relay: Server;
let api: ApiClient;
/** what the relay saw: `list <path>`, `watch <path>`, `410 <path>` */
const seen: string[] = [];
/** watch streams open through the relay */
const open = new Set<{ res: ServerResponse; upstream: AbortController }>();
let expireNext = false;

/** the admin's writes, straight to the control plane (with the agent's client) */
let admin: ApiClient;
const call = (method: string, path: string, body?: unknown) => admin.request(method, path, body);

const until = async (ok: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return ok();
};

/** Cut the open watch streams (as a server restart or a load balancer would); the next watch gets 410. */
const expireWatches = () => {
  expireNext = true;
  for (const w of open) w.upstream.abort();
};

beforeAll(async () => {
  target = await startNodeTarget({ watchPollMs: 50 });
  admin = new ApiClient({ server: target.url, token: target.token, caPem: target.caPem });
  relay = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://relay");
    const watch = url.searchParams.get("watch") === "true";
    if (watch && expireNext) {
      expireNext = false;
      seen.push(`410 ${url.pathname}`);
      res.writeHead(200, { "Content-Type": "application/json" });
      const status = { kind: "Status", apiVersion: "v1", status: "Failure", code: 410, reason: "Expired", message: "too old resource version" };
      res.end(`${JSON.stringify({ type: "ERROR", object: status })}\n`);
      return;
    }
    seen.push(`${watch ? "watch" : "list"} ${url.pathname}`);
    const w = { res, upstream: new AbortController() };
    res.on("close", () => {
      w.upstream.abort();
      open.delete(w);
    });
    if (watch) open.add(w);
    try {
      const up = await target.fetch(req.url ?? "/", { method: req.method, signal: w.upstream.signal });
      res.writeHead(up.status, { "Content-Type": up.headers.get("content-type") ?? "application/json" });
      for await (const chunk of up.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
      res.end();
    } catch {
      // cut (expireWatches, the client went away): end the stream cleanly
      res.end();
    }
  });
  await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
  // the relay speaks HTTP watches (its 410 is an HTTP stream)
  api = new ApiClient({ server: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`, token: "relay-adds-the-admin-token", watchTransport: "http" });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await admin?.close();
  for (const w of open) w.res.destroy();
  if (relay) await new Promise((r) => relay.close(r));
  await target?.close();
});

const svc = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels }, spec: { ports: [{ port: 80 }] } });

describe("the shared informer", () => {
  it("lists once and watches once for all its handlers, tells them every change, and relists after a 410", async () => {
    const inf = new Informer(api, "/api/v1/namespaces/default/services");
    const a: string[] = [];
    const b: string[] = [];
    const names = (items: KObject[]) => items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();
    const record = (log: string[]) => ({
      onReset: (items: KObject[]) => log.push(`reset ${names(items).join(",")}`),
      onEvent: (t: InformerEventType, o: KObject) => log.push(`${t} ${o.metadata.name} ${o.metadata.labels?.v ?? ""}`.trim()),
    });
    inf.addHandler(record(a));
    // a handler that fails does not keep the others from hearing
    inf.addHandler({
      onEvent: () => {
        throw new Error("consumer bug");
      },
    });
    const ac = new AbortController();
    const running = inf.run(ac.signal);
    try {
      expect(await until(() => inf.synced)).toBe(true);
      expect(a).toEqual(["reset default/kubernetes"]);
      // a handler that comes later is told what there is at once
      inf.addHandler(record(b));
      expect(b).toEqual(["reset default/kubernetes"]);
      expect(await until(() => open.size === 1)).toBe(true);

      await call("POST", "/api/v1/namespaces/default/services", svc("inf-a", { v: "1" }));
      const cur = await call("GET", "/api/v1/namespaces/default/services/inf-a");
      await call("PUT", "/api/v1/namespaces/default/services/inf-a", { ...cur, metadata: { ...cur.metadata, labels: { v: "2" } } });
      await call("DELETE", "/api/v1/namespaces/default/services/inf-a");
      const changes = ["ADDED inf-a 1", "MODIFIED inf-a 2", "DELETED inf-a 2"];
      expect(await until(() => a.length === 4 && b.length === 4)).toBe(true);
      expect(a.slice(1)).toEqual(changes);
      expect(b.slice(1)).toEqual(changes);
      expect(inf.get("default/inf-a")).toBeUndefined();
      // one list and one watch, however many handlers
      expect(seen.filter((s) => s.endsWith(" /api/v1/namespaces/default/services"))).toEqual([
        "list /api/v1/namespaces/default/services",
        "watch /api/v1/namespaces/default/services",
      ]);

      // the stream ends, a Service appears meanwhile, and the watch from the old revision is refused with 410: a fresh list has it
      expireWatches();
      await call("POST", "/api/v1/namespaces/default/services", svc("inf-b"));
      const relisted = () => seen.slice(seen.indexOf("410 /api/v1/namespaces/default/services")).slice(0, 2);
      expect(await until(() => relisted().length === 2)).toBe(true);
      expect(relisted()).toEqual(["410 /api/v1/namespaces/default/services", "list /api/v1/namespaces/default/services"]);
      expect(await until(() => a.at(-1) === "reset default/inf-b,default/kubernetes")).toBe(true);
      expect(b.at(-1)).toBe("reset default/inf-b,default/kubernetes");
      expect(inf.get("default/inf-b")?.metadata.name).toBe("inf-b");
      expect(await until(() => open.size === 1)).toBe(true);
    } finally {
      ac.abort();
    }
    // stopping ends the loop and closes the watch
    await running;
    expect(await until(() => open.size === 0)).toBe(true);
    const count = seen.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.length).toBe(count);
  });

  it("keys cluster-scoped objects by name and namespaced ones by namespace/name", async () => {
    const inf = new Informer(api, "/api/v1/namespaces");
    const ac = new AbortController();
    const running = inf.run(ac.signal);
    try {
      expect(await until(() => inf.synced)).toBe(true);
      expect(inf.get("default")?.metadata.name).toBe("default");
    } finally {
      ac.abort();
      await running;
    }
  });
});
