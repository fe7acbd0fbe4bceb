/**
 * RBAC's rule matching, as kube-apiserver's RBAC authorizer does it
 * (plugin/pkg/auth/authorizer/rbac): which bindings apply to a user, which rules they
 * grant, whether a rule allows a request, and whether one set of rules covers another
 * (escalation prevention). Pure code: the objects come from the cache (cache.ts).
 */
import type { KObject } from "../../../shared/types";

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** What a request asks, as kube's authorizer.Attributes. */
export interface Attributes {
  verb: string;
  /** a resource request (else a non-resource path) */
  resourceRequest: boolean;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  /** "" for cluster-scoped requests and requests across all namespaces */
  namespace?: string;
  path?: string;
}

/** Who is asking (the fields RBAC looks at). */
export interface Subject {
  name: string;
  groups?: string[];
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes("*") || list.includes(v));

export const verbMatches = (r: PolicyRule, verb: string) => has(r.verbs, verb);
export const apiGroupMatches = (r: PolicyRule, group: string) => has(r.apiGroups, group);

/** `*`, the resource (with its subresource, `pods/log`), or `*\/<subresource>`. */
export const resourceMatches = (r: PolicyRule, resource: string, subresource: string) => {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const rr of r.resources ?? []) {
    if (rr === "*" || rr === combined) return true;
    if (subresource && rr === `*/${subresource}`) return true;
  }
  return false;
};

export const resourceNameMatches = (r: PolicyRule, name: string) => !r.resourceNames?.length || (!!name && r.resourceNames.includes(name));

/** `*`, the exact path, or a prefix ending in `*`. */
export const nonResourceURLMatches = (r: PolicyRule, path: string) =>
  (r.nonResourceURLs ?? []).some((u) => u === "*" || u === path || (u.endsWith("*") && path.startsWith(u.slice(0, -1))));

export const ruleAllows = (a: Attributes, r: PolicyRule): boolean => {
  if (a.resourceRequest) {
    return (
      verbMatches(r, a.verb) &&
      apiGroupMatches(r, a.apiGroup ?? "") &&
      resourceMatches(r, a.resource ?? "", a.subresource ?? "") &&
      resourceNameMatches(r, a.name ?? "")
    );
  }
  return verbMatches(r, a.verb) && nonResourceURLMatches(r, a.path ?? "");
};

const SA_PREFIX = "system:serviceaccount:";

/** A binding subject names the user: a User by name, a Group the user is in, a ServiceAccount by its user name. */
export const subjectApplies = (s: any, user: Subject, bindingNamespace: string): boolean => {
  switch (s?.kind) {
    case "User":
      return s.name === user.name;
    case "Group":
      return !!user.groups?.includes(s.name);
    case "ServiceAccount": {
      const ns = s.namespace || bindingNamespace;
      return !!ns && user.name === `${SA_PREFIX}${ns}:${s.name}`;
    }
    default:
      return false;
  }
};

/** `system:serviceaccount:<ns>:<name>` split, or null. */
export const serviceAccountOf = (userName: string): { namespace: string; name: string } | null => {
  if (!userName.startsWith(SA_PREFIX)) return null;
  const parts = userName.slice(SA_PREFIX.length).split(":");
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null;
  return { namespace: parts[0], name: parts[1] };
};

const appliesTo = (b: KObject, user: Subject) => (b.subjects ?? []).some((s: any) => subjectApplies(s, user, b.metadata.namespace ?? ""));

/** The RBAC objects at one revision, indexed for the authorizer. */
export class RbacView {
  private readonly clusterRoles = new Map<string, PolicyRule[]>();
  private readonly roles = new Map<string, PolicyRule[]>();
  private readonly clusterBindings: KObject[];
  private readonly bindingsByNs = new Map<string, KObject[]>();

  constructor(
    readonly revision: number,
    objs: { roles: KObject[]; clusterroles: KObject[]; rolebindings: KObject[]; clusterrolebindings: KObject[] },
  ) {
    for (const r of objs.clusterroles) this.clusterRoles.set(r.metadata.name!, r.rules ?? []);
    for (const r of objs.roles) this.roles.set(`${r.metadata.namespace}/${r.metadata.name}`, r.rules ?? []);
    this.clusterBindings = objs.clusterrolebindings;
    for (const b of objs.rolebindings) {
      const ns = b.metadata.namespace ?? "";
      if (!this.bindingsByNs.has(ns)) this.bindingsByNs.set(ns, []);
      this.bindingsByNs.get(ns)!.push(b);
    }
  }

