/** core/v1 kinds other than Pod: Node, Service, Endpoints, Event, ConfigMap, Secret, Namespace, ReplicationController. */
import { atomic, boolean, gvk, int32, int64, json, keyed, listOf, mapOf, object, oneOf, opt, req, set, string, stringMap } from "./dsl";
import { condition, Condition, conditionsField, MicroTime, ObjectMeta, IntOrString, Quantity, Time } from "./meta";
import { LocalObjectReference, PodTemplateSpec, PROTOCOLS, TAINT_EFFECTS } from "./pod";

export const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"] as const;
export const SESSION_AFFINITIES = ["ClientIP", "None"] as const;
export const TRAFFIC_POLICIES = ["Cluster", "Local"] as const;
export const IP_FAMILIES = ["IPv4", "IPv6"] as const;
export const IP_FAMILY_POLICIES = ["SingleStack", "PreferDualStack", "RequireDualStack"] as const;

const apiVersion = (v: string) => opt(string, `API version of the object: ${v}.`);
const kind = (k: string) => opt(string, `Kind of the object: ${k}.`);
const meta = opt(ObjectMeta, "Standard object metadata: name, namespace, labels, annotations and the fields the server maintains.");

// ---------------------------------------------------------------- Node

export const Taint = object("io.k8s.api.core.v1.Taint", "A mark on a node that keeps away pods which do not tolerate it.", {
  key: req(string, "Key of the taint."),
  value: opt(string, "Value of the taint."),
  effect: req(
    oneOf(TAINT_EFFECTS, { check: false }),
    "What happens to pods that do not tolerate it: NoSchedule, PreferNoSchedule or NoExecute (evicts running pods too).",
  ),
  timeAdded: opt(Time, "When a NoExecute taint was added."),
});

export const NodeSpec = object("io.k8s.api.core.v1.NodeSpec", "How a node may be used.", {
  podCIDR: opt(string, "Pod IP range of the node."),
  podCIDRs: opt(listOf(string), "Pod IP ranges of the node, one per address family.", set, { "x-kubernetes-patch-strategy": "merge" }),
  providerID: opt(string, "ID of the machine at its infrastructure provider."),
  unschedulable: opt(boolean, "When true, no new pods are placed on the node (kubectl cordon)."),
  taints: opt(listOf(Taint), "Taints of the node.", atomic),
  configSource: opt(json, "Deprecated; ignored."),
  externalID: opt(string, "Deprecated; ignored."),
});

export const NodeAddress = object("io.k8s.api.core.v1.NodeAddress", "One address of a node.", {
  type: req(
    oneOf(["Hostname", "InternalIP", "ExternalIP", "InternalDNS", "ExternalDNS"], { check: false }),
    "Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS.",
  ),
  address: req(string, "The address."),
});

export const NodeCondition = condition("io.k8s.api.core.v1.NodeCondition", "node (Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable)", [
  "lastHeartbeatTime",
  "lastTransitionTime",
]);

export const NodeSystemInfo = object("io.k8s.api.core.v1.NodeSystemInfo", "Facts about a node's machine and software, reported by its agent.", {
  machineID: req(string, "Machine ID of the node."),
  systemUUID: req(string, "System UUID of the node."),
  bootID: req(string, "ID of the current boot."),
  kernelVersion: req(string, "Kernel version."),
  osImage: req(string, "Operating system image, such as Debian GNU/Linux 12."),
  containerRuntimeVersion: req(string, "Container runtime and version, such as docker://27.0.0."),
  kubeletVersion: req(string, "Version of the node agent."),
  kubeProxyVersion: req(string, "Deprecated; version of kube-proxy."),
  operatingSystem: req(string, "Operating system, such as linux."),
  architecture: req(string, "CPU architecture, such as amd64."),
  swap: opt(json, "Swap memory of the node."),
});

export const ContainerImage = object("io.k8s.api.core.v1.ContainerImage", "An image present on a node.", {
  names: opt(listOf(string), "Names and digests of the image.", atomic),
  sizeBytes: opt(int64, "Size of the image."),
});

export const DaemonEndpoint = object("io.k8s.api.core.v1.DaemonEndpoint", "A port a node daemon listens on.", {
  Port: req(int32, "The port number."),
});

export const NodeDaemonEndpoints = object("io.k8s.api.core.v1.NodeDaemonEndpoints", "Ports of the daemons running on a node.", {
  kubeletEndpoint: opt(DaemonEndpoint, "Port of the node agent's API."),
});

