import { z } from "zod";
import { PodTemplateSpec } from "./core";
import { atomicList, bool, gvk, int32, int64, IntOrString, keyedList, MicroTime, named, str, Time, TYPE_META } from "./kit";
import { Condition, LabelSelector, ObjectMeta } from "./meta";

const meta = ObjectMeta.optional().describe("Standard object metadata: name, namespace, labels, annotations and server-maintained fields.");

const RollingUpdateDeployment = named("io.k8s.api.apps.v1.RollingUpdateDeployment", "How fast a rolling update replaces old pods with new ones.", {
  maxUnavailable: IntOrString.optional().describe("Pods that may be unavailable during the update: a number or a percentage of replicas (rounded down). Default 25%."),
  maxSurge: IntOrString.optional().describe("Pods that may exist above the desired count during the update: a number or a percentage (rounded up). Default 25%."),
});
const DeploymentStrategy = named("io.k8s.api.apps.v1.DeploymentStrategy", "How a Deployment replaces old pods with new ones.", {
  type: str("RollingUpdate (default): replace gradually. Recreate: delete all old pods first."),
  rollingUpdate: RollingUpdateDeployment.optional().describe("Settings for RollingUpdate."),
}, { "x-kubernetes-patch-strategy": "retainKeys" });

export const Deployment = named("io.k8s.api.apps.v1.Deployment", "Declarative updates for pods: a Deployment keeps a ReplicaSet per pod template and rolls between them.", {
  ...TYPE_META,
  metadata: meta,
  spec: named("io.k8s.api.apps.v1.DeploymentSpec", "The desired pods and how to roll out changes.", {
    replicas: int32("Number of pods (default 1)."),
    selector: LabelSelector.describe("Labels of the pods it manages; must match the template's labels and cannot change."),
    template: PodTemplateSpec.describe("The pods to run. Changing it starts a rollout."),
    strategy: DeploymentStrategy.optional().describe("How to replace old pods with new ones."),
    minReadySeconds: int32("Seconds a ready pod must stay ready to count as available."),
    revisionHistoryLimit: int32("Old ReplicaSets kept for rollback (default 10)."),
    paused: bool("When true, template changes are not rolled out."),
    progressDeadlineSeconds: int32("Seconds without progress before the rollout is reported as failed (default 600)."),
  }).optional(),
  status: named("io.k8s.api.apps.v1.DeploymentStatus", "The observed state of the rollout.", {
    observedGeneration: int64("The generation last acted on."),
    replicas: int32("Pods of all its ReplicaSets."),
    updatedReplicas: int32("Pods with the current template."),
    readyReplicas: int32("Pods that are ready."),
    availableReplicas: int32("Pods ready for at least minReadySeconds."),
    unavailableReplicas: int32("Pods still needed to reach the desired count."),
    terminatingReplicas: int32("Pods being deleted."),
    conditions: keyedList(Condition("io.k8s.api.apps.v1.DeploymentCondition", "Deployment"), "type", "Available and Progressing."),
    collisionCount: int32("Hash collisions seen when naming ReplicaSets."),
  }).optional(),
}, gvk("apps", "v1", "Deployment"));

export const ReplicaSet = named("io.k8s.api.apps.v1.ReplicaSet", "Keeps a number of identical pods running; usually managed by a Deployment.", {
  ...TYPE_META,
  metadata: meta,
  spec: named("io.k8s.api.apps.v1.ReplicaSetSpec", "How many pods, which pods, and from what template.", {
    replicas: int32("Number of pods (default 1)."),
    minReadySeconds: int32("Seconds a ready pod must stay ready to count as available."),
    selector: LabelSelector.describe("Labels of the pods it manages; must match the template's labels."),
    template: PodTemplateSpec.optional().describe("The pods it creates."),
  }).optional(),
  status: named("io.k8s.api.apps.v1.ReplicaSetStatus", "The observed state.", {
    replicas: z.int32().describe("Pods that exist."),
    fullyLabeledReplicas: int32("Pods with all the template's labels."),
    readyReplicas: int32("Pods that are ready."),
    availableReplicas: int32("Pods ready for at least minReadySeconds."),
    terminatingReplicas: int32("Pods being deleted."),
    observedGeneration: int64("The generation last acted on."),
    conditions: keyedList(Condition("io.k8s.api.apps.v1.ReplicaSetCondition", "ReplicaSet"), "type", "Conditions."),
  }).optional(),
}, gvk("apps", "v1", "ReplicaSet"));

