import type { ResourceInfo } from "../../shared/resources";
import { forbidden, qualifiedResource } from "../../shared/status";
import { nodeMayAttempt } from "./noderestriction";
import type { Attributes } from "./rbac/rules";
import type { User, Verb } from "./user";

/** verbs whose requests name an object, so that rules with resourceNames may allow them (checked with the name in Access.restrict) */
const NAMED: ReadonlySet<string> = new Set(["get", "update", "patch", "delete"]);

/**
 * The authorizer chain, as kube-apiserver's `--authorization-mode=Node,RBAC`: system:masters
 * (role admin) may do everything, node credentials what the Node authorizer allows
 * (object checks follow in noderestriction.ts), and everyone else what RBAC grants.
 */
export const allowed = (user: User, a: Attributes): boolean => {
  if (user.role === "admin") return true;
  if (user.role === "node") return a.resourceRequest && nodeMayAttempt(a.verb as Verb, { resource: a.resource } as ResourceInfo, a.subresource ?? "");
  return !!user.rbac?.allows(user, a);
};

const denial = (user: User, a: Attributes) => {
  if (!a.resourceRequest) return forbidden(`forbidden: User "${user.name}" cannot ${a.verb} path "${a.path}"`);
  const sub = a.subresource ? `/${a.subresource}` : "";
  const res = qualifiedResource(a.resource ?? "", a.apiGroup ?? "") + sub;
  return forbidden(
    `${res}${a.name ? ` "${a.name}"` : ""} is forbidden: User "${user.name}" cannot ${a.verb} resource "${a.resource}${sub}" in API group "${a.apiGroup}"${
      a.namespace ? ` in the namespace "${a.namespace}"` : " at the cluster scope"
    }`,
  );
};

/** Throws 403 Forbidden, worded as kube-apiserver words it, when `user` may not do `verb`. */
export const authorize = (user: User, verb: Verb, info: ResourceInfo, namespace: string, subresource = "", name?: string): void => {
  const a: Attributes = { verb, resourceRequest: true, apiGroup: info.group, resource: info.resource, subresource, namespace, name };
  if (allowed(user, a)) return;
  // a rule limited to resourceNames may allow it: decided once the name is known (Access.restrict)
  if (user.role === "user" && name === undefined && NAMED.has(verb) && user.rbac?.allowsSomeName(user, a)) return;
  throw denial(user, a);
};

/** The same with the object's name, for requests that name one (rules with resourceNames). */
export const authorizeNamed = (user: User, verb: string, info: ResourceInfo, namespace: string, name: string, subresource = ""): void => {
  if (user.role !== "user") return;
  const a: Attributes = { verb, resourceRequest: true, apiGroup: info.group, resource: info.resource, subresource, namespace, name };
  if (!allowed(user, a)) throw denial(user, a);
};

/** Non-resource paths (/metrics, /version): RBAC's nonResourceURLs; nodes only what kube's system:node role has (none here). */
export const authorizePath = (user: User, verb: string, path: string): void => {
  const a: Attributes = { verb, resourceRequest: false, path };
  if (!allowed(user, a)) throw denial(user, a);
};

/** Any attributes: throws kube's denial. */
export const authorizeAttributes = (user: User, a: Attributes): void => {
  if (!allowed(user, a)) throw denial(user, a);
};