export const NodeStatus = object("io.k8s.api.core.v1.NodeStatus", "The observed state of a node, reported by its agent.", {
  capacity: opt(mapOf(Quantity), "Total resources of the node: cpu, memory, pods, ephemeral-storage and others."),
  allocatable: opt(mapOf(Quantity), "Resources available to pods; defaults to capacity."),
  phase: opt(string, "Deprecated; not set."),
  conditions: conditionsField(NodeCondition, "Ready, MemoryPressure, DiskPressure, PIDPressure and NetworkUnavailable."),
  addresses: opt(listOf(NodeAddress), "Addresses of the node.", keyed("type")),
  daemonEndpoints: opt(NodeDaemonEndpoints, "Ports of the node's daemons."),
  nodeInfo: opt(NodeSystemInfo, "Facts about the node."),
  images: opt(listOf(ContainerImage), "Images present on the node.", atomic),
  volumesInUse: opt(listOf(string), "Volumes attached and mounted on the node.", atomic),
  volumesAttached: opt(listOf(json), "Volumes attached to the node.", atomic),
  config: opt(json, "Deprecated; not set."),
  runtimeHandlers: opt(listOf(json), "Runtime handlers available on the node.", atomic),
  features: opt(json, "Features the node supports."),
});

export const Node = object(
  "io.k8s.api.core.v1.Node",
  "A machine that runs pods. Each Kubeflare agent registers its node and keeps its status and lease current.",
  {
    apiVersion: apiVersion("v1"),
    kind: kind("Node"),
    metadata: meta,
    spec: opt(NodeSpec, "How the node may be used."),
    status: opt(NodeStatus, "The node's resources, conditions and addresses, as last reported."),
  },
  gvk("", "v1", "Node"),
);

// ---------------------------------------------------------------- Service

export const ServicePort = object("io.k8s.api.core.v1.ServicePort", "A port a Service exposes, and the pod port it forwards to.", {
  name: opt(string, "Name of the port, a DNS label; required when there is more than one, and unique."),
  protocol: opt(oneOf(PROTOCOLS), "TCP (the default), UDP or SCTP."),
  appProtocol: opt(string, "Application protocol, such as http or kubernetes.io/h2c; a hint for implementations."),
  port: req(int32, "Port the Service listens on."),
  targetPort: opt(IntOrString, "Port number or named container port on the pods; defaults to port.", { "x-kubernetes-int-or-string": true }),
  nodePort: opt(int32, "Port on every node for NodePort and LoadBalancer Services; allocated from 30000-32767 when not given."),
});

export const ClientIPConfig = object("io.k8s.api.core.v1.ClientIPConfig", "Settings of ClientIP session affinity.", {
  timeoutSeconds: opt(int32, "How long a client sticks to a pod, from 1 to 86400 seconds; defaults to 10800."),
});

export const SessionAffinityConfig = object("io.k8s.api.core.v1.SessionAffinityConfig", "Settings of session affinity.", {
  clientIP: opt(ClientIPConfig, "Settings of ClientIP affinity."),
});

