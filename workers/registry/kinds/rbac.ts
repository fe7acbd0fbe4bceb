/**
 * rbac.authorization.k8s.io/v1: Roles, ClusterRoles and their bindings (the RBAC
 * authorizer reads them: registry/rbac), and the create-only review resources of
 * authentication.k8s.io and authorization.k8s.io (served by registry/rbac/reviews.ts).
 */
import type { KObject } from "../../../shared/types";
import { defineKind, type Kind } from "./kind";
import { AGE, age, col, NAME, wide } from "./printing";

const GROUP = "rbac.authorization.k8s.io";

// kubectl's columns for roles: NAME, CREATED AT
const CREATED_AT = col("Created At", "Time at which the object was created.", { type: "date" });
const rolePrinter = {
  columns: [NAME, CREATED_AT],
  cells: (o: KObject) => [o.metadata.name, o.metadata.creationTimestamp ?? "<unknown>"],
};

const subjectsOf = (o: KObject, kind: string) => (Array.isArray(o.subjects) ? o.subjects : []).filter((s: any) => s?.kind === kind);
// kubectl's columns for bindings: NAME, ROLE, AGE; wide: USERS, GROUPS, SERVICEACCOUNTS
const bindingPrinter = {
  columns: [
    NAME,
    col("Role", "Role referenced by this binding."),
    AGE,
    wide("Users", "Users in the binding."),
    wide("Groups", "Groups in the binding."),
    wide("ServiceAccounts", "ServiceAccounts in the binding."),
  ],
  cells: (o: KObject, now: number) => [
    o.metadata.name,
    `${o.roleRef?.kind ?? ""}/${o.roleRef?.name ?? ""}`,
    age(o, now),
    subjectsOf(o, "User")
      .map((s: any) => s.name)
      .join(", "),
    subjectsOf(o, "Group")
      .map((s: any) => s.name)
      .join(", "),
    subjectsOf(o, "ServiceAccount")
      .map((s: any) => (s.namespace ? `${s.namespace}/${s.name}` : s.name))
      .join(", "),
  ],
};

/** kube's SetDefaults_Subject: User and Group subjects are of the rbac group, ServiceAccounts of the core group. */
const defaultSubjects = (o: KObject) => {
  if (!Array.isArray(o.subjects)) return;
  for (const s of o.subjects) {
    if (!s || typeof s !== "object" || (s.apiGroup !== undefined && s.apiGroup !== null)) continue;
    if (s.kind === "User" || s.kind === "Group") s.apiGroup = GROUP;
    if (s.kind === "ServiceAccount") s.apiGroup = "";
  }
};

const roleRefImmutable = (o: KObject, old: KObject) =>
  JSON.stringify(o.roleRef ?? null) === JSON.stringify(old.roleRef ?? null)
    ? []
    : [{ reason: "FieldValueInvalid", field: "roleRef", message: `Invalid value: ${JSON.stringify(o.roleRef)}: cannot change roleRef` }];

const info = (resource: string, kind: string, namespaced: boolean) => ({
  resource,
  singular: resource.slice(0, -1),
  kind,
  group: GROUP,
  version: "v1",
  namespaced,
});

export const roles = defineKind({ info: info("roles", "Role", true), printer: rolePrinter, strategy: {} });
export const clusterroles = defineKind({ info: info("clusterroles", "ClusterRole", false), printer: rolePrinter, strategy: {} });
export const rolebindings = defineKind({
  info: info("rolebindings", "RoleBinding", true),
  printer: bindingPrinter,
  strategy: { normalize: defaultSubjects, validateUpdate: roleRefImmutable },
});
export const clusterrolebindings = defineKind({
  info: info("clusterrolebindings", "ClusterRoleBinding", false),
  printer: bindingPrinter,
  strategy: { normalize: defaultSubjects, validateUpdate: roleRefImmutable },
});

const NO_COLUMNS = { columns: [NAME], cells: (o: KObject) => [o.metadata.name ?? ""] };
const review = (group: string, resource: string, kind: string, namespaced = false): Kind =>
  defineKind({
    info: { resource, singular: resource.slice(0, -1), kind, group, version: "v1", namespaced, verbs: ["create"] },
    printer: NO_COLUMNS,
    strategy: {},
  });

/** Create-only resources: nothing is stored; the answer is the response (registry/rbac/reviews.ts). */
export const REVIEW_KINDS: Kind[] = [
  review("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
  review("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview"),
  review("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview"),
  review("authorization.k8s.io", "localsubjectaccessreviews", "LocalSubjectAccessReview", true),
  review("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview"),
  review("authentication.k8s.io", "tokenreviews", "TokenReview"),
];

export const RBAC_KINDS: Kind[] = [roles, clusterroles, rolebindings, clusterrolebindings, ...REVIEW_KINDS];
