/**
 * Decoding of `application/vnd.kubernetes.protobuf` request bodies into the JSON objects
 * the API accepts. kubectl 1.32+ sends these from its typed client (`create namespace`,
 * `create deployment`, `create configmap`, `create secret`, `create service`, `debug`...).
 *
 * The body is the 4-byte magic "k8s\0" and a runtime.Unknown envelope
 * {1: TypeMeta{1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType}
 * whose `raw` is the object in the layout of Kubernetes' generated.proto files.
 *
 * protobufjs' Reader does the wire format; the field tables below (wire numbers from
 * k8s.io/api core/v1 and apps/v1, and apimachinery meta/v1, runtime, intstr, resource)
 * drive a small interpreter, so nothing is compiled from strings at runtime (workerd
 * forbids eval/new Function).
 *
 * Go's marshaller always writes non-pointer fields, zero or not, while the JSON form
 * omits zero `omitempty` fields; pointer fields are written only when set. So zero
 * values of omitempty scalars are dropped, and pointer fields are kept as sent
 * (`replicas: 0`, `terminationGracePeriodSeconds: 0`). Status is not decoded (the
 * server owns it); unknown field numbers are skipped.
 */
import { Reader } from "protobufjs/minimal.js";
import { rfc3339 } from "../../shared/time";

/**
 * Field tables. Each message is a list of `number:jsonName[=type][flags]`:
 *   type   string (default) | int32 | int64 | bool | time | quantity | intstr
 *          | bytes (a Uint8Array: only the envelope's raw field; byte maps become base64)
 *          | map:string | map:bytes | map:quantity | a message name; `[]` = repeated
 *   flags  `?` omitempty (a zero scalar is dropped), `*` pointer (kept whatever its
 *          value), `^` an embedded Go struct inlined into the parent's JSON;
 *          a scalar with neither flag is always present in the JSON form, so it is kept.
 */
