/** core/v1 pod types: containers, volumes, scheduling, the pod spec and status, Pod and PodTemplateSpec. */
import { atomic, atomicMap, boolean, gvk, int32, int64, json, keyed, listOf, mapList, mapOf, object, oneOf, opt, req, string, stringMap } from "./dsl";
import { condition, conditionsField, IntOrString, LabelSelector, ObjectMeta, Quantity, Time } from "./meta";

// ---------------------------------------------------------------- enums (in kube-apiserver's "supported values" order)

export const PROTOCOLS = ["SCTP", "TCP", "UDP"] as const;
export const RESTART_POLICIES = ["Always", "OnFailure", "Never"] as const;
export const DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"] as const;
export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export const TERMINATION_MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"] as const;
export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
export const TOLERATION_OPERATORS = ["Equal", "Exists"] as const;
export const NODE_SELECTOR_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"] as const;
export const URI_SCHEMES = ["HTTP", "HTTPS"] as const;
export const MOUNT_PROPAGATIONS = ["None", "HostToContainer", "Bidirectional"] as const;
export const PREEMPTION_POLICIES = ["Never", "PreemptLowerPriority"] as const;
export const HOST_PATH_TYPES = ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"] as const;
export const STORAGE_MEDIA = ["", "Memory", "HugePages"] as const;

export const LocalObjectReference = object(
  "io.k8s.api.core.v1.LocalObjectReference",
  "Names another object in the same namespace.",
  { name: opt(string, "Name of the object.") },
  atomicMap,
);

const meta = opt(ObjectMeta, "Standard object metadata: name, namespace, labels, annotations and the fields the server maintains.");
const localName = (what: string) => opt(string, `Name of the ${what}, in the pod's namespace.`);

// ---------------------------------------------------------------- environment

export const ObjectFieldSelector = object(
  "io.k8s.api.core.v1.ObjectFieldSelector",
  "Picks one field of the pod, such as metadata.name, metadata.labels['app'] or status.podIP.",
  {
    apiVersion: opt(string, "API version the field path is written against; defaults to v1."),
    fieldPath: req(string, "Path of the field to read."),
  },
  atomicMap,
);

export const ResourceFieldSelector = object(
  "io.k8s.api.core.v1.ResourceFieldSelector",
  "Picks a resource request or limit of a container, such as limits.memory, optionally scaled by a divisor.",
  {
    containerName: opt(string, "The container to read; required in volumes, defaults to the current container in env."),
    resource: req(string, "One of limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu, requests.memory, requests.ephemeral-storage."),
    divisor: opt(Quantity, "Unit the value is expressed in, such as 1m or 1Mi; defaults to 1."),
  },
  atomicMap,
);

const keySelector = (kind: "ConfigMap" | "Secret") =>
  object(
    `io.k8s.api.core.v1.${kind}KeySelector`,
    `Picks one key of a ${kind} in the pod's namespace.`,
    {
      name: localName(kind),
      key: req(string, "The key to read."),
      optional: opt(boolean, `Whether the pod may start when the ${kind} or the key does not exist.`),
    },
    atomicMap,
  );
export const ConfigMapKeySelector = keySelector("ConfigMap");
export const SecretKeySelector = keySelector("Secret");

export const EnvVarSource = object("io.k8s.api.core.v1.EnvVarSource", "Where an environment variable's value comes from; exactly one source must be set.", {
  fieldRef: opt(ObjectFieldSelector, "A field of the pod."),
  resourceFieldRef: opt(ResourceFieldSelector, "A resource request or limit of a container."),
  configMapKeyRef: opt(ConfigMapKeySelector, "A key of a ConfigMap."),
  secretKeyRef: opt(SecretKeySelector, "A key of a Secret."),
});

export const EnvVar = object("io.k8s.api.core.v1.EnvVar", "One environment variable of a container.", {
  name: req(string, "Name of the variable."),
  value: opt(string, "Literal value. $(NAME) expands to an earlier variable of the container; $$(NAME) is kept literally."),
  valueFrom: opt(EnvVarSource, "Read the value from elsewhere; cannot be combined with a non-empty value."),
});

const envSource = (kind: "ConfigMap" | "Secret") =>
  object(`io.k8s.api.core.v1.${kind}EnvSource`, `A ${kind} whose keys all become environment variables.`, {
    name: localName(kind),
    optional: opt(boolean, `Whether the pod may start when the ${kind} does not exist.`),
  });

export const EnvFromSource = object("io.k8s.api.core.v1.EnvFromSource", "Imports every key of a ConfigMap or a Secret as environment variables.", {
  prefix: opt(string, "Text put in front of every imported variable name."),
  configMapRef: opt(envSource("ConfigMap"), "The ConfigMap to import."),
  secretRef: opt(envSource("Secret"), "The Secret to import."),
});

// ---------------------------------------------------------------- container parts

export const ContainerPort = object("io.k8s.api.core.v1.ContainerPort", "A network port a container listens on.", {
  name: opt(string, "A name for the port, an IANA service name of at most 15 characters, unique in the container; Services can target the port by it."),
  hostPort: opt(int32, "Port of the node to expose the container port on (1-65535). With hostNetwork it must equal containerPort. Rarely needed."),
  containerPort: req(int32, "Port number in the pod's network namespace (1-65535)."),
  protocol: opt(oneOf(PROTOCOLS), "Protocol of the port: TCP (the default), UDP or SCTP."),
  hostIP: opt(string, "Node address to bind the host port to."),
});

export const VolumeMount = object("io.k8s.api.core.v1.VolumeMount", "Where one of the pod's volumes appears inside a container.", {
  name: req(string, "Name of the pod volume to mount."),
  readOnly: opt(boolean, "Mount the volume read-only."),
  recursiveReadOnly: opt(
    oneOf(["Disabled", "IfPossible", "Enabled"]),
    "Whether read-only mounts are read-only in sub-mounts too: Disabled, IfPossible or Enabled.",
  ),
  mountPath: req(string, "Path inside the container to mount at; must not contain ':'."),
  subPath: opt(string, "Mount this path of the volume instead of its root."),
  mountPropagation: opt(oneOf(MOUNT_PROPAGATIONS), "How mounts propagate between host and container: None, HostToContainer or Bidirectional."),
  subPathExpr: opt(string, "Like subPath, with $(VAR) references to the container's environment expanded."),
});

