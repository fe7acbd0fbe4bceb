import { describe, expect, it } from "vitest";
import { ApiError } from "../status";
import { mergeKeyFor, strategicMergePatch } from "./strategic";

const deploy = () => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d", labels: { app: "d" }, finalizers: ["a"] },
  spec: {
    replicas: 2,
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
    template: {
      metadata: { labels: { app: "d" } },
      spec: {
        containers: [
          { name: "web", image: "nginx:1", ports: [{ containerPort: 80, protocol: "TCP" }], env: [{ name: "A", value: "1" }, { name: "B", value: "2" }] },
          { name: "side", image: "busybox", args: ["sleep", "1"] },
        ],
        tolerations: [{ key: "x", operator: "Exists" }],
      },
    },
  },
});

describe("strategic merge patch", () => {
  it("kubectl set image: changes one container by name, keeps the rest", () => {
    const out: any = strategicMergePatch(deploy(), { spec: { template: { spec: { containers: [{ name: "web", image: "nginx:2" }] } } } }, "Deployment");
    expect(out.spec.template.spec.containers.map((c: any) => [c.name, c.image])).toEqual([["web", "nginx:2"], ["side", "busybox"]]);
    expect(out.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 80, protocol: "TCP" }]);
  });

  it("kubectl apply's second run: $setElementOrder, env merged by name, $patch: delete", () => {
    const patch = {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "side" }, { name: "web" }],
            containers: [{ "$setElementOrder/env": [{ name: "A" }, { name: "C" }], env: [{ name: "C", value: "3" }, { $patch: "delete", name: "B" }], image: "nginx:1.27", name: "web" }],
          },
        },
      },
    };
    const out: any = strategicMergePatch(deploy(), patch, "Deployment");
    expect(out.spec.template.spec.containers.map((c: any) => c.name)).toEqual(["side", "web"]);
    expect(out.spec.template.spec.containers[1].env).toEqual([{ name: "A", value: "1" }, { name: "C", value: "3" }]);
    expect(out.spec.template.spec.containers[1].image).toBe("nginx:1.27");
  });

  it("ports merge by containerPort; lists without a merge key are replaced", () => {
    const out: any = strategicMergePatch(
      deploy(),
      { spec: { template: { spec: { containers: [{ name: "web", ports: [{ containerPort: 443 }] }, { name: "side", args: ["sleep", "2"] }], tolerations: [{ key: "y", operator: "Exists" }] } } } },
      "Deployment",
    );
    expect(out.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 80, protocol: "TCP" }, { containerPort: 443 }]);
    expect(out.spec.template.spec.containers[1].args).toEqual(["sleep", "2"]);
    expect(out.spec.template.spec.tolerations).toEqual([{ key: "y", operator: "Exists" }]);
  });

  it("deletes a container with $patch: delete and a map key with null", () => {
    const out: any = strategicMergePatch(deploy(), { metadata: { labels: { app: null } }, spec: { template: { spec: { containers: [{ name: "side", $patch: "delete" }] } } } }, "Deployment");
    expect(out.spec.template.spec.containers.map((c: any) => c.name)).toEqual(["web"]);
    expect(out.metadata.labels).toEqual({});
  });

  it("finalizers merge as a set; $deleteFromPrimitiveList removes", () => {
    const a: any = strategicMergePatch(deploy(), { metadata: { finalizers: ["a", "b"] } }, "Deployment");
    expect(a.metadata.finalizers).toEqual(["a", "b"]);
    const b: any = strategicMergePatch(a, { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } }, "Deployment");
    expect(b.metadata.finalizers).toEqual(["b"]);
  });

  it("$retainKeys drops what the patch does not keep (strategy type change)", () => {
    const out: any = strategicMergePatch(deploy(), { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } }, "Deployment");
    expect(out.spec.strategy).toEqual({ type: "Recreate" });
  });

  it("$patch: replace replaces a map; unknown directives are 400", () => {
    const out: any = strategicMergePatch(deploy(), { spec: { strategy: { $patch: "replace", type: "Recreate" } } }, "Deployment");
    expect(out.spec.strategy).toEqual({ type: "Recreate" });
    expect(() => strategicMergePatch(deploy(), { spec: { $patch: "explode" } }, "Deployment")).toThrow(ApiError);
  });

  it("merges Service ports by port and conditions by type; leaves inputs alone", () => {
    const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    const out: any = strategicMergePatch(svc, { spec: { ports: [{ port: 80, name: "http" }] } }, "Service");
    expect(out.spec.ports).toEqual([{ port: 80, targetPort: 8080, name: "http" }, { port: 443 }]);
    expect(svc.spec.ports[0]).toEqual({ port: 80, targetPort: 8080 });
    const pod = { status: { conditions: [{ type: "Ready", status: "False" }, { type: "PodScheduled", status: "True" }] } };
    const p: any = strategicMergePatch(pod, { status: { conditions: [{ type: "Ready", status: "True" }] } }, "Pod");
    expect(p.status.conditions).toEqual([{ type: "Ready", status: "True" }, { type: "PodScheduled", status: "True" }]);
  });

  it("knows the merge keys", () => {
    expect(mergeKeyFor("Pod", "spec.containers")).toBe("name");
    expect(mergeKeyFor("Deployment", "spec.template.spec.containers.env")).toBe("name");
    expect(mergeKeyFor("Pod", "spec.containers.volumeMounts")).toBe("mountPath");
    expect(mergeKeyFor("Pod", "spec.tolerations")).toBeUndefined();
  });
});
