/** apimachinery types: the named scalars, ObjectMeta, label selectors, conditions. */
import {
  atomic,
  atomicMap,
  boolean,
  type Field,
  gvk,
  int64,
  keyed,
  listOf,
  namedScalar,
  type ObjectType,
  object,
  oneOf,
  opt,
  req,
  set,
  string,
  stringMap,
} from "./dsl";

// ---------------------------------------------------------------- named scalars

export const Quantity = namedScalar(
  "io.k8s.apimachinery.pkg.api.resource.Quantity",
  "An amount of a resource written as a number with an optional suffix: 100m or 0.5 (CPU cores), 128Mi or 1G (bytes), 1e3. Binary suffixes are Ki, Mi, Gi, Ti, Pi, Ei; decimal ones are n, u, m, k, M, G, T, P, E.",
  "quantity",
  { type: "string" },
);

export const IntOrString = namedScalar(
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
  "A value that is either a whole number or a string, such as a port number or a port name, or a count or a percentage (25%).",
  "int-or-string",
  { type: "string", format: "int-or-string", "x-kubernetes-int-or-string": true },
);

export const Time = namedScalar(
  "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
  "A point in time, written in RFC 3339 form with second precision, such as 2024-05-01T12:00:00Z.",
  "time",
  { type: "string", format: "date-time" },
);

export const MicroTime = namedScalar(
  "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
  "A point in time with microsecond precision, written in RFC 3339 form, such as 2024-05-01T12:00:00.000000Z.",
  "time",
  { type: "string", format: "date-time" },
);

export const FieldsV1 = namedScalar(
  "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
  "A set of field paths, encoded as a JSON object tree; used by server-side apply to record field ownership.",
  "object",
  { type: "object" },
);

// ---------------------------------------------------------------- object metadata

export const OwnerReference = object(
  "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
  "Points at an object this one belongs to. The owner must live in the same namespace, or be cluster-scoped; when every owner is gone, the garbage collector deletes the dependent.",
  {
    apiVersion: req(string, "API version of the owner, such as apps/v1."),
    kind: req(string, "Kind of the owner, such as ReplicaSet."),
    name: req(string, "Name of the owner."),
    uid: req(string, "UID of the owner; the reference only counts while an object with this UID exists."),
    controller: opt(boolean, "True for the single owner that manages this object."),
    blockOwnerDeletion: opt(boolean, "With foreground deletion of the owner, the owner is kept until this dependent is gone."),
  },
  atomicMap,
);

export const ManagedFieldsEntry = object(
  "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
  "Records which fields one manager set, through which operation and API version.",
  {
    manager: opt(string, "Name of the manager, taken from the fieldManager of its requests."),
    operation: opt(string, "Apply or Update: the kind of request that set the fields."),
    apiVersion: opt(string, "API version the fields were written in."),
    time: opt(Time, "When the entry last changed."),
    fieldsType: opt(string, "Encoding of the field set; always FieldsV1."),
    fieldsV1: opt(FieldsV1, "The fields this manager owns."),
    subresource: opt(string, "The subresource the fields were written through, such as status; empty for the main resource."),
  },
);

export const ObjectMeta = object(
  "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
  "Metadata every stored object has: its name and namespace, labels and annotations, owners and finalizers, and the fields the server maintains.",
  {
    name: opt(
      string,
      "Name of the object, unique among objects of its kind in its namespace (or in the cluster for cluster-scoped kinds). Required on create unless generateName is set; cannot be changed.",
    ),
    generateName: opt(string, "Prefix from which the server builds a unique name, by appending random characters, when name is empty."),
    namespace: opt(
      string,
      'Namespace the object lives in, a DNS label. Empty for cluster-scoped kinds; requests default it to the namespace in the URL, or to "default".',
    ),
    selfLink: opt(string, "Deprecated and no longer set."),
    uid: opt(string, "Unique ID the server gives the object on create; never reused, even after deletion. Read-only."),
    resourceVersion: opt(
      string,
      "Opaque revision of the object's last write. Send it back on update for optimistic concurrency (a stale one gets 409 Conflict); also the starting point of watches. Read-only.",
    ),
    generation: opt(int64, "Counter of changes to the desired state, kept by the server. Read-only."),
    creationTimestamp: opt(Time, "When the object was created. Read-only."),
    deletionTimestamp: opt(
      Time,
      "When deletion was requested. The object stays, read-only apart from its finalizers, until they are all removed (or, for pods, until the grace period ends).",
    ),
    deletionGracePeriodSeconds: opt(int64, "Seconds the object was given to shut down when deletion was requested. Read-only."),
    labels: opt(stringMap, "Key/value pairs for organizing and selecting objects; label selectors match on them."),
    annotations: opt(stringMap, "Key/value pairs for tools and people to attach arbitrary data; not used for selection."),
    ownerReferences: opt(
      listOf(OwnerReference),
      "Objects this one depends on. When all of them are deleted, the garbage collector deletes this one; at most one may be the managing controller.",
      {
        "x-kubernetes-list-map-keys": ["uid"],
        "x-kubernetes-list-type": "map",
        "x-kubernetes-patch-merge-key": "uid",
        "x-kubernetes-patch-strategy": "merge",
      },
    ),
    finalizers: opt(
      listOf(string),
      "Names of clean-up steps that must finish before the object is removed. Deleting an object with finalizers only marks it (deletionTimestamp); whoever owns each finalizer removes it when done.",
      set,
      { "x-kubernetes-patch-strategy": "merge" },
    ),
    managedFields: opt(listOf(ManagedFieldsEntry), "Field ownership by manager, kept by server-side apply. Usually not something to edit by hand.", atomic),
  },
);

