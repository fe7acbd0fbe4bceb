/** rbac.authorization.k8s.io/v1 rules, as kube-apiserver's pkg/apis/rbac/validation words them. */
import type { Causes } from "../causes";
import { child, index } from "../causes";
import type { NameValidator } from "../names";
import { arr, isObj, type Obj, obj, str } from "./json";

const GROUP = "rbac.authorization.k8s.io";

/** RBAC object names are path segments (`system:discovery` is fine): not `.` or `..`, no `/` or `%` (kube's ValidateRBACName). */
export const nameIsPathSegment: NameValidator = (name, prefix) => {
  if (!prefix && (name === "." || name === "..")) return [`may not be '${name}'`];
  for (const bad of ["/", "%"]) if (name.includes(bad)) return [`may not contain '${bad}'`];
  // Kubeflare's addition: a name is a visible ASCII word of at most 253 characters (no control characters, no broken Unicode)
  if (name.length > 253) return ["must be no more than 253 characters"];
  if (!/^[\x21-\x7e]*$/.test(name)) return ["must consist of printable ASCII characters"];
  return [];
};

const goStrings = (v: unknown[]) => `[]string{${v.map((s) => JSON.stringify(s)).join(", ")}}`;

const validateRule = (r: Obj, path: string, namespaced: boolean, c: Causes) => {
  if (!arr(r.verbs).length) c.required(child(path, "verbs"), "verbs must contain at least one value");
  const urls = arr(r.nonResourceURLs);
  if (urls.length) {
    if (namespaced) c.invalid(child(path, "nonResourceURLs"), goStrings(urls), "namespaced rules cannot apply to non-resource URLs");
    if (arr(r.apiGroups).length || arr(r.resources).length || arr(r.resourceNames).length)
      c.invalid(child(path, "nonResourceURLs"), goStrings(urls), "rules cannot apply to both regular resources and non-resource URLs");
    return;
  }
  if (!arr(r.apiGroups).length) c.required(child(path, "apiGroups"), "resource rules must supply at least one api group");
  if (!arr(r.resources).length) c.required(child(path, "resources"), "resource rules must supply at least one resource");
};

const validateRules = (o: Obj, namespaced: boolean, c: Causes) => arr(o.rules).forEach((r, i) => validateRule(obj(r), index("rules", i), namespaced, c));

export const validateRole = (o: Obj, c: Causes) => validateRules(o, true, c);

export const validateClusterRole = (o: Obj, c: Causes) => {
  validateRules(o, false, c);
  if (isObj(o.aggregationRule) && !arr(o.aggregationRule.clusterRoleSelectors).length)
    c.required("aggregationRule.clusterRoleSelectors", "at least one clusterRoleSelector required if aggregationRule is non-nil");
};

const validateBinding = (o: Obj, namespaced: boolean, c: Causes) => {
  const ref = obj(o.roleRef);
  if (!isObj(o.roleRef)) c.required("roleRef");
  else {
    if (str(ref.apiGroup) !== GROUP) c.notSupported("roleRef.apiGroup", str(ref.apiGroup), [GROUP]);
    const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
    if (!kinds.includes(str(ref.kind))) c.notSupported("roleRef.kind", str(ref.kind), kinds);
    if (!str(ref.name)) c.required("roleRef.name");
    else {
      const errs = nameIsPathSegment(str(ref.name), false);
      for (const e of errs) c.invalid("roleRef.name", str(ref.name), e);
    }
  }
  arr(o.subjects).forEach((s0, i) => {
    const s = obj(s0);
    const path = index("subjects", i);
    if (!str(s.name)) c.required(child(path, "name"));
    switch (str(s.kind)) {
      case "ServiceAccount":
        if (str(s.apiGroup) !== "") c.notSupported(child(path, "apiGroup"), str(s.apiGroup), [""]);
        if (!namespaced && !str(s.namespace)) c.required(child(path, "namespace"));
        break;
      case "User":
      case "Group":
        if (str(s.apiGroup) !== GROUP) c.notSupported(child(path, "apiGroup"), str(s.apiGroup), [GROUP]);
        break;
      default:
        c.notSupported(child(path, "kind"), str(s.kind), ["ServiceAccount", "User", "Group"]);
    }
  });
};

export const validateRoleBinding = (o: Obj, c: Causes) => validateBinding(o, true, c);
export const validateClusterRoleBinding = (o: Obj, c: Causes) => validateBinding(o, false, c);
