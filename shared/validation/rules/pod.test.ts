import { describe, expect, it } from "vitest";
import { applyDefaults } from "../../defaults";
import { resourceByName } from "../../../workers/registry/kinds";
import type { KObject } from "../../types";
import { validateObject } from "../index";

const validate = (spec: Record<string, unknown>, opts: { defaults?: boolean } = {}) => {
  const info = resourceByName("pods");
  const obj: KObject = { metadata: { name: "p", namespace: "default" }, spec: structuredClone(spec) };
  if (opts.defaults !== false) applyDefaults(info, obj);
  return validateObject(info, obj);
};
const fields = (spec: Record<string, unknown>) => validate(spec).map((c) => `${c.field} ${c.reason}`);
const messages = (spec: Record<string, unknown>) => validate(spec).map((c) => `${c.field}: ${c.message}`);

const ctr = (over: Record<string, unknown> = {}) => ({ name: "c", image: "nginx:1.27", ...over });
const withCtr = (over: Record<string, unknown>, spec: Record<string, unknown> = {}) => ({ containers: [ctr(over)], ...spec });

describe("containers", () => {
  it("requires names, unique across init and main containers", () => {
    expect(fields({ containers: [ctr({ name: "" })] })).toEqual(["spec.containers[0].name FieldValueRequired"]);
    expect(fields({ containers: [ctr({ name: "Web" })] })).toEqual(["spec.containers[0].name FieldValueInvalid"]);
    expect(fields({ initContainers: [ctr({ name: "x" })], containers: [ctr({ name: "x" })] })).toEqual(["spec.containers[0].name FieldValueDuplicate"]);
  });

  it("requires an image without surrounding whitespace", () => {
    expect(fields(withCtr({ image: "" }))).toEqual(["spec.containers[0].image FieldValueRequired"]);
    expect(messages(withCtr({ image: " nginx" }))).toEqual(['spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace']);
  });

  it("checks ports", () => {
    expect(messages(withCtr({ ports: [{ containerPort: 0 }] }))).toEqual(["spec.containers[0].ports[0].containerPort: Required value"]);
    expect(fields(withCtr({ ports: [{ containerPort: 80, hostPort: 70000 }] }))).toEqual(["spec.containers[0].ports[0].hostPort FieldValueInvalid"]);
    expect(messages(withCtr({ ports: [{ containerPort: 80, protocol: "ICMP" }] }))).toEqual([
      'spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    ]);
    expect(messages(withCtr({ ports: [{ containerPort: 80, name: "HTTP_PORT" }] }))).toEqual([
      'spec.containers[0].ports[0].name: Invalid value: "HTTP_PORT": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.containers[0].ports[0].name: Invalid value: "HTTP_PORT": must contain at least one letter (a-z)',
    ]);
    expect(fields(withCtr({ ports: [{ containerPort: 80, name: "this-name-is-too-long" }] }))).toEqual(["spec.containers[0].ports[0].name FieldValueInvalid"]);
    expect(
      fields(
        withCtr({
          ports: [
            { containerPort: 80, name: "web" },
            { containerPort: 81, name: "web" },
          ],
        }),
      ),
    ).toEqual(["spec.containers[0].ports[1].name FieldValueDuplicate"]);
  });

  it("checks host ports across containers and with hostNetwork", () => {
    expect(
      fields({
        containers: [ctr({ name: "a", ports: [{ containerPort: 80, hostPort: 8080 }] }), ctr({ name: "b", ports: [{ containerPort: 81, hostPort: 8080 }] })],
      }),
    ).toEqual(["spec.containers[1].ports[0].hostPort FieldValueDuplicate"]);
    expect(
      fields({
        containers: [
          ctr({ name: "a", ports: [{ containerPort: 80, hostPort: 8080 }] }),
          ctr({ name: "b", ports: [{ containerPort: 81, hostPort: 8080, protocol: "UDP" }] }),
        ],
      }),
    ).toEqual([]);
    expect(messages(withCtr({ ports: [{ containerPort: 80, hostPort: 81 }] }, { hostNetwork: true }))).toEqual([
      "spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true",
    ]);
    expect(fields(withCtr({ ports: [{ containerPort: 80 }] }, { hostNetwork: true }))).toEqual([]);
  });

  it("checks environment variables", () => {
    expect(fields(withCtr({ env: [{ value: "x" }] }))).toEqual(["spec.containers[0].env[0].name FieldValueRequired"]);
    expect(fields(withCtr({ env: [{ name: "A=B" }] }))).toEqual(["spec.containers[0].env[0].name FieldValueInvalid"]);
    expect(messages(withCtr({ env: [{ name: "A", value: "x", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] }))).toEqual([
      'spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
    ]);
    expect(messages(withCtr({ env: [{ name: "A", valueFrom: {} }] }))).toEqual([
      'spec.containers[0].env[0].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
    ]);
    expect(fields(withCtr({ env: [{ name: "A", valueFrom: { configMapKeyRef: { name: "cm", key: "k" }, secretKeyRef: { name: "s", key: "k" } } }] }))).toEqual([
      "spec.containers[0].env[0].valueFrom FieldValueInvalid",
    ]);
    expect(fields(withCtr({ env: [{ name: "A", valueFrom: { fieldRef: { fieldPath: "spec.nope" } } }] }))).toEqual([
      "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath FieldValueNotSupported",
    ]);
    expect(fields(withCtr({ env: [{ name: "A", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } }] }))).toEqual([]);
    expect(fields(withCtr({ env: [{ name: "A", valueFrom: { secretKeyRef: { name: "", key: "bad key" } } }] }))).toEqual([
      "spec.containers[0].env[0].valueFrom.secretKeyRef.name FieldValueRequired",
      "spec.containers[0].env[0].valueFrom.secretKeyRef.key FieldValueInvalid",
    ]);
    expect(fields(withCtr({ env: [{ name: "A", valueFrom: { resourceFieldRef: { resource: "limits.gpu" } } }] }))).toEqual([
      "spec.containers[0].env[0].valueFrom.resourceFieldRef.resource FieldValueNotSupported",
    ]);
    expect(fields(withCtr({ envFrom: [{ prefix: "P_" }] }))).toEqual(["spec.containers[0].envFrom[0] FieldValueInvalid"]);
  });

  it("checks resources", () => {
    expect(fields(withCtr({ resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "250m", memory: "512Mi" } } }))).toEqual([]);
    expect(messages(withCtr({ resources: { limits: { cpu: "1" }, requests: { cpu: "1500m" } } }))).toEqual([
      'spec.containers[0].resources.requests: Invalid value: "1500m": must be less than or equal to cpu limit of 1',
    ]);
    expect(fields(withCtr({ resources: { limits: { memory: "1Gi" }, requests: { memory: "1024Mi" } } }))).toEqual([]);
    expect(messages(withCtr({ resources: { requests: { cpu: "-1" } } }))).toEqual([
      'spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0',
    ]);
    expect(messages(withCtr({ resources: { limits: { gpu: "1" } } }))).toEqual([
      'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers',
      'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers',
    ]);
    // extended resources: whole numbers, requests equal to limits, limits required
    expect(fields(withCtr({ resources: { limits: { "example.com/dongle": "2" } } }))).toEqual([]);
    expect(fields(withCtr({ resources: { limits: { "example.com/dongle": "2" }, requests: { "example.com/dongle": "1" } } }))).toEqual([
      "spec.containers[0].resources.requests FieldValueInvalid",
    ]);
    expect(messages(withCtr({ resources: { requests: { "example.com/dongle": "1" } } }))).toEqual([
      "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources",
    ]);
    expect(fields(withCtr({ resources: { limits: { "example.com/dongle": "500m" } } }))).toEqual([
      "spec.containers[0].resources.limits[example.com/dongle] FieldValueInvalid",
      "spec.containers[0].resources.requests[example.com/dongle] FieldValueInvalid",
    ]);
  });

  it("checks volume mounts against the pod's volumes", () => {
    const volumes = [{ name: "data", emptyDir: {} }];
    expect(fields(withCtr({ volumeMounts: [{ name: "data", mountPath: "/data" }] }, { volumes }))).toEqual([]);
    expect(messages(withCtr({ volumeMounts: [{ name: "missing", mountPath: "/x" }] }, { volumes }))).toEqual([
      'spec.containers[0].volumeMounts[0].name: Not found: "missing"',
    ]);
    expect(fields(withCtr({ volumeMounts: [{ name: "data", mountPath: "" }] }, { volumes }))).toEqual([
      "spec.containers[0].volumeMounts[0].mountPath FieldValueRequired",
    ]);
    expect(
      fields(
        withCtr(
          {
            volumeMounts: [
              { name: "data", mountPath: "/a" },
              { name: "data", mountPath: "/a" },
            ],
          },
          { volumes },
        ),
      ),
    ).toEqual(["spec.containers[0].volumeMounts[1].mountPath FieldValueInvalid"]);
    expect(fields(withCtr({ volumeMounts: [{ name: "data", mountPath: "/a", subPath: "../x" }] }, { volumes }))).toEqual([
      "spec.containers[0].volumeMounts[0].subPath FieldValueInvalid",
    ]);
    expect(fields(withCtr({ volumeMounts: [{ name: "data", mountPath: "/a", mountPropagation: "Bidirectional" }] }, { volumes }))).toEqual([
      "spec.containers[0].volumeMounts[0].mountPropagation FieldValueForbidden",
    ]);
  });

  it("checks probes and lifecycle hooks", () => {
    expect(messages(withCtr({ livenessProbe: { periodSeconds: 5 } }))).toEqual([
      "spec.containers[0].livenessProbe: Required value: must specify a handler type",
    ]);
    expect(messages(withCtr({ readinessProbe: { exec: { command: ["true"] }, tcpSocket: { port: 80 } } }))).toEqual([
      "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
    ]);
    expect(fields(withCtr({ livenessProbe: { httpGet: { port: 0 } } }))).toEqual(["spec.containers[0].livenessProbe.httpGet.port FieldValueInvalid"]);
    expect(fields(withCtr({ livenessProbe: { httpGet: { port: "Http" } } }))).toEqual(["spec.containers[0].livenessProbe.httpGet.port FieldValueInvalid"]);
    expect(fields(withCtr({ livenessProbe: { exec: { command: [] } } }))).toEqual(["spec.containers[0].livenessProbe.exec.command FieldValueRequired"]);
    expect(messages(withCtr({ livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 } }))).toEqual([
      "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
    ]);
    expect(fields(withCtr({ readinessProbe: { tcpSocket: { port: 80 }, successThreshold: 2, initialDelaySeconds: -1 } }))).toEqual([
      "spec.containers[0].readinessProbe.initialDelaySeconds FieldValueInvalid",
    ]);
    expect(fields(withCtr({ readinessProbe: { httpGet: { port: 80, scheme: "FTP" } } }))).toEqual([
      "spec.containers[0].readinessProbe.httpGet.scheme FieldValueNotSupported",
    ]);
    expect(fields(withCtr({ lifecycle: { preStop: { sleep: { seconds: 5 } } } }))).toEqual([]);
    expect(fields(withCtr({ lifecycle: { postStart: {} } }))).toEqual(["spec.containers[0].lifecycle.postStart FieldValueRequired"]);
  });

  it("keeps probes and hooks off plain init containers, and restartPolicy off main containers", () => {
    expect(messages({ initContainers: [ctr({ name: "i", readinessProbe: { tcpSocket: { port: 1 } } })], containers: [ctr()] })).toEqual([
      "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
    ]);
    expect(
      fields({ initContainers: [ctr({ name: "sidecar", restartPolicy: "Always", readinessProbe: { tcpSocket: { port: 1 } } })], containers: [ctr()] }),
    ).toEqual([]);
    expect(messages({ initContainers: [ctr({ name: "i", restartPolicy: "Never" })], containers: [ctr()] })).toEqual([
      'spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
    expect(messages(withCtr({ restartPolicy: "Always" }))).toEqual(["spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"]);
  });

  it("checks the other container enums", () => {
    expect(messages(withCtr({ imagePullPolicy: "Sometimes" }))).toEqual([
      'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
    ]);
    expect(messages(withCtr({ terminationMessagePolicy: "Logs" }))).toEqual([
      "spec.containers[0].terminationMessagePolicy: Invalid value: \"Logs\": must be 'File' or 'FallbackToLogsOnError'",
    ]);
  });
});

describe("volumes", () => {
  it("requires unique DNS-label names and exactly one source", () => {
    expect(
      fields({
        containers: [ctr()],
        volumes: [
          { name: "a", emptyDir: {} },
          { name: "a", emptyDir: {} },
        ],
      }),
    ).toEqual(["spec.volumes[1].name FieldValueDuplicate"]);
    expect(fields({ containers: [ctr()], volumes: [{ name: "A", emptyDir: {} }] })).toEqual(["spec.volumes[0].name FieldValueInvalid"]);
    expect(messages({ containers: [ctr()], volumes: [{ name: "a", emptyDir: {}, hostPath: { path: "/x" } }] })).toEqual([
      "spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type",
    ]);
    expect(validate({ containers: [ctr()], volumes: [{ name: "a" }] }, { defaults: false }).map((c) => c.message)).toEqual([
      "Required value: must specify a volume type",
    ]);
    expect(fields({ containers: [ctr()], volumes: [{ name: "a" }] })).toEqual([]); // defaulted to an emptyDir
  });

  it("checks each source", () => {
    const one = (v: Record<string, unknown>) => fields({ containers: [ctr()], volumes: [{ name: "v", ...v }] });
    expect(one({ hostPath: { path: "" } })).toEqual(["spec.volumes[0].hostPath.path FieldValueRequired"]);
    expect(one({ hostPath: { path: "/a/../b" } })).toEqual(["spec.volumes[0].hostPath.path FieldValueInvalid"]);
    expect(one({ hostPath: { path: "/a", type: "Folder" } })).toEqual(["spec.volumes[0].hostPath.type FieldValueNotSupported"]);
    expect(one({ secret: {} })).toEqual(["spec.volumes[0].secret.secretName FieldValueRequired"]);
    expect(one({ secret: { secretName: "s", defaultMode: 0o1000 } })).toEqual(["spec.volumes[0].secret.defaultMode FieldValueInvalid"]);
    expect(one({ configMap: { name: "cm", items: [{ key: "a", path: "/abs" }] } })).toEqual(["spec.volumes[0].configMap.items[0].path FieldValueInvalid"]);
    expect(one({ configMap: { name: "cm", items: [{ key: "", path: "..x" }] } })).toEqual([
      "spec.volumes[0].configMap.items[0].key FieldValueRequired",
      "spec.volumes[0].configMap.items[0].path FieldValueInvalid",
    ]);
    expect(one({ persistentVolumeClaim: { claimName: "" } })).toEqual(["spec.volumes[0].persistentVolumeClaim.claimName FieldValueRequired"]);
    expect(one({ nfs: { server: "nas", path: "exports" } })).toEqual(["spec.volumes[0].nfs.path FieldValueInvalid"]);
    expect(
      one({
        downwardAPI: {
          items: [
            { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
            { path: "ip", fieldRef: { fieldPath: "status.podIP" } },
          ],
        },
      }),
    ).toEqual(["spec.volumes[0].downwardAPI.items[1].fieldRef.fieldPath FieldValueNotSupported"]);
    expect(one({ projected: { sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 60 } }] } })).toEqual([
      "spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds FieldValueInvalid",
    ]);
  });

  it("does not let mounts refer to invalid volumes", () => {
    expect(fields(withCtr({ volumeMounts: [{ name: "v", mountPath: "/v" }] }, { volumes: [{ name: "v", secret: {} }] }))).toEqual([
      "spec.volumes[0].secret.secretName FieldValueRequired",
      "spec.containers[0].volumeMounts[0].name FieldValueNotFound",
    ]);
  });
});

