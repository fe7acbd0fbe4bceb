import { describe, expect, it } from "vitest";
import { applyDefaults, defaultPod, defaultPodSpec, defaultPullPolicy } from "./defaults";
import { RESOURCES, resourceByName } from "../workers/registry/kinds";
import type { KObject } from "./types";

const run = (resource: string, obj: KObject) => {
  applyDefaults(resourceByName(resource), obj);
  return obj;
};

const template = (spec: Record<string, unknown> = {}) => ({
  metadata: { labels: { app: "web" } },
  spec: { containers: [{ name: "c", image: "nginx:1.27" }], ...spec },
});

describe("pod defaults", () => {
  it("defaults a pod spec like kube-apiserver", () => {
    const p = run("pods", { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] } });
    expect(p.spec).toEqual({
      containers: [
        {
          name: "c",
          image: "nginx:1.27",
          ports: [{ containerPort: 80, protocol: "TCP" }],
          imagePullPolicy: "IfNotPresent",
          terminationMessagePath: "/dev/termination-log",
          terminationMessagePolicy: "File",
          resources: {},
        },
      ],
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      dnsPolicy: "ClusterFirst",
      schedulerName: "default-scheduler",
      securityContext: {},
      enableServiceLinks: true,
      preemptionPolicy: "PreemptLowerPriority",
      priority: 0,
    });
  });

  it("keeps values that are set", () => {
    const p = run("pods", {
      metadata: { name: "p" },
      spec: {
        restartPolicy: "Never",
        terminationGracePeriodSeconds: 0,
        dnsPolicy: "Default",
        priority: 7,
        enableServiceLinks: false,
        containers: [{ name: "c", image: "x", imagePullPolicy: "Never", resources: { requests: { cpu: "1" } } }],
      },
    });
    expect(p.spec).toMatchObject({ restartPolicy: "Never", terminationGracePeriodSeconds: 0, dnsPolicy: "Default", priority: 7, enableServiceLinks: false });
    expect(p.spec.containers[0].imagePullPolicy).toBe("Never");
    expect(p.spec.containers[0].resources).toEqual({ requests: { cpu: "1" } });
  });

  it("treats empty strings as unset, like Go", () => {
    const p = run("pods", {
      metadata: { name: "p" },
      spec: { restartPolicy: "", containers: [{ name: "c", image: "x:1", imagePullPolicy: "", ports: [{ containerPort: 1, protocol: "" }] }] },
    });
    expect(p.spec.restartPolicy).toBe("Always");
    expect(p.spec.containers[0].imagePullPolicy).toBe("IfNotPresent");
    expect(p.spec.containers[0].ports[0].protocol).toBe("TCP");
  });

  it("defaults init and ephemeral containers too", () => {
    const p = run("pods", {
      metadata: { name: "p" },
      spec: {
        initContainers: [{ name: "i", image: "busybox" }],
        containers: [{ name: "c", image: "x:1" }],
        ephemeralContainers: [{ name: "e", image: "y:2" }],
      },
    });
    expect(p.spec.initContainers[0]).toMatchObject({ imagePullPolicy: "Always", terminationMessagePolicy: "File", resources: {} });
    expect(p.spec.ephemeralContainers[0]).toMatchObject({ imagePullPolicy: "IfNotPresent", terminationMessagePath: "/dev/termination-log" });
  });

  it("defaults requests to limits per resource, in pods only", () => {
    const p = run("pods", {
      metadata: { name: "p" },
      spec: {
        initContainers: [{ name: "i", image: "x", resources: { limits: { memory: "64Mi" } } }],
        containers: [{ name: "c", image: "x", resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m" } } }],
      },
    });
    expect(p.spec.containers[0].resources).toEqual({ limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m", memory: "1Gi" } });
    expect(p.spec.initContainers[0].resources.requests).toEqual({ memory: "64Mi" });
    const rs = run("replicasets", {
      metadata: { name: "r" },
      spec: { template: template({ containers: [{ name: "c", image: "x", resources: { limits: { cpu: "1" } } }] }) },
    });
    expect(rs.spec.template.spec.containers[0].resources).toEqual({ limits: { cpu: "1" } });
  });

  it("keeps pod-only defaults out of templates", () => {
    const d = run("deployments", { metadata: { name: "d" }, spec: { template: template() } });
    const spec = d.spec.template.spec;
    expect(spec).toMatchObject({
      restartPolicy: "Always",
      dnsPolicy: "ClusterFirst",
      schedulerName: "default-scheduler",
      securityContext: {},
      terminationGracePeriodSeconds: 30,
    });
    expect(spec.enableServiceLinks).toBeUndefined();
    expect(spec.priority).toBeUndefined();
    expect(spec.preemptionPolicy).toBeUndefined();
    expect(spec.containers[0]).toMatchObject({ imagePullPolicy: "IfNotPresent", resources: {} });
  });

  it("defaults probes, including zero values of plain integers", () => {
    const p = run("pods", {
      metadata: { name: "p" },
      spec: {
        containers: [
          {
            name: "c",
            image: "x",
            livenessProbe: { httpGet: { port: 8080 }, periodSeconds: 0 },
            readinessProbe: { tcpSocket: { port: "http" }, timeoutSeconds: 5 },
            startupProbe: { exec: { command: ["true"] } },
            lifecycle: { preStop: { httpGet: { port: 80 } } },
          },
        ],
      },
    });
    const c = p.spec.containers[0];
    expect(c.livenessProbe).toEqual({
      httpGet: { port: 8080, path: "/", scheme: "HTTP" },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(c.readinessProbe).toMatchObject({ timeoutSeconds: 5, periodSeconds: 10 });
    expect(c.startupProbe).toMatchObject({ failureThreshold: 3, successThreshold: 1 });
    expect(c.lifecycle.preStop.httpGet).toEqual({ port: 80, path: "/", scheme: "HTTP" });
  });

  it("defaults env fieldRef apiVersion and volumes", () => {
    const p = run("pods", {
      metadata: { name: "p" },
      spec: {
        containers: [
          {
            name: "c",
            image: "x",
            env: [
              { name: "N", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "V", value: "1" },
            ],
          },
        ],
        volumes: [
          { name: "a" },
          { name: "b", configMap: { name: "cm" } },
          { name: "c", secret: { secretName: "s", defaultMode: 0o400 } },
          { name: "d", hostPath: { path: "/tmp" } },
          { name: "e", downwardAPI: { items: [{ path: "n", fieldRef: { fieldPath: "metadata.name" } }] } },
        ],
      },
    });
    expect(p.spec.containers[0].env).toEqual([
      { name: "N", valueFrom: { fieldRef: { fieldPath: "metadata.name", apiVersion: "v1" } } },
      { name: "V", value: "1" },
    ]);
    expect(p.spec.volumes).toEqual([
      { name: "a", emptyDir: {} },
      { name: "b", configMap: { name: "cm", defaultMode: 420 } },
      { name: "c", secret: { secretName: "s", defaultMode: 256 } },
      { name: "d", hostPath: { path: "/tmp", type: "" } },
      { name: "e", downwardAPI: { defaultMode: 420, items: [{ path: "n", fieldRef: { fieldPath: "metadata.name", apiVersion: "v1" } }] } },
    ]);
  });

  it("stores a negative terminationGracePeriodSeconds of a Pod as 1, and leaves templates' alone", () => {
    const spec: any = { terminationGracePeriodSeconds: -5, containers: [{ name: "c", image: "x" }] };
    defaultPod(spec);
    expect(spec.terminationGracePeriodSeconds).toBe(1);
    const zero: any = { terminationGracePeriodSeconds: 0, containers: [] };
    defaultPod(zero);
    expect(zero.terminationGracePeriodSeconds).toBe(0);
    const tmpl: any = { terminationGracePeriodSeconds: -5, containers: [] };
    defaultPodSpec(tmpl);
    expect(tmpl.terminationGracePeriodSeconds).toBe(-5);
  });

  it("leaves host ports alone with hostNetwork (one deliberate difference from kube-apiserver)", () => {
    const spec: any = { hostNetwork: true, containers: [{ name: "c", image: "x", ports: [{ containerPort: 80 }, { containerPort: 81, hostPort: 81 }] }] };
    defaultPod(spec);
    expect(spec.containers[0].ports.map((p: any) => p.hostPort)).toEqual([undefined, 81]);
    const tmpl: any = { hostNetwork: true, containers: [{ name: "c", image: "x", ports: [{ containerPort: 80 }] }] };
    defaultPodSpec(tmpl);
    expect(tmpl.containers[0].ports[0].hostPort).toBeUndefined();
  });
});

describe("defaultPullPolicy", () => {
  it.each([
    ["nginx", "Always"],
    ["nginx:latest", "Always"],
    ["docker.io/library/nginx", "Always"],
    ["localhost:5000/nginx", "Always"],
    ["localhost:5000/nginx:latest", "Always"],
    ["localhost:5000/nginx:1", "IfNotPresent"],
    ["nginx:1.27", "IfNotPresent"],
    ["nginx@sha256:abc", "IfNotPresent"],
    ["nginx:latest@sha256:abc", "Always"],
    ["nginx:1@sha256:abc", "IfNotPresent"],
    ["", "IfNotPresent"],
    [undefined, "IfNotPresent"],
    [42, "IfNotPresent"],
  ])("%j → %s", (image, want) => {
    expect(defaultPullPolicy(image)).toBe(want);
  });
});

describe("workload defaults", () => {
  it("defaults deployments", () => {
    const d = run("deployments", { metadata: { name: "d" }, spec: { selector: { matchLabels: { app: "web" } }, template: template() } });
    expect(d.spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
    });
    expect(d.spec.template.spec.containers[0].terminationMessagePolicy).toBe("File");
  });

  it("fills a partial rolling update and leaves Recreate alone", () => {
    const d = run("deployments", { metadata: { name: "d" }, spec: { replicas: 0, strategy: { rollingUpdate: { maxSurge: 1 } }, template: template() } });
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: "25%" } });
    const r = run("deployments", { metadata: { name: "d" }, spec: { strategy: { type: "Recreate" }, template: template() } });
    expect(r.spec.strategy).toEqual({ type: "Recreate" });
  });

  it("defaults replica sets", () => {
    const rs = run("replicasets", { metadata: { name: "r" }, spec: { template: template() } });
    expect(rs.spec.replicas).toBe(1);
    expect(rs.spec.template.spec.restartPolicy).toBe("Always");
  });

  it("defaults replication controllers' selector and labels from the template", () => {
    const rc = run("replicationcontrollers", { metadata: { name: "r" }, spec: { template: { metadata: { labels: { app: "k" } }, spec: { containers: [] } } } });
    expect(rc.spec.selector).toEqual({ app: "k" });
    expect(rc.metadata.labels).toEqual({ app: "k" });
    expect(rc.spec.replicas).toBe(1);
    const kept = run("replicationcontrollers", {
      metadata: { name: "r", labels: { mine: "x" } },
      spec: { selector: { app: "k" }, template: { metadata: { labels: { app: "k", tier: "t" } }, spec: { containers: [] } } },
    });
    expect(kept.spec.selector).toEqual({ app: "k" });
    expect(kept.metadata.labels).toEqual({ mine: "x" });
  });
});

