/** RBAC's pure parts: rule matching, the authorizer over bindings, escalation coverage, aggregation. */
import { describe, expect, it } from "vitest";
import type { KObject } from "../../../shared/types";
import { authorize } from "../auth";
import { resourceByName } from "../kinds";
import type { User } from "../user";
import { aggregateAll, aggregateRules } from "./aggregate";
import { bootstrapClusterRoles, BOOTSTRAP_CLUSTER_ROLE_BINDINGS } from "./bootstrap";
import { checkEscalation } from "./escalation";
import { type Attributes, compactRule, type PolicyRule, RbacView, ruleAllows, uncovered } from "./rules";

const res = (verb: string, resource: string, o: Partial<Attributes> = {}): Attributes => ({ verb, resourceRequest: true, apiGroup: "", resource, ...o });

describe("rule matching", () => {
  it("matches verbs, groups, resources with subresources, `*/sub`, resourceNames and non-resource URLs as kube does", () => {
    const r: PolicyRule = { verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "pods/log"] };
    expect(ruleAllows(res("get", "pods"), r)).toBe(true);
    expect(ruleAllows(res("get", "pods", { subresource: "log" }), r)).toBe(true);
    expect(ruleAllows(res("create", "pods", { subresource: "exec" }), r)).toBe(false);
    expect(ruleAllows(res("get", "pods", { subresource: "status" }), r)).toBe(false);
    expect(ruleAllows(res("delete", "pods"), r)).toBe(false);
    expect(ruleAllows(res("get", "pods", { apiGroup: "apps" }), r)).toBe(false);
    expect(
      ruleAllows(res("get", "deployments", { apiGroup: "apps", subresource: "scale" }), { verbs: ["get"], apiGroups: ["*"], resources: ["*/scale"] }),
    ).toBe(true);
    expect(ruleAllows(res("get", "deployments", { apiGroup: "apps" }), { verbs: ["get"], apiGroups: ["*"], resources: ["*/scale"] })).toBe(false);
    expect(ruleAllows(res("anything", "x", { apiGroup: "y", subresource: "z" }), { verbs: ["*"], apiGroups: ["*"], resources: ["*"] })).toBe(true);
    const named: PolicyRule = { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["mine"] };
    expect(ruleAllows(res("get", "configmaps", { name: "mine" }), named)).toBe(true);
    expect(ruleAllows(res("get", "configmaps", { name: "other" }), named)).toBe(false);
    expect(ruleAllows(res("get", "configmaps"), named)).toBe(false);
    const url = (path: string): Attributes => ({ verb: "get", resourceRequest: false, path });
    expect(ruleAllows(url("/healthz/etcd"), { verbs: ["get"], nonResourceURLs: ["/healthz/*"] })).toBe(true);
    expect(ruleAllows(url("/healthz"), { verbs: ["get"], nonResourceURLs: ["/healthz/*"] })).toBe(false);
    expect(ruleAllows(url("/metrics"), { verbs: ["get"], nonResourceURLs: ["/metrics"] })).toBe(true);
    // a resource rule does not match a non-resource request and vice versa
    expect(ruleAllows(url("/api"), { verbs: ["*"], apiGroups: ["*"], resources: ["*"] })).toBe(false);
  });
});

const rb = (ns: string, name: string, ref: { kind: string; name: string }, subjects: unknown[]): KObject => ({
  metadata: { namespace: ns, name },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", ...ref },
  subjects,
});
const crb = (name: string, role: string, subjects: unknown[]): KObject => ({ metadata: { name }, roleRef: { kind: "ClusterRole", name: role }, subjects });

