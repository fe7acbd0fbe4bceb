/**
 * Decoding of `application/vnd.kubernetes.protobuf` request bodies, which kubectl's
 * typed client sends for `create namespace`, `create deployment`, `create configmap`,
 * `create secret` and friends: the "k8s\0" magic, a runtime.Unknown envelope, and the
 * object in Kubernetes' generated.proto layout. The field tables below list the wire
 * numbers of the fields Kubeflare serves; protobufjs' Reader does the wire format
 * (no code generation, so it also runs in workerd).
 */
import { Reader } from "protobufjs/minimal.js";

/**
 * A field: wire number, JSON name, type, and flags — `repeated`, `inline` (an
 * embedded Go struct whose fields appear in the parent's JSON), `keep` (a pointer
 * field: its zero value is meaningful and kept).
 */
type Scalar = "string" | "int32" | "int64" | "bool" | "bytes" | "time" | "quantity" | "intstr";
type MapType = "map:string" | "map:bytes" | "map:quantity";
type Field = [number, string, Scalar | MapType | string, ...("repeated" | "inline" | "keep")[]];

const META = "ObjectMeta";

const MESSAGES: Record<string, Field[]> = {
  // runtime and meta/v1
  Unknown: [[1, "typeMeta", "TypeMeta"], [2, "raw", "bytes"], [3, "contentEncoding", "string"], [4, "contentType", "string"]],
  TypeMeta: [[1, "apiVersion", "string"], [2, "kind", "string"]],
  ObjectMeta: [
    [1, "name", "string"],
    [2, "generateName", "string"],
    [3, "namespace", "string"],
    [5, "uid", "string"],
    [6, "resourceVersion", "string"],
    [7, "generation", "int64"],
    [8, "creationTimestamp", "time"],
    [9, "deletionTimestamp", "time"],
    [10, "deletionGracePeriodSeconds", "int64", "keep"],
    [11, "labels", "map:string"],
    [12, "annotations", "map:string"],
    [13, "ownerReferences", "OwnerReference", "repeated"],
    [14, "finalizers", "string", "repeated"],
  ],
  OwnerReference: [[5, "apiVersion", "string"], [1, "kind", "string"], [3, "name", "string"], [4, "uid", "string"], [6, "controller", "bool", "keep"], [7, "blockOwnerDeletion", "bool", "keep"]],
  LabelSelector: [[1, "matchLabels", "map:string"], [2, "matchExpressions", "LabelSelectorRequirement", "repeated"]],
  LabelSelectorRequirement: [[1, "key", "string"], [2, "operator", "string"], [3, "values", "string", "repeated"]],

  // core/v1
  Namespace: [[1, "metadata", META], [2, "spec", "NamespaceSpec"]],
  NamespaceSpec: [[1, "finalizers", "string", "repeated"]],
  ConfigMap: [[1, "metadata", META], [2, "data", "map:string"], [3, "binaryData", "map:bytes"], [4, "immutable", "bool", "keep"]],
  Secret: [[1, "metadata", META], [2, "data", "map:bytes"], [3, "type", "string"], [4, "stringData", "map:string"], [5, "immutable", "bool", "keep"]],
  Service: [[1, "metadata", META], [2, "spec", "ServiceSpec"]],
  ServiceSpec: [
    [1, "ports", "ServicePort", "repeated"],
    [2, "selector", "map:string"],
    [3, "clusterIP", "string"],
    [18, "clusterIPs", "string", "repeated"],
    [4, "type", "string"],
    [5, "externalIPs", "string", "repeated"],
    [7, "sessionAffinity", "string"],
    [10, "externalName", "string"],
    [11, "externalTrafficPolicy", "string"],
    [13, "publishNotReadyAddresses", "bool"],
    [17, "ipFamilyPolicy", "string", "keep"],
    [19, "ipFamilies", "string", "repeated"],
    [20, "allocateLoadBalancerNodePorts", "bool", "keep"],
    [22, "internalTrafficPolicy", "string", "keep"],
  ],
  ServicePort: [[1, "name", "string"], [2, "protocol", "string"], [6, "appProtocol", "string", "keep"], [3, "port", "int32"], [4, "targetPort", "intstr"], [5, "nodePort", "int32"]],
  Pod: [[1, "metadata", META], [2, "spec", "PodSpec"]],
  PodTemplateSpec: [[1, "metadata", META], [2, "spec", "PodSpec"]],
  ReplicationController: [[1, "metadata", META], [2, "spec", "ReplicationControllerSpec"]],
  ReplicationControllerSpec: [[1, "replicas", "int32", "keep"], [4, "minReadySeconds", "int32"], [2, "selector", "map:string"], [3, "template", "PodTemplateSpec"]],
  PodSpec: [
    [1, "volumes", "Volume", "repeated"],
    [20, "initContainers", "Container", "repeated"],
    [2, "containers", "Container", "repeated"],
    [3, "restartPolicy", "string"],
    [4, "terminationGracePeriodSeconds", "int64", "keep"],
    [5, "activeDeadlineSeconds", "int64", "keep"],
    [6, "dnsPolicy", "string"],
    [7, "nodeSelector", "map:string"],
    [8, "serviceAccountName", "string"],
    [9, "serviceAccount", "string"],
    [21, "automountServiceAccountToken", "bool", "keep"],
    [10, "nodeName", "string"],
    [11, "hostNetwork", "bool"],
    [12, "hostPID", "bool"],
    [13, "hostIPC", "bool"],
    [27, "shareProcessNamespace", "bool", "keep"],
    [14, "securityContext", "PodSecurityContext"],
    [15, "imagePullSecrets", "LocalObjectReference", "repeated"],
    [16, "hostname", "string"],
    [17, "subdomain", "string"],
    [19, "schedulerName", "string"],
    [22, "tolerations", "Toleration", "repeated"],
    [24, "priorityClassName", "string"],
    [25, "priority", "int32", "keep"],
    [29, "runtimeClassName", "string", "keep"],
    [30, "enableServiceLinks", "bool", "keep"],
    [31, "preemptionPolicy", "string", "keep"],
    [37, "hostUsers", "bool", "keep"],
  ],
  PodSecurityContext: [[2, "runAsUser", "int64", "keep"], [6, "runAsGroup", "int64", "keep"], [3, "runAsNonRoot", "bool", "keep"], [5, "fsGroup", "int64", "keep"]],
  SecurityContext: [
    [2, "privileged", "bool", "keep"],
    [4, "runAsUser", "int64", "keep"],
    [8, "runAsGroup", "int64", "keep"],
    [5, "runAsNonRoot", "bool", "keep"],
    [6, "readOnlyRootFilesystem", "bool", "keep"],
    [7, "allowPrivilegeEscalation", "bool", "keep"],
  ],
  Container: [
    [1, "name", "string"],
    [2, "image", "string"],
    [3, "command", "string", "repeated"],
    [4, "args", "string", "repeated"],
    [5, "workingDir", "string"],
    [6, "ports", "ContainerPort", "repeated"],
    [19, "envFrom", "EnvFromSource", "repeated"],
    [7, "env", "EnvVar", "repeated"],
    [8, "resources", "ResourceRequirements"],
    [24, "restartPolicy", "string", "keep"],
    [9, "volumeMounts", "VolumeMount", "repeated"],
    [10, "livenessProbe", "Probe"],
    [11, "readinessProbe", "Probe"],
    [22, "startupProbe", "Probe"],
    [13, "terminationMessagePath", "string"],
    [20, "terminationMessagePolicy", "string"],
    [14, "imagePullPolicy", "string"],
    [15, "securityContext", "SecurityContext"],
    [16, "stdin", "bool"],
    [17, "stdinOnce", "bool"],
    [18, "tty", "bool"],
  ],
  ContainerPort: [[1, "name", "string"], [2, "hostPort", "int32"], [3, "containerPort", "int32"], [4, "protocol", "string"], [5, "hostIP", "string"]],
  EnvVar: [[1, "name", "string"], [2, "value", "string"], [3, "valueFrom", "EnvVarSource"]],
  EnvVarSource: [[1, "fieldRef", "ObjectFieldSelector"], [3, "configMapKeyRef", "KeySelector"], [4, "secretKeyRef", "KeySelector"]],
  ObjectFieldSelector: [[1, "apiVersion", "string"], [2, "fieldPath", "string"]],
  KeySelector: [[1, "localObjectReference", "LocalObjectReference", "inline"], [2, "key", "string"], [3, "optional", "bool", "keep"]],
  EnvFromSource: [[1, "prefix", "string"], [2, "configMapRef", "EnvSource"], [3, "secretRef", "EnvSource"]],
  EnvSource: [[1, "localObjectReference", "LocalObjectReference", "inline"], [2, "optional", "bool", "keep"]],
  LocalObjectReference: [[1, "name", "string"]],
  ResourceRequirements: [[1, "limits", "map:quantity"], [2, "requests", "map:quantity"]],
  VolumeMount: [[1, "name", "string"], [2, "readOnly", "bool"], [3, "mountPath", "string"], [4, "subPath", "string"], [6, "subPathExpr", "string"]],
  Volume: [[1, "name", "string"], [2, "volumeSource", "VolumeSource", "inline"]],
  VolumeSource: [[1, "hostPath", "HostPathVolumeSource"], [2, "emptyDir", "EmptyDirVolumeSource"], [6, "secret", "SecretVolumeSource"], [19, "configMap", "ConfigMapVolumeSource"]],
  HostPathVolumeSource: [[1, "path", "string"], [2, "type", "string", "keep"]],
  EmptyDirVolumeSource: [[1, "medium", "string"], [2, "sizeLimit", "quantity"]],
  SecretVolumeSource: [[1, "secretName", "string"], [2, "items", "KeyToPath", "repeated"], [3, "defaultMode", "int32", "keep"], [4, "optional", "bool", "keep"]],
  ConfigMapVolumeSource: [[1, "localObjectReference", "LocalObjectReference", "inline"], [2, "items", "KeyToPath", "repeated"], [3, "defaultMode", "int32", "keep"], [4, "optional", "bool", "keep"]],
  KeyToPath: [[1, "key", "string"], [2, "path", "string"], [3, "mode", "int32", "keep"]],
  Probe: [[1, "handler", "ProbeHandler", "inline"], [2, "initialDelaySeconds", "int32"], [3, "timeoutSeconds", "int32"], [4, "periodSeconds", "int32"], [5, "successThreshold", "int32"], [6, "failureThreshold", "int32"]],
  ProbeHandler: [[1, "exec", "ExecAction"], [2, "httpGet", "HTTPGetAction"], [3, "tcpSocket", "TCPSocketAction"]],
  ExecAction: [[1, "command", "string", "repeated"]],
  HTTPGetAction: [[1, "path", "string"], [2, "port", "intstr"], [3, "host", "string"], [4, "scheme", "string"]],
  TCPSocketAction: [[1, "port", "intstr"], [2, "host", "string"]],
  Toleration: [[1, "key", "string"], [2, "operator", "string"], [3, "value", "string"], [4, "effect", "string"], [5, "tolerationSeconds", "int64", "keep"]],

  // apps/v1
  Deployment: [[1, "metadata", META], [2, "spec", "DeploymentSpec"]],
  DeploymentSpec: [
    [1, "replicas", "int32", "keep"],
    [2, "selector", "LabelSelector"],
    [3, "template", "PodTemplateSpec"],
    [4, "strategy", "DeploymentStrategy"],
    [5, "minReadySeconds", "int32"],
    [6, "revisionHistoryLimit", "int32", "keep"],
    [7, "paused", "bool"],
    [9, "progressDeadlineSeconds", "int32", "keep"],
  ],
  DeploymentStrategy: [[1, "type", "string"], [2, "rollingUpdate", "RollingUpdateDeployment"]],
  RollingUpdateDeployment: [[1, "maxUnavailable", "intstr"], [2, "maxSurge", "intstr"]],
  ReplicaSet: [[1, "metadata", META], [2, "spec", "ReplicaSetSpec"]],
  ReplicaSetSpec: [[1, "replicas", "int32", "keep"], [4, "minReadySeconds", "int32"], [2, "selector", "LabelSelector"], [3, "template", "PodTemplateSpec"]],
};