// ---------------------------------------------------------------- label selectors

/** Operators of label selector requirements, in kube-apiserver's order. */
export const LABEL_SELECTOR_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;

export const LabelSelectorRequirement = object(
  "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
  "One condition on a label: its key, an operator, and the values the operator uses.",
  {
    key: req(string, "The label key the condition applies to."),
    operator: req(oneOf(LABEL_SELECTOR_OPERATORS, { check: false }), "How the label relates to the values: In, NotIn, Exists or DoesNotExist."),
    values: opt(listOf(string), "Values for In and NotIn (at least one); must be empty for Exists and DoesNotExist.", atomic),
  },
);

export const LabelSelector = object(
  "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
  "Picks objects by their labels: every condition must hold. An empty selector matches every object; a missing one matches none.",
  {
    matchLabels: opt(stringMap, "Labels that must be present with exactly these values."),
    matchExpressions: opt(listOf(LabelSelectorRequirement), "Further conditions on labels, all of which must hold.", atomic),
  },
  atomicMap,
);

// ---------------------------------------------------------------- conditions

/** The status values of every condition. */
export const CONDITION_STATUSES = ["True", "False", "Unknown"] as const;

const conditionTimes: Record<string, Field> = {
  lastProbeTime: opt(Time, "When the condition was last checked."),
  lastHeartbeatTime: opt(Time, "When the reporting component last confirmed the condition."),
  lastUpdateTime: opt(Time, "When the condition was last written."),
  lastTransitionTime: opt(Time, "When the status last changed from one value to another."),
};

/**
 * A typed condition of a kind's status (PodCondition, NodeCondition, ...), with the
 * timestamps that kind uses.
 */
export const condition = (name: string, what: string, times: (keyof typeof conditionTimes)[], extra: Record<string, Field> = {}) =>
  object(name, `One aspect of the state of a ${what}, such as whether it is ready, with the reason it is so.`, {
    type: req(string, "Which aspect this condition describes."),
    status: req(oneOf(CONDITION_STATUSES, { check: false }), "True, False or Unknown."),
    ...extra,
    ...Object.fromEntries(times.map((t) => [t, conditionTimes[t]])),
    reason: opt(string, "One CamelCase word explaining the last transition, for machines."),
    message: opt(string, "An explanation of the last transition, for people."),
  });

export const Condition = object(
  "io.k8s.apimachinery.pkg.apis.meta.v1.Condition",
  "The standard shape of a condition: one aspect of an object's state, with the reason for it and when it last changed.",
  {
    type: req(string, "Which aspect this condition describes, in CamelCase."),
    status: req(oneOf(CONDITION_STATUSES, { check: false }), "True, False or Unknown."),
    observedGeneration: opt(int64, "The metadata.generation the condition was computed from."),
    lastTransitionTime: req(Time, "When the status last changed."),
    reason: req(string, "One CamelCase word explaining the last transition."),
    message: req(string, "An explanation of the last transition, for people; may be empty."),
  },
);

/** The conditions list of a status, keyed by type. */
export const conditionsField = (type: Parameters<typeof listOf>[0], description: string) => opt(listOf(type), description, keyed("type"));

/**
 * A top-level kind of `group`/`version` (`group` "" for the core group): the object type
 * io.k8s.api.<group's first label, or core>.<version>.<kind> with the fields apiVersion, kind and
 * `metadata`, then its own `fields`; tagged with its group-version-kind.
 */
export const topLevel = (
  api: { group: string; version: string; metadata: Field },
  kind: string,
  description: string,
  fields: Record<string, Field>,
): ObjectType =>
  object(
    `io.k8s.api.${api.group === "" ? "core" : api.group.split(".")[0]}.${api.version}.${kind}`,
    description,
    {
      apiVersion: opt(string, `API version of the object: ${api.group === "" ? "" : `${api.group}/`}${api.version}.`),
      kind: opt(string, `Kind of the object: ${kind}.`),
      metadata: api.metadata,
      ...fields,
    },
    gvk(api.group, api.version, kind),
  );