export const Lease = named("io.k8s.api.coordination.v1.Lease", "A lock with an expiry; node agents renew one each in kube-node-lease as their heartbeat.", {
  ...TYPE_META,
  metadata: meta,
  spec: named("io.k8s.api.coordination.v1.LeaseSpec", "Who holds the lease and until when.", {
    holderIdentity: str("The current holder."),
    leaseDurationSeconds: int32("Seconds the holder keeps the lease after renewing it."),
    acquireTime: MicroTime.optional().describe("When the current holder got the lease."),
    renewTime: MicroTime.optional().describe("When the holder last renewed it."),
    leaseTransitions: int32("How many times the holder changed."),
    strategy: str("Leader election strategy."),
    preferredHolder: str("Holder that should take over."),
  }).optional(),
}, gvk("coordination.k8s.io", "v1", "Lease"));

export const Scale = named("io.k8s.api.autoscaling.v1.Scale", "The replica count of a scalable resource (the scale subresource).", {
  ...TYPE_META,
  metadata: meta,
  spec: named("io.k8s.api.autoscaling.v1.ScaleSpec", "The desired count.", { replicas: int32("Desired number of pods.") }).optional(),
  status: named("io.k8s.api.autoscaling.v1.ScaleStatus", "The observed count.", {
    replicas: z.int32().describe("Pods that exist."),
    selector: str("Label selector of the pods, as a string."),
  }).optional(),
}, gvk("autoscaling", "v1", "Scale"));

const EndpointConditions = named("io.k8s.api.discovery.v1.EndpointConditions", "The state of one endpoint.", {
  ready: bool("Ready to receive traffic (the pod is Ready and not terminating)."),
  serving: bool("Able to serve traffic, even while terminating."),
  terminating: bool("The pod is shutting down."),
});
const Endpoint = named("io.k8s.api.discovery.v1.Endpoint", "One backend of a Service.", {
  addresses: z.array(z.string()).describe("The backend's IP addresses (one, in practice)."),
  conditions: EndpointConditions.optional(),
  hostname: str("Host name of the backend."),
  targetRef: z.record(z.string(), z.unknown()).describe("The pod behind the endpoint.").optional(),
  deprecatedTopology: z.record(z.string(), z.string()).optional(),
  nodeName: str("Node the backend runs on."),
  zone: str("Zone of the backend."),
  hints: z.record(z.string(), z.unknown()).optional(),
});
const EndpointPort = named("io.k8s.api.discovery.v1.EndpointPort", "A port of the endpoints in a slice.", {
  name: str("Name, matching the Service port's."),
  protocol: str("TCP, UDP or SCTP."),
  port: int32("Port number."),
  appProtocol: str("Application protocol."),
});
export const EndpointSlice = named("io.k8s.api.discovery.v1.EndpointSlice", "A slice of a Service's backends; the endpoints controller keeps one per Service with a selector.", {
  ...TYPE_META,
  metadata: ObjectMeta.optional().describe("Standard object metadata; the label kubernetes.io/service-name names the Service."),
  addressType: z.string().describe("IPv4, IPv6 or FQDN."),
  endpoints: atomicList(Endpoint, "The backends."),
  ports: atomicList(EndpointPort, "The ports every endpoint of the slice serves."),
}, gvk("discovery.k8s.io", "v1", "EndpointSlice"));

export { Time };
