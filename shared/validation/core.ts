import { z } from "zod";
import { anyObject, atomicList, bool, gvk, int32, int64, IntOrString, keyedList, MicroTime, named, Quantity, quantityMap, str, strList, strMap, Time, TYPE_META } from "./kit";
import { Condition, LabelSelector, ObjectMeta } from "./meta";

const meta = ObjectMeta.optional().describe("Standard object metadata: name, namespace, labels, annotations and server-maintained fields.");

// ---------------------------------------------------------------- containers

const ObjectFieldSelector = named("io.k8s.api.core.v1.ObjectFieldSelector", "Picks a field of the pod, such as metadata.name or status.podIP.", {
  apiVersion: str("API version the field path is written in; defaults to v1."),
  fieldPath: z.string().describe("Path of the field, such as metadata.namespace."),
});
const KeySelector = (id: string, what: string) =>
  named(id, `Picks one key of a ${what}.`, {
    name: str(`Name of the ${what}.`),
    key: z.string().describe("The key to read."),
    optional: bool(`Whether the ${what} or key may be missing.`),
  });
const ResourceFieldSelector = named("io.k8s.api.core.v1.ResourceFieldSelector", "Picks a container's resource request or limit, such as limits.memory.", {
  containerName: str("The container; defaults to the one being configured."),
  resource: z.string().describe("limits.cpu, limits.memory, requests.cpu or requests.memory."),
  divisor: Quantity.optional(),
});
const EnvVarSource = named("io.k8s.api.core.v1.EnvVarSource", "Where an environment variable's value comes from.", {
  fieldRef: ObjectFieldSelector.optional().describe("A field of the pod."),
  resourceFieldRef: ResourceFieldSelector.optional().describe("A resource request or limit of a container."),
  configMapKeyRef: KeySelector("io.k8s.api.core.v1.ConfigMapKeySelector", "ConfigMap").optional().describe("A key of a ConfigMap."),
  secretKeyRef: KeySelector("io.k8s.api.core.v1.SecretKeySelector", "Secret").optional().describe("A key of a Secret."),
});
const EnvVar = named("io.k8s.api.core.v1.EnvVar", "An environment variable of a container.", {
  name: z.string().describe("Name of the variable."),
  value: str("Literal value; $(OTHER) references earlier variables."),
  valueFrom: EnvVarSource.optional().describe("Take the value from elsewhere instead of value."),
});
const EnvFromSource = named("io.k8s.api.core.v1.EnvFromSource", "Imports every key of a ConfigMap or Secret as environment variables.", {
  prefix: str("Prepended to every variable name."),
  configMapRef: named("io.k8s.api.core.v1.ConfigMapEnvSource", "A ConfigMap to import.", { name: str("Name of the ConfigMap."), optional: bool("Whether it may be missing.") }).optional(),
  secretRef: named("io.k8s.api.core.v1.SecretEnvSource", "A Secret to import.", { name: str("Name of the Secret."), optional: bool("Whether it may be missing.") }).optional(),
});
export const ContainerPort = named("io.k8s.api.core.v1.ContainerPort", "A port a container listens on.", {
  name: str("A name for the port (at most 15 characters) that Services can refer to."),
  containerPort: z.int32().describe("Port number inside the container (1-65535)."),
  hostPort: int32("Port on the node to expose it on; with hostNetwork it must equal containerPort."),
  hostIP: str("Node address to bind the host port to."),
  protocol: str("TCP (default), UDP or SCTP."),
});
const VolumeMount = named("io.k8s.api.core.v1.VolumeMount", "Where a pod volume appears inside a container.", {
  name: z.string().describe("The pod volume to mount."),
  mountPath: z.string().describe("Path inside the container; must not contain ':'."),
  readOnly: bool("Mount read-only."),
  subPath: str("Mount this path inside the volume instead of its root."),
  subPathExpr: str("Like subPath, with $(VAR) expansion."),
  mountPropagation: str("None, HostToContainer or Bidirectional."),
  recursiveReadOnly: str("Disabled, IfPossible or Enabled."),
});
const ResourceRequirements = named("io.k8s.api.core.v1.ResourceRequirements", "Compute resources a container asks for (requests, used for scheduling) and may not exceed (limits).", {
  limits: quantityMap("Most of each resource the container may use, such as cpu: 500m, memory: 128Mi."),
  requests: quantityMap("Resources the scheduler reserves for the container; default to the limits."),
  claims: z.array(z.strictObject({ name: z.string(), request: z.string().optional() })).optional(),
});
const ExecAction = named("io.k8s.api.core.v1.ExecAction", "Runs a command in the container; exit status 0 counts as success.", {
  command: strList("The command and its arguments (no shell unless you call one)."),
});
const HTTPHeader = named("io.k8s.api.core.v1.HTTPHeader", "A header sent with an HTTP probe.", { name: z.string(), value: z.string() });
const HTTPGetAction = named("io.k8s.api.core.v1.HTTPGetAction", "An HTTP GET; any status from 200 to 399 counts as success.", {
  path: str("Path to request."),
  port: IntOrString.describe("Port number or container port name."),
  host: str("Host to connect to; defaults to the pod IP."),
  scheme: str("HTTP or HTTPS."),
  httpHeaders: z.array(HTTPHeader).optional(),
});
const TCPSocketAction = named("io.k8s.api.core.v1.TCPSocketAction", "Opens a TCP connection; success when it connects.", {
  port: IntOrString.describe("Port number or container port name."),
  host: str("Host to connect to; defaults to the pod IP."),
});
const GRPCAction = named("io.k8s.api.core.v1.GRPCAction", "Calls the gRPC health checking service.", { port: z.int32(), service: str("Service name to check.") });
const Probe = named("io.k8s.api.core.v1.Probe", "A periodic health check of a container.", {
  exec: ExecAction.optional(),
  httpGet: HTTPGetAction.optional(),
  tcpSocket: TCPSocketAction.optional(),
  grpc: GRPCAction.optional(),
  initialDelaySeconds: int32("Seconds after the container starts before the first check."),
  timeoutSeconds: int32("Seconds before a check times out (default 1)."),
  periodSeconds: int32("Seconds between checks (default 10)."),
  successThreshold: int32("Consecutive successes needed after a failure (default 1)."),
  failureThreshold: int32("Consecutive failures before giving up (default 3)."),
  terminationGracePeriodSeconds: int64("Grace period when a failed liveness probe kills the container."),
});
const LifecycleHandler = named("io.k8s.api.core.v1.LifecycleHandler", "An action run at a container lifecycle event.", {
  exec: ExecAction.optional(),
  httpGet: HTTPGetAction.optional(),
  tcpSocket: TCPSocketAction.optional(),
  sleep: z.strictObject({ seconds: z.int() }).optional(),
});
const Lifecycle = named("io.k8s.api.core.v1.Lifecycle", "Actions run right after a container starts and right before it stops.", {
  postStart: LifecycleHandler.optional(),
  preStop: LifecycleHandler.optional(),
  stopSignal: str("Signal used to stop the container."),
});
const Capabilities = named("io.k8s.api.core.v1.Capabilities", "Linux capabilities to add and drop.", { add: strList("Capabilities to add."), drop: strList("Capabilities to drop.") });
const SecurityContext = named("io.k8s.api.core.v1.SecurityContext", "Security settings of one container.", {
  privileged: bool("Run as privileged (root on the host)."),
  runAsUser: int64("UID to run as."),
  runAsGroup: int64("GID to run as."),
  runAsNonRoot: bool("Refuse to start as UID 0."),
  readOnlyRootFilesystem: bool("Mount the root filesystem read-only."),
  allowPrivilegeEscalation: bool("Whether a process can gain more privileges than its parent."),
  capabilities: Capabilities.optional(),
  procMount: str("Default or Unmasked."),
  seccompProfile: anyObject("Seccomp options."),
  appArmorProfile: anyObject("AppArmor options."),
  seLinuxOptions: anyObject("SELinux options."),
  windowsOptions: anyObject("Windows options (ignored)."),
});
const containerShape = (kind: string) => ({
  name: z.string().describe(`Name of the ${kind}: a DNS label, unique within the pod.`),
  image: str("Container image, such as nginx:1.27."),
  command: strList("Entrypoint; replaces the image's ENTRYPOINT."),
  args: strList("Arguments; replace the image's CMD."),
  workingDir: str("Working directory; defaults to the image's."),
  ports: keyedList(ContainerPort, "containerPort", "Ports the container exposes (informational, and used by hostPort and named Service ports)."),
  envFrom: z.array(EnvFromSource).describe("Import environment variables from ConfigMaps and Secrets.").optional(),
  env: keyedList(EnvVar, "name", "Environment variables."),
  resources: ResourceRequirements.optional().describe("CPU and memory requests and limits."),
  resizePolicy: z.array(z.strictObject({ resourceName: z.string(), restartPolicy: z.string() })).optional(),
  restartPolicy: str("Only for init containers: Always makes it a sidecar."),
  volumeMounts: keyedList(VolumeMount, "mountPath", "Pod volumes mounted into the container."),
  volumeDevices: z.array(z.strictObject({ name: z.string(), devicePath: z.string() })).optional(),
  livenessProbe: Probe.optional().describe("Restart the container when this check fails."),
  readinessProbe: Probe.optional().describe("Take the pod out of Service endpoints while this check fails."),
  startupProbe: Probe.optional().describe("Hold the other probes until this check succeeds."),
  lifecycle: Lifecycle.optional(),
  terminationMessagePath: str("File whose content becomes the termination message."),
  terminationMessagePolicy: str("File, or FallbackToLogsOnError."),
  imagePullPolicy: str("Always, IfNotPresent or Never. Defaults to Always for :latest or untagged images."),
  securityContext: SecurityContext.optional(),
  stdin: bool("Keep stdin open."),
  stdinOnce: bool("Close stdin after the first attach ends."),
  tty: bool("Allocate a terminal."),
});
export const Container = named("io.k8s.api.core.v1.Container", "One container of a pod: the image to run and how.", containerShape("container"));
const EphemeralContainer = named("io.k8s.api.core.v1.EphemeralContainer", "A debugging container added to a running pod.", {
  ...containerShape("ephemeral container"),
  targetContainerName: str("Container whose namespaces to share."),
});

