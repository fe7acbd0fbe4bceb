/**
 * rbac.authorization.k8s.io/v1 (Role, ClusterRole, RoleBinding, ClusterRoleBinding),
 * and the bodies of authentication.k8s.io/v1 (TokenRequest, TokenReview,
 * SelfSubjectReview) and authorization.k8s.io/v1 (the access reviews).
 */
import { atomic, boolean, gvk, int64, listOf, type ObjectType, object, opt, req, string, stringMap } from "./dsl";
import { LabelSelector, ObjectMeta, Time, topLevel } from "./meta";

const strings = listOf(string);

export const PolicyRule = object(
  "io.k8s.api.rbac.v1.PolicyRule",
  "What a rule allows: verbs on resources (of API groups, optionally only some names) or on non-resource URLs.",
  {
    verbs: req(strings, "Verbs the rule allows (get, list, watch, create, update, patch, delete, deletecollection, or `*`).", atomic),
    apiGroups: opt(strings, 'API groups of the resources; "" is the core group, `*` all.', atomic),
    resources: opt(strings, "Resources (with subresources: `pods/log`; `*` all, `*/scale` a subresource of all).", atomic),
    resourceNames: opt(strings, "Names the rule is limited to (empty: all).", atomic),
    nonResourceURLs: opt(strings, "Non-resource paths (`/metrics`, `/healthz/*`); only in ClusterRoles bound by ClusterRoleBindings.", atomic),
  },
);

export const AggregationRule = object(
  "io.k8s.api.rbac.v1.AggregationRule",
  "How a ClusterRole is made of others: the union of the rules of the ClusterRoles its selectors match.",
  {
    clusterRoleSelectors: opt(listOf(LabelSelector), "Selectors of the ClusterRoles to aggregate.", atomic),
  },
);

export const RoleRef = object("io.k8s.api.rbac.v1.RoleRef", "The role a binding grants (kind and name).", {
  apiGroup: req(string, "rbac.authorization.k8s.io."),
  kind: req(string, "Role or ClusterRole."),
  name: req(string, "The role's name."),
});

export const Subject = object("io.k8s.api.rbac.v1.Subject", "Who a binding grants the role to: a User, a Group or a ServiceAccount.", {
  kind: req(string, "User, Group or ServiceAccount."),
  apiGroup: opt(string, 'rbac.authorization.k8s.io for User and Group, "" for ServiceAccount.'),
  name: req(string, "The subject's name."),
  namespace: opt(string, "The ServiceAccount's namespace."),
});

const rbac = { group: "rbac.authorization.k8s.io", version: "v1", metadata: opt(ObjectMeta, "Standard object metadata.") };
const authentication = { group: "authentication.k8s.io", version: "v1", metadata: opt(ObjectMeta, "Standard object metadata.") };
const authorization = { group: "authorization.k8s.io", version: "v1", metadata: opt(ObjectMeta, "Standard object metadata.") };

export const Role = topLevel(rbac, "Role", "Rules granting access to resources of one namespace, by RoleBindings.", {
  rules: opt(listOf(PolicyRule), "The rules.", atomic),
});
export const ClusterRole = topLevel(rbac, "ClusterRole", "Rules granting access cluster-wide (by ClusterRoleBindings) or in a namespace (by RoleBindings).", {
  rules: opt(listOf(PolicyRule), "The rules (of an aggregated role: the controller's).", atomic),
  aggregationRule: opt(AggregationRule, "Makes this role the union of others (its rules are then kept by the controller)."),
});
export const RoleBinding = topLevel(rbac, "RoleBinding", "Grants a Role or ClusterRole to subjects in the binding's namespace.", {
  subjects: opt(listOf(Subject), "Who gets the role.", atomic),
  roleRef: opt(RoleRef, "The role granted (immutable)."),
});
export const ClusterRoleBinding = topLevel(rbac, "ClusterRoleBinding", "Grants a ClusterRole to subjects in every namespace and cluster-wide.", {
  subjects: opt(listOf(Subject), "Who gets the role.", atomic),
  roleRef: opt(RoleRef, "The ClusterRole granted (immutable)."),
});

// ---- authentication.k8s.io/v1 and authorization.k8s.io/v1 request bodies (create-only)

export const ResourceAttributes = object("io.k8s.api.authorization.v1.ResourceAttributes", "A resource request to check (verb, group, resource, name).", {
  namespace: opt(string, "Namespace (empty: all namespaces or cluster-scoped)."),
  verb: opt(string, "The verb (get, list, create, ...)."),
  group: opt(string, "The API group."),
  version: opt(string, "The API version."),
  resource: opt(string, "The resource."),
  subresource: opt(string, "The subresource."),
  name: opt(string, "The object's name."),
});
export const NonResourceAttributes = object("io.k8s.api.authorization.v1.NonResourceAttributes", "A non-resource request to check (a path and a verb).", {
  path: opt(string, "The URL path."),
  verb: opt(string, "The verb (get, post, ...)."),
});
export const SubjectAccessReviewStatus = object("io.k8s.api.authorization.v1.SubjectAccessReviewStatus", "Whether the request would be allowed.", {
  allowed: req(boolean, "Whether the request is allowed."),
  denied: opt(boolean, "Whether the request is explicitly denied."),
  reason: opt(string, "Why it is (not) allowed."),
  evaluationError: opt(string, "An error while deciding."),
});