/** Top-level kinds we decode, by apiVersion/kind. */
const KINDS: Record<string, string> = {
  "v1/Namespace": "Namespace",
  "v1/ConfigMap": "ConfigMap",
  "v1/Secret": "Secret",
  "v1/Service": "Service",
  "v1/Pod": "Pod",
  "v1/ReplicationController": "ReplicationController",
  "apps/v1/Deployment": "Deployment",
  "apps/v1/ReplicaSet": "ReplicaSet",
};

const TABLES = new Map(Object.entries(MESSAGES).map(([name, fields]) => [name, new Map(fields.map((f) => [f[0], f]))]));

const toNumber = (v: unknown): number => (typeof v === "number" ? v : typeof v === "object" && v && "toNumber" in v ? (v as { toNumber(): number }).toNumber() : Number(v));

const base64 = (b: Uint8Array) => {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
};

/** Zero values Go's marshaller always writes for non-pointer fields (omitted in JSON). Empty messages stay ({}). */
const isEmpty = (v: unknown) => v === undefined || v === "" || v === 0 || v === false;

const readTime = (r: Reader): string | undefined => {
  const end = r.uint32() + r.pos;
  let seconds = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) seconds = toNumber(r.int64());
    else r.skipType(tag & 7);
  }
  return seconds ? new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z") : undefined;
};

