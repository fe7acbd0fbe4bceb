import { afterEach, describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { type FakeClock, fakeClock, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { deploymentController } from "./deployment";
import { SubrequestBudgetExhausted } from "./manager";
import { lessValuable, podDeletionOrder, replicaSetController, replicationControllerController } from "./replicaset";

const CONTROLLERS = [replicaSetController, replicationControllerController, deploymentController];

const rc = (replicas: number): KObject => ({
  apiVersion: "v1",
  kind: "ReplicationController",
  metadata: { name: "kubia" },
  spec: {
    replicas,
    selector: { app: "kubia" },
    template: { metadata: { labels: { app: "kubia" } }, spec: { containers: [{ name: "kubia", image: "luksa/kubia" }] } },
  },
});
const rs = (replicas: number, minReadySeconds = 0): KObject => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name: "web" },
  spec: {
    replicas,
    minReadySeconds,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web", tier: "fe" }, annotations: { note: "from-template" } },
      spec: { containers: [{ name: "web", image: "nginx" }] },
    },
  },
});

let cp: TestControlPlane;
let clock: FakeClock;
afterEach(async () => cp?.close());

const start = async () => {
  clock = fakeClock();
  cp = await startControlPlane({ controllers: CONTROLLERS, now: clock.now });
};

const stamp = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");
const pods = async (sel: string) => (await cp.api.list("pods", "default", { labelSelector: sel })).filter((p) => !p.metadata.deletionTimestamp);
const rsKey = { resource: "replicasets", namespace: "default", name: "web" };

/** Play scheduler and kubelet: bind the pod (optional), then report it Running and Ready since `at`. */
const markReady = async (name: string, at: Date, nodeName?: string) => {
  if (nodeName) {
    const pod = (await cp.api.get("pods", "default", name))!;
    if (!pod.spec.nodeName) await cp.api.update("pods", { ...pod, spec: { ...pod.spec, nodeName } });
  }
  await cp.api.patch(
    "pods",
    "default",
    name,
    "merge",
    {
      status: {
        phase: "Running",
        conditions: [{ type: "Ready", status: "True", lastTransitionTime: stamp(at) }],
        containerStatuses: [{ name: "c", ready: true, restartCount: 0, image: "i", imageID: "", started: true, state: { running: { startedAt: stamp(at) } } }],
      },
    },
    "status",
  );
};

const bind = async (name: string, nodeName: string) => {
  const pod = (await cp.api.get("pods", "default", name))!;
  await cp.api.update("pods", { ...pod, spec: { ...pod.spec, nodeName } });
};

