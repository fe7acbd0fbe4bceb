import { describe, expect, it } from "vitest";
import { apiError } from "../../test/api-error";
import { isMergedList, mergeKeyFor, PATCH_META, patchMetaFor, strategicMergePatch } from "./strategic";

const deploy = () => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d", labels: { app: "d" }, finalizers: ["a"] },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "d" } },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
    template: {
      metadata: { labels: { app: "d" } },
      spec: {
        containers: [
          {
            name: "web",
            image: "nginx:1",
            ports: [{ containerPort: 80, protocol: "TCP" }],
            env: [
              { name: "A", value: "1" },
              { name: "B", value: "2" },
            ],
            envFrom: [{ configMapRef: { name: "cm1" } }],
            volumeMounts: [{ name: "data", mountPath: "/data" }],
          },
          { name: "side", image: "busybox", args: ["sleep", "1"] },
        ],
        volumes: [{ name: "data", emptyDir: {} }],
        tolerations: [{ key: "x", operator: "Exists" }],
      },
    },
  },
});

const patchDeploy = (patch: object, d: object = deploy()) => strategicMergePatch(d, patch, "Deployment") as any;
const podSpec = (spec: object) => ({ spec: { template: { spec } } });
const names = (list: { name: string }[]) => list.map((c) => c.name);

describe("strategic merge patch: maps", () => {
  it("merges maps key by key and deletes with null", () => {
    const out = patchDeploy({ metadata: { labels: { app: null, tier: "fe" }, annotations: { note: "x" } }, spec: { replicas: 3 } });
    expect(out.metadata.labels).toEqual({ tier: "fe" });
    expect(out.metadata.annotations).toEqual({ note: "x" });
    expect(out.spec.replicas).toBe(3);
    expect(out.spec.selector).toEqual({ matchLabels: { app: "d" } });
  });

  it("a null for an absent key is a no-op and does not leak", () => {
    const out = patchDeploy({ metadata: { annotations: null }, spec: { paused: null } });
    expect("annotations" in out.metadata).toBe(false);
    expect("paused" in out.spec).toBe(false);
  });

  it("values set where there was nothing are patches of nothing (no nulls or directives leak)", () => {
    const out = patchDeploy({ spec: { template: { spec: { securityContext: { runAsUser: 1, fsGroup: null, seLinuxOptions: { $patch: "delete" } } } } } });
    expect(out.spec.template.spec.securityContext).toEqual({ runAsUser: 1, seLinuxOptions: {} });
  });

  it("$patch: replace replaces a map", () => {
    const out = patchDeploy({ spec: { strategy: { $patch: "replace", type: "Recreate" } } });
    expect(out.spec.strategy).toEqual({ type: "Recreate" });
    const labels = patchDeploy({ metadata: { labels: { $patch: "replace", only: "me" } } });
    expect(labels.metadata.labels).toEqual({ only: "me" });
  });

  it("$patch: delete empties a map, as apimachinery does", () => {
    const out = patchDeploy({ metadata: { labels: { $patch: "delete" } }, spec: { strategy: { $patch: "delete" } } });
    expect(out.metadata.labels).toEqual({});
    expect(out.spec.strategy).toEqual({});
  });

  it("$patch: merge is the default", () => {
    const out = patchDeploy({ metadata: { labels: { $patch: "merge", tier: "fe" } } });
    expect(out.metadata.labels).toEqual({ app: "d", tier: "fe" });
  });

  it("replaces values of a different type", () => {
    const out = strategicMergePatch({ a: "x", b: { c: 1 }, l: [1] }, { a: { y: 1, z: null }, b: "s", l: { k: 1 } }, "ConfigMap");
    expect(out).toEqual({ a: { y: 1 }, b: "s", l: { k: 1 } });
  });

  it("$retainKeys clears unlisted keys (rolling update → Recreate)", () => {
    const out = patchDeploy({ spec: { strategy: { $retainKeys: ["type"], type: "Recreate", rollingUpdate: null } } });
    expect(out.spec.strategy).toEqual({ type: "Recreate" });
    const back = patchDeploy({ spec: { strategy: { $retainKeys: ["rollingUpdate", "type"], type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } } }, out);
    expect(back.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } });
  });

  it("$retainKeys keeps listed live keys the patch does not mention", () => {
    const out = patchDeploy({ spec: { strategy: { $retainKeys: ["type", "rollingUpdate"], type: "RollingUpdate" } } });
    expect(out.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } });
  });

  it("$retainKeys must list every key the patch sets", () => {
    const e = apiError(() => patchDeploy({ spec: { strategy: { $retainKeys: ["type"], type: "Recreate", rollingUpdate: { maxSurge: 1 } } } }));
    expect([e.code, e.message]).toEqual([400, expect.stringContaining("invalid patch format of retainKeys")]);
    expect(apiError(() => patchDeploy({ spec: { strategy: { $retainKeys: "type" } } })).code).toBe(400);
  });
});

