import { afterEach, describe, expect, it } from "vitest";
import { readyNode, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { IPAM_CONFIGMAP, IPAM_NAMESPACE, nodeIpamController } from "./nodeipam";

describe("node-ipam controller", () => {
  let cp: TestControlPlane;
  afterEach(async () => cp?.close());

  const podCIDRs = async (): Promise<Record<string, (string | undefined)[]>> =>
    Object.fromEntries((await cp.api.list("nodes")).map((n) => [n.metadata.name, [n.spec?.podCIDR, ...(n.spec?.podCIDRs ?? [])]]));

  it("gives every node its own /24 of the cluster CIDR, in spec.podCIDR and spec.podCIDRs", async () => {
    cp = await startControlPlane({ controllers: [nodeIpamController] });
    for (const n of ["a", "b", "c"]) {
      await cp.api.create("nodes", "", readyNode(n));
      await cp.settle();
    }
    expect(await podCIDRs()).toEqual({
      a: ["10.42.0.0/24", "10.42.0.0/24"],
      b: ["10.42.1.0/24", "10.42.1.0/24"],
      c: ["10.42.2.0/24", "10.42.2.0/24"],
    });
    const record = await cp.api.get("configmaps", IPAM_NAMESPACE, IPAM_CONFIGMAP);
    expect(record?.data).toEqual({ a: "10.42.0.0/24", b: "10.42.1.0/24", c: "10.42.2.0/24" });
  });

  it("takes the configured range, and frees a deleted node's block for the next node", async () => {
    cp = await startControlPlane({ controllers: [nodeIpamController], network: { clusterCIDR: "10.200.0.0/16" } });
    for (const n of ["a", "b"]) await cp.api.create("nodes", "", readyNode(n));
    await cp.settle();
    const before = await podCIDRs();
    expect(new Set([before.a[0], before.b[0]])).toEqual(new Set(["10.200.0.0/24", "10.200.1.0/24"]));
    await cp.api.delete("nodes", "", "a");
    await cp.settle();
    expect((await cp.api.get("configmaps", IPAM_NAMESPACE, IPAM_CONFIGMAP))?.data).toEqual({ b: before.b[0] });
    await cp.api.create("nodes", "", readyNode("c"));
    await cp.settle();
    expect((await podCIDRs()).c[0]).toBe(before.a[0]);
  });

  it("keeps a block set by other means and never hands it out twice", async () => {
    cp = await startControlPlane({ controllers: [nodeIpamController] });
    const pinned = readyNode("pinned");
    pinned.spec = { podCIDR: "10.42.0.0/24", podCIDRs: ["10.42.0.0/24"] };
    await cp.api.create("nodes", "", pinned);
    await cp.api.create("nodes", "", readyNode("fresh"));
    await cp.settle();
    expect(await podCIDRs()).toEqual({ fresh: ["10.42.1.0/24", "10.42.1.0/24"], pinned: ["10.42.0.0/24", "10.42.0.0/24"] });
  });

  it("warns with CIDRNotAvailable when the range is used up, and allocates once a node goes", async () => {
    // a /22 holds four /24s
    cp = await startControlPlane({ controllers: [nodeIpamController], network: { clusterCIDR: "10.42.0.0/22" } });
    for (const n of ["n1", "n2", "n3", "n4", "n5"]) {
      await cp.api.create("nodes", "", readyNode(n));
      await cp.settle();
    }
    const got = await podCIDRs();
    expect(got.n5[0]).toBeUndefined();
    expect(new Set(["n1", "n2", "n3", "n4"].map((n) => got[n][0])).size).toBe(4);
    const events = (await cp.api.list("events", "default")).filter((e) => e.involvedObject?.name === "n5");
    expect(events.map((e) => [e.type, e.reason, e.involvedObject.kind])).toEqual([["Warning", "CIDRNotAvailable", "Node"]]);
    await cp.api.delete("nodes", "", "n2");
    await cp.settle();
    expect((await podCIDRs()).n5[0]).toBe(got.n2[0]);
  });

  it("never gives two nodes one block when reconciles race", async () => {
    cp = await startControlPlane({ controllers: [] });
    const names = Array.from({ length: 12 }, (_, i) => `race-${i}`);
    for (const n of names) await cp.api.create("nodes", "", readyNode(n));
    // every node's reconcile at once, twice over, as several Worker isolates might run them
    for (let round = 0; round < 20; round++) {
      const pending = (await cp.api.list("nodes")).filter((n) => !n.spec?.podCIDR);
      if (!pending.length) break;
      await Promise.all(
        [...pending, ...pending].map((n) => nodeIpamController.reconcile!({ resource: "nodes", namespace: "", name: n.metadata.name! }, cp.manager.ctx)),
      );
    }
    const blocks = Object.values(await podCIDRs()).map((v) => v[0]);
    expect(blocks.every(Boolean)).toBe(true);
    expect(new Set(blocks).size).toBe(names.length);
  });

  it("allocates to a batch of new nodes with one read of the Nodes and one write of the record", async () => {
    cp = await startControlPlane({ controllers: [] });
    const pinned = readyNode("pinned");
    pinned.spec = { podCIDR: "10.42.1.0/24", podCIDRs: ["10.42.1.0/24"] };
    await cp.api.create("nodes", "", pinned);
    const names = Array.from({ length: 30 }, (_, i) => `batch-${i}`);
    for (const n of names) await cp.api.create("nodes", "", readyNode(n));
    const calls: string[] = [];
    const api = new Proxy(cp.manager.ctx.api, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          if (prop === "list" || prop === "update") calls.push(`${String(prop)} ${args[0] as string}`);
          return v.apply(target, args);
        };
      },
    });
    const ctx = { ...cp.manager.ctx, api };
    await nodeIpamController.reconcileBatch!(
      names.map((name) => ({ resource: "nodes", namespace: "", name })),
      ctx,
    );
    expect(calls).toEqual(["list nodes", "update configmaps"]);
    const got = await podCIDRs();
    const blocks = names.map((n) => got[n][0]);
    expect(blocks[0]).toBe("10.42.0.0/24");
    expect(blocks[1]).toBe("10.42.2.0/24"); // the pinned node's block is skipped
    expect(new Set([...blocks, got.pinned[0]]).size).toBe(names.length + 1);
    expect(Object.keys((await cp.api.get("configmaps", IPAM_NAMESPACE, IPAM_CONFIGMAP))!.data)).toHaveLength(names.length + 1);
  });

  it("refuses changing a node's podCIDR once set, and an agent's status update keeps it", async () => {
    cp = await startControlPlane({ controllers: [nodeIpamController] });
    await cp.api.create("nodes", "", readyNode("a"));
    await cp.settle();
    const node = (await cp.api.get("nodes", "", "a"))!;
    await expect(cp.api.update("nodes", { ...node, spec: { ...node.spec, podCIDR: "10.42.9.0/24", podCIDRs: ["10.42.9.0/24"] } })).rejects.toMatchObject({
      code: 422,
      message: expect.stringContaining('spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid'),
    });
    // what the agent sends: the object as read, with a new status, to /status
    await cp.api.updateStatus("nodes", { ...node, spec: {}, status: { ...node.status, capacity: { cpu: "8" } } });
    expect((await cp.api.get("nodes", "", "a"))?.spec.podCIDR).toBe("10.42.0.0/24");
  });
});
