/** The agent's crash-loop and image-pull back-off, kubelet's rules, on a fake clock. */
import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff";

describe("Backoff", () => {
  it("restarts at once after the first failure, then waits 10 s, 20 s, 40 s ... up to 5 min", () => {
    const b = new Backoff();
    let t = 1_000_000;
    // first exit: nothing recorded yet, so no waiting
    expect(b.inBackoffSince("k", t, t)).toBe(false);
    b.next("k", t);
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      const failedAt = ++t; // the restarted container dies at once
      let waited = 0;
      while (b.inBackoffSince("k", failedAt, t)) {
        t += 1000;
        waited += 1000;
      }
      waits.push(waited);
      expect(b.delay("k")).toBe(waited);
      b.next("k", t);
    }
    expect(waits).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  it("starts over after a container ran for 10 minutes", () => {
    const b = new Backoff();
    b.next("k", 0);
    b.next("k", 1);
    b.next("k", 2);
    expect(b.delay("k")).toBe(40_000);
    const later = 2 + 600_001;
    expect(b.inBackoffSince("k", later, later)).toBe(false);
    b.next("k", later);
    expect(b.delay("k")).toBe(10_000);
  });

  it("holds image pulls back from the last attempt, and forgets keys exactly or by prefix", () => {
    const b = new Backoff();
    b.next("pull/u/c", 0);
    expect(b.inBackoffSinceUpdate("pull/u/c", 9_999)).toBe(true);
    expect(b.inBackoffSinceUpdate("pull/u/c", 10_000)).toBe(false);
    b.next("pull/u/c2", 0);
    b.reset("pull/u/c");
    expect(b.inBackoffSinceUpdate("pull/u/c", 1)).toBe(false);
    expect(b.inBackoffSinceUpdate("pull/u/c2", 1)).toBe(true);
    b.forget("pull/u/");
    expect(b.inBackoffSinceUpdate("pull/u/c2", 1)).toBe(false);
  });
});
