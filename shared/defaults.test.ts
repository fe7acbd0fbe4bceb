import { describe, expect, it } from "vitest";
import { applyDefaults, defaultPullPolicy } from "./defaults";
import { resourceByName } from "./resources";
import type { KObject } from "./types";

const run = (resource: string, obj: KObject) => {
  applyDefaults(resourceByName(resource), obj);
  return obj;
};

describe("defaults", () => {
  it("defaults a pod like kube-apiserver", () => {
    const p = run("pods", { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "nginx:1.27", ports: [{ containerPort: 80 }], resources: { limits: { cpu: "1" } } }] } });
    expect(p.spec).toMatchObject({ restartPolicy: "Always", terminationGracePeriodSeconds: 30, dnsPolicy: "ClusterFirst", schedulerName: "default-scheduler" });
    expect(p.spec.containers[0]).toMatchObject({
      imagePullPolicy: "IfNotPresent",
      terminationMessagePath: "/dev/termination-log",
      ports: [{ containerPort: 80, protocol: "TCP" }],
      resources: { limits: { cpu: "1" }, requests: { cpu: "1" } },
    });
  });

  it("chooses the pull policy by tag", () => {
    expect(defaultPullPolicy("nginx")).toBe("Always");
    expect(defaultPullPolicy("nginx:latest")).toBe("Always");
    expect(defaultPullPolicy("localhost:5000/nginx")).toBe("Always");
    expect(defaultPullPolicy("localhost:5000/nginx:1")).toBe("IfNotPresent");
    expect(defaultPullPolicy("nginx@sha256:abc")).toBe("IfNotPresent");
  });

  it("defaults deployments, replication controllers, services, secrets and namespaces", () => {
    const d = run("deployments", { metadata: { name: "d" }, spec: { selector: {}, template: { spec: { containers: [{ name: "c", image: "x" }] } } } });
    expect(d.spec).toMatchObject({ replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } } });
    expect(d.spec.template.spec.restartPolicy).toBe("Always");
    const rc = run("replicationcontrollers", { metadata: { name: "r" }, spec: { template: { metadata: { labels: { app: "k" } }, spec: { containers: [] } } } });
    expect(rc.spec.selector).toEqual({ app: "k" });
    expect(rc.metadata.labels).toEqual({ app: "k" });
    const s = run("services", { metadata: { name: "s" }, spec: { ports: [{ port: 80 }] } });
    expect(s.spec).toMatchObject({ type: "ClusterIP", sessionAffinity: "None", ports: [{ port: 80, protocol: "TCP", targetPort: 80 }] });
    expect(run("secrets", { metadata: { name: "x" } }).type).toBe("Opaque");
  });

  it("is idempotent and tolerates garbage", () => {
    const once = run("deployments", { metadata: { name: "d" }, spec: { template: { spec: { containers: [{ name: "c", image: "x:1" }] } } } });
    const twice = run("deployments", structuredClone(once));
    expect(twice).toEqual(once);
    expect(() => run("pods", { metadata: {}, spec: { containers: "nope" } })).not.toThrow();
    expect(() => run("deployments", { metadata: {}, spec: 5 })).not.toThrow();
  });
});