const SCHEMA: Record<string, string> = {
  // runtime, meta/v1
  Unknown: "1:typeMeta=TypeMeta 2:raw=bytes 3:contentEncoding? 4:contentType?",
  TypeMeta: "1:apiVersion? 2:kind?",
  ObjectMeta:
    "1:name? 2:generateName? 3:namespace? 4:selfLink? 5:uid? 6:resourceVersion? 7:generation=int64? 8:creationTimestamp=time " +
    "9:deletionTimestamp=time 10:deletionGracePeriodSeconds=int64* 11:labels=map:string 12:annotations=map:string " +
    "13:ownerReferences=OwnerReference[] 14:finalizers[]",
  OwnerReference: "5:apiVersion 1:kind 3:name 4:uid 6:controller=bool* 7:blockOwnerDeletion=bool*",
  LabelSelector: "1:matchLabels=map:string 2:matchExpressions=LabelSelectorRequirement[]",
  LabelSelectorRequirement: "1:key 2:operator 3:values[]",
  DeleteOptions: "1:gracePeriodSeconds=int64* 2:preconditions=Preconditions 3:orphanDependents=bool* 4:propagationPolicy* 5:dryRun[] 6:ignoreStoreReadErrorWithClusterBreakingPotential=bool*",
  Preconditions: "1:uid* 2:resourceVersion*",

  // core/v1: objects
  Namespace: "1:metadata=ObjectMeta 2:spec=NamespaceSpec",
  NamespaceSpec: "1:finalizers[]",
  ConfigMap: "1:metadata=ObjectMeta 4:immutable=bool* 2:data=map:string 3:binaryData=map:bytes",
  Secret: "1:metadata=ObjectMeta 5:immutable=bool* 2:data=map:bytes 4:stringData=map:string 3:type?",
  Service: "1:metadata=ObjectMeta 2:spec=ServiceSpec",
  Endpoints: "1:metadata=ObjectMeta 2:subsets=EndpointSubset[]",
  Pod: "1:metadata=ObjectMeta 2:spec=PodSpec",
  ReplicationController: "1:metadata=ObjectMeta 2:spec=ReplicationControllerSpec",
  Binding: "1:metadata=ObjectMeta 2:target=ObjectReference",

  // core/v1: services and endpoints
  ServiceSpec:
    "1:ports=ServicePort[] 2:selector=map:string 3:clusterIP? 18:clusterIPs[] 4:type? 5:externalIPs[] 7:sessionAffinity? " +
    "8:loadBalancerIP? 9:loadBalancerSourceRanges[] 10:externalName? 11:externalTrafficPolicy? 12:healthCheckNodePort=int32? " +
    "13:publishNotReadyAddresses=bool? 14:sessionAffinityConfig=SessionAffinityConfig 19:ipFamilies[] 17:ipFamilyPolicy* " +
    "20:allocateLoadBalancerNodePorts=bool* 21:loadBalancerClass* 22:internalTrafficPolicy* 23:trafficDistribution*",
  ServicePort: "1:name? 2:protocol? 6:appProtocol* 3:port=int32 4:targetPort=intstr? 5:nodePort=int32?",
  SessionAffinityConfig: "1:clientIP=ClientIPConfig",
  ClientIPConfig: "1:timeoutSeconds=int32*",
  EndpointSubset: "1:addresses=EndpointAddress[] 2:notReadyAddresses=EndpointAddress[] 3:ports=EndpointPort[]",
  EndpointAddress: "1:ip 3:hostname? 4:nodeName* 2:targetRef=ObjectReference",
  EndpointPort: "1:name? 2:port=int32 3:protocol? 4:appProtocol*",
  ObjectReference: "1:kind? 2:namespace? 3:name? 4:uid? 5:apiVersion? 6:resourceVersion? 7:fieldPath?",

  // core/v1: workloads
  ReplicationControllerSpec: "1:replicas=int32* 4:minReadySeconds=int32? 2:selector=map:string 3:template=PodTemplateSpec",
  PodTemplateSpec: "1:metadata=ObjectMeta 2:spec=PodSpec",
  PodSpec:
    "1:volumes=Volume[] 20:initContainers=Container[] 2:containers=Container[] 34:ephemeralContainers=EphemeralContainer[] " +
    "3:restartPolicy? 4:terminationGracePeriodSeconds=int64* 5:activeDeadlineSeconds=int64* 6:dnsPolicy? 7:nodeSelector=map:string " +
    "8:serviceAccountName? 9:serviceAccount? 21:automountServiceAccountToken=bool* 10:nodeName? 11:hostNetwork=bool? " +
    "12:hostPID=bool? 13:hostIPC=bool? 27:shareProcessNamespace=bool* 14:securityContext=PodSecurityContext " +
    "15:imagePullSecrets=LocalObjectReference[] 16:hostname? 17:subdomain? 18:affinity=Affinity 19:schedulerName? " +
    "22:tolerations=Toleration[] 23:hostAliases=HostAlias[] 24:priorityClassName? 25:priority=int32* 26:dnsConfig=PodDNSConfig " +
    "28:readinessGates=PodReadinessGate[] 29:runtimeClassName* 30:enableServiceLinks=bool* 31:preemptionPolicy* " +
    "32:overhead=map:quantity 33:topologySpreadConstraints=TopologySpreadConstraint[] 35:setHostnameAsFQDN=bool* 36:os=PodOS " +
    "37:hostUsers=bool* 38:schedulingGates=PodSchedulingGate[] 39:resourceClaims=PodResourceClaim[] 40:resources=ResourceRequirements " +
    "41:hostnameOverride*",
  PodSecurityContext:
    "1:seLinuxOptions=SELinuxOptions 8:windowsOptions=WindowsSecurityContextOptions 2:runAsUser=int64* 6:runAsGroup=int64* " +
    "3:runAsNonRoot=bool* 4:supplementalGroups=int64[] 12:supplementalGroupsPolicy* 5:fsGroup=int64* 7:sysctls=Sysctl[] " +
    "9:fsGroupChangePolicy* 10:seccompProfile=SeccompProfile 11:appArmorProfile=AppArmorProfile 13:seLinuxChangePolicy*",
  SecurityContext:
    "1:capabilities=Capabilities 2:privileged=bool* 3:seLinuxOptions=SELinuxOptions 10:windowsOptions=WindowsSecurityContextOptions " +
    "4:runAsUser=int64* 8:runAsGroup=int64* 5:runAsNonRoot=bool* 6:readOnlyRootFilesystem=bool* 7:allowPrivilegeEscalation=bool* " +
    "9:procMount* 11:seccompProfile=SeccompProfile 12:appArmorProfile=AppArmorProfile",
  SELinuxOptions: "1:user? 2:role? 3:type? 4:level?",
  WindowsSecurityContextOptions: "1:gmsaCredentialSpecName* 2:gmsaCredentialSpec* 3:runAsUserName* 4:hostProcess=bool*",
  SeccompProfile: "1:type 2:localhostProfile*",
  AppArmorProfile: "1:type 2:localhostProfile*",
  Capabilities: "1:add[] 2:drop[]",
  Sysctl: "1:name 2:value",
  PodResourceClaim: "1:name 3:resourceClaimName* 4:resourceClaimTemplateName*",
  Container:
    "1:name 2:image? 3:command[] 4:args[] 5:workingDir? 6:ports=ContainerPort[] 19:envFrom=EnvFromSource[] 7:env=EnvVar[] " +
    "8:resources=ResourceRequirements 23:resizePolicy=ContainerResizePolicy[] 24:restartPolicy* 9:volumeMounts=VolumeMount[] " +
    "21:volumeDevices=VolumeDevice[] 10:livenessProbe=Probe 11:readinessProbe=Probe 22:startupProbe=Probe 12:lifecycle=Lifecycle " +
    "13:terminationMessagePath? 20:terminationMessagePolicy? 14:imagePullPolicy? 15:securityContext=SecurityContext " +
    "16:stdin=bool? 17:stdinOnce=bool? 18:tty=bool?",
  // EphemeralContainerCommon has Container's field numbers
  EphemeralContainer: "1:ephemeralContainerCommon=Container^ 2:targetContainerName?",
  ContainerPort: "1:name? 2:hostPort=int32? 3:containerPort=int32 4:protocol? 5:hostIP?",
  ContainerResizePolicy: "1:resourceName 2:restartPolicy",
  EnvVar: "1:name 2:value? 3:valueFrom=EnvVarSource",
  EnvVarSource: "1:fieldRef=ObjectFieldSelector 2:resourceFieldRef=ResourceFieldSelector 3:configMapKeyRef=KeySelector 4:secretKeyRef=KeySelector",
  ObjectFieldSelector: "1:apiVersion? 2:fieldPath",
  ResourceFieldSelector: "1:containerName? 2:resource 3:divisor=quantity",
  // ConfigMapKeySelector and SecretKeySelector
  KeySelector: "1:localObjectReference=LocalObjectReference^ 2:key 3:optional=bool*",
  EnvFromSource: "1:prefix? 2:configMapRef=EnvSource 3:secretRef=EnvSource",
  // ConfigMapEnvSource and SecretEnvSource
  EnvSource: "1:localObjectReference=LocalObjectReference^ 2:optional=bool*",
  LocalObjectReference: "1:name?",
  ResourceRequirements: "1:limits=map:quantity 2:requests=map:quantity 3:claims=ResourceClaim[]",
  ResourceClaim: "1:name 2:request?",
  VolumeMount: "1:name 2:readOnly=bool? 7:recursiveReadOnly* 3:mountPath 4:subPath? 5:mountPropagation* 6:subPathExpr?",
  VolumeDevice: "1:name 2:devicePath",
  Volume: "1:name 2:volumeSource=VolumeSource^",
  VolumeSource:
    "1:hostPath=HostPathVolumeSource 2:emptyDir=EmptyDirVolumeSource 6:secret=SecretVolumeSource 7:nfs=NFSVolumeSource " +
    "10:persistentVolumeClaim=PersistentVolumeClaimVolumeSource 16:downwardAPI=DownwardAPIVolumeSource " +
    "19:configMap=ConfigMapVolumeSource 26:projected=ProjectedVolumeSource",
  HostPathVolumeSource: "1:path 2:type*",
  EmptyDirVolumeSource: "1:medium? 2:sizeLimit=quantity",
  SecretVolumeSource: "1:secretName? 2:items=KeyToPath[] 3:defaultMode=int32* 4:optional=bool*",
  ConfigMapVolumeSource: "1:localObjectReference=LocalObjectReference^ 2:items=KeyToPath[] 3:defaultMode=int32* 4:optional=bool*",
  KeyToPath: "1:key 2:path 3:mode=int32*",
  NFSVolumeSource: "1:server 2:path 3:readOnly=bool?",
  PersistentVolumeClaimVolumeSource: "1:claimName 2:readOnly=bool?",
  DownwardAPIVolumeSource: "1:items=DownwardAPIVolumeFile[] 2:defaultMode=int32*",
  DownwardAPIVolumeFile: "1:path 2:fieldRef=ObjectFieldSelector 3:resourceFieldRef=ResourceFieldSelector 4:mode=int32*",
  ProjectedVolumeSource: "1:sources=VolumeProjection[] 2:defaultMode=int32*",
  VolumeProjection:
    "1:secret=ProjectionSource 2:downwardAPI=DownwardAPIProjection 3:configMap=ProjectionSource 4:serviceAccountToken=ServiceAccountTokenProjection",
  // SecretProjection and ConfigMapProjection
  ProjectionSource: "1:localObjectReference=LocalObjectReference^ 2:items=KeyToPath[] 4:optional=bool*",
  DownwardAPIProjection: "1:items=DownwardAPIVolumeFile[]",
  ServiceAccountTokenProjection: "1:audience? 2:expirationSeconds=int64* 3:path",
  Probe:
    "1:handler=ProbeHandler^ 2:initialDelaySeconds=int32? 3:timeoutSeconds=int32? 4:periodSeconds=int32? " +
    "5:successThreshold=int32? 6:failureThreshold=int32? 7:terminationGracePeriodSeconds=int64*",
  ProbeHandler: "1:exec=ExecAction 2:httpGet=HTTPGetAction 3:tcpSocket=TCPSocketAction 4:grpc=GRPCAction",
  Lifecycle: "1:postStart=LifecycleHandler 2:preStop=LifecycleHandler 3:stopSignal*",
  LifecycleHandler: "1:exec=ExecAction 2:httpGet=HTTPGetAction 3:tcpSocket=TCPSocketAction 4:sleep=SleepAction",
  ExecAction: "1:command[]",
  HTTPGetAction: "1:path? 2:port=intstr 3:host? 4:scheme? 5:httpHeaders=HTTPHeader[]",
  HTTPHeader: "1:name 2:value",
  TCPSocketAction: "1:port=intstr 2:host?",
  GRPCAction: "1:port=int32 2:service*",
  SleepAction: "1:seconds=int64",
  Toleration: "1:key? 2:operator? 3:value? 4:effect? 5:tolerationSeconds=int64*",
  Affinity: "1:nodeAffinity=NodeAffinity 2:podAffinity=PodAffinity 3:podAntiAffinity=PodAffinity",
  NodeAffinity: "1:requiredDuringSchedulingIgnoredDuringExecution=NodeSelector 2:preferredDuringSchedulingIgnoredDuringExecution=PreferredSchedulingTerm[]",
  NodeSelector: "1:nodeSelectorTerms=NodeSelectorTerm[]",
  NodeSelectorTerm: "1:matchExpressions=NodeSelectorRequirement[] 2:matchFields=NodeSelectorRequirement[]",
  NodeSelectorRequirement: "1:key 2:operator 3:values[]",
  PreferredSchedulingTerm: "1:weight=int32 2:preference=NodeSelectorTerm",
  // PodAffinity and PodAntiAffinity
  PodAffinity: "1:requiredDuringSchedulingIgnoredDuringExecution=PodAffinityTerm[] 2:preferredDuringSchedulingIgnoredDuringExecution=WeightedPodAffinityTerm[]",
  WeightedPodAffinityTerm: "1:weight=int32 2:podAffinityTerm=PodAffinityTerm",
  PodAffinityTerm:
    "1:labelSelector=LabelSelector 2:namespaces[] 3:topologyKey 4:namespaceSelector=LabelSelector 5:matchLabelKeys[] 6:mismatchLabelKeys[]",
  HostAlias: "1:ip 2:hostnames[]",
  PodDNSConfig: "1:nameservers[] 2:searches[] 3:options=PodDNSConfigOption[]",
  PodDNSConfigOption: "1:name? 2:value*",
  PodReadinessGate: "1:conditionType",
  TopologySpreadConstraint:
    "1:maxSkew=int32 2:topologyKey 3:whenUnsatisfiable 4:labelSelector=LabelSelector 5:minDomains=int32* " +
    "6:nodeAffinityPolicy* 7:nodeTaintsPolicy* 8:matchLabelKeys[]",
  PodOS: "1:name",
  PodSchedulingGate: "1:name",

  // apps/v1
  Deployment: "1:metadata=ObjectMeta 2:spec=DeploymentSpec",
  DeploymentSpec:
    "1:replicas=int32* 2:selector=LabelSelector 3:template=PodTemplateSpec 4:strategy=DeploymentStrategy 5:minReadySeconds=int32? " +
    "6:revisionHistoryLimit=int32* 7:paused=bool? 9:progressDeadlineSeconds=int32*",
  DeploymentStrategy: "1:type? 2:rollingUpdate=RollingUpdateDeployment",
  RollingUpdateDeployment: "1:maxUnavailable=intstr* 2:maxSurge=intstr*",
  ReplicaSet: "1:metadata=ObjectMeta 2:spec=ReplicaSetSpec",
  ReplicaSetSpec: "1:replicas=int32* 4:minReadySeconds=int32? 2:selector=LabelSelector 3:template=PodTemplateSpec",

  // autoscaling/v1 (the scale subresource). ScaleSpec.replicas is `int32,omitempty` in Go, but
  // a typed client always writes it and 0 is meaningful here (scale to zero), so it is kept.
  Scale: "1:metadata=ObjectMeta 2:spec=ScaleSpec",
  ScaleSpec: "1:replicas=int32*",
};