describe("other kinds", () => {
  it("defaults services", () => {
    const s = run("services", { metadata: { name: "s" }, spec: { ports: [{ port: 80 }, { port: 53, protocol: "UDP", targetPort: "dns" }] } });
    expect(s.spec).toEqual({
      ports: [
        { port: 80, protocol: "TCP", targetPort: 80 },
        { port: 53, protocol: "UDP", targetPort: "dns" },
      ],
      type: "ClusterIP",
      sessionAffinity: "None",
      ipFamilyPolicy: "SingleStack",
      ipFamilies: ["IPv4"],
      internalTrafficPolicy: "Cluster",
    });
  });

  it("defaults externally reachable services and session affinity", () => {
    const np = run("services", { metadata: { name: "s" }, spec: { type: "NodePort", ports: [{ port: 80, targetPort: 0 }] } });
    expect(np.spec).toMatchObject({ externalTrafficPolicy: "Cluster", internalTrafficPolicy: "Cluster", ports: [{ targetPort: 80 }] });
    const lb = run("services", { metadata: { name: "s" }, spec: { type: "LoadBalancer", ports: [{ port: 80 }] } });
    expect(lb.spec.allocateLoadBalancerNodePorts).toBe(true);
    const ci = run("services", { metadata: { name: "s" }, spec: { sessionAffinity: "ClientIP", ports: [{ port: 80 }] } });
    expect(ci.spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10800 } });
    expect(ci.spec.externalTrafficPolicy).toBeUndefined();
  });

  it("leaves ExternalName services without IP families", () => {
    const s = run("services", { metadata: { name: "s" }, spec: { type: "ExternalName", externalName: "example.com" } });
    expect(s.spec).toEqual({ type: "ExternalName", externalName: "example.com", sessionAffinity: "None" });
  });

  it("defaults secrets, namespaces, nodes and endpoints", () => {
    expect(run("secrets", { metadata: { name: "x" } }).type).toBe("Opaque");
    expect(run("secrets", { metadata: { name: "x" }, type: "" }).type).toBe("Opaque");
    expect(run("secrets", { metadata: { name: "x" }, type: "kubernetes.io/tls" }).type).toBe("kubernetes.io/tls");
    const ns = run("namespaces", { metadata: { name: "n" } });
    expect(ns.status).toEqual({ phase: "Active" });
    expect(ns.spec).toBeUndefined(); // the kubernetes finalizer is added on create, by the registry
    expect(run("namespaces", { metadata: { name: "n" }, status: { phase: "Terminating" } }).status.phase).toBe("Terminating");
    const node = run("nodes", { metadata: { name: "n" }, status: { capacity: { cpu: "4", pods: "110" } } });
    expect(node.status.allocatable).toEqual({ cpu: "4", pods: "110" });
    expect(run("nodes", { metadata: { name: "n" }, status: { capacity: { cpu: "4" }, allocatable: { cpu: "3" } } }).status.allocatable).toEqual({ cpu: "3" });
    const ep = run("endpoints", { metadata: { name: "e" }, subsets: [{ addresses: [{ ip: "10.0.0.1" }], ports: [{ port: 80 }] }] });
    expect(ep.subsets[0].ports[0].protocol).toBe("TCP");
    const cm = run("configmaps", { metadata: { name: "c" }, data: { a: "b" } });
    expect(cm).toEqual({ metadata: { name: "c" }, data: { a: "b" } });
  });
});

