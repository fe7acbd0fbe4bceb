import { Hono } from "hono";
import { ApiError } from "../../shared/status";
import type { Registry } from "../registry/registry";
import { type AuthVariables, type Authenticator, bearerAuth } from "./auth";
import { DEFAULT_MAX_BODY_BYTES, type ProtobufDecoder } from "./body";
import { discovery } from "./discovery";
import { onError } from "./errors";
import { joining } from "./join";
import { openapi } from "./openapi";
import { decodeKubernetesProtobuf } from "./protobuf";
import { decodeSegment, resolvePath, serveResource, type TableRenderer } from "./rest";
import { tableRenderer } from "./table";

export interface AppOptions {
  registry: Registry;
  authenticate: Authenticator;
  maxBodyBytes?: number;
  protobuf?: ProtobufDecoder;
  table?: TableRenderer;
  /** extra readiness check (database reachable) */
  ready?: () => Promise<boolean>;
}

/** The Kubernetes-shaped HTTP API: same app on Workers and on Node. */
export const createApp = (opts: AppOptions) => {
  const app = new Hono<{ Variables: AuthVariables }>();
  const rest = {
    registry: opts.registry,
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    protobuf: opts.protobuf ?? decodeKubernetesProtobuf,
    table: opts.table ?? tableRenderer,
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

  app.use("*", bearerAuth(opts.authenticate));
  app.route("/", joining(opts.registry));
  app.route("/", discovery());
  app.route("/", openapi());

  app.all("/api/v1/*", (c) => {
    const segs = c.req.path.split("/").slice(3).filter(Boolean).map(decodeSegment);
    return serveResource(c, resolvePath("", "v1", segs), c.get("user"), rest);
  });
  app.all("/apis/:group/:version/*", (c) => {
    const { group, version } = c.req.param();
    const segs = c.req.path.split("/").slice(4).filter(Boolean).map(decodeSegment);
    return serveResource(c, resolvePath(group, version, segs), c.get("user"), rest);
  });
  return app;
};
