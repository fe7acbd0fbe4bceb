/**
 * The Worker's front of the agent tunnel: authenticates and authorizes tunnel, stream,
 * exec/attach/port-forward and proxy requests (workers/tunnel/plan.ts) and hands each to
 * the Durable Object of its node (workers/tunnel/object.ts). The edge speaks WebSocket
 * only: an SPDY upgrade is answered with a Status that says so.
 */
import { ApiError, badRequest, unauthorized } from "../../shared/status";
import { isStatsSummary, type StatsSummary, TUNNEL_PROTOCOL } from "../../shared/tunnel";
import type { Authenticator } from "../api/auth";
import { DEFAULT_MAX_BODY_BYTES } from "../api/body";
import type { Registry } from "../registry/registry";
import { TUNNEL_HEADER, type TunnelCall } from "./object";
import { authorizeTunnel, matchStreamPath, planStream } from "./plan";

/** The Durable Object namespace binding (wrangler.toml: TUNNEL → TunnelObject). */
export interface TunnelNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(req: Request): Promise<Response> };
}

const status = (e: ApiError) => new Response(JSON.stringify(e.toStatus()), { status: e.code, headers: { "Content-Type": "application/json" } });

export const SPDY_ON_THE_EDGE =
  "SPDY upgrades are not available on the edge (Cloudflare Workers accept WebSocket upgrades only): use a WebSocket client — kubectl 1.30 or later for exec, attach and cp, 1.31 or later for port-forward, or a client library's v4/v5.channel.k8s.io and portforward.k8s.io WebSocket protocols — or the Node server";

const offered = (req: Request) =>
  (req.headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** A tunnel request's response, or undefined when the request is not one. */
export const serveStreamsEdge = async (
  req: Request,
  deps: { registry: Registry; authenticate: Authenticator; tunnel?: TunnelNamespace; maxBodyBytes?: number },
): Promise<Response | undefined> => {
  const url = new URL(req.url);
  const match = matchStreamPath(url.pathname);
  if (!match) return undefined;
  try {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get("authorization") ?? "")?.[1];
    const user = token ? await deps.authenticate(token) : null;
    if (!user) throw unauthorized();
    const upgrade = (req.headers.get("upgrade") ?? "").toLowerCase();
    const isWebSocket = upgrade === "websocket";
    const call = async (node: string, c: TunnelCall, forward: Request = req) => {
      if (!deps.tunnel) throw new ApiError(503, "ServiceUnavailable", "this Worker has no TUNNEL Durable Object binding (wrangler.toml)");
      const headers = new Headers(forward.headers);
      headers.set(TUNNEL_HEADER, encodeURIComponent(JSON.stringify(c)));
      headers.delete("authorization");
      const init: RequestInit = { method: forward.method, headers };
      if (forward.body && forward.method !== "GET" && forward.method !== "HEAD") init.body = forward.body;
      return deps.tunnel.get(deps.tunnel.idFromName(node)).fetch(new Request(forward.url, init));
    };
    if (match.type === "control" || match.type === "stream") {
      authorizeTunnel(user, match.node);
      if (!isWebSocket || !offered(req).includes(TUNNEL_PROTOCOL)) throw badRequest(`the tunnel is a WebSocket with the subprotocol ${TUNNEL_PROTOCOL}`);
      return await call(match.node, match.type === "control" ? { op: "control", node: match.node } : { op: "stream", node: match.node, id: match.id });
    }
    const query = url.search.slice(1);
    if (match.type === "pod") {
      const plan = await planStream(deps.registry, user, match, req.method, query);
      if (upgrade.startsWith("spdy/")) throw badRequest(SPDY_ON_THE_EDGE);
      if (!isWebSocket) throw badRequest("Upgrade request required");
      return await call(plan.node, { op: "open", node: plan.node, target: plan.target, protocols: offered(req) });
    }
    const plan = await planStream(deps.registry, user, match, req.method, query);
    return await call(plan.node, {
      op: "proxy",
      node: plan.node,
      target: plan.target,
      scheme: plan.scheme ?? "http",
      path: plan.path ?? "/",
      maxBodyBytes: deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    });
  } catch (e) {
    return status(e instanceof ApiError ? e : new ApiError(500, "InternalError", String((e as Error)?.message ?? e)));
  }
};

/**
 * A node's resource summary from the Worker: a `stats` call to its tunnel object, which
 * asks the agent over its control channel (shared/tunnel.ts). Throws the object's Status.
 */
export const edgeStats =
  (tunnel: TunnelNamespace) =>
  async (node: string): Promise<StatsSummary> => {
    const call: TunnelCall = { op: "stats", node };
    const res = await tunnel
      .get(tunnel.idFromName(node))
      .fetch(new Request("https://tunnel.internal/stats", { headers: { [TUNNEL_HEADER]: encodeURIComponent(JSON.stringify(call)) } }));
    const body = (await res.json().catch(() => null)) as (StatsSummary & { message?: string; reason?: string }) | null;
    if (!res.ok) throw new ApiError(res.status, body?.reason ?? "InternalError", body?.message ?? `the tunnel answered ${res.status}`);
    if (!isStatsSummary(body)) throw new ApiError(500, "InternalError", `node "${node}": resource usage is not a StatsSummary`);
    return body;
  };
