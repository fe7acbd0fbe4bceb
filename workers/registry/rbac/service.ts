/**
 * Authentication and authorization beyond the static tokens: ServiceAccount tokens
 * (satokens.ts), the RBAC view attached to each user RBAC decides for (cache.ts),
 * impersonation (kube's Impersonate-* headers), and the create-only review resources
 * (SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview,
 * SelfSubjectRulesReview, SelfSubjectReview, TokenReview).
 */
import type { ResourceInfo } from "../../../shared/resources";
import { badRequest, invalid as invalidStatus, type StatusCause } from "../../../shared/status";
import type { KObject } from "../../../shared/types";
import { typeErrors } from "../../../shared/validation";
import type { Store } from "../../store/store";
import { allowed, authorizeAttributes } from "../auth";
import { ServiceAccountTokens, TokenCaches } from "../satokens";
import { TOKEN_CACHE_TTL_MS, TokenUserCache } from "../tokenusers";
import type { User } from "../user";
import { RBAC_RESOURCES, RbacCache } from "./cache";
import { type Attributes, type PolicyRule, serviceAccountOf } from "./rules";

export type TokenAuthenticator = (token: string) => Promise<User | null>;

/** What is kept per isolate (the Worker) or per server (Node). */
export class AuthCaches {
  readonly rbac: RbacCache;
  readonly tokens = new TokenCaches();
  /** successful bearer-token authentications, kept `tokenTtlMs` (tokenusers.ts) */
  readonly users: TokenUserCache;
  /** `soleWriter`: every database write goes through this process (npm start): see RbacCache */
  constructor(o: { soleWriter?: boolean; tokenTtlMs?: number } = {}) {
    this.rbac = new RbacCache(!!o.soleWriter);
    this.users = new TokenUserCache(o.tokenTtlMs ?? TOKEN_CACHE_TTL_MS);
  }
}

export const MASTERS = "system:masters";
export const AUTHENTICATED = "system:authenticated";

/** writes that may revoke a token: node credentials and bound Secrets, accounts, bound pods */
const REVOKING = new Set(["secrets", "serviceaccounts", "pods"]);

const invalid = (kind: string, group: string, causes: StatusCause[]) => invalidStatus(kind, group, "", causes);