export const VolumeDevice = object("io.k8s.api.core.v1.VolumeDevice", "A raw block volume exposed inside a container as a device.", {
  name: req(string, "Name of the pod volume (a persistentVolumeClaim)."),
  devicePath: req(string, "Path of the device inside the container."),
});

export const ResourceClaim = object("io.k8s.api.core.v1.ResourceClaim", "A claim of the pod (spec.resourceClaims) that this container uses.", {
  name: req(string, "Name of the entry in the pod's resourceClaims."),
  request: opt(string, "One request of the claim, when only part of it is used."),
});

export const ResourceRequirements = object(
  "io.k8s.api.core.v1.ResourceRequirements",
  "Compute resources of a container: what it asks for (requests, which scheduling reserves) and what it may use at most (limits).",
  {
    limits: opt(
      mapOf(Quantity),
      "Most of each resource the container may use, such as cpu: 500m or memory: 128Mi. Going over the memory limit kills the container.",
    ),
    requests: opt(
      mapOf(Quantity),
      "Resources reserved for the container when scheduling it. Each defaults to its limit when only the limit is given; a request may not exceed its limit.",
    ),
    claims: opt(listOf(ResourceClaim), "Dynamically allocated resources (from spec.resourceClaims) the container uses.", mapList("name")),
  },
);

export const ContainerResizePolicy = object("io.k8s.api.core.v1.ContainerResizePolicy", "How a container takes an in-place change of one resource.", {
  resourceName: req(string, "The resource: cpu or memory."),
  restartPolicy: req(oneOf(["NotRequired", "RestartContainer"]), "NotRequired (resize while running) or RestartContainer."),
});

// ---------------------------------------------------------------- probes and hooks

export const ExecAction = object("io.k8s.api.core.v1.ExecAction", "Runs a command inside the container; exit status 0 means success.", {
  command: opt(listOf(string), "The command and its arguments, run directly (not in a shell unless you call one).", atomic),
});

export const HTTPHeader = object("io.k8s.api.core.v1.HTTPHeader", "One header of an HTTP probe request.", {
  name: req(string, "Header name."),
  value: req(string, "Header value."),
});

export const HTTPGetAction = object("io.k8s.api.core.v1.HTTPGetAction", "An HTTP GET request; a status from 200 to 399 means success.", {
  path: opt(string, "Path to request; defaults to /."),
  port: req(IntOrString, "Port number, or name of a container port, to connect to.", { "x-kubernetes-int-or-string": true }),
  host: opt(string, "Host to connect to; defaults to the pod IP. Set a Host header instead for virtual hosts."),
  scheme: opt(oneOf(URI_SCHEMES), "HTTP (the default) or HTTPS; certificates are not verified."),
  httpHeaders: opt(listOf(HTTPHeader), "Extra request headers.", atomic),
});

export const TCPSocketAction = object("io.k8s.api.core.v1.TCPSocketAction", "Opens a TCP connection; success when it connects.", {
  port: req(IntOrString, "Port number, or name of a container port, to connect to.", { "x-kubernetes-int-or-string": true }),
  host: opt(string, "Host to connect to; defaults to the pod IP."),
});

export const GRPCAction = object("io.k8s.api.core.v1.GRPCAction", "Calls the standard gRPC health checking service.", {
  port: req(int32, "Port of the gRPC service (1-65535)."),
  service: opt(string, "Service name passed in the health check request; empty checks the server as a whole."),
});

export const SleepAction = object("io.k8s.api.core.v1.SleepAction", "Waits for a number of seconds.", {
  seconds: req(int64, "How long to wait."),
});

export const Probe = object(
  "io.k8s.api.core.v1.Probe",
  "A periodic check of a container's health. Exactly one of exec, httpGet, tcpSocket and grpc must be set.",
  {
    exec: opt(ExecAction, "Run a command in the container."),
    httpGet: opt(HTTPGetAction, "Send an HTTP GET request."),
    tcpSocket: opt(TCPSocketAction, "Open a TCP connection."),
    grpc: opt(GRPCAction, "Call the gRPC health service."),
    initialDelaySeconds: opt(int32, "Seconds after the container starts before the first check."),
    timeoutSeconds: opt(int32, "Seconds before a check counts as failed; defaults to 1."),
    periodSeconds: opt(int32, "Seconds between checks; defaults to 10."),
    successThreshold: opt(int32, "Consecutive successes that count as healthy after a failure; defaults to 1, and must be 1 for liveness and startup probes."),
    failureThreshold: opt(int32, "Consecutive failures that count as unhealthy; defaults to 3."),
    terminationGracePeriodSeconds: opt(int64, "Grace period for a container killed by this probe, overriding the pod's."),
  },
);

export const LifecycleHandler = object(
  "io.k8s.api.core.v1.LifecycleHandler",
  "An action run at a container lifecycle event; exactly one kind of action must be set.",
  {
    exec: opt(ExecAction, "Run a command in the container."),
    httpGet: opt(HTTPGetAction, "Send an HTTP GET request."),
    tcpSocket: opt(TCPSocketAction, "Deprecated; kept for compatibility and never run."),
    sleep: opt(SleepAction, "Wait for a while."),
  },
);

export const Lifecycle = object("io.k8s.api.core.v1.Lifecycle", "Actions the node runs right after a container starts and right before it is stopped.", {
  postStart: opt(LifecycleHandler, "Runs after the container is created; the container is restarted if it fails."),
  preStop: opt(LifecycleHandler, "Runs before the container is stopped for deletion or a failed probe; it counts against the grace period."),
  stopSignal: opt(string, "Signal that stops the container, such as SIGTERM; defaults to the image's."),
});

// ---------------------------------------------------------------- security

