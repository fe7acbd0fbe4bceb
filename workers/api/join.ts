/**
 * Kubeflare's own endpoints for joining nodes (group kubeflare.dev/v1):
 *   POST /apis/kubeflare.dev/v1/bootstraptokens   (admin) { ttlSeconds?, usages?, maxNodes?, allowReplace? }
 *                                                   → { token, expiration, usages, maxNodes, allowReplace? }
 *   POST /apis/kubeflare.dev/v1/join              Authorization: Bearer <join token>, { nodeName, forceReplace? } → { nodeName, token }
 *   POST /apis/kubeflare.dev/v1/nodes/<name>/servingcertificate   (the node itself) { publicKey, clusterDomain? }
 *                                                   → { nodeName, certificate, caCertificate, notAfter }: the serving
 *                                                     certificate of the node's relay of the `kubernetes` Service
 * The bodies are tiny, so they are read within SMALL_BODY_BYTES (413 past it); the
 * join token is checked before its body is read at all.
 */
import { Hono } from "hono";
import { badRequest, unauthorized } from "../../shared/status";
import type { Registry } from "../registry/registry";
import type { AuthVariables } from "./auth";
import { readSmallJson } from "./body";

export const joining = (registry: Registry) => {
  const app = new Hono<{ Variables: AuthVariables }>();
  app.post("/apis/kubeflare.dev/v1/bootstraptokens", async (c) => {
    // { ttlSeconds?, usages?, maxNodes?, allowReplace? }: checked by the registry (400 per field)
    const t = await registry.nodes.createBootstrapToken(c.get("user"), await readSmallJson(c.req.raw));
    return c.json({ apiVersion: "kubeflare.dev/v1", kind: "BootstrapToken", ...t }, 201);
  });
  app.post("/apis/kubeflare.dev/v1/join", async (c) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "");
    if (!m) throw unauthorized("a join token is required (Authorization: Bearer <token>)");
    // an unknown, expired or used-up token is refused before a byte of its body is read
    await registry.nodes.checkJoinToken(m[1]);
    const body = (await readSmallJson(c.req.raw)) as { nodeName?: unknown; forceReplace?: unknown } | undefined;
    if (!body || typeof body !== "object" || typeof body.nodeName !== "string" || !body.nodeName) {
      throw badRequest('the request body must be {"nodeName": "..."}');
    }
    const cred = await registry.nodes.join(m[1], body.nodeName, { forceReplace: body.forceReplace });
    return c.json({ apiVersion: "kubeflare.dev/v1", kind: "NodeCredential", ...cred }, 201);
  });
  app.post("/apis/kubeflare.dev/v1/nodes/:name/servingcertificate", async (c) => {
    const user = c.get("user");
    const name = c.req.param("name");
    // who may ask is settled before the body is read
    registry.clusterCA.authorizeServing(user, name);
    const cert = await registry.clusterCA.issueServing(user, name, await readSmallJson(c.req.raw));
    return c.json({ apiVersion: "kubeflare.dev/v1", kind: "NodeServingCertificate", ...cert }, 201);
  });
  return app;
};
