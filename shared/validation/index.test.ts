import { describe, expect, it } from "vitest";
import { applyDefaults } from "../defaults";
import { resourceByName } from "../resources";
import type { KObject } from "../types";
import { openApiSchemas, unknownFields, validateObject } from "./index";

const check = (resource: string, obj: KObject) => {
  const info = resourceByName(resource);
  const o = structuredClone(obj);
  applyDefaults(info, o);
  return validateObject(info, o);
};
const fields = (resource: string, obj: KObject) => check(resource, obj).map((c) => `${c.field} ${c.reason}`);

const pod = (spec: Record<string, unknown> = {}, meta: Record<string, unknown> = { name: "web" }): KObject => ({
  metadata: meta,
  spec: { containers: [{ name: "c", image: "nginx:1.27" }], ...spec },
});

const deployment = (over: Record<string, unknown> = {}): KObject => ({
  metadata: { name: "d" },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "d" } },
    template: { metadata: { labels: { app: "d" } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
    ...over,
  },
});

describe("validation", () => {
  it("accepts valid objects of every kind", () => {
    expect(check("pods", pod({ volumes: [{ name: "v", emptyDir: {} }], containers: [{ name: "c", image: "i", ports: [{ containerPort: 80, name: "http" }], resources: { limits: { memory: "128Mi", cpu: "500m" } }, volumeMounts: [{ name: "v", mountPath: "/data" }] }] }))).toEqual([]);
    expect(check("deployments", deployment())).toEqual([]);
    expect(check("replicationcontrollers", { metadata: { name: "rc" }, spec: { replicas: 3, template: { metadata: { labels: { app: "kubia" } }, spec: { containers: [{ name: "kubia", image: "luksa/kubia" }] } } } })).toEqual([]);
    expect(check("services", { metadata: { name: "svc" }, spec: { selector: { app: "x" }, ports: [{ port: 80, targetPort: "http" }] } })).toEqual([]);
    expect(check("secrets", { metadata: { name: "s" }, data: { a: "aGk=" } })).toEqual([]);
    expect(check("nodes", { metadata: { name: "n1" }, status: { capacity: { cpu: "4", memory: "8Gi", pods: "110" } } })).toEqual([]);
    expect(check("leases", { metadata: { name: "n1" }, spec: { holderIdentity: "n1", leaseDurationSeconds: 40, renewTime: "2026-01-01T00:00:00.000000Z" } })).toEqual([]);
  });

  it("names each bad field with Kubernetes' reasons", () => {
    expect(fields("pods", pod({}, { name: "Bad_Name" }))).toEqual(["metadata.name FieldValueInvalid"]);
    expect(fields("pods", pod({}, {}))).toEqual(["metadata.name FieldValueRequired"]);
    expect(fields("pods", pod({ containers: [{ name: "c" }] }))).toEqual(["spec.containers[0].image FieldValueRequired"]);
    expect(fields("pods", pod({ containers: "nope" }))).toEqual(["spec.containers FieldValueTypeInvalid"]);
    expect(fields("pods", pod({ containers: [{ name: "c", image: "i", ports: [{ containerPort: 70000 }] }] }))).toEqual(["spec.containers[0].ports[0].containerPort FieldValueInvalid"]);
    expect(fields("pods", pod({ containers: [{ name: "c", image: "i", resources: { limits: { memory: "lots" } } }] }))).toEqual([
      "spec.containers[0].resources.limits.memory FieldValueInvalid",
      // requests default to limits, so the bad value shows up there too
      "spec.containers[0].resources.requests.memory FieldValueInvalid",
    ]);
    expect(fields("pods", pod({ containers: [{ name: "c", image: "i" }, { name: "c", image: "j" }] }))).toEqual(["spec.containers[1].name FieldValueDuplicate"]);
    expect(fields("pods", pod({ restartPolicy: "Sometimes" }))).toEqual(["spec.restartPolicy FieldValueNotSupported"]);
    expect(fields("pods", pod({ containers: [{ name: "c", image: "i", volumeMounts: [{ name: "missing", mountPath: "/x" }] }] }))).toEqual(["spec.containers[0].volumeMounts[0].name FieldValueNotSupported"]);
    expect(fields("pods", pod({ tolerations: [{ key: "k", operator: "Maybe" }] }))).toEqual(["spec.tolerations[0].operator FieldValueNotSupported"]);
    expect(fields("pods", pod({}, { name: "p", labels: { "bad key!": "v" } }))).toEqual(["metadata.labels FieldValueInvalid"]);
    expect(fields("pods", pod({ containers: [{ name: "c", image: "i", resources: { limits: { cpu: "1" }, requests: { cpu: "2" } } }] }))).toEqual(["spec.containers[0].resources.requests FieldValueInvalid"]);
  });

  it("checks workloads: selector vs template labels, strategy, replicas", () => {
    const mismatch = check("deployments", deployment({ template: { metadata: { labels: { app: "other" } }, spec: { containers: [{ name: "c", image: "i" }] } } }));
    expect(mismatch.map((c) => c.field)).toEqual(["spec.template.metadata.labels"]);
    expect(mismatch[0].message).toContain("`selector` does not match template `labels`");
    expect(fields("deployments", deployment({ replicas: -1 }))).toEqual(["spec.replicas FieldValueInvalid"]);
    expect(fields("deployments", deployment({ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }))).toEqual(["spec.strategy.rollingUpdate.maxUnavailable FieldValueInvalid"]);
    expect(fields("deployments", deployment({ selector: undefined }))).toEqual(["spec.selector FieldValueRequired"]);
    expect(fields("services", { metadata: { name: "s" }, spec: { ports: [{ port: 80 }, { port: 81 }] } })).toEqual(["spec.ports[0].name FieldValueRequired", "spec.ports[1].name FieldValueRequired"]);
    expect(fields("secrets", { metadata: { name: "s" }, data: { a: "not base64!" } })).toEqual(["data[a] FieldValueInvalid"]);
  });

  it("finds unknown fields with the paths kube-apiserver prints", () => {
    expect(unknownFields("Pod", { metadata: { name: "x", zz: 1 }, spec: { containers: [{ name: "c", image: "i", foo: 1 }], bogus: 1 }, extra: 2 })).toEqual([
      "metadata.zz",
      "spec.containers[0].foo",
      "spec.bogus",
      "extra",
    ]);
    expect(unknownFields("ConfigMap", { metadata: { name: "x", labels: { any: "thing" } }, data: { whatever: "x" } })).toEqual([]);
    expect(unknownFields("Scale", { spec: { replicas: 2, nope: 1 } })).toEqual(["spec.nope"]);
  });

  it("publishes OpenAPI schemas whose references all resolve", () => {
    const s = openApiSchemas();
    expect(s["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "", kind: "Pod", version: "v1" }]);
    expect(s["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", kind: "Deployment", version: "v1" }]);
    expect(s["io.k8s.api.core.v1.PodSpec"].properties.containers["x-kubernetes-patch-merge-key"]).toBe("name");
    expect(s["io.k8s.api.core.v1.Container"].properties.image.description).toBeTruthy();
    expect(s["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]).toMatchObject({ type: "string", format: "int-or-string" });
    const refs = JSON.stringify(s).match(/#\/components\/schemas\/[^"]+/g) ?? [];
    expect(refs.length).toBeGreaterThan(50);
    for (const r of refs) expect(s[r.slice("#/components/schemas/".length)]).toBeDefined();
  });
});