describe("ReplicationController", () => {
  it("keeps N pods: a deleted pod is replaced", async () => {
    await start();
    await cp.api.create("replicationcontrollers", "default", rc(3));
    await cp.settle();
    const ps = await pods("app=kubia");
    expect(ps).toHaveLength(3);
    const owner = (await cp.api.get("replicationcontrollers", "default", "kubia"))!;
    for (const p of ps) {
      expect(p.metadata.name).toMatch(/^kubia-[a-z0-9]{5}$/);
      expect(p.metadata.generateName).toBe("kubia-");
      expect(p.metadata.ownerReferences).toEqual([
        { apiVersion: "v1", kind: "ReplicationController", name: "kubia", uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
      expect(p.spec.containers[0].image).toBe("luksa/kubia");
    }
    const victim = ps[0].metadata.name!;
    await cp.api.delete("pods", "default", victim);
    await cp.settle();
    const after = await pods("app=kubia");
    expect(after).toHaveLength(3);
    expect(after.map((p) => p.metadata.name)).not.toContain(victim);
    const events = await cp.api.list("events", "default", { fieldSelector: "involvedObject.name=kubia,reason=SuccessfulCreate" });
    expect(events.map((e) => e.message).sort()).toEqual(
      [...ps, ...after]
        .map((p) => `Created pod: ${p.metadata.name}`)
        .filter((m, i, a) => a.indexOf(m) === i)
        .sort(),
    );
  });

  it("scales 3→5→1 deleting the least valuable pods first (unscheduled, then pending, then the most recently ready)", async () => {
    await start();
    await cp.api.create("replicationcontrollers", "default", rc(3));
    await cp.settle();
    await cp.api.patch("replicationcontrollers", "default", "kubia", "merge", { spec: { replicas: 5 } });
    await cp.settle();
    const ps = await pods("app=kubia");
    expect(ps).toHaveLength(5);
    const [a, b, c] = ps.map((p) => p.metadata.name!);
    await markReady(a, new Date(clock.now().getTime() - 60_000), "node-1"); // ready for a minute
    await markReady(b, clock.now(), "node-2"); // just became ready
    await bind(c, "node-3"); // scheduled, still Pending
    await cp.settle();

    await cp.api.patch("replicationcontrollers", "default", "kubia", "merge", { spec: { replicas: 2 } });
    await cp.settle();
    expect((await pods("app=kubia")).map((p) => p.metadata.name).sort()).toEqual([a, b].sort());
    await cp.api.patch("replicationcontrollers", "default", "kubia", "merge", { spec: { replicas: 1 } });
    await cp.settle();
    expect((await pods("app=kubia")).map((p) => p.metadata.name)).toEqual([a]);

    const st = (await cp.api.get("replicationcontrollers", "default", "kubia"))!.status;
    expect(st).toMatchObject({ replicas: 1, fullyLabeledReplicas: 1, readyReplicas: 1, availableReplicas: 1, observedGeneration: 4 });
    const deleted = await cp.api.list("events", "default", { fieldSelector: "involvedObject.name=kubia,reason=SuccessfulDelete" });
    expect(deleted.map((e) => e.message)).toContain(`Deleted pod: ${b}`);
    expect(deleted).toHaveLength(4);
  });

  it("adopts matching orphans, leaves other controllers' pods alone, and releases pods relabelled away", async () => {
    await start();
    const pod = (name: string, extra: Partial<KObject["metadata"]> = {}): KObject => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, labels: { app: "kubia" }, ...extra },
      spec: { containers: [{ name: "c", image: "i" }] },
    });
    await cp.api.create("pods", "default", pod("orphan"));
    // owned by someone else's controller: not ours to take
    await cp.api.create(
      "pods",
      "default",
      pod("taken", { ownerReferences: [{ apiVersion: "v1", kind: "ReplicationController", name: "other", uid: "0000-other", controller: true }] }),
    );
    // a non-controller reference does not make a pod owned
    await cp.api.create("pods", "default", pod("shared", { ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "cfg", uid: "0000-cfg" }] }));
    await cp.api.create("replicationcontrollers", "default", rc(2));
    await cp.settle();

    const owner = (await cp.api.get("replicationcontrollers", "default", "kubia"))!;
    const controlled = (await pods("app=kubia")).filter((p) => p.metadata.ownerReferences?.some((r) => r.controller && r.uid === owner.metadata.uid));
    expect(controlled.map((p) => p.metadata.name).sort()).toEqual(["orphan", "shared"]);
    expect((await cp.api.get("pods", "default", "shared"))!.metadata.ownerReferences!.map((r) => r.kind)).toEqual(["ConfigMap", "ReplicationController"]);
    expect((await cp.api.get("pods", "default", "taken"))!.metadata.ownerReferences!.map((r) => r.uid)).toEqual(["0000-other"]);

    await cp.api.patch("pods", "default", "orphan", "merge", { metadata: { labels: { app: "debug" } } });
    await cp.settle();
    expect((await cp.api.get("pods", "default", "orphan"))!.metadata.ownerReferences).toBeUndefined();
    const mine = (await pods("app=kubia")).filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid));
    expect(mine).toHaveLength(2); // a replacement was created for the released pod
    expect(mine.map((p) => p.metadata.name)).toContain("shared");
  });
});

