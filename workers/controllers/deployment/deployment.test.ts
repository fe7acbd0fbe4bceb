import { afterEach, describe, expect, it } from "vitest";
import { resourceByName } from "../../registry/kinds";
import type { KObject } from "../../../shared/types";
import { type FakeClock, fakeClock, startControlPlane, type TestControlPlane } from "../../../test/controlplane";
import { CONTROLLER_USER } from "../client";
import { deploymentController, resolveFenceposts, sameTemplate, templateHash } from ".";
import { replicaSetController, replicationControllerController } from "../replicaset";

const REV = "deployment.kubernetes.io/revision";

const deployment = (spec: Record<string, unknown> = {}, annotations?: Record<string, string>): KObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", ...(annotations ? { annotations } : {}) },
  spec: {
    replicas: 4,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.26" }] } },
    ...spec,
  },
});

let cp: TestControlPlane;
let clock: FakeClock;
afterEach(async () => cp?.close());

const start = async () => {
  clock = fakeClock();
  cp = await startControlPlane({ controllers: [replicaSetController, replicationControllerController, deploymentController], now: clock.now });
};

const stamp = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");
const depKey = { resource: "deployments", namespace: "default", name: "web" };
const live = async () => (await cp.api.list("pods", "default", { labelSelector: "app=web" })).filter((p) => !p.metadata.deletionTimestamp);
const isReady = (p: KObject) => (p.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
const rss = async () =>
  (await cp.api.list("replicasets", "default", { labelSelector: "app=web" })).sort(
    (a, b) => Number(a.metadata.annotations?.[REV] ?? 0) - Number(b.metadata.annotations?.[REV] ?? 0),
  );
const dep = async () => (await cp.api.get("deployments", "default", "web"))!;
const image = (p: KObject) => p.spec.containers[0].image;
const conditions = (d: KObject) => (d.status?.conditions ?? []).map((c: any) => [c.type, c.status, c.reason]);
const progressing = (d: KObject) => (d.status?.conditions ?? []).find((c: any) => c.type === "Progressing");

/** Play the kubelet for one pod: Running and Ready now. */
const markReady = async (p: KObject) => {
  const t = stamp(clock.now());
  await cp.api.patch(
    "pods",
    "default",
    p.metadata.name!,
    "merge",
    {
      status: {
        phase: "Running",
        conditions: [{ type: "Ready", status: "True", lastTransitionTime: t }],
        containerStatuses: [{ name: "web", ready: true, restartCount: 0, image: image(p), imageID: "", started: true, state: { running: { startedAt: t } } }],
      },
    },
    "status",
  );
};

/** Mark up to `n` not-ready pods ready (those matching `filter`), then settle. */
const kubelet = async (n = Infinity, filter: (p: KObject) => boolean = () => true) => {
  let done = 0;
  for (const p of await live()) {
    if (done >= n) break;
    if (isReady(p) || !filter(p)) continue;
    await markReady(p);
    done++;
  }
  await cp.settle();
  return done;
};

/** What `kubectl rollout status` waits for. */
const rolloutComplete = (d: KObject) =>
  d.status?.observedGeneration >= d.metadata.generation! &&
  d.status?.updatedReplicas === d.spec.replicas &&
  d.status?.replicas === d.spec.replicas &&
  d.status?.availableReplicas === d.spec.replicas &&
  progressing(d)?.reason !== "ProgressDeadlineExceeded";

const finishRollout = async () => {
  for (let i = 0; i < 30 && !rolloutComplete(await dep()); i++) await kubelet();
  expect(rolloutComplete(await dep())).toBe(true);
};

const setImage = (img: string, annotations?: Record<string, string>) =>
  cp.api.patch("deployments", "default", "web", "strategic", {
    ...(annotations ? { metadata: { annotations } } : {}),
    spec: { template: { spec: { containers: [{ name: "web", image: img }] } } },
  });

const scaleSubresource = (replicas: number) =>
  cp.registry.patch(CONTROLLER_USER, resourceByName("deployments"), "default", "web", "merge", { spec: { replicas } }, { subresource: "scale" });

describe("Deployment controller", () => {
  it("creates ReplicaSet <name>-<hash> at revision 1 with N pods, and reports a complete rollout", async () => {
    await start();
    await cp.api.create("deployments", "default", deployment());
    await cp.settle();
    const [rs] = await rss();
    expect(await rss()).toHaveLength(1);
    const d0 = await dep();
    const hash = rs.metadata.labels!["pod-template-hash"];
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(hash).toBe(templateHash(d0.spec.template));
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(rs.metadata.labels).toEqual({ app: "web", "pod-template-hash": hash });
    expect(rs.metadata.ownerReferences).toEqual([
      { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: d0.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect(rs.metadata.annotations).toEqual({ [REV]: "1", "deployment.kubernetes.io/desired-replicas": "4", "deployment.kubernetes.io/max-replicas": "5" });
    expect(rs.spec.selector).toEqual({ matchLabels: { app: "web", "pod-template-hash": hash } });
    expect(rs.spec.template.metadata.labels).toEqual({ app: "web", "pod-template-hash": hash });
    expect(rs.spec.replicas).toBe(4);
    const pods = await live();
    expect(pods).toHaveLength(4);
    expect(pods.every((p) => p.metadata.name!.startsWith(`web-${hash}-`) && p.metadata.labels!["pod-template-hash"] === hash)).toBe(true);
    expect(d0.metadata.annotations?.[REV]).toBe("1");
    expect(d0.status).toMatchObject({ observedGeneration: 1, replicas: 4, updatedReplicas: 4, readyReplicas: 0, availableReplicas: 0, unavailableReplicas: 4 });
    expect(conditions(d0)).toEqual([
      ["Available", "False", "MinimumReplicasUnavailable"],
      ["Progressing", "True", "ReplicaSetUpdated"],
    ]);

    await finishRollout();
    const d = await dep();
    expect(d.status).toMatchObject({ observedGeneration: 1, replicas: 4, updatedReplicas: 4, readyReplicas: 4, availableReplicas: 4, unavailableReplicas: 0 });
    expect(d.status.conditions).toEqual([
      expect.objectContaining({ type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability." }),
      expect.objectContaining({
        type: "Progressing",
        status: "True",
        reason: "NewReplicaSetAvailable",
        message: `ReplicaSet "web-${hash}" has successfully progressed.`,
      }),
    ]);
    const events = await cp.api.list("events", "default", { fieldSelector: "involvedObject.kind=Deployment,reason=ScalingReplicaSet" });
    expect(events.map((e) => e.message)).toEqual([`Scaled up replica set web-${hash} from 0 to 4`]);
    // converged: another reconcile writes nothing
    const rv = d.metadata.resourceVersion;
    expect(await deploymentController.reconcile!(depKey, cp.manager.ctx)).toBeUndefined();
    expect((await dep()).metadata.resourceVersion).toBe(rv);
  });

  for (const [replicas, maxSurge, maxUnavailable] of [
    [4, 1, 1],
    [10, "25%", "25%"],
    [3, 1, 0],
    [5, 0, "40%"],
  ] as const) {
    it(`rolls out ${replicas} replicas within maxSurge=${maxSurge}, maxUnavailable=${maxUnavailable} at every step`, async () => {
      await start();
      const spec = { replicas, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge, maxUnavailable } } };
      await cp.api.create("deployments", "default", deployment(spec));
      await cp.settle();
      await finishRollout();
      const { surge, unavailable } = resolveFenceposts(await dep());
      const [v1] = await rss();

      await setImage("nginx:1.27");
      await cp.settle();
      let steps = 0;
      for (; steps < 100 && !rolloutComplete(await dep()); steps++) {
        const pods = await live();
        expect(pods.length).toBeLessThanOrEqual(replicas + surge);
        expect(pods.filter(isReady).length).toBeGreaterThanOrEqual(replicas - unavailable);
        for (const rs of await rss()) expect(rs.spec.replicas).toBeGreaterThanOrEqual(0);
        // one pod becomes ready per step
        expect(await kubelet(1)).toBe(1);
      }
      expect(steps).toBeGreaterThan(1);
      const d = await dep();
      expect(rolloutComplete(d)).toBe(true);
      expect(d.metadata.annotations?.[REV]).toBe("2");
      expect(d.status).toMatchObject({ replicas, updatedReplicas: replicas, availableReplicas: replicas, readyReplicas: replicas, unavailableReplicas: 0 });
      expect(progressing(d)).toMatchObject({ status: "True", reason: "NewReplicaSetAvailable" });
      const sets = await rss();
      expect(sets.map((s) => [s.metadata.name, s.metadata.annotations![REV], s.spec.replicas])).toEqual([
        [v1.metadata.name, "1", 0],
        [expect.stringMatching(/^web-\w+$/), "2", replicas],
      ]);
      expect((await live()).map(image)).toEqual(Array(replicas).fill("nginx:1.27"));
      const events = (await cp.api.list("events", "default", { fieldSelector: "involvedObject.kind=Deployment,reason=ScalingReplicaSet" })).map(
        (e) => e.message,
      );
      expect(events).toContainEqual(expect.stringMatching(new RegExp(`^Scaled down replica set ${v1.metadata.name} from \\d+ to 0$`)));
      expect(events).toContainEqual(expect.stringMatching(new RegExp(`^Scaled up replica set ${sets[1].metadata.name} from \\d+ to ${replicas}$`)));
    });
  }

  it("rolls back the way kubectl rollout undo does: the revision-1 ReplicaSet is reused as revision 3", async () => {
    await start();
    await cp.api.create("deployments", "default", deployment({ replicas: 2 }, { "kubernetes.io/change-cause": "first" }));
    await cp.settle();
    await finishRollout();
    await setImage("nginx:1.27", { "kubernetes.io/change-cause": "upgrade" });
    await cp.settle();
    await finishRollout();
    const [v1, v2] = await rss();
    expect(v1.metadata.annotations!["kubernetes.io/change-cause"]).toBe("first");
    expect(v2.metadata.annotations!["kubernetes.io/change-cause"]).toBe("upgrade");

    // exactly what kubectl sends: the old template minus pod-template-hash, as Go serializes it
    // (creationTimestamp: null, resources: {}), and the annotations: the Deployment's own
    // revision plus the ReplicaSet's other annotations
    const template = structuredClone(v1.spec.template);
    delete template.metadata.labels["pod-template-hash"];
    template.metadata.creationTimestamp = null;
    for (const c of template.spec.containers) c.resources = {};
    const skip = [
      "kubectl.kubernetes.io/last-applied-configuration",
      REV,
      "deployment.kubernetes.io/revision-history",
      "deployment.kubernetes.io/desired-replicas",
      "deployment.kubernetes.io/max-replicas",
      "deprecated.deployment.rollback.to",
    ];
    const d = await dep();
    const annotations: Record<string, string> = {};
    for (const k of skip) if (d.metadata.annotations?.[k] !== undefined) annotations[k] = d.metadata.annotations[k];
    for (const [k, v] of Object.entries(v1.metadata.annotations ?? {})) if (!skip.includes(k)) annotations[k] = v;
    await cp.api.patch("deployments", "default", "web", "json", [
      { op: "replace", path: "/spec/template", value: template },
      { op: "replace", path: "/metadata/annotations", value: annotations },
    ]);
    await cp.settle();
    await finishRollout();

    const sets = await rss();
    expect(sets).toHaveLength(2); // no third ReplicaSet
    expect(sets.map((s) => [s.metadata.name, s.metadata.annotations![REV], s.spec.replicas])).toEqual([
      [v2.metadata.name, "2", 0],
      [v1.metadata.name, "3", 2],
    ]);
    expect(sets[1].metadata.annotations!["deployment.kubernetes.io/revision-history"]).toBe("1");
    expect(sets[1].metadata.annotations!["kubernetes.io/change-cause"]).toBe("first");
    const after = await dep();
    expect(after.metadata.annotations?.[REV]).toBe("3");
    expect((await live()).map(image)).toEqual(["nginx:1.26", "nginx:1.26"]);
    expect(after.status).toMatchObject({ updatedReplicas: 2, replicas: 2, availableReplicas: 2 });
    expect(after.status.observedGeneration).toBeGreaterThanOrEqual(after.metadata.generation!);
  });

  it("Recreate: scales the old ReplicaSet to 0, waits until its pods are gone, then starts the new one", async () => {
    await start();
    await cp.api.create("deployments", "default", deployment({ replicas: 3, strategy: { type: "Recreate" } }));
    await cp.settle();
    // bound to a node, the pods terminate gracefully (they linger until their node confirms)
    for (const p of await live()) await cp.api.update("pods", { ...p, spec: { ...p.spec, nodeName: "node-1" } });
    await finishRollout();
    await setImage("nginx:1.27");
    await cp.settle();
    let sets = await rss();
    expect(sets.map((s) => s.spec.replicas)).toEqual([0]); // the new ReplicaSet doesn't exist yet
    const terminating = (await cp.api.list("pods", "default", { labelSelector: "app=web" })).filter((p) => p.metadata.deletionTimestamp);
    expect(terminating).toHaveLength(3);
    expect(await live()).toHaveLength(0);
    // Available False while nothing runs (maxUnavailable is 0 for Recreate)
    expect(conditions(await dep())).toContainEqual(["Available", "False", "MinimumReplicasUnavailable"]);
    expect(rolloutComplete(await dep())).toBe(false);

    // the node confirms; the controller looks again on its own within a second
    for (const p of terminating) await cp.api.delete("pods", "default", p.metadata.name!, { gracePeriodSeconds: 0 });
    await cp.settle();
    expect(await rss()).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1300));
    await cp.settle();
    sets = await rss();
    expect(sets.map((s) => [s.metadata.annotations![REV], s.spec.replicas])).toEqual([
      ["1", 0],
      ["2", 3],
    ]);
    expect((await live()).map(image)).toEqual(["nginx:1.27", "nginx:1.27", "nginx:1.27"]);
    await finishRollout();
    const events = (await cp.api.list("events", "default", { fieldSelector: "involvedObject.kind=Deployment,reason=ScalingReplicaSet" })).map((e) => e.message);
    expect(events).toEqual(
      expect.arrayContaining([`Scaled down replica set ${sets[0].metadata.name} from 3 to 0`, `Scaled up replica set ${sets[1].metadata.name} from 0 to 3`]),
    );
  });

  it("paused: no rollout, but scaling still applies; resuming rolls out", async () => {
    await start();
    await cp.api.create("deployments", "default", deployment({ replicas: 2 }));
    await cp.settle();
    await finishRollout();
    await cp.api.patch("deployments", "default", "web", "merge", { spec: { paused: true } });
    await setImage("nginx:2");
    await cp.settle();
    expect(await rss()).toHaveLength(1);
    let d = await dep();
    expect(progressing(d)).toMatchObject({ status: "Unknown", reason: "DeploymentPaused", message: "Deployment is paused" });
    expect(d.status.observedGeneration).toBe(d.metadata.generation);
    expect(d.status.updatedReplicas).toBe(0); // the current template has no ReplicaSet yet

    await scaleSubresource(3);
    await cp.settle();
    expect((await live()).map(image)).toEqual(["nginx:1.26", "nginx:1.26", "nginx:1.26"]);
    expect((await rss())[0].metadata.annotations!["deployment.kubernetes.io/desired-replicas"]).toBe("3");

    await cp.api.patch("deployments", "default", "web", "merge", { spec: { paused: false } });
    await cp.settle();
    d = await dep();
    expect(await rss()).toHaveLength(2);
    expect(["DeploymentResumed", "NewReplicaSetCreated", "ReplicaSetUpdated"]).toContain(progressing(d).reason);
    await finishRollout();
    expect((await live()).map(image)).toEqual(["nginx:2", "nginx:2", "nginx:2"]);
  });

  it("revisionHistoryLimit: 1 keeps one old ReplicaSet", async () => {
    await start();
    await cp.api.create("deployments", "default", deployment({ replicas: 2, revisionHistoryLimit: 1 }));
    await cp.settle();
    await finishRollout();
    for (const img of ["nginx:2", "nginx:3"]) {
      await setImage(img);
      await cp.settle();
      await finishRollout();
    }
    await cp.settle();
    const sets = await rss();
    expect(sets.map((s) => [s.metadata.annotations![REV], s.spec.replicas])).toEqual([
      ["2", 0],
      ["3", 2],
    ]);
  });

  it("reports ProgressDeadlineExceeded when the rollout makes no progress, and recovers when it does", async () => {
    await start();
    await cp.api.create("deployments", "default", deployment({ replicas: 1, progressDeadlineSeconds: 60 }));
    await cp.settle();
    // nothing ever becomes ready: the reconcile asks to come back at the deadline (plus a second)
    const r = await deploymentController.reconcile!(depKey, cp.manager.ctx);
    expect(r).toEqual({ requeueAfterMs: 61_000 });
    clock.advance(30_000);
    await cp.manager.dispatch([depKey]);
    await cp.settle();
    expect(progressing(await dep()).status).toBe("True");
    clock.advance(31_000);
    await cp.manager.dispatch([depKey]);
    await cp.settle();
    let d = await dep();
    expect(progressing(d)).toMatchObject({
      status: "False",
      reason: "ProgressDeadlineExceeded",
      message: `ReplicaSet "${(await rss())[0].metadata.name}" has timed out progressing.`,
    });
    expect(rolloutComplete(d)).toBe(false);
    expect(await deploymentController.reconcile!(depKey, cp.manager.ctx)).toBeUndefined();

    await kubelet();
    d = await dep();
    expect(progressing(d)).toMatchObject({ status: "True", reason: "NewReplicaSetAvailable" });
    expect(rolloutComplete(d)).toBe(true);
  });

  it("scales through the scale subresource", async () => {
    await start();
    await cp.api.create("deployments", "default", deployment({ replicas: 2 }));
    await cp.settle();
    await finishRollout();
    const before = await dep();
    await scaleSubresource(5);
    await cp.settle();
    expect(await live()).toHaveLength(5);
    const [rs] = await rss();
    expect(rs.spec.replicas).toBe(5);
    expect(rs.metadata.annotations).toMatchObject({ "deployment.kubernetes.io/desired-replicas": "5", "deployment.kubernetes.io/max-replicas": "7" });
    await finishRollout();
    const d = await dep();
    expect(d.metadata.generation).toBe(before.metadata.generation! + 1);
    expect(d.status).toMatchObject({ observedGeneration: d.metadata.generation, replicas: 5, updatedReplicas: 5, availableReplicas: 5 });
    const events = (await cp.api.list("events", "default", { fieldSelector: "involvedObject.kind=Deployment,reason=ScalingReplicaSet" })).map((e) => e.message);
    expect(events).toContain(`Scaled up replica set ${rs.metadata.name} from 2 to 5`);

    await scaleSubresource(0);
    await cp.settle();
    expect(await live()).toHaveLength(0);
    expect((await dep()).status).toMatchObject({ replicas: 0, availableReplicas: 0 });
  });

  it("scales proportionally during a rollout", async () => {
    await start();
    await cp.api.create(
      "deployments",
      "default",
      deployment({ replicas: 10, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }),
    );
    await cp.settle();
    await finishRollout();
    const [v1] = await rss();
    const oldHash = v1.metadata.labels!["pod-template-hash"];
    await setImage("nginx:broken");
    await cp.settle();
    // the new pods never become ready; the old ones do
    await kubelet(Infinity, (p) => p.metadata.labels!["pod-template-hash"] === oldHash);
    let sets = await rss();
    expect(sets.map((s) => s.spec.replicas)).toEqual([8, 5]); // 13 = 10 + maxSurge, 8 = 10 - maxUnavailable available

    await scaleSubresource(15);
    await cp.settle();
    // 18 = 15 + 3 allowed; 5 more spread by size: 8→11 and 5→7
    sets = await rss();
    expect(sets.map((s) => s.spec.replicas)).toEqual([11, 7]);
    expect(sets.every((s) => s.metadata.annotations!["deployment.kubernetes.io/desired-replicas"] === "15")).toBe(true);
    await kubelet(Infinity, (p) => p.metadata.labels!["pod-template-hash"] === oldHash);
    expect((await rss()).map((s) => s.spec.replicas)).toEqual([11, 7]);
    expect(await live()).toHaveLength(18);
  });

  it("adopts an orphan ReplicaSet with its template instead of creating one, and retires a mismatched orphan", async () => {
    await start();
    const d = deployment({ replicas: 2 });
    await cp.api.create("replicasets", "default", {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web-manual", labels: { app: "web", "pod-template-hash": "manual" } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web", "pod-template-hash": "manual" } },
        template: { metadata: { labels: { app: "web", "pod-template-hash": "manual" } }, spec: structuredClone(d.spec.template.spec) },
      },
    });
    await cp.settle();
    await cp.api.create("deployments", "default", d);
    await cp.settle();
    let sets = await rss();
    const owner = await dep();
    expect(sets.map((s) => [s.metadata.name, s.metadata.annotations![REV], s.spec.replicas, s.metadata.ownerReferences?.[0]?.uid])).toEqual([
      ["web-manual", "1", 2, owner.metadata.uid],
    ]);
    await finishRollout();

    // an orphan with another template, created later: adopted as an old ReplicaSet and scaled away
    await cp.api.create("replicasets", "default", {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web-stray", labels: { app: "web", "pod-template-hash": "stray" } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web", "pod-template-hash": "stray" } },
        template: { metadata: { labels: { app: "web", "pod-template-hash": "stray" } }, spec: { containers: [{ name: "web", image: "nginx:old" }] } },
      },
    });
    await cp.settle();
    sets = await rss();
    const stray = sets.find((s) => s.metadata.name === "web-stray")!;
    expect(stray.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Deployment", uid: owner.metadata.uid, controller: true });
    expect(stray.spec.replicas).toBe(0);
    expect((await live()).map(image)).toEqual(["nginx:1.26", "nginx:1.26"]);
  });

  it("resolves a ReplicaSet name collision with collisionCount", async () => {
    await start();
    const d = deployment({ replicas: 1 });
    const hash = templateHash(d.spec.template);
    // someone else's ReplicaSet holds the name (its labels don't match the Deployment: not adoptable)
    await cp.api.create("replicasets", "default", {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: `web-${hash}`, labels: { app: "other" } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "other" } },
        template: { metadata: { labels: { app: "other" } }, spec: { containers: [{ name: "x", image: "x" }] } },
      },
    });
    await cp.api.create("deployments", "default", d);
    await cp.settle();
    const got = await dep();
    expect(got.status.collisionCount).toBe(1);
    const sets = await rss();
    expect(sets).toHaveLength(1);
    expect(sets[0].metadata.name).toBe(`web-${templateHash(d.spec.template, 1)}`);
    expect(sets[0].metadata.name).not.toBe(`web-${hash}`);
    await finishRollout();
  });
});

