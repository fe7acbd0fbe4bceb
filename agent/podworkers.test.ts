import { describe, expect, it } from "vitest";
import { PodWorkers, Slots } from "./podworkers";

/** A sync per key that waits until the test lets it finish; records what ran, and the overlap. */
const harness = (limit: number, fail?: (key: string) => boolean) => {
  const started: string[] = [];
  const pending = new Map<string, (() => void)[]>();
  const errors: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const perKey = new Map<string, number>();
  let overlapSameKey = false;
  const w = new PodWorkers({
    limit,
    sync: async (key) => {
      started.push(key);
      running++;
      maxRunning = Math.max(maxRunning, running);
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
      if (perKey.get(key)! > 1) overlapSameKey = true;
      try {
        await new Promise<void>((resolve) => pending.set(key, [...(pending.get(key) ?? []), resolve]));
        if (fail?.(key)) throw new Error(`boom ${key}`);
      } finally {
        running--;
        perKey.set(key, perKey.get(key)! - 1);
      }
    },
    onError: (key, e) => errors.push(`${key}: ${(e as Error).message}`),
  });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  /** let the key's oldest running sync finish */
  const finish = async (key: string) => {
    const list = pending.get(key) ?? [];
    const next = list.shift();
    if (!next) throw new Error(`${key} is not syncing`);
    next();
    await tick();
  };
  return { w, started, errors, finish, tick, stats: () => ({ maxRunning, overlapSameKey, running }) };
};

describe("pod workers", () => {
  it("runs different keys in parallel, up to the limit, and the rest as slots free", async () => {
    const h = harness(2);
    for (const k of ["a", "b", "c", "d"]) h.w.update(k);
    await h.tick();
    expect(h.started).toEqual(["a", "b"]);
    await h.finish("b");
    expect(h.started).toEqual(["a", "b", "c"]);
    await h.finish("a");
    await h.finish("c");
    await h.finish("d");
    expect(h.started).toEqual(["a", "b", "c", "d"]);
    expect(h.stats().maxRunning).toBe(2);
    await h.w.idle();
  });

  it("never syncs one key twice at once; updates during a sync fold into one more sync after it", async () => {
    const h = harness(4);
    h.w.update("a");
    await h.tick();
    for (let i = 0; i < 5; i++) h.w.update("a");
    await h.tick();
    expect(h.started).toEqual(["a"]);
    expect(h.w.busy("a")).toBe(true);
    await h.finish("a");
    expect(h.started).toEqual(["a", "a"]);
    await h.finish("a");
    expect(h.started).toEqual(["a", "a"]);
    expect(h.stats().overlapSameKey).toBe(false);
    expect(h.w.busy("a")).toBe(false);
    await h.w.idle();
  });

  it("coalesces updates of a key still waiting for a slot", async () => {
    const h = harness(1);
    h.w.update("a");
    h.w.update("b");
    h.w.update("b");
    h.w.update("b");
    await h.tick();
    await h.finish("a");
    await h.finish("b");
    expect(h.started).toEqual(["a", "b"]);
    expect(h.w.size).toEqual({ running: 0, queued: 0 });
  });

  it("a re-sync waits behind keys that were already waiting", async () => {
    const h = harness(1);
    h.w.update("a");
    await h.tick();
    h.w.update("b");
    h.w.update("a");
    await h.finish("a");
    await h.finish("b");
    await h.finish("a");
    expect(h.started).toEqual(["a", "b", "a"]);
  });

  it("a sync that throws is reported and the queue goes on", async () => {
    const h = harness(1, (k) => k === "a");
    h.w.update("a");
    h.w.update("b");
    await h.tick();
    await h.finish("a");
    expect(h.errors).toEqual(["a: boom a"]);
    expect(h.started).toEqual(["a", "b"]);
    await h.finish("b");
    h.w.update("a");
    await h.tick();
    expect(h.started).toEqual(["a", "b", "a"]);
    await h.finish("a");
    await h.w.idle();
    expect(h.errors).toHaveLength(2);
  });

  it("close drops waiting work and resolves when the running syncs end", async () => {
    const h = harness(1);
    h.w.update("a");
    h.w.update("b");
    await h.tick();
    h.w.update("a");
    let closed = false;
    const done = h.w.close().then(() => (closed = true));
    await h.tick();
    expect(closed).toBe(false);
    await h.finish("a");
    await done;
    expect(h.started).toEqual(["a"]);
    h.w.update("c");
    await h.tick();
    expect(h.started).toEqual(["a"]);
  });

  it("refuses a limit below 1", () => {
    expect(() => new PodWorkers({ limit: 0, sync: async () => {} })).toThrow(/limit/);
  });
});

describe("engine slots", () => {
  /** work that runs until the test ends it */
  const gated = () => {
    const ends = new Map<string, () => void>();
    const order: string[] = [];
    const work =
      (name: string, fail = false) =>
      () => {
        order.push(name);
        return new Promise<string>((resolve, reject) => ends.set(name, () => (fail ? reject(new Error(`boom ${name}`)) : resolve(name))));
      };
    return { ends, order, work };
  };
  const tick = () => new Promise((r) => setTimeout(r, 0));

  it("runs at most `limit` at once, the rest first come first served", async () => {
    const g = gated();
    const s = new Slots(2, 60_000);
    const done = ["a", "b", "c", "d"].map((n) => s.run(g.work(n)));
    await tick();
    expect(g.order).toEqual(["a", "b"]);
    expect(s.size).toEqual({ running: 2, queued: 2 });
    g.ends.get("b")!();
    await tick();
    expect(g.order).toEqual(["a", "b", "c"]);
    g.ends.get("a")!();
    await tick();
    expect(g.order).toEqual(["a", "b", "c", "d"]);
    g.ends.get("c")!();
    g.ends.get("d")!();
    expect(await Promise.all(done)).toEqual(["a", "b", "c", "d"]);
    expect(s.size).toEqual({ running: 0, queued: 0 });
  });

  it("gives the slot back when the work fails", async () => {
    const g = gated();
    const s = new Slots(1, 60_000);
    const a = s.run(g.work("a", true));
    const b = s.run(g.work("b"));
    await tick();
    g.ends.get("a")!();
    await expect(a).rejects.toThrow("boom a");
    await tick();
    expect(g.order).toEqual(["a", "b"]);
    g.ends.get("b")!();
    expect(await b).toBe("b");
  });

  it("gives the slot to the next after maxHoldMs while slow work goes on", async () => {
    const g = gated();
    const s = new Slots(1, 20);
    const slow = s.run(g.work("slow"));
    const next = s.run(g.work("next"));
    await tick();
    expect(g.order).toEqual(["slow"]);
    await new Promise((r) => setTimeout(r, 60));
    expect(g.order).toEqual(["slow", "next"]);
    g.ends.get("next")!();
    expect(await next).toBe("next");
    g.ends.get("slow")!();
    expect(await slow).toBe("slow");
    // the late end of the slow work does not free a slot twice
    expect(s.size).toEqual({ running: 0, queued: 0 });
  });

  it("refuses a limit below 1", () => {
    expect(() => new Slots(0)).toThrow(/limit/);
  });
});