describe("strategic merge patch: lists merged by key", () => {
  it("kubectl set image: changes only that container's image", () => {
    const out = patchDeploy({ spec: { template: { spec: { containers: [{ name: "web", image: "nginx:2" }] } } } });
    const [web, side] = out.spec.template.spec.containers;
    expect(names(out.spec.template.spec.containers)).toEqual(["web", "side"]);
    expect(web).toEqual({ ...deploy().spec.template.spec.containers[0], image: "nginx:2" });
    expect(side).toEqual(deploy().spec.template.spec.containers[1]);
  });

  it("kubectl set image on the second container keeps the order", () => {
    const out = patchDeploy(podSpec({ containers: [{ name: "side", image: "busybox:2" }] }));
    expect(out.spec.template.spec.containers.map((c: any) => [c.name, c.image])).toEqual([
      ["web", "nginx:1"],
      ["side", "busybox:2"],
    ]);
  });

  it("adds a container; like apimachinery, new elements come before the live ones the patch does not name", () => {
    const out = patchDeploy(podSpec({ containers: [{ name: "log", image: "fluentd" }] }));
    expect(names(out.spec.template.spec.containers)).toEqual(["log", "web", "side"]);
    expect(out.spec.template.spec.containers[0]).toEqual({ name: "log", image: "fluentd" });
    const after = patchDeploy(podSpec({ containers: [{ name: "web" }, { name: "side" }, { name: "log", image: "fluentd" }] }));
    expect(names(after.spec.template.spec.containers)).toEqual(["web", "side", "log"]);
  });

  it("deletes a container with $patch: delete", () => {
    const out = patchDeploy(podSpec({ containers: [{ name: "side", $patch: "delete" }] }));
    expect(names(out.spec.template.spec.containers)).toEqual(["web"]);
    const none = patchDeploy(podSpec({ containers: [{ name: "nope", $patch: "delete" }] }));
    expect(names(none.spec.template.spec.containers)).toEqual(["web", "side"]);
  });

  it("$patch: delete needs the merge key", () => {
    const e = apiError(() => patchDeploy(podSpec({ containers: [{ image: "x", $patch: "delete" }] })));
    expect(e.code).toBe(400);
    expect(e.message).toContain("does not contain declared merge key: name");
  });

  it("every element of a merged list needs the merge key", () => {
    expect(apiError(() => patchDeploy(podSpec({ containers: [{ image: "x" }] }))).message).toContain("does not contain declared merge key: name");
  });

  it("$patch: replace as a list element replaces the list", () => {
    const out = patchDeploy(podSpec({ containers: [{ name: "only", image: "x", env: [{ name: "Z", value: null }] }, { $patch: "replace" }] }));
    expect(out.spec.template.spec.containers).toEqual([{ name: "only", image: "x", env: [{ name: "Z" }] }]);
  });

  it("an unknown $patch in a list element is 400", () => {
    expect(apiError(() => patchDeploy(podSpec({ containers: [{ name: "web", $patch: "explode" }] }))).code).toBe(400);
  });

  it("an empty patch list leaves a merged list alone", () => {
    expect(names(patchDeploy(podSpec({ containers: [] })).spec.template.spec.containers)).toEqual(["web", "side"]);
    expect(patchDeploy({ metadata: { finalizers: [] } }).metadata.finalizers).toEqual(["a"]);
  });

  it("null deletes a merged list", () => {
    expect("volumes" in patchDeploy(podSpec({ volumes: null })).spec.template.spec).toBe(false);
  });

  it("adding an env var keeps the others; changing one keeps its siblings", () => {
    const out = patchDeploy(podSpec({ containers: [{ name: "web", env: [{ name: "C", value: "3" }] }] }));
    expect(out.spec.template.spec.containers[0].env).toEqual([
      { name: "C", value: "3" },
      { name: "A", value: "1" },
      { name: "B", value: "2" },
    ]);
    const changed = patchDeploy(podSpec({ containers: [{ name: "web", env: [{ name: "B", value: "two" }] }] }));
    expect(changed.spec.template.spec.containers[0].env).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "two" },
    ]);
  });

  it("env var value → valueFrom: null removes the old value field", () => {
    const out = patchDeploy(
      podSpec({ containers: [{ name: "web", env: [{ name: "A", value: null, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] }] }),
    );
    expect(out.spec.template.spec.containers[0].env[0]).toEqual({ name: "A", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } });
  });

  it("ports merge by containerPort", () => {
    const out = patchDeploy(
      podSpec({
        containers: [
          {
            name: "web",
            ports: [
              { containerPort: 443, name: "https" },
              { containerPort: 80, name: "http" },
            ],
          },
        ],
      }),
    );
    expect(out.spec.template.spec.containers[0].ports).toEqual([
      { containerPort: 443, name: "https" },
      { containerPort: 80, protocol: "TCP", name: "http" },
    ]);
  });

  it('merge keys compare by type and value (80 is not "80")', () => {
    const out = patchDeploy(podSpec({ containers: [{ name: "web", ports: [{ containerPort: "80" }] }] }));
    expect(out.spec.template.spec.containers[0].ports).toHaveLength(2);
  });

  it("volumeMounts merge by mountPath and volumes by name", () => {
    const out = patchDeploy(
      podSpec({
        containers: [
          {
            name: "web",
            volumeMounts: [
              { name: "cfg", mountPath: "/etc/cfg" },
              { mountPath: "/data", readOnly: true },
            ],
          },
        ],
        volumes: [{ name: "cfg", configMap: { name: "cm" } }],
      }),
    );
    expect(out.spec.template.spec.containers[0].volumeMounts).toEqual([
      { name: "cfg", mountPath: "/etc/cfg" },
      { name: "data", mountPath: "/data", readOnly: true },
    ]);
    expect(out.spec.template.spec.volumes).toEqual([
      { name: "cfg", configMap: { name: "cm" } },
      { name: "data", emptyDir: {} },
    ]);
  });

  it("a volume's source changes with $retainKeys (kubectl apply emptyDir → configMap)", () => {
    const out = patchDeploy(podSpec({ volumes: [{ name: "data", $retainKeys: ["configMap", "name"], configMap: { name: "cm" } }] }));
    expect(out.spec.template.spec.volumes).toEqual([{ name: "data", configMap: { name: "cm" } }]);
  });

  it("lists without patch metadata are replaced: tolerations, envFrom, args", () => {
    const out = patchDeploy(
      podSpec({
        tolerations: [{ key: "y", operator: "Exists" }],
        containers: [
          { name: "web", envFrom: [{ secretRef: { name: "s" } }] },
          { name: "side", args: ["sleep", "2"] },
        ],
      }),
    );
    expect(out.spec.template.spec.tolerations).toEqual([{ key: "y", operator: "Exists" }]);
    expect(out.spec.template.spec.containers[0].envFrom).toEqual([{ secretRef: { name: "s" } }]);
    expect(out.spec.template.spec.containers[1].args).toEqual(["sleep", "2"]);
  });

  it("reorders by the patch: named elements in patch order, the others keep their live place", () => {
    const pod = { spec: { containers: [{ name: "a" }, { name: "b" }, { name: "c" }] } };
    const p = (containers: object[]) => names((strategicMergePatch(pod, { spec: { containers } }, "Pod") as any).spec.containers);
    expect(p([{ name: "c" }, { name: "a" }])).toEqual(["b", "c", "a"]);
    expect(p([{ name: "a", image: "x" }])).toEqual(["a", "b", "c"]);
    expect(p([{ name: "c", image: "x" }])).toEqual(["a", "b", "c"]);
    expect(p([{ name: "d" }, { name: "b" }])).toEqual(["d", "a", "b", "c"]);
    expect(p([{ name: "b" }, { name: "d" }])).toEqual(["a", "b", "d", "c"]);
  });

  it("ownerReferences merge by uid in every kind", () => {
    const cm = { metadata: { name: "c", ownerReferences: [{ uid: "1", name: "a", kind: "X" }] }, data: { k: "v" } };
    const out = strategicMergePatch(
      cm,
      {
        metadata: {
          ownerReferences: [
            { uid: "2", name: "b", kind: "Y" },
            { uid: "1", controller: true },
          ],
        },
      },
      "ConfigMap",
    ) as any;
    expect(out.metadata.ownerReferences).toEqual([
      { uid: "2", name: "b", kind: "Y" },
      { uid: "1", name: "a", kind: "X", controller: true },
    ]);
    const custom = strategicMergePatch(cm, { metadata: { ownerReferences: [{ uid: "1", $patch: "delete" }] } }, "SomethingElse") as any;
    expect(custom.metadata.ownerReferences).toEqual([]);
  });
});

