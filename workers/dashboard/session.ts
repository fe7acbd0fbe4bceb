/**
 * The dashboard's session: the bearer token the user signed in with, sealed (AES-256-GCM,
 * a JWE with `dir` keys, by jose) in an HttpOnly, SameSite=Strict cookie, Secure over
 * HTTPS. The key is derived (HKDF-SHA-256) from a server secret: on Node the admin token
 * of the data dir, on the Worker DASHBOARD_SECRET or else ADMIN_TOKEN, so rotating that
 * secret signs everyone out. Sealed, not only signed: the cookie carries a credential,
 * which should not be readable where cookies end up (proxies' logs, a browser profile).
 *
 * CSRF: a synchronizer token bound to the session (HMAC of the session's random id), in
 * every state-changing form; the sign-in form, before any session, uses a double-submit
 * cookie. Both are compared in constant time.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { parse as parseCookies } from "hono/utils/cookie";
import { EncryptJWT, jwtDecrypt } from "jose";

export const SESSION_COOKIE = "kf_session";
export const LOGIN_CSRF_COOKIE = "kf_login_csrf";
export const FLASH_COOKIE = "kf_flash";
/** a session lasts 12 hours, then the user signs in again */
export const SESSION_SECONDS = 12 * 3600;

export interface Session {
  /** the bearer token every API request of this session carries */
  token: string;
  /** random id, what the CSRF token is bound to */
  sid: string;
  /** whether the sign-in's dry-run write was allowed: only hides buttons, the API decides */
  canWrite: boolean;
}

const enc = new TextEncoder();

const b64url = (b: ArrayBuffer | Uint8Array): string => {
  let s = "";
  for (const x of new Uint8Array(b)) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

export const randomId = (): string => b64url(crypto.getRandomValues(new Uint8Array(18)));

/** Constant-time comparison of two strings. */
export const sameString = (a: string, b: string): boolean => {
  const x = enc.encode(a);
  const y = enc.encode(b);
  let d = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) d |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return d === 0;
};

export interface Keys {
  seal: Uint8Array;
  csrf: CryptoKey;
}

/** The session and CSRF keys, derived from the server secret (HKDF-SHA-256, one `info` each). */
export const deriveKeys = async (secret: string): Promise<Keys> => {
  const base = await crypto.subtle.importKey("raw", enc.encode(secret), "HKDF", false, ["deriveBits"]);
  const bits = (info: string) =>
    crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: enc.encode("kubeflare-dashboard"), info: enc.encode(info) }, base, 256);
  const seal = new Uint8Array(await bits("session v1"));
  const csrf = await crypto.subtle.importKey("raw", await bits("csrf v1"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return { seal, csrf };
};

export const csrfToken = async (keys: Keys, sid: string): Promise<string> => b64url(await crypto.subtle.sign("HMAC", keys.csrf, enc.encode(`csrf:${sid}`)));

/** Served over HTTPS (directly, or behind a proxy that says so): the cookie is Secure. */
const isHttps = (c: Context): boolean => new URL(c.req.url).protocol === "https:" || c.req.header("X-Forwarded-Proto") === "https";

const cookieOptions = (c: Context, maxAge: number) => ({ httpOnly: true, secure: isHttps(c), sameSite: "Strict", path: "/", maxAge }) as const;

export const writeSession = async (c: Context, keys: Keys, s: Session): Promise<void> => {
  const jwe = await new EncryptJWT({ t: s.token, sid: s.sid, w: s.canWrite })
    .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
    .setIssuedAt()
    .setExpirationTime(`${SESSION_SECONDS}s`)
    .encrypt(keys.seal);
  setCookie(c, SESSION_COOKIE, jwe, cookieOptions(c, SESSION_SECONDS));
};

/** The session of this request, or null (no cookie, expired, sealed with another key, tampered with). */
export const readSession = async (c: Context, keys: Keys): Promise<Session | null> => unseal(getCookie(c, SESSION_COOKIE), keys);

/** The session in a Cookie header (a WebSocket upgrade, outside hono), or null. */
export const sessionOfCookies = (cookieHeader: string | null | undefined, keys: Keys): Promise<Session | null> =>
  unseal(parseCookies(cookieHeader ?? "", SESSION_COOKIE)[SESSION_COOKIE], keys);

const unseal = async (raw: string | undefined, keys: Keys): Promise<Session | null> => {
  if (!raw || raw.length > 8192) return null;
  try {
    const { payload } = await jwtDecrypt(raw, keys.seal, { contentEncryptionAlgorithms: ["A256GCM"], keyManagementAlgorithms: ["dir"] });
    if (typeof payload.t !== "string" || typeof payload.sid !== "string") return null;
    return { token: payload.t, sid: payload.sid, canWrite: payload.w === true };
  } catch {
    return null;
  }
};

export const clearSession = (c: Context): void => {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: isHttps(c), httpOnly: true, sameSite: "Strict" });
};

/** The sign-in form's double-submit value: a random cookie the form repeats. */
export const loginCsrf = (c: Context): string => {
  const v = randomId();
  setCookie(c, LOGIN_CSRF_COOKIE, v, cookieOptions(c, 3600));
  return v;
};
export const checkLoginCsrf = (c: Context, sent: unknown): boolean => {
  const v = getCookie(c, LOGIN_CSRF_COOKIE);
  return typeof sent === "string" && !!v && sameString(v, sent);
};

/** A one-shot message for the next page (after a redirect); the cookie, not the URL, so no link can plant text on a page. */
export const setFlash = (c: Context, kind: "ok" | "error", text: string): void =>
  setCookie(c, FLASH_COOKIE, JSON.stringify({ kind, text: text.slice(0, 1000) }), cookieOptions(c, 60));
export const takeFlash = (c: Context): { kind: "ok" | "error"; text: string } | undefined => {
  const raw = getCookie(c, FLASH_COOKIE);
  if (!raw) return undefined;
  deleteCookie(c, FLASH_COOKIE, { path: "/" });
  try {
    const v = JSON.parse(raw);
    return (v.kind === "ok" || v.kind === "error") && typeof v.text === "string" ? v : undefined;
  } catch {
    return undefined;
  }
};