const readBytesField = (r: Reader): Uint8Array => r.bytes();

/** A small embedded message with a string at field 1 (Quantity) — or IntOrString. */
const readIntOrString = (r: Reader): number | string => {
  const end = r.uint32() + r.pos;
  let type = 0;
  let int = 0;
  let str = "";
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        type = toNumber(r.int64());
        break;
      case 2:
        int = r.int32();
        break;
      case 3:
        str = r.string();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return type === 1 ? str : int;
};

const readQuantity = (r: Reader): string => {
  const end = r.uint32() + r.pos;
  let s = "";
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) s = r.string();
    else r.skipType(tag & 7);
  }
  return s;
};

const readMapEntry = (r: Reader, valueType: MapType): [string, unknown] => {
  const end = r.uint32() + r.pos;
  let key = "";
  let value: unknown = valueType === "map:bytes" ? "" : "";
  while (r.pos < end) {
    const tag = r.uint32();
    const n = tag >>> 3;
    if (n === 1) key = r.string();
    else if (n === 2) value = valueType === "map:string" ? r.string() : valueType === "map:bytes" ? base64(readBytesField(r)) : readQuantity(r);
    else r.skipType(tag & 7);
  }
  return [key, value];
};

const readMessage = (r: Reader, type: string, end: number): Record<string, unknown> => {
  const table = TABLES.get(type);
  if (!table) throw new Error(`no protobuf table for ${type}`);
  const out: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint32();
    const field = table.get(tag >>> 3);
    if (!field) {
      r.skipType(tag & 7);
      continue;
    }
    const [, name, ftype, ...flags] = field;
    const repeated = flags.includes("repeated");
    let value: unknown;
    switch (ftype) {
      case "string":
        value = r.string();
        break;
      case "int32":
        value = r.int32();
        break;
      case "int64":
        value = toNumber(r.int64());
        break;
      case "bool":
        value = r.bool();
        break;
      case "bytes":
        value = readBytesField(r);
        break;
      case "time":
        value = readTime(r);
        break;
      case "quantity":
        value = readQuantity(r);
        break;
      case "intstr":
        value = readIntOrString(r);
        break;
      case "map:string":
      case "map:bytes":
      case "map:quantity": {
        const [k, v] = readMapEntry(r, ftype);
        out[name] = { ...((out[name] as object) ?? {}), [k]: v };
        continue;
      }
      default: {
        const len = r.uint32();
        value = readMessage(r, ftype, r.pos + len);
      }
    }
    if (flags.includes("inline") && value && typeof value === "object") {
      Object.assign(out, value);
      continue;
    }
    if (repeated) {
      // packed repeated scalars are not used by the fields we read; each element comes as its own field
      out[name] = [...((out[name] as unknown[]) ?? []), value];
      continue;
    }
    if (!flags.includes("keep") && isEmpty(value)) continue;
    out[name] = value;
  }
  return out;
};

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

/** Decode a Kubernetes protobuf body into the JSON object the API accepts. */
export const decodeKubernetesProtobuf = (bytes: Uint8Array): unknown => {
  if (bytes.length < 4 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('missing the "k8s\\0" prefix of a Kubernetes protobuf message');
  const r = new Reader(bytes.subarray(4));
  const unknown = readMessage(r, "Unknown", r.len) as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array; contentEncoding?: string };
  const { apiVersion = "", kind = "" } = unknown.typeMeta ?? {};
  if (unknown.contentEncoding) throw new Error(`content encoding ${unknown.contentEncoding} is not supported`);
  const type = KINDS[`${apiVersion}/${kind}`];
  if (!type) throw new Error(`protobuf bodies of ${apiVersion} ${kind} are not supported; send JSON or YAML`);
  const raw = unknown.raw ?? new Uint8Array();
  const inner = new Reader(raw);
  return { apiVersion, kind, ...readMessage(inner, type, inner.len) };
};
