/**
 * ServiceAccount tokens, as kube-apiserver makes and checks them (pkg/serviceaccount,
 * pkg/registry/core/serviceaccount/storage/token.go): the TokenRequest API
 * (`POST .../serviceaccounts/<name>/token`, authentication.k8s.io/v1) signs a JWT
 * for the account, optionally bound to a Pod or Secret; the API authenticates such
 * tokens as `system:serviceaccount:<ns>:<name>` while the account (and the bound
 * object) still exist with the same uid.
 *
 * The signing key (ES256) is made once and kept in the store under a resource name no
 * API path reaches, as the cluster CA is (clusterca.ts), and cached per isolate.
 */
import { SignJWT, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, importSPKI, jwtVerify } from "jose";
import { ApiError, badRequest, conflict, forbidden, notFound, type StatusCause } from "../../shared/status";
import type { KObject, ObjectKey } from "../../shared/types";
import { rfc3339 } from "../../shared/time";
import { type Store, StoreError } from "../store/store";
import { newUid } from "./meta";
import type { User } from "./user";

export const SIGNING_KEY: ObjectKey = { resource: "kubeflare.internal/signingkeys", namespace: "", name: "service-account-key" };
export const DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local";
export const DEFAULT_EXPIRATION_SECONDS = 3600;
export const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
const ALG = "ES256";

type KeyLike = CryptoKey;
interface KeyPair {
  privateKey: KeyLike;
  publicKey: KeyLike;
}

/** What a token says (kube's private claims under `kubernetes.io`). */
export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  "kubernetes.io": {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
  };
}

/** What is kept per isolate: the signing key, and accounts (and bound objects) recently seen to exist. */
export class TokenCaches {
  /** the key pair once loaded (a value, not a promise: on Workers a promise settled in one request's context must not be awaited in another's) */
  key?: KeyPair;
  readonly live = new Map<string, number>();
  constructor(
    readonly liveMs = 10_000,
    readonly max = 1000,
  ) {}
}

export interface TokenOptions {
  store: Store;
  now: () => Date;
  issuer?: string;
  /** audiences the API accepts (kube's --api-audiences; default the issuer) */
  audiences?: string[];
  caches?: TokenCaches;
}

const invalidRequest = (name: string, causes: StatusCause[]) =>
  new ApiError(422, "Invalid", `TokenRequest.authentication.k8s.io "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}`, {
    name,
    group: "authentication.k8s.io",
    kind: "TokenRequest",
    causes,
  });

export class ServiceAccountTokens {
  readonly issuer: string;
  readonly audiences: string[];
  private readonly caches: TokenCaches;

  constructor(private readonly o: TokenOptions) {
    this.issuer = o.issuer ?? DEFAULT_ISSUER;
    this.audiences = o.audiences ?? [this.issuer];
    this.caches = o.caches ?? new TokenCaches();
  }

  private loading?: Promise<KeyPair>;

  private async keys(): Promise<KeyPair> {
    if (this.caches.key) return this.caches.key;
    this.loading ??= this.loadKey().finally(() => {
      this.loading = undefined;
    });
    const k = await this.loading;
    this.caches.key = k;
    return k;
  }

  private async loadKey(): Promise<KeyPair> {
    const parse = async (d: { key: string; pub: string }) => ({ privateKey: await importPKCS8(d.key, ALG), publicKey: await importSPKI(d.pub, ALG) });
    const stored = await this.o.store.get(SIGNING_KEY);
    if (stored) return parse(stored.data);
    const pair = await generateKeyPair(ALG, { extractable: true });
    const data = { key: await exportPKCS8(pair.privateKey), pub: await exportSPKI(pair.publicKey) };
    try {
      await this.o.store.create(SIGNING_KEY, {
        apiVersion: "kubeflare.internal/v1",
        kind: "SigningKey",
        metadata: { name: SIGNING_KEY.name, uid: newUid() },
        data,
      });
      return parse(data);
    } catch (e) {
      if (!(e instanceof StoreError && e.code === "AlreadyExists")) throw e;
      return parse((await this.o.store.get(SIGNING_KEY))!.data);
    }
  }