/** A review of `group`/v1 (authorization.k8s.io or authentication.k8s.io): a request (spec), the server's answer (status). */
const review = (kind: string, group: string, description: string, spec: ObjectType, status: ObjectType) =>
  topLevel({ group, version: "v1", metadata: opt(ObjectMeta, "Standard object metadata.") }, kind, description, {
    spec: opt(spec, "The request."),
    status: opt(status, "The answer (set by the server)."),
  });

export const SelfSubjectAccessReviewSpec = object("io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec", "What to check for the requesting user.", {
  resourceAttributes: opt(ResourceAttributes, "A resource request."),
  nonResourceAttributes: opt(NonResourceAttributes, "A non-resource request."),
});
export const SubjectAccessReviewSpec = object("io.k8s.api.authorization.v1.SubjectAccessReviewSpec", "What to check, for whom.", {
  resourceAttributes: opt(ResourceAttributes, "A resource request."),
  nonResourceAttributes: opt(NonResourceAttributes, "A non-resource request."),
  user: opt(string, "The user."),
  groups: opt(strings, "The user's groups.", atomic),
  extra: opt(stringMap, "The user's extra information."),
  uid: opt(string, "The user's uid."),
});

export const SelfSubjectAccessReview = review(
  "SelfSubjectAccessReview",
  "authorization.k8s.io",
  "Whether the requesting user may do something (`kubectl auth can-i`).",
  SelfSubjectAccessReviewSpec,
  SubjectAccessReviewStatus,
);
export const SubjectAccessReview = review(
  "SubjectAccessReview",
  "authorization.k8s.io",
  "Whether a user may do something.",
  SubjectAccessReviewSpec,
  SubjectAccessReviewStatus,
);
export const LocalSubjectAccessReview = review(
  "LocalSubjectAccessReview",
  "authorization.k8s.io",
  "Whether a user may do something in this namespace.",
  SubjectAccessReviewSpec,
  SubjectAccessReviewStatus,
);

export const UserInfo = object("io.k8s.api.authentication.v1.UserInfo", "Who a user is: name, uid, groups.", {
  username: opt(string, "The user name."),
  uid: opt(string, "The user's uid."),
  groups: opt(strings, "The user's groups.", atomic),
  extra: opt(stringMap, "The user's extra information."),
});
export const SelfSubjectReview = topLevel(authentication, "SelfSubjectReview", "Who the requesting user is (`kubectl auth whoami`).", {
  status: opt(
    object("io.k8s.api.authentication.v1.SelfSubjectReviewStatus", "Who the requesting user is.", { userInfo: opt(UserInfo, "The user.") }),
    "The answer.",
  ),
});

export const TokenRequest = object(
  "io.k8s.api.authentication.v1.TokenRequest",
  "A token for a ServiceAccount (POST serviceaccounts/<name>/token).",
  {
    apiVersion: opt(string, "authentication.k8s.io/v1."),
    kind: opt(string, "TokenRequest."),
    metadata: opt(ObjectMeta, "Standard object metadata."),
    spec: opt(
      object("io.k8s.api.authentication.v1.TokenRequestSpec", "What token to make: audiences, lifetime, binding.", {
        audiences: opt(strings, "Audiences the token is for (default: the API server's).", atomic),
        expirationSeconds: opt(int64, "Lifetime in seconds (default 3600, at least 600)."),
        boundObjectRef: opt(
          object("io.k8s.api.authentication.v1.BoundObjectReference", "The object the token is bound to.", {
            kind: opt(string, "Pod or Secret."),
            apiVersion: opt(string, "The referent's API version: v1."),
            name: opt(string, "The referent's name."),
            uid: opt(string, "The referent's uid."),
          }),
          "A Pod or Secret the token lives and dies with.",
        ),
      }),
      "The request.",
    ),
    status: opt(
      object("io.k8s.api.authentication.v1.TokenRequestStatus", "The token made, and when it expires.", {
        token: req(string, "The token."),
        expirationTimestamp: req(Time, "When it expires."),
      }),
      "The token.",
    ),
  },
  gvk("authentication.k8s.io", "v1", "TokenRequest"),
);

export const SelfSubjectRulesReview = topLevel(
  authorization,
  "SelfSubjectRulesReview",
  "The rules the requesting user has in a namespace (`kubectl auth can-i --list`).",
  {
    spec: opt(
      object("io.k8s.api.authorization.v1.SelfSubjectRulesReviewSpec", "The namespace whose rules to list.", { namespace: opt(string, "The namespace.") }),
      "The request.",
    ),
    status: opt(
      object("io.k8s.api.authorization.v1.SubjectRulesReviewStatus", "The rules the user has there.", {
        resourceRules: req(listOf(PolicyRule), "Resource rules.", atomic),
        nonResourceRules: req(listOf(PolicyRule), "Non-resource rules.", atomic),
        incomplete: req(boolean, "Whether the list may be incomplete."),
        evaluationError: opt(string, "An error while listing."),
      }),
      "The answer.",
    ),
  },
);

export const TokenReview = topLevel(authentication, "TokenReview", "Who a token belongs to.", {
  spec: opt(
    object("io.k8s.api.authentication.v1.TokenReviewSpec", "The token to review.", {
      token: opt(string, "The token."),
      audiences: opt(strings, "Audiences the caller accepts.", atomic),
    }),
    "The request.",
  ),
  status: opt(
    object("io.k8s.api.authentication.v1.TokenReviewStatus", "Whether the token is valid, and whose it is.", {
      authenticated: opt(boolean, "Whether the token is valid."),
      user: opt(UserInfo, "Its user."),
      audiences: opt(strings, "Its audiences.", atomic),
      error: opt(string, "Why the token is not valid."),
    }),
    "The answer.",
  ),
});
