/** apps/v1: Deployment and ReplicaSet. */
import { atomic, boolean, int32, int64, json, listOf, object, oneOf, opt, req, string } from "./dsl";
import { PersistentVolumeClaim } from "./storage";
import { condition, conditionsField, IntOrString, LabelSelector, ObjectMeta, topLevel } from "./meta";
import { PodTemplateSpec } from "./pod";

export const DEPLOYMENT_STRATEGIES = ["Recreate", "RollingUpdate"] as const;

const apps = {
  group: "apps",
  version: "v1",
  metadata: opt(ObjectMeta, "Standard object metadata: name, namespace, labels, annotations and the fields the server maintains."),
};

export const RollingUpdateDeployment = object("io.k8s.api.apps.v1.RollingUpdateDeployment", "How fast a rolling update swaps old pods for new ones.", {
  maxUnavailable: opt(
    IntOrString,
    "Pods that may be unavailable during the update, as a number or a percentage of replicas (rounded down); defaults to 25%. Cannot be 0 when maxSurge is 0.",
    {
      "x-kubernetes-int-or-string": true,
    },
  ),
  maxSurge: opt(
    IntOrString,
    "Pods that may be created above the desired count during the update, as a number or a percentage of replicas (rounded up); defaults to 25%.",
    {
      "x-kubernetes-int-or-string": true,
    },
  ),
});

export const DeploymentStrategy = object("io.k8s.api.apps.v1.DeploymentStrategy", "How a Deployment replaces old pods with new ones.", {
  type: opt(
    oneOf(DEPLOYMENT_STRATEGIES, { check: false }),
    "RollingUpdate (the default) replaces pods gradually; Recreate deletes all old pods before creating new ones.",
  ),
  rollingUpdate: opt(RollingUpdateDeployment, "Pace of a rolling update; only with type RollingUpdate."),
});

export const DeploymentSpec = object("io.k8s.api.apps.v1.DeploymentSpec", "The pods a Deployment should run and how it rolls out changes to them.", {
  replicas: opt(int32, "Number of pods to run; defaults to 1."),
  selector: req(LabelSelector, "Labels of the pods it manages. Must match the template's labels, and cannot change."),
  template: req(PodTemplateSpec, "The pods to run. Any change to it starts a rollout; its restartPolicy must be Always."),
  strategy: opt(DeploymentStrategy, "How old pods are replaced with new ones.", { "x-kubernetes-patch-strategy": "retainKeys" }),
  minReadySeconds: opt(int32, "Seconds a new pod must be ready, without crashing, to count as available."),
  revisionHistoryLimit: opt(int32, "Old ReplicaSets kept for rollbacks; defaults to 10."),
  paused: opt(boolean, "While true, changes to the template are not rolled out."),
  progressDeadlineSeconds: opt(int32, "Seconds a rollout may go without progress before it is reported as failed (ProgressDeadlineExceeded); defaults to 600."),
});

export const DeploymentCondition = condition("io.k8s.api.apps.v1.DeploymentCondition", "Deployment (Available, Progressing, ReplicaFailure)", [
  "lastUpdateTime",
  "lastTransitionTime",
]);

export const DeploymentStatus = object("io.k8s.api.apps.v1.DeploymentStatus", "The observed state of a Deployment's rollout.", {
  observedGeneration: opt(int64, "The metadata.generation last acted on."),
  replicas: opt(int32, "Pods of all its ReplicaSets, old and new."),
  updatedReplicas: opt(int32, "Pods made from the current template."),
  readyReplicas: opt(int32, "Pods that are ready."),
  availableReplicas: opt(int32, "Pods ready for at least minReadySeconds."),
  unavailableReplicas: opt(int32, "Pods still missing to reach the desired count."),
  terminatingReplicas: opt(int32, "Pods being deleted."),
  conditions: conditionsField(DeploymentCondition, "Available, Progressing and ReplicaFailure."),
  collisionCount: opt(int32, "Name collisions met when naming new ReplicaSets; feeds the pod template hash."),
});