export const Capabilities = object("io.k8s.api.core.v1.Capabilities", "Linux capabilities to add to and drop from the container runtime's default set.", {
  add: opt(listOf(string), "Capabilities to add, such as NET_ADMIN.", atomic),
  drop: opt(listOf(string), "Capabilities to drop, such as ALL.", atomic),
});

export const SELinuxOptions = object("io.k8s.api.core.v1.SELinuxOptions", "SELinux labels applied to a container.", {
  user: opt(string, "SELinux user."),
  role: opt(string, "SELinux role."),
  type: opt(string, "SELinux type."),
  level: opt(string, "SELinux level."),
});

export const SeccompProfile = object("io.k8s.api.core.v1.SeccompProfile", "The seccomp filter applied to a container.", {
  type: req(oneOf(["Localhost", "RuntimeDefault", "Unconfined"]), "RuntimeDefault, Unconfined, or Localhost (a profile file on the node)."),
  localhostProfile: opt(string, "Path of the profile, relative to the node's seccomp directory; only with Localhost."),
});

export const AppArmorProfile = object("io.k8s.api.core.v1.AppArmorProfile", "The AppArmor profile applied to a container.", {
  type: req(oneOf(["Localhost", "RuntimeDefault", "Unconfined"]), "RuntimeDefault, Unconfined, or Localhost (a profile loaded on the node)."),
  localhostProfile: opt(string, "Name of the loaded profile; only with Localhost."),
});

export const WindowsSecurityContextOptions = object(
  "io.k8s.api.core.v1.WindowsSecurityContextOptions",
  "Windows-specific security settings; ignored on Linux nodes.",
  {
    gmsaCredentialSpecName: opt(string, "Name of the GMSA credential spec to use."),
    gmsaCredentialSpec: opt(string, "Inline GMSA credential spec."),
    runAsUserName: opt(string, "User name to run the entrypoint as."),
    hostProcess: opt(boolean, "Run as a Windows host process."),
  },
);

export const SecurityContext = object("io.k8s.api.core.v1.SecurityContext", "Security settings of one container; they override the pod's where both are set.", {
  capabilities: opt(Capabilities, "Capabilities to add and drop."),
  privileged: opt(boolean, "Run privileged: with nearly all the powers of root on the node."),
  seLinuxOptions: opt(SELinuxOptions, "SELinux context of the container."),
  windowsOptions: opt(WindowsSecurityContextOptions, "Windows-specific settings."),
  runAsUser: opt(int64, "UID to run the entrypoint as; defaults to the image's."),
  runAsGroup: opt(int64, "GID to run the entrypoint as; defaults to the runtime's."),
  runAsNonRoot: opt(boolean, "Refuse to start the container if it would run as UID 0."),
  readOnlyRootFilesystem: opt(boolean, "Mount the container's root filesystem read-only."),
  allowPrivilegeEscalation: opt(boolean, "Whether a process may gain more privileges than its parent (no_new_privs)."),
  procMount: opt(oneOf(["Default", "Unmasked"]), "Default masks parts of /proc; Unmasked does not."),
  seccompProfile: opt(SeccompProfile, "Seccomp filter of the container."),
  appArmorProfile: opt(AppArmorProfile, "AppArmor profile of the container."),
});

// ---------------------------------------------------------------- containers

const containerFields = (what: string) => ({
  name: req(string, `Name of the ${what}: a DNS label, unique among all containers of the pod.`),
  image: opt(string, "Container image reference, such as nginx:1.27 or registry.example.com/app@sha256:...; required for pods."),
  command: opt(listOf(string), "Entrypoint to run instead of the image's ENTRYPOINT; $(VAR) references expand from the container environment.", atomic),
  args: opt(listOf(string), "Arguments to the entrypoint, replacing the image's CMD; $(VAR) references expand.", atomic),
  workingDir: opt(string, "Working directory of the entrypoint; defaults to the image's."),
  ports: opt(
    listOf(ContainerPort),
    "Ports the container exposes. Informational, except for host ports and for Services that name a port.",
    keyed("containerPort", ["containerPort", "protocol"]),
  ),
  envFrom: opt(listOf(EnvFromSource), "ConfigMaps and Secrets whose keys become environment variables; explicit env entries win.", atomic),
  env: opt(listOf(EnvVar), "Environment variables of the container.", keyed("name")),
  resources: opt(ResourceRequirements, "CPU, memory and other resources the container requests and is limited to."),
  resizePolicy: opt(listOf(ContainerResizePolicy), "How each resource may be resized in place.", atomic),
  restartPolicy: opt(
    oneOf(["Always"], { check: false }),
    "Only for init containers: Always makes it a sidecar that starts before, and runs alongside, the main containers.",
  ),
  volumeMounts: opt(listOf(VolumeMount), "Pod volumes mounted into the container.", keyed("mountPath")),
  volumeDevices: opt(listOf(VolumeDevice), "Raw block volumes exposed as devices.", keyed("devicePath")),
  livenessProbe: opt(Probe, "Restart the container when this check fails."),
  readinessProbe: opt(Probe, "Keep the pod out of Service endpoints while this check fails."),
  startupProbe: opt(Probe, "Hold back the other probes until this check succeeds once; restart the container if it never does."),
  lifecycle: opt(Lifecycle, "Actions run after start and before stop."),
  terminationMessagePath: opt(string, "File whose content becomes the container's termination message; defaults to /dev/termination-log."),
  terminationMessagePolicy: opt(
    oneOf(TERMINATION_MESSAGE_POLICIES, { check: false }),
    "File (the default) or FallbackToLogsOnError, which uses the end of the log when the file is empty.",
  ),
  imagePullPolicy: opt(oneOf(PULL_POLICIES), "Always, IfNotPresent or Never. Defaults to Always for the latest tag (or no tag), IfNotPresent otherwise."),
  securityContext: opt(SecurityContext, "Security settings of the container."),
  stdin: opt(boolean, "Keep a stdin buffer open for attaching."),
  stdinOnce: opt(boolean, "Close stdin after the first attach session ends."),
  tty: opt(boolean, "Allocate a terminal; usually together with stdin."),
});

