import { afterEach, describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { readyNode, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { resolve } from "../../agent/dns/resolve";
import { ClusterView } from "../../agent/dns/view";
import { endpointsController } from "./endpoints";
import { REVISION_HASH_LABEL } from "./history";
import { claimsServed, newClaim, newStatefulPod, POD_INDEX_LABEL, POD_NAME_LABEL, statefulSetController, syncStatefulSet } from "./statefulset";
import type { ControllerContext } from "./context";

const sts = (name: string, spec: Record<string, unknown> = {}): KObject =>
  ({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name },
    spec: {
      serviceName: "nginx",
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "nginx:1" }] } },
      ...spec,
    },
  }) as KObject;

describe("statefulset controller", () => {
  let cp: TestControlPlane;
  afterEach(async () => cp?.close());

  const start = async () => {
    cp = await startControlPlane({ controllers: [statefulSetController] });
  };
  const pods = async (app: string) =>
    (await cp.api.list("pods", "default", { labelSelector: `app=${app}` }))
      .filter((p) => !p.metadata.deletionTimestamp)
      .sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  const names = async (app: string) => (await pods(app)).map((p) => p.metadata.name);
  /** as an agent reports one pod Running and Ready */
  const ready = async (name: string) => {
    const p = (await cp.api.get("pods", "default", name))!;
    const t = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    await cp.api.updateStatus("pods", {
      ...p,
      status: { ...p.status, phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: t }] },
    });
    await cp.settle();
  };
  const readyAll = async (app: string) => {
    for (const p of await pods(app)) if (p.status?.phase !== "Running") await ready(p.metadata.name!);
  };
  const get = async (name: string) => (await cp.api.get("statefulsets", "default", name))!;
  const setImage = async (name: string, image: string, spec: Record<string, unknown> = {}) => {
    const s = await get(name);
    const template = structuredClone(s.spec!.template);
    template.spec.containers[0].image = image;
    await cp.api.update("statefulsets", { ...s, spec: { ...s.spec, ...spec, template } });
    await cp.settle();
  };
  const images = async (app: string) => (await pods(app)).map((p) => p.spec!.containers[0].image);

  it("OrderedReady: creates web-0, then web-1 only once web-0 is Running and Ready, with stable identities", async () => {
    await start();
    await cp.api.create("statefulsets", "default", sts("web"));
    await cp.settle();
    expect(await names("web")).toEqual(["web-0"]);
    const [p0] = await pods("web");
    expect(p0.spec).toMatchObject({ hostname: "web-0", subdomain: "nginx" });
    expect(p0.metadata.labels).toMatchObject({ app: "web", [POD_NAME_LABEL]: "web-0", [POD_INDEX_LABEL]: "0" });
    expect(p0.metadata.ownerReferences?.[0]).toMatchObject({ kind: "StatefulSet", name: "web", controller: true });
    // not yet ready: nothing more
    await cp.settle();
    expect(await names("web")).toEqual(["web-0"]);
    await ready("web-0");
    expect(await names("web")).toEqual(["web-0", "web-1"]);
    await ready("web-1");
    expect(await names("web")).toEqual(["web-0", "web-1", "web-2"]);
    await ready("web-2");
    const s = await get("web");
    expect(s.status).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3, observedGeneration: 1 });
    expect(s.status!.currentRevision).toBe(s.status!.updateRevision);
    expect(p0.metadata.labels?.[REVISION_HASH_LABEL]).toBe(s.status!.updateRevision);
  });

  it("scales down from the highest ordinal, one at a time, and replaces a failed pod under its name", async () => {
    await start();
    await cp.api.create("statefulsets", "default", sts("down"));
    await cp.settle();
    for (const n of ["down-0", "down-1", "down-2"]) await ready(n);
    const failed = (await cp.api.get("pods", "default", "down-1"))!;
    await cp.api.updateStatus("pods", { ...failed, status: { ...failed.status, phase: "Failed" } });
    await cp.settle();
    const again = (await cp.api.get("pods", "default", "down-1"))!;
    expect(again.metadata.uid).not.toBe(failed.metadata.uid);
    await ready("down-1");

    // bound to a node, a deleted pod waits for its kubelet: the order shows
    await cp.api.create("nodes", "", readyNode("n1"));
    for (const n of ["down-1", "down-2"]) await cp.api.bind("default", n, "n1");
    await cp.api.patch("statefulsets", "default", "down", "merge", { spec: { replicas: 1 } });
    await cp.settle();
    const terminating = async () =>
      (await cp.api.list("pods", "default", { labelSelector: "app=down" })).filter((p) => p.metadata.deletionTimestamp).map((p) => p.metadata.name);
    expect(await terminating()).toEqual(["down-2"]);
    // the kubelet finishes it: then down-1 goes
    await cp.api.delete("pods", "default", "down-2", { gracePeriodSeconds: 0 });
    await cp.settle();
    expect(await terminating()).toEqual(["down-1"]);
    await cp.api.delete("pods", "default", "down-1", { gracePeriodSeconds: 0 });
    await cp.settle();
    expect(await names("down")).toEqual(["down-0"]);
  });

  it("OrderedReady scale-down waits while a remaining pod is not ready", async () => {
    await start();
    await cp.api.create("statefulsets", "default", sts("wait"));
    await cp.settle();
    for (const n of ["wait-0", "wait-1", "wait-2"]) await ready(n);
    const p0 = (await cp.api.get("pods", "default", "wait-0"))!;
    await cp.api.updateStatus("pods", { ...p0, status: { ...p0.status, conditions: [{ type: "Ready", status: "False" }] } });
    await cp.api.patch("statefulsets", "default", "wait", "merge", { spec: { replicas: 2 } });
    await cp.settle();
    expect(await names("wait")).toEqual(["wait-0", "wait-1", "wait-2"]);
    await ready("wait-0");
    expect(await names("wait")).toEqual(["wait-0", "wait-1"]);
  });

  it("Parallel: creates and deletes all at once", async () => {
    await start();
    await cp.api.create("statefulsets", "default", sts("par", { podManagementPolicy: "Parallel", replicas: 4 }));
    await cp.settle();
    expect(await names("par")).toEqual(["par-0", "par-1", "par-2", "par-3"]);
    await cp.api.patch("statefulsets", "default", "par", "merge", { spec: { replicas: 1 } });
    await cp.settle();
    expect(await names("par")).toEqual(["par-0"]);
  });

  it("rolls out from the highest ordinal down to the partition, keeps revisions, and rolls back", async () => {
    await start();
    await cp.api.create("statefulsets", "default", sts("roll"));
    await cp.settle();
    for (const n of ["roll-0", "roll-1", "roll-2"]) await ready(n);
    const rev1 = (await get("roll")).status!.updateRevision;

    await setImage("roll", "nginx:2", { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } });
    // roll-2 goes first and comes back with the new template; roll-0 is below the partition
    expect(await images("roll")).toEqual(["nginx:1", "nginx:1", "nginx:2"]);
    await readyAll("roll");
    expect(await images("roll")).toEqual(["nginx:1", "nginx:2", "nginx:2"]);
    await readyAll("roll");
    await cp.settle();
    expect(await images("roll")).toEqual(["nginx:1", "nginx:2", "nginx:2"]);
    let s = await get("roll");
    expect(s.status).toMatchObject({ updatedReplicas: 2, currentReplicas: 1, currentRevision: rev1 });
    const rev2 = s.status!.updateRevision;
    expect(rev2).not.toBe(rev1);
    // a deleted pod below the partition comes back at the current revision
    await cp.api.delete("pods", "default", "roll-0");
    await cp.settle();
    expect(await images("roll")).toEqual(["nginx:1", "nginx:2", "nginx:2"]);
    await readyAll("roll");

    // partition 0: the rest follows; the update revision becomes current
    await cp.api.patch("statefulsets", "default", "roll", "merge", { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
    await cp.settle();
    await readyAll("roll");
    expect(await images("roll")).toEqual(["nginx:2", "nginx:2", "nginx:2"]);
    s = await get("roll");
    expect(s.status).toMatchObject({ updatedReplicas: 3, currentReplicas: 3, currentRevision: rev2, updateRevision: rev2 });

    // history: two revisions; kubectl rollout undo patches revision 1's data back
    let crs = (await cp.api.list("controllerrevisions", "default", { labelSelector: "app=roll" })) as any[];
    crs.sort((a, b) => a.revision - b.revision);
    expect(crs.map((c) => [c.metadata.name, c.revision])).toEqual([
      [rev1, 1],
      [rev2, 2],
    ]);
    expect(crs[0].data.spec.template.$patch).toBe("replace");
    await cp.api.patch("statefulsets", "default", "roll", "strategic", crs[0].data);
    await cp.settle();
    for (let i = 0; i < 3; i++) await readyAll("roll");
    expect(await images("roll")).toEqual(["nginx:1", "nginx:1", "nginx:1"]);
    crs = (await cp.api.list("controllerrevisions", "default", { labelSelector: "app=roll" })) as any[];
    crs.sort((a, b) => a.revision - b.revision);
    expect(crs.map((c) => [c.metadata.name, c.revision])).toEqual([
      [rev2, 2],
      [rev1, 3],
    ]);
    expect((await get("roll")).status).toMatchObject({ currentRevision: rev1, updateRevision: rev1, updatedReplicas: 3 });
  });

  it("OnDelete: a new template reaches a pod only when it is deleted", async () => {
    await start();
    await cp.api.create("statefulsets", "default", sts("ond", { replicas: 2, updateStrategy: { type: "OnDelete" } }));
    await cp.settle();
    await readyAll("ond");
    await readyAll("ond");
    await setImage("ond", "nginx:2");
    expect(await images("ond")).toEqual(["nginx:1", "nginx:1"]);
    await cp.api.delete("pods", "default", "ond-1");
    await cp.settle();
    expect(await images("ond")).toEqual(["nginx:1", "nginx:2"]);
  });

  it("volumeClaimTemplates: claim names, labels, owners and pod volumes (the pure parts; the kind is not served yet)", () => {
    const set = {
      ...sts("db", {
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" },
        volumeClaimTemplates: [
          { metadata: { name: "data", labels: { tier: "db" } }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } },
        ],
      }),
      metadata: { name: "db", namespace: "default", uid: "u-1" },
    } as KObject;
    const claim = newClaim(set, set.spec!.volumeClaimTemplates[0], 2);
    expect(claim.metadata).toMatchObject({ name: "data-db-2", namespace: "default", labels: { tier: "db", app: "db" } });
    expect(claim.metadata.ownerReferences).toEqual([
      { apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "u-1", controller: false, blockOwnerDeletion: true },
    ]);
    expect(claim.spec).toEqual({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } });
    const pod = newStatefulPod(
      set,
      { ...set.spec!.template, spec: { ...set.spec!.template.spec, volumes: [{ name: "data", emptyDir: {} }] } },
      "db-abc",
      2,
      true,
    );
    expect(pod.spec!.volumes).toEqual([{ name: "data", persistentVolumeClaim: { claimName: "data-db-2" } }]);
    expect(newStatefulPod(set, set.spec!.template, "db-abc", 2, false).spec!.volumes).toBeUndefined();
    // Retain (the default): no owner
    expect(
      newClaim({ ...set, spec: { ...set.spec, persistentVolumeClaimRetentionPolicy: undefined } }, set.spec!.volumeClaimTemplates[0], 0).metadata
        .ownerReferences,
    ).toBeUndefined();
    // the claims only flow once the catalog serves persistentvolumeclaims
    expect(typeof claimsServed()).toBe("boolean");
  });

  it("gives each pod a DNS name through its headless Service: web-0.nginx.default.svc.cluster.local", async () => {
    cp = await startControlPlane({ controllers: [statefulSetController, endpointsController] });
    await cp.api.create("services", "default", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "nginx" },
      spec: { clusterIP: "None", selector: { app: "dns" }, ports: [{ name: "http", port: 80 }] },
    } as KObject);
    await cp.api.create("statefulsets", "default", sts("dns", { replicas: 2 }));
    await cp.settle();
    for (const [i, name] of ["dns-0", "dns-1"].entries()) {
      const p = (await cp.api.get("pods", "default", name))!;
      const t = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      await cp.api.updateStatus("pods", {
        ...p,
        status: { phase: "Running", podIP: `10.42.0.${10 + i}`, conditions: [{ type: "Ready", status: "True", lastTransitionTime: t }] },
      });
      await cp.settle();
    }
    const slices = await cp.api.list("endpointslices", "default", { labelSelector: "kubernetes.io/service-name=nginx" });
    expect(slices[0].endpoints.map((e: any) => e.hostname)).toEqual(["dns-0", "dns-1"]);
    const view = new ClusterView();
    view.resetServices(await cp.api.list("services", "default"));
    view.resetSlices(slices);
    const r: any = resolve(view, { name: "dns-1.nginx.default.svc.cluster.local", type: "A" }, { domain: "cluster.local", dnsIP: "10.43.0.10" });
    expect(r.answers.map((a: any) => a.data)).toEqual(["10.42.0.11"]);
  });

  it("volumeClaimTemplates with a minimal fake PVC store: a claim per pod before the pod, mounted; whenScaled Delete hands the claim to its pod", async () => {
    // the kind is not served yet (the storage work adds it): a tiny in-memory PVC store stands in
    cp = await startControlPlane({ controllers: [] });
    const claims = new Map<string, KObject>();
    const real = cp.manager.ctx;
    const api = new Proxy(real.api, {
      get(target, prop, receiver) {
        const orig = Reflect.get(target, prop, receiver);
        if (typeof orig !== "function") return orig;
        return (resource: string, ...args: any[]) => {
          if (resource !== "persistentvolumeclaims") return orig.call(target, resource, ...args);
          if (prop === "get") return Promise.resolve(claims.get(args[1]) ?? null);
          if (prop === "create") {
            const c = { ...args[1], metadata: { ...args[1].metadata, uid: `pvc-${claims.size}`, resourceVersion: "1" } };
            claims.set(c.metadata.name, c);
            return Promise.resolve(c);
          }
          if (prop === "patch") {
            const c = claims.get(args[1])!;
            const next = { ...c, metadata: { ...c.metadata, ...args[3].metadata } };
            claims.set(args[1], next);
            return Promise.resolve(next);
          }
          throw new Error(`fake PVC store: ${String(prop)}`);
        };
      },
    });
    const ctx: ControllerContext = { ...real, api };
    const key = { resource: "statefulsets", namespace: "default", name: "db" };
    const set = sts("db", {
      replicas: 2,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Delete" },
      volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
    });
    await cp.api.create("statefulsets", "default", set);
    await syncStatefulSet(key, ctx, true);
    expect([...claims.keys()]).toEqual(["data-db-0"]);
    expect(claims.get("data-db-0")!.metadata).toMatchObject({ labels: { app: "db" } });
    expect(claims.get("data-db-0")!.metadata.ownerReferences).toBeUndefined();
    const p0 = (await cp.api.get("pods", "default", "db-0"))!;
    expect(p0.spec!.volumes).toContainEqual({ name: "data", persistentVolumeClaim: { claimName: "data-db-0" } });
    await ready("db-0");
    await syncStatefulSet(key, ctx, true);
    expect([...claims.keys()]).toEqual(["data-db-0", "data-db-1"]);
    await ready("db-1");
    await cp.api.patch("statefulsets", "default", "db", "merge", { spec: { replicas: 1 } });
    const p1 = (await cp.api.get("pods", "default", "db-1"))!;
    await syncStatefulSet(key, ctx, true);
    expect(await cp.api.get("pods", "default", "db-1")).toBeNull();
    expect(claims.get("data-db-1")!.metadata.ownerReferences).toEqual([
      { apiVersion: "v1", kind: "Pod", name: "db-1", uid: p1.metadata.uid, blockOwnerDeletion: true },
    ]);
    expect(claims.get("data-db-0")!.metadata.ownerReferences).toBeUndefined();
  });

  it("adopts an orphan pod with its name and labels, and releases a pod whose labels no longer match", async () => {
    await start();
    const orphan = await cp.api.create("pods", "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "adopt-0", labels: { app: "adopt" } },
      spec: { containers: [{ name: "c", image: "nginx:1" }] },
    } as KObject);
    await cp.api.create("statefulsets", "default", sts("adopt", { replicas: 2 }));
    await cp.settle();
    const p0 = (await cp.api.get("pods", "default", "adopt-0"))!;
    expect(p0.metadata.uid).toBe(orphan.metadata.uid);
    expect(p0.metadata.ownerReferences).toMatchObject([{ kind: "StatefulSet", name: "adopt", controller: true }]);
    expect(p0.metadata.labels).toEqual({ app: "adopt", [POD_NAME_LABEL]: "adopt-0", [POD_INDEX_LABEL]: "0" });
    await ready("adopt-0");
    expect(await names("adopt")).toEqual(["adopt-0", "adopt-1"]);
    await ready("adopt-1");
    const p1 = (await cp.api.get("pods", "default", "adopt-1"))!;
    await cp.api.update("pods", { ...p1, metadata: { ...p1.metadata, labels: { app: "elsewhere" } } });
    await cp.settle();
    expect((await cp.api.get("pods", "default", "adopt-1"))!.metadata.ownerReferences).toBeUndefined();
  });
});
