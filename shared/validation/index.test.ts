import { describe, expect, it } from "vitest";
import { applyDefaults } from "../defaults";
import type { ResourceInfo } from "../resources";
import { RESOURCES, resourceByName } from "../../workers/registry/kinds";
import type { KObject } from "../types";
import { openApiSchemas, schemaForKind, typeErrors, unknownFields, validateObject } from "./index";

const check = (resource: string, obj: KObject) => {
  const info = resourceByName(resource);
  const o = structuredClone(obj);
  applyDefaults(info, o);
  return validateObject(info, o);
};
const fields = (resource: string, obj: KObject) => check(resource, obj).map((c) => `${c.field} ${c.reason}`);

const pod = (spec: Record<string, unknown> = {}, meta: Record<string, unknown> = { name: "web", namespace: "default" }): KObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: meta,
  spec: { containers: [{ name: "c", image: "nginx:1.27" }], ...spec },
});

const sts = (over: Record<string, unknown> = {}): KObject => ({
  metadata: { name: "web", namespace: "default" },
  spec: {
    serviceName: "nginx",
    selector: { matchLabels: { app: "nginx" } },
    template: { metadata: { labels: { app: "nginx" } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
    ...over,
  },
});

const manualJob = {
  manualSelector: true,
  selector: { matchLabels: { a: "b" } },
  template: { metadata: { labels: { a: "b" } }, spec: { restartPolicy: "Never", containers: [{ name: "c", image: "i" }] } },
};

const deployment = (over: Record<string, unknown> = {}): KObject => ({
  metadata: { name: "d", namespace: "default" },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "d" } },
    template: { metadata: { labels: { app: "d" } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
    ...over,
  },
});

/** A valid object of every served kind. */
const VALID: [string, KObject][] = [
  ["namespaces", { metadata: { name: "team-a", labels: { "kubernetes.io/metadata.name": "team-a" } }, spec: { finalizers: ["kubernetes"] } }],
  [
    "pods",
    pod({
      volumes: [
        { name: "data", emptyDir: {} },
        { name: "cfg", configMap: { name: "cm", items: [{ key: "a", path: "a.conf" }] } },
      ],
      initContainers: [{ name: "init", image: "busybox", command: ["true"] }],
      containers: [
        {
          name: "web",
          image: "nginx:1.27",
          ports: [{ name: "http", containerPort: 80 }],
          env: [
            { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "X", value: "1" },
          ],
          resources: { limits: { memory: "128Mi", cpu: "500m" }, requests: { cpu: "100m" } },
          volumeMounts: [
            { name: "data", mountPath: "/data" },
            { name: "cfg", mountPath: "/etc/app" },
          ],
          livenessProbe: { httpGet: { port: "http", path: "/healthz" } },
          readinessProbe: { tcpSocket: { port: 80 } },
        },
      ],
      nodeSelector: { "kubernetes.io/os": "linux" },
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }] }] },
        },
      },
    }),
  ],
  [
    "nodes",
    {
      metadata: { name: "node-1", labels: { "kubernetes.io/hostname": "node-1" } },
      spec: { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] },
      status: { capacity: { cpu: "4", memory: "8Gi", pods: "110" } },
    },
  ],
  [
    "services",
    {
      metadata: { name: "web", namespace: "default" },
      spec: {
        selector: { app: "web" },
        ports: [
          { name: "http", port: 80, targetPort: "http" },
          { name: "https", port: 443 },
        ],
      },
    },
  ],
  ["services", { metadata: { name: "ext", namespace: "default" }, spec: { type: "ExternalName", externalName: "example.com." } }],
  ["services", { metadata: { name: "headless", namespace: "default" }, spec: { clusterIP: "None", selector: { app: "x" } } }],
  [
    "endpoints",
    {
      metadata: { name: "web", namespace: "default" },
      subsets: [{ addresses: [{ ip: "10.0.0.5", targetRef: { kind: "Pod", name: "p" } }], ports: [{ port: 8080 }] }],
    },
  ],
  [
    "events",
    {
      metadata: { name: "web.17a", namespace: "default" },
      involvedObject: { kind: "Pod", name: "web", namespace: "default" },
      reason: "Scheduled",
      message: "ok",
      type: "Normal",
      count: 1,
    },
  ],
  ["configmaps", { metadata: { name: "cm", namespace: "default" }, data: { "app.conf": "x=1", KEY_NAME: "v" }, binaryData: { blob: "AAEC" } }],
  ["secrets", { metadata: { name: "s", namespace: "default" }, data: { a: "aGk=" } }],
  ["secrets", { metadata: { name: "tls", namespace: "default" }, type: "kubernetes.io/tls", data: { "tls.crt": "", "tls.key": "" } }],
  [
    "replicationcontrollers",
    {
      metadata: { name: "kubia", namespace: "default" },
      spec: { replicas: 3, template: { metadata: { labels: { app: "kubia" } }, spec: { containers: [{ name: "kubia", image: "luksa/kubia" }] } } },
    },
  ],
  ["deployments", deployment()],
  ["deployments", deployment({ strategy: { type: "Recreate" } })],
  [
    "replicasets",
    {
      metadata: { name: "rs", namespace: "default" },
      spec: {
        replicas: 0,
        selector: { matchExpressions: [{ key: "app", operator: "In", values: ["rs"] }] },
        template: { metadata: { labels: { app: "rs" } }, spec: { containers: [{ name: "c", image: "i" }] } },
      },
    },
  ],
  [
    "endpointslices",
    {
      metadata: { name: "web-abc", namespace: "default" },
      addressType: "IPv4",
      endpoints: [{ addresses: ["10.0.0.5"], conditions: { ready: true } }],
      ports: [{ name: "", port: 80, protocol: "TCP" }],
    },
  ],
  [
    "leases",
    {
      metadata: { name: "node-1", namespace: "kube-node-lease" },
      spec: { holderIdentity: "node-1", leaseDurationSeconds: 40, renewTime: "2026-01-01T00:00:00.000000Z" },
    },
  ],
  [
    "jobs",
    {
      metadata: { name: "pi", namespace: "default", uid: "6c9d1a51-0000-4000-8000-000000000001" },
      spec: {
        completions: 3,
        parallelism: 2,
        backoffLimit: 4,
        selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "6c9d1a51-0000-4000-8000-000000000001" } },
        template: {
          metadata: { labels: { "batch.kubernetes.io/controller-uid": "6c9d1a51-0000-4000-8000-000000000001" } },
          spec: { restartPolicy: "Never", containers: [{ name: "pi", image: "perl" }] },
        },
      },
    },
  ],
  [
    "poddisruptionbudgets",
    { metadata: { name: "kubia-pdb", namespace: "default" }, spec: { minAvailable: "50%", selector: { matchLabels: { app: "kubia" } } } },
  ],
  [
    "customresourcedefinitions",
    {
      metadata: { name: "widgets.example.com" },
      spec: {
        group: "example.com",
        names: { plural: "widgets", kind: "Widget" },
        scope: "Namespaced",
        versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object" } } } } }],
      },
    },
  ],
  [
    "horizontalpodautoscalers",
    {
      metadata: { name: "kubia", namespace: "default" },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "kubia" },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 30 } } }],
      },
    },
  ],
  [
    "daemonsets",
    {
      metadata: { name: "ssd-monitor", namespace: "default" },
      spec: {
        selector: { matchLabels: { app: "ssd-monitor" } },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%", maxSurge: 0 } },
        template: {
          metadata: { labels: { app: "ssd-monitor" } },
          spec: { nodeSelector: { disk: "ssd" }, containers: [{ name: "main", image: "luksa/ssd-monitor" }] },
        },
      },
    },
  ],
  [
    "statefulsets",
    {
      metadata: { name: "web", namespace: "default" },
      spec: {
        serviceName: "nginx",
        replicas: 3,
        selector: { matchLabels: { app: "nginx" } },
        podManagementPolicy: "Parallel",
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } },
        template: { metadata: { labels: { app: "nginx" } }, spec: { containers: [{ name: "nginx", image: "nginx" }] } },
        volumeClaimTemplates: [{ metadata: { name: "www" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      },
    },
  ],
  ["controllerrevisions", { metadata: { name: "web-5d8f7c9b6", namespace: "default" }, data: { spec: { template: { $patch: "replace" } } }, revision: 2 }],
  [
    "cronjobs",
    {
      metadata: { name: "backup", namespace: "default" },
      spec: {
        schedule: "0 3 * * *",
        timeZone: "Europe/Berlin",
        concurrencyPolicy: "Forbid",
        jobTemplate: { spec: { template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "b", image: "restic" }] } } } },
      },
    },
  ],
  [
    "serviceaccounts",
    {
      metadata: { name: "builder", namespace: "default" },
      secrets: [{ name: "builder-token" }],
      imagePullSecrets: [{ name: "regcred" }],
      automountServiceAccountToken: false,
    },
  ],
  [
    "persistentvolumes",
    {
      metadata: { name: "mongodb-pv" },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce", "ReadOnlyMany"],
        persistentVolumeReclaimPolicy: "Retain",
        hostPath: { path: "/tmp/mongodb" },
      },
    },
  ],
  [
    "persistentvolumeclaims",
    {
      metadata: { name: "mongodb-pvc", namespace: "default" },
      spec: { resources: { requests: { storage: "1Gi" } }, accessModes: ["ReadWriteOnce"], storageClassName: "" },
    },
  ],
  ["storageclasses", { metadata: { name: "fast" }, provisioner: "kubeflare.dev/local-path", parameters: { type: "pd-ssd" }, volumeBindingMode: "Immediate" }],
  [
    "ingresses",
    {
      metadata: { name: "kubia", namespace: "default" },
      spec: {
        tls: [{ hosts: ["kubia.example.com", "*.example.com"], secretName: "tls-secret" }],
        rules: [
          {
            host: "*.example.com",
            http: {
              paths: [
                { path: "/kubia", pathType: "Prefix", backend: { service: { name: "kubia", port: { number: 80 } } } },
                { path: "/x", pathType: "Exact", backend: { service: { name: "kubia", port: { name: "http" } } } },
                { pathType: "ImplementationSpecific", backend: { resource: { apiGroup: "k8s.example.com", kind: "StorageBucket", name: "static" } } },
              ],
            },
          },
        ],
      },
    },
  ],
  [
    "ingressclasses",
    { metadata: { name: "kubeflare" }, spec: { controller: "kubeflare.dev/ingress", parameters: { kind: "Cfg", name: "c", scope: "Cluster" } } },
  ],
  [
    "networkpolicies",
    {
      metadata: { name: "db-access", namespace: "default" },
      spec: {
        podSelector: { matchLabels: { role: "db" } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [
              { ipBlock: { cidr: "172.17.0.0/16", except: ["172.17.1.0/24"] } },
              {
                namespaceSelector: { matchLabels: { project: "myproject" } },
                podSelector: { matchExpressions: [{ key: "role", operator: "In", values: ["fe"] }] },
              },
            ],
            ports: [{ protocol: "TCP", port: 6379 }, { port: "http" }, { protocol: "UDP", port: 32000, endPort: 32768 }],
          },
        ],
        egress: [{ to: [{ ipBlock: { cidr: "2001:db8::/64" } }], ports: [{ protocol: "SCTP", port: 5978 }] }],
      },
    },
  ],
  ["roles", { metadata: { name: "pod-reader", namespace: "default" }, rules: [{ apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list"] }] }],
  [
    "clusterroles",
    {
      metadata: { name: "system:monitoring-x" },
      rules: [{ nonResourceURLs: ["/metrics", "/healthz/*"], verbs: ["get"] }],
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "example.com/aggregate": "true" } }] },
    },
  ],
  [
    "rolebindings",
    {
      metadata: { name: "sa-view", namespace: "default" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      subjects: [
        { kind: "ServiceAccount", name: "sa" },
        { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "jane" },
      ],
    },
  ],
  [
    "clusterrolebindings",
    {
      metadata: { name: "admins" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [
        { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "admins" },
        { kind: "ServiceAccount", name: "sa", namespace: "a" },
      ],
    },
  ],
  ["selfsubjectaccessreviews", { metadata: { name: "r" }, spec: { resourceAttributes: { verb: "list", resource: "pods", namespace: "a" } } } as KObject],
  ["selfsubjectrulesreviews", { metadata: { name: "r" }, spec: { namespace: "a" } } as KObject],
  [
    "subjectaccessreviews",
    { metadata: { name: "r" }, spec: { user: "u", groups: ["g"], nonResourceAttributes: { path: "/metrics", verb: "get" } } } as KObject,
  ],
  [
    "localsubjectaccessreviews",
    { metadata: { name: "r", namespace: "a" }, spec: { user: "u", resourceAttributes: { verb: "get", resource: "pods" } } } as KObject,
  ],
  ["selfsubjectreviews", { metadata: { name: "r" } } as KObject],
  ["tokenreviews", { metadata: { name: "r" }, spec: { token: "t", audiences: ["a"] } } as KObject],
  [
    "limitranges",
    {
      metadata: { name: "limits", namespace: "default" },
      spec: {
        limits: [
          {
            type: "Container",
            min: { cpu: "100m" },
            max: { cpu: "2" },
            default: { cpu: "1" },
            defaultRequest: { cpu: "500m" },
            maxLimitRequestRatio: { cpu: "4" },
          },
          { type: "Pod", max: { memory: "4Gi" } },
          { type: "PersistentVolumeClaim", min: { storage: "1Gi" } },
        ],
      },
    },
  ],
  [
    "resourcequotas",
    {
      metadata: { name: "compute", namespace: "default" },
      spec: { hard: { pods: "10", "requests.cpu": "4", "limits.memory": "8Gi", "count/deployments.apps": "5" }, scopes: ["NotTerminating"] },
      status: { hard: { pods: "10" }, used: { pods: "2" } },
    },
  ],
];

describe("validateObject", () => {
  it("accepts valid objects of every kind", () => {
    for (const [resource, obj] of VALID) expect(check(resource, obj), `${resource} ${obj.metadata.name}`).toEqual([]);
    const kinds = new Set(VALID.map(([r]) => resourceByName(r).kind));
    for (const info of RESOURCES) expect(kinds.has(info.kind), info.kind).toBe(true);
  });

  it("accepts JSON nulls as unset fields", () => {
    expect(
      check("pods", {
        metadata: { name: "p", labels: null },
        spec: { containers: [{ name: "c", image: "i", ports: null }], nodeSelector: null },
      } as unknown as KObject),
    ).toEqual([]);
  });

  it("reports the cases the API promises, with Kubernetes field paths and reasons", () => {
    const cases: [string, KObject, string[]][] = [
      ["pods", pod({}, { name: "Bad_Name" }), ["metadata.name FieldValueInvalid"]],
      ["pods", pod({}, {}), ["metadata.name FieldValueRequired"]],
      ["pods", pod({}, { generateName: "web-" }), []],
      ["pods", pod({ containers: [{ name: "c" }] }), ["spec.containers[0].image FieldValueRequired"]],
      ["pods", pod({ containers: [] }), ["spec.containers FieldValueRequired"]],
      ["pods", pod({ containers: "nope" }), ["spec.containers FieldValueTypeInvalid"]],
      [
        "pods",
        pod({ containers: [{ name: "c", image: "i", ports: [{ containerPort: 70000 }] }] }),
        ["spec.containers[0].ports[0].containerPort FieldValueInvalid"],
      ],
      [
        "pods",
        pod({ containers: [{ name: "c", image: "i", resources: { limits: { memory: "lots" } } }] }),
        ["spec.containers[0].resources.limits[memory] FieldValueInvalid", "spec.containers[0].resources.requests[memory] FieldValueInvalid"],
      ],
      [
        "pods",
        pod({
          containers: [
            { name: "c", image: "i" },
            { name: "c", image: "j" },
          ],
        }),
        ["spec.containers[1].name FieldValueDuplicate"],
      ],
      ["pods", pod({ restartPolicy: "Sometimes" }), ["spec.restartPolicy FieldValueNotSupported"]],
      ["pods", pod({ tolerations: [{ key: "k", operator: "Maybe" }] }), ["spec.tolerations[0].operator FieldValueNotSupported"]],
      ["pods", pod({}, { name: "p", labels: { "bad key!": "v" } }), ["metadata.labels FieldValueInvalid"]],
      ["pods", pod({}, { name: "p", namespace: "Not_A_Label" }), ["metadata.namespace FieldValueInvalid"]],
      ["deployments", deployment({ replicas: -1 }), ["spec.replicas FieldValueInvalid"]],
      ["deployments", deployment({ selector: undefined }), ["spec.selector FieldValueRequired"]],
      [
        "services",
        { metadata: { name: "s" }, spec: { ports: [{ port: 80 }, { port: 81 }] } },
        ["spec.ports[0].name FieldValueRequired", "spec.ports[1].name FieldValueRequired"],
      ],
      ["secrets", { metadata: { name: "s" }, data: { a: "not base64!" } }, ["data[a] FieldValueInvalid"]],
      ["namespaces", { metadata: { name: "a.b" } }, ["metadata.name FieldValueInvalid"]],
      ["leases", { metadata: { name: "l" }, spec: { leaseDurationSeconds: 0 } }, ["spec.leaseDurationSeconds FieldValueInvalid"]],
      ["events", { metadata: { name: "e" } } as KObject, ["involvedObject FieldValueRequired"]],
      ["nodes", { metadata: { name: "n" }, status: { capacity: { cpu: "four" }, allocatable: { cpu: "3" } } }, ["status.capacity[cpu] FieldValueInvalid"]],
      ["statefulsets", sts({ podManagementPolicy: "Random" }), ["spec.podManagementPolicy FieldValueNotSupported"]],
      [
        "statefulsets",
        sts({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: -1 } } }),
        ["spec.updateStrategy.rollingUpdate.partition FieldValueInvalid"],
      ],
      ["statefulsets", sts({ updateStrategy: { type: "OnDelete", rollingUpdate: { partition: 1 } } }), ["spec.updateStrategy.rollingUpdate FieldValueInvalid"]],
      ["statefulsets", sts({ serviceName: "Bad_Service" }), ["spec.serviceName FieldValueInvalid"]],
      ["statefulsets", sts({ selector: { matchLabels: { app: "other" } } }), ["spec.template.metadata.labels FieldValueInvalid"]],
      [
        "statefulsets",
        sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: "Keep" } }),
        ["spec.persistentVolumeClaimRetentionPolicy.whenDeleted FieldValueNotSupported"],
      ],
      [
        "statefulsets",
        sts({ volumeClaimTemplates: [{ metadata: { name: "www" }, spec: { resources: { requests: {} } } }] }),
        ["spec.volumeClaimTemplates[0].spec.accessModes FieldValueRequired", "spec.volumeClaimTemplates[0].spec.resources[storage] FieldValueRequired"],
      ],
      ["controllerrevisions", { metadata: { name: "r" }, revision: -1 } as unknown as KObject, ["data FieldValueRequired", "revision FieldValueInvalid"]],
      [
        "jobs",
        {
          metadata: { name: "j" },
          spec: { backoffLimitPerIndex: 1, maxFailedIndexes: 2, completions: 1, ...manualJob },
        },
        ["spec.backoffLimitPerIndex FieldValueInvalid", "spec.maxFailedIndexes FieldValueInvalid"],
      ],
      ["jobs", { metadata: { name: "j" }, spec: { maxFailedIndexes: 1, ...manualJob } }, ["spec.backoffLimitPerIndex FieldValueRequired"]],
    ];
    for (const [resource, obj, want] of cases) expect(fields(resource, obj), JSON.stringify(obj)).toEqual(want);
  });

  it("words messages like kube-apiserver", () => {
    const [mismatch] = check(
      "deployments",
      deployment({ template: { metadata: { labels: { app: "other", tier: "x" } }, spec: { containers: [{ name: "c", image: "i" }] } } }),
    );
    expect(mismatch).toEqual({
      reason: "FieldValueInvalid",
      field: "spec.template.metadata.labels",
      message: 'Invalid value: map[string]string{"app":"other", "tier":"x"}: `selector` does not match template `labels`',
    });
    expect(check("pods", pod({ restartPolicy: "Sometimes" }))[0].message).toBe(
      'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    );
    expect(check("pods", pod({}, {}))[0].message).toBe("Required value: name or generateName is required");
    expect(check("pods", pod({ containers: "nope" }))[0]).toEqual({
      reason: "FieldValueTypeInvalid",
      field: "spec.containers",
      message: 'Invalid value: "string": spec.containers in body must be of type array: "string"',
    });
  });

  it("reports type errors without piling rule errors below them", () => {
    expect(fields("deployments", deployment({ template: "x" }))).toEqual(["spec.template FieldValueTypeInvalid"]);
    expect(fields("pods", { metadata: { name: "p" }, spec: 5 })).toEqual(["spec FieldValueTypeInvalid"]);
    // other fields are still checked
    expect(fields("pods", pod({ hostNetwork: "yes", restartPolicy: "Sometimes" }, { name: "UPPER" }))).toEqual([
      "spec.restartPolicy FieldValueNotSupported",
      "spec.hostNetwork FieldValueTypeInvalid",
      "metadata.name FieldValueInvalid",
    ]);
  });

  it("splits into the type check (typeErrors) and the rules (typesChecked)", () => {
    const info = resourceByName("pods");
    const bad = pod({ hostNetwork: "yes" }, { name: "Bad_Name", namespace: "default" });
    expect(typeErrors(info, bad).map((c) => `${c.field} ${c.reason}`)).toEqual(["spec.hostNetwork FieldValueTypeInvalid"]);
    expect(validateObject(info, bad, { typesChecked: true }).map((c) => `${c.field} ${c.reason}`)).toEqual(["metadata.name FieldValueInvalid"]);
    expect(typeErrors(info, pod({ containers: [null] }))).toMatchObject([{ field: "spec.containers[0]", reason: "FieldValueTypeInvalid" }]);
    expect(typeErrors(info, pod({ containers: {} }))).toMatchObject([{ field: "spec.containers", reason: "FieldValueTypeInvalid" }]);
    expect(typeErrors(resourceByName("deployments"), { kind: "Scale", spec: { replicas: "x" } } as KObject)).toMatchObject([{ field: "spec.replicas" }]);
  });

  it("checks a Scale body as a Scale", () => {
    const info = resourceByName("deployments");
    expect(validateObject(info, { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: "d", namespace: "default" }, spec: { replicas: 3 } })).toEqual(
      [],
    );
    expect(validateObject(info, { kind: "Scale", metadata: { name: "d" }, spec: { replicas: -1 } }).map((c) => `${c.field} ${c.reason}`)).toEqual([
      "spec.replicas FieldValueInvalid",
    ]);
    const scaleInfo: ResourceInfo = { ...info, kind: "Scale", group: "autoscaling" };
    expect(validateObject(scaleInfo, { metadata: { name: "d" }, spec: { replicas: "x" } }).map((c) => c.reason)).toEqual(["FieldValueTypeInvalid"]);
  });

  it("never throws, whatever it is given", () => {
    const garbage: unknown[] = [undefined, null, 0, -1, "x", true, [], [null, 1, "a", {}], {}, { a: { b: [1] } }];
    for (const info of RESOURCES) {
      for (const g of garbage) {
        const bodies = [
          { metadata: g, spec: g },
          { metadata: {}, spec: { containers: g, template: g, selector: g, ports: g, strategy: g, volumes: g, tolerations: g, affinity: g, taints: g } },
          {
            metadata: { name: g, labels: g, annotations: g, ownerReferences: g, finalizers: g },
            data: g,
            status: g,
            subsets: g,
            endpoints: g,
            involvedObject: g,
          },
          {
            metadata: {},
            spec: {
              containers: [
                {
                  name: g,
                  image: g,
                  ports: [g],
                  env: [g, { name: "x", valueFrom: g }],
                  resources: { limits: g, requests: g },
                  volumeMounts: [g],
                  livenessProbe: g,
                  lifecycle: { preStop: g },
                },
              ],
              template: { metadata: g, spec: { containers: [g] } },
            },
          },
        ];
        for (const body of bodies) {
          expect(() => validateObject(info, body as unknown as KObject), `${info.kind} ${JSON.stringify(body)}`).not.toThrow();
          expect(() => unknownFields(info.kind, body), info.kind).not.toThrow();
        }
      }
      expect(() => validateObject(info, null as unknown as KObject)).not.toThrow();
    }
  });
});

