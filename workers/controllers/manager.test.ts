import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ObjectKey } from "../../shared/types";
import { startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { keyString, type WorkQueue } from "../queue";
import { BUSY_REQUEUE_MS, type Controller, ControllerManager } from "./manager";

/** A promise to resolve from outside. */
const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

const key = (resource: string, name: string, namespace = "default"): ObjectKey => ({ resource, namespace, name });

let cp: TestControlPlane;
let sent: { keys: ObjectKey[]; delayMs?: number }[];
/** a manager of its own over the real resource layer, with a queue that only records what is sent back */
const manager = (controllers: Controller[]) => {
  const queue: WorkQueue = { enqueue: async (keys, opts) => void sent.push({ keys, delayMs: opts?.delayMs }) };
  return new ControllerManager({ registry: cp.registry, queue, controllers, log: () => {} });
};

beforeEach(async () => {
  cp = await startControlPlane({ controllers: [] });
  sent = [];
});
afterEach(async () => cp?.close());

describe("controller manager", () => {
  it("maps secondary keys to primary keys (reading through the client), de-duplicated, and hands reconcile only primary keys", async () => {
    // pods name their Service in a label; the watch reads the pod to find it
    for (const [pod, svc] of [
      ["a", "front"],
      ["b", "front"],
      ["c", "back"],
    ]) {
      await cp.api.create("pods", "default", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: pod, labels: { svc } },
        spec: { containers: [{ name: "c", image: "i" }] },
      });
    }
    const seen: string[] = [];
    const batches: string[][] = [];
    const perKey: Controller = {
      name: "per-key",
      primary: ["services"],
      watches: [
        {
          resource: "pods",
          map: async (k, ctx) => {
            const pod = await ctx.api.get("pods", k.namespace, k.name);
            return pod ? [key("services", pod.metadata.labels!.svc)] : [];
          },
        },
        // a map that strays outside the primary resources gets nowhere
        { resource: "configmaps", map: (k) => [key("services", k.name), key("secrets", k.name)] },
      ],
      reconcile: async (k) => void seen.push(keyString(k)),
    };
    const batch: Controller = {
      name: "batch",
      primary: ["services"],
      watches: [{ resource: "nodes", mapAll: async (nodes) => nodes.map((n) => key("services", `for-${n.name}`)) }],
      reconcileBatch: async (keys) => void batches.push(keys.map(keyString)),
    };
    await manager([perKey, batch]).dispatch([
      key("pods", "a"),
      key("pods", "b"),
      key("pods", "c"),
      key("pods", "gone"),
      key("services", "front"),
      key("configmaps", "extra"),
      key("nodes", "n1", ""),
    ]);
    expect(seen.sort()).toEqual(["services/default/back", "services/default/extra", "services/default/front"]);
    expect(batches).toEqual([["services/default/front", "services/default/for-n1"]]);
    expect(sent).toEqual([]);
  });

  it("sends a key whose mapping failed back with backoff", async () => {
    const c: Controller = {
      name: "broken-map",
      primary: ["services"],
      watches: [
        {
          resource: "pods",
          map: () => {
            throw new Error("boom");
          },
        },
      ],
      reconcile: async () => {},
    };
    await manager([c]).dispatch([key("pods", "p")]);
    expect(sent).toEqual([{ keys: [key("pods", "p")], delayMs: 200 }]);
  });

  it("runs one reconcile per key at a time, reconciles a key that arrived meanwhile again after, and different keys at once", async () => {
    const calls: string[] = [];
    const running = new Map<string, number>();
    let overlapped = false;
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const entered = new Map<string, ReturnType<typeof deferred>>();
    const gate = (name: string) => {
      gates.set(name, deferred());
      entered.set(name, deferred());
    };
    const c: Controller = {
      name: "slow",
      primary: ["configmaps"],
      async reconcile(k) {
        calls.push(k.name);
        const n = (running.get(k.name) ?? 0) + 1;
        running.set(k.name, n);
        if (n > 1) overlapped = true;
        entered.get(k.name)?.resolve();
        try {
          await gates.get(k.name)?.promise;
        } finally {
          running.set(k.name, running.get(k.name)! - 1);
        }
      },
    };
    const m = manager([c]);
    gate("a");
    const first = m.dispatch([key("configmaps", "a")]);
    await entered.get("a")!.promise;

    // a second delivery of A while A runs: no second worker; it returns at once, and A is marked to go again
    await m.dispatch([key("configmaps", "a")]);
    expect(calls).toEqual(["a"]);

    // B is another key: it runs, and finishes, while A is still blocked
    await m.dispatch([key("configmaps", "b")]);
    expect(calls).toEqual(["a", "b"]);
    expect(running.get("a")).toBe(1);

    // A ends; the delivery that came meanwhile is reconciled once more, after it
    const gateA = gates.get("a")!;
    gates.delete("a");
    gateA.resolve();
    await first;
    expect(calls).toEqual(["a", "b", "a"]);
    expect(overlapped).toBe(false);

    // the keys of one batch run at the same time
    gate("x");
    gate("y");
    const both = m.dispatch([key("configmaps", "x"), key("configmaps", "y")]);
    await Promise.all([entered.get("x")!.promise, entered.get("y")!.promise]);
    expect([running.get("x"), running.get("y")]).toEqual([1, 1]);
    gates.get("x")!.resolve();
    gates.get("y")!.resolve();
    await both;
    expect(calls).toEqual(["a", "b", "a", "x", "y"]);
  });

  it("sends a key in flight in another manager of this isolate (another Worker invocation) back through the queue", async () => {
    const gate = deferred();
    const entered = deferred();
    let calls = 0;
    const c: Controller = {
      name: "shared",
      primary: ["configmaps"],
      async reconcile() {
        calls++;
        entered.resolve();
        await gate.promise;
      },
    };
    const one = manager([c]);
    const two = manager([c]);
    const first = one.dispatch([key("configmaps", "a")]);
    await entered.promise;
    await two.dispatch([key("configmaps", "a")]);
    expect(calls).toBe(1);
    expect(sent).toEqual([{ keys: [key("configmaps", "a")], delayMs: BUSY_REQUEUE_MS }]);
    gate.resolve();
    await first;
    // once it is done, the other manager runs it
    await two.dispatch([key("configmaps", "a")]);
    expect(calls).toBe(2);
  });
});