// ---------------------------------------------------------------- volumes

const KeyToPath = named("io.k8s.api.core.v1.KeyToPath", "Maps a key to a file path inside the volume.", {
  key: z.string(),
  path: z.string(),
  mode: int32("File mode bits."),
});
export const Volume = named("io.k8s.api.core.v1.Volume", "A named volume the pod's containers can mount. Exactly one source must be set.", {
  name: z.string().describe("Name of the volume: a DNS label, unique within the pod."),
  emptyDir: named("io.k8s.api.core.v1.EmptyDirVolumeSource", "A scratch directory that lives as long as the pod.", {
    medium: str('"" (node disk) or Memory (tmpfs).'),
    sizeLimit: Quantity.optional(),
  }).optional(),
  hostPath: named("io.k8s.api.core.v1.HostPathVolumeSource", "A file or directory of the node, mounted into the pod.", {
    path: z.string().describe("Path on the node."),
    type: str('"", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice.'),
  }).optional(),
  configMap: named("io.k8s.api.core.v1.ConfigMapVolumeSource", "A ConfigMap's keys as files.", {
    name: str("The ConfigMap."),
    items: z.array(KeyToPath).optional(),
    defaultMode: int32("Mode of the files (default 0644)."),
    optional: bool("Whether it may be missing."),
  }).optional(),
  secret: named("io.k8s.api.core.v1.SecretVolumeSource", "A Secret's keys as files.", {
    secretName: str("The Secret."),
    items: z.array(KeyToPath).optional(),
    defaultMode: int32("Mode of the files (default 0644)."),
    optional: bool("Whether it may be missing."),
  }).optional(),
  persistentVolumeClaim: z.strictObject({ claimName: z.string(), readOnly: z.boolean().optional() }).optional(),
  downwardAPI: anyObject("Pod fields as files."),
  projected: anyObject("Several sources in one directory."),
  nfs: z.strictObject({ server: z.string(), path: z.string(), readOnly: z.boolean().optional() }).optional(),
  csi: anyObject("A CSI driver volume (not supported by Kubeflare agents)."),
  ephemeral: anyObject("A generic ephemeral volume (not supported by Kubeflare agents)."),
});