export const ServiceSpec = object("io.k8s.api.core.v1.ServiceSpec", "How a Service is exposed and which pods receive its traffic.", {
  ports: opt(listOf(ServicePort), "The ports the Service exposes.", keyed("port", ["port", "protocol"])),
  selector: opt(stringMap, "Labels of the pods behind the Service. Without a selector the Endpoints are managed by hand.", {
    "x-kubernetes-map-type": "atomic",
  }),
  clusterIP: opt(string, "Virtual IP of the Service, allocated by the server unless given; None makes a headless Service. Cannot be changed."),
  clusterIPs: opt(listOf(string), "Virtual IPs of the Service, one per address family; the first equals clusterIP.", atomic),
  type: opt(
    oneOf(SERVICE_TYPES),
    "ClusterIP (the default, in-cluster only), NodePort (also on a port of every node), LoadBalancer (also through an external load balancer) or ExternalName (a DNS alias).",
  ),
  externalIPs: opt(listOf(string), "Extra IPs on which nodes accept traffic for the Service.", atomic),
  sessionAffinity: opt(oneOf(SESSION_AFFINITIES), "None (the default) or ClientIP, which keeps each client on one pod."),
  loadBalancerIP: opt(string, "Deprecated: the IP asked of the load balancer."),
  loadBalancerSourceRanges: opt(listOf(string), "Client IP ranges allowed through the load balancer.", atomic),
  externalName: opt(string, "DNS name an ExternalName Service is an alias of."),
  externalTrafficPolicy: opt(
    oneOf(TRAFFIC_POLICIES),
    "For traffic from outside: Cluster (any ready pod) or Local (only pods on the receiving node, keeping the client IP).",
  ),
  healthCheckNodePort: opt(int32, "Node port for load balancer health checks with the Local policy."),
  publishNotReadyAddresses: opt(boolean, "Include pods in the endpoints before they are ready."),
  sessionAffinityConfig: opt(SessionAffinityConfig, "Settings of session affinity."),
  ipFamilies: opt(listOf(oneOf(IP_FAMILIES)), "Address families of the Service: IPv4 and/or IPv6.", atomic),
  ipFamilyPolicy: opt(oneOf(IP_FAMILY_POLICIES), "SingleStack, PreferDualStack or RequireDualStack."),
  allocateLoadBalancerNodePorts: opt(boolean, "Whether LoadBalancer Services get node ports; defaults to true."),
  loadBalancerClass: opt(string, "Load balancer implementation to use."),
  internalTrafficPolicy: opt(oneOf(TRAFFIC_POLICIES), "For traffic from inside the cluster: Cluster (any ready pod) or Local (only pods on the same node)."),
  trafficDistribution: opt(string, "Preference for how traffic is spread over endpoints, such as PreferClose."),
});

export const PortStatus = object("io.k8s.api.core.v1.PortStatus", "The state of one port of a load balancer ingress.", {
  port: req(int32, "The port."),
  protocol: req(oneOf(PROTOCOLS), "TCP, UDP or SCTP."),
  error: opt(string, "What is wrong with the port, if anything."),
});

export const LoadBalancerIngress = object("io.k8s.api.core.v1.LoadBalancerIngress", "An address through which a load balancer accepts traffic.", {
  ip: opt(string, "IP of the ingress point."),
  hostname: opt(string, "DNS name of the ingress point."),
  ipMode: opt(oneOf(["VIP", "Proxy"]), "How traffic reaches the pods: VIP or Proxy."),
  ports: opt(listOf(PortStatus), "State of the Service's ports at this point.", atomic),
});

export const LoadBalancerStatus = object("io.k8s.api.core.v1.LoadBalancerStatus", "The state of a load balancer.", {
  ingress: opt(listOf(LoadBalancerIngress), "Its ingress points.", atomic),
});

export const ServiceStatus = object("io.k8s.api.core.v1.ServiceStatus", "The observed state of a Service.", {
  loadBalancer: opt(LoadBalancerStatus, "State of the load balancer, for LoadBalancer Services."),
  conditions: conditionsField(Condition, "Conditions of the Service."),
});

export const Service = object(
  "io.k8s.api.core.v1.Service",
  "A stable virtual IP and DNS name for a set of pods chosen by labels, with the ports it forwards.",
  {
    apiVersion: apiVersion("v1"),
    kind: kind("Service"),
    metadata: meta,
    spec: opt(ServiceSpec, "How the Service is exposed and which pods it selects."),
    status: opt(ServiceStatus, "The observed state of the Service."),
  },
  gvk("", "v1", "Service"),
);

// ---------------------------------------------------------------- Endpoints

export const ObjectReference = object(
  "io.k8s.api.core.v1.ObjectReference",
  "Points at another object, or at part of it.",
  {
    kind: opt(string, "Kind of the object."),
    namespace: opt(string, "Namespace of the object."),
    name: opt(string, "Name of the object."),
    uid: opt(string, "UID of the object."),
    apiVersion: opt(string, "API version of the object."),
    resourceVersion: opt(string, "Revision of the object the reference was made at."),
    fieldPath: opt(string, "A part of the object, such as spec.containers{web}."),
  },
  { "x-kubernetes-map-type": "atomic" },
);

export const EndpointAddress = object(
  "io.k8s.api.core.v1.EndpointAddress",
  "One backend of a Service.",
  {
    ip: req(string, "IP of the backend."),
    hostname: opt(string, "Host name of the backend."),
    nodeName: opt(string, "Node the backend runs on."),
    targetRef: opt(ObjectReference, "The pod behind the address."),
  },
  { "x-kubernetes-map-type": "atomic" },
);