export const Container = object(
  "io.k8s.api.core.v1.Container",
  "One container of a pod: the image to run, with its command, environment, ports, resources and probes.",
  containerFields("container"),
);

export const EphemeralContainer = object(
  "io.k8s.api.core.v1.EphemeralContainer",
  "A temporary container added to a running pod for debugging (kubectl debug). It has no ports, probes or resources and is never restarted.",
  {
    ...containerFields("ephemeral container"),
    targetContainerName: opt(string, "Container whose process namespace the ephemeral container joins."),
  },
);

// ---------------------------------------------------------------- volumes

export const KeyToPath = object("io.k8s.api.core.v1.KeyToPath", "Puts one key of a ConfigMap or Secret at a chosen path in the volume.", {
  key: req(string, "The key to project."),
  path: req(string, "Relative path of the file; may not contain '..' or start with it."),
  mode: opt(int32, "Permission bits of the file (0-0777, as a decimal number in JSON); defaults to the volume's defaultMode."),
});

export const EmptyDirVolumeSource = object("io.k8s.api.core.v1.EmptyDirVolumeSource", "An empty directory created with the pod and deleted with it.", {
  medium: opt(
    oneOf(STORAGE_MEDIA, { check: false }),
    'Storage behind the directory: "" for the node\'s disk, Memory for a tmpfs, HugePages (or HugePages-<size>) for huge pages.',
  ),
  sizeLimit: opt(Quantity, "Most storage the directory may use."),
});

export const HostPathVolumeSource = object(
  "io.k8s.api.core.v1.HostPathVolumeSource",
  "A file or directory of the node, mounted into the pod. Gives access to the host: use with care.",
  {
    path: req(string, "Path on the node."),
    type: opt(
      oneOf(HOST_PATH_TYPES),
      'What must exist at the path: "" (no check), DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice.',
    ),
  },
);

export const ConfigMapVolumeSource = object("io.k8s.api.core.v1.ConfigMapVolumeSource", "The keys of a ConfigMap as files.", {
  name: localName("ConfigMap"),
  items: opt(listOf(KeyToPath), "Only these keys, at these paths; by default every key, named after itself.", atomic),
  defaultMode: opt(int32, "Permission bits of the files; defaults to 0644."),
  optional: opt(boolean, "Whether the pod may start when the ConfigMap or a listed key does not exist."),
});

export const SecretVolumeSource = object("io.k8s.api.core.v1.SecretVolumeSource", "The keys of a Secret as files.", {
  secretName: opt(string, "Name of the Secret, in the pod's namespace."),
  items: opt(listOf(KeyToPath), "Only these keys, at these paths; by default every key, named after itself.", atomic),
  defaultMode: opt(int32, "Permission bits of the files; defaults to 0644."),
  optional: opt(boolean, "Whether the pod may start when the Secret or a listed key does not exist."),
});

export const PersistentVolumeClaimVolumeSource = object(
  "io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource",
  "The volume bound to a PersistentVolumeClaim of the pod's namespace.",
  {
    claimName: req(string, "Name of the claim."),
    readOnly: opt(boolean, "Mount the volume read-only."),
  },
);

export const DownwardAPIVolumeFile = object("io.k8s.api.core.v1.DownwardAPIVolumeFile", "A file holding one field of the pod or one resource of a container.", {
  path: req(string, "Relative path of the file."),
  fieldRef: opt(ObjectFieldSelector, "The pod field to write: metadata.name, metadata.namespace, metadata.uid, metadata.labels or metadata.annotations."),
  resourceFieldRef: opt(ResourceFieldSelector, "The container resource to write."),
  mode: opt(int32, "Permission bits of the file."),
});

export const DownwardAPIVolumeSource = object("io.k8s.api.core.v1.DownwardAPIVolumeSource", "Fields of the pod, and resources of its containers, as files.", {
  items: opt(listOf(DownwardAPIVolumeFile), "The files.", atomic),
  defaultMode: opt(int32, "Permission bits of the files; defaults to 0644."),
});

const projection = (kind: "ConfigMap" | "Secret") =>
  object(`io.k8s.api.core.v1.${kind}Projection`, `The keys of a ${kind}, as files of a projected volume.`, {
    name: localName(kind),
    items: opt(listOf(KeyToPath), "Only these keys, at these paths.", atomic),
    optional: opt(boolean, `Whether the pod may start when the ${kind} does not exist.`),
  });

export const ServiceAccountTokenProjection = object(
  "io.k8s.api.core.v1.ServiceAccountTokenProjection",
  "A token of the pod's service account, written to a file and renewed before it expires.",
  {
    audience: opt(string, "Intended audience of the token; defaults to the API server's."),
    expirationSeconds: opt(int64, "Requested lifetime of the token; defaults to one hour, at least ten minutes."),
    path: req(string, "Relative path of the token file."),
  },
);

export const VolumeProjection = object("io.k8s.api.core.v1.VolumeProjection", "One source of a projected volume; exactly one field must be set.", {
  configMap: opt(projection("ConfigMap"), "Keys of a ConfigMap."),
  secret: opt(projection("Secret"), "Keys of a Secret."),
  downwardAPI: opt(
    object("io.k8s.api.core.v1.DownwardAPIProjection", "Pod fields and container resources, as files of a projected volume.", {
      items: opt(listOf(DownwardAPIVolumeFile), "The files.", atomic),
    }),
    "Fields of the pod.",
  ),
  serviceAccountToken: opt(ServiceAccountTokenProjection, "A service account token."),
  clusterTrustBundle: opt(json, "Certificates of ClusterTrustBundle objects."),
});

export const ProjectedVolumeSource = object(
  "io.k8s.api.core.v1.ProjectedVolumeSource",
  "Several sources (ConfigMaps, Secrets, pod fields, tokens) combined in one directory.",
  {
    sources: opt(listOf(VolumeProjection), "The sources, in order.", atomic),
    defaultMode: opt(int32, "Permission bits of the files; defaults to 0644."),
  },
);

