import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { resourceByName } from "../registry/kinds";
import { SYSTEM_USER } from "../registry/user";
import { startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { disruptionController } from "./disruption";
import { replicaSetController } from "./replicaset";

const rs = (name: string, replicas: number): KObject =>
  ({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "web" }] } },
    },
  }) as KObject;

const pdb = (name: string, spec: Record<string, unknown>): KObject =>
  ({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name }, spec: { selector: { matchLabels: { app: "web" } }, ...spec } }) as KObject;

describe("disruption budgets and evictions", () => {
  let cp: TestControlPlane;
  afterEach(async () => cp?.close());

  const pods = async () => (await cp.api.list("pods", "default", { labelSelector: "app=web" })).filter((p) => !p.metadata.deletionTimestamp);
  const readyAll = async () => {
    for (const p of await pods()) {
      if (p.status?.conditions?.some((c: any) => c.type === "Ready")) continue;
      const t = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      await cp.api.updateStatus("pods", {
        ...p,
        status: { ...p.status, phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: t }] },
      });
    }
    await cp.settle();
  };
  const evict = (name: string) => cp.registry.evictions.evict(SYSTEM_USER, "default", name, { metadata: { name } }, {});
  const budget = async (name: string) => (await cp.api.get("poddisruptionbudgets", "default", name))!.status;

  it("keeps the status a budget needs, and evicts only what it allows", async () => {
    cp = await startControlPlane({ controllers: [disruptionController, replicaSetController] });
    await cp.api.create("replicasets", "default", rs("web", 3));
    await cp.settle();
    await readyAll();
    await cp.api.create("poddisruptionbudgets", "default", pdb("web-pdb", { minAvailable: 2 }));
    await cp.settle();
    expect(await budget("web-pdb")).toMatchObject({ currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1, observedGeneration: 1 });
    expect((await budget("web-pdb")).conditions[0]).toMatchObject({ type: "DisruptionAllowed", status: "True", reason: "SufficientPods" });

    const [first, second] = await pods();
    await evict(first.metadata.name!);
    expect(await cp.api.get("pods", "default", first.metadata.name!)).toBeNull();
    // the replacement isn't ready yet: no disruption left
    await cp.settle();
    expect(await budget("web-pdb")).toMatchObject({ currentHealthy: 2, disruptionsAllowed: 0 });
    const refused = await evict(second.metadata.name!).catch((e) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused.code).toBe(429);
    expect(refused.reason).toBe("TooManyRequests");
    expect(refused.message).toBe("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(refused.details.causes[0]).toEqual({
      reason: "DisruptionBudget",
      message: "The disruption budget web-pdb needs 2 healthy pods and has 2 currently",
    });
    expect(await cp.api.get("pods", "default", second.metadata.name!)).not.toBeNull();
    // the replacement is ready: one more may go
    await readyAll();
    expect((await budget("web-pdb")).disruptionsAllowed).toBe(1);
    await evict(second.metadata.name!);
    expect(await cp.api.get("pods", "default", second.metadata.name!)).toBeNull();
  });

  it("counts the controllers' replicas for a percentage, lets a not-ready pod go while the budget holds, and refuses two budgets", async () => {
    cp = await startControlPlane({ controllers: [disruptionController, replicaSetController] });
    await cp.api.create("replicasets", "default", rs("web", 4));
    await cp.settle();
    await cp.api.create("poddisruptionbudgets", "default", pdb("half", { maxUnavailable: "50%" }));
    await cp.settle();
    // nothing ready yet: expected 4 (the ReplicaSet's replicas), 2 needed, 0 healthy
    expect(await budget("half")).toMatchObject({ expectedPods: 4, desiredHealthy: 2, currentHealthy: 0, disruptionsAllowed: 0 });
    const [p] = await pods();
    // a not-ready pod while the budget's healthy pods don't suffice: refused
    expect((await evict(p.metadata.name!).catch((e) => e)).code).toBe(429);
    await readyAll();
    expect(await budget("half")).toMatchObject({ currentHealthy: 4, disruptionsAllowed: 2 });
    await cp.api.create("poddisruptionbudgets", "default", pdb("another", { minAvailable: 1 }));
    await cp.settle();
    const two = await evict((await pods())[0].metadata.name!).catch((e) => e);
    expect(two.code).toBe(500);
    expect(two.message).toBe("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
  });

  it("validates budgets", async () => {
    cp = await startControlPlane({ controllers: [] });
    const e = await cp.registry
      .create(SYSTEM_USER, resourceByName("poddisruptionbudgets"), "default", pdb("both", { minAvailable: 1, maxUnavailable: 1 }))
      .catch((x) => x);
    expect(e.code).toBe(422);
    expect(e.message).toContain("minAvailable and maxUnavailable cannot be both set");
    const pct = await cp.registry.create(SYSTEM_USER, resourceByName("poddisruptionbudgets"), "default", pdb("pct", { minAvailable: "150%" })).catch((x) => x);
    expect(pct.message).toContain('spec.minAvailable: Invalid value: "150%": must not be greater than 100%');
  });
});