describe("pod-level settings", () => {
  it("checks restart and DNS policies", () => {
    expect(fields({ containers: [ctr()], restartPolicy: "Sometimes" })).toEqual(["spec.restartPolicy FieldValueNotSupported"]);
    expect(messages({ containers: [ctr()], dnsPolicy: "Google" })).toEqual([
      'spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    ]);
    expect(messages({ containers: [ctr()], dnsPolicy: "None" })).toEqual(["spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"]);
    expect(fields({ containers: [ctr()], dnsPolicy: "None", dnsConfig: { nameservers: ["1.1.1.1"] } })).toEqual([]);
    expect(fields({ containers: [ctr()], dnsConfig: { nameservers: ["1.1.1.1", "8.8.8.8", "9.9.9.9", "1.0.0.1"] } })).toEqual([
      "spec.dnsConfig.nameservers FieldValueInvalid",
    ]);
    expect(fields({ containers: [ctr()], dnsConfig: { nameservers: ["dns.example"] } })).toEqual(["spec.dnsConfig.nameservers[0] FieldValueInvalid"]);
  });

  it("checks names of referenced objects and host names", () => {
    expect(fields({ containers: [ctr()], nodeName: "Node_1", serviceAccountName: "sa", hostname: "a.b", subdomain: "web" })).toEqual([
      "spec.nodeName FieldValueInvalid",
      "spec.hostname FieldValueInvalid",
    ]);
    expect(fields({ containers: [ctr()], activeDeadlineSeconds: 0 })).toEqual(["spec.activeDeadlineSeconds FieldValueInvalid"]);
    expect(fields({ containers: [ctr()], securityContext: { runAsUser: -1 } })).toEqual(["spec.securityContext.runAsUser FieldValueInvalid"]);
  });

  it("checks node selectors as labels", () => {
    expect(fields({ containers: [ctr()], nodeSelector: { "kubernetes.io/os": "linux" } })).toEqual([]);
    expect(fields({ containers: [ctr()], nodeSelector: { "bad key": "x", ok: "-bad-value" } })).toEqual([
      "spec.nodeSelector FieldValueInvalid",
      "spec.nodeSelector FieldValueInvalid",
    ]);
  });

  it("checks tolerations", () => {
    const tol = (t: Record<string, unknown>) => messages({ containers: [ctr()], tolerations: [t] });
    expect(tol({ operator: "Exists" })).toEqual([]);
    expect(tol({ key: "k", operator: "Equal", value: "v", effect: "NoSchedule" })).toEqual([]);
    expect(tol({ key: "k", operator: "Maybe" })).toEqual(['spec.tolerations[0].operator: Unsupported value: "Maybe": supported values: "Equal", "Exists"']);
    expect(tol({ key: "k", effect: "Sometimes" })).toEqual([
      'spec.tolerations[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    ]);
    expect(tol({ value: "v" })).toEqual([
      'spec.tolerations[0].operator: Invalid value: "": operator must be Exists when `key` is empty, which means "match all values and all keys"',
    ]);
    expect(tol({ key: "k", operator: "Exists", effect: "NoSchedule", tolerationSeconds: 5 })).toEqual([
      "spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
    ]);
    expect(tol({ key: "k", operator: "Exists", value: "v" }).map((m) => m.split(":")[0])).toEqual(["spec.tolerations[0].operator"]);
    expect(tol({ key: "bad key", operator: "Exists" }).map((m) => m.split(":")[0])).toEqual(["spec.tolerations[0].key"]);
  });

  it("checks affinity", () => {
    const na = (req: Record<string, unknown>) =>
      fields({ containers: [ctr()], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: req } } });
    const expr = (e: Record<string, unknown>) => na({ nodeSelectorTerms: [{ matchExpressions: [e] }] });
    expect(expr({ key: "zone", operator: "In", values: ["a"] })).toEqual([]);
    expect(expr({ key: "cpus", operator: "Gt", values: ["4"] })).toEqual([]);
    expect(expr({ key: "zone", operator: "Near", values: ["a"] })).toEqual([
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator FieldValueInvalid",
    ]);
    expect(expr({ key: "zone", operator: "In" })).toEqual([
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values FieldValueRequired",
    ]);
    expect(expr({ key: "zone", operator: "Exists", values: ["a"] })).toEqual([
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values FieldValueForbidden",
    ]);
    expect(expr({ key: "cpus", operator: "Lt", values: ["1", "2"] })).toEqual([
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values FieldValueRequired",
    ]);
    expect(na({ nodeSelectorTerms: [] })).toEqual([
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms FieldValueRequired",
    ]);
    expect(na({ nodeSelectorTerms: [{ matchFields: [{ key: "metadata.uid", operator: "In", values: ["x"] }] }] })).toEqual([
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key FieldValueInvalid",
    ]);
    expect(
      fields({ containers: [ctr()], affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: {} }] } } }),
    ).toEqual(["spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight FieldValueInvalid"]);
    expect(
      fields({
        containers: [ctr()],
        affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "x" } }, topologyKey: "" }] } },
      }),
    ).toEqual([
      "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey FieldValueRequired",
      // an empty qualified name is both empty and not matching the pattern, as kube-apiserver reports it
      "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey FieldValueInvalid",
      "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey FieldValueInvalid",
    ]);
  });

  it("checks topology spread constraints", () => {
    const tsc = (t: Record<string, unknown>[]) => fields({ containers: [ctr()], topologySpreadConstraints: t });
    expect(tsc([{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule" }])).toEqual([]);
    expect(tsc([{ maxSkew: 0, topologyKey: "zone", whenUnsatisfiable: "Maybe" }])).toEqual([
      "spec.topologySpreadConstraints[0].whenUnsatisfiable FieldValueNotSupported",
      "spec.topologySpreadConstraints[0].maxSkew FieldValueInvalid",
    ]);
    expect(
      tsc([
        { maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule" },
        { maxSkew: 2, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule" },
      ]),
    ).toEqual(["spec.topologySpreadConstraints[1] FieldValueDuplicate"]);
  });

  it("allows ephemeral containers on pods but not their ports or probes", () => {
    expect(fields({ containers: [ctr()], ephemeralContainers: [{ name: "debug", image: "busybox" }] })).toEqual([]);
    expect(fields({ containers: [ctr()], ephemeralContainers: [{ name: "debug", image: "busybox", ports: [{ containerPort: 1 }] }] })).toEqual([
      "spec.ephemeralContainers[0].ports FieldValueForbidden",
    ]);
    expect(fields({ containers: [ctr()], ephemeralContainers: [{ name: "c", image: "busybox" }] })).toEqual([
      "spec.ephemeralContainers[0].name FieldValueDuplicate",
    ]);
  });
});