/** The top-level objects we decode: "apiVersion/kind" → message (DeleteOptions under any apiVersion). */
const KINDS: Record<string, string> = {
  "v1/Namespace": "Namespace",
  "v1/ConfigMap": "ConfigMap",
  "v1/Secret": "Secret",
  "v1/Service": "Service",
  "v1/Endpoints": "Endpoints",
  "v1/Pod": "Pod",
  "v1/ReplicationController": "ReplicationController",
  "v1/Binding": "Binding",
  "apps/v1/Deployment": "Deployment",
  "apps/v1/ReplicaSet": "ReplicaSet",
  "autoscaling/v1/Scale": "Scale",
};

// ---- the tables, compiled once

const SCALARS = ["string", "int32", "int64", "bool", "bytes", "time", "quantity", "intstr"] as const;
type Scalar = (typeof SCALARS)[number];
type MapValue = "string" | "bytes" | "quantity";

interface Field {
  name: string;
  /** a scalar, `map:<value>`, or a message name */
  type: Scalar | `map:${MapValue}` | string;
  repeated: boolean;
  /** drop the zero value (omitempty non-pointer scalar) */
  omitZero: boolean;
  /** an embedded struct: its fields go into the parent */
  inline: boolean;
}

const compile = (schema: Record<string, string>): Map<string, Map<number, Field>> => {
  const out = new Map<string, Map<number, Field>>();
  for (const [message, spec] of Object.entries(schema)) {
    const fields = new Map<number, Field>();
    for (const token of spec.trim().split(/\s+/)) {
      const m = token.match(/^(\d+):(\w+)(?:=([\w:]+))?(\[\])?([?*^])?$/);
      if (!m) throw new Error(`protobuf schema ${message}: bad field "${token}"`);
      const [, num, name, type = "string", repeated, flag] = m;
      fields.set(Number(num), { name, type, repeated: !!repeated, omitZero: flag === "?", inline: flag === "^" });
    }
    out.set(message, fields);
  }
  for (const [message, fields] of out) {
    for (const f of fields.values()) {
      const known = (SCALARS as readonly string[]).includes(f.type) || /^map:(string|bytes|quantity)$/.test(f.type) || out.has(f.type);
      if (!known) throw new Error(`protobuf schema ${message}.${f.name}: unknown type ${f.type}`);
    }
  }
  return out;
};

