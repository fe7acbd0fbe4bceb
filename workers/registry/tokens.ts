/**
 * Joining nodes: an admin creates a bootstrap token (a Secret of type
 * `bootstrap.kubernetes.io/token` in kube-system, as kubeadm does; token
 * `<id>.<secret>`, with an expiration and usages), an agent presents it to
 * `POST /apis/kubeflare.dev/v1/join` and receives a credential scoped to its node.
 * Only a hash of that credential is stored (Secret `node-credential-<node>`).
 *
 * Beyond kubeadm's fields the Secret's data holds, as kubeadm holds its extra ones:
 *   max-nodes      how many joins the token allows (default 1: single-use)
 *   join-count     how many it has served (bumped with a compare-and-swap on the
 *                  Secret's resourceVersion, so concurrent joins cannot overspend it)
 *   allow-replace  the one existing node a join with this token may replace
 *                  (the join must also ask for it: forceReplace)
 * A Secret without max-nodes (made by hand, or before these fields) is single-use.
 */
import { ApiError, badRequest, type StatusCause, unauthorized } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { isDNS1123Subdomain } from "../../shared/validation/names";
import type { User } from "./user";
import { rfc3339 } from "../../shared/time";

export const BOOTSTRAP_TYPE = "bootstrap.kubernetes.io/token";
export const CREDENTIAL_TYPE = "kubeflare.dev/node-credential";
const TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const NODE_TOKEN = /^kfn\.([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\.([A-Za-z0-9_-]{32,})$/;

const b64 = (s: string) => btoa(s);
const unb64 = (s: string | undefined) => {
  try {
    return s ? atob(s) : "";
  } catch {
    return "";
  }
};

export const sha256 = async (s: string): Promise<string> => {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
};

const randomString = (n: number, alphabet: string) => {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
};

const LOWER = "abcdefghijklmnopqrstuvwxyz0123456789";

/** What an admin may ask of a new join token (POST /apis/kubeflare.dev/v1/bootstraptokens). */
export interface BootstrapTokenOptions {
  /** lifetime in seconds, 1 s to 365 days (default 24 h) */
  ttlSeconds: number;
  /** kubeadm's token usages; joining needs "authentication", the only one Kubeflare has */
  usages: string[];
  /** how many nodes may join with it (default 1) */
  maxNodes: number;
  /** the one existing node a join with this token may replace (with forceReplace) */
  allowReplace?: string;
}

export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 3600;
export const MAX_TOKEN_TTL_SECONDS = 365 * 86400;
export const MAX_TOKEN_NODES = 10_000;
const USAGES = ["authentication"];
const OPTION_FIELDS = ["apiVersion", "kind", "ttlSeconds", "usages", "maxNodes", "allowReplace"];

/** A node name the join endpoint accepts: its credential Secret `node-credential-<name>` must be a valid name too. */
export const nodeNameErrors = (name: string): string[] => {
  const errs = isDNS1123Subdomain(name);
  const max = 253 - "node-credential-".length;
  if (!errs.length && name.length > max) errs.push(`must be no more than ${max} characters`);
  return errs;
};

const fieldError = (kind: string, causes: StatusCause[]) =>
  new ApiError(400, "BadRequest", `${kind} is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}`, {
    group: "kubeflare.dev",
    kind,
    causes,
  });

const show = (v: unknown): string => {
  const s = typeof v === "string" ? JSON.stringify(v) : typeof v === "number" ? String(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
};

const integerIn = (v: unknown, min: number, max: number) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

/** The options of a token request, defaulted; 400 naming each bad field. */
export const parseTokenOptions = (body: unknown): BootstrapTokenOptions => {
  if (body === undefined || body === null) body = {};
  if (typeof body !== "object" || Array.isArray(body)) throw badRequest('the request body must be a JSON object such as {"ttlSeconds": 86400, "maxNodes": 1}');
  const b = body as Record<string, unknown>;
  const causes: StatusCause[] = [];
  const bad = (field: string, message: string, reason = "FieldValueInvalid") => causes.push({ reason, field, message });
  for (const k of Object.keys(b))
    if (!OPTION_FIELDS.includes(k)) bad(k, `Unknown field: the options are ${OPTION_FIELDS.slice(2).join(", ")}`, "FieldValueNotSupported");
  const out: BootstrapTokenOptions = { ttlSeconds: DEFAULT_TOKEN_TTL_SECONDS, usages: [...USAGES], maxNodes: 1 };
  if (b.ttlSeconds !== undefined) {
    if (integerIn(b.ttlSeconds, 1, MAX_TOKEN_TTL_SECONDS)) out.ttlSeconds = b.ttlSeconds as number;
    else bad("ttlSeconds", `Invalid value: ${show(b.ttlSeconds)}: must be an integer from 1 to ${MAX_TOKEN_TTL_SECONDS} (365 days)`);
  }
  if (b.usages !== undefined) {
    if (!Array.isArray(b.usages)) bad("usages", `Invalid value: ${show(b.usages)}: must be a list of strings`);
    else if (!b.usages.length) bad("usages", `Required value: a join token needs the "authentication" usage`, "FieldValueRequired");
    else {
      b.usages.forEach((u, i) => {
        if (!USAGES.includes(u as string)) bad(`usages[${i}]`, `Unsupported value: ${show(u)}: supported values: "authentication"`, "FieldValueNotSupported");
      });
      out.usages = [...new Set(b.usages as string[])];
    }
  }
  if (b.maxNodes !== undefined) {
    if (integerIn(b.maxNodes, 1, MAX_TOKEN_NODES)) out.maxNodes = b.maxNodes as number;
    else bad("maxNodes", `Invalid value: ${show(b.maxNodes)}: must be an integer from 1 to ${MAX_TOKEN_NODES}`);
  }
  if (b.allowReplace !== undefined) {
    const errs = typeof b.allowReplace === "string" ? nodeNameErrors(b.allowReplace) : ["must be a node name"];
    if (errs.length) bad("allowReplace", `Invalid value: ${show(b.allowReplace)}: ${errs.join("; ")}`);
    else out.allowReplace = b.allowReplace as string;
  }
  if (causes.length) throw fieldError("BootstrapToken", causes);
  return out;
};

/** A new bootstrap token and the Secret that holds it. */
export const newBootstrapToken = (opts: BootstrapTokenOptions, now: Date): { token: string; secret: KObject } => {
  const id = randomString(6, LOWER);
  const secret = randomString(16, LOWER);
  return {
    token: `${id}.${secret}`,
    secret: {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `bootstrap-token-${id}`, namespace: "kube-system" },
      type: BOOTSTRAP_TYPE,
      data: {
        "token-id": b64(id),
        "token-secret": b64(secret),
        expiration: b64(rfc3339(new Date(now.getTime() + opts.ttlSeconds * 1000))),
        ...(opts.usages.includes("authentication") ? { "usage-bootstrap-authentication": b64("true") } : {}),
        description: b64("Kubeflare node join token"),
        "max-nodes": b64(String(opts.maxNodes)),
        "join-count": b64("0"),
        ...(opts.allowReplace ? { "allow-replace": b64(opts.allowReplace) } : {}),
      },
    },
  };
};

const COUNT = /^(0|[1-9]\d{0,8})$/;

/** How many joins a token Secret allows and has served. */
export const tokenUses = (secret: KObject): { max: number; used: number } => {
  const d = secret.data ?? {};
  const max = d["max-nodes"] === undefined ? "1" : unb64(d["max-nodes"]);
  const used = d["join-count"] === undefined ? "0" : unb64(d["join-count"]);
  if (!COUNT.test(max) || max === "0") throw unauthorized("the join token is not usable: its max-nodes is not a positive integer");
  if (!COUNT.test(used)) throw unauthorized("the join token is not usable: its join-count is not a count");
  return { max: Number(max), used: Number(used) };
};

/** The token Secret with one more join counted. */
export const countJoin = (secret: KObject): KObject => {
  const { used } = tokenUses(secret);
  return { ...secret, data: { ...(secret.data ?? {}), "join-count": b64(String(used + 1)) } };
};

/** The node a join with this token may replace, if the admin allowed one. */
export const replaceableNode = (secret: KObject): string | undefined => unb64(secret.data?.["allow-replace"]) || undefined;

/** Check a bootstrap token against its Secret; throws 401 Unauthorized when it is not valid now. */
export const verifyBootstrapToken = (token: string, secret: KObject | null, now: Date): void => {
  const m = TOKEN.exec(token);
  if (!m) throw unauthorized("invalid join token: expected <6 characters>.<16 characters>");
  if (!secret || secret.type !== BOOTSTRAP_TYPE) throw unauthorized("invalid join token");
  const d = secret.data ?? {};
  let diff = 0;
  const want = unb64(d["token-secret"]);
  for (let i = 0; i < Math.max(want.length, m[2].length); i++) diff |= (want.charCodeAt(i) || 0) ^ (m[2].charCodeAt(i) || 0);
  if (diff !== 0 || unb64(d["token-id"]) !== m[1]) throw unauthorized("invalid join token");
  const exp = unb64(d.expiration);
  if (exp && Date.parse(exp) <= now.getTime()) throw unauthorized("the join token has expired");
  if (unb64(d["usage-bootstrap-authentication"]) !== "true") throw unauthorized("the join token is not usable for authentication");
  const { max, used } = tokenUses(secret);
  if (used >= max) {
    throw unauthorized(
      max === 1
        ? "the join token has already been used (it is single-use); create another with: kubeflare-agent token create"
        : `the join token has been used by ${used} of the ${max} nodes it allows; create another with: kubeflare-agent token create`,
    );
  }
};

export const bootstrapSecretName = (token: string) => `bootstrap-token-${token.split(".")[0]}`;

/** A fresh node credential and the Secret holding its hash. */
export const newNodeCredential = async (nodeName: string): Promise<{ token: string; secret: KObject }> => {
  const errs = nodeNameErrors(nodeName);
  if (errs.length) throw badRequest(`invalid node name ${show(nodeName)}: ${errs.join("; ")}`);
  const token = `kfn.${nodeName}.${randomString(40, LOWER + "ABCDEFGHIJKLMNOPQRSTUVWXYZ")}`;
  return {
    token,
    secret: {
      apiVersion: "v1",
      kind: "Secret",
      // an annotation, not a label: node names may be longer than a label value's 63 characters
      metadata: { name: `node-credential-${nodeName}`, namespace: "kube-system", annotations: { "kubeflare.dev/node": nodeName } },
      type: CREDENTIAL_TYPE,
      data: { "node-name": b64(nodeName), "token-sha256": b64(await sha256(token)) },
    },
  };
};

/** The node a credential names, if it is well-formed (the Secret decides whether it is valid). */
export const nodeOfCredential = (token: string): string | null => NODE_TOKEN.exec(token)?.[1] ?? null;

export const verifyNodeCredential = async (token: string, secret: KObject | null): Promise<User | null> => {
  const node = nodeOfCredential(token);
  if (!node || !secret || secret.type !== CREDENTIAL_TYPE) return null;
  const want = unb64(secret.data?.["token-sha256"]);
  const got = await sha256(token);
  let diff = want.length ^ got.length;
  for (let i = 0; i < Math.min(want.length, got.length); i++) diff |= want.charCodeAt(i) ^ got.charCodeAt(i);
  return diff === 0 ? { name: `system:node:${node}`, groups: ["system:nodes", "system:authenticated"], role: "node", nodeName: node } : null;
};

/** The node name and flags of a join request; 400 naming each bad field. */
export const parseJoinRequest = (nodeName: unknown, forceReplace: unknown): { nodeName: string; forceReplace: boolean } => {
  const causes: StatusCause[] = [];
  if (typeof nodeName !== "string" || !nodeName)
    causes.push({ reason: "FieldValueRequired", field: "nodeName", message: "Required value: the name the node joins under" });
  else {
    const errs = nodeNameErrors(nodeName);
    if (errs.length) causes.push({ reason: "FieldValueInvalid", field: "nodeName", message: `Invalid value: ${show(nodeName)}: ${errs.join("; ")}` });
  }
  if (forceReplace !== undefined && typeof forceReplace !== "boolean") {
    causes.push({ reason: "FieldValueInvalid", field: "forceReplace", message: `Invalid value: ${show(forceReplace)}: must be true or false` });
  }
  if (causes.length) throw fieldError("JoinRequest", causes);
  return { nodeName: nodeName as string, forceReplace: forceReplace === true };
};