export const NFSVolumeSource = object("io.k8s.api.core.v1.NFSVolumeSource", "An NFS export, mounted into the pod.", {
  server: req(string, "Host name or IP of the NFS server."),
  path: req(string, "Path of the export."),
  readOnly: opt(boolean, "Mount the export read-only."),
});

export const CSIVolumeSource = object("io.k8s.api.core.v1.CSIVolumeSource", "An inline volume provided by a CSI driver.", {
  driver: req(string, "Name of the CSI driver."),
  readOnly: opt(boolean, "Mount the volume read-only."),
  fsType: opt(string, "Filesystem type, such as ext4."),
  volumeAttributes: opt(stringMap, "Driver-specific settings."),
  nodePublishSecretRef: opt(LocalObjectReference, "Secret with credentials for the driver."),
});

export const ImageVolumeSource = object("io.k8s.api.core.v1.ImageVolumeSource", "The content of an OCI image or artifact, mounted read-only.", {
  reference: opt(string, "Image reference, as for a container image."),
  pullPolicy: opt(oneOf(PULL_POLICIES), "Always, IfNotPresent or Never."),
});

/** The legacy and cloud volume sources, kept as they are but not modelled. */
const OTHER_VOLUME_SOURCES = [
  "awsElasticBlockStore",
  "azureDisk",
  "azureFile",
  "cephfs",
  "cinder",
  "fc",
  "flexVolume",
  "flocker",
  "gcePersistentDisk",
  "gitRepo",
  "glusterfs",
  "iscsi",
  "photonPersistentDisk",
  "portworxVolume",
  "quobyte",
  "rbd",
  "scaleIO",
  "storageos",
  "vsphereVolume",
  "ephemeral",
];

export const Volume = object(
  "io.k8s.api.core.v1.Volume",
  "A named volume that the pod's containers can mount. Exactly one source must be set; none at all means an emptyDir.",
  {
    name: req(string, "Name of the volume: a DNS label, unique in the pod."),
    emptyDir: opt(EmptyDirVolumeSource, "A scratch directory that lives as long as the pod."),
    hostPath: opt(HostPathVolumeSource, "A path of the node."),
    configMap: opt(ConfigMapVolumeSource, "The keys of a ConfigMap as files."),
    secret: opt(SecretVolumeSource, "The keys of a Secret as files."),
    persistentVolumeClaim: opt(PersistentVolumeClaimVolumeSource, "A persistent volume, through its claim."),
    downwardAPI: opt(DownwardAPIVolumeSource, "Pod fields as files."),
    projected: opt(ProjectedVolumeSource, "Several sources in one directory."),
    nfs: opt(NFSVolumeSource, "An NFS export."),
    csi: opt(CSIVolumeSource, "A volume from a CSI driver."),
    image: opt(ImageVolumeSource, "The content of an OCI image."),
    ...Object.fromEntries(OTHER_VOLUME_SOURCES.map((k) => [k, opt(json, `A ${k} volume; kept as given, not supported by Kubeflare agents.`)])),
  },
);

/** Every field of Volume that is a source (all but name). */
export const VOLUME_SOURCES = Object.keys(Volume.fields).filter((k) => k !== "name");

// ---------------------------------------------------------------- scheduling

export const NodeSelectorRequirement = object(
  "io.k8s.api.core.v1.NodeSelectorRequirement",
  "One condition on a node label (or, in matchFields, a node field).",
  {
    key: req(string, "The label key (or field name) the condition applies to."),
    operator: req(oneOf(NODE_SELECTOR_OPERATORS, { check: false }), "In, NotIn, Exists, DoesNotExist, Gt or Lt."),
    values: opt(listOf(string), "Values for In and NotIn (at least one); a single integer for Gt and Lt; none for Exists and DoesNotExist.", atomic),
  },
);

export const NodeSelectorTerm = object(
  "io.k8s.api.core.v1.NodeSelectorTerm",
  "Conditions that must all hold for a node to match. An empty term matches no node.",
  {
    matchExpressions: opt(listOf(NodeSelectorRequirement), "Conditions on node labels.", atomic),
    matchFields: opt(listOf(NodeSelectorRequirement), "Conditions on node fields; only metadata.name is supported.", atomic),
  },
  atomicMap,
);

export const NodeSelector = object(
  "io.k8s.api.core.v1.NodeSelector",
  "Terms of which at least one must match a node.",
  { nodeSelectorTerms: req(listOf(NodeSelectorTerm), "The terms; a node matches when any of them does.", atomic) },
  atomicMap,
);

export const PreferredSchedulingTerm = object("io.k8s.api.core.v1.PreferredSchedulingTerm", "A preference for nodes that match a term, with a weight.", {
  weight: req(int32, "How much matching counts, from 1 to 100."),
  preference: req(NodeSelectorTerm, "The term nodes are scored against."),
});

export const NodeAffinity = object("io.k8s.api.core.v1.NodeAffinity", "Rules about which nodes a pod may run on, or prefers.", {
  requiredDuringSchedulingIgnoredDuringExecution: opt(NodeSelector, "Nodes must match this to be considered; not re-checked once the pod runs."),
  preferredDuringSchedulingIgnoredDuringExecution: opt(listOf(PreferredSchedulingTerm), "Matching nodes score higher.", atomic),
});

export const PodAffinityTerm = object(
  "io.k8s.api.core.v1.PodAffinityTerm",
  "Pods (chosen by labels and namespaces) whose topology domain, defined by a node label, this pod should or should not share.",
  {
    labelSelector: opt(LabelSelector, "Labels of the pods the term is about."),
    namespaces: opt(listOf(string), "Namespaces to look for those pods in; defaults to the pod's own.", atomic),
    topologyKey: req(string, "Node label whose value defines a domain, such as kubernetes.io/hostname or topology.kubernetes.io/zone."),
    namespaceSelector: opt(LabelSelector, "Namespaces, by label, to look for those pods in."),
    matchLabelKeys: opt(listOf(string), "Label keys of this pod whose values are added to labelSelector as In conditions.", atomic),
    mismatchLabelKeys: opt(listOf(string), "Label keys of this pod whose values are added to labelSelector as NotIn conditions.", atomic),
  },
);

