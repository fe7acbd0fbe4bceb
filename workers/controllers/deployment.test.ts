import { afterEach, describe, expect, it } from "vitest";
import { resourceByName } from "../../shared/resources";
import type { KObject } from "../../shared/types";
import { fakeClock, type FakeClock, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { CONTROLLER_USER } from "./client";
import { deploymentController, sameTemplate, templateHash } from "./deployment";
import { replicaSetController } from "./replicaset";

const deployment = (over: Record<string, unknown> = {}): KObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web" },
  spec: {
    replicas: 4,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.26" }] } },
    ...over,
  },
});

let cp: TestControlPlane;
let clock: FakeClock;
afterEach(async () => cp?.close());

const start = async () => {
  clock = fakeClock();
  cp = await startControlPlane({ controllers: [deploymentController, replicaSetController], now: clock.now });
};

const live = async () => (await cp.api.list("pods", "default", { labelSelector: "app=web" })).filter((p) => !p.metadata.deletionTimestamp);
const rss = async () => (await cp.api.list("replicasets", "default", { labelSelector: "app=web" })).sort((a, b) => Number(a.metadata.annotations!["deployment.kubernetes.io/revision"]) - Number(b.metadata.annotations!["deployment.kubernetes.io/revision"]));
const dep = async () => (await cp.api.get("deployments", "default", "web"))!;

/** Play the kubelet: every pod not yet ready becomes Running and Ready now. */
const kubelet = async () => {
  for (const p of await live()) {
    if ((p.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True")) continue;
    const t = clock.now().toISOString().replace(/\.\d+Z$/, "Z");
    await cp.api.updateStatus("pods", { ...p, status: { ...p.status, phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: t }] } });
  }
  await cp.settle();
};

/** Pods deleted by a scale-down are gone at once here (no graceful deletion without a node). */
const rolloutComplete = (d: KObject) =>
  d.status?.observedGeneration >= d.metadata.generation! &&
  d.status?.updatedReplicas === d.spec.replicas &&
  d.status?.replicas === d.spec.replicas &&
  d.status?.availableReplicas === d.spec.replicas;

