/**
 * RBAC's escalation prevention (pkg/registry/rbac/*\/policybased): a user may write a
 * Role or ClusterRole only with rules it holds itself (in that namespace, or cluster-wide
 * for a ClusterRole), unless it may `escalate` roles; and a binding only to a role whose
 * rules it holds, unless it may `bind` that role. A ClusterRole with an aggregationRule
 * needs `escalate` (its rules are the aggregation controller's).
 */
import { forbidden } from "../../../shared/status";
import type { KObject } from "../../../shared/types";
import { allowed } from "../auth";
import type { User } from "../user";
import { compactRule, type PolicyRule, uncovered } from "./rules";

const GROUP = "rbac.authorization.k8s.io";
export const RBAC_KINDS = new Set(["roles", "clusterroles", "rolebindings", "clusterrolebindings"]);

const groupsOf = (u: User) => `[${(u.groups ?? []).map((g) => JSON.stringify(g)).join(" ")}]`;

/** Throws 403 when `user` writing `obj` (of `resource`) would grant more than it holds. */
export const checkEscalation = (user: User, resource: string, objNamespace: string, obj: KObject): void => {
  if (user.role !== "user" || !RBAC_KINDS.has(resource)) return;
  const namespace = resource.startsWith("cluster") ? "" : objNamespace;
  const view = user.rbac;
  const name = obj.metadata?.name ?? "";
  const refuse = (missing: PolicyRule[], why?: string) =>
    forbidden(
      `${resource}.${GROUP} "${name}" is forbidden: ${
        why ??
        `user "${user.name}" (groups=${groupsOf(user)}) is attempting to grant RBAC permissions not currently held:\n${missing.map(compactRule).join("\n")}`
      }`,
    );
  const may = (verb: string, res: string, resName: string) =>
    allowed(user, { verb, resourceRequest: true, apiGroup: GROUP, resource: res, name: resName, namespace });
  const held = [...(view?.rulesFor(user, namespace) ?? [])];
  if (resource === "roles" || resource === "clusterroles") {
    if (may("escalate", resource, name)) return;
    if (resource === "clusterroles" && obj.aggregationRule) throw refuse([], "must have cluster-admin privileges to use the aggregationRule");
    const missing = uncovered(held, Array.isArray(obj.rules) ? obj.rules : []);
    if (missing.length) throw refuse(missing);
    return;
  }
  const ref = obj.roleRef ?? {};
  const refResource = ref.kind === "ClusterRole" ? "clusterroles" : "roles";
  if (may("bind", refResource, ref.name ?? "")) return;
  const missing = uncovered(held, view?.roleRules(ref, namespace) ?? []);
  if (missing.length) throw refuse(missing);
};