  /** The public key (PEM), for anyone who wants to verify tokens offline. */
  async publicKeyPem(): Promise<string> {
    return exportSPKI((await this.keys()).publicKey);
  }

  /**
   * The TokenRequest API: `body` is a TokenRequest; answers it with status.token and
   * status.expirationTimestamp. A node may ask only for a token bound to a pod on it
   * that runs as this account (the Node authorizer and NodeRestriction's rule).
   */
  async request(user: User, namespace: string, name: string, body: unknown): Promise<KObject> {
    if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("the request body must be a TokenRequest");
    const b = body as KObject;
    if (b.kind !== undefined && b.kind !== "TokenRequest") throw badRequest(`the body must be a TokenRequest, not ${JSON.stringify(b.kind)}`);
    const spec = (b.spec ?? {}) as Record<string, any>;
    const causes: StatusCause[] = [];
    const bad = (field: string, message: string, reason = "FieldValueInvalid") => causes.push({ reason, field, message });
    let audiences: string[] = this.audiences;
    if (spec.audiences !== undefined && spec.audiences !== null) {
      if (!Array.isArray(spec.audiences) || spec.audiences.some((a: unknown) => typeof a !== "string"))
        bad("spec.audiences", "Invalid value: must be a list of strings");
      else if (spec.audiences.length) audiences = spec.audiences;
    }
    let seconds = DEFAULT_EXPIRATION_SECONDS;
    if (spec.expirationSeconds !== undefined && spec.expirationSeconds !== null) {
      const v = spec.expirationSeconds;
      if (typeof v !== "number" || !Number.isInteger(v)) bad("spec.expirationSeconds", `Invalid value: ${JSON.stringify(v)}: must be an integer`);
      else if (v < MIN_EXPIRATION_SECONDS) bad("spec.expirationSeconds", `Invalid value: ${v}: may not specify a duration less than 10 minutes`);
      else if (v > MAX_EXPIRATION_SECONDS) bad("spec.expirationSeconds", `Invalid value: ${v}: may not specify a duration larger than 2^32 seconds`);
      else seconds = v;
    }
    const ref = spec.boundObjectRef as any;
    if (ref) {
      if (typeof ref !== "object" || Array.isArray(ref)) bad("spec.boundObjectRef", "Invalid value: must be an object");
      else {
        if (ref.kind !== "Pod" && ref.kind !== "Secret")
          bad("spec.boundObjectRef.kind", `Unsupported value: ${JSON.stringify(ref.kind)}: supported values: "Pod", "Secret"`, "FieldValueNotSupported");
        if (ref.apiVersion !== undefined && ref.apiVersion !== "v1")
          bad("spec.boundObjectRef.apiVersion", `Invalid value: ${JSON.stringify(ref.apiVersion)}: must be "v1"`);
        if (typeof ref.name !== "string" || !ref.name) bad("spec.boundObjectRef.name", "Required value", "FieldValueRequired");
      }
    }
    if (causes.length) throw invalidRequest(name, causes);
    const sa = await this.o.store.get({ resource: "serviceaccounts", namespace, name });
    if (!sa) throw notFound("serviceaccounts", "", name);
    let bound: KObject | null = null;
    if (ref) {
      const resource = ref.kind === "Pod" ? "pods" : "secrets";
      bound = await this.o.store.get({ resource, namespace, name: ref.name });
      if (!bound) throw notFound(resource, "", ref.name);
      if (ref.uid && ref.uid !== bound.metadata.uid)
        throw conflict(
          resource,
          "",
          ref.name,
          `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
        );
      if (ref.kind === "Pod" && bound.spec?.serviceAccountName !== name)
        throw badRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
    }
    if (user.role === "node") {
      const me = user.nodeName ?? "";
      if (ref?.kind !== "Pod" || bound?.spec?.nodeName !== me)
        throw forbidden(
          `serviceaccounts "${name}" is forbidden: User "${user.name}" cannot create resource "serviceaccounts/token" in API group "" in the namespace "${namespace}": node "${me}" may only request tokens bound to pods on it`,
        );
    }
    const now = this.o.now();
    const iat = Math.floor(now.getTime() / 1000);
    const claims: TokenClaims["kubernetes.io"] = { namespace, serviceaccount: { name, uid: sa.metadata.uid! } };
    if (bound && ref?.kind === "Pod") claims.pod = { name: bound.metadata.name!, uid: bound.metadata.uid! };
    if (bound && ref?.kind === "Secret") claims.secret = { name: bound.metadata.name!, uid: bound.metadata.uid! };
    const token = await new SignJWT({ "kubernetes.io": claims })
      .setProtectedHeader({ alg: ALG, kid: "kubeflare-sa" })
      .setIssuer(this.issuer)
      .setSubject(`system:serviceaccount:${namespace}:${name}`)
      .setAudience(audiences)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + seconds)
      .setJti(crypto.randomUUID())
      .sign((await this.keys()).privateKey);
    return {
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { name, namespace, creationTimestamp: null as unknown as string },
      spec: {
        audiences,
        expirationSeconds: seconds,
        boundObjectRef: ref ? { kind: ref.kind, apiVersion: "v1", name: ref.name, uid: bound?.metadata.uid } : null,
      },
      status: { token, expirationTimestamp: rfc3339(new Date((iat + seconds) * 1000)) },
    };
  }

  /**
   * The user of a ServiceAccount token, or null when it is not one of ours, is
   * expired, is for another audience, or names an account (or bound object) that is
   * gone or was recreated.
   */
  async authenticate(token: string): Promise<User | null> {
    if (!token.startsWith("eyJ") || token.split(".").length !== 3) return null;
    let claims: TokenClaims;
    try {
      const { payload } = await jwtVerify(token, (await this.keys()).publicKey, {
        issuer: this.issuer,
        algorithms: [ALG],
        currentDate: this.o.now(),
      });
      claims = payload as unknown as TokenClaims;
    } catch {
      return null;
    }
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.some((a) => this.audiences.includes(a))) return null;
    const k = claims["kubernetes.io"];
    if (!k?.namespace || !k.serviceaccount?.name || claims.sub !== `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`) return null;
    if (!(await this.live(k))) return null;
    const extra: Record<string, string[]> = { "authentication.kubernetes.io/credential-id": [`JTI=${claims.jti}`] };
    if (k.pod) {
      extra["authentication.kubernetes.io/pod-name"] = [k.pod.name];
      extra["authentication.kubernetes.io/pod-uid"] = [k.pod.uid];
    }
    return {
      name: claims.sub,
      uid: k.serviceaccount.uid,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${k.namespace}`, "system:authenticated"],
      extra,
      role: "user",
    };
  }

  /** The account and the bound object still exist with the uids the token names (kept `liveMs` per isolate). */
  private async live(k: TokenClaims["kubernetes.io"]): Promise<boolean> {
    const key = JSON.stringify([k.namespace, k.serviceaccount, k.pod ?? null, k.secret ?? null]);
    const now = Date.now();
    const until = this.caches.live.get(key);
    if (until !== undefined && until > now) return true;
    this.caches.live.delete(key);
    const sa = await this.o.store.get({ resource: "serviceaccounts", namespace: k.namespace, name: k.serviceaccount.name });
    if (!sa || sa.metadata.uid !== k.serviceaccount.uid) return false;
    for (const [resource, b] of [
      ["pods", k.pod],
      ["secrets", k.secret],
    ] as const) {
      if (!b) continue;
      const o = await this.o.store.get({ resource, namespace: k.namespace, name: b.name });
      if (!o || o.metadata.uid !== b.uid || (resource === "pods" && o.metadata.deletionTimestamp && !o.spec?.nodeName)) return false;
    }
    if (this.caches.live.size >= this.caches.max) this.caches.live.delete(this.caches.live.keys().next().value!);
    this.caches.live.set(key, now + this.caches.liveMs);
    return true;
  }
}