describe("Deployment controller", () => {
  it("creates a ReplicaSet per template, rolls within maxSurge/maxUnavailable, and completes", async () => {
    await start();
    await cp.api.create("deployments", "default", deployment({ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
    await cp.settle();
    let sets = await rss();
    expect(sets).toHaveLength(1);
    const hash = sets[0].metadata.labels!["pod-template-hash"];
    expect(sets[0].metadata.name).toBe(`web-${hash}`);
    expect(sets[0].metadata.annotations).toMatchObject({ "deployment.kubernetes.io/revision": "1", "deployment.kubernetes.io/desired-replicas": "4", "deployment.kubernetes.io/max-replicas": "5" });
    expect(sets[0].spec.selector.matchLabels).toEqual({ app: "web", "pod-template-hash": hash });
    expect(await live()).toHaveLength(4);
    await kubelet();
    let d = await dep();
    expect(rolloutComplete(d)).toBe(true);
    expect(d.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    expect(d.status.conditions.map((c: any) => [c.type, c.status, c.reason])).toEqual([
      ["Available", "True", "MinimumReplicasAvailable"],
      ["Progressing", "True", "NewReplicaSetAvailable"],
    ]);

    await cp.api.patch("deployments", "default", "web", "strategic", { spec: { template: { spec: { containers: [{ name: "web", image: "nginx:1.27" }] } } } });
    await cp.settle();
    for (let step = 0; step < 20 && !rolloutComplete(await dep()); step++) {
      const pods = await live();
      const ready = pods.filter((p) => (p.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True"));
      expect(pods.length).toBeLessThanOrEqual(5); // replicas + maxSurge
      expect(ready.length).toBeGreaterThanOrEqual(3); // replicas - maxUnavailable
      await kubelet();
    }
    d = await dep();
    expect(rolloutComplete(d)).toBe(true);
    sets = await rss();
    expect(sets.map((s) => [s.metadata.annotations!["deployment.kubernetes.io/revision"], s.spec.replicas])).toEqual([["1", 0], ["2", 4]]);
    expect((await live()).every((p) => p.spec.containers[0].image === "nginx:1.27")).toBe(true);
    expect(d.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("2");
    const events = await cp.api.list("events", "default", { fieldSelector: "involvedObject.kind=Deployment,reason=ScalingReplicaSet" });
    expect(events.length).toBeGreaterThan(2);
  });

  it("rolls back the way kubectl rollout undo does: the old ReplicaSet is reused as the newest revision", async () => {
    await start();
    await cp.api.create("deployments", "default", deployment({ replicas: 2 }));
    await cp.settle();
    await kubelet();
    await cp.api.patch("deployments", "default", "web", "strategic", { spec: { template: { spec: { containers: [{ name: "web", image: "nginx:1.27" }] } } } });
    for (let i = 0; i < 10 && !rolloutComplete(await dep()); i++) await kubelet();
    const [v1] = await rss();
    // what kubectl sends: the old template minus pod-template-hash, with kubectl's null/empty noise
    const template = structuredClone(v1.spec.template);
    delete template.metadata.labels["pod-template-hash"];
    template.metadata.creationTimestamp = null;
    template.spec.containers[0].resources = {};
    await cp.api.patch("deployments", "default", "web", "json", [
      { op: "replace", path: "/spec/template", value: template },
      { op: "replace", path: "/metadata/annotations", value: { "deployment.kubernetes.io/revision": "2" } },
    ]);
    for (let i = 0; i < 10 && !rolloutComplete(await dep()); i++) await kubelet();
    const sets = await rss();
    expect(sets).toHaveLength(2);
    expect(sets.map((s) => [s.metadata.name, s.metadata.annotations!["deployment.kubernetes.io/revision"], s.spec.replicas])).toEqual([
      [expect.any(String), "2", 0],
      [v1.metadata.name, "3", 2],
    ]);
    expect((await dep()).metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
  });

  it("Recreate stops every old pod before starting new ones", async () => {
    await start();
    await cp.api.create("deployments", "default", deployment({ replicas: 3, strategy: { type: "Recreate" } }));
    await cp.settle();
    await kubelet();
    await cp.api.patch("deployments", "default", "web", "strategic", { spec: { template: { spec: { containers: [{ name: "web", image: "nginx:1.27" }] } } } });
    await cp.settle();
    const images = new Set((await live()).map((p) => p.spec.containers[0].image));
    expect(images.size).toBeLessThanOrEqual(1);
    for (let i = 0; i < 10 && !rolloutComplete(await dep()); i++) await kubelet();
    expect((await live()).map((p) => p.spec.containers[0].image)).toEqual(["nginx:1.27", "nginx:1.27", "nginx:1.27"]);
  });

  it("pauses, scales through the scale subresource, and trims history", async () => {
    await start();
    await cp.api.create("deployments", "default", deployment({ replicas: 2, revisionHistoryLimit: 1 }));
    await cp.settle();
    await kubelet();
    await cp.api.patch("deployments", "default", "web", "merge", { spec: { paused: true } });
    await cp.api.patch("deployments", "default", "web", "strategic", { spec: { template: { spec: { containers: [{ name: "web", image: "nginx:2" }] } } } });
    await cp.settle();
    expect(await rss()).toHaveLength(1);
    expect((await dep()).status.conditions.find((c: any) => c.type === "Progressing").reason).toBe("DeploymentPaused");
    await cp.registry.patch(CONTROLLER_USER, resourceByName("deployments"), "default", "web", "merge", { spec: { replicas: 3 } }, { subresource: "scale" });
    await cp.settle();
    expect(await live()).toHaveLength(3);
    await cp.api.patch("deployments", "default", "web", "merge", { spec: { paused: false } });
    for (let i = 0; i < 10 && !rolloutComplete(await dep()); i++) await kubelet();
    await cp.api.patch("deployments", "default", "web", "strategic", { spec: { template: { spec: { containers: [{ name: "web", image: "nginx:3" }] } } } });
    for (let i = 0; i < 10 && !rolloutComplete(await dep()); i++) await kubelet();
    const sets = await rss();
    // revision 1 went beyond the history limit of 1 old ReplicaSet
    expect(sets.map((s) => s.metadata.annotations!["deployment.kubernetes.io/revision"])).toEqual(["2", "3"]);
  });

  it("reports ProgressDeadlineExceeded when the rollout stalls", async () => {
    await start();
    await cp.api.create("deployments", "default", deployment({ replicas: 1, progressDeadlineSeconds: 60 }));
    await cp.settle();
    // nothing ever becomes ready
    clock.advance(61_000);
    await cp.manager.dispatch([{ resource: "deployments", namespace: "default", name: "web" }]);
    await cp.settle();
    const p = (await dep()).status.conditions.find((c: any) => c.type === "Progressing");
    expect(p).toMatchObject({ status: "False", reason: "ProgressDeadlineExceeded" });
    expect(p.message).toMatch(/^ReplicaSet "web-\w+" has timed out progressing\.$/);
  });
});

describe("template identity", () => {
  it("ignores pod-template-hash, nulls and empty values", () => {
    const a = { metadata: { labels: { app: "x", "pod-template-hash": "abc" } }, spec: { containers: [{ name: "c", image: "i", resources: {} }] } };
    const b = { metadata: { labels: { app: "x" }, creationTimestamp: null }, spec: { containers: [{ name: "c", image: "i" }] } };
    expect(sameTemplate(a, b)).toBe(true);
    expect(templateHash(a)).toBe(templateHash(b));
    expect(templateHash(a)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(sameTemplate(a, { ...b, spec: { containers: [{ name: "c", image: "j" }] } })).toBe(false);
    expect(templateHash(a, 1)).not.toBe(templateHash(a));
  });
});