describe("strategic merge patch: primitive sets and directives on lists", () => {
  it("finalizers merge as a set", () => {
    expect(patchDeploy({ metadata: { finalizers: ["a", "b"] } }).metadata.finalizers).toEqual(["a", "b"]);
    expect(patchDeploy({ metadata: { finalizers: ["b"] } }).metadata.finalizers).toEqual(["b", "a"]);
    expect(patchDeploy({ metadata: { finalizers: ["a"] } }).metadata.finalizers).toEqual(["a"]);
    expect(patchDeploy({ metadata: { finalizers: ["b", "a"] } }).metadata.finalizers).toEqual(["b", "a"]);
    expect(strategicMergePatch({ metadata: {} }, { metadata: { finalizers: ["x", "x"] } }, "Pod")).toEqual({ metadata: { finalizers: ["x"] } });
  });

  it("$deleteFromPrimitiveList/finalizers removes values", () => {
    const two = patchDeploy({ metadata: { finalizers: ["b", "c"] } });
    expect(two.metadata.finalizers).toEqual(["b", "c", "a"]);
    const out = patchDeploy({ metadata: { "$deleteFromPrimitiveList/finalizers": ["a", "c", "zzz"] } }, two);
    expect(out.metadata.finalizers).toEqual(["b"]);
    const empty = patchDeploy({ metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } });
    expect("finalizers" in empty.metadata).toBe(false);
    const absent = strategicMergePatch({ metadata: {} }, { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } }, "Pod") as any;
    expect(absent.metadata).toEqual({});
  });

  it("$deleteFromPrimitiveList needs a list and a field name", () => {
    expect(apiError(() => patchDeploy({ metadata: { "$deleteFromPrimitiveList/finalizers": "a" } })).message).toBe("invalid patch format of primitive list");
    expect(apiError(() => patchDeploy({ metadata: { $deleteFromPrimitiveList: ["a"] } })).message).toBe("invalid patch format of primitive list");
  });

  it("node spec.podCIDRs merge as a set", () => {
    const node = { spec: { podCIDRs: ["10.0.0.0/24"] } };
    expect((strategicMergePatch(node, { spec: { podCIDRs: ["fd00::/64"] } }, "Node") as any).spec.podCIDRs).toEqual(["fd00::/64", "10.0.0.0/24"]);
  });

  it("$setElementOrder/containers orders the result (kubectl apply)", () => {
    const out = patchDeploy(podSpec({ "$setElementOrder/containers": [{ name: "side" }, { name: "web" }] }));
    expect(names(out.spec.template.spec.containers)).toEqual(["side", "web"]);
    expect(out.spec.template.spec.containers[1]).toEqual(deploy().spec.template.spec.containers[0]);
  });

  it("kubectl apply's second run: $setElementOrder with an env change and a deletion", () => {
    const patch = podSpec({
      "$setElementOrder/containers": [{ name: "side" }, { name: "web" }],
      containers: [
        {
          "$setElementOrder/env": [{ name: "A" }, { name: "C" }],
          env: [
            { name: "C", value: "3" },
            { $patch: "delete", name: "B" },
          ],
          image: "nginx:1.27",
          name: "web",
        },
      ],
    });
    const out = patchDeploy(patch);
    expect(names(out.spec.template.spec.containers)).toEqual(["side", "web"]);
    expect(out.spec.template.spec.containers[1].env).toEqual([
      { name: "A", value: "1" },
      { name: "C", value: "3" },
    ]);
    expect(out.spec.template.spec.containers[1].image).toBe("nginx:1.27");
    expect(out.spec.template.spec.containers[1].ports).toEqual([{ containerPort: 80, protocol: "TCP" }]);
  });

  it("$setElementOrder: elements it does not name keep their live place around the named ones", () => {
    const pod = { spec: { containers: [{ name: "a" }, { name: "sidecar" }, { name: "b" }] } };
    const out = strategicMergePatch(pod, { spec: { "$setElementOrder/containers": [{ name: "b" }, { name: "a" }] } }, "Pod") as any;
    expect(names(out.spec.containers)).toEqual(["sidecar", "b", "a"]);
    const injected = { spec: { containers: [{ name: "a" }, { name: "b" }, { name: "istio-proxy" }] } };
    const out2 = strategicMergePatch(
      injected,
      { spec: { "$setElementOrder/containers": [{ name: "a" }, { name: "b" }, { name: "new" }], containers: [{ name: "new" }] } },
      "Pod",
    ) as any;
    expect(names(out2.spec.containers)).toEqual(["a", "b", "new", "istio-proxy"]);
  });

  it("$setElementOrder on a primitive set", () => {
    const out = patchDeploy({ metadata: { "$setElementOrder/finalizers": ["b", "a"], finalizers: ["b"] } });
    expect(out.metadata.finalizers).toEqual(["b", "a"]);
  });

  it("$setElementOrder must agree with the patch list's order", () => {
    const e = apiError(() =>
      patchDeploy(podSpec({ "$setElementOrder/containers": [{ name: "web" }, { name: "side" }], containers: [{ name: "side" }, { name: "web" }] })),
    );
    expect(e.code).toBe(400);
    expect(e.message).toContain("doesn't match $setElementOrder list");
    expect(apiError(() => patchDeploy(podSpec({ "$setElementOrder/containers": [{ name: "web" }], containers: [{ name: "other" }] }))).code).toBe(400);
    expect(apiError(() => patchDeploy(podSpec({ "$setElementOrder/containers": [{ image: "x" }] }))).message).toContain("merge key: name");
    expect(apiError(() => patchDeploy(podSpec({ "$setElementOrder/containers": "web" }))).message).toBe("invalid patch format of setElementOrder list");
  });
});