export const EndpointPort = object(
  "io.k8s.api.core.v1.EndpointPort",
  "A port of a set of backends.",
  {
    name: opt(string, "Name, matching the Service port's; required when there are several."),
    port: req(int32, "Port number."),
    protocol: opt(oneOf(PROTOCOLS), "TCP (the default), UDP or SCTP."),
    appProtocol: opt(string, "Application protocol of the port."),
  },
  { "x-kubernetes-map-type": "atomic" },
);

export const EndpointSubset = object("io.k8s.api.core.v1.EndpointSubset", "Backends that share the same ports.", {
  addresses: opt(listOf(EndpointAddress), "Backends that are ready.", atomic),
  notReadyAddresses: opt(listOf(EndpointAddress), "Backends that are not ready yet.", atomic),
  ports: opt(listOf(EndpointPort), "The ports of these backends.", atomic),
});

export const Endpoints = object(
  "io.k8s.api.core.v1.Endpoints",
  "The backends of a Service, by address and port; kept up to date by the endpoints controller for Services with a selector.",
  {
    apiVersion: apiVersion("v1"),
    kind: kind("Endpoints"),
    metadata: meta,
    subsets: opt(listOf(EndpointSubset), "Groups of backends with their ports.", atomic),
  },
  gvk("", "v1", "Endpoints"),
);

// ---------------------------------------------------------------- Event

export const EventSource = object("io.k8s.api.core.v1.EventSource", "Who reported an event.", {
  component: opt(string, "The reporting component."),
  host: opt(string, "The node it runs on."),
});

export const EventSeries = object("io.k8s.api.core.v1.EventSeries", "Repeats of an event.", {
  count: opt(int32, "Occurrences so far."),
  lastObservedTime: opt(MicroTime, "When it last happened."),
});

export const Event = object(
  "io.k8s.api.core.v1.Event",
  "A report that something happened to an object, such as a pod being scheduled or an image failing to pull; shown by kubectl describe. Events expire after a while.",
  {
    apiVersion: apiVersion("v1"),
    kind: kind("Event"),
    metadata: req(ObjectMeta, "Standard object metadata."),
    involvedObject: req(ObjectReference, "The object the event is about."),
    reason: opt(string, "Short CamelCase reason, such as Scheduled or FailedScheduling."),
    message: opt(string, "What happened, for people."),
    source: opt(EventSource, "Who reported the event."),
    firstTimestamp: opt(Time, "When the event first happened."),
    lastTimestamp: opt(Time, "When it last happened."),
    count: opt(int32, "How many times it happened."),
    type: opt(string, "Normal or Warning."),
    eventTime: opt(MicroTime, "When the event first happened, with microseconds."),
    series: opt(EventSeries, "Repeats of the event."),
    action: opt(string, "What was done, or failed, about the object."),
    related: opt(ObjectReference, "A second object involved."),
    reportingComponent: opt(string, "Controller that reported the event, such as kubernetes.io/kubelet."),
    reportingInstance: opt(string, "Instance of that controller, such as the node name."),
  },
  gvk("", "v1", "Event"),
);

// ---------------------------------------------------------------- ConfigMap, Secret

export const ConfigMap = object(
  "io.k8s.api.core.v1.ConfigMap",
  "Configuration for pods as key/value pairs, used as environment variables, command arguments or files.",
  {
    apiVersion: apiVersion("v1"),
    kind: kind("ConfigMap"),
    metadata: meta,
    immutable: opt(boolean, "When true, data and binaryData can no longer change (only the object can be deleted)."),
    data: opt(stringMap, "UTF-8 values by key. Keys consist of letters, digits, '-', '_' and '.'."),
    binaryData: opt(stringMap, "Binary values by key, base64-encoded; keys may not repeat those of data."),
  },
  gvk("", "v1", "ConfigMap"),
);

export const Secret = object(
  "io.k8s.api.core.v1.Secret",
  "Sensitive data for pods, such as passwords, tokens and keys, as key/value pairs. At most 1 MiB.",
  {
    apiVersion: apiVersion("v1"),
    kind: kind("Secret"),
    metadata: meta,
    immutable: opt(boolean, "When true, data can no longer change (only the object can be deleted)."),
    data: opt(stringMap, "Values by key, base64-encoded. Keys consist of letters, digits, '-', '_' and '.'."),
    stringData: opt(stringMap, "Write-only plain-text values by key; the server moves them into data, where they win over existing keys."),
    type: opt(
      string,
      "How the data is used: Opaque (the default), kubernetes.io/tls, kubernetes.io/dockerconfigjson, kubernetes.io/basic-auth, kubernetes.io/ssh-auth, kubernetes.io/service-account-token, ...",
    ),
  },
  gvk("", "v1", "Secret"),
);