export const Deployment = topLevel(
  apps,
  "Deployment",
  "Declarative updates for pods: a Deployment keeps one ReplicaSet per version of its pod template and moves pods from old versions to the current one.",
  {
    spec: opt(DeploymentSpec, "The desired pods and how to roll out changes."),
    status: opt(DeploymentStatus, "The observed state of the rollout."),
  },
);

export const ReplicaSetSpec = object("io.k8s.api.apps.v1.ReplicaSetSpec", "How many pods to keep, which pods count, and the template new ones are made from.", {
  replicas: opt(int32, "Number of pods to keep running; defaults to 1."),
  minReadySeconds: opt(int32, "Seconds a new pod must be ready, without crashing, to count as available."),
  selector: req(LabelSelector, "Labels of the pods it manages; must match the template's labels."),
  template: opt(PodTemplateSpec, "The pods it creates."),
});

export const ReplicaSetCondition = condition("io.k8s.api.apps.v1.ReplicaSetCondition", "ReplicaSet", ["lastTransitionTime"]);

export const ReplicaSetStatus = object("io.k8s.api.apps.v1.ReplicaSetStatus", "The observed state of a ReplicaSet.", {
  replicas: req(int32, "Pods that exist."),
  fullyLabeledReplicas: opt(int32, "Pods whose labels match the template's."),
  readyReplicas: opt(int32, "Pods that are ready."),
  availableReplicas: opt(int32, "Pods ready for at least minReadySeconds."),
  terminatingReplicas: opt(int32, "Pods being deleted."),
  observedGeneration: opt(int64, "The metadata.generation last acted on."),
  conditions: conditionsField(ReplicaSetCondition, "Conditions of the ReplicaSet, such as ReplicaFailure."),
});

export const ReplicaSet = topLevel(
  apps,
  "ReplicaSet",
  "Keeps a number of identical pods running, replacing those that fail or are deleted. Usually owned and managed by a Deployment.",
  {
    spec: opt(ReplicaSetSpec, "How many pods, which pods, and from what template."),
    status: opt(ReplicaSetStatus, "The observed state."),
  },
);

export const DAEMONSET_UPDATE_STRATEGIES = ["OnDelete", "RollingUpdate"] as const;

export const RollingUpdateDaemonSet = object("io.k8s.api.apps.v1.RollingUpdateDaemonSet", "How fast a rolling update replaces a DaemonSet's pods.", {
  maxUnavailable: opt(IntOrString, "Nodes whose daemon pod may be unavailable during the update, as a number or a percentage of nodes; defaults to 1.", {
    "x-kubernetes-int-or-string": true,
  }),
  maxSurge: opt(
    IntOrString,
    "Nodes that may run an old and a new daemon pod at once during the update, as a number or a percentage; defaults to 0. maxUnavailable and maxSurge cannot both be 0.",
    { "x-kubernetes-int-or-string": true },
  ),
});

export const DaemonSetUpdateStrategy = object("io.k8s.api.apps.v1.DaemonSetUpdateStrategy", "How a DaemonSet replaces its pods when the template changes.", {
  type: opt(
    oneOf(DAEMONSET_UPDATE_STRATEGIES, { check: false }),
    "RollingUpdate (the default) replaces pods node by node; OnDelete only when a pod is deleted.",
  ),
  rollingUpdate: opt(RollingUpdateDaemonSet, "Pace of a rolling update; only with type RollingUpdate."),
});

export const DaemonSetSpec = object("io.k8s.api.apps.v1.DaemonSetSpec", "The pod a DaemonSet runs on every eligible node.", {
  selector: req(LabelSelector, "Labels of its pods; must match the template's labels, and cannot change."),
  template: req(PodTemplateSpec, "The pod to run on each node (nodeSelector and affinity pick the nodes); restartPolicy must be Always."),
  updateStrategy: opt(DaemonSetUpdateStrategy, "How pods are replaced when the template changes."),
  minReadySeconds: opt(int32, "Seconds a new pod must be ready, without crashing, to count as available."),
  revisionHistoryLimit: opt(int32, "Old revisions kept for rollbacks; defaults to 10."),
});