describe("strategic merge patch: status and other kinds", () => {
  it("pod status.conditions merge by type", () => {
    const pod = {
      status: {
        conditions: [
          { type: "Ready", status: "False" },
          { type: "PodScheduled", status: "True" },
        ],
      },
    };
    const out = strategicMergePatch(
      pod,
      {
        status: {
          conditions: [
            { type: "Ready", status: "True" },
            { type: "Initialized", status: "True" },
          ],
        },
      },
      "Pod",
    ) as any;
    expect(out.status.conditions).toEqual([
      { type: "Ready", status: "True" },
      { type: "Initialized", status: "True" },
      { type: "PodScheduled", status: "True" },
    ]);
  });

  it("pod status.containerStatuses are replaced", () => {
    const pod = {
      status: {
        containerStatuses: [
          { name: "a", ready: true },
          { name: "b", ready: true },
        ],
      },
    };
    const out = strategicMergePatch(pod, { status: { containerStatuses: [{ name: "a", ready: false }] } }, "Pod") as any;
    expect(out.status.containerStatuses).toEqual([{ name: "a", ready: false }]);
  });

  it("node status: conditions and addresses by type, images replaced (kubelet status patch)", () => {
    const node = {
      status: {
        conditions: [
          { type: "Ready", status: "True", lastHeartbeatTime: "t0" },
          { type: "MemoryPressure", status: "False" },
        ],
        addresses: [
          { type: "InternalIP", address: "10.0.0.1" },
          { type: "Hostname", address: "n1" },
        ],
        images: [{ names: ["a"] }, { names: ["b"] }],
      },
    };
    const out = strategicMergePatch(
      node,
      {
        status: {
          conditions: [{ type: "Ready", lastHeartbeatTime: "t1" }],
          addresses: [{ type: "InternalIP", address: "10.0.0.2" }],
          images: [{ names: ["c"] }],
        },
      },
      "Node",
    ) as any;
    expect(out.status.conditions).toEqual([
      { type: "Ready", status: "True", lastHeartbeatTime: "t1" },
      { type: "MemoryPressure", status: "False" },
    ]);
    expect(out.status.addresses).toEqual([
      { type: "InternalIP", address: "10.0.0.2" },
      { type: "Hostname", address: "n1" },
    ]);
    expect(out.status.images).toEqual([{ names: ["c"] }]);
  });

  it("deployment, replicaset and replicationcontroller status.conditions merge by type", () => {
    for (const kind of ["Deployment", "ReplicaSet", "ReplicationController"]) {
      const o = {
        status: {
          conditions: [
            { type: "Available", status: "True" },
            { type: "Progressing", status: "True" },
          ],
        },
      };
      const out = strategicMergePatch(o, { status: { conditions: [{ type: "Progressing", status: "False" }] } }, kind) as any;
      expect([kind, out.status.conditions]).toEqual([
        kind,
        [
          { type: "Available", status: "True" },
          { type: "Progressing", status: "False" },
        ],
      ]);
    }
  });

  it("Service spec.ports merge by port", () => {
    const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }], selector: { app: "a" } } };
    const out = strategicMergePatch(svc, { spec: { ports: [{ port: 80, name: "http" }], selector: { app: "b" } } }, "Service") as any;
    expect(out.spec.ports).toEqual([{ port: 80, targetPort: 8080, name: "http" }, { port: 443 }]);
    expect(out.spec.selector).toEqual({ app: "b" });
  });

  it("Endpoints subsets and Namespace spec.finalizers are replaced", () => {
    const ep = { subsets: [{ addresses: [{ ip: "1.1.1.1" }] }] };
    expect((strategicMergePatch(ep, { subsets: [{ addresses: [{ ip: "2.2.2.2" }] }] }, "Endpoints") as any).subsets).toEqual([
      { addresses: [{ ip: "2.2.2.2" }] },
    ]);
    const ns = { spec: { finalizers: ["kubernetes"] } };
    expect((strategicMergePatch(ns, { spec: { finalizers: ["other"] } }, "Namespace") as any).spec.finalizers).toEqual(["other"]);
  });

  it("pod spec lists at the Pod root: containers, hostAliases, topologySpreadConstraints", () => {
    const pod = {
      spec: {
        containers: [{ name: "a", image: "x" }],
        hostAliases: [{ ip: "1.1.1.1", hostnames: ["a"] }],
        topologySpreadConstraints: [{ topologyKey: "zone", maxSkew: 1 }],
      },
    };
    const out = strategicMergePatch(
      pod,
      {
        spec: {
          containers: [{ name: "a", image: "y" }],
          hostAliases: [{ ip: "2.2.2.2", hostnames: ["b"] }],
          topologySpreadConstraints: [{ topologyKey: "zone", maxSkew: 2 }],
        },
      },
      "Pod",
    ) as any;
    expect(out.spec.containers).toEqual([{ name: "a", image: "y" }]);
    expect(out.spec.hostAliases).toEqual([
      { ip: "2.2.2.2", hostnames: ["b"] },
      { ip: "1.1.1.1", hostnames: ["a"] },
    ]);
    expect(out.spec.topologySpreadConstraints).toEqual([{ topologyKey: "zone", maxSkew: 2 }]);
  });

  it("Scale and ConfigMap patches merge their maps", () => {
    expect(strategicMergePatch({ spec: { replicas: 1 }, metadata: { name: "s" } }, { spec: { replicas: 4 } }, "Scale")).toEqual({
      spec: { replicas: 4 },
      metadata: { name: "s" },
    });
    expect(strategicMergePatch({ data: { a: "1", b: "2" } }, { data: { a: null, c: "3" } }, "ConfigMap")).toEqual({ data: { b: "2", c: "3" } });
  });

  it("unknown kinds replace lists and merge maps", () => {
    const o = { spec: { containers: [{ name: "a" }, { name: "b" }], m: { x: 1 } } };
    expect(strategicMergePatch(o, { spec: { containers: [{ name: "a", image: "i" }], m: { y: 2 } } }, "Widget")).toEqual({
      spec: { containers: [{ name: "a", image: "i" }], m: { x: 1, y: 2 } },
    });
  });
});

