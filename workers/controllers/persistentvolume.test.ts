import { afterEach, describe, expect, it } from "vitest";
import type { ApiError } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { fakeClock, readyNode, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { ANN_PROVISIONED_BY, ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER, PROVISIONER_FINALIZER } from "./persistentvolume-match";
import { persistentVolumeController } from "./persistentvolume";
import { scheduler } from "./scheduler";

const pv = (name: string, size: string, o: { modes?: string[]; cls?: string; labels?: Record<string, string>; spec?: any; meta?: any } = {}): KObject => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name, labels: o.labels, ...(o.meta ?? {}) },
  spec: {
    capacity: { storage: size },
    accessModes: o.modes ?? ["ReadWriteOnce"],
    ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
    hostPath: { path: `/tmp/${name}` },
    ...(o.spec ?? {}),
  },
});

const pvc = (name: string, size: string, spec: any = {}, meta: any = {}): KObject => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name, ...meta },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } }, storageClassName: "", ...spec },
});

const invalid = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as ApiError;
  }
  throw new Error("accepted");
};

describe("persistentvolume controller", () => {
  let cp: TestControlPlane;
  afterEach(async () => cp?.close());
  const clock = fakeClock();
  const start = async () => {
    cp = await startControlPlane({ controllers: [persistentVolumeController], now: clock.now });
  };
  const claim = async (name: string) => (await cp.api.get("persistentvolumeclaims", "default", name))!;
  const volume = async (name: string) => (await cp.api.get("persistentvolumes", "", name))!;
  const reasons = async (name: string) =>
    (await cp.api.list("events", "default")).filter((e) => e.involvedObject?.name === name).map((e) => `${e.reason}: ${e.message}`);

  it("defaults and validates as kube-apiserver: reclaim Retain, Filesystem, protection finalizers, the default class; capacity, source, access modes required", async () => {
    await start();
    const v = await cp.api.create("persistentvolumes", "", pv("v1", "1Gi"));
    expect(v.spec!.persistentVolumeReclaimPolicy).toBe("Retain");
    expect(v.spec!.volumeMode).toBe("Filesystem");
    expect(v.metadata.finalizers).toEqual(["kubernetes.io/pv-protection"]);
    const c = await cp.api.create("persistentvolumeclaims", "default", pvc("c1", "1Gi", { storageClassName: undefined }));
    expect(c.spec!.storageClassName).toBe("local-path");
    expect(c.spec!.volumeMode).toBe("Filesystem");
    expect(c.metadata.finalizers).toEqual(["kubernetes.io/pvc-protection"]);
    const sc = (await cp.api.get("storageclasses", "", "local-path"))!;
    expect(sc.volumeBindingMode).toBe("WaitForFirstConsumer");

    const noCap = await invalid(
      cp.api.create("persistentvolumes", "", { ...pv("bad", "1Gi"), spec: { accessModes: ["ReadWriteOnce"], hostPath: { path: "/x" } } }),
    );
    expect(noCap.code).toBe(422);
    expect(noCap.message).toContain("spec.capacity: Required value");
    const two = await invalid(cp.api.create("persistentvolumes", "", pv("bad", "1Gi", { spec: { local: { path: "/x" } } })));
    expect(two.message).toContain("spec.local: Forbidden: may not specify more than 1 volume type");
    expect(two.message).toContain("spec.nodeAffinity: Required value: Local volume requires node affinity");
    const noReq = await invalid(cp.api.create("persistentvolumeclaims", "default", pvc("bad", "1Gi", { accessModes: [], resources: {} })));
    expect(noReq.message).toContain("spec.accessModes: Required value: at least 1 access mode is required");
    expect(noReq.message).toContain("spec.resources[storage]: Required value");
    const sc2 = await invalid(
      cp.api.create("storageclasses", "", { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "x" } } as KObject),
    );
    expect(sc2.message).toContain("provisioner: Required value");
    // immutable: a StorageClass's parameters, a claim's spec
    const fast = await cp.api.create("storageclasses", "", {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "fast" },
      provisioner: "example.com/x",
      parameters: { type: "ssd" },
    } as KObject);
    expect(fast.volumeBindingMode).toBe("Immediate");
    expect(fast.reclaimPolicy).toBe("Delete");
    const e1 = await invalid(cp.api.update("storageclasses", { ...fast, parameters: { type: "hdd" } }));
    expect(e1.message).toContain("parameters: Forbidden: updates to parameters are forbidden.");
    const e2 = await invalid(cp.api.update("persistentvolumeclaims", { ...c, spec: { ...c.spec, accessModes: ["ReadWriteMany"] } }));
    expect(e2.message).toContain("spec: Forbidden: spec is immutable after creation");
  });

  it("binds a claim to the smallest volume with enough capacity, every access mode, its class and selector", async () => {
    await start();
    await cp.api.create("persistentvolumes", "", pv("small", "500Mi", { cls: "" }));
    await cp.api.create("persistentvolumes", "", pv("big", "5Gi", { labels: { tier: "gold" } }));
    await cp.api.create("persistentvolumes", "", pv("mid", "2Gi", { modes: ["ReadWriteOnce", "ReadOnlyMany"] }));
    await cp.api.create("persistentvolumes", "", pv("classy", "1Gi", { cls: "fast" }));
    await cp.api.create("persistentvolumes", "", pv("rox", "1Gi", { modes: ["ReadOnlyMany"] }));
    await cp.settle();
    expect((await volume("mid")).status!.phase).toBe("Available");

    await cp.api.create("persistentvolumeclaims", "default", pvc("data", "1Gi"));
    await cp.settle();
    const c = await claim("data");
    expect(c.status).toMatchObject({ phase: "Bound", capacity: { storage: "2Gi" }, accessModes: ["ReadWriteOnce", "ReadOnlyMany"] });
    expect(c.spec!.volumeName).toBe("mid");
    expect(c.metadata.annotations).toMatchObject({ "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes" });
    const v = await volume("mid");
    expect(v.status!.phase).toBe("Bound");
    expect(v.spec!.claimRef).toMatchObject({ kind: "PersistentVolumeClaim", namespace: "default", name: "data", uid: c.metadata.uid });
    expect(v.metadata.annotations?.["pv.kubernetes.io/bound-by-controller"]).toBe("yes");

    await cp.api.create("persistentvolumeclaims", "default", pvc("gold", "1Gi", { selector: { matchLabels: { tier: "gold" } } }));
    await cp.api.create("persistentvolumeclaims", "default", pvc("huge", "10Gi"));
    await cp.settle();
    expect((await claim("gold")).spec!.volumeName).toBe("big");
    expect((await claim("huge")).status!.phase).toBe("Pending");
    expect(await reasons("huge")).toContain("FailedBinding: no persistent volumes available for this claim and no storage class is set");
  });

  it("honours pre-binding both ways: a claim's volumeName and a volume's claimRef", async () => {
    await start();
    await cp.api.create("persistentvolumes", "", pv("a", "1Gi"));
    await cp.api.create("persistentvolumes", "", pv("b", "8Gi", { spec: { claimRef: { namespace: "default", name: "wants-b" } } }));
    await cp.api.create("persistentvolumes", "", pv("tiny", "100Mi"));
    await cp.api.create("persistentvolumeclaims", "default", pvc("wants-b", "1Gi"));
    await cp.api.create("persistentvolumeclaims", "default", pvc("named", "50Mi", { volumeName: "a" }));
    await cp.api.create("persistentvolumeclaims", "default", pvc("too-big", "1Gi", { volumeName: "tiny" }));
    await cp.settle();
    // the claimRef reservation wins over the smaller free volume
    expect((await claim("wants-b")).spec!.volumeName).toBe("b");
    expect((await claim("named")).status!.phase).toBe("Bound");
    expect((await volume("a")).spec!.claimRef.name).toBe("named");
    expect((await claim("too-big")).status!.phase).toBe("Pending");
    expect(await reasons("too-big")).toContain('VolumeMismatch: Cannot bind to requested volume "tiny": requested PV is too small');
    expect((await volume("tiny")).spec!.claimRef).toBeUndefined();
  });

  it("reclaims: Retain leaves the volume Released, Delete deletes a provisioned one and fails a manual one", async () => {
    await start();
    await cp.api.create("persistentvolumes", "", pv("keep", "1Gi", { cls: "k" }));
    await cp.api.create("persistentvolumes", "", pv("manual", "1Gi", { cls: "m", spec: { persistentVolumeReclaimPolicy: "Delete" } }));
    await cp.api.create(
      "persistentvolumes",
      "",
      pv("prov", "1Gi", {
        cls: "p",
        spec: { persistentVolumeReclaimPolicy: "Delete" },
        meta: { annotations: { [ANN_PROVISIONED_BY]: "x" }, finalizers: [PROVISIONER_FINALIZER] },
      }),
    );
    for (const cls of ["k", "m", "p"]) await cp.api.create("persistentvolumeclaims", "default", pvc(`c-${cls}`, "1Gi", { storageClassName: cls }));
    await cp.settle();
    for (const cls of ["k", "m", "p"]) expect((await claim(`c-${cls}`)).status!.phase).toBe("Bound");
    for (const cls of ["k", "m", "p"]) await cp.api.delete("persistentvolumeclaims", "default", `c-${cls}`);
    await cp.settle();
    const keep = await volume("keep");
    expect(keep.status!.phase).toBe("Released");
    expect(keep.spec!.claimRef.name).toBe("c-k");
    expect(await cp.api.get("persistentvolumeclaims", "default", "c-k")).toBeNull();
    const manual = await volume("manual");
    expect(manual.status).toMatchObject({
      phase: "Failed",
      message: 'error getting deleter volume plugin for volume "manual": no deletable volume plugin matched',
    });
    // deleted; only the provisioner's finalizer holds it (pv-protection went: it is no longer Bound)
    const prov = await volume("prov");
    expect(prov.metadata.deletionTimestamp).toBeTruthy();
    expect(prov.metadata.finalizers).toEqual([PROVISIONER_FINALIZER]);
    // an administrator frees the retained volume: it is Available again and binds a new claim
    await cp.api.update("persistentvolumes", { ...keep, spec: { ...keep.spec, claimRef: undefined } });
    await cp.api.create("persistentvolumeclaims", "default", pvc("again", "1Gi", { storageClassName: "k" }));
    await cp.settle();
    expect((await claim("again")).spec!.volumeName).toBe("keep");
  });

  it("protects a claim a running pod uses and a bound volume until they are free", async () => {
    await start();
    await cp.api.create("persistentvolumes", "", pv("v", "1Gi"));
    // a claim smaller than its volume (status.capacity above the request), whose finalizer must still go
    await cp.api.create("persistentvolumeclaims", "default", pvc("used", "500Mi"));
    await cp.api.create("pods", "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "user" },
      spec: { containers: [{ name: "c", image: "busybox" }], volumes: [{ name: "d", persistentVolumeClaim: { claimName: "used" } }] },
    } as KObject);
    await cp.settle();
    expect((await claim("used")).status!.phase).toBe("Bound");
    // the bound volume is kept while bound
    await cp.api.delete("persistentvolumes", "", "v");
    await cp.api.delete("persistentvolumeclaims", "default", "used");
    await cp.settle();
    expect((await claim("used")).metadata.deletionTimestamp).toBeTruthy();
    expect((await claim("used")).metadata.finalizers).toEqual(["kubernetes.io/pvc-protection"]);
    expect((await volume("v")).metadata.finalizers).toEqual(["kubernetes.io/pv-protection"]);
    await cp.api.delete("pods", "default", "user", { gracePeriodSeconds: 0 });
    await cp.settle();
    expect(await cp.api.get("persistentvolumeclaims", "default", "used")).toBeNull();
    expect(await cp.api.get("persistentvolumes", "", "v")).toBeNull();
  });

  it("waits for the first consumer, then hands the claim to its class's provisioner; an Immediate local-path claim stays Pending", async () => {
    await start();
    await cp.api.create("persistentvolumes", "", pv("static", "1Gi", { cls: "local-path" }));
    await cp.api.create("persistentvolumeclaims", "default", pvc("late", "1Gi", { storageClassName: "local-path" }));
    await cp.settle();
    // a matching volume exists, but a WaitForFirstConsumer claim is not bound before a pod is scheduled
    expect((await claim("late")).status!.phase).toBe("Pending");
    expect(await reasons("late")).toContain("WaitForFirstConsumer: waiting for first consumer to be created before binding");
    const c = await claim("late");
    // the scheduler picked a node that would need a new volume
    await cp.api.update("persistentvolumeclaims", { ...c, metadata: { ...c.metadata, annotations: { [ANN_SELECTED_NODE]: "n1" } } });
    await cp.api.delete("persistentvolumes", "", "static");
    await cp.settle();
    expect((await claim("late")).metadata.annotations?.[ANN_STORAGE_PROVISIONER]).toBe("kubeflare.dev/local-path");
    // the provisioner's volume, reserved for the claim, binds it
    const late = await claim("late");
    await cp.api.create(
      "persistentvolumes",
      "",
      pv(`pvc-${late.metadata.uid}`, "1Gi", {
        cls: "local-path",
        spec: { claimRef: { kind: "PersistentVolumeClaim", namespace: "default", name: "late", uid: late.metadata.uid } },
        meta: { annotations: { [ANN_PROVISIONED_BY]: "kubeflare.dev/local-path" } },
      }),
    );
    await cp.settle();
    expect((await claim("late")).spec!.volumeName).toBe(`pvc-${late.metadata.uid}`);
    expect((await claim("late")).status!.phase).toBe("Bound");

    await cp.api.create("storageclasses", "", {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "now" },
      provisioner: "kubeflare.dev/local-path",
    } as KObject);
    await cp.api.create("persistentvolumeclaims", "default", pvc("eager", "1Gi", { storageClassName: "now" }));
    await cp.settle();
    expect((await claim("eager")).status!.phase).toBe("Pending");
    expect((await reasons("eager")).join("\n")).toContain("ProvisioningFailed");
  });
});

