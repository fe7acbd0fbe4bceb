import { describe, expect, it } from "vitest";
import { Coalescer } from "./coalesce";

describe("the coalescing applier", () => {
  it("applies the newest of a burst, one apply at a time, and settles once all is applied", async () => {
    const applied: number[] = [];
    let inFlight = 0;
    let most = 0;
    const c = new Coalescer<number>(
      async (n) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        applied.push(n);
        inFlight--;
      },
      { minIntervalMs: 1 },
    );
    for (let i = 1; i <= 50; i++) c.update(i);
    await c.settled();
    expect(applied).toEqual([50]);
    // updates while an apply runs: the last one follows it
    c.update(51);
    await new Promise((r) => setTimeout(r, 3));
    c.update(52);
    c.update(53);
    await c.settled();
    expect(applied.at(-1)).toBe(53);
    expect(applied).not.toContain(52);
    expect(most).toBe(1);
  });

  it("tries a failed input again unless a newer one came, counting the failures", async () => {
    const seen: string[] = [];
    const errors: string[] = [];
    let fail = 2;
    const c = new Coalescer<string>(
      async (s) => {
        seen.push(s);
        if (fail-- > 0) throw new Error(`no ${s}`);
      },
      { minIntervalMs: 1, onError: (e) => errors.push(e.message) },
    );
    c.update("a");
    await c.settled();
    expect(seen).toEqual(["a", "a", "a"]);
    expect(errors).toEqual(["no a", "no a"]);
    expect(c.errors).toBe(2);
  });

  it("applies nothing after stop", async () => {
    const seen: number[] = [];
    const c = new Coalescer<number>(async (n) => void seen.push(n), { minIntervalMs: 50 });
    c.update(1);
    await c.stop();
    c.update(2);
    await c.settled();
    expect(seen).toEqual([]);
  });
});