// ---------------------------------------------------------------- scheduling

const NodeSelectorRequirement = named("io.k8s.api.core.v1.NodeSelectorRequirement", "A condition on a node label (or field).", {
  key: z.string().describe("The label key."),
  operator: z.string().describe("In, NotIn, Exists, DoesNotExist, Gt or Lt."),
  values: strList("Values; one integer for Gt and Lt, none for Exists and DoesNotExist."),
});
const NodeSelectorTerm = named("io.k8s.api.core.v1.NodeSelectorTerm", "Conditions that must all hold for a node.", {
  matchExpressions: z.array(NodeSelectorRequirement).describe("Conditions on node labels.").optional(),
  matchFields: z.array(NodeSelectorRequirement).describe("Conditions on node fields (metadata.name).").optional(),
});
const NodeSelector = named("io.k8s.api.core.v1.NodeSelector", "Terms of which at least one must hold.", {
  nodeSelectorTerms: z.array(NodeSelectorTerm).describe("The terms, ORed."),
});
const PreferredSchedulingTerm = named("io.k8s.api.core.v1.PreferredSchedulingTerm", "A weighted preference for nodes matching a term.", {
  weight: z.int32().describe("1-100."),
  preference: NodeSelectorTerm,
});
const NodeAffinity = named("io.k8s.api.core.v1.NodeAffinity", "Rules for which nodes the pod may or prefers to run on.", {
  requiredDuringSchedulingIgnoredDuringExecution: NodeSelector.optional().describe("Nodes must match to be considered."),
  preferredDuringSchedulingIgnoredDuringExecution: z.array(PreferredSchedulingTerm).describe("Matching nodes score higher.").optional(),
});
const PodAffinityTerm = named("io.k8s.api.core.v1.PodAffinityTerm", "Pods (by label) that must or must not share a topology domain with this pod.", {
  labelSelector: LabelSelector.optional(),
  namespaces: strList("Namespaces to look in; defaults to the pod's."),
  namespaceSelector: LabelSelector.optional(),
  topologyKey: z.string().describe("Node label defining the domain, such as kubernetes.io/hostname."),
  matchLabelKeys: strList("Pod label keys whose values are added to the selector."),
  mismatchLabelKeys: strList("Pod label keys whose values must differ."),
});
const WeightedPodAffinityTerm = named("io.k8s.api.core.v1.WeightedPodAffinityTerm", "A weighted pod (anti-)affinity preference.", {
  weight: z.int32(),
  podAffinityTerm: PodAffinityTerm,
});
const podAffinity = (id: string, description: string) =>
  named(id, description, {
    requiredDuringSchedulingIgnoredDuringExecution: z.array(PodAffinityTerm).optional(),
    preferredDuringSchedulingIgnoredDuringExecution: z.array(WeightedPodAffinityTerm).optional(),
  });
