/**
 * The roles and bindings kube-apiserver bootstraps (plugin/pkg/auth/authorizer/rbac/bootstrappolicy)
 * that matter here: cluster-admin; the user-facing admin, edit and view, aggregated from
 * system:aggregate-to-* by their labels; discovery, basic-user, public-info-viewer and
 * monitoring; and their bindings. Plus Kubeflare's viewer tokens: the group
 * `kubeflare:viewers` is bound to view.
 */
import type { KObject } from "../../../shared/types";
import { aggregateAll } from "./aggregate";
import type { PolicyRule } from "./rules";

const RO = ["get", "list", "watch"];
const RW = ["create", "delete", "deletecollection", "patch", "update"];
const ALL_RW = [...RW, ...RO];
const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({ verbs, apiGroups, resources });
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ verbs, nonResourceURLs });

export const VIEWERS_GROUP = "kubeflare:viewers";
export const MONITORING_GROUP = "system:monitoring";
export const AUTOUPDATE = { "rbac.authorization.kubernetes.io/autoupdate": "true" };
const BOOTSTRAP_LABELS = { "kubernetes.io/bootstrapping": "rbac-defaults" };

const clusterRole = (name: string, rules: PolicyRule[], extra: { labels?: Record<string, string>; aggregateFrom?: string } = {}): KObject => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRole",
  metadata: { name, labels: { ...BOOTSTRAP_LABELS, ...extra.labels }, annotations: { ...AUTOUPDATE } },
  ...(extra.aggregateFrom
    ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [`rbac.authorization.k8s.io/${extra.aggregateFrom}`]: "true" } }] }, rules: [] }
    : { rules }),
});

const binding = (name: string, role: string, subjects: { kind: "Group" | "User"; name: string }[]): KObject => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRoleBinding",
  metadata: { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { ...AUTOUPDATE } },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
  subjects: subjects.map((s) => ({ apiGroup: "rbac.authorization.k8s.io", ...s })),
});

const viewRules: PolicyRule[] = [
  rule(RO, [""], ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status", "endpoints"]),
  rule(RO, [""], ["persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"]),
  rule(RO, [""], ["limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status", "namespaces/status"]),
  rule(RO, [""], ["replicationcontrollers/status", "pods/log"]),
  rule(RO, [""], ["namespaces"]),
  rule(RO, ["discovery.k8s.io"], ["endpointslices"]),
  rule(RO, ["apps"], ["controllerrevisions", "statefulsets", "statefulsets/scale", "statefulsets/status", "daemonsets", "daemonsets/status"]),
  rule(RO, ["apps"], ["deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status"]),
  rule(RO, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
  rule(RO, ["batch"], ["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
  rule(RO, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
  rule(RO, ["networking.k8s.io"], ["networkpolicies", "ingresses", "ingresses/status"]),
  rule(RO, ["coordination.k8s.io"], ["leases"]),
];

const editRules: PolicyRule[] = [
  rule(["impersonate"], [""], ["serviceaccounts"]),
  rule(ALL_RW, [""], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
  rule(["create"], [""], ["pods/eviction"]),
  rule(ALL_RW, [""], ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/proxy"]),
  rule(ALL_RW, [""], ["persistentvolumeclaims", "configmaps", "secrets", "events"]),
  rule(["create"], [""], ["serviceaccounts/token"]),
  rule(ALL_RW, ["apps"], ["statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale", "deployments/rollback"]),
  rule(ALL_RW, ["apps"], ["replicasets", "replicasets/scale"]),
  rule(ALL_RW, ["autoscaling"], ["horizontalpodautoscalers"]),
  rule(ALL_RW, ["batch"], ["jobs", "cronjobs"]),
  rule(ALL_RW, ["policy"], ["poddisruptionbudgets"]),
  rule(ALL_RW, ["networking.k8s.io"], ["networkpolicies", "ingresses"]),
  rule(ALL_RW, ["coordination.k8s.io"], ["leases"]),
];

const adminRules: PolicyRule[] = [
  rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
  rule(ALL_RW, ["rbac.authorization.k8s.io"], ["rolebindings", "roles"]),
];

const DISCOVERY_URLS = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"];
const PUBLIC_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"];
const MONITORING_URLS = ["/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz", "/readyz/*"];

export const BOOTSTRAP_CLUSTER_ROLES: KObject[] = [
  clusterRole("cluster-admin", [rule(["*"], ["*"], ["*"]), urls(["*"], ["*"])]),
  clusterRole("admin", [], { aggregateFrom: "aggregate-to-admin" }),
  clusterRole("edit", [], { aggregateFrom: "aggregate-to-edit", labels: { "rbac.authorization.k8s.io/aggregate-to-admin": "true" } }),
  clusterRole("view", [], { aggregateFrom: "aggregate-to-view", labels: { "rbac.authorization.k8s.io/aggregate-to-edit": "true" } }),
  clusterRole("system:aggregate-to-admin", adminRules, { labels: { "rbac.authorization.k8s.io/aggregate-to-admin": "true" } }),
  clusterRole("system:aggregate-to-edit", editRules, { labels: { "rbac.authorization.k8s.io/aggregate-to-edit": "true" } }),
  clusterRole("system:aggregate-to-view", viewRules, { labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } }),
  clusterRole("system:discovery", [urls(["get"], DISCOVERY_URLS)]),
  clusterRole("system:basic-user", [
    rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
    rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
  ]),
  clusterRole("system:public-info-viewer", [urls(["get"], PUBLIC_URLS)]),
  clusterRole("system:monitoring", [urls(["get"], MONITORING_URLS)]),
];

export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: KObject[] = [
  binding("cluster-admin", "cluster-admin", [{ kind: "Group", name: "system:masters" }]),
  binding("system:discovery", "system:discovery", [{ kind: "Group", name: "system:authenticated" }]),
  binding("system:basic-user", "system:basic-user", [{ kind: "Group", name: "system:authenticated" }]),
  binding("system:public-info-viewer", "system:public-info-viewer", [
    { kind: "Group", name: "system:authenticated" },
    { kind: "Group", name: "system:unauthenticated" },
  ]),
  binding("system:monitoring", "system:monitoring", [{ kind: "Group", name: MONITORING_GROUP }]),
  binding("kubeflare:viewers", "view", [{ kind: "Group", name: VIEWERS_GROUP }]),
];

/** The default ClusterRoles with the aggregated ones filled in (as the controller will), so they work before it first runs. */
export const bootstrapClusterRoles = (): KObject[] => {
  const roles = structuredClone(BOOTSTRAP_CLUSTER_ROLES);
  aggregateAll(roles);
  return roles;
};
