/** LimitRange and ResourceQuota (core/v1): per-object limits and per-namespace budgets. */
import { atomic, gvk, listOf, mapOf, object, opt, req, string } from "./dsl";
import { ObjectMeta, Quantity } from "./meta";

const meta = opt(ObjectMeta, "Standard object metadata: name, namespace, labels, annotations and the fields the server maintains.");
const resourceList = (description: string) => opt(mapOf(Quantity), description);

// ---------------------------------------------------------------- LimitRange

export const LimitRangeItem = object(
  "io.k8s.api.core.v1.LimitRangeItem",
  "The limits of one kind of object (Container, Pod or PersistentVolumeClaim), per resource.",
  {
    type: req(
      string,
      "What the limits apply to: Container (each container of a pod), Pod (the sum over its containers) or PersistentVolumeClaim (its storage request).",
    ),
    max: resourceList("Most of each resource: a container's (or pod's) limit and request may not be above it; a claim's storage request may not be above it."),
    min: resourceList("Least of each resource: a container's (or pod's) request and limit may not be below it; a claim's storage request may not be below it."),
    default: resourceList("The limits a container gets for resources it names no limit for (type Container only)."),
    defaultRequest: resourceList("The requests a container gets for resources it names no request for (type Container only)."),
    maxLimitRequestRatio: resourceList("Largest limit-to-request ratio of each resource: limit / request may not be above it."),
  },
);

export const LimitRangeSpec = object("io.k8s.api.core.v1.LimitRangeSpec", "The limits of a namespace's objects.", {
  limits: req(listOf(LimitRangeItem), "The limits, one item per type of object.", atomic),
});

export const LimitRange = object(
  "io.k8s.api.core.v1.LimitRange",
  "Limits on the resources each pod, container and claim of a namespace may ask for, and the defaults containers get (the LimitRanger admission plugin applies them when the object is created).",
  {
    apiVersion: opt(string, "API version of the object: v1."),
    kind: opt(string, "Kind of the object: LimitRange."),
    metadata: meta,
    spec: opt(LimitRangeSpec, "The limits enforced."),
  },
  gvk("", "v1", "LimitRange"),
);

// ---------------------------------------------------------------- ResourceQuota

export const ScopedResourceSelectorRequirement = object(
  "io.k8s.api.core.v1.ScopedResourceSelectorRequirement",
  "A scope name, an operator and values: which objects a quota tracks.",
  {
    scopeName: req(string, "The scope: Terminating, NotTerminating, BestEffort, NotBestEffort, PriorityClass or CrossNamespacePodAffinity."),
    operator: req(string, "How the scope relates to the values: In, NotIn, Exists or DoesNotExist."),
    values: opt(listOf(string), "Values (of PriorityClass: priority class names); non-empty for In and NotIn, empty for Exists and DoesNotExist.", atomic),
  },
);

export const ScopeSelector = object(
  "io.k8s.api.core.v1.ScopeSelector",
  "Requirements on scopes, ANDed: a quota with one tracks only the objects that meet them all.",
  {
    matchExpressions: opt(listOf(ScopedResourceSelectorRequirement), "The requirements, ANDed.", atomic),
  },
  { "x-kubernetes-map-type": "atomic" },
);

export const ResourceQuotaSpec = object("io.k8s.api.core.v1.ResourceQuotaSpec", "The budget of a namespace.", {
  hard: resourceList(
    "The most of each named resource the namespace may use: pods, requests.cpu, limits.memory, requests.storage, services, count/deployments.apps and so on.",
  ),
  scopes: opt(
    listOf(string),
    "Only objects in all of these scopes are tracked: Terminating, NotTerminating, BestEffort, NotBestEffort (pod scopes; a scoped quota tracks pods only).",
    atomic,
  ),
  scopeSelector: opt(ScopeSelector, "Like scopes, with operators and values (PriorityClass In [high])."),
});

export const ResourceQuotaStatus = object("io.k8s.api.core.v1.ResourceQuotaStatus", "The enforced budget and what is used of it.", {
  hard: resourceList("The enforced hard limits (spec.hard, once the quota controller has seen it)."),
  used: resourceList("What the namespace uses of each resource in hard."),
});

export const ResourceQuota = object(
  "io.k8s.api.core.v1.ResourceQuota",
  "A budget for a namespace: the most of each resource its objects may use together. Creates that would go over it are refused (403 Forbidden).",
  {
    apiVersion: opt(string, "API version of the object: v1."),
    kind: opt(string, "Kind of the object: ResourceQuota."),
    metadata: meta,
    spec: opt(ResourceQuotaSpec, "The budget."),
    status: opt(ResourceQuotaStatus, "The enforced budget and the usage, kept by the resource quota controller and the admission."),
  },
  gvk("", "v1", "ResourceQuota"),
);