describe("unknownFields", () => {
  it("finds unknown fields with the paths kube-apiserver prints", () => {
    expect(unknownFields("Pod", { metadata: { name: "x", zz: 1 }, spec: { containers: [{ name: "c", image: "i", foo: 1 }], bogus: 1 }, extra: 2 })).toEqual([
      "metadata.zz",
      "spec.containers[0].foo",
      "spec.bogus",
      "extra",
    ]);
    expect(
      unknownFields("Deployment", {
        spec: { template: { spec: { containers: [{ name: "c", ports: [{ containerPort: 1, prot: "TCP" }] }] } }, strategy: { kind: "x" } },
      }),
    ).toEqual(["spec.template.spec.containers[0].ports[0].prot", "spec.strategy.kind"]);
  });

  it("treats status as part of every schema, and free-form maps as open", () => {
    expect(
      unknownFields("Pod", {
        status: {
          phase: "Running",
          podIP: "10.0.0.1",
          containerStatuses: [{ name: "c", ready: true, restartCount: 0, image: "i", imageID: "x", state: { running: { startedAt: "2026-01-01T00:00:00Z" } } }],
        },
      }),
    ).toEqual([]);
    expect(unknownFields("Pod", { status: { phaze: "Running" } })).toEqual(["status.phaze"]);
    expect(
      unknownFields("ConfigMap", {
        metadata: { name: "x", labels: { any: "thing" }, annotations: { "a/b": "c" } },
        data: { whatever: "x" },
        binaryData: { y: "AA==" },
      }),
    ).toEqual([]);
    expect(unknownFields("Node", { status: { capacity: { "example.com/dongle": "1" }, allocatable: { cpu: "1" } } })).toEqual([]);
    expect(unknownFields("Service", { spec: { selector: { a: "b" } } })).toEqual([]);
    expect(unknownFields("ConfigMap", { spec: {} })).toEqual(["spec"]);
  });

  it("knows Scale and the other kinds", () => {
    expect(
      unknownFields("Scale", {
        apiVersion: "autoscaling/v1",
        kind: "Scale",
        metadata: { name: "d" },
        spec: { replicas: 2, nope: 1 },
        status: { replicas: 1, selector: "app=d" },
      }),
    ).toEqual(["spec.nope"]);
    expect(unknownFields("Lease", { spec: { holderIdentity: "n", bogus: true } })).toEqual(["spec.bogus"]);
    expect(unknownFields("Event", { involvedObject: { kind: "Pod", color: "red" } })).toEqual(["involvedObject.color"]);
    expect(unknownFields("Unknown", { anything: 1 })).toEqual([]);
  });
});