describe("the RBAC authorizer", () => {
  const clusterroles = bootstrapClusterRoles();
  const view = new RbacView(1, {
    clusterroles,
    roles: [
      {
        metadata: { namespace: "a", name: "cm-one" },
        rules: [{ verbs: ["get", "update"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["one"] }],
      },
    ],
    rolebindings: [
      rb("a", "sa-view", { kind: "ClusterRole", name: "view" }, [{ kind: "ServiceAccount", name: "sa", namespace: "a" }]),
      rb("a", "sa-cm", { kind: "Role", name: "cm-one" }, [{ kind: "ServiceAccount", name: "sa" }]),
      rb("b", "group-edit", { kind: "ClusterRole", name: "edit" }, [{ kind: "Group", name: "devs" }]),
      rb("b", "dangling", { kind: "Role", name: "gone" }, [{ kind: "User", name: "jane" }]),
    ],
    clusterrolebindings: [...BOOTSTRAP_CLUSTER_ROLE_BINDINGS, crb("jane-nodes", "system:node-reader-missing", [{ kind: "User", name: "jane" }])],
  });
  const sa: User = {
    name: "system:serviceaccount:a:sa",
    groups: ["system:serviceaccounts", "system:serviceaccounts:a", "system:authenticated"],
    role: "user",
    rbac: view,
  };
  const dev: User = { name: "dev", groups: ["devs", "system:authenticated"], role: "user", rbac: view };
  const jane: User = { name: "jane", groups: ["system:authenticated"], role: "user", rbac: view };
  const pods = resourceByName("pods");
  const cms = resourceByName("configmaps");

  it("grants what the bindings of the user, its groups and its ServiceAccount name grant, in their namespaces", () => {
    expect(() => authorize(sa, "list", pods, "a")).not.toThrow();
    expect(() => authorize(sa, "get", pods, "a", "log")).not.toThrow();
    expect(() => authorize(sa, "list", pods, "b")).toThrow(
      'pods is forbidden: User "system:serviceaccount:a:sa" cannot list resource "pods" in API group "" in the namespace "b"',
    );
    expect(() => authorize(sa, "list", pods, "")).toThrow("at the cluster scope");
    expect(() => authorize(sa, "create", pods, "a")).toThrow();
    expect(() => authorize(sa, "create", pods, "a", "exec")).toThrow('cannot create resource "pods/exec"');
    expect(() => authorize(dev, "create", pods, "b", "exec")).not.toThrow();
    expect(() => authorize(dev, "list", resourceByName("secrets"), "b")).not.toThrow();
    expect(() => authorize(dev, "list", pods, "a")).toThrow();
    // view has no secrets
    expect(() => authorize(sa, "get", resourceByName("secrets"), "a", "", "x")).toThrow();
    // a binding to a missing role grants nothing
    expect(() => authorize(jane, "list", pods, "b")).toThrow();
    expect(view.allows(jane, { verb: "get", resourceRequest: false, path: "/version" })).toBe(true);
    expect(view.allows(jane, { verb: "get", resourceRequest: false, path: "/metrics" })).toBe(false);
    expect(view.allows(jane, res("create", "selfsubjectaccessreviews", { apiGroup: "authorization.k8s.io" }))).toBe(true);
  });

  it("resourceNames: a named request is allowed, a list and other names are not", () => {
    expect(() => authorize(sa, "update", cms, "a", "", "one")).not.toThrow();
    expect(() => authorize(sa, "update", cms, "a", "", "two")).toThrow('configmaps "two" is forbidden');
    expect(() => authorize(sa, "update", cms, "b", "", "one")).toThrow();
    // before the name is known, a named verb passes (the registry checks again with the name)
    expect(() => authorize(sa, "update", cms, "a")).not.toThrow();
    expect(() => authorize(sa, "deletecollection", cms, "a")).toThrow();
  });

  it("system:masters need no bindings; nodes are the Node authorizer's", () => {
    expect(() => authorize({ name: "admin", role: "admin" }, "delete", resourceByName("nodes"), "")).not.toThrow();
    expect(() => authorize({ name: "system:node:n", role: "node", nodeName: "n" }, "create", resourceByName("secrets"), "a")).toThrow();
  });
});

describe("escalation prevention", () => {
  it("covers a requested rule only with rules that grant all of it", () => {
    const owner: PolicyRule[] = [
      { verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "pods/log"] },
      { verbs: ["*"], apiGroups: ["apps"], resources: ["deployments"] },
      { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] },
      { verbs: ["get"], nonResourceURLs: ["/logs/*"] },
    ];
    expect(uncovered(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }])).toEqual([]);
    expect(uncovered(owner, [{ verbs: ["create", "delete"], apiGroups: ["apps"], resources: ["deployments"] }])).toEqual([]);
    expect(uncovered(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] }])).toEqual([]);
    expect(uncovered(owner, [{ verbs: ["get"], nonResourceURLs: ["/logs/x"] }])).toEqual([]);
    // more verbs, all names, a wildcard, another subresource: not held
    expect(uncovered(owner, [{ verbs: ["get", "delete"], apiGroups: [""], resources: ["pods"] }]).map(compactRule)).toEqual([
      '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
    ]);
    expect(uncovered(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["configmaps"] }])).toHaveLength(1);
    expect(uncovered(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["*"] }])).toHaveLength(1);
    expect(uncovered(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["pods/exec"] }])).toHaveLength(1);
    expect(
      uncovered([{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }], [{ verbs: ["get"], apiGroups: ["x"], resources: ["y/z"], resourceNames: ["n"] }]),
    ).toEqual([]);
  });

  it("refuses a Role with rules the writer lacks unless it may escalate, and a binding unless it may bind", () => {
    const view = new RbacView(1, {
      clusterroles: [
        { metadata: { name: "pod-reader" }, rules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }] },
        { metadata: { name: "rbac-escalate" }, rules: [{ verbs: ["escalate", "create"], apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"] }] },
        { metadata: { name: "all" }, rules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }] },
        {
          metadata: { name: "bind-all" },
          rules: [{ verbs: ["bind"], apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], resourceNames: ["all"] }],
        },
      ],
      roles: [],
      rolebindings: [
        rb("a", "u-pods", { kind: "ClusterRole", name: "pod-reader" }, [{ kind: "User", name: "u", apiGroup: "rbac.authorization.k8s.io" }]),
        rb("a", "e-esc", { kind: "ClusterRole", name: "rbac-escalate" }, [{ kind: "User", name: "e" }]),
        rb("a", "b-bind", { kind: "ClusterRole", name: "bind-all" }, [{ kind: "User", name: "b" }]),
      ],
      clusterrolebindings: [],
    });
    const u = (name: string): User => ({ name, groups: ["g"], role: "user", rbac: view });
    const role = (rules: PolicyRule[]): KObject => ({ metadata: { name: "r", namespace: "a" }, rules });
    expect(() => checkEscalation(u("u"), "roles", "a", role([{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }]))).not.toThrow();
    expect(() => checkEscalation(u("u"), "roles", "a", role([{ verbs: ["list"], apiGroups: [""], resources: ["pods"] }]))).toThrow(
      'roles.rbac.authorization.k8s.io "r" is forbidden: user "u" (groups=["g"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["list"]}',
    );
    // held in a, not in b
    expect(() => checkEscalation(u("u"), "roles", "b", role([{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }]))).toThrow();
    expect(() => checkEscalation(u("e"), "roles", "a", role([{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }]))).not.toThrow();
    const binding = (name: string): KObject => rb("a", "x", { kind: "ClusterRole", name }, [{ kind: "User", name: "z" }]);
    expect(() => checkEscalation(u("u"), "rolebindings", "a", binding("pod-reader"))).not.toThrow();
    expect(() => checkEscalation(u("u"), "rolebindings", "a", binding("all"))).toThrow("is attempting to grant RBAC permissions not currently held");
    expect(() => checkEscalation(u("b"), "rolebindings", "a", binding("all"))).not.toThrow();
    expect(() => checkEscalation(u("b"), "rolebindings", "a", binding("rbac-escalate"))).toThrow();
    // aggregated ClusterRoles need escalate
    expect(() => checkEscalation(u("u"), "clusterroles", "", { metadata: { name: "agg" }, aggregationRule: { clusterRoleSelectors: [{}] } })).toThrow(
      "must have cluster-admin privileges to use the aggregationRule",
    );
    // admins are not checked
    expect(() => checkEscalation({ name: "root", role: "admin" }, "roles", "a", role([{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }]))).not.toThrow();
  });
});