describe("strategic merge patch: safety", () => {
  it("changes neither input and shares nothing with them", () => {
    const d = deploy();
    const before = structuredClone(d);
    const patch = podSpec({
      containers: [
        { name: "web", env: [{ name: "C", value: "3" }] },
        { name: "new", image: "i", args: ["x"] },
      ],
      volumes: [{ name: "v", emptyDir: {} }],
    });
    const patchBefore = structuredClone(patch);
    const out = patchDeploy(patch, d);
    expect(d).toEqual(before);
    expect(patch).toEqual(patchBefore);
    out.spec.template.spec.containers[2].args.push("y");
    out.spec.template.spec.containers[0].env[0].value = "changed";
    out.metadata.labels.extra = "1";
    expect(d).toEqual(before);
    expect(patch).toEqual(patchBefore);
  });

  it("rejects unknown $patch values and directives with 400", () => {
    expect(apiError(() => patchDeploy({ spec: { $patch: "explode" } })).code).toBe(400);
    expect(apiError(() => patchDeploy({ spec: { $patch: "explode" } })).message).toMatch(/^unknown patch type: explode in map/);
    expect(apiError(() => patchDeploy({ spec: { $frobnicate: 1 } })).code).toBe(400);
    expect(apiError(() => patchDeploy({ $patch: "delete" })).code).toBe(400);
    expect(apiError(() => strategicMergePatch(deploy(), [] as unknown as object, "Deployment")).code).toBe(400);
  });

  it("rejects mixed element types and lists of lists in merged lists", () => {
    expect(apiError(() => patchDeploy(podSpec({ containers: ["web"] }))).code).toBe(400);
    expect(apiError(() => patchDeploy({ metadata: { finalizers: [["x"]] } })).message).toBe("lists of lists are not supported");
  });

  it("ignores __proto__ keys", () => {
    const patch = JSON.parse('{"__proto__": {"polluted": 1}, "metadata": {"labels": {"__proto__": {"polluted": 1}}}}');
    const out = patchDeploy(patch);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(out.polluted).toBeUndefined();
    expect(out.metadata.labels).toEqual({ app: "d" });
  });

  it("merges lists of 20,000 elements by key in one pass: updates in place, deletions, new ones in the patch's order", () => {
    const n = 20_000;
    const env = Array.from({ length: n }, (_, i) => ({ name: `E${i}`, value: "old" }));
    const d = podSpec({ containers: [{ name: "web", image: "i", env }] });
    // every other one changed, the last 100 deleted, 100 new ones first (a new element lands before the live ones after it)
    const patch = podSpec({
      containers: [
        {
          name: "web",
          env: [
            ...Array.from({ length: 100 }, (_, i) => ({ name: `N${i}`, value: "new" })),
            ...env.filter((_, i) => i % 2 === 0 && i < n - 100).map((e) => ({ name: e.name, value: "changed" })),
            ...env.slice(n - 100).map((e) => ({ name: e.name, $patch: "delete" })),
          ],
        },
      ],
    });
    const out = patchDeploy(patch, d).spec.template.spec.containers[0].env as { name: string; value: string }[];
    expect(out).toHaveLength(n);
    expect(out.slice(0, 101)).toEqual([...Array.from({ length: 100 }, (_, i) => ({ name: `N${i}`, value: "new" })), { name: "E0", value: "changed" }]);
    expect(out.slice(101, 103)).toEqual([
      { name: "E1", value: "old" },
      { name: "E2", value: "changed" },
    ]);
    expect(out.at(-1)).toEqual({ name: `E${n - 101}`, value: "old" });
    // a primitive set of 20,000, merged and taken from
    const finalizers = Array.from({ length: n }, (_, i) => `f${i}`);
    const merged = strategicMergePatch({ metadata: { finalizers } }, { metadata: { finalizers: ["g", "f5"] } }, "Pod") as any;
    expect(merged.metadata.finalizers).toHaveLength(n + 1);
    const taken = strategicMergePatch({ metadata: { finalizers } }, { metadata: { "$deleteFromPrimitiveList/finalizers": finalizers.slice(1) } }, "Pod") as any;
    expect(taken.metadata.finalizers).toEqual(["f0"]);
  });

  it("$patch: replace at the root replaces the object", () => {
    expect(strategicMergePatch({ a: 1, b: 2 }, { $patch: "replace", c: 3 }, "ConfigMap")).toEqual({ c: 3 });
  });
});

