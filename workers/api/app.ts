import { type Context, Hono, type MiddlewareHandler } from "hono";
import { ApiError } from "../../shared/status";
import { authorizePath } from "../registry/auth";
import type { Registry } from "../registry/registry";
import { type AuthVariables, type Authenticator, bearerAuth } from "./auth";
import { DEFAULT_MAX_BODY_BYTES, type ProtobufDecoder } from "./body";
import { dashboard } from "../dashboard";
import { discovery } from "./discovery";
import { onError } from "./errors";
import { joining } from "./join";
import { type ApiMetrics, instrument } from "./metrics";
import { metricsApi } from "./metrics-api";
import { autoscalingV1 } from "./hpa-v1";
import { openapi } from "./openapi";
import { decodeKubernetesProtobuf } from "./protobuf";
import { decodeSegment, resolvePath, serveResource, type TableRenderer, type WatchServer } from "./rest";
import { tableRenderer } from "./table";
import { refreshAfterMiss, refreshCustomKinds } from "../registry/crd/catalog";

export interface AppOptions {
  registry: Registry;
  authenticate: Authenticator;
  maxBodyBytes?: number;
  protobuf?: ProtobufDecoder;
  table?: TableRenderer;
  /** extra readiness check (database reachable) */
  ready?: () => Promise<boolean>;
  /** answer 504 when a request that is not long-running has no response after this long (kube-apiserver's --request-timeout, 60 s) */
  requestTimeoutMs?: number;
  /** request metrics and `/metrics` (node/metrics.ts); without an `exposition`, none are kept and `/metrics` answers 404 */
  metrics?: ApiMetrics;
  /** where watches are served once authorized (the Worker's watch hub); default here, by the registry */
  watchServer?: WatchServer;
  /** the dashboard at `/` and `/ui/` (workers/dashboard), its session keys derived from `secret`; without it, none */
  dashboard?: { secret: string };
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/**
 * Long-running requests are exempt from the request timeout and keep their own limits:
 * watches (timeoutSeconds, at most 30 min) and logs (a follow ends with its pod). The
 * same classes kube-apiserver exempts (verb watch; subresource log).
 */
export const isLongRunning = (c: Context): boolean => {
  if (c.req.method !== "GET") return false;
  const w = c.req.query("watch");
  if (w === "true" || w === "1") return true;
  return c.req.path.endsWith("/log");
};

/**
 * kube-apiserver's timeout for requests that are not long-running: 504 Timeout when the
 * handler has not produced a response in time (the response of a watch is its stream,
 * so only its start counts, but watches and logs are exempt anyway).
 */
export const requestTimeout =
  (ms: number): MiddlewareHandler =>
  async (c, next) => {
    if (!(ms > 0) || isLongRunning(c)) return next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ApiError(504, "Timeout", "Timeout: request did not complete within requested timeout - context deadline exceeded")),
        ms,
      );
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  };

/** The Kubernetes-shaped HTTP API: same app on Workers and on Node. */
export const createApp = (opts: AppOptions) => {
  const app = new Hono<{ Variables: AuthVariables }>();
  const rest = {
    registry: opts.registry,
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    protobuf: opts.protobuf ?? decodeKubernetesProtobuf,
    table: opts.table ?? tableRenderer,
    watchServer: opts.watchServer,
  };
  app.onError(onError);
  app.notFound(() => {
    throw new ApiError(404, "NotFound", "the server could not find the requested resource");
  });

  app.get("/healthz", (c) => c.text("ok"));
  app.get("/livez", (c) => c.text("ok"));
  app.get("/readyz", async (c) => {
    const ok = opts.ready ? await opts.ready().catch(() => false) : true;
    return c.text(ok ? "ok" : "database unreachable", ok ? 200 : 503);
  });

  // the dashboard: its own sign-in and sessions (so before bearer authentication); it calls this API in-process with the user's token
  if (opts.dashboard) app.route("/", dashboard({ secret: opts.dashboard.secret, api: async (req, c) => app.fetch(req, c.env) }));

  const metrics = opts.metrics?.exposition ? opts.metrics : undefined;
  if (metrics) app.use("*", instrument(metrics, isLongRunning));
  app.use("*", requestTimeout(opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS));
  // authentication before any handler, so no body is read from an unknown sender
  app.use(
    "*",
    bearerAuth(opts.authenticate, (u, h) => opts.registry.auth.impersonate(u, h)),
  );
  // kube-apiserver serves /metrics to users allowed the non-resource URL (system:monitoring, cluster-admin): here admins and viewers
  app.get("/metrics", async (c) => {
    const user = c.get("user");
    authorizePath(user, "get", "/metrics");
    if (!metrics?.exposition) {
      throw new ApiError(
        404,
        "NotFound",
        "this server keeps no metrics (on Workers each isolate would count only its own requests); scrape the Node server or the agent",
      );
    }
    const { contentType, body } = await metrics.exposition();
    return c.body(body, 200, { "Content-Type": contentType });
  });
  // the custom resources of this isolate's catalog, reloaded when older than 5 s (workers/registry/crd/catalog.ts)
  const store = opts.registry.store;
  app.use("*", async (_c, next) => {
    await refreshCustomKinds(store);
    await next();
  });
  /** a path nobody serves here may name a CRD another isolate just established: reload once and try again */
  const resolve = async (group: string, version: string, segs: string[]) => {
    try {
      return resolvePath(group, version, segs);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404) || !(await refreshAfterMiss(store))) throw e;
      return resolvePath(group, version, segs);
    }
  };
  app.route("/", joining(opts.registry));
  // metrics.k8s.io (kubectl top, the HPA's resource metrics) and its place in discovery
  app.route("/", metricsApi(opts.registry));
  // autoscaling/v1 HorizontalPodAutoscalers, converted to and from the stored v2 (kubectl autoscale)
  const v1 = autoscalingV1(() => app, opts.maxBodyBytes, rest.protobuf);
  app.use("/apis/*", v1);
  app.use("/apis", v1);
  app.route(
    "/",
    discovery(() => refreshAfterMiss(store)),
  );
  app.route("/", openapi());

  app.all("/api/v1/*", async (c) => {
    const segs = c.req.path.split("/").slice(3).filter(Boolean).map(decodeSegment);
    return serveResource(c, await resolve("", "v1", segs), c.get("user"), rest);
  });
  app.all("/apis/:group/:version/*", async (c) => {
    const { group, version } = c.req.param();
    const segs = c.req.path.split("/").slice(4).filter(Boolean).map(decodeSegment);
    return serveResource(c, await resolve(group, version, segs), c.get("user"), rest);
  });
  return app;
};
