import { afterEach, describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { fakeClock, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { replicaSetController, replicationControllerController } from "./replicaset";

const rc = (replicas: number): KObject => ({
  apiVersion: "v1",
  kind: "ReplicationController",
  metadata: { name: "kubia" },
  spec: { replicas, selector: { app: "kubia" }, template: { metadata: { labels: { app: "kubia" } }, spec: { containers: [{ name: "kubia", image: "luksa/kubia" }] } } },
});
const rs = (replicas: number, minReadySeconds = 0): KObject => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name: "web" },
  spec: { replicas, minReadySeconds, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web", tier: "fe" } }, spec: { containers: [{ name: "web", image: "nginx" }] } } },
});

let cp: TestControlPlane;
afterEach(async () => cp?.close());

const pods = async (sel: string) => (await cp.api.list("pods", "default", { labelSelector: sel })).filter((p) => !p.metadata.deletionTimestamp);

const markReady = async (p: KObject, at: Date, nodeName?: string) => {
  let pod = (await cp.api.get("pods", "default", p.metadata.name!))!;
  if (nodeName && !pod.spec.nodeName) pod = await cp.api.update("pods", { ...pod, spec: { ...pod.spec, nodeName } });
  const t = at.toISOString().replace(/\.\d+Z$/, "Z");
  await cp.api.updateStatus("pods", { ...pod, status: { ...pod.status, phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: t }] } });
};

describe("ReplicationController", () => {
  it("keeps N pods, replaces a deleted one, and scales both ways (unscheduled pods go first)", async () => {
    cp = await startControlPlane({ controllers: [replicationControllerController] });
    await cp.api.create("replicationcontrollers", "default", rc(3));
    await cp.settle();
    let ps = await pods("app=kubia");
    expect(ps).toHaveLength(3);
    expect(ps.every((p) => p.metadata.name!.startsWith("kubia-") && p.metadata.ownerReferences?.[0].controller)).toBe(true);
    const victim = ps[0].metadata.name!;
    await cp.api.delete("pods", "default", victim);
    await cp.settle();
    ps = await pods("app=kubia");
    expect(ps).toHaveLength(3);
    expect(ps.map((p) => p.metadata.name)).not.toContain(victim);

    await cp.api.patch("replicationcontrollers", "default", "kubia", "merge", { spec: { replicas: 5 } });
    await cp.settle();
    ps = await pods("app=kubia");
    expect(ps).toHaveLength(5);
    // two of them are scheduled and running; scaling down to 2 must keep exactly those
    const keep = ps.slice(0, 2).map((p) => p.metadata.name);
    for (const p of ps.slice(0, 2)) await markReady(p, new Date(), "node-1");
    await cp.api.patch("replicationcontrollers", "default", "kubia", "merge", { spec: { replicas: 2 } });
    await cp.settle();
    expect((await pods("app=kubia")).map((p) => p.metadata.name).sort()).toEqual(keep.sort());
    const st = (await cp.api.get("replicationcontrollers", "default", "kubia"))!.status;
    expect(st).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2, fullyLabeledReplicas: 2, observedGeneration: 3 });
    const events = await cp.api.list("events", "default", { fieldSelector: "involvedObject.name=kubia" });
    expect(events.map((e) => e.reason).sort()).toEqual(expect.arrayContaining(["SuccessfulCreate", "SuccessfulDelete"]));
  });

  it("adopts matching orphans and releases pods relabelled away", async () => {
    cp = await startControlPlane({ controllers: [replicationControllerController] });
    await cp.api.create("pods", "default", { apiVersion: "v1", kind: "Pod", metadata: { name: "orphan", labels: { app: "kubia" } }, spec: { containers: [{ name: "c", image: "i" }] } });
    await cp.api.create("replicationcontrollers", "default", rc(2));
    await cp.settle();
    const ps = await pods("app=kubia");
    expect(ps).toHaveLength(2);
    const orphan = (await cp.api.get("pods", "default", "orphan"))!;
    expect(orphan.metadata.ownerReferences?.[0]).toMatchObject({ kind: "ReplicationController", name: "kubia", controller: true });

    await cp.api.patch("pods", "default", "orphan", "merge", { metadata: { labels: { app: "debug" } } });
    await cp.settle();
    const released = (await cp.api.get("pods", "default", "orphan"))!;
    expect(released.metadata.ownerReferences).toBeUndefined();
    expect(await pods("app=kubia")).toHaveLength(2); // a replacement was created
  });
});

describe("ReplicaSet", () => {
  it("counts available replicas only after minReadySeconds", async () => {
    const clock = fakeClock();
    cp = await startControlPlane({ controllers: [replicaSetController], now: clock.now });
    await cp.api.create("replicasets", "default", rs(2, 30));
    await cp.settle();
    for (const p of await pods("app=web")) await markReady(p, clock.now(), "n1");
    await cp.settle();
    let st = (await cp.api.get("replicasets", "default", "web"))!.status;
    expect(st).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 0 });
    clock.advance(31_000);
    await cp.manager.dispatch([{ resource: "replicasets", namespace: "default", name: "web" }]);
    await cp.settle();
    st = (await cp.api.get("replicasets", "default", "web"))!.status;
    expect(st).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2 });
  });

  it("never ends with more pods than replicas when reconciled twice at once", async () => {
    cp = await startControlPlane({ controllers: [] });
    await cp.api.create("replicasets", "default", rs(4));
    const key = { resource: "replicasets", namespace: "default", name: "web" };
    await Promise.all([replicaSetController.reconcile!(key, cp.manager.ctx), replicaSetController.reconcile!(key, cp.manager.ctx)]);
    // a second pass corrects any overshoot of the concurrent first
    await replicaSetController.reconcile!(key, cp.manager.ctx);
    expect(await pods("app=web")).toHaveLength(4);
    await replicaSetController.reconcile!(key, cp.manager.ctx);
    expect(await pods("app=web")).toHaveLength(4);
  });

  it("reports a ReplicaFailure condition when pods cannot be created", async () => {
    // no namespace controller: the namespace stays Terminating, where creates are forbidden
    cp = await startControlPlane({ controllers: [replicaSetController] });
    await cp.api.create("namespaces", "", { apiVersion: "v1", kind: "Namespace", metadata: { name: "doomed" } });
    await cp.api.create("replicasets", "doomed", rs(0));
    await cp.api.delete("namespaces", "", "doomed");
    await cp.api.patch("replicasets", "doomed", "web", "merge", { spec: { replicas: 1 } });
    await cp.settle();
    const st = (await cp.api.get("replicasets", "doomed", "web"))!.status;
    expect(st.conditions?.[0]).toMatchObject({ type: "ReplicaFailure", status: "True", reason: "FailedCreate" });
    expect(st.conditions[0].message).toContain("because it is being terminated");
  });
});