// ---------------------------------------------------------------- ServiceAccount

export const ServiceAccount = object(
  "io.k8s.api.core.v1.ServiceAccount",
  "An identity for processes that run in pods, for the API server to authenticate and authorize.",
  {
    apiVersion: apiVersion("v1"),
    kind: kind("ServiceAccount"),
    metadata: meta,
    secrets: opt(
      listOf(ObjectReference),
      "Secrets in the account's namespace that pods running as it may use (legacy; token Secrets are no longer made automatically).",
      keyed("name"),
    ),
    imagePullSecrets: opt(listOf(LocalObjectReference), "Secrets with registry credentials added to the pods that run as this account.", atomic),
    automountServiceAccountToken: opt(boolean, "Whether pods running as this account get its API credentials mounted; a pod's own setting wins."),
  },
  gvk("", "v1", "ServiceAccount"),
);

// ---------------------------------------------------------------- Namespace

export const NamespaceSpec = object("io.k8s.api.core.v1.NamespaceSpec", "Settings of a namespace.", {
  finalizers: opt(
    listOf(string),
    "Clean-up work left before a deleted namespace goes away; the namespace controller removes kubernetes once the namespace's content is gone.",
    atomic,
  ),
});

export const NamespaceCondition = condition("io.k8s.api.core.v1.NamespaceCondition", "namespace being deleted", ["lastTransitionTime"]);

export const NamespaceStatus = object("io.k8s.api.core.v1.NamespaceStatus", "The observed state of a namespace.", {
  phase: opt(oneOf(["Active", "Terminating"], { check: false }), "Active, or Terminating once deletion was requested."),
  conditions: conditionsField(NamespaceCondition, "Progress of the namespace's deletion."),
});

export const Namespace = object(
  "io.k8s.api.core.v1.Namespace",
  "A scope for names: most objects live in one. Deleting a namespace deletes everything in it.",
  {
    apiVersion: apiVersion("v1"),
    kind: kind("Namespace"),
    metadata: meta,
    spec: opt(NamespaceSpec, "Settings of the namespace."),
    status: opt(NamespaceStatus, "The observed state of the namespace."),
  },
  gvk("", "v1", "Namespace"),
);

// ---------------------------------------------------------------- ReplicationController

export const ReplicationControllerSpec = object(
  "io.k8s.api.core.v1.ReplicationControllerSpec",
  "How many pods to keep, which pods count, and the template new ones are made from.",
  {
    replicas: opt(int32, "Number of pods to keep running; defaults to 1."),
    minReadySeconds: opt(int32, "Seconds a new pod must be ready, without crashing, to count as available."),
    selector: opt(stringMap, "Labels of the pods it manages; defaults to the template's labels, which must match.", { "x-kubernetes-map-type": "atomic" }),
    template: opt(PodTemplateSpec, "The pods it creates."),
  },
);

export const ReplicationControllerCondition = condition("io.k8s.api.core.v1.ReplicationControllerCondition", "replication controller", ["lastTransitionTime"]);

export const ReplicationControllerStatus = object("io.k8s.api.core.v1.ReplicationControllerStatus", "The observed state of a replication controller.", {
  replicas: req(int32, "Pods that exist."),
  fullyLabeledReplicas: opt(int32, "Pods whose labels match the template's."),
  readyReplicas: opt(int32, "Pods that are ready."),
  availableReplicas: opt(int32, "Pods ready for at least minReadySeconds."),
  observedGeneration: opt(int64, "The metadata.generation last acted on."),
  conditions: conditionsField(ReplicationControllerCondition, "Conditions of the controller, such as ReplicaFailure."),
});

export const ReplicationController = object(
  "io.k8s.api.core.v1.ReplicationController",
  "Keeps a number of identical pods running, replacing those that fail or are deleted. Deployments and ReplicaSets are its successors.",
  {
    apiVersion: apiVersion("v1"),
    kind: kind("ReplicationController"),
    metadata: meta,
    spec: opt(ReplicationControllerSpec, "How many pods, which pods, and from what template."),
    status: opt(ReplicationControllerStatus, "The observed state."),
  },
  gvk("", "v1", "ReplicationController"),
);
