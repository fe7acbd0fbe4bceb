/**
 * Successful bearer-token authentications, kept a short while per process (the Node
 * server) or per isolate (the Worker), as kube-apiserver keeps them (its token
 * authenticator chain is wrapped in a cache of successes, 10 s by default; failures are
 * not kept). A request with a token seen in the last `ttlMs` skips the token's
 * SHA-256 (static tokens, node credentials), its JWT signature check (ServiceAccount
 * tokens) and their reads.
 *
 * Revocation: a write through this process or isolate of what a cached user rests on
 * drops it at once — a node's credential Secret (`kube-system/node-credential-<node>`),
 * a ServiceAccount, the pod a token is bound to, any Secret of the account's namespace
 * (a token bound to a Secret) — and the authentication that was under way when such a
 * write came is not kept. A revocation written elsewhere (another isolate, another
 * process on the same database) takes effect within `ttlMs`.
 *
 * Only successes are kept, at most `max` of them (the oldest go first), so unknown
 * tokens cannot fill it. Keys are the tokens themselves (a Map lookup: the string's
 * hash is seeded per process, and only a full-length exact match hits).
 */
import type { User } from "./user";
import { WriteGenerations } from "./generations";

/** kube-apiserver's default --token-auth cache of successes (pkg/kubeapiserver/options: TokenSuccessCacheTTL) */
export const TOKEN_CACHE_TTL_MS = 10_000;

const SA_PREFIX = "system:serviceaccount:";

interface Entry {
  user: User;
  until: number;
  deps: string[];
}

/** What a user's authentication rests on, as `resource/namespace/name` keys (`…/*`: any object of that resource in the namespace). */
export const dependenciesOf = (user: User): string[] => {
  if (user.role === "node" && user.nodeName) return [`secrets/kube-system/node-credential-${user.nodeName}`];
  if (user.name.startsWith(SA_PREFIX)) {
    const [namespace, name] = user.name.slice(SA_PREFIX.length).split(":");
    const deps = [`serviceaccounts/${namespace}/${name}`, `secrets/${namespace}/*`];
    const pod = user.extra?.["authentication.kubernetes.io/pod-name"]?.[0];
    if (pod) deps.push(`pods/${namespace}/${pod}`);
    return deps;
  }
  return [];
};

/** The resources whose writes may revoke a cached user. */
const WATCHED = new Set(["secrets", "serviceaccounts", "pods"]);

export class TokenUserCache {
  private readonly entries = new Map<string, Entry>();
  /** dependency key → the tokens whose users rest on it */
  private readonly byDep = new Map<string, Set<string>>();
  /** writes so far by resource: an authentication during which something it rests on may have changed is not kept */
  private readonly generations = new WriteGenerations();

  constructor(
    readonly ttlMs = TOKEN_CACHE_TTL_MS,
    private readonly max = 4096,
  ) {}

  /** The cached user of `token`, if it is fresh at `now` (ms). */
  get(token: string, now: number): User | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    if (e.until > now) return e.user;
    this.drop(token);
    return undefined;
  }

  /** A mark to pass to `set`, taken before authenticating: the user is kept only if nothing of the kinds it rests on was written since. */
  mark(): ReadonlyMap<string, number> {
    return this.generations.mark();
  }

  set(token: string, user: User, now: number, mark: ReadonlyMap<string, number>): void {
    if (this.ttlMs <= 0) return;
    const deps = dependenciesOf(user);
    for (const d of deps) {
      if (!this.generations.unchangedSince(mark, d.slice(0, d.indexOf("/")))) return;
    }
    this.drop(token);
    if (this.entries.size >= this.max) this.drop(this.entries.keys().next().value!);
    this.entries.set(token, { user, until: now + this.ttlMs, deps });
    for (const d of deps) {
      let set = this.byDep.get(d);
      if (!set) this.byDep.set(d, (set = new Set()));
      set.add(token);
    }
  }

  /** An object was written (created, changed, deleted) through this process: users resting on it go. */
  written(resource: string, namespace: string, name: string): void {
    if (!WATCHED.has(resource)) return;
    const exact = this.byDep.get(`${resource}/${namespace}/${name}`);
    const any = this.byDep.get(`${resource}/${namespace}/*`);
    this.generations.bump(resource);
    for (const set of [exact, any]) if (set) for (const t of [...set]) this.drop(t);
  }

  get size(): number {
    return this.entries.size;
  }

  private drop(token: string): void {
    const e = this.entries.get(token);
    if (!e) return;
    this.entries.delete(token);
    for (const d of e.deps) {
      const set = this.byDep.get(d);
      set?.delete(token);
      if (set && !set.size) this.byDep.delete(d);
    }
  }
}
