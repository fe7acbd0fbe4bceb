/**
 * What the signed-in user may do, asked of the API as `kubectl auth can-i` asks it: a
 * SelfSubjectAccessReview per (verb, group, resource, namespace), memoized for the
 * request (a page asks the same question once per namespace, not once per row). It only
 * decides which buttons a page shows; the API decides every write again (403).
 */
import type { Kube } from "./kube";

/** may the user `verb` `resource` (e.g. "deployments/scale") of `group` in `namespace` (cluster-scoped: none)? */
export type Can = (verb: string, group: string, resource: string, namespace?: string) => Promise<boolean>;

const WRITE_VERBS = new Set(["create", "update", "patch", "delete", "*"]);
/** every user may create reviews about itself (system:basic-user): no write of the cluster's */
const REVIEW_GROUPS = new Set(["authorization.k8s.io", "authentication.k8s.io"]);

export const accessOf = (kube: Kube): Can & { anyWrite(namespace: string): Promise<boolean> } => {
  const memo = new Map<string, Promise<boolean>>();
  const can = (verb: string, group: string, resource: string, namespace = ""): Promise<boolean> => {
    const key = `${verb} ${group} ${resource} ${namespace}`;
    let p = memo.get(key);
    if (!p) {
      const [res, subresource] = resource.split("/");
      p = kube
        .call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectAccessReview",
          spec: { resourceAttributes: { verb, group, resource: res, subresource: subresource ?? "", namespace } },
        })
        .then((r) => r?.status?.allowed === true)
        .catch(() => false);
      memo.set(key, p);
    }
    return p;
  };
  const rules = new Map<string, Promise<boolean>>();
  /** may the user write anything in `namespace`? (a SelfSubjectRulesReview: any rule with a write verb) */
  const anyWrite = (namespace: string): Promise<boolean> => {
    let p = rules.get(namespace);
    if (!p) {
      p = kube
        .call("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectRulesReview",
          spec: { namespace },
        })
        .then((r) =>
          (r?.status?.resourceRules ?? []).some(
            (rule: any) => (rule.verbs ?? []).some((v: string) => WRITE_VERBS.has(v)) && (rule.apiGroups ?? []).some((g: string) => !REVIEW_GROUPS.has(g)),
          ),
        )
        .catch(() => false);
      rules.set(namespace, p);
    }
    return p;
  };
  return Object.assign(can, { anyWrite });
};

/** The answers a page needs, asked together: `{ key: [verb, group, resource, namespace?] }` → `{ key: boolean }`. */
export const ask = async <K extends string>(can: Can, q: Record<K, [string, string, string, string?]>): Promise<Record<K, boolean>> => {
  const keys = Object.keys(q) as K[];
  const answers = await Promise.all(keys.map((k) => can(q[k][0], q[k][1], q[k][2], q[k][3])));
  return Object.fromEntries(keys.map((k, i) => [k, answers[i]])) as Record<K, boolean>;
};