describe("ClusterRole aggregation", () => {
  it("unions the rules of the roles the selectors match, in name order, each rule once, never the role itself", () => {
    const r1 = { verbs: ["get"], apiGroups: [""], resources: ["pods"] };
    const r2 = { verbs: ["list"], apiGroups: [""], resources: ["pods"] };
    const roles: KObject[] = [
      { metadata: { name: "agg", labels: { x: "1" } }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: "1" } }] }, rules: [] },
      { metadata: { name: "z", labels: { x: "1" } }, rules: [r2, r1] },
      { metadata: { name: "b", labels: { x: "1" } }, rules: [r1] },
      { metadata: { name: "c", labels: { x: "2" } }, rules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }] },
    ];
    expect(aggregateRules(roles[0], roles)).toEqual([r1, r2]);
    expect(aggregateRules(roles[1], roles)).toBeNull();
  });

  it("fills admin, edit and view from the system:aggregate-to-* roles and each other", () => {
    const roles = bootstrapClusterRoles();
    const get = (n: string) => roles.find((r) => r.metadata.name === n)!;
    const has = (n: string, resource: string, verb: string) => get(n).rules.some((r: PolicyRule) => r.resources?.includes(resource) && r.verbs.includes(verb));
    expect(has("view", "pods", "list")).toBe(true);
    expect(has("view", "secrets", "get")).toBe(false);
    expect(has("edit", "pods", "list")).toBe(true);
    expect(has("edit", "secrets", "create")).toBe(true);
    expect(has("edit", "rolebindings", "create")).toBe(false);
    expect(has("admin", "rolebindings", "create")).toBe(true);
    expect(has("admin", "pods", "list")).toBe(true);
    // already a fixed point: the controller has nothing to change
    const again = structuredClone(roles);
    aggregateAll(again);
    expect(again).toEqual(roles);
  });
});