describe("ReplicaSet", () => {
  it("creates pods from the template and counts ready and available (minReadySeconds) replicas", async () => {
    await start();
    // an orphan with only the selector's labels: adopted, but not "fully labeled"
    await cp.api.create("pods", "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "partial", labels: { app: "web" } },
      spec: { containers: [{ name: "c", image: "i" }] },
    });
    await cp.api.create("replicasets", "default", rs(3, 30));
    await cp.settle();
    const ps = await pods("app=web");
    expect(ps).toHaveLength(3);
    const made = ps.filter((p) => p.metadata.name !== "partial");
    expect(made.every((p) => p.metadata.labels?.tier === "fe" && p.metadata.annotations?.note === "from-template")).toBe(true);
    let st = (await cp.api.get("replicasets", "default", "web"))!.status;
    expect(st).toMatchObject({ replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 });

    const t0 = clock.now();
    for (const p of ps) await markReady(p.metadata.name!, t0, "n1");
    await cp.settle();
    st = (await cp.api.get("replicasets", "default", "web"))!.status;
    expect(st).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 0 });
    // the reconcile asks to come back when the pods become available
    const r = await replicaSetController.reconcile!(rsKey, cp.manager.ctx);
    expect(r).toEqual({ requeueAfterMs: 30_001 });

    clock.advance(20_000);
    await cp.manager.dispatch([rsKey]);
    await cp.settle();
    expect((await cp.api.get("replicasets", "default", "web"))!.status.availableReplicas).toBe(0);
    clock.advance(11_000);
    await cp.manager.dispatch([rsKey]);
    await cp.settle();
    st = (await cp.api.get("replicasets", "default", "web"))!.status;
    expect(st).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(await replicaSetController.reconcile!(rsKey, cp.manager.ctx)).toBeUndefined();
  });

  it("writes status only when it changed", async () => {
    await start();
    await cp.api.create("replicasets", "default", rs(2));
    await cp.settle();
    const before = (await cp.api.get("replicasets", "default", "web"))!.metadata.resourceVersion;
    await replicaSetController.reconcile!(rsKey, cp.manager.ctx);
    await replicaSetController.reconcile!(rsKey, cp.manager.ctx);
    expect((await cp.api.get("replicasets", "default", "web"))!.metadata.resourceVersion).toBe(before);
  });

  it("never ends with more pods than replicas when the same key is delivered twice at once", async () => {
    await start();
    await cp.api.create("replicasets", "default", rs(4));
    // race the queue's own delivery with two more (the manager runs one reconcile per key at a time)
    await Promise.all([cp.manager.dispatch([rsKey]), cp.manager.dispatch([rsKey])]);
    expect((await pods("app=web")).length).toBeLessThanOrEqual(4);
    await cp.settle();
    expect(await pods("app=web")).toHaveLength(4);

    // and scaling down concurrently never deletes more than needed
    await cp.api.patch("replicasets", "default", "web", "merge", { spec: { replicas: 1 } });
    await Promise.all([cp.manager.dispatch([rsKey]), cp.manager.dispatch([rsKey])]);
    await cp.settle();
    expect(await pods("app=web")).toHaveLength(1);
    expect((await cp.api.get("replicasets", "default", "web"))!.status).toMatchObject({ replicas: 1, observedGeneration: 2 });
  });

  it("reports ReplicaFailure when pods cannot be created", async () => {
    // no namespace controller: the namespace stays Terminating, where creates are forbidden
    await start();
    await cp.api.create("namespaces", "", { apiVersion: "v1", kind: "Namespace", metadata: { name: "doomed" } });
    await cp.api.create("replicasets", "doomed", rs(0));
    await cp.api.delete("namespaces", "", "doomed");
    await cp.api.patch("replicasets", "doomed", "web", "merge", { spec: { replicas: 3 } });
    await cp.settle();
    const got = (await cp.api.get("replicasets", "doomed", "web"))!;
    expect(got.status.conditions).toEqual([
      {
        type: "ReplicaFailure",
        status: "True",
        lastTransitionTime: stamp(clock.now()),
        reason: "FailedCreate",
        message: expect.stringContaining("because it is being terminated"),
      },
    ]);
    expect(got.status.replicas).toBe(0);
    // slow start: one failed create, not three
    expect(await replicaSetController.reconcile!({ resource: "replicasets", namespace: "doomed", name: "web" }, cp.manager.ctx)).toEqual({
      requeueAfterMs: 5000,
    });
  });

  it("hands a create refused by the subrequest budget back (no FailedCreate, no ReplicaFailure), and the next run goes on", async () => {
    // no controllers in the manager: the reconciles below are the only ones
    clock = fakeClock();
    cp = await startControlPlane({ controllers: [], now: clock.now });
    await cp.api.create("replicasets", "default", rs(6));
    // a Worker's invocation with a budget for one pod: the second create is refused, as workers/runtime.ts refuses it (wrapped by the libSQL client)
    let budget = 1;
    const api = new Proxy(cp.manager.ctx.api, {
      get: (t, p) =>
        p === "create"
          ? (resource: string, ...rest: unknown[]) =>
              resource === "pods" && budget-- <= 0
                ? Promise.reject(new Error("fetch failed", { cause: new SubrequestBudgetExhausted(42, 50) }))
                : (t.create as (...a: unknown[]) => Promise<KObject>)(resource, ...rest)
          : Reflect.get(t, p),
    });
    const refused = replicaSetController.reconcile!(rsKey, { ...cp.manager.ctx, api });
    // thrown, so that the manager sends the key back at once, counting no failure (not a 5-s retry after a FailedCreate)
    await expect(refused).rejects.toThrow("fetch failed");
    expect(await pods("app=web")).toHaveLength(1);
    const events = await cp.api.list("events", "default");
    expect(events.map((e) => e.reason)).toEqual(["SuccessfulCreate"]);
    expect((await cp.api.get("replicasets", "default", "web"))!.status?.conditions).toBeUndefined();

    // the next invocation's budget: the rest, slow start from the pod that exists
    budget = 100;
    expect(await replicaSetController.reconcile!(rsKey, cp.manager.ctx)).toEqual({ acted: true });
    expect(await pods("app=web")).toHaveLength(6);
    const got = (await cp.api.get("replicasets", "default", "web"))!;
    expect(got.status).toMatchObject({ replicas: 6 });
    expect(got.status.conditions).toBeUndefined();
  });

  it("does nothing for a ReplicaSet being deleted", async () => {
    await start();
    await cp.api.create("replicasets", "default", { ...rs(2), metadata: { name: "web", finalizers: ["example.com/hold"] } });
    await cp.settle();
    const [first] = await pods("app=web");
    await cp.api.delete("replicasets", "default", "web");
    await cp.api.delete("pods", "default", first.metadata.name!);
    await cp.settle();
    expect(await pods("app=web")).toHaveLength(1);
  });
});