describe("schemaForKind", () => {
  it("returns a zod schema per kind", () => {
    for (const kind of ["Pod", "Deployment", "Scale", "Namespace", "EndpointSlice"]) expect(schemaForKind(kind), kind).toBeDefined();
    expect(schemaForKind("Widget")).toBeUndefined();
    const pod = schemaForKind("Pod")!;
    expect(pod.safeParse({ metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } }).success).toBe(true);
    expect(pod.safeParse({ spec: { containers: [{ image: "i" }] } }).success).toBe(false); // name is required by the schema
    expect(pod.safeParse({ spec: { containers: [{ name: "c", image: "i" }], what: 1 } }).success).toBe(false);
    expect(schemaForKind("Deployment")!.safeParse({ spec: { replicas: "3" } }).success).toBe(false);
  });
});

describe("openApiSchemas", () => {
  it("contains Pod with its GVK and the containers merge key, with every $ref resolving", () => {
    const s = openApiSchemas();
    expect(s["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "", kind: "Pod", version: "v1" }]);
    expect(s["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", kind: "Deployment", version: "v1" }]);
    expect(s["io.k8s.api.core.v1.PodSpec"].properties.containers["x-kubernetes-patch-merge-key"]).toBe("name");
    expect(s["io.k8s.api.core.v1.Container"].properties.image.description).toBeTruthy();
    expect(s["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].type).toBe("object");
    const refs = JSON.stringify(s).match(/#\/components\/schemas\/[^"]+/g) ?? [];
    expect(refs.length).toBeGreaterThan(100);
    for (const r of refs) expect(s[r.slice("#/components/schemas/".length)], r).toBeDefined();
    expect(openApiSchemas()).toBe(s);
  });
});