const TABLES = compile(SCHEMA);

// ---- wire helpers

const VARINT = 0;
const LEN = 2;

const WIRE: Record<string, number> = { int32: VARINT, int64: VARINT, bool: VARINT };
const wireOf = (type: string) => WIRE[type] ?? LEN;

/** Long (when the `long` package is loaded) or number → number. */
const toNumber = (v: unknown): number =>
  typeof v === "number" ? v : typeof v === "object" && v !== null && "toNumber" in v ? (v as { toNumber(): number }).toNumber() : Number(v);

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 with padding, as Go's encoding/json writes []byte. */
export const base64 = (b: Uint8Array): string => {
  let s = "";
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    s += BASE64[n >> 18] + BASE64[(n >> 12) & 63] + BASE64[(n >> 6) & 63] + BASE64[n & 63];
  }
  if (i < b.length) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8);
    s += BASE64[n >> 18] + BASE64[(n >> 12) & 63] + (i + 1 < b.length ? BASE64[(n >> 6) & 63] : "=") + "=";
  }
  return s;
};

/** Set an own property, even for keys like "__proto__" (as JSON.parse does). */
const setOwn = (o: Record<string, unknown>, key: string, value: unknown) => {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
};

/** Run `f` with the reader bounded to the length-delimited field at its position. */
const within = <T>(r: Reader, f: (end: number) => T): T => {
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.len) throw new Error(`truncated message (a field of ${len} bytes at offset ${r.pos} runs past the end)`);
  const outer = r.len;
  r.len = end;
  try {
    const value = f(end);
    if (r.pos !== end) throw new Error(`malformed message ending at offset ${end}`);
    return value;
  } finally {
    r.len = outer;
  }
};

