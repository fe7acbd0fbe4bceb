import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { garbageCollector } from "./gc";
import { namespaceController } from "./namespace";

const cm = (name: string, owners: { kind: string; name: string; uid: string; apiVersion?: string; blockOwnerDeletion?: boolean }[] = []) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    name,
    ...(owners.length
      ? {
          ownerReferences: owners.map((o) => ({
            apiVersion: o.apiVersion ?? "v1",
            kind: o.kind,
            name: o.name,
            uid: o.uid,
            blockOwnerDeletion: o.blockOwnerDeletion,
          })),
        }
      : {}),
  },
  data: { a: "1" },
});

describe("garbage collector", () => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startControlPlane({ controllers: [garbageCollector, namespaceController] });
  });
  afterEach(async () => cp.close());

  it("Background: deleting the owner deletes its dependents, transitively", async () => {
    const owner = await cp.api.create("configmaps", "default", cm("owner"));
    const child = await cp.api.create("configmaps", "default", cm("child", [{ kind: "ConfigMap", name: "owner", uid: owner.metadata.uid! }]));
    await cp.api.create("configmaps", "default", cm("grandchild", [{ kind: "ConfigMap", name: "child", uid: child.metadata.uid! }]));
    await cp.api.create("configmaps", "default", cm("bystander"));
    await cp.settle();
    expect(await cp.api.get("configmaps", "default", "child")).not.toBeNull();
    await cp.api.delete("configmaps", "default", "owner", { propagationPolicy: "Background" });
    await cp.settle();
    expect(await cp.api.get("configmaps", "default", "child")).toBeNull();
    expect(await cp.api.get("configmaps", "default", "grandchild")).toBeNull();
    expect(await cp.api.get("configmaps", "default", "bystander")).not.toBeNull();
  });

  it("an object with one owner left keeps living, without the dangling reference", async () => {
    const a = await cp.api.create("configmaps", "default", cm("a"));
    const b = await cp.api.create("configmaps", "default", cm("b"));
    await cp.api.create(
      "configmaps",
      "default",
      cm("shared", [
        { kind: "ConfigMap", name: "a", uid: a.metadata.uid! },
        { kind: "ConfigMap", name: "b", uid: b.metadata.uid! },
      ]),
    );
    await cp.api.delete("configmaps", "default", "a");
    await cp.settle();
    const shared = await cp.api.get("configmaps", "default", "shared");
    expect(shared?.metadata.ownerReferences?.map((r) => r.name)).toEqual(["b"]);
  });

  it("Orphan: dependents stay and lose the owner reference; the owner goes", async () => {
    const owner = await cp.api.create("configmaps", "default", cm("owner"));
    await cp.api.create("configmaps", "default", cm("kid", [{ kind: "ConfigMap", name: "owner", uid: owner.metadata.uid! }]));
    await cp.api.delete("configmaps", "default", "owner", { propagationPolicy: "Orphan" });
    await cp.settle();
    expect(await cp.api.get("configmaps", "default", "owner")).toBeNull();
    const kid = await cp.api.get("configmaps", "default", "kid");
    expect(kid).not.toBeNull();
    expect(kid!.metadata.ownerReferences).toBeUndefined();
  });

  it("Foreground: the owner waits (foregroundDeletion finalizer) until blocking dependents are gone", async () => {
    const owner = await cp.api.create("configmaps", "default", cm("owner"));
    // a dependent held by its own finalizer keeps the owner around
    await cp.api.create("configmaps", "default", {
      ...cm("held", [{ kind: "ConfigMap", name: "owner", uid: owner.metadata.uid!, blockOwnerDeletion: true }]),
      metadata: {
        name: "held",
        finalizers: ["example.com/hold"],
        ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid!, blockOwnerDeletion: true }],
      },
    });
    await cp.api.delete("configmaps", "default", "owner", { propagationPolicy: "Foreground" });
    await cp.settle();
    const waiting = await cp.api.get("configmaps", "default", "owner");
    expect(waiting?.metadata.finalizers).toContain("foregroundDeletion");
    const held = await cp.api.get("configmaps", "default", "held");
    expect(held?.metadata.deletionTimestamp).toBeTruthy();
    // release the dependent: it goes, then the owner
    await cp.api.patch("configmaps", "default", "held", "merge", { metadata: { finalizers: null } });
    await cp.settle();
    expect(await cp.api.get("configmaps", "default", "held")).toBeNull();
    expect(await cp.api.get("configmaps", "default", "owner")).toBeNull();
  });

  it("the periodic sweep finds dependents whose owner vanished without a trigger", async () => {
    // a control plane with no controllers running: nothing reacts to the write
    const quiet = await startControlPlane({ controllers: [] });
    try {
      await quiet.api.create("configmaps", "default", cm("stray", [{ kind: "ConfigMap", name: "ghost", uid: "00000000-0000-0000-0000-000000000000" }]));
      expect(await quiet.api.get("configmaps", "default", "stray")).not.toBeNull();
      const keys = await garbageCollector.resync!(quiet.manager.ctx);
      expect(keys).toEqual([{ resource: "configmaps", namespace: "default", name: "stray" }]);
      for (const k of keys) await garbageCollector.reconcile!(k, quiet.manager.ctx);
      expect(await quiet.api.get("configmaps", "default", "stray")).toBeNull();
    } finally {
      await quiet.close();
    }
  });
});

describe("namespace controller", () => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startControlPlane({ controllers: [garbageCollector, namespaceController] });
  });
  afterEach(async () => cp.close());

  it("deleting a namespace deletes its content, then the namespace", async () => {
    await cp.api.create("namespaces", "", { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } });
    await cp.api.create("configmaps", "team", cm("one"));
    await cp.api.create("secrets", "team", { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { a: "b" } });
    await cp.api.create("configmaps", "default", cm("elsewhere"));
    await cp.api.delete("namespaces", "", "team");
    const terminating = await cp.api.get("namespaces", "", "team");
    // content deletion may already have finished in the in-process queue; if not, it is Terminating
    if (terminating) expect(terminating.status?.phase).toBe("Terminating");
    for (let i = 0; i < 50 && (await cp.api.get("namespaces", "", "team")); i++) {
      await cp.settle();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await cp.api.get("namespaces", "", "team")).toBeNull();
    expect(await cp.api.list("configmaps", "team")).toEqual([]);
    expect(await cp.api.get("configmaps", "default", "elsewhere")).not.toBeNull();
  });
});