describe("template identity", () => {
  it("ignores pod-template-hash, nulls, empty values and server defaults", () => {
    const a = { metadata: { labels: { app: "x", "pod-template-hash": "abc" } }, spec: { containers: [{ name: "c", image: "i:1", resources: {} }] } };
    const b = {
      metadata: { labels: { app: "x" }, creationTimestamp: null },
      spec: { containers: [{ name: "c", image: "i:1", imagePullPolicy: "IfNotPresent" }], restartPolicy: "Always", dnsPolicy: "ClusterFirst" },
    };
    expect(sameTemplate(a, b)).toBe(true);
    expect(templateHash(a)).toBe(templateHash(b));
    expect(templateHash(a)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(sameTemplate(a, { ...b, spec: { containers: [{ name: "c", image: "i:2" }] } })).toBe(false);
    expect(sameTemplate(a, { ...b, metadata: { labels: { app: "y" } } })).toBe(false);
    expect(templateHash(a, 1)).not.toBe(templateHash(a));
    expect(templateHash(a, 0)).not.toBe(templateHash(a)); // a set collisionCount (even 0) changes the hash, as in Kubernetes
  });

  it("resolves maxSurge (rounding up) and maxUnavailable (rounding down)", () => {
    const d = (replicas: number, maxSurge: unknown, maxUnavailable: unknown): KObject => ({
      metadata: {},
      spec: { replicas, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge, maxUnavailable } } },
    });
    expect(resolveFenceposts(d(10, "25%", "25%"))).toEqual({ surge: 3, unavailable: 2 });
    expect(resolveFenceposts(d(3, "25%", "25%"))).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(d(4, 2, "50%"))).toEqual({ surge: 2, unavailable: 2 });
    expect(resolveFenceposts(d(1, 0, "10%"))).toEqual({ surge: 0, unavailable: 1 }); // never both 0
  });
});