export const WeightedPodAffinityTerm = object("io.k8s.api.core.v1.WeightedPodAffinityTerm", "A pod affinity or anti-affinity preference with a weight.", {
  weight: req(int32, "How much the term counts, from 1 to 100."),
  podAffinityTerm: req(PodAffinityTerm, "The term."),
});

const podAffinity = (name: string, description: string, verb: string) =>
  object(name, description, {
    requiredDuringSchedulingIgnoredDuringExecution: opt(listOf(PodAffinityTerm), `Terms a node must satisfy (${verb}) for the pod to be placed on it.`, atomic),
    preferredDuringSchedulingIgnoredDuringExecution: opt(listOf(WeightedPodAffinityTerm), `Terms that make a node score higher (${verb}).`, atomic),
  });

export const PodAffinity = podAffinity(
  "io.k8s.api.core.v1.PodAffinity",
  "Rules that place a pod in the same domain as other pods.",
  "sharing a domain with the matching pods",
);
export const PodAntiAffinity = podAffinity(
  "io.k8s.api.core.v1.PodAntiAffinity",
  "Rules that keep a pod out of the domains of other pods.",
  "not sharing a domain with the matching pods",
);

export const Affinity = object("io.k8s.api.core.v1.Affinity", "Scheduling rules relative to nodes and to other pods.", {
  nodeAffinity: opt(NodeAffinity, "Rules about nodes."),
  podAffinity: opt(PodAffinity, "Rules that bring pods together."),
  podAntiAffinity: opt(PodAntiAffinity, "Rules that keep pods apart."),
});

export const Toleration = object("io.k8s.api.core.v1.Toleration", "Lets a pod be scheduled on, or stay on, nodes with a matching taint.", {
  key: opt(string, "Taint key to match; empty (with operator Exists) matches every taint."),
  operator: opt(oneOf(TOLERATION_OPERATORS, { check: false, allowEmpty: true }), "Equal (the default) matches the value; Exists matches any value."),
  value: opt(string, "Taint value to match with Equal; must be empty with Exists."),
  effect: opt(oneOf(TAINT_EFFECTS, { check: false, allowEmpty: true }), "Taint effect to match: NoSchedule, PreferNoSchedule or NoExecute; empty matches all."),
  tolerationSeconds: opt(int64, "Only for NoExecute: how long the pod may stay after the taint appears. Unset means forever."),
});

export const TopologySpreadConstraint = object(
  "io.k8s.api.core.v1.TopologySpreadConstraint",
  "How evenly pods that match a selector must be spread over the domains of a topology.",
  {
    maxSkew: req(int32, "Largest allowed difference in matching pods between two domains; at least 1."),
    topologyKey: req(string, "Node label whose value defines a domain."),
    whenUnsatisfiable: req(oneOf(["DoNotSchedule", "ScheduleAnyway"]), "DoNotSchedule (a hard rule) or ScheduleAnyway (a preference)."),
    labelSelector: opt(LabelSelector, "Labels of the pods that are counted."),
    minDomains: opt(int32, "Fewest eligible domains to assume; only with DoNotSchedule."),
    nodeAffinityPolicy: opt(oneOf(["Honor", "Ignore"]), "Whether the pod's node affinity limits the domains counted: Honor (the default) or Ignore."),
    nodeTaintsPolicy: opt(oneOf(["Honor", "Ignore"]), "Whether node taints limit the domains counted: Honor or Ignore (the default)."),
    matchLabelKeys: opt(listOf(string), "Label keys of this pod whose values are added to labelSelector.", atomic),
  },
);

// ---------------------------------------------------------------- the pod spec

export const Sysctl = object("io.k8s.api.core.v1.Sysctl", "A kernel parameter set for the pod.", {
  name: req(string, "Name of the parameter."),
  value: req(string, "Value to set."),
});

export const PodSecurityContext = object("io.k8s.api.core.v1.PodSecurityContext", "Security settings of the whole pod; containers may override some of them.", {
  seLinuxOptions: opt(SELinuxOptions, "SELinux context of every container."),
  windowsOptions: opt(WindowsSecurityContextOptions, "Windows-specific settings."),
  runAsUser: opt(int64, "UID the containers run as."),
  runAsGroup: opt(int64, "GID the containers run as."),
  runAsNonRoot: opt(boolean, "Refuse to start containers that would run as UID 0."),
  supplementalGroups: opt(listOf(int64), "Extra groups of the first process of every container.", atomic),
  supplementalGroupsPolicy: opt(oneOf(["Merge", "Strict"]), "Merge (the default) adds the image's groups; Strict uses only the listed ones."),
  fsGroup: opt(int64, "Group that owns the files of supporting volumes, and is added to every container."),
  sysctls: opt(listOf(Sysctl), "Namespaced kernel parameters.", atomic),
  fsGroupChangePolicy: opt(oneOf(["OnRootMismatch", "Always"]), "When volume ownership is changed to fsGroup: Always, or OnRootMismatch."),
  seccompProfile: opt(SeccompProfile, "Seccomp filter of every container."),
  appArmorProfile: opt(AppArmorProfile, "AppArmor profile of every container."),
  seLinuxChangePolicy: opt(string, "How volumes get their SELinux label: Recursive or MountOption."),
});

export const PodDNSConfigOption = object("io.k8s.api.core.v1.PodDNSConfigOption", "One resolver option, written to resolv.conf.", {
  name: opt(string, "Name of the option, such as ndots."),
  value: opt(string, "Value of the option."),
});

export const PodDNSConfig = object("io.k8s.api.core.v1.PodDNSConfig", "DNS settings merged into those the dnsPolicy produces.", {
  nameservers: opt(listOf(string), "Extra name server IPs (at most 3 in all).", atomic),
  searches: opt(listOf(string), "Extra search domains.", atomic),
  options: opt(listOf(PodDNSConfigOption), "Resolver options; these override options of the same name.", atomic),
});

