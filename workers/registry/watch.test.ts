/**
 * The Worker's watch polling backs off while nothing changes: the interval schedule
 * (pure), and a watch on a store that hears of no commits (as on Workers, where the
 * write happens in another isolate) still delivers every change after backing off.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { KObject, WatchEvent } from "../../shared/types";
import { openDatabase } from "../../node/db";
import { Store } from "../store/store";
import { nextPollMs, watchEvents } from "./watch";

describe("watch polling", () => {
  it("doubles the interval after empty polls up to the maximum, and resets it after a change", () => {
    const seq: number[] = [];
    let ms = 500;
    for (const changed of [false, false, false, false, true, false]) seq.push((ms = nextPollMs(ms, changed, 500, 2000)));
    expect(seq).toEqual([1000, 2000, 2000, 2000, 500, 1000]);
    expect(nextPollMs(500, false, 500, 500)).toBe(500);
  });

  it("still delivers changes made elsewhere once its polls have backed off", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-watch-poll-"));
    const a = await openDatabase(`file:${join(dir, "db.sqlite")}`, { synchronous: "NORMAL" });
    const b = await openDatabase(`file:${join(dir, "db.sqlite")}`, { synchronous: "NORMAL" });
    try {
      const watching = new Store(a, { notifyListeners: false });
      const writer = new Store(b, { notifyListeners: false });
      let polls = 0;
      const changesSince = watching.changesSince.bind(watching);
      watching.changesSince = (async (...args: Parameters<typeof changesSince>) => {
        polls++;
        return changesSince(...args);
      }) as typeof watching.changesSince;
      const cm = (name: string): KObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default", uid: `u-${name}` } });
      const ac = new AbortController();
      const events = watchEvents(watching, {
        resource: "configmaps",
        labels: [],
        fields: [],
        fromRevision: 0,
        allowBookmarks: false,
        timeoutMs: 60_000,
        signal: ac.signal,
        pollMs: 5,
        pollMaxMs: 40,
        bookmarkMs: 60_000,
        typeMeta: { apiVersion: "v1", kind: "ConfigMap" },
        listAll: async () => ({ items: [], revision: 0 }),
      });
      const seen: WatchEvent[] = [];
      const reading = (async () => {
        for await (const ev of events) {
          seen.push(ev);
          if (seen.length === 2) break;
        }
      })();
      // quiet polls first (the interval has reached its maximum after three)
      while (polls < 6) await new Promise((r) => setTimeout(r, 5));
      await writer.create({ resource: "configmaps", namespace: "default", name: "one" }, cm("one"));
      while (seen.length < 1) await new Promise((r) => setTimeout(r, 5));
      await writer.create({ resource: "configmaps", namespace: "default", name: "two" }, cm("two"));
      await reading;
      ac.abort();
      expect(seen.map((e) => [e.type, e.object.metadata.name])).toEqual([
        ["ADDED", "one"],
        ["ADDED", "two"],
      ]);
    } finally {
      a.close();
      b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
