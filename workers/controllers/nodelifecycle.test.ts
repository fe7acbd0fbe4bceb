import { afterEach, describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { fakeClock, type FakeClock, readyNode, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { nodeLifecycleController, OUTAGE_VERDICT_MS } from "./nodelifecycle";

let cp: TestControlPlane;
let clock: FakeClock;
afterEach(async () => cp?.close());

const start = async () => {
  clock = fakeClock();
  cp = await startControlPlane({ controllers: [nodeLifecycleController], now: clock.now });
};

const micro = () => clock.now().toISOString().replace("Z", "000Z");
const renew = async (name: string) => {
  const lease = await cp.api.get("leases", "kube-node-lease", name);
  const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: micro() };
  if (lease) await cp.api.update("leases", { ...lease, spec });
  else await cp.api.create("leases", "kube-node-lease", { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name }, spec });
};
const addNode = async (name: string) => {
  await cp.api.create("nodes", "", readyNode(name, { now: clock.now() }));
  await renew(name);
};
const podOn = async (name: string, node: string, tolerations?: unknown[]) => {
  const p = await cp.api.create("pods", "default", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: { containers: [{ name: "c", image: "i" }], ...(tolerations ? { tolerations } : {}) },
  });
  await cp.api.update("pods", { ...p, spec: { ...p.spec, nodeName: node } });
};
const tick = async (ms: number) => {
  clock.advance(ms);
  await cp.manager.resync();
  await cp.settle();
};
/** An agent that is back: renews its lease and reports Ready with a fresh heartbeat. */
const comeBack = async (name: string) => {
  await renew(name);
  const n = (await cp.api.get("nodes", "", name))!;
  const t = clock
    .now()
    .toISOString()
    .replace(/\.\d+Z$/, "Z");
  await cp.api.updateStatus("nodes", {
    ...n,
    status: { ...n.status, conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: t, lastTransitionTime: t }] },
  });
};
const alive = async (pod: string) => {
  const p = await cp.api.get("pods", "default", pod);
  return !!p && !p.metadata.deletionTimestamp;
};
const node = async (name: string) => (await cp.api.get("nodes", "", name)) as KObject;
const exists = async (pod: string) => !!(await cp.api.get("pods", "default", pod));