const Affinity = named("io.k8s.api.core.v1.Affinity", "Scheduling rules relative to nodes and to other pods.", {
  nodeAffinity: NodeAffinity.optional(),
  podAffinity: podAffinity("io.k8s.api.core.v1.PodAffinity", "Place the pod near matching pods.").optional(),
  podAntiAffinity: podAffinity("io.k8s.api.core.v1.PodAntiAffinity", "Keep the pod away from matching pods.").optional(),
});
export const Toleration = named("io.k8s.api.core.v1.Toleration", "Lets the pod run on (or stay on) nodes with a matching taint.", {
  key: str("Taint key; empty with operator Exists tolerates every taint."),
  operator: str("Equal (default) or Exists."),
  value: str("Taint value to match with Equal."),
  effect: str("NoSchedule, PreferNoSchedule or NoExecute; empty matches all."),
  tolerationSeconds: int64("For NoExecute: how long the pod may stay after the taint appears (unset = forever)."),
});
const TopologySpreadConstraint = named("io.k8s.api.core.v1.TopologySpreadConstraint", "How evenly matching pods must spread over a topology.", {
  maxSkew: z.int32(),
  topologyKey: z.string(),
  whenUnsatisfiable: z.string(),
  labelSelector: LabelSelector.optional(),
  minDomains: int32("Minimum number of domains."),
  nodeAffinityPolicy: str("Honor or Ignore."),
  nodeTaintsPolicy: str("Honor or Ignore."),
  matchLabelKeys: strList("Pod label keys added to the selector."),
});
const PodSecurityContext = named("io.k8s.api.core.v1.PodSecurityContext", "Security settings for every container of the pod.", {
  runAsUser: int64("UID for all containers."),
  runAsGroup: int64("GID for all containers."),
  runAsNonRoot: bool("Refuse to start containers as UID 0."),
  fsGroup: int64("Group that owns volumes."),
  supplementalGroups: z.array(z.int()).optional(),
  fsGroupChangePolicy: str("OnRootMismatch or Always."),
  sysctls: z.array(z.strictObject({ name: z.string(), value: z.string() })).optional(),
  seccompProfile: anyObject("Seccomp options."),
  appArmorProfile: anyObject("AppArmor options."),
  seLinuxOptions: anyObject("SELinux options."),
  windowsOptions: anyObject("Windows options (ignored)."),
  supplementalGroupsPolicy: str("Merge or Strict."),
  seLinuxChangePolicy: str("Recursive or MountOption."),
});