const readTag = (r: Reader): [number, number] => {
  const tag = r.uint32();
  const num = tag >>> 3;
  if (num === 0) throw new Error(`illegal field number 0 at offset ${r.pos}`);
  return [num, tag & 7];
};

/** meta/v1 Time {1: seconds, 2: nanos} → RFC 3339 in UTC, seconds precision (as metav1.Time marshals). An empty message is the zero time. */
const readTime = (r: Reader): string | undefined =>
  within(r, (end) => {
    if (r.pos === end) return undefined;
    let seconds = 0;
    while (r.pos < end) {
      const [num, wire] = readTag(r);
      if (num === 1 && wire === VARINT) seconds = toNumber(r.int64());
      else r.skipType(wire); // nanos: metav1.Time's JSON form has whole seconds
    }
    const d = new Date(seconds * 1000);
    if (Number.isNaN(d.getTime())) throw new Error(`time out of range: ${seconds} seconds`);
    return rfc3339(d);
  });

/** resource.Quantity {1: string}. */
const readQuantity = (r: Reader): string =>
  within(r, (end) => {
    let s = "";
    while (r.pos < end) {
      const [num, wire] = readTag(r);
      if (num === 1 && wire === LEN) s = r.string();
      else r.skipType(wire);
    }
    return s;
  });

