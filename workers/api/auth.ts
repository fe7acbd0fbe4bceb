import type { MiddlewareHandler } from "hono";
import { unauthorized } from "../../shared/status";
import type { User } from "../registry/user";

/** Maps a bearer token to a user, or null when the token is unknown. */
export type Authenticator = (token: string) => Promise<User | null>;

export const sha256Hex = async (s: string): Promise<string> => {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
};

/** Constant-time comparison of two equal-length hex digests. */
const sameDigest = (a: string, b: string) => {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
};

/** The admin token (from a secret or the data dir) and optional read-only viewer tokens. */
export const staticTokens = (opts: { adminToken: string; viewerTokens?: string[] }): Authenticator => {
  const admin = sha256Hex(opts.adminToken);
  const viewers = Promise.all((opts.viewerTokens ?? []).map(sha256Hex));
  return async (token) => {
    const h = await sha256Hex(token);
    if (sameDigest(h, await admin)) return { name: "admin", role: "admin" };
    if ((await viewers).some((v) => sameDigest(h, v))) return { name: "viewer", role: "viewer" };
    return null;
  };
};

/** Try authenticators in order. */
export const anyOf = (...auths: Authenticator[]): Authenticator => async (token) => {
  for (const a of auths) {
    const u = await a(token);
    if (u) return u;
  }
  return null;
};

export type AuthVariables = { user: User };

/** Paths without a bearer token: health, version, and joining (which checks its own join token). */
const PUBLIC = new Set(["/healthz", "/readyz", "/livez", "/version", "/apis/kubeflare.dev/v1/join"]);

/** Bearer-token authentication for everything but the health and version endpoints. */
export const bearerAuth = (authenticate: Authenticator): MiddlewareHandler<{ Variables: AuthVariables }> =>
  async (c, next) => {
    if (PUBLIC.has(c.req.path)) return next();
    const header = c.req.header("Authorization") ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const user = m ? await authenticate(m[1]) : null;
    if (!user) throw unauthorized();
    c.set("user", user);
    await next();
  };
