import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ObjectKey } from "../../shared/types";
import { startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { keyString, type QueuedKey, type WorkQueue } from "../queue";
import { BUSY_REQUEUE_MS, type Controller, ControllerManager, type SubrequestBudget, SubrequestBudgetExhausted } from "./manager";

/** A promise to resolve from outside. */
const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

const key = (resource: string, name: string, namespace = "default"): ObjectKey => ({ resource, namespace, name });

let cp: TestControlPlane;
let sent: { keys: QueuedKey[]; delayMs?: number }[];
/** a manager of its own over the real resource layer, with a queue that only records what is sent back */
const manager = (controllers: Controller[], budget?: SubrequestBudget) => {
  const queue: WorkQueue = { enqueue: async (keys, opts) => void sent.push({ keys, delayMs: opts?.delayMs }) };
  return new ControllerManager({ registry: cp.registry, queue, controllers, log: () => {}, budget });
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
    expect(sent).toEqual([{ keys: [{ ...key("pods", "p"), controller: "broken-map" }], delayMs: 200 }]);
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

  it("with rerunDelayMs, reruns a key delivered while it ran after the pause, once for all the deliveries of the run and the pause", async () => {
    const runs: { at: number; name: string }[] = [];
    let gate = deferred();
    let entered = deferred();
    const asked: [number, unknown][] = [];
    const c: Controller = {
      name: "paced",
      primary: ["configmaps"],
      async reconcile(k) {
        runs.push({ at: performance.now(), name: k.name });
        entered.resolve();
        await gate.promise;
        return k.name === "busy" ? { acted: true } : undefined;
      },
      rerunDelayMs: (ms, result) => {
        asked.push([ms, result]);
        return result?.acted ? 0 : 150;
      },
    };
    const m = manager([c]);
    const first = m.dispatch([key("configmaps", "a")]);
    await entered.promise;
    await m.dispatch([key("configmaps", "a")]);
    await m.dispatch([key("configmaps", "a")]);
    const ended = performance.now();
    gate.resolve();
    // during the pause the key is still in flight: this delivery is the same rerun
    await new Promise((r) => setTimeout(r, 50));
    await m.dispatch([key("configmaps", "a")]);
    await first;
    expect(runs.map((r) => r.name)).toEqual(["a", "a"]);
    expect(runs[1].at - ended).toBeGreaterThanOrEqual(140);
    expect(asked).toHaveLength(1);
    expect(asked[0][1]).toBeUndefined();
    // a key delivered again only while it is idle runs at once, and no pause is asked for
    await m.dispatch([key("configmaps", "a")]);
    expect(runs).toHaveLength(3);
    expect(asked).toHaveLength(1);

    // a run that acted (created or deleted what brings it back) goes again at once
    gate = deferred();
    entered = deferred();
    const busy = m.dispatch([key("configmaps", "busy")]);
    await entered.promise;
    await m.dispatch([key("configmaps", "busy")]);
    const t = performance.now();
    gate.resolve();
    await busy;
    expect(runs.filter((r) => r.name === "busy")).toHaveLength(2);
    expect(runs.at(-1)!.at - t).toBeLessThan(100);
    expect(asked.at(-1)![1]).toEqual({ acted: true });
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
    expect(sent).toEqual([{ keys: [{ ...key("configmaps", "a"), controller: "shared" }], delayMs: BUSY_REQUEUE_MS }]);
    gate.resolve();
    await first;
    // once it is done, the other manager runs it
    await two.dispatch([key("configmaps", "a")]);
    expect(calls).toBe(2);
  });

  it("sends a requeue back for the controller that asked, and hands a key for one controller to that one alone", async () => {
    const seen: string[] = [];
    const again: Controller = {
      name: "again",
      primary: ["configmaps"],
      reconcile: async (k) => {
        seen.push(`again ${k.name}`);
        return { requeueAfterMs: 5_000 };
      },
    };
    const other: Controller = { name: "other", primary: ["configmaps"], reconcile: async (k) => void seen.push(`other ${k.name}`) };
    const m = manager([again, other]);
    await m.dispatch([key("configmaps", "a")]);
    expect(seen.sort()).toEqual(["again a", "other a"]);
    expect(sent).toEqual([{ keys: [{ ...key("configmaps", "a"), controller: "again" }], delayMs: 5_000 }]);
    // the requeue comes back: only "again" runs
    seen.length = 0;
    await m.dispatch(sent[0].keys);
    expect(seen).toEqual(["again a"]);
    // a write's key and a requeue of the same key in one batch: each controller once
    seen.length = 0;
    await m.dispatch([{ ...key("configmaps", "a"), controller: "again" }, key("configmaps", "a")]);
    expect(seen.sort()).toEqual(["again a", "other a"]);
  });

  it("gives a resync's keys to the controller that named them", async () => {
    const seen: string[] = [];
    const lister: Controller = {
      name: "lister",
      primary: ["nodes"],
      reconcile: async (k) => void seen.push(`lister ${k.name}`),
      resync: async () => [key("nodes", "n1", "")],
    };
    const watcher: Controller = {
      name: "watcher",
      primary: ["daemonsets"],
      watches: [{ resource: "nodes", map: (k) => [key("daemonsets", k.name)] }],
      reconcile: async (k) => void seen.push(`watcher ${k.name}`),
    };
    await manager([lister, watcher]).resync();
    expect(seen).toEqual(["lister n1"]);
  });

  it("under a subrequest budget starts no reconcile past it and sends the rest back at once, each key for its controller", async () => {
    let used = 0;
    const budget: SubrequestBudget = { used: () => used, limit: 30 };
    const done: string[] = [];
    const costly: Controller = {
      name: "costly",
      primary: ["configmaps"],
      reconcile: async (k) => {
        used += 4;
        done.push(k.name);
      },
    };
    const names = Array.from({ length: 20 }, (_, i) => `cm${i}`);
    await manager([costly], budget).dispatch(names.map((n) => key("configmaps", n)));
    // each start leaves room for itself and those in flight (4 each) and a reserve of 5 under the limit
    expect(used).toBeLessThanOrEqual(budget.limit);
    expect(done.length).toBeGreaterThan(0);
    expect(done.length).toBeLessThan(names.length);
    const back = sent.flatMap((s) => s.keys);
    expect(sent.every((s) => s.delayMs === undefined)).toBe(true);
    expect(back.every((k) => k.controller === "costly")).toBe(true);
    expect([...done, ...back.map((k) => k.name)].sort()).toEqual([...names].sort());
    // without a budget, all of them
    sent = [];
    done.length = 0;
    await manager([costly]).dispatch(names.map((n) => key("configmaps", n)));
    expect(done.length).toBe(names.length);
    expect(sent).toEqual([]);
  });

  it("sends a reconcile the budget cut short (a refused subrequest, even wrapped) back in the pass's one message, counting no failure", async () => {
    const done: string[] = [];
    const refusing: Controller = {
      name: "refusing",
      primary: ["configmaps"],
      reconcile: async (k) => {
        if (k.name === "cut") throw new Error("fetch failed", { cause: new SubrequestBudgetExhausted(42, 50) });
        if (k.name === "broken") throw new Error("a real failure");
        done.push(k.name);
      },
    };
    await manager([refusing]).dispatch([key("configmaps", "ok"), key("configmaps", "cut"), key("configmaps", "broken")]);
    expect(done).toEqual(["ok"]);
    // the refused key goes back at once for its controller; the failure waits for its backoff
    const immediate = sent.filter((s) => s.delayMs === undefined).flatMap((s) => s.keys);
    const delayed = sent.filter((s) => s.delayMs !== undefined).flatMap((s) => s.keys.map((k) => k.name));
    expect(immediate).toEqual([{ resource: "configmaps", namespace: "default", name: "cut", controller: "refusing" }]);
    expect(delayed).toEqual(["broken"]);
  });

  it("runs each controller's resync at its period: at every pass, or when a period boundary fell since the previous pass", async () => {
    const ran: string[] = [];
    const every: Controller = {
      name: "every",
      primary: ["nodes"],
      resyncPeriodMs: 0,
      resync: async () => {
        ran.push("every");
        return [];
      },
    };
    const slow: Controller = {
      name: "slow",
      primary: ["services"],
      resync: async () => {
        ran.push("slow");
        return [];
      },
    };
    const m = manager([every, slow]);
    const t0 = Date.parse("2026-01-01T00:00:00Z");
    // a minute's passes through ten minutes: the default period (5 min) comes twice
    for (let i = 1; i <= 10; i++) await m.resync({ at: new Date(t0 + i * 60_000), intervalMs: 60_000 });
    expect(ran.filter((x) => x === "every")).toHaveLength(10);
    expect(ran.filter((x) => x === "slow")).toHaveLength(2);
    // controllers of one period run at different minutes of it (each its own phase), spreading the work
    const minutes = new Map<string, number[]>();
    const many: Controller[] = Array.from({ length: 10 }, (_, i) => ({
      name: `c${i}`,
      primary: ["services"],
      resync: async () => {
        minutes.set(`c${i}`, [...(minutes.get(`c${i}`) ?? []), pass]);
        return [];
      },
    }));
    const m2 = manager(many);
    let pass = 0;
    for (pass = 1; pass <= 5; pass++) await m2.resync({ at: new Date(t0 + pass * 60_000), intervalMs: 60_000 });
    expect([...minutes.values()].every((ms) => ms.length === 1)).toBe(true);
    expect(new Set([...minutes.values()].map((ms) => ms[0])).size).toBeGreaterThan(1);
    // a pass that does not say its interval runs them all (the first one at startup)
    ran.length = 0;
    await m.resync();
    expect(ran.sort()).toEqual(["every", "slow"]);
  });
});