/** intstr.IntOrString {1: type (0 int, 1 string), 2: intVal, 3: strVal} → number or string. */
const readIntOrString = (r: Reader): number | string =>
  within(r, (end) => {
    let type = 0;
    let int = 0;
    let str = "";
    while (r.pos < end) {
      const [num, wire] = readTag(r);
      if (num === 1 && wire === VARINT) type = toNumber(r.int64());
      else if (num === 2 && wire === VARINT) int = r.int32();
      else if (num === 3 && wire === LEN) str = r.string();
      else r.skipType(wire);
    }
    return type === 1 ? str : int;
  });

const readScalar = (r: Reader, type: string): unknown => {
  switch (type) {
    case "string":
      return r.string();
    case "int32":
      return r.int32();
    case "int64":
      return toNumber(r.int64());
    case "bool":
      return r.bool();
    case "bytes":
      return r.bytes();
    case "time":
      return readTime(r);
    case "quantity":
      return readQuantity(r);
    case "intstr":
      return readIntOrString(r);
    default:
      return readMessage(r, type);
  }
};

/** A map entry {1: key, 2: value}. */
const readMapEntry = (r: Reader, value: MapValue): [string, unknown] =>
  within(r, (end) => {
    let k = "";
    let v: unknown = value === "string" || value === "bytes" ? "" : "0";
    while (r.pos < end) {
      const [num, wire] = readTag(r);
      if (num === 1 && wire === LEN) k = r.string();
      else if (num === 2 && wire === LEN) v = value === "string" ? r.string() : value === "bytes" ? base64(r.bytes()) : readQuantity(r);
      else r.skipType(wire);
    }
    return [k, v];
  });

