import { afterEach, describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { readyNode, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { daemonSetController, REVISION_HASH } from "./daemonset";
import { scheduler } from "./scheduler";

const ds = (name: string, podSpec: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): KObject =>
  ({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "monitor:1" }], ...podSpec } },
      ...spec,
    },
  }) as KObject;

describe("daemonset controller", () => {
  let cp: TestControlPlane;
  afterEach(async () => cp?.close());

  const start = async (nodes: KObject[]) => {
    cp = await startControlPlane({ controllers: [daemonSetController, scheduler] });
    for (const n of nodes) await cp.api.create("nodes", "", n);
  };
  const pods = async (name: string) => (await cp.api.list("pods", "default", { labelSelector: `app=${name}` })).filter((p) => !p.metadata.deletionTimestamp);
  const placement = async (name: string) => (await pods(name)).map((p) => p.spec!.nodeName).sort();
  /** as an agent reports a pod that runs and is ready */
  const runAll = async (name: string) => {
    for (const p of await pods(name)) {
      if (p.status?.phase === "Running") continue;
      const t = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      await cp.api.updateStatus("pods", {
        ...p,
        status: { ...p.status, phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: t }] },
      });
    }
    await cp.settle();
  };
  const setLabels = async (node: string, labels: Record<string, string>) => {
    const n = (await cp.api.get("nodes", "", node))!;
    await cp.api.update("nodes", { ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, ...labels } } });
    await cp.settle();
  };

  it("runs one pod on each node its nodeSelector picks, following label changes and new nodes (the book's ssd-monitor)", async () => {
    await start([readyNode("n1", { labels: { disk: "ssd" } }), readyNode("n2"), readyNode("n3")]);
    await cp.api.create("daemonsets", "default", ds("ssd-monitor", { nodeSelector: { disk: "ssd" } }));
    await cp.settle();
    expect(await placement("ssd-monitor")).toEqual(["n1"]);
    const [p] = await pods("ssd-monitor");
    // bound by the scheduler through a node-name affinity, with the daemon tolerations
    expect(p.spec!.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] },
    ]);
    expect(p.spec!.tolerations).toContainEqual({ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" });
    expect(p.spec!.tolerations).toContainEqual({ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" });
    expect(p.metadata.labels?.[REVISION_HASH]).toBeTruthy();

    await setLabels("n2", { disk: "ssd" });
    expect(await placement("ssd-monitor")).toEqual(["n1", "n2"]);
    await setLabels("n1", { disk: "hdd" });
    expect(await placement("ssd-monitor")).toEqual(["n2"]);
    await cp.api.create("nodes", "", readyNode("n4", { labels: { disk: "ssd" } }));
    await cp.settle();
    expect(await placement("ssd-monitor")).toEqual(["n2", "n4"]);
    await runAll("ssd-monitor");
    const d = (await cp.api.get("daemonsets", "default", "ssd-monitor"))!;
    expect(d.status).toMatchObject({
      desiredNumberScheduled: 2,
      currentNumberScheduled: 2,
      numberReady: 2,
      updatedNumberScheduled: 2,
      numberAvailable: 2,
      numberMisscheduled: 0,
    });
  });

  it("skips a node with an untolerated taint, keeps cordoned nodes, and replaces a failed pod", async () => {
    const taint = { key: "dedicated", value: "gpu", effect: "NoSchedule" };
    await start([readyNode("a"), readyNode("b", { taints: [taint] })]);
    const cordoned = readyNode("c");
    cordoned.spec = { unschedulable: true, taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }] };
    await cp.api.create("nodes", "", cordoned);
    await cp.api.create("daemonsets", "default", ds("agent"));
    await cp.settle();
    expect(await placement("agent")).toEqual(["a", "c"]);
    const onA = (await pods("agent")).find((p) => p.spec!.nodeName === "a")!;
    await cp.api.updateStatus("pods", { ...onA, status: { ...onA.status, phase: "Failed" } });
    await cp.settle();
    const again = (await pods("agent")).filter((p) => p.spec!.nodeName === "a" && p.status?.phase !== "Failed");
    expect(again).toHaveLength(1);
    expect(again[0].metadata.uid).not.toBe(onA.metadata.uid);
  });

  it("rolls a new template out one node at a time (maxUnavailable 1)", async () => {
    await start([readyNode("r1"), readyNode("r2"), readyNode("r3")]);
    await cp.api.create("daemonsets", "default", ds("roll"));
    await cp.settle();
    await runAll("roll");
    const d = (await cp.api.get("daemonsets", "default", "roll"))!;
    const oldHash = (await pods("roll"))[0].metadata.labels?.[REVISION_HASH];
    const template = structuredClone(d.spec!.template);
    template.spec.containers[0].image = "monitor:2";
    await cp.api.update("daemonsets", { ...d, spec: { ...d.spec, template } });
    await cp.settle();
    // one old pod went, and its node got a new one; the other two still run the old template
    let ps = await pods("roll");
    expect(ps.filter((p) => p.metadata.labels?.[REVISION_HASH] === oldHash)).toHaveLength(2);
    expect(ps.filter((p) => p.spec!.containers[0].image === "monitor:2")).toHaveLength(1);
    for (let i = 0; i < 3; i++) await runAll("roll");
    ps = await pods("roll");
    expect(ps.map((p) => p.spec!.containers[0].image)).toEqual(["monitor:2", "monitor:2", "monitor:2"]);
    const done = (await cp.api.get("daemonsets", "default", "roll"))!;
    expect(done.status).toMatchObject({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, observedGeneration: 2 });
  });

  it("keeps a ControllerRevision per template, and a rollback (kubectl rollout undo's patch) brings the old one back as the next revision", async () => {
    await start([readyNode("h1"), readyNode("h2")]);
    await cp.api.create("daemonsets", "default", ds("hist"));
    await cp.settle();
    await runAll("hist");
    const revisions = async () =>
      (await cp.api.list("controllerrevisions", "default", { labelSelector: "app=hist" })).sort((a: any, b: any) => a.revision - b.revision) as any[];
    let crs = await revisions();
    expect(crs.map((c) => c.revision)).toEqual([1]);
    const d = (await cp.api.get("daemonsets", "default", "hist"))!;
    // kubectl's shape: a strategic merge patch replacing spec.template, keys sorted as Go marshals them
    expect(Object.keys(crs[0].data.spec.template)).toEqual(["$patch", "metadata", "spec"]);
    expect(crs[0].data.spec.template.$patch).toBe("replace");
    expect(crs[0].data.spec.template.metadata).toEqual({ creationTimestamp: null, labels: { app: "hist" } });
    expect(crs[0].metadata.ownerReferences[0]).toMatchObject({ kind: "DaemonSet", name: "hist", uid: d.metadata.uid, controller: true });
    const hash1 = crs[0].metadata.labels[REVISION_HASH];
    expect(crs[0].metadata.name).toBe(`hist-${hash1}`);
    expect((await pods("hist")).map((p) => p.metadata.labels?.[REVISION_HASH])).toEqual([hash1, hash1]);

    const template = structuredClone(d.spec!.template);
    template.spec.containers[0].image = "monitor:2";
    await cp.api.update("daemonsets", { ...d, spec: { ...d.spec, template } });
    await cp.settle();
    for (let i = 0; i < 3; i++) await runAll("hist");
    crs = await revisions();
    expect(crs.map((c) => c.revision)).toEqual([1, 2]);
    const hash2 = crs[1].metadata.labels[REVISION_HASH];
    expect((await pods("hist")).map((p) => p.metadata.labels?.[REVISION_HASH])).toEqual([hash2, hash2]);
    expect((await cp.api.get("daemonsets", "default", "hist"))!.status).toMatchObject({ updatedNumberScheduled: 2 });

    // kubectl rollout undo: PATCH (strategic) with revision 1's data
    await cp.api.patch("daemonsets", "default", "hist", "strategic", crs[0].data);
    await cp.settle();
    for (let i = 0; i < 3; i++) await runAll("hist");
    crs = await revisions();
    // the first template is current again, as revision 3; no third object
    expect(crs.map((c) => [c.metadata.labels[REVISION_HASH], c.revision])).toEqual([
      [hash2, 2],
      [hash1, 3],
    ]);
    const ps = await pods("hist");
    expect(ps.map((p) => p.spec!.containers[0].image)).toEqual(["monitor:1", "monitor:1"]);
    expect(ps.map((p) => p.metadata.labels?.[REVISION_HASH])).toEqual([hash1, hash1]);
  });

  it("keeps at most revisionHistoryLimit old revisions", async () => {
    await start([readyNode("t1")]);
    await cp.api.create("daemonsets", "default", ds("trunc", {}, { revisionHistoryLimit: 1 }));
    await cp.settle();
    for (const image of ["monitor:2", "monitor:3", "monitor:4"]) {
      await runAll("trunc");
      const d = (await cp.api.get("daemonsets", "default", "trunc"))!;
      const template = structuredClone(d.spec!.template);
      template.spec.containers[0].image = image;
      await cp.api.update("daemonsets", { ...d, spec: { ...d.spec, template } });
      await cp.settle();
      await runAll("trunc");
    }
    await cp.settle();
    const crs = (await cp.api.list("controllerrevisions", "default")) as any[];
    expect(crs.map((c) => c.revision).sort()).toEqual([3, 4]);
  });
});