describe("node lifecycle controller", () => {
  it("marks a silent node Unknown and taints it; evicts pods after their tolerationSeconds; forgives a node that returns", async () => {
    await start();
    await addNode("n1");
    await podOn("default-tolerations", "n1"); // admission added 30 s unreachable/not-ready tolerations
    await podOn("patient", "n1", [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 3600 }]);
    await podOn("forever", "n1", [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" }]);
    await tick(20_000);
    expect((await node("n1")).spec.taints).toBeUndefined();

    await tick(21_000); // 41 s without a lease renewal
    const n = await node("n1");
    expect(n.status.conditions.find((c: any) => c.type === "Ready")).toMatchObject({
      status: "Unknown",
      reason: "NodeStatusUnknown",
      message: "Kubelet stopped posting node status.",
    });
    expect(n.spec.taints.map((t: any) => `${t.key}:${t.effect}`)).toEqual([
      "node.kubernetes.io/unreachable:NoSchedule",
      "node.kubernetes.io/unreachable:NoExecute",
    ]);
    expect(await exists("default-tolerations")).toBe(true);

    await tick(29_000);
    expect(await exists("default-tolerations")).toBe(true);
    await tick(2_000); // 31 s after the taint: evicted (marked), then gone after its grace period
    const marked = await cp.api.get("pods", "default", "default-tolerations");
    expect(marked === null || !!marked.metadata.deletionTimestamp).toBe(true);
    await tick(31_000);
    expect(await exists("default-tolerations")).toBe(false);
    expect(await exists("patient")).toBe(true);
    expect(await exists("forever")).toBe(true);
    const events = await cp.api.list("events", "default", { fieldSelector: "reason=TaintManagerEviction" });
    expect(events.map((e) => e.message)).toEqual(["Marking for deletion Pod default/default-tolerations"]);

    // the agent comes back: fresh lease and a Ready heartbeat
    await renew("n1");
    const back = await node("n1");
    const t = clock
      .now()
      .toISOString()
      .replace(/\.\d+Z$/, "Z");
    await cp.api.updateStatus("nodes", {
      ...back,
      status: { ...back.status, conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: t, lastTransitionTime: t }] },
    });
    await tick(1_000);
    expect((await node("n1")).spec.taints).toBeUndefined();
    expect(await exists("patient")).toBe(true);
  });

  it("marks the pods of a node that stopped reporting NotReady at once (MarkPodsNotReady)", async () => {
    await start();
    await addNode("n1");
    await addNode("n2");
    await podOn("web", "n1");
    await podOn("other", "n2");
    for (const name of ["web", "other"]) {
      const p = (await cp.api.get("pods", "default", name))!;
      const t = clock
        .now()
        .toISOString()
        .replace(/\.\d+Z$/, "Z");
      await cp.api.updateStatus("pods", {
        ...p,
        status: {
          phase: "Running",
          conditions: [
            { type: "Ready", status: "True", lastTransitionTime: t },
            { type: "PodScheduled", status: "True", lastTransitionTime: t },
          ],
        },
      });
    }
    await tick(20_000);
    await renew("n2");
    await tick(21_000); // n1 silent for 41 s, n2 renewed 21 s ago
    const ready = async (name: string) => (await cp.api.get("pods", "default", name))!.status.conditions.find((c: any) => c.type === "Ready").status;
    expect(await ready("web")).toBe("False");
    expect(await ready("other")).toBe("True");
    const events = await cp.api.list("events", "default", { fieldSelector: "reason=NodeNotReady" });
    expect(events.filter((e) => e.involvedObject.kind === "Pod").map((e) => `${e.involvedObject.name}: ${e.message}`)).toEqual(["web: Node is not ready"]);
  });

  it("evicts nothing when most nodes go dark at once, and resumes when they return", async () => {
    await start();
    for (const n of ["a", "b", "c", "d"]) await addNode(n);
    await podOn("pa", "a");
    await podOn("pb", "b");
    await tick(20_000);
    await renew("d");
    await tick(21_000); // a, b, c silent for 41 s; d renewed 21 s ago
    expect((await node("a")).spec.taints?.length).toBe(2);
    await tick(60_000); // long past tolerationSeconds
    await renew("d");
    await tick(100);
    expect(await alive("pa")).toBe(true);
    expect(await alive("pb")).toBe(true);
    // b and c come back: only a is dark now (1 of 4), so its pods go
    for (const n of ["b", "c", "d"]) await comeBack(n);
    await tick(100);
    expect((await node("b")).spec.taints).toBeUndefined();
    await tick(31_000);
    for (const n of ["b", "c", "d"]) await comeBack(n);
    await tick(31_000);
    expect(await exists("pa")).toBe(false);
    expect(await alive("pb")).toBe(true);
  });

  it("works out the mass-outage verdict once per OUTAGE_VERDICT_MS for all the nodes it checks, not once per node", async () => {
    await start();
    const names = ["a", "b", "c", "d", "e", "f"];
    for (const n of names) await addNode(n);
    await cp.settle();
    clock.advance(41_000); // all silent: every node due, each asking whether this is a mass outage
    let leaseLists = 0;
    const api = new Proxy(cp.manager.ctx.api, {
      get(target, prop, receiver) {
        if (prop === "list")
          return (resource: string, ...rest: unknown[]) => {
            if (resource === "leases") leaseLists++;
            return (target.list as (...a: unknown[]) => unknown)(resource, ...rest);
          };
        const v = Reflect.get(target, prop, receiver);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    // a config of its own: the verdicts are kept per manager (its config), and the control plane's own manager checks these nodes too
    const ctx = { ...cp.manager.ctx, api, config: { ...cp.manager.ctx.config } };
    const check = () => Promise.all(names.map((name) => nodeLifecycleController.reconcile!({ resource: "nodes", namespace: "", name }, ctx)));
    await check();
    await check();
    expect(leaseLists).toBe(1);
    expect((await node("a")).spec.taints?.map((t: { effect: string }) => t.effect)).toEqual(["NoSchedule", "NoExecute"]);
    clock.advance(OUTAGE_VERDICT_MS);
    await check();
    expect(leaseLists).toBe(2);
  });

  it("schedules one expiry check per lease renewal, and none from node checks (no endless chains)", async () => {
    await start();
    await addNode("quiet");
    await cp.settle();
    const sent: number[] = [];
    const ctx = { ...cp.manager.ctx, requeueAfter: (_k: unknown, ms: number) => void sent.push(ms) };
    await nodeLifecycleController.reconcile!({ resource: "nodes", namespace: "", name: "quiet" }, ctx);
    expect(sent).toEqual([]);
    // a lease renewal: the lease watch maps it to its node, and schedules the one check
    const leases = nodeLifecycleController.watches!.find((w) => w.resource === "leases")!;
    expect(await leases.map!({ resource: "leases", namespace: "kube-node-lease", name: "quiet" }, ctx)).toEqual([
      { resource: "nodes", namespace: "", name: "quiet" },
    ]);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeGreaterThan(39_000);
    expect(sent[0]).toBeLessThanOrEqual(40_001);
  });

  it("with a known resync period, a resync schedules a check at the expiry of each lease due before the next resync", async () => {
    clock = fakeClock();
    cp = await startControlPlane({ controllers: [nodeLifecycleController], now: clock.now, config: { resyncIntervalMs: 10_000 } });
    for (const n of ["early", "late"]) await addNode(n);
    await cp.settle();
    const sent: [string[], number][] = [];
    const ctx = { ...cp.manager.ctx, requeueAfter: (k: { name: string }[], ms: number) => void sent.push([k.map((x) => x.name), ms]) };
    // nothing expires within 10 s of now: nothing scheduled
    expect(await nodeLifecycleController.resync!(ctx)).toEqual([]);
    expect(sent).toEqual([]);
    clock.advance(25_000);
    await renew("late");
    clock.advance(8_000); // early: 33 s since its lease, expires in 7 s; late: 8 s, expires in 32 s
    expect(await nodeLifecycleController.resync!(ctx)).toEqual([]);
    expect(sent).toEqual([[["early"], 7_001]]);
    // Workers (cron, no known period): nothing scheduled, as before
    sent.length = 0;
    const cron = { ...ctx, config: { ...ctx.config, resyncIntervalMs: undefined } };
    expect(await nodeLifecycleController.resync!(cron)).toEqual([]);
    expect(sent).toEqual([]);
  });

  it("a resync names only the nodes with something to do (silent, not Ready), and none once they are back and untainted", async () => {
    await start();
    for (const n of ["fine", "silent", "sick"]) await addNode(n);
    await cp.settle();
    const names = async () => (await nodeLifecycleController.resync!(cp.manager.ctx)).map((k) => k.name).sort();
    expect(await names()).toEqual([]);
    clock.advance(30_000);
    await renew("fine");
    await renew("sick");
    const sick = await node("sick");
    await cp.api.updateStatus("nodes", {
      ...sick,
      status: { ...sick.status, conditions: sick.status.conditions.map((c: any) => (c.type === "Ready" ? { ...c, status: "False" } : c)) },
    });
    clock.advance(11_000); // silent: 41 s since its lease, past the 40 s grace
    expect(await names()).toEqual(["sick", "silent"]);
    await tick(0); // tainted now
    expect((await node("silent")).spec.taints?.length).toBeGreaterThan(0);
    await comeBack("silent");
    await comeBack("sick");
    await tick(0);
    expect(await names()).toEqual([]);
    expect((await node("silent")).spec.taints ?? []).toEqual([]);
  });

  it("deletes the pods of a deleted node", async () => {
    await start();
    await addNode("gone");
    await podOn("p", "gone");
    await cp.api.delete("nodes", "", "gone");
    await cp.settle();
    expect(await exists("p")).toBe(false);
  });
});