const isZero = (v: unknown) => v === undefined || v === "" || v === 0 || v === false;

const readMessage = (r: Reader, type: string): Record<string, unknown> => within(r, (end) => readFields(r, type, end));

const readFields = (r: Reader, type: string, end: number): Record<string, unknown> => {
  const table = TABLES.get(type)!;
  const out: Record<string, unknown> = {};
  while (r.pos < end) {
    const [num, wire] = readTag(r);
    const f = table.get(num);
    if (!f) {
      r.skipType(wire);
      continue;
    }
    if (f.type.startsWith("map:")) {
      if (wire !== LEN) throw new Error(`${type}.${f.name}: wire type ${wire}, expected ${LEN}`);
      const [k, v] = readMapEntry(r, f.type.slice(4) as MapValue);
      if (!Object.hasOwn(out, f.name)) setOwn(out, f.name, {});
      setOwn(out[f.name] as Record<string, unknown>, k, v);
      continue;
    }
    const expected = wireOf(f.type);
    if (f.repeated) {
      if (!Object.hasOwn(out, f.name)) setOwn(out, f.name, []);
      const list = out[f.name] as unknown[];
      if (expected === VARINT && wire === LEN) {
        // packed
        within(r, (e) => {
          while (r.pos < e) list.push(readScalar(r, f.type));
        });
      } else if (wire === expected) list.push(readScalar(r, f.type));
      else throw new Error(`${type}.${f.name}: wire type ${wire}, expected ${expected}`);
      continue;
    }
    if (wire !== expected) throw new Error(`${type}.${f.name}: wire type ${wire}, expected ${expected}`);
    const value = readScalar(r, f.type);
    if (f.inline) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) setOwn(out, k, v);
    } else if (value === undefined || (f.omitZero && isZero(value))) {
      delete out[f.name];
    } else if (TABLES.has(f.type) && Object.hasOwn(out, f.name)) {
      // a repeated occurrence of a message field merges into the first (proto semantics)
      Object.assign(out[f.name] as object, value);
    } else {
      setOwn(out, f.name, value);
    }
  }
  return out;
};

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

/** The message that decodes an object of this apiVersion and kind, if we know it. */
export const protobufMessageFor = (apiVersion: string, kind: string): string | undefined =>
  kind === "DeleteOptions" ? "DeleteOptions" : KINDS[`${apiVersion}/${kind}`];

/**
 * Decode a Kubernetes protobuf body (`application/vnd.kubernetes.protobuf`) into the
 * JSON object the API accepts, with apiVersion and kind from the envelope. Throws an
 * Error on a missing "k8s\0" prefix, a kind we don't know, or malformed bytes.
 */
export const decodeKubernetesProtobuf = (bytes: Uint8Array): unknown => {
  if (bytes.length < 4 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('missing the "k8s\\0" prefix of a Kubernetes protobuf message');
  const r = new Reader(bytes.subarray(4));
  const envelope = readFields(r, "Unknown", r.len) as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array; contentEncoding?: string; contentType?: string };
  if (envelope.contentEncoding) throw new Error(`content encoding "${envelope.contentEncoding}" is not supported`);
  if (envelope.contentType && envelope.contentType !== "application/vnd.kubernetes.protobuf") throw new Error(`content type "${envelope.contentType}" inside a protobuf envelope is not supported`);
  const { apiVersion = "", kind = "" } = envelope.typeMeta ?? {};
  if (!kind) throw new Error("the protobuf envelope names no kind");
  const message = protobufMessageFor(apiVersion, kind);
  if (!message) throw new Error(`protobuf bodies of ${apiVersion || "(no apiVersion)"} ${kind} are not supported; send JSON or YAML`);
  const raw = envelope.raw ?? new Uint8Array();
  const inner = new Reader(raw);
  return { apiVersion, kind, ...readFields(inner, message, inner.len) };
};