describe("scheduler volume binding", () => {
  let cp: TestControlPlane;
  const claim = async (name: string) => (await cp.api.get("persistentvolumeclaims", "default", name))!;
  afterEach(async () => cp?.close());
  const start = async () => {
    cp = await startControlPlane({ controllers: [persistentVolumeController, scheduler] });
    for (const n of ["n1", "n2", "n3"]) await cp.api.create("nodes", "", readyNode(n));
  };
  const podWith = (name: string, claim: string): KObject =>
    ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: { containers: [{ name: "c", image: "busybox" }], volumes: [{ name: "d", persistentVolumeClaim: { claimName: claim } }] },
    }) as KObject;
  const pod = async (name: string) => (await cp.api.get("pods", "default", name))!;
  const scheduledMessage = async (name: string) => (await pod(name)).status?.conditions?.find((c: any) => c.type === "PodScheduled")?.message;
  const localPV = (name: string, node: string, cls: string) =>
    pv(name, "1Gi", {
      cls,
      spec: {
        hostPath: undefined,
        local: { path: `/data/${name}` },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] }] } },
      },
    });

  it("keeps a pod pending while its Immediate claim is unbound or missing, then follows the bound volume's node affinity", async () => {
    await start();
    await cp.api.create("pods", "default", podWith("nobody", "missing"));
    await cp.api.create("persistentvolumeclaims", "default", pvc("imm", "1Gi", { storageClassName: "manual" }));
    await cp.api.create("pods", "default", podWith("db", "imm"));
    await cp.settle();
    expect(await scheduledMessage("nobody")).toBe('0/3 nodes are available: persistentvolumeclaim "missing" not found.');
    expect(await scheduledMessage("db")).toBe("0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.");
    expect((await pod("db")).spec!.nodeName).toBeUndefined();
    // a volume on n2 appears: the claim binds it, and the pod goes where the volume is
    await cp.api.create("persistentvolumes", "", localPV("on-n2", "n2", "manual"));
    await cp.settle();
    expect((await claim("imm")).spec!.volumeName).toBe("on-n2");
    expect((await pod("db")).spec!.nodeName).toBe("n2");
  });

  it("WaitForFirstConsumer: reserves a free volume on a node the pod fits, or selects the node for the provisioner", async () => {
    await start();
    await cp.api.create("storageclasses", "", {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "local-static" },
      provisioner: "kubernetes.io/no-provisioner",
      volumeBindingMode: "WaitForFirstConsumer",
    } as KObject);
    await cp.api.create("persistentvolumes", "", localPV("disk-n3", "n3", "local-static"));
    await cp.api.create("persistentvolumeclaims", "default", pvc("st", "1Gi", { storageClassName: "local-static" }));
    await cp.api.create("persistentvolumeclaims", "default", pvc("dyn", "1Gi", { storageClassName: "local-path" }));
    await cp.settle();
    expect((await claim("st")).status!.phase).toBe("Pending");
    await cp.api.create("pods", "default", podWith("static-user", "st"));
    await cp.api.create("pods", "default", podWith("dyn-user", "dyn"));
    await cp.settle();
    // the static volume is on n3: the pod goes there and the claim binds the volume the scheduler reserved
    expect((await pod("static-user")).spec!.nodeName).toBe("n3");
    expect((await claim("st")).spec!.volumeName).toBe("disk-n3");
    expect((await claim("st")).status!.phase).toBe("Bound");
    // no volume: the claim gets the pod's node for the provisioner (which the agent there is)
    const node = (await pod("dyn-user")).spec!.nodeName;
    expect(node).toMatch(/^n[123]$/);
    expect((await claim("dyn")).metadata.annotations).toMatchObject({ [ANN_SELECTED_NODE]: node, [ANN_STORAGE_PROVISIONER]: "kubeflare.dev/local-path" });
    // a second pod of the same claim follows it to that node
    await cp.api.create("pods", "default", podWith("dyn-user-2", "dyn"));
    await cp.settle();
    expect((await pod("dyn-user-2")).spec!.nodeName).toBe(node);
    // a second claim of the static class finds no volume left anywhere
    await cp.api.create("persistentvolumeclaims", "default", pvc("st2", "1Gi", { storageClassName: "local-static" }));
    await cp.api.create("pods", "default", podWith("static-2", "st2"));
    await cp.settle();
    expect(await scheduledMessage("static-2")).toBe("0/3 nodes are available: 3 node(s) didn't find available persistent volumes to bind.");
  });
});