describe("patch metadata table", () => {
  it("knows the merge keys by path", () => {
    expect(mergeKeyFor("Pod", "spec.containers")).toBe("name");
    expect(mergeKeyFor("Pod", "spec.initContainers")).toBe("name");
    expect(mergeKeyFor("Pod", "spec.ephemeralContainers")).toBe("name");
    expect(mergeKeyFor("Pod", "spec.containers.ports")).toBe("containerPort");
    expect(mergeKeyFor("Pod", "spec.containers.volumeMounts")).toBe("mountPath");
    expect(mergeKeyFor("Pod", "spec.imagePullSecrets")).toBe("name");
    expect(mergeKeyFor("Pod", "status.conditions")).toBe("type");
    expect(mergeKeyFor("Deployment", "spec.template.spec.containers.env")).toBe("name");
    expect(mergeKeyFor("ReplicaSet", "spec.template.spec.volumes")).toBe("name");
    expect(mergeKeyFor("ReplicationController", "spec.template.spec.initContainers.env")).toBe("name");
    expect(mergeKeyFor("Service", "spec.ports")).toBe("port");
    expect(mergeKeyFor("Node", "status.addresses")).toBe("type");
    expect(mergeKeyFor("ConfigMap", "metadata.ownerReferences")).toBe("uid");
    expect(mergeKeyFor("Anything", "metadata.ownerReferences")).toBe("uid");
  });

  it("knows what is replaced or a primitive set", () => {
    expect(mergeKeyFor("Pod", "spec.tolerations")).toBeUndefined();
    expect(isMergedList("Pod", "spec.tolerations")).toBe(false);
    expect(isMergedList("Pod", "spec.containers.envFrom")).toBe(false);
    expect(isMergedList("Endpoints", "subsets")).toBe(false);
    expect(isMergedList("Node", "status.images")).toBe(false);
    expect(isMergedList("Pod", "metadata.finalizers")).toBe(true);
    expect(mergeKeyFor("Pod", "metadata.finalizers")).toBeUndefined();
    expect(isMergedList("Deployment", "spec.strategy")).toBe(false);
    expect(patchMetaFor("Deployment", "spec.strategy")).toEqual({ patchStrategy: "retainKeys" });
    expect(patchMetaFor("Pod", "spec.volumes")).toEqual({ patchStrategy: "merge,retainKeys", patchMergeKey: "name" });
    expect(patchMetaFor("Pod", "constructor")).toBeUndefined();
    expect(patchMetaFor("constructor", "metadata.finalizers")).toEqual({ patchStrategy: "merge" });
  });

  it("covers the built-in kinds and cannot be changed", () => {
    for (const k of [
      "Pod",
      "Deployment",
      "ReplicaSet",
      "ReplicationController",
      "Service",
      "Endpoints",
      "Node",
      "Namespace",
      "ConfigMap",
      "Secret",
      "Event",
      "Lease",
      "Scale",
    ]) {
      expect([k, PATCH_META[k]?.["metadata.finalizers"]]).toEqual([k, { patchStrategy: "merge" }]);
    }
    expect(() => {
      (PATCH_META as Record<string, unknown>).Pod = {};
    }).toThrow();
  });
});