describe("scale-down order", () => {
  const p = (name: string, o: { node?: string; phase?: string; readySince?: string; restarts?: number; created?: string; cost?: string } = {}): KObject => ({
    metadata: {
      name,
      creationTimestamp: o.created ?? "2026-01-01T00:00:00Z",
      ...(o.cost ? { annotations: { "controller.kubernetes.io/pod-deletion-cost": o.cost } } : {}),
    },
    spec: o.node ? { nodeName: o.node } : {},
    status: {
      phase: o.phase ?? "Pending",
      ...(o.readySince ? { conditions: [{ type: "Ready", status: "True", lastTransitionTime: o.readySince }] } : {}),
      ...(o.restarts !== undefined ? { containerStatuses: [{ name: "c", restartCount: o.restarts }] } : {}),
    },
  });

  it("follows Kubernetes' ActivePods ordering", () => {
    const pods = [
      p("ready-long", { node: "n", phase: "Running", readySince: "2026-01-01T00:00:00Z" }),
      p("ready-recent", { node: "n", phase: "Running", readySince: "2026-01-01T00:05:00Z" }),
      p("running-unready", { node: "n", phase: "Running" }),
      p("unknown", { node: "n", phase: "Unknown" }),
      p("pending-assigned", { node: "n" }),
      p("unassigned", {}),
    ];
    expect(
      [...pods]
        .reverse()
        .sort(lessValuable)
        .map((x) => x.metadata.name),
    ).toEqual(["unassigned", "pending-assigned", "unknown", "running-unready", "ready-recent", "ready-long"]);

    // more restarts first, then newer first
    const same = { node: "n", phase: "Running" };
    const order = [
      p("old", { ...same, created: "2026-01-01T00:00:00Z" }),
      p("new", { ...same, created: "2026-01-02T00:00:00Z" }),
      p("crashy", { ...same, restarts: 5 }),
    ].sort(lessValuable);
    expect(order.map((x) => x.metadata.name)).toEqual(["crashy", "new", "old"]);

    // a lower deletion cost goes first; then pods doubled up on a node
    expect([p("keep", { ...same, cost: "100" }), p("cheap", same)].sort(lessValuable).map((x) => x.metadata.name)).toEqual(["cheap", "keep"]);
    const ranked = [p("alone", { node: "a", phase: "Running" }), p("crowded", { node: "b", phase: "Running" })].sort(
      podDeletionOrder((x) => (x.spec.nodeName === "b" ? 3 : 1)),
    );
    expect(ranked.map((x) => x.metadata.name)).toEqual(["crowded", "alone"]);
  });
});