export const PodSpec = named("io.k8s.api.core.v1.PodSpec", "What a pod runs and how: its containers, volumes and scheduling rules.", {
  containers: keyedList(Container, "name", "The containers of the pod; at least one.").unwrap().describe("The containers of the pod; at least one."),
  initContainers: keyedList(Container, "name", "Containers run one after another, to completion, before the main containers start."),
  ephemeralContainers: keyedList(EphemeralContainer, "name", "Debugging containers added to a running pod."),
  volumes: keyedList(Volume, "name", "Volumes the containers can mount."),
  restartPolicy: str("Always (default), OnFailure or Never."),
  terminationGracePeriodSeconds: int64("Seconds between the stop signal and the kill on deletion (default 30)."),
  activeDeadlineSeconds: int64("Seconds the pod may run before it is failed."),
  dnsPolicy: str("ClusterFirst (default), ClusterFirstWithHostNet, Default or None."),
  dnsConfig: anyObject("Extra DNS settings."),
  nodeSelector: strMap("Node labels the pod's node must have."),
  serviceAccountName: str("Service account to run as."),
  serviceAccount: str("Deprecated alias of serviceAccountName."),
  automountServiceAccountToken: bool("Whether to mount the service account token."),
  nodeName: str("The node the pod is bound to; set by the scheduler (or by you, to skip it)."),
  hostNetwork: bool("Use the node's network namespace (the pod's IP is the node's)."),
  hostPID: bool("Use the node's PID namespace."),
  hostIPC: bool("Use the node's IPC namespace."),
  shareProcessNamespace: bool("Share one PID namespace among the pod's containers."),
  securityContext: PodSecurityContext.optional(),
  imagePullSecrets: keyedList(named("io.k8s.api.core.v1.LocalObjectReference", "Names another object in the same namespace.", { name: str("Name of the object.") }), "name", "Secrets with registry credentials."),
  hostname: str("Host name of the pod; defaults to the pod name."),
  subdomain: str("DNS subdomain of the pod."),
  affinity: Affinity.optional(),
  schedulerName: str("Scheduler that places the pod (default-scheduler)."),
  tolerations: atomicList(Toleration, "Taints the pod tolerates."),
  hostAliases: keyedList(named("io.k8s.api.core.v1.HostAlias", "Extra /etc/hosts entries.", { ip: z.string(), hostnames: strList("Names for the IP.") }), "ip", "Entries added to the pod's /etc/hosts."),
  priorityClassName: str("Priority class of the pod."),
  priority: int32("Scheduling priority (from the priority class)."),
  preemptionPolicy: str("PreemptLowerPriority (default) or Never."),
  readinessGates: z.array(z.strictObject({ conditionType: z.string() })).optional(),
  runtimeClassName: str("Runtime class to run the pod with."),
  enableServiceLinks: bool("Whether Service environment variables are injected (default true)."),
  overhead: quantityMap("Resources the pod's sandbox itself uses."),
  topologySpreadConstraints: keyedList(TopologySpreadConstraint, "topologyKey", "How to spread matching pods over topology domains."),
  setHostnameAsFQDN: bool("Use the fully qualified domain name as host name."),
  os: z.strictObject({ name: z.string() }).optional(),
  hostUsers: bool("Use the host's user namespace (default true)."),
  schedulingGates: keyedList(z.strictObject({ name: z.string() }), "name", "Gates that hold the pod back from scheduling."),
  resourceClaims: z.array(z.record(z.string(), z.unknown())).optional(),
  resources: named("io.k8s.api.core.v1.PodLevelResources", "Resources for the whole pod.", { limits: quantityMap("Limits."), requests: quantityMap("Requests.") }).optional(),
});

