import { z } from "zod";
import { bool, int64, named, str, strList, strMap, Time, keyedList } from "./kit";

export const OwnerReference = named("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference", "Points at the object that owns this one; when the owner is deleted, the garbage collector deletes (or orphans) its dependents.", {
  apiVersion: z.string().describe("API version of the owner."),
  kind: z.string().describe("Kind of the owner."),
  name: z.string().describe("Name of the owner."),
  uid: z.string().describe("UID of the owner: a reference only counts while an object with this UID exists."),
  controller: bool("True for the one owner that manages this object."),
  blockOwnerDeletion: bool("With foreground deletion, the owner waits until this dependent is gone."),
});

export const ManagedFieldsEntry = named("io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry", "Which fields a manager set, and how.", {
  manager: str("Name of the manager (the fieldManager of its requests)."),
  operation: str("Apply or Update."),
  apiVersion: str("API version the fields were written in."),
  time: Time.optional(),
  fieldsType: str("Format of fieldsV1."),
  fieldsV1: z.record(z.string(), z.unknown()).optional(),
  subresource: str("The subresource written, if any."),
});

export const ObjectMeta = named("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "Metadata every stored object carries: its name and namespace, labels and annotations, and the fields the server maintains.", {
  name: str("Unique name within the namespace (or the cluster, for cluster-scoped kinds). Cannot be changed."),
  generateName: str("When name is empty, the server builds a unique name from this prefix plus random characters."),
  namespace: str("The namespace the object lives in; empty for cluster-scoped kinds. Defaults to 'default'."),
  uid: str("Unique ID the server assigns at creation; never reused."),
  resourceVersion: str("Revision of the object's last write. Send it back on updates to get compare-and-swap (409 Conflict when stale)."),
  generation: int64("Counts changes to the desired state (spec); set by the server."),
  creationTimestamp: Time.optional().describe("When the object was created (set by the server)."),
  deletionTimestamp: Time.optional().describe("When deletion was requested; the object stays until its finalizers are gone."),
  deletionGracePeriodSeconds: int64("Seconds the object has to shut down gracefully once deletion was requested."),
  labels: strMap("Key/value pairs used to organize and select objects (label selectors)."),
  annotations: strMap("Key/value pairs for tools and people; not used for selection."),
  ownerReferences: keyedList(OwnerReference, "uid", "The objects this one depends on. When all of them are gone, the garbage collector deletes this one."),
  finalizers: strList("Names of actions that must finish before the object is deleted; the object is only marked for deletion while any remain."),
  managedFields: z.array(ManagedFieldsEntry).describe("Which manager set which fields (server-side apply bookkeeping).").optional(),
  selfLink: str("Deprecated; always empty."),
});

export const LabelSelectorRequirement = named("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", "One condition on a label: a key, an operator and values.", {
  key: z.string().describe("The label key the condition is about."),
  operator: z.string().describe("In, NotIn, Exists or DoesNotExist."),
  values: strList("Values for In and NotIn; must be empty for Exists and DoesNotExist."),
});

export const LabelSelector = named("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", "Selects objects by their labels. All conditions must hold; an empty selector matches everything.", {
  matchLabels: strMap("Labels that must be present with exactly these values."),
  matchExpressions: z.array(LabelSelectorRequirement).describe("Further conditions, all of which must hold.").optional(),
});

export const Condition = (id: string, what: string) =>
  named(id, `One aspect of the ${what}'s state, such as Ready or Available.`, {
    type: z.string().describe("Which condition this is."),
    status: z.string().describe("True, False or Unknown."),
    reason: str("One CamelCase word saying why the condition is in this state."),
    message: str("A human-readable explanation."),
    lastTransitionTime: Time.optional().describe("When the status last changed."),
    lastUpdateTime: Time.optional().describe("When the condition was last written."),
    lastProbeTime: Time.optional().describe("When the condition was last checked."),
    lastHeartbeatTime: Time.optional().describe("When the reporting component last confirmed it."),
    observedGeneration: int64("The generation this condition was computed for."),
  });
