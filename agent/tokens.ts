/**
 * The kubelet's ServiceAccount token manager: the `serviceAccountToken` source of a
 * projected volume (the kube-api-access volume's `token`) is a token the agent asks the
 * TokenRequest API for, bound to the pod, and asks for again once 80 % of its lifetime
 * has passed (or it is older than 24 h), as kubelet's token manager does. A token still
 * valid is kept while the control plane is out of reach.
 */
import type { KObject } from "../shared/types";
import type { ApiClient } from "./api";
import { ConfigError } from "./env";

const MAX_TTL_MS = 24 * 3600_000;

interface Kept {
  token: string;
  /** when it was asked for, and when it expires (agent clock, ms) */
  at: number;
  expires: number;
}

export interface TokenSource {
  audience?: string;
  expirationSeconds?: number;
  path?: string;
}

export class TokenManager {
  private readonly kept = new Map<string, Kept>();

  constructor(private readonly ctx: { api: Pick<ApiClient, "request">; now(): number }) {}

  /** Whether a kept token must be replaced now: 80 % of its lifetime gone, or older than 24 h. */
  static stale(k: Kept, now: number): boolean {
    return now >= k.at + (k.expires - k.at) * 0.8 || now - k.at > MAX_TTL_MS;
  }

  /** The pod's token for this source: kept while fresh, else asked for anew. */
  async token(pod: KObject, src: TokenSource): Promise<string> {
    const ns = pod.metadata.namespace ?? "default";
    const sa = pod.spec?.serviceAccountName || "default";
    const key = JSON.stringify([pod.metadata.uid, sa, src.audience ?? "", src.expirationSeconds ?? 3600]);
    const now = this.ctx.now();
    const k = this.kept.get(key);
    if (k && !TokenManager.stale(k, now)) return k.token;
    try {
      const tr = await this.ctx.api.request<KObject>("POST", `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {
          ...(src.audience ? { audiences: [src.audience] } : {}),
          expirationSeconds: src.expirationSeconds ?? 3600,
          boundObjectRef: { kind: "Pod", apiVersion: "v1", name: pod.metadata.name, uid: pod.metadata.uid },
        },
      });
      const expires = Date.parse(tr.status?.expirationTimestamp ?? "");
      const lifetime = Number.isFinite(expires) ? expires - Date.now() : (src.expirationSeconds ?? 3600) * 1000;
      const fresh = { token: String(tr.status?.token ?? ""), at: now, expires: now + Math.max(0, lifetime) };
      this.kept.set(key, fresh);
      return fresh.token;
    } catch (e) {
      if (k && now < k.expires) return k.token;
      const status = (e as { status?: number }).status;
      // the account (or the pod) is not there: the pod waits, as kubelet's MountVolume.SetUp fails
      if (status === 404 || status === 403 || status === 400) throw new ConfigError(`failed to fetch token: ${(e as Error).message}`);
      throw e;
    }
  }

  /** Forget a pod's tokens (it is gone). */
  forget(uid: string): void {
    for (const key of this.kept.keys()) if (key.startsWith(`[${JSON.stringify(uid)},`)) this.kept.delete(key);
  }
}
