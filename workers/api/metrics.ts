/**
 * Request metrics of the API, named and labelled as kube-apiserver's
 * (staging/src/k8s.io/apiserver/pkg/endpoints/metrics): `apiserver_request_total`,
 * `apiserver_request_duration_seconds`, `apiserver_longrunning_requests`. This file
 * is runtime-neutral: it classifies requests and calls an `ApiMetrics`, which the
 * runtime supplies (node/metrics.ts: prom-client; the Worker: none, see app.ts).
 */
import type { Context, MiddlewareHandler } from "hono";
import { findResource } from "../registry/kinds";
import { decodeSegment } from "./rest";

/** kube-apiserver's labels of a resource request. */
export interface RequestLabels {
  /** LIST, GET, WATCH, POST, PUT, PATCH, APPLY, DELETE, or "other" */
  verb: string;
  /** the dryRun query values ("All"), "" without, "invalid" for anything else */
  dry_run: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  /** "resource" (a named object), "namespace" (a namespaced collection), "cluster" */
  scope: string;
  component: "apiserver";
}

export interface ApiMetrics {
  /** a resource request ended with `code` after `seconds` (a long-running one: when its stream ended) */
  request(l: RequestLabels, code: number, seconds: number): void;
  /** a long-running request (a watch, a log) opened (+1) or ended (-1) */
  longRunning(l: RequestLabels, delta: 1 | -1): void;
  /**
   * The Prometheus text exposition of every metric this process keeps; absent where
   * none are kept (the Worker: each isolate would count only the requests it happened
   * to serve, so per-isolate counters would mislead more than inform).
   */
  exposition?(): Promise<{ contentType: string; body: string }>;
}

/** kube-apiserver's verbs for metrics: GET of a collection is LIST, ?watch=true WATCH, a server-side apply PATCH APPLY. */
export const metricsVerb = (method: string, scope: string, query: URLSearchParams, contentType: string): string => {
  let verb = method.toUpperCase();
  if (verb === "HEAD") verb = "GET";
  if (verb === "GET") {
    const w = query.getAll("watch")[0]?.toLowerCase();
    if (w !== undefined && w !== "0" && w !== "false") return "WATCH";
    return scope === "resource" ? "GET" : "LIST";
  }
  if (verb === "PATCH" && contentType.split(";")[0].trim().toLowerCase() === "application/apply-patch+yaml") return "APPLY";
  return ["POST", "PUT", "PATCH", "DELETE"].includes(verb) ? verb : "other";
};

/** kube-apiserver's dry_run label: the sorted distinct dryRun values, or "invalid". */
const dryRunLabel = (query: URLSearchParams): string => {
  const v = [...new Set(query.getAll("dryRun"))].sort();
  return v.some((x) => x !== "All") ? "invalid" : v.join(",");
};

/**
 * The labels of a request for a resource (`/api/v1/...`, `/apis/<group>/<version>/...`),
 * or undefined for anything else (discovery, health, unknown resources): those stay
 * out of the per-resource series, whose number must not grow with what clients send.
 */
export const requestLabels = (c: Context): RequestLabels | undefined => {
  const path = c.req.path;
  let group = "";
  let version = "v1";
  let rest: string[];
  if (path.startsWith("/api/v1/")) rest = path.split("/").slice(3);
  else if (path.startsWith("/apis/")) {
    const p = path.split("/");
    if (p.length < 5) return undefined;
    group = p[2];
    version = p[3];
    rest = p.slice(4);
  } else return undefined;
  let segs: string[];
  try {
    segs = rest.filter(Boolean).map(decodeSegment);
  } catch {
    return undefined;
  }
  let resource = segs[0];
  let name = segs[1];
  let subresource = segs[2];
  let namespaced = false;
  if (segs[0] === "namespaces" && segs.length >= 3 && findResource(group, version, segs[2])?.namespaced) {
    resource = segs[2];
    name = segs[3];
    subresource = segs[4];
    namespaced = true;
  }
  const info = findResource(group, version, resource ?? "");
  if (!info) return undefined;
  if (subresource !== undefined && !info.subresources.includes(subresource)) return undefined;
  const scope = name !== undefined ? "resource" : namespaced ? "namespace" : "cluster";
  const query = new URL(c.req.url).searchParams;
  return {
    verb: metricsVerb(c.req.method, scope, query, c.req.header("Content-Type") ?? ""),
    dry_run: dryRunLabel(query),
    group,
    version,
    resource: info.resource,
    subresource: subresource ?? "",
    scope,
    component: "apiserver",
  };
};

/** The response's stream, calling `end` once when it ends, fails, or its reader goes away. */
const onStreamEnd = (body: ReadableStream<Uint8Array>, end: () => void): ReadableStream<Uint8Array> => {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else controller.enqueue(value);
      } catch (e) {
        end();
        controller.error(e);
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason);
    },
  });
};

/**
 * Count and time every authenticated resource request, as kube-apiserver's
 * MonitorRequest does (after authentication: a request without valid credentials is
 * refused before routing, and counted nowhere here). A long-running request (`isLong`:
 * watches, logs) is in `apiserver_longrunning_requests` while its stream lasts and is
 * counted and timed when it ends.
 */
export const instrument =
  (m: ApiMetrics, isLong: (c: Context) => boolean): MiddlewareHandler =>
  async (c, next) => {
    const labels = requestLabels(c);
    if (!labels) return next();
    const start = performance.now();
    const seconds = () => (performance.now() - start) / 1000;
    await next();
    if (!c.get("user")) return;
    const res = c.res;
    if (!isLong(c) || !res.body || res.status >= 300) {
      m.request(labels, res.status, seconds());
      return;
    }
    m.longRunning(labels, 1);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      m.longRunning(labels, -1);
      m.request(labels, res.status, seconds());
    };
    c.req.raw.signal?.addEventListener("abort", end, { once: true });
    c.res = new Response(onStreamEnd(res.body, end), res);
  };