export class AuthService {
  readonly tokens: ServiceAccountTokens;
  private authenticator?: TokenAuthenticator;

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly caches = new AuthCaches(),
    o: { issuer?: string; audiences?: string[] } = {},
  ) {
    this.tokens = new ServiceAccountTokens({ store, now, caches: caches.tokens, ...o });
  }

  /** A write of `resource` committed here: an RBAC object's invalidates the view; a credential's, account's or bound pod's the users resting on it. */
  written(resource: string, obj?: KObject): void {
    if ((RBAC_RESOURCES as readonly string[]).includes(resource)) this.caches.rbac.changed();
    if (!obj || !REVOKING.has(resource)) return;
    this.caches.users.written(resource, obj.metadata.namespace ?? "", obj.metadata.name ?? "");
    // the accounts and bound objects seen alive (satokens.ts) are looked up again
    if (this.caches.tokens.live.size) this.caches.tokens.live.clear();
  }

  /** A user RBAC decides for gets the current RBAC view (one indexed read to check it is current). */
  async attach(user: User): Promise<User> {
    if (user.role !== "user") return user;
    return { ...user, rbac: await this.caches.rbac.view(this.store) };
  }

  /**
   * The authenticator chain: `first` (static tokens, node credentials), then ServiceAccount
   * tokens, its successes kept a short while (tokenusers.ts); the user leaves with its
   * RBAC view, attached on every request (RBAC changes apply at once).
   */
  authenticate(first: TokenAuthenticator): TokenAuthenticator {
    const chain: TokenAuthenticator = async (token) => (await first(token)) ?? (await this.tokens.authenticate(token));
    this.authenticator = chain;
    const users = this.caches.users;
    return async (token) => {
      const now = this.now().getTime();
      let u = users.get(token, now);
      if (!u) {
        const mark = users.mark();
        u = (await chain(token)) ?? undefined;
        if (!u) return null;
        users.set(token, u, now, mark);
      }
      return this.attach(u);
    };
  }

  /**
   * kube-apiserver's impersonation filter: `Impersonate-User` (a user name, or a
   * ServiceAccount's `system:serviceaccount:<ns>:<name>`), `Impersonate-Group`,
   * `Impersonate-Uid` and `Impersonate-Extra-<key>`, each authorized by the `impersonate`
   * verb on users, serviceaccounts, groups, uids or userextras. Returns `user` when
   * nothing is impersonated.
   */
  async impersonate(user: User, header: (name: string) => string[]): Promise<User> {
    const name = header("Impersonate-User")[0];
    const groups = header("Impersonate-Group");
    const uid = header("Impersonate-Uid")[0];
    const extraKeys = header("__extra_keys__");
    if (name === undefined) {
      if (groups.length || uid !== undefined || extraKeys.length)
        throw badRequest("requested impersonation of groups, uid or extra without impersonating a user");
      return user;
    }
    const check = (a: Omit<Attributes, "verb" | "resourceRequest">) => authorizeAttributes(user, { verb: "impersonate", resourceRequest: true, ...a });
    const sa = serviceAccountOf(name);
    if (sa) check({ apiGroup: "", resource: "serviceaccounts", namespace: sa.namespace, name: sa.name });
    else check({ apiGroup: "", resource: "users", name });
    for (const g of groups) check({ apiGroup: "", resource: "groups", name: g });
    if (uid !== undefined) check({ apiGroup: "authentication.k8s.io", resource: "uids", name: uid });
    const extra: Record<string, string[]> = {};
    for (const k of extraKeys) {
      const values = header(`Impersonate-Extra-${k}`);
      for (const v of values) check({ apiGroup: "authentication.k8s.io", resource: "userextras", subresource: k, name: v });
      extra[k] = values;
    }
    const asGroups = groups.length || !sa ? [...groups] : ["system:serviceaccounts", `system:serviceaccounts:${sa.namespace}`];
    if (name !== "system:anonymous" && !asGroups.includes(AUTHENTICATED)) asGroups.push(AUTHENTICATED);
    return this.attach(this.userOf(name, asGroups, uid, Object.keys(extra).length ? extra : undefined));
  }

  /** A user from a name and groups (impersonation, SubjectAccessReview): system:masters are admins, the rest RBAC's. */
  private userOf(name: string, groups: string[], uid?: string, extra?: Record<string, string[]>): User {
    return { name, groups, ...(uid !== undefined ? { uid } : {}), ...(extra ? { extra } : {}), role: groups.includes(MASTERS) ? "admin" : "user" };
  }

  /** POST to a review resource: the answer (nothing is stored). */
  async review(user: User, info: ResourceInfo, namespace: string, body: unknown): Promise<KObject> {
    if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest(`the request body must be a ${info.kind}`);
    const b = body as KObject;
    if (b.kind !== undefined && b.kind !== info.kind) throw badRequest(`the body must be a ${info.kind}, not ${JSON.stringify(b.kind)}`);
    // wrong JSON types: 422 naming the fields, as for any object
    const typeCauses = typeErrors(info, b);
    if (typeCauses.length) throw invalid(info.kind, info.group, typeCauses);
    const out: KObject = {
      kind: info.kind,
      apiVersion: `${info.group}/${info.version}`,
      metadata: { ...(b.metadata ?? {}), creationTimestamp: null as unknown as string },
      ...(b.spec !== undefined ? { spec: b.spec } : {}),
    };
    const spec = (b.spec ?? {}) as Record<string, any>;
    switch (info.resource) {
      case "selfsubjectreviews":
        out.status = { userInfo: userInfo(user) };
        return out;
      case "tokenreviews": {
        const token = typeof spec.token === "string" ? spec.token : "";
        const u = token && this.authenticator ? await this.authenticator(token) : null;
        out.status = u ? { authenticated: true, user: userInfo(u), audiences: spec.audiences?.length ? spec.audiences : this.tokens.audiences } : { user: {} };
        return out;
      }
      case "selfsubjectrulesreviews": {
        const ns = typeof spec.namespace === "string" ? spec.namespace : "";
        out.status = this.rulesOf(user, ns);
        return out;
      }
      default: {
        const subject = info.resource === "selfsubjectaccessreviews" ? user : await this.subject(info, spec);
        const ra = spec.resourceAttributes;
        const nra = spec.nonResourceAttributes;
        if (!!ra === !!nra)
          throw invalid(info.kind, info.group, [
            {
              reason: "FieldValueInvalid",
              field: "spec.resourceAttributes",
              message: `Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified`,
            },
          ]);
        if (info.resource === "localsubjectaccessreviews") {
          if (ra?.namespace && ra.namespace !== namespace)
            throw invalid(info.kind, info.group, [
              {
                reason: "FieldValueInvalid",
                field: "spec.resourceAttributes.namespace",
                message: `Invalid value: "${ra.namespace}": must match metadata.namespace`,
              },
            ]);
          out.metadata.namespace = namespace;
          if (ra) spec.resourceAttributes = { ...ra, namespace };
        }
        const a: Attributes = ra
          ? {
              verb: String(ra.verb ?? ""),
              resourceRequest: true,
              apiGroup: String(ra.group ?? ""),
              resource: String(ra.resource ?? ""),
              subresource: String(ra.subresource ?? ""),
              name: String(ra.name ?? ""),
              namespace: info.resource === "localsubjectaccessreviews" ? namespace : String(ra.namespace ?? ""),
            }
          : { verb: String(nra.verb ?? ""), resourceRequest: false, path: String(nra.path ?? "") };
        const ok = allowed(subject, a);
        out.status = ok ? { allowed: true, reason: subject.role === "admin" ? "" : "RBAC: allowed" } : { allowed: false };
        return out;
      }
    }
  }

  /** The user a SubjectAccessReview asks about. */
  private async subject(info: ResourceInfo, spec: Record<string, any>): Promise<User> {
    const name = typeof spec.user === "string" ? spec.user : "";
    const groups = Array.isArray(spec.groups) ? spec.groups.filter((g: unknown): g is string => typeof g === "string") : [];
    if (!name && !groups.length)
      throw invalid(info.kind, info.group, [
        { reason: "FieldValueInvalid", field: "spec.user", message: `Invalid value: "": at least one of user or group must be specified` },
      ]);
    return this.attach(this.userOf(name, groups, typeof spec.uid === "string" ? spec.uid : undefined));
  }

  /** SelfSubjectRulesReview: the rules the user has in `namespace`. */
  private rulesOf(user: User, namespace: string) {
    if (user.role === "admin")
      return {
        resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }],
        nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
        incomplete: false,
      };
    if (user.role === "node")
      return { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: "node credentials are decided by the Node authorizer" };
    const resourceRules: PolicyRule[] = [];
    const nonResourceRules: PolicyRule[] = [];
    for (const r of user.rbac?.rulesFor(user, namespace) ?? []) {
      if (r.nonResourceURLs?.length) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
      else resourceRules.push(r);
    }
    return { resourceRules, nonResourceRules, incomplete: false };
  }

  /** May `user` do this? (for callers outside the REST path) */
  can(user: User, a: Attributes): boolean {
    return allowed(user, a);
  }
}

const userInfo = (u: User) => ({
  username: u.name,
  ...(u.uid ? { uid: u.uid } : {}),
  groups: u.groups ?? [],
  ...(u.extra ? { extra: u.extra } : {}),
});