export const HostAlias = object("io.k8s.api.core.v1.HostAlias", "An entry added to the pod's /etc/hosts.", {
  ip: req(string, "The IP address."),
  hostnames: opt(listOf(string), "Names for the IP.", atomic),
});

export const PodReadinessGate = object("io.k8s.api.core.v1.PodReadinessGate", "A pod condition that must be True for the pod to be ready.", {
  conditionType: req(string, "Type of the condition in status.conditions."),
});

export const PodSchedulingGate = object("io.k8s.api.core.v1.PodSchedulingGate", "A gate that keeps a pod from being scheduled until it is removed.", {
  name: req(string, "Name of the gate, a qualified name."),
});

export const PodOS = object("io.k8s.api.core.v1.PodOS", "The operating system the pod's containers need.", {
  name: req(string, "linux or windows."),
});

export const PodResourceClaim = object("io.k8s.api.core.v1.PodResourceClaim", "A dynamic resource claim the pod's containers may use.", {
  name: req(string, "Name of the entry, unique in the pod, which containers refer to."),
  resourceClaimName: opt(string, "An existing ResourceClaim of the namespace."),
  resourceClaimTemplateName: opt(string, "A ResourceClaimTemplate to make a claim for this pod from."),
});

export const PodSpec = object(
  "io.k8s.api.core.v1.PodSpec",
  "What a pod runs and how: its containers and volumes, how it restarts, and where it may be scheduled.",
  {
    volumes: opt(listOf(Volume), "Volumes the containers can mount.", keyed("name", ["name"], "merge,retainKeys")),
    initContainers: opt(
      listOf(Container),
      "Containers run one after another, each to completion, before the main containers start; sidecars (restartPolicy Always) keep running.",
      keyed("name"),
    ),
    containers: req(listOf(Container), "The main containers of the pod; at least one.", keyed("name")),
    ephemeralContainers: opt(
      listOf(EphemeralContainer),
      "Debugging containers added to the running pod; only through the ephemeralcontainers subresource.",
      keyed("name"),
    ),
    restartPolicy: opt(oneOf(RESTART_POLICIES), "When containers are restarted: Always (the default), OnFailure or Never."),
    terminationGracePeriodSeconds: opt(int64, "Seconds between the stop signal and the forced kill when the pod is deleted; defaults to 30. 0 kills at once."),
    activeDeadlineSeconds: opt(int64, "Seconds the pod may be active before it is failed, counted from its start."),
    dnsPolicy: opt(
      oneOf(DNS_POLICIES),
      "How the pod resolves names: ClusterFirst (the default), ClusterFirstWithHostNet, Default (the node's settings) or None (only dnsConfig).",
    ),
    nodeSelector: opt(stringMap, "Labels a node must have for the pod to be placed on it."),
    serviceAccountName: opt(string, "Service account the pod runs as."),
    serviceAccount: opt(string, "Deprecated alias of serviceAccountName."),
    automountServiceAccountToken: opt(boolean, "Whether a service account token is mounted into the containers."),
    nodeName: opt(string, "The node the pod is bound to. Set by the scheduler; setting it on create skips scheduling."),
    hostNetwork: opt(boolean, "Use the node's network namespace; the pod's IP is then the node's, and container ports are node ports."),
    hostPID: opt(boolean, "Use the node's process ID namespace."),
    hostIPC: opt(boolean, "Use the node's IPC namespace."),
    shareProcessNamespace: opt(boolean, "Put all the pod's containers in one process namespace."),
    securityContext: opt(PodSecurityContext, "Security settings of the pod."),
    imagePullSecrets: opt(listOf(LocalObjectReference), "Secrets of the namespace with registry credentials for pulling the images.", keyed("name")),
    hostname: opt(string, "Host name of the pod; defaults to the pod's name."),
    subdomain: opt(string, "With a headless Service of that name, gives the pod the DNS name <hostname>.<subdomain>.<namespace>.svc."),
    affinity: opt(Affinity, "Scheduling rules relative to nodes and pods."),
    schedulerName: opt(string, "Scheduler that places the pod; defaults to default-scheduler."),
    tolerations: opt(listOf(Toleration), "Taints the pod tolerates.", atomic),
    hostAliases: opt(listOf(HostAlias), "Entries added to the pod's /etc/hosts.", keyed("ip")),
    priorityClassName: opt(string, "PriorityClass that sets the pod's priority."),
    priority: opt(int32, "Scheduling priority, filled in from the priority class; higher goes first and may preempt lower."),
    dnsConfig: opt(PodDNSConfig, "Extra DNS settings."),
    readinessGates: opt(listOf(PodReadinessGate), "Extra conditions that must be True for the pod to be ready.", atomic),
    runtimeClassName: opt(string, "RuntimeClass to run the pod with."),
    enableServiceLinks: opt(boolean, "Whether environment variables describing the namespace's Services are injected; defaults to true."),
    preemptionPolicy: opt(oneOf(PREEMPTION_POLICIES), "Whether the pod may preempt lower-priority pods: PreemptLowerPriority (the default) or Never."),
    overhead: opt(mapOf(Quantity), "Resources the pod's sandbox uses on top of its containers, from the RuntimeClass."),
    topologySpreadConstraints: opt(
      listOf(TopologySpreadConstraint),
      "How the pod is spread, with its peers, over topology domains.",
      keyed("topologyKey", ["topologyKey", "whenUnsatisfiable"]),
    ),
    setHostnameAsFQDN: opt(boolean, "Use the fully qualified domain name as the host name."),
    os: opt(PodOS, "Operating system the containers need."),
    hostUsers: opt(boolean, "Use the node's user namespace; defaults to true. False gives the pod its own."),
    schedulingGates: opt(listOf(PodSchedulingGate), "Gates that hold the pod back from scheduling while any remain.", keyed("name")),
    resourceClaims: opt(listOf(PodResourceClaim), "Dynamic resource claims of the pod.", keyed("name", ["name"], "merge,retainKeys")),
    resources: opt(ResourceRequirements, "Resources of the pod as a whole (cpu and memory), shared by its containers."),
  },
);