export const DaemonSetCondition = condition("io.k8s.api.apps.v1.DaemonSetCondition", "DaemonSet", ["lastTransitionTime"]);

export const DaemonSetStatus = object("io.k8s.api.apps.v1.DaemonSetStatus", "The observed state of a DaemonSet.", {
  currentNumberScheduled: req(int32, "Nodes that run at least one daemon pod and should."),
  numberMisscheduled: req(int32, "Nodes that run a daemon pod but shouldn't."),
  desiredNumberScheduled: req(int32, "Nodes that should run the daemon pod."),
  numberReady: req(int32, "Nodes whose daemon pod is ready."),
  observedGeneration: opt(int64, "The metadata.generation last acted on."),
  updatedNumberScheduled: opt(int32, "Nodes running the daemon pod of the current template."),
  numberAvailable: opt(int32, "Nodes whose daemon pod has been ready for minReadySeconds."),
  numberUnavailable: opt(int32, "Nodes that should run an available daemon pod and don't."),
  collisionCount: opt(int32, "Hash collisions met when naming revisions."),
  conditions: conditionsField(DaemonSetCondition, "Conditions of the DaemonSet."),
});

export const DaemonSet = topLevel(
  apps,
  "DaemonSet",
  "Runs a copy of a pod on every eligible node: as nodes join, they get one; as they leave, their pod goes.",
  {
    spec: opt(DaemonSetSpec, "The daemon pod and the update strategy."),
    status: opt(DaemonSetStatus, "The observed state."),
  },
);

export const ControllerRevision = topLevel(
  apps,
  "ControllerRevision",
  "An immutable snapshot of state data, as DaemonSets and StatefulSets keep one per version of their pod template for rollbacks (kubectl rollout history/undo).",
  {
    data: opt(json, "The serialized state: for DaemonSets and StatefulSets a strategic merge patch that restores spec.template. Cannot change."),
    revision: req(int64, "The revision number this snapshot represents."),
  },
);

export const STATEFULSET_POD_MANAGEMENT = ["OrderedReady", "Parallel"] as const;
export const STATEFULSET_UPDATE_STRATEGIES = ["OnDelete", "RollingUpdate"] as const;
export const PVC_RETENTION_POLICIES = ["Retain", "Delete"] as const;

export const RollingUpdateStatefulSetStrategy = object(
  "io.k8s.api.apps.v1.RollingUpdateStatefulSetStrategy",
  "How a rolling update replaces a StatefulSet's pods.",
  {
    partition: opt(int32, "Only pods with an ordinal at or above the partition are updated; the others keep the old template. Defaults to 0."),
    maxUnavailable: opt(
      IntOrString,
      "Pods that may be unavailable during the update (a number or a percentage); defaults to 1. Alpha in Kubernetes; Kubeflare updates one pod at a time.",
      {
        "x-kubernetes-int-or-string": true,
      },
    ),
  },
);

export const StatefulSetUpdateStrategy = object(
  "io.k8s.api.apps.v1.StatefulSetUpdateStrategy",
  "How a StatefulSet replaces its pods when the template changes.",
  {
    type: opt(
      oneOf(STATEFULSET_UPDATE_STRATEGIES, { check: false }),
      "RollingUpdate (the default) replaces pods from the highest ordinal down, one at a time; OnDelete only when a pod is deleted.",
    ),
    rollingUpdate: opt(RollingUpdateStatefulSetStrategy, "Parameters of a rolling update; only with type RollingUpdate."),
  },
);

