/**
 * metrics.k8s.io/v1beta1 (what metrics-server serves as an aggregated API): NodeMetrics
 * and PodMetrics, get and list, pods namespaced or across namespaces, label and field
 * selectors applied to the nodes and pods themselves (as metrics-server does). The
 * numbers come from workers/registry/metrics-resources.ts (pulled from the agents through
 * the tunnel when asked, cached 15 s); the group is added to discovery here, so that
 * `kubectl top` finds it. Not to be confused with workers/api/metrics.ts (Prometheus).
 */
import { type Context, Hono } from "hono";
import { ApiError, methodNotAllowed, notFound } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { resourceByName } from "../registry/kinds";
import type { Registry } from "../registry/registry";
import type { AuthVariables } from "./auth";

export const METRICS_GROUP = "metrics.k8s.io";
export const METRICS_VERSION = "v1beta1";
const GV = `${METRICS_GROUP}/${METRICS_VERSION}`;
const BASE = `/apis/${GV}`;

const RESOURCES = [
  { name: "nodes", singularName: "", namespaced: false, kind: "NodeMetrics", verbs: ["get", "list"] },
  { name: "pods", singularName: "", namespaced: true, kind: "PodMetrics", verbs: ["get", "list"] },
];

const group = {
  name: METRICS_GROUP,
  versions: [{ groupVersion: GV, version: METRICS_VERSION }],
  preferredVersion: { groupVersion: GV, version: METRICS_VERSION },
};

const aggregatedGroup = {
  metadata: { name: METRICS_GROUP, creationTimestamp: null },
  versions: [
    {
      version: METRICS_VERSION,
      freshness: "Current",
      resources: RESOURCES.map((r) => ({
        resource: r.name,
        responseKind: { group: METRICS_GROUP, version: METRICS_VERSION, kind: r.kind },
        scope: r.namespaced ? "Namespaced" : "Cluster",
        singularResource: r.kind === "NodeMetrics" ? "nodemetrics" : "podmetrics",
        verbs: r.verbs,
      })),
    },
  ],
};

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

/** Add the group to a /apis answer (APIGroupList, or the aggregated APIGroupDiscoveryList). */
const withGroup = async (res: Response): Promise<Response> => {
  if (res.status !== 200) return res;
  const body = (await res
    .clone()
    .json()
    .catch(() => null)) as { kind?: string; groups?: unknown[]; items?: unknown[] } | null;
  if (body?.kind === "APIGroupList" && Array.isArray(body.groups)) body.groups.push(group);
  else if (body?.kind === "APIGroupDiscoveryList" && Array.isArray(body.items)) body.items.push(aggregatedGroup);
  else return res;
  const headers = new Headers(res.headers);
  headers.delete("Content-Length");
  return new Response(JSON.stringify(body), { status: 200, headers });
};

type C = Context<{ Variables: AuthVariables }>;

const list = (kind: string, items: KObject[]) => json({ kind: `${kind}List`, apiVersion: GV, metadata: {}, items });

const unavailable = () =>
  new ApiError(503, "ServiceUnavailable", "the metrics API is not available on this control plane (no agent tunnel to read resource usage through)");

/** The metrics group: discovery and the NodeMetrics/PodMetrics resources. */
export const metricsApi = (registry: Registry) => {
  const app = new Hono<{ Variables: AuthVariables }>();
  app.use("/apis", async (c, next) => {
    await next();
    if (c.req.method === "GET") c.res = await withGroup(c.res);
  });
  app.get(`/apis/${METRICS_GROUP}`, () => json({ kind: "APIGroup", apiVersion: "v1", ...group }));
  app.get(BASE, () => json({ kind: "APIResourceList", apiVersion: "v1", groupVersion: GV, resources: RESOURCES }));

  const metrics = () => {
    if (!registry.resourceMetrics) throw unavailable();
    return registry.resourceMetrics;
  };
  const query = (c: C) => ({ labelSelector: c.req.query("labelSelector"), fieldSelector: c.req.query("fieldSelector") });

  const nodes = async (c: C, name?: string) => {
    const info = resourceByName("nodes");
    const user = c.get("user");
    if (name) {
      const node = await registry.get(user, info, "", name).catch((e) => {
        throw e instanceof ApiError && e.code === 404 ? notFound("nodes", METRICS_GROUP, name) : e;
      });
      const [m] = await metrics().nodeMetrics([node]);
      if (!m) throw notFound("nodes", METRICS_GROUP, name);
      return json(m);
    }
    const all = await registry.list(user, info, "", query(c));
    return list("NodeMetrics", await metrics().nodeMetrics(all.items));
  };

  const pods = async (c: C, namespace: string, name?: string) => {
    const info = resourceByName("pods");
    const user = c.get("user");
    if (name) {
      const pod = await registry.get(user, info, namespace, name).catch((e) => {
        throw e instanceof ApiError && e.code === 404 ? notFound("pods", METRICS_GROUP, name) : e;
      });
      const [m] = await metrics().podMetrics([pod]);
      if (!m) throw notFound("pods", METRICS_GROUP, name);
      return json(m);
    }
    const all = await registry.list(user, info, namespace, query(c));
    // only running pods have usage (metrics-server lists the pods kubelet reports)
    return list("PodMetrics", await metrics().podMetrics(all.items.filter((p) => p.spec?.nodeName && p.status?.phase === "Running")));
  };

  app.all(`${BASE}/*`, (c) => {
    const segs = c.req.path
      .slice(BASE.length + 1)
      .split("/")
      .filter(Boolean)
      .map(decodeURIComponent);
    const read = () => {
      if (c.req.method !== "GET") throw methodNotAllowed(`${c.req.method} is not allowed on ${GV} (get and list only)`);
    };
    if (segs[0] === "nodes" && segs.length <= 2) {
      read();
      return nodes(c, segs[1]);
    }
    if (segs[0] === "pods" && segs.length === 1) {
      read();
      return pods(c, "");
    }
    if (segs[0] === "namespaces" && segs[1] && segs[2] === "pods" && segs.length <= 4) {
      read();
      return pods(c, segs[1], segs[3]);
    }
    throw new ApiError(404, "NotFound", "the server could not find the requested resource");
  });
  return app;
};