describe("robustness", () => {
  const samples = (): [string, KObject][] => [
    [
      "pods",
      {
        metadata: { name: "p" },
        spec: {
          containers: [
            { name: "c", image: "x", ports: [{ containerPort: 80 }], resources: { limits: { cpu: "1" } }, livenessProbe: { httpGet: { port: 80 } } },
          ],
          volumes: [{ name: "v" }],
        },
      },
    ],
    ["deployments", { metadata: { name: "d" }, spec: { template: template() } }],
    ["replicasets", { metadata: { name: "r" }, spec: { template: template() } }],
    ["replicationcontrollers", { metadata: { name: "rc" }, spec: { template: template() } }],
    ["services", { metadata: { name: "s" }, spec: { type: "LoadBalancer", sessionAffinity: "ClientIP", ports: [{ port: 80 }] } }],
    ["secrets", { metadata: { name: "s" } }],
    ["namespaces", { metadata: { name: "n" } }],
    ["nodes", { metadata: { name: "n" }, status: { capacity: { cpu: "1" } } }],
    ["endpoints", { metadata: { name: "e" }, subsets: [{ ports: [{ port: 1 }] }] }],
  ];

  it("is idempotent", () => {
    for (const [resource, obj] of samples()) {
      const once = run(resource, obj);
      const twice = run(resource, structuredClone(once));
      expect(twice, resource).toEqual(once);
    }
  });

  it("never throws on malformed input", () => {
    const garbage: unknown[] = [
      undefined,
      null,
      5,
      "x",
      [],
      [1, null, "a"],
      { containers: "nope" },
      { containers: [null, 3, { ports: "x", env: 7, resources: 4, livenessProbe: [] }] },
    ];
    for (const info of RESOURCES) {
      for (const g of garbage) {
        for (const obj of [
          { metadata: {}, spec: g },
          { metadata: {}, spec: { template: g, strategy: g, ports: g, selector: g } },
          { metadata: {}, status: g, subsets: g, ports: g },
        ]) {
          expect(() => applyDefaults(info, structuredClone(obj) as KObject), `${info.kind} ${JSON.stringify(obj)}`).not.toThrow();
        }
      }
      expect(() => applyDefaults(info, { metadata: null } as unknown as KObject)).not.toThrow();
    }
  });
});