// ---------------------------------------------------------------- pod status

export const ContainerStateWaiting = object("io.k8s.api.core.v1.ContainerStateWaiting", "A container that is not running yet.", {
  reason: opt(string, "Why it is waiting, such as ContainerCreating, ImagePullBackOff or CrashLoopBackOff."),
  message: opt(string, "Details, for people."),
});

export const ContainerStateRunning = object("io.k8s.api.core.v1.ContainerStateRunning", "A running container.", {
  startedAt: opt(Time, "When it last (re)started."),
});

export const ContainerStateTerminated = object("io.k8s.api.core.v1.ContainerStateTerminated", "A container that has exited.", {
  exitCode: req(int32, "Exit status of its last run."),
  signal: opt(int32, "Signal that ended it, if any."),
  reason: opt(string, "Why it ended, such as Completed, Error or OOMKilled."),
  message: opt(string, "Details, for people."),
  startedAt: opt(Time, "When its last run started."),
  finishedAt: opt(Time, "When its last run ended."),
  containerID: opt(string, "Runtime ID of the container, as <type>://<id>."),
});

export const ContainerState = object("io.k8s.api.core.v1.ContainerState", "What a container is doing; one of waiting, running and terminated is set.", {
  waiting: opt(ContainerStateWaiting, "Details of a waiting container."),
  running: opt(ContainerStateRunning, "Details of a running container."),
  terminated: opt(ContainerStateTerminated, "Details of an exited container."),
});

export const ContainerStatus = object("io.k8s.api.core.v1.ContainerStatus", "The reported state of one container of the pod.", {
  name: req(string, "Name of the container, as in the pod spec."),
  state: opt(ContainerState, "What the container is doing now."),
  lastState: opt(ContainerState, "How its previous run ended, when it has been restarted."),
  ready: req(boolean, "Whether it passes its readiness probe."),
  restartCount: req(int32, "How many times it has been restarted."),
  image: req(string, "The image it runs."),
  imageID: req(string, "ID (digest) of the image it runs."),
  containerID: opt(string, "Runtime ID of the container, as <type>://<id>."),
  started: opt(boolean, "Whether it has started and passed its startup probe."),
  allocatedResources: opt(mapOf(Quantity), "Resources the node allocated to it."),
  resources: opt(ResourceRequirements, "Requests and limits the runtime applied."),
  volumeMounts: opt(listOf(json), "Volumes mounted into it.", atomic),
  user: opt(json, "Identity its first process runs as."),
  allocatedResourcesStatus: opt(listOf(json), "Health of the devices allocated to it.", atomic),
  stopSignal: opt(string, "Signal used to stop it."),
});

export const PodIP = object("io.k8s.api.core.v1.PodIP", "One IP address of the pod.", { ip: req(string, "The address.") });
export const HostIP = object("io.k8s.api.core.v1.HostIP", "One IP address of the pod's node.", { ip: req(string, "The address.") });

export const PodCondition = condition(
  "io.k8s.api.core.v1.PodCondition",
  "pod (PodScheduled, Initialized, ContainersReady, Ready)",
  ["lastProbeTime", "lastTransitionTime"],
  {
    observedGeneration: opt(int64, "The metadata.generation the condition was computed from."),
  },
);

export const PodStatus = object("io.k8s.api.core.v1.PodStatus", "The observed state of a pod, reported by the agent of its node.", {
  observedGeneration: opt(int64, "The metadata.generation this status reflects."),
  phase: opt(
    oneOf(["Pending", "Running", "Succeeded", "Failed", "Unknown"], { check: false }),
    "Where the pod is in its life: Pending, Running, Succeeded, Failed or Unknown.",
  ),
  conditions: conditionsField(PodCondition, "PodScheduled, Initialized, ContainersReady and Ready."),
  message: opt(string, "Why the pod is in this state, for people."),
  reason: opt(string, "Why the pod is in this state, in one CamelCase word, such as Evicted."),
  nominatedNodeName: opt(string, "Node the pod is expected to run on after preempting others."),
  hostIP: opt(string, "Main IP of the pod's node."),
  hostIPs: opt(listOf(HostIP), "IPs of the pod's node.", keyed("ip")),
  podIP: opt(string, "Main IP of the pod."),
  podIPs: opt(listOf(PodIP), "IPs of the pod, one per address family.", keyed("ip")),
  startTime: opt(Time, "When the node accepted the pod, before pulling images."),
  initContainerStatuses: opt(listOf(ContainerStatus), "State of each init container.", atomic),
  containerStatuses: opt(listOf(ContainerStatus), "State of each main container.", atomic),
  qosClass: opt(
    oneOf(["Guaranteed", "Burstable", "BestEffort"], { check: false }),
    "Quality of service class, from requests and limits: Guaranteed, Burstable or BestEffort.",
  ),
  ephemeralContainerStatuses: opt(listOf(ContainerStatus), "State of each ephemeral container.", atomic),
  resize: opt(string, "State of a requested in-place resize."),
  resourceClaimStatuses: opt(listOf(json), "Claims made for the pod's resourceClaims.", atomic),
});

export const Pod = object(
  "io.k8s.api.core.v1.Pod",
  "A group of containers that run together on one node, sharing a network namespace and volumes. The smallest unit Kubernetes schedules.",
  {
    apiVersion: opt(string, "API version of the object: v1."),
    kind: opt(string, "Kind of the object: Pod."),
    metadata: meta,
    spec: opt(PodSpec, "What the pod runs."),
    status: opt(PodStatus, "What the pod is doing, as last reported. Read-only for most clients."),
  },
  gvk("", "v1", "Pod"),
);

export const PodTemplateSpec = object("io.k8s.api.core.v1.PodTemplateSpec", "The pods a workload creates: their labels and annotations, and their spec.", {
  metadata: opt(ObjectMeta, "Metadata of the created pods; mostly their labels, which must match the workload's selector."),
  spec: opt(PodSpec, "Spec of the created pods."),
});
