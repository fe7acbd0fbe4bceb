/**
 * Joining nodes: an admin creates a bootstrap token (a Secret of type
 * `bootstrap.kubernetes.io/token` in kube-system, as kubeadm does; token
 * `<id>.<secret>`, with an expiration), an agent presents it once to
 * `POST /apis/kubeflare.dev/v1/join` and receives a credential scoped to its node.
 * Only a hash of that credential is stored (Secret `node-credential-<node>`).
 */
import { badRequest, unauthorized } from "../../shared/status";
import type { KObject } from "../../shared/types";
import type { User } from "./user";

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

/** A new bootstrap token and the Secret that holds it. */
export const newBootstrapToken = (ttlSeconds: number, now: Date): { token: string; secret: KObject } => {
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
        expiration: b64(new Date(now.getTime() + ttlSeconds * 1000).toISOString().replace(/\.\d+Z$/, "Z")),
        "usage-bootstrap-authentication": b64("true"),
        description: b64("Kubeflare node join token"),
      },
    },
  };
};

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
};

export const bootstrapSecretName = (token: string) => `bootstrap-token-${token.split(".")[0]}`;

/** A fresh node credential and the Secret holding its hash. */
export const newNodeCredential = async (nodeName: string): Promise<{ token: string; secret: KObject }> => {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName) || nodeName.length > 253) {
    throw badRequest(`invalid node name "${nodeName}": must be a lowercase RFC 1123 subdomain`);
  }
  const token = `kfn.${nodeName}.${randomString(40, LOWER + "ABCDEFGHIJKLMNOPQRSTUVWXYZ")}`;
  return {
    token,
    secret: {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `node-credential-${nodeName}`, namespace: "kube-system", labels: { "kubeflare.dev/node": nodeName } },
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
  return diff === 0 ? { name: `system:node:${node}`, role: "node", nodeName: node } : null;
};