const ContainerState = named("io.k8s.api.core.v1.ContainerState", "What a container is doing: waiting, running or terminated.", {
  waiting: z.strictObject({ reason: z.string().optional(), message: z.string().optional() }).optional(),
  running: z.strictObject({ startedAt: Time.optional() }).optional(),
  terminated: z
    .strictObject({
      exitCode: z.int32(),
      signal: z.int32().optional(),
      reason: z.string().optional(),
      message: z.string().optional(),
      startedAt: Time.optional(),
      finishedAt: Time.optional(),
      containerID: z.string().optional(),
    })
    .optional(),
});
const ContainerStatus = named("io.k8s.api.core.v1.ContainerStatus", "The reported state of one container.", {
  name: z.string(),
  state: ContainerState.optional(),
  lastState: ContainerState.optional(),
  ready: z.boolean().describe("Whether it passes its readiness probe."),
  restartCount: z.int32().describe("How many times it was restarted."),
  image: z.string(),
  imageID: z.string(),
  containerID: str("Runtime ID, such as docker://abc."),
  started: bool("Whether it has started (and passed its startup probe)."),
  allocatedResources: quantityMap("Resources allocated."),
  resources: ResourceRequirements.optional(),
  volumeMounts: z.array(z.record(z.string(), z.unknown())).optional(),
  user: anyObject("Identity the container runs as."),
  allocatedResourcesStatus: z.array(z.record(z.string(), z.unknown())).optional(),
  stopSignal: str("Signal used to stop it."),
});
const PodIP = named("io.k8s.api.core.v1.PodIP", "An IP address of the pod.", { ip: z.string() });
export const PodStatus = named("io.k8s.api.core.v1.PodStatus", "The observed state of a pod, reported by its node.", {
  phase: str("Pending, Running, Succeeded, Failed or Unknown."),
  conditions: keyedList(Condition("io.k8s.api.core.v1.PodCondition", "pod"), "type", "PodScheduled, Initialized, ContainersReady and Ready."),
  message: str("Why the pod is in this state."),
  reason: str("One word saying why, such as Evicted."),
  nominatedNodeName: str("Node picked for the pod after preemption."),
  hostIP: str("IP of the pod's node."),
  hostIPs: keyedList(named("io.k8s.api.core.v1.HostIP", "An IP of the pod's node.", { ip: z.string() }), "ip", "IPs of the node."),
  podIP: str("IP of the pod."),
  podIPs: keyedList(PodIP, "ip", "IPs of the pod."),
  startTime: Time.optional(),
  initContainerStatuses: z.array(ContainerStatus).optional(),
  containerStatuses: z.array(ContainerStatus).optional(),
  ephemeralContainerStatuses: z.array(ContainerStatus).optional(),
  qosClass: str("Guaranteed, Burstable or BestEffort (set by the server)."),
  resize: str("Resize state."),
  resourceClaimStatuses: z.array(z.record(z.string(), z.unknown())).optional(),
  observedGeneration: int64("The generation the status was computed for."),
});

export const Pod = named("io.k8s.api.core.v1.Pod", "A group of containers that run together on one node, sharing network and volumes.", {
  ...TYPE_META,
  metadata: meta,
  spec: PodSpec.optional().describe("What the pod should run."),
  status: PodStatus.optional().describe("What the pod is doing (reported by its node; read-only to most clients)."),
}, gvk("", "v1", "Pod"));

export const PodTemplateSpec = named("io.k8s.api.core.v1.PodTemplateSpec", "The pod a controller creates: labels and annotations, and a pod spec.", {
  metadata: meta,
  spec: PodSpec.optional().describe("Spec of the pods created from this template."),
});

// ---------------------------------------------------------------- other core kinds

const Taint = named("io.k8s.api.core.v1.Taint", "A mark on a node that repels pods which don't tolerate it.", {
  key: z.string().describe("The taint key."),
  value: str("The taint value."),
  effect: z.string().describe("NoSchedule, PreferNoSchedule or NoExecute."),
  timeAdded: Time.optional().describe("When a NoExecute taint was added."),
});
export const Node = named("io.k8s.api.core.v1.Node", "A machine that runs pods. Kubeflare agents register their nodes and keep them up to date.", {
  ...TYPE_META,
  metadata: meta,
  spec: named("io.k8s.api.core.v1.NodeSpec", "How the node may be used.", {
    podCIDR: str("Pod IP range of the node."),
    podCIDRs: strList("Pod IP ranges of the node."),
    providerID: str("ID of the machine at its provider."),
    unschedulable: bool("When true, no new pods are placed on the node (kubectl cordon)."),
    taints: atomicList(Taint, "Taints of the node."),
    externalID: str("Deprecated."),
    configSource: anyObject("Deprecated."),
  }).optional(),
  status: named("io.k8s.api.core.v1.NodeStatus", "The reported state of the node.", {
    capacity: quantityMap("Total resources of the node (cpu, memory, pods, ...)."),
    allocatable: quantityMap("Resources available to pods."),
    phase: str("Deprecated."),
    conditions: keyedList(Condition("io.k8s.api.core.v1.NodeCondition", "node"), "type", "Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable."),
    addresses: keyedList(named("io.k8s.api.core.v1.NodeAddress", "An address of the node.", { type: z.string(), address: z.string() }), "type", "Addresses of the node."),
    daemonEndpoints: anyObject("Ports of the node agent."),
    nodeInfo: named("io.k8s.api.core.v1.NodeSystemInfo", "Facts about the node's system.", {
      machineID: z.string().optional(),
      systemUUID: z.string().optional(),
      bootID: z.string().optional(),
      kernelVersion: z.string().optional(),
      osImage: z.string().optional(),
      containerRuntimeVersion: z.string().optional(),
      kubeletVersion: z.string().optional(),
      kubeProxyVersion: z.string().optional(),
      operatingSystem: z.string().optional(),
      architecture: z.string().optional(),
      swap: z.record(z.string(), z.unknown()).optional(),
    }).optional(),
    images: z.array(z.strictObject({ names: z.array(z.string()).optional(), sizeBytes: z.int().optional() })).optional(),
    volumesInUse: strList("Volumes in use."),
    volumesAttached: z.array(z.record(z.string(), z.unknown())).optional(),
    config: anyObject("Deprecated."),
    runtimeHandlers: z.array(z.record(z.string(), z.unknown())).optional(),
    features: anyObject("Node features."),
  }).optional(),
}, gvk("", "v1", "Node"));

