/**
 * Which writes send controller work: the real store and resource layer with every
 * controller's declarations (CONTROLLERS), a queue that records what it is given, and
 * a fake clock. A write no controller needs sends nothing: a live Lease's renewal, a
 * Node status re-posted unchanged, an object nobody owns and no controller reconciles.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../node/db";
import { fakeClock, readyNode } from "../../test/controlplane";
import { ControllerClient } from "../controllers/client";
import { CONTROLLERS } from "../controllers";
import { composeControlPlane } from "../compose";
import { queuedKeyString, type WorkQueue } from "../queue";

const clock = fakeClock();
let sent: string[];
let api: ControllerClient;
let close: () => void;

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), "kf-triggers-"));
  const client = await openDatabase(`file:${join(dir, "db.sqlite")}`, { synchronous: "NORMAL" });
  sent = [];
  const queue: WorkQueue = { enqueue: async (keys) => void sent.push(...keys.map((k) => queuedKeyString(k))) };
  const { registry } = composeControlPlane({ client, queue, controllers: CONTROLLERS, now: clock.now, log: () => {} });
  await registry.bootstrap();
  sent = [];
  api = new ControllerClient(registry);
  close = () => {
    client.close();
    rmSync(dir, { recursive: true, force: true });
  };
});
afterEach(() => close());

const micro = () => clock.now().toISOString().replace("Z", "000Z");
const LEASE = "node-lifecycle leases/kube-node-lease/box";

describe("controller work from writes", () => {
  it("a new Lease and the renewal of a lapsed one send work; renewing a live Lease sends none", async () => {
    await api.create("nodes", "", readyNode("box", { now: clock.now() }));
    const lease = await api.create("leases", "kube-node-lease", {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "box" },
      spec: { holderIdentity: "box", leaseDurationSeconds: 40, renewTime: micro() },
    });
    expect(sent).toContain(LEASE);
    sent = [];
    clock.advance(20_000);
    const renewed = await api.update("leases", { ...lease, spec: { ...lease.spec, renewTime: micro() } });
    clock.advance(20_000);
    const again = await api.update("leases", { ...renewed, spec: { ...renewed.spec, renewTime: micro() } });
    expect(sent).toEqual([]);
    // 41 s without a renewal (longer than the 40 s grace): the node is back, node lifecycle hears of it
    clock.advance(41_000);
    await api.update("leases", { ...again, spec: { ...again.spec, renewTime: micro() } });
    expect(sent).toEqual([LEASE]);
  });

  it("a Node status re-posted with only new heartbeat times sends nothing; a changed condition does", async () => {
    const node = await api.create("nodes", "", readyNode("box", { now: clock.now() }));
    sent = [];
    clock.advance(300_000);
    const beat = (n: typeof node, status: string) => ({
      ...n,
      status: { ...n.status, conditions: n.status.conditions.map((c: any) => ({ ...c, status, lastHeartbeatTime: clock.now().toISOString() })) },
    });
    const same = await api.updateStatus("nodes", beat(node, "True"));
    expect(Number(same.metadata.resourceVersion)).toBeGreaterThan(Number(node.metadata.resourceVersion));
    expect(sent).toEqual([]);
    const down = await api.updateStatus("nodes", beat(same, "False"));
    // node lifecycle hears of it, and node-ipam (the node has no block yet)
    expect(sent).toContain("node-lifecycle nodes//box");
    expect(sent).toContain("node-ipam nodes//box");
    // a node with its block: its status changes are none of node-ipam's business (it reads every Node per reconcile)
    const withBlock = await api.update("nodes", { ...down, spec: { ...down.spec, podCIDR: "10.42.7.0/24", podCIDRs: ["10.42.7.0/24"] } });
    sent = [];
    await api.updateStatus("nodes", beat(withBlock, "True"));
    expect(sent).toContain("node-lifecycle nodes//box");
    expect(sent.filter((k) => k.startsWith("node-ipam "))).toEqual([]);
  });

  it("an object no controller reconciles and nobody owns sends nothing; with an owner it goes to the garbage collector", async () => {
    await api.create("configmaps", "default", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "plain" }, data: { a: "1" } });
    expect(sent).toEqual([]);
    const owner = await api.create("configmaps", "default", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "owner" } });
    sent = [];
    await api.create("configmaps", "default", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "owned", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid! }] },
    });
    expect(sent).toEqual(["garbage-collector configmaps/default/owned", "configmaps/default/owner"]);
  });
});