export const StatefulSetPersistentVolumeClaimRetentionPolicy = object(
  "io.k8s.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy",
  "What happens to the claims made from volumeClaimTemplates when the StatefulSet is deleted or scaled down.",
  {
    whenDeleted: opt(
      oneOf(PVC_RETENTION_POLICIES, { check: false }),
      "Retain (the default) keeps the claims when the StatefulSet is deleted; Delete removes them.",
    ),
    whenScaled: opt(
      oneOf(PVC_RETENTION_POLICIES, { check: false }),
      "Retain (the default) keeps the claims of pods removed by a scale down; Delete removes them.",
    ),
  },
);

export const StatefulSetOrdinals = object("io.k8s.api.apps.v1.StatefulSetOrdinals", "The numbering of a StatefulSet's pods.", {
  start: opt(int32, "The first ordinal; defaults to 0. Pods are numbered start..start+replicas-1."),
});

export const StatefulSetSpec = object("io.k8s.api.apps.v1.StatefulSetSpec", "Pods with stable names, ordinals and storage, created and updated in order.", {
  replicas: opt(int32, "Number of pods; defaults to 1."),
  selector: req(LabelSelector, "Labels of its pods; must match the template's labels, and cannot change."),
  template: req(PodTemplateSpec, "The pods to run, named <statefulset>-<ordinal>; restartPolicy must be Always."),
  volumeClaimTemplates: opt(
    listOf(PersistentVolumeClaim),
    "PersistentVolumeClaims made for every pod, named <template>-<statefulset>-<ordinal>, and mounted as the volume of the template's name.",
    atomic,
  ),
  serviceName: opt(string, "The headless Service that gives the pods their DNS names (<pod>.<serviceName>.<namespace>.svc)."),
  podManagementPolicy: opt(
    oneOf(STATEFULSET_POD_MANAGEMENT, { check: false }),
    "OrderedReady (the default) creates pods one at a time in order, each Running and Ready before the next, and removes them in reverse; Parallel creates and deletes them all at once.",
  ),
  updateStrategy: opt(StatefulSetUpdateStrategy, "How pods are replaced when the template changes."),
  revisionHistoryLimit: opt(int32, "Old ControllerRevisions kept for rollbacks; defaults to 10."),
  minReadySeconds: opt(int32, "Seconds a new pod must be ready, without crashing, to count as available; defaults to 0."),
  persistentVolumeClaimRetentionPolicy: opt(
    StatefulSetPersistentVolumeClaimRetentionPolicy,
    "What happens to the claims when pods go away; Retain/Retain by default.",
  ),
  ordinals: opt(StatefulSetOrdinals, "The numbering of the pods."),
});

export const StatefulSetCondition = condition("io.k8s.api.apps.v1.StatefulSetCondition", "StatefulSet", ["lastTransitionTime"]);

export const StatefulSetStatus = object("io.k8s.api.apps.v1.StatefulSetStatus", "The observed state of a StatefulSet.", {
  observedGeneration: opt(int64, "The metadata.generation last acted on."),
  replicas: req(int32, "Pods that exist."),
  readyReplicas: opt(int32, "Pods that are ready."),
  currentReplicas: opt(int32, "Pods made from currentRevision."),
  updatedReplicas: opt(int32, "Pods made from updateRevision."),
  availableReplicas: opt(int32, "Pods ready for at least minReadySeconds."),
  currentRevision: opt(string, "The ControllerRevision of the pods 0..(replicas - updatedReplicas - 1)."),
  updateRevision: opt(string, "The ControllerRevision of the current template."),
  collisionCount: opt(int32, "Hash collisions met when naming ControllerRevisions."),
  conditions: conditionsField(StatefulSetCondition, "Conditions of the StatefulSet."),
});

export const StatefulSet = topLevel(
  apps,
  "StatefulSet",
  "Pods with stable identities (web-0, web-1, ...), each with its own storage and DNS name, created, scaled and updated in order.",
  {
    spec: opt(StatefulSetSpec, "The pods and how they are managed."),
    status: opt(StatefulSetStatus, "The observed state."),
  },
);