const ServicePort = named("io.k8s.api.core.v1.ServicePort", "A port the Service exposes and where it sends the traffic.", {
  name: str("Name of the port; required when there are several."),
  protocol: str("TCP (default), UDP or SCTP."),
  appProtocol: str("Application protocol, such as http."),
  port: z.int32().describe("Port the Service listens on."),
  targetPort: IntOrString.optional().describe("Port number or name on the pods; defaults to port."),
  nodePort: int32("Port on every node (NodePort and LoadBalancer)."),
});
export const Service = named("io.k8s.api.core.v1.Service", "A stable name and address for a set of pods chosen by labels.", {
  ...TYPE_META,
  metadata: meta,
  spec: named("io.k8s.api.core.v1.ServiceSpec", "How the Service is exposed and which pods it selects.", {
    ports: keyedList(ServicePort, "port", "The ports the Service exposes."),
    selector: strMap("Pod labels that pick the Service's pods; without a selector you manage the Endpoints yourself."),
    clusterIP: str("Virtual IP of the Service (allocated by the server); None makes it headless."),
    clusterIPs: strList("Virtual IPs of the Service."),
    type: str("ClusterIP (default), NodePort, LoadBalancer or ExternalName."),
    externalIPs: strList("Extra IPs on which nodes accept the Service's traffic."),
    sessionAffinity: str("None (default) or ClientIP."),
    sessionAffinityConfig: anyObject("Settings for ClientIP affinity."),
    loadBalancerIP: str("Deprecated."),
    loadBalancerSourceRanges: strList("Client ranges allowed through the load balancer."),
    loadBalancerClass: str("Load balancer implementation."),
    externalName: str("DNS name an ExternalName Service points to."),
    externalTrafficPolicy: str("Cluster or Local."),
    internalTrafficPolicy: str("Cluster or Local."),
    healthCheckNodePort: int32("Health check port for Local traffic policy."),
    publishNotReadyAddresses: bool("List pods in the Endpoints before they are ready."),
    ipFamilies: strList("IPv4 and/or IPv6."),
    ipFamilyPolicy: str("SingleStack, PreferDualStack or RequireDualStack."),
    allocateLoadBalancerNodePorts: bool("Whether LoadBalancer Services get node ports."),
    trafficDistribution: str("Routing preference."),
  }).optional(),
  status: named("io.k8s.api.core.v1.ServiceStatus", "The observed state of the Service.", {
    loadBalancer: anyObject("Load balancer ingress points."),
    conditions: keyedList(Condition("io.k8s.api.core.v1.ServiceCondition", "Service"), "type", "Conditions of the Service."),
  }).optional(),
}, gvk("", "v1", "Service"));

const ObjectReference = named("io.k8s.api.core.v1.ObjectReference", "Points at another object.", {
  kind: str("Kind of the object."),
  namespace: str("Namespace of the object."),
  name: str("Name of the object."),
  uid: str("UID of the object."),
  apiVersion: str("API version of the object."),
  resourceVersion: str("Revision the reference was taken at."),
  fieldPath: str("A part of the object, such as spec.containers{web}."),
});
const EndpointAddress = named("io.k8s.api.core.v1.EndpointAddress", "One backend of a Service.", {
  ip: z.string().describe("IP of the backend."),
  hostname: str("Host name of the backend."),
  nodeName: str("Node the backend runs on."),
  targetRef: ObjectReference.optional().describe("The pod behind the address."),
});
export const Endpoints = named("io.k8s.api.core.v1.Endpoints", "The addresses behind a Service; maintained by the endpoints controller for Services with a selector.", {
  ...TYPE_META,
  metadata: meta,
  subsets: atomicList(
    named("io.k8s.api.core.v1.EndpointSubset", "Addresses that share the same ports.", {
      addresses: z.array(EndpointAddress).describe("Ready backends.").optional(),
      notReadyAddresses: z.array(EndpointAddress).describe("Backends that are not ready yet.").optional(),
      ports: z.array(named("io.k8s.api.core.v1.EndpointPort", "A port of the backends.", { name: str("Name, matching the Service port's."), port: z.int32(), protocol: str("TCP, UDP or SCTP."), appProtocol: str("Application protocol.") })).optional(),
    }),
    "Groups of addresses with their ports.",
  ),
}, gvk("", "v1", "Endpoints"));