  /** The rules of a roleRef (empty when the role does not exist: a dangling binding grants nothing). */
  roleRules(ref: { kind?: string; name?: string }, namespace: string): PolicyRule[] {
    if (ref?.kind === "ClusterRole") return this.clusterRoles.get(ref.name ?? "") ?? [];
    if (ref?.kind === "Role") return this.roles.get(`${namespace}/${ref.name}`) ?? [];
    return [];
  }

  /** Every rule that applies to the user in `namespace` (cluster-wide rules always; "" = cluster-wide only). */
  *rulesFor(user: Subject, namespace: string): Generator<PolicyRule> {
    for (const b of this.clusterBindings) if (appliesTo(b, user)) yield* this.roleRules(b.roleRef, "");
    if (!namespace) return;
    for (const b of this.bindingsByNs.get(namespace) ?? []) if (appliesTo(b, user)) yield* this.roleRules(b.roleRef, namespace);
  }

  /** Would a rule allow this for some object name (a rule limited to resourceNames, before the name is known)? */
  allowsSomeName(user: Subject, a: Attributes): boolean {
    for (const r of this.rulesFor(user, a.namespace ?? "")) if (ruleAllows(a, { ...r, resourceNames: undefined })) return true;
    return false;
  }

  allows(user: Subject, a: Attributes): boolean {
    for (const r of this.rulesFor(user, a.resourceRequest ? (a.namespace ?? "") : "")) if (ruleAllows(a, r)) return true;
    return false;
  }
}

/** Atomic pieces of a rule: one verb, group, resource and name (or one verb and URL). */
const breakdown = (r: PolicyRule): PolicyRule[] => {
  const out: PolicyRule[] = [];
  for (const verb of r.verbs ?? []) {
    for (const url of r.nonResourceURLs ?? []) out.push({ verbs: [verb], nonResourceURLs: [url] });
    for (const group of r.apiGroups ?? []) {
      for (const resource of r.resources ?? []) {
        if (r.resourceNames?.length)
          for (const name of r.resourceNames) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
        else out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
      }
    }
  }
  return out;
};

/** Does owner rule `o` grant everything atomic rule `a` grants? (kube's ruleCovers) */
const ruleCovers = (o: PolicyRule, a: PolicyRule): boolean => {
  const verb = a.verbs[0];
  if (!o.verbs.includes("*") && !o.verbs.includes(verb)) return false;
  if (a.nonResourceURLs?.length) {
    const url = a.nonResourceURLs[0];
    return (o.nonResourceURLs ?? []).some((u) => u === "*" || u === url || (u.endsWith("*") && url.startsWith(u.slice(0, -1))));
  }
  const group = a.apiGroups![0];
  if (!(o.apiGroups ?? []).some((g) => g === "*" || g === group)) return false;
  const res = a.resources![0];
  const slash = res.indexOf("/");
  const sub = slash >= 0 ? res.slice(slash + 1) : "";
  if (!(o.resources ?? []).some((r) => r === "*" || r === res || (sub !== "" && r === `*/${sub}`) || (slash >= 0 && r === `${res.slice(0, slash)}/*`)))
    return false;
  if (!o.resourceNames?.length) return true;
  return !!a.resourceNames?.length && o.resourceNames.includes(a.resourceNames[0]);
};

/** The parts of `requested` that no rule of `owner` covers (empty: covered), as kube's validation.Covers. */
export const uncovered = (owner: PolicyRule[], requested: PolicyRule[]): PolicyRule[] => {
  const missing: PolicyRule[] = [];
  for (const r of requested) for (const a of breakdown(r)) if (!owner.some((o) => ruleCovers(o, a))) missing.push(a);
  return missing;
};

/** A rule as kube prints it in an escalation error: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`. */
export const compactRule = (r: PolicyRule): string => {
  const q = (l: string[]) => `[${l.map((s) => JSON.stringify(s)).join(" ")}]`;
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(", ")}}`;
};
