/**
 * The transport floor of the `load` scenario: what this box serves over the same path
 * with no API server behind it. HTTPS (the Kubeflare server's own certificate), hono on
 * @hono/node-server as node/server.ts runs it, JSON bodies read and written, the pods
 * kept in a Map: no store, no validation, no admission, no watch, no controllers. The
 * same clients drive it as drive the server, so the gap between the two is what
 * Kubeflare's work costs and the floor is what no server code could go below here.
 *
 * Run as a child: `node --import tsx bench/floor-server.ts <tls-dir>`; prints
 * `listening on https://127.0.0.1:PORT`.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { join } from "node:path";

const dir = process.argv[2];
const pods = new Map<string, Record<string, any>>();
let rev = 1;
const stamp = (p: Record<string, any>) => {
  p.metadata = { ...p.metadata, resourceVersion: String(++rev) };
  return p;
};

const app = new Hono();
const base = "/api/v1/namespaces/:ns/pods";
app.post(base, async (c) => {
  const p = stamp(await c.req.json());
  pods.set(`${c.req.param("ns")}/${p.metadata.name}`, p);
  return c.json(p, 201);
});
app.get(`${base}/:name`, (c) => {
  const p = pods.get(`${c.req.param("ns")}/${c.req.param("name")}`);
  return p ? c.json(p) : c.json({ kind: "Status", code: 404 }, 404);
});
app.get(base, (c) => {
  const prefix = `${c.req.param("ns")}/`;
  const items = [...pods].filter(([k]) => k.startsWith(prefix)).map(([, p]) => p);
  return c.json({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: String(rev) }, items });
});
app.patch(`${base}/:name`, async (c) => {
  const key = `${c.req.param("ns")}/${c.req.param("name")}`;
  const p = pods.get(key);
  if (!p) return c.json({ kind: "Status", code: 404 }, 404);
  const patch = await c.req.json();
  p.metadata.labels = { ...p.metadata.labels, ...patch.metadata?.labels };
  return c.json(stamp(p));
});
app.delete(`${base}/:name`, (c) => {
  const key = `${c.req.param("ns")}/${c.req.param("name")}`;
  const p = pods.get(key);
  if (!p) return c.json({ kind: "Status", code: 404 }, 404);
  pods.delete(key);
  return c.json(stamp(p));
});

serve(
  {
    fetch: app.fetch,
    port: 0,
    hostname: "127.0.0.1",
    createServer,
    serverOptions: { cert: readFileSync(join(dir, "server.crt")), key: readFileSync(join(dir, "server.key")) },
  },
  (info) => console.log(`listening on https://127.0.0.1:${info.port}`),
);
