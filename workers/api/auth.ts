import type { MiddlewareHandler } from "hono";
import { unauthorized } from "../../shared/status";
import type { User } from "../registry/user";

/** Maps a bearer token to a user, or null when the token is unknown. */
export type Authenticator = (token: string) => Promise<User | null>;

export const sha256Hex = async (s: string): Promise<string> => {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
};

/** One line of a static token file: kube-apiserver's `--token-auth-file` format. */
export interface TokenFileEntry {
  token: string;
  user: string;
  uid: string;
  groups: string[];
}

/** The group whose members are cluster admins, as in Kubernetes' default RBAC (cluster-admin is bound to it). */
export const ADMIN_GROUP = "system:masters";

/** The group of viewer tokens (VIEWER_TOKENS), bound to the `view` ClusterRole (registry/rbac/bootstrap.ts). */
export const VIEWERS_GROUP = "kubeflare:viewers";
const AUTHENTICATED = "system:authenticated";

/**
 * A token-file user: members of `system:masters` may do everything (cluster-admin);
 * everyone else what RBAC grants the user and its groups (and system:authenticated).
 */
export const roleOf = (e: TokenFileEntry): User => ({
  name: e.user,
  ...(e.uid ? { uid: e.uid } : {}),
  groups: e.groups.includes(AUTHENTICATED) ? e.groups : [...e.groups, AUTHENTICATED],
  role: e.groups.includes(ADMIN_GROUP) ? "admin" : "user",
});

/** RFC 4180 records, read as Go's encoding/csv reads them (what kube-apiserver uses): quoted fields, `""` escapes, blank lines skipped. */
const csvRecords = (text: string, where: string): { line: number; fields: string[] }[] => {
  const out: { line: number; fields: string[] }[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    // a blank line is no record
    if (text[i] === "\n" || (text[i] === "\r" && text[i + 1] === "\n")) {
      i += text[i] === "\r" ? 2 : 1;
      line++;
      continue;
    }
    const fields: string[] = [];
    for (;;) {
      let field = "";
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new Error(`${where}: line ${start}: a quoted field is not closed`);
          const ch = text[i];
          if (ch === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === "\n") line++;
          field += ch;
          i++;
        }
        if (i < n && text[i] !== "," && text[i] !== "\n" && !(text[i] === "\r" && text[i + 1] === "\n")) {
          throw new Error(`${where}: line ${line}: extraneous or missing " in quoted field`);
        }
      } else {
        while (i < n && text[i] !== "," && text[i] !== "\n" && !(text[i] === "\r" && text[i + 1] === "\n")) {
          if (text[i] === '"') throw new Error(`${where}: line ${line}: bare " in non-quoted field`);
          field += text[i++];
        }
      }
      fields.push(field);
      if (i < n && text[i] === ",") {
        i++;
        continue;
      }
      if (i < n) {
        i += text[i] === "\r" ? 2 : 1;
        line++;
      }
      break;
    }
    out.push({ line: start, fields });
  }
  return out;
};

/**
 * Parse a static token file as kube-apiserver's `--token-auth-file` reads it: CSV
 * lines `token,user,uid` with an optional fourth column of groups
 * (`token,user,uid,"group1,group2"`). Fewer than three columns or broken quoting
 * throws (naming the file and line); as in kube-apiserver, a line with an empty token
 * is skipped and a repeated token takes the later line, each with a warning.
 */
export const parseTokenFile = (text: string, where = "token file"): { entries: TokenFileEntry[]; warnings: string[] } => {
  const byToken = new Map<string, TokenFileEntry>();
  const warnings: string[] = [];
  for (const { line, fields } of csvRecords(text, where)) {
    if (fields.length < 3) {
      throw new Error(`${where}: line ${line}: must have at least 3 columns (token, user name, user uid), found ${fields.length}`);
    }
    const [token, user, uid, groups] = fields;
    if (token === "") {
      warnings.push(`${where}: line ${line}: empty token, line ignored`);
      continue;
    }
    if (byToken.has(token)) warnings.push(`${where}: line ${line}: duplicate token, the later line wins`);
    byToken.set(token, { token, user, uid, groups: groups === undefined ? [] : groups.split(",") });
  }
  return { entries: [...byToken.values()], warnings };
};

/**
 * Static bearer tokens: the admin token (a Worker secret or the data dir), optional
 * read-only viewer tokens, and the users of a token file. Tokens are compared by their
 * SHA-256 digest, so lookup time says nothing about a token's characters.
 */
export const staticTokens = (opts: { adminToken: string; viewerTokens?: string[]; tokenFile?: TokenFileEntry[] }): Authenticator => {
  const users: Promise<Map<string, User>> = (async () => {
    const m = new Map<string, User>();
    for (const e of opts.tokenFile ?? []) m.set(await sha256Hex(e.token), roleOf(e));
    // viewers read what `view` grants (and /metrics, as system:monitoring)
    for (const v of opts.viewerTokens ?? [])
      m.set(await sha256Hex(v), { name: "viewer", groups: [VIEWERS_GROUP, "system:monitoring", AUTHENTICATED], role: "user" });
    m.set(await sha256Hex(opts.adminToken), { name: "admin", groups: [ADMIN_GROUP, AUTHENTICATED], role: "admin" });
    return m;
  })();
  return async (token) => (await users).get(await sha256Hex(token)) ?? null;
};

/** Try authenticators in order. */
export const anyOf =
  (...auths: Authenticator[]): Authenticator =>
  async (token) => {
    for (const a of auths) {
      const u = await a(token);
      if (u) return u;
    }
    return null;
  };

export type AuthVariables = { user: User };

/** Acts on kube's Impersonate-* headers (registry/rbac/service.ts); `header(name)` gives every value of one. */
export type Impersonator = (user: User, header: (name: string) => string[]) => Promise<User>;

/**
 * The Impersonate-* headers of a request. Fetch's Headers joins repeated headers with
 * ", " (kubectl sends one Impersonate-Group per group), so they are split again; the
 * keys of Impersonate-Extra-<key> headers come as `__extra_keys__`.
 */
export const impersonationHeaders =
  (h: Headers) =>
  (name: string): string[] => {
    if (name === "__extra_keys__") {
      const keys: string[] = [];
      h.forEach((_v, k) => {
        if (k.startsWith("impersonate-extra-")) keys.push(decodeURIComponent(k.slice("impersonate-extra-".length)));
      });
      return keys;
    }
    const v = h.get(name);
    if (v === null) return [];
    return name.toLowerCase() === "impersonate-user" || name.toLowerCase() === "impersonate-uid" ? [v] : v.split(",").map((s) => s.trim());
  };

/** Paths without a bearer token: health, version, and joining (which checks its own join token before it reads the body). */
const PUBLIC = new Set(["/healthz", "/readyz", "/livez", "/version", "/apis/kubeflare.dev/v1/join"]);

/**
 * Bearer-token authentication for everything but the health and version endpoints.
 * It runs before any handler, so no request body is read before its sender is known.
 */
export const bearerAuth =
  (authenticate: Authenticator, impersonate?: Impersonator): MiddlewareHandler<{ Variables: AuthVariables }> =>
  async (c, next) => {
    if (PUBLIC.has(c.req.path)) return next();
    const header = c.req.header("Authorization") ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    let user = m ? await authenticate(m[1]) : null;
    if (!user) throw unauthorized();
    if (impersonate) user = await impersonate(user, impersonationHeaders(c.req.raw.headers));
    c.set("user", user);
    await next();
  };
