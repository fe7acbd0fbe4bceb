import { describe, expect, it } from "vitest";
import { object, opt, reachable, req, string } from "./dsl";
import { KINDS } from "./kinds";
import { openApiComponents, REF_PREFIX } from "./openapi";

const schemas = openApiComponents(Object.values(KINDS));

/** Every property schema of every component, with where it is. */
const properties = () =>
  Object.entries(schemas).flatMap(([name, s]) => Object.entries((s.properties ?? {}) as Record<string, any>).map(([prop, p]) => ({ name, prop, p })));

const refsIn = (v: unknown): string[] => (JSON.stringify(v).match(/"\$ref":"[^"]+"/g) ?? []).map((m) => m.slice(8, -1));

describe("OpenAPI components", () => {
  it("has a component per served kind with its group-version-kind", () => {
    const want: [string, string, string, string][] = [
      ["io.k8s.api.core.v1.Pod", "", "v1", "Pod"],
      ["io.k8s.api.core.v1.Namespace", "", "v1", "Namespace"],
      ["io.k8s.api.core.v1.Node", "", "v1", "Node"],
      ["io.k8s.api.core.v1.Service", "", "v1", "Service"],
      ["io.k8s.api.core.v1.Endpoints", "", "v1", "Endpoints"],
      ["io.k8s.api.core.v1.Event", "", "v1", "Event"],
      ["io.k8s.api.core.v1.ConfigMap", "", "v1", "ConfigMap"],
      ["io.k8s.api.core.v1.Secret", "", "v1", "Secret"],
      ["io.k8s.api.core.v1.ReplicationController", "", "v1", "ReplicationController"],
      ["io.k8s.api.core.v1.ServiceAccount", "", "v1", "ServiceAccount"],
      ["io.k8s.api.batch.v1.Job", "batch", "v1", "Job"],
      ["io.k8s.api.policy.v1.PodDisruptionBudget", "policy", "v1", "PodDisruptionBudget"],
      ["io.k8s.api.batch.v1.CronJob", "batch", "v1", "CronJob"],
      ["io.k8s.api.apps.v1.Deployment", "apps", "v1", "Deployment"],
      ["io.k8s.api.apps.v1.ReplicaSet", "apps", "v1", "ReplicaSet"],
      ["io.k8s.api.apps.v1.DaemonSet", "apps", "v1", "DaemonSet"],
      ["io.k8s.api.coordination.v1.Lease", "coordination.k8s.io", "v1", "Lease"],
      ["io.k8s.api.autoscaling.v1.Scale", "autoscaling", "v1", "Scale"],
      ["io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler", "autoscaling", "v2", "HorizontalPodAutoscaler"],
      ["io.k8s.api.discovery.v1.EndpointSlice", "discovery.k8s.io", "v1", "EndpointSlice"],
      ["io.k8s.api.apps.v1.ControllerRevision", "apps", "v1", "ControllerRevision"],
      ["io.k8s.api.apps.v1.StatefulSet", "apps", "v1", "StatefulSet"],
      ["io.k8s.api.core.v1.PersistentVolume", "", "v1", "PersistentVolume"],
      ["io.k8s.api.core.v1.PersistentVolumeClaim", "", "v1", "PersistentVolumeClaim"],
      ["io.k8s.api.storage.v1.StorageClass", "storage.k8s.io", "v1", "StorageClass"],
      ["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition", "apiextensions.k8s.io", "v1", "CustomResourceDefinition"],
      ["io.k8s.api.networking.v1.Ingress", "networking.k8s.io", "v1", "Ingress"],
      ["io.k8s.api.networking.v1.IngressClass", "networking.k8s.io", "v1", "IngressClass"],
      ["io.k8s.api.networking.v1.NetworkPolicy", "networking.k8s.io", "v1", "NetworkPolicy"],
      ["io.k8s.api.rbac.v1.Role", "rbac.authorization.k8s.io", "v1", "Role"],
      ["io.k8s.api.rbac.v1.ClusterRole", "rbac.authorization.k8s.io", "v1", "ClusterRole"],
      ["io.k8s.api.rbac.v1.RoleBinding", "rbac.authorization.k8s.io", "v1", "RoleBinding"],
      ["io.k8s.api.rbac.v1.ClusterRoleBinding", "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"],
      ["io.k8s.api.authorization.v1.SelfSubjectAccessReview", "authorization.k8s.io", "v1", "SelfSubjectAccessReview"],
      ["io.k8s.api.authorization.v1.SelfSubjectRulesReview", "authorization.k8s.io", "v1", "SelfSubjectRulesReview"],
      ["io.k8s.api.authorization.v1.SubjectAccessReview", "authorization.k8s.io", "v1", "SubjectAccessReview"],
      ["io.k8s.api.authorization.v1.LocalSubjectAccessReview", "authorization.k8s.io", "v1", "LocalSubjectAccessReview"],
      ["io.k8s.api.authentication.v1.SelfSubjectReview", "authentication.k8s.io", "v1", "SelfSubjectReview"],
      ["io.k8s.api.authentication.v1.TokenReview", "authentication.k8s.io", "v1", "TokenReview"],
      ["io.k8s.api.authentication.v1.TokenRequest", "authentication.k8s.io", "v1", "TokenRequest"],
      ["io.k8s.api.core.v1.LimitRange", "", "v1", "LimitRange"],
      ["io.k8s.api.core.v1.ResourceQuota", "", "v1", "ResourceQuota"],
    ];
    for (const [name, group, version, kind] of want) {
      expect(schemas[name]?.["x-kubernetes-group-version-kind"], name).toEqual([{ group, kind, version }]);
      expect(schemas[name].properties.metadata.allOf, name).toEqual([{ $ref: `${REF_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` }]);
    }
    const withGvk = Object.keys(schemas).filter((n) => schemas[n]["x-kubernetes-group-version-kind"]);
    expect(withGvk.sort()).toEqual(want.map((w) => w[0]).sort());
  });

  it("resolves every $ref to a component", () => {
    const refs = refsIn(schemas);
    expect(refs.length).toBeGreaterThan(100);
    for (const r of refs) {
      expect(r.startsWith(REF_PREFIX), r).toBe(true);
      expect(schemas[r.slice(REF_PREFIX.length)], r).toBeDefined();
    }
  });

  it("describes every component and every property", () => {
    for (const [name, s] of Object.entries(schemas)) {
      expect(typeof s.description, name).toBe("string");
      expect(s.description.length, name).toBeGreaterThan(10);
      expect(s.type, name).toMatch(/^(object|string)$/);
    }
    for (const { name, prop, p } of properties()) {
      expect(typeof p.description, `${name}.${prop}`).toBe("string");
      expect(p.description.length, `${name}.${prop}`).toBeGreaterThan(3);
    }
  });

  it("wraps described references in allOf, as Kubernetes does", () => {
    for (const { name, prop, p } of properties()) {
      expect(p.$ref, `${name}.${prop} has a bare $ref beside other keys`).toBeUndefined();
      if (p.allOf) {
        expect(p.allOf, `${name}.${prop}`).toHaveLength(1);
        expect(Object.keys(p.allOf[0]), `${name}.${prop}`).toEqual(["$ref"]);
        expect(p.type, `${name}.${prop}`).toBeUndefined();
      }
      // group-version-kinds belong to top-level definitions only
      expect(p["x-kubernetes-group-version-kind"], `${name}.${prop}`).toBeUndefined();
    }
  });

  it("keeps merge keys and list semantics", () => {
    const podSpec = schemas["io.k8s.api.core.v1.PodSpec"];
    expect(podSpec.required).toEqual(["containers"]);
    expect(podSpec.properties.containers).toMatchObject({
      type: "array",
      items: { $ref: `${REF_PREFIX}io.k8s.api.core.v1.Container` },
      "x-kubernetes-patch-merge-key": "name",
      "x-kubernetes-patch-strategy": "merge",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
    });
    expect(podSpec.properties.volumes).toMatchObject({
      "x-kubernetes-patch-merge-key": "name",
      "x-kubernetes-patch-strategy": "merge,retainKeys",
      "x-kubernetes-list-map-keys": ["name"],
    });
    expect(podSpec.properties.tolerations["x-kubernetes-list-type"]).toBe("atomic");
    const container = schemas["io.k8s.api.core.v1.Container"];
    expect(container.required).toEqual(["name"]);
    expect(container.properties.ports).toMatchObject({
      "x-kubernetes-patch-merge-key": "containerPort",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
    });
    expect(container.properties.env).toMatchObject({ "x-kubernetes-patch-merge-key": "name", "x-kubernetes-list-map-keys": ["name"] });
    expect(container.properties.volumeMounts).toMatchObject({ "x-kubernetes-patch-merge-key": "mountPath", "x-kubernetes-list-map-keys": ["mountPath"] });
    expect(schemas["io.k8s.api.core.v1.ServiceSpec"].properties.ports).toMatchObject({
      "x-kubernetes-patch-merge-key": "port",
      "x-kubernetes-list-map-keys": ["port", "protocol"],
    });
    for (const status of ["PodStatus", "NodeStatus", "NamespaceStatus", "ReplicationControllerStatus", "ServiceStatus"]) {
      expect(schemas[`io.k8s.api.core.v1.${status}`].properties.conditions, status).toMatchObject({
        "x-kubernetes-patch-merge-key": "type",
        "x-kubernetes-list-map-keys": ["type"],
      });
    }
    expect(schemas["io.k8s.api.apps.v1.DeploymentStatus"].properties.conditions["x-kubernetes-patch-merge-key"]).toBe("type");
    expect(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].properties.ownerReferences["x-kubernetes-patch-merge-key"]).toBe("uid");
    expect(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].properties.finalizers["x-kubernetes-list-type"]).toBe("set");
    expect(schemas["io.k8s.api.apps.v1.DeploymentSpec"].properties.strategy["x-kubernetes-patch-strategy"]).toBe("retainKeys");
    // every list-map key is a field of the item type
    for (const { name, prop, p } of properties()) {
      if (!p["x-kubernetes-list-map-keys"]) continue;
      const item = schemas[p.items.$ref.slice(REF_PREFIX.length)];
      for (const k of p["x-kubernetes-list-map-keys"]) expect(item.properties[k], `${name}.${prop} key ${k}`).toBeDefined();
      expect(item.properties[p["x-kubernetes-patch-merge-key"] ?? p["x-kubernetes-list-map-keys"][0]]).toBeDefined();
    }
  });

  it("writes Kubernetes' named scalars and formats", () => {
    expect(schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]).toMatchObject({ type: "string" });
    expect(schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]).toMatchObject({
      type: "string",
      format: "int-or-string",
      "x-kubernetes-int-or-string": true,
    });
    expect(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]).toMatchObject({ type: "string", format: "date-time" });
    expect(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"]).toMatchObject({ type: "string", format: "date-time" });
    const limits = schemas["io.k8s.api.core.v1.ResourceRequirements"].properties.limits;
    expect(limits).toMatchObject({ type: "object", additionalProperties: { $ref: `${REF_PREFIX}io.k8s.apimachinery.pkg.api.resource.Quantity` } });
    const targetPort = schemas["io.k8s.api.core.v1.ServicePort"].properties.targetPort;
    expect(targetPort).toMatchObject({ allOf: [{ $ref: `${REF_PREFIX}io.k8s.apimachinery.pkg.util.intstr.IntOrString` }], "x-kubernetes-int-or-string": true });
    const spec = schemas["io.k8s.api.apps.v1.DeploymentSpec"];
    expect(spec.properties.replicas).toMatchObject({ type: "integer", format: "int32" });
    expect(spec.required).toEqual(["selector", "template"]);
    expect(schemas["io.k8s.api.core.v1.PodSpec"].properties.terminationGracePeriodSeconds).toMatchObject({ type: "integer", format: "int64" });
    expect(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].properties.labels).toMatchObject({
      type: "object",
      additionalProperties: { type: "string" },
    });
    expect(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].properties.creationTimestamp.allOf).toEqual([
      { $ref: `${REF_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.Time` },
    ]);
  });

  it("lists enum values sorted", () => {
    expect(schemas["io.k8s.api.core.v1.PodSpec"].properties.restartPolicy).toMatchObject({ type: "string", enum: ["Always", "Never", "OnFailure"] });
    expect(schemas["io.k8s.api.core.v1.ServiceSpec"].properties.type.enum).toEqual(["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]);
    expect(schemas["io.k8s.api.core.v1.HostPathVolumeSource"].properties.type.enum).not.toContain("");
    for (const { name, prop, p } of properties()) if (p.enum) expect([...p.enum].sort(), `${name}.${prop}`).toEqual(p.enum);
  });

  it("collects reachable types once and refuses two types with one name", () => {
    const A = object("x.A", "An A type.", { s: opt(string, "A string.") });
    const B = object("x.B", "A B type.", { a: req(A, "An A."), a2: opt(A, "Another A.") });
    expect(reachable([B, A]).map((t) => t.name)).toEqual(["x.B", "x.A"]);
    const A2 = object("x.A", "Another A type.", {});
    const C = object("x.C", "A C type.", { a: opt(A2, "An A.") });
    expect(() => reachable([B, C])).toThrow(/two different types are named x.A/);
  });
});