export const Event = named("io.k8s.api.core.v1.Event", "A report of something that happened to an object, shown by kubectl describe.", {
  ...TYPE_META,
  metadata: meta,
  involvedObject: ObjectReference.describe("The object the event is about."),
  reason: str("Short CamelCase reason, such as Scheduled or FailedScheduling."),
  message: str("What happened, for humans."),
  source: named("io.k8s.api.core.v1.EventSource", "Who reported the event.", { component: str("The reporting component."), host: str("The node it ran on.") }).optional(),
  firstTimestamp: Time.optional().describe("When the event first happened."),
  lastTimestamp: Time.optional().describe("When it last happened."),
  count: int32("How many times it happened."),
  type: str("Normal or Warning."),
  eventTime: MicroTime.optional(),
  series: anyObject("Repeats of the event."),
  action: str("What was done."),
  related: ObjectReference.optional(),
  reportingComponent: str("The reporting controller."),
  reportingInstance: str("The reporting instance."),
}, gvk("", "v1", "Event"));

export const ConfigMap = named("io.k8s.api.core.v1.ConfigMap", "Configuration data for pods, as key/value pairs.", {
  ...TYPE_META,
  metadata: meta,
  data: strMap("UTF-8 values by key."),
  binaryData: strMap("Binary values by key, base64-encoded."),
  immutable: bool("When true, data can no longer be changed."),
}, gvk("", "v1", "ConfigMap"));

export const Secret = named("io.k8s.api.core.v1.Secret", "Sensitive data for pods, such as passwords and keys.", {
  ...TYPE_META,
  metadata: meta,
  data: strMap("Values by key, base64-encoded."),
  stringData: strMap("Plain-text values by key, write-only: the server moves them into data."),
  type: str("Opaque (default), kubernetes.io/tls, kubernetes.io/dockerconfigjson, ..."),
  immutable: bool("When true, data can no longer be changed."),
}, gvk("", "v1", "Secret"));

export const Namespace = named("io.k8s.api.core.v1.Namespace", "A scope for names; deleting it deletes everything in it.", {
  ...TYPE_META,
  metadata: meta,
  spec: named("io.k8s.api.core.v1.NamespaceSpec", "Settings of the namespace.", { finalizers: strList("Work left before the namespace can go; the namespace controller clears 'kubernetes' once the content is deleted.") }).optional(),
  status: named("io.k8s.api.core.v1.NamespaceStatus", "The state of the namespace.", {
    phase: str("Active or Terminating."),
    conditions: keyedList(Condition("io.k8s.api.core.v1.NamespaceCondition", "namespace"), "type", "Conditions of the namespace."),
  }).optional(),
}, gvk("", "v1", "Namespace"));

export const ReplicationController = named("io.k8s.api.core.v1.ReplicationController", "Keeps a number of identical pods running, replacing those that fail or are deleted.", {
  ...TYPE_META,
  metadata: meta,
  spec: named("io.k8s.api.core.v1.ReplicationControllerSpec", "How many pods, which pods, and from what template.", {
    replicas: int32("Number of pods to keep (default 1)."),
    minReadySeconds: int32("Seconds a ready pod must stay ready to count as available."),
    selector: strMap("Labels of the pods it manages; defaults to the template's labels."),
    template: PodTemplateSpec.optional().describe("The pods it creates."),
  }).optional(),
  status: named("io.k8s.api.core.v1.ReplicationControllerStatus", "The observed state.", {
    replicas: z.int32().describe("Pods that exist."),
    fullyLabeledReplicas: int32("Pods with all the template's labels."),
    readyReplicas: int32("Pods that are ready."),
    availableReplicas: int32("Pods ready for at least minReadySeconds."),
    observedGeneration: int64("The generation last acted on."),
    conditions: keyedList(Condition("io.k8s.api.core.v1.ReplicationControllerCondition", "controller"), "type", "Conditions."),
  }).optional(),
}, gvk("", "v1", "ReplicationController"));
