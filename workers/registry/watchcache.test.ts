/**
 * The Node server's watch cache (watchcache.ts) on a real libSQL store: watches served
 * from one shared read of the change log get exactly the events a watch reading the
 * log itself gets (selection entered and left included), a watcher is woken only by
 * changes that concern it, one that starts before the cache's floor catches up from the
 * log, and writes from another process arrive through the poll.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../node/db";
import { parseFieldSelector } from "../../shared/selectors/fields";
import type { KObject, WatchEvent } from "../../shared/types";
import { Store } from "../store/store";
import { watchEvents, type WatchOptions } from "./watch";
import { WatchCache } from "./watchcache";

const pod = (name: string, nodeName?: string): KObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", uid: `u-${name}` },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: "c", image: "x" }] },
});
const key = (name: string) => ({ resource: "pods", namespace: "default", name });

const options = (o: Partial<WatchOptions> & { fromRevision: number; signal: AbortSignal }): WatchOptions => ({
  resource: "pods",
  labels: [],
  fields: [],
  allowBookmarks: false,
  timeoutMs: 60_000,
  pollMs: 50,
  bookmarkMs: 60_000,
  typeMeta: { apiVersion: "v1", kind: "Pod" },
  listAll: async () => ({ items: [], revision: 0 }),
  ...o,
});

/** Read events until `n` have come (or the watch ends), then stop the watch. */
const collect = (events: AsyncGenerator<WatchEvent>, n: number) => {
  const seen: string[] = [];
  const done = (async () => {
    for await (const ev of events) {
      seen.push(`${ev.type} ${ev.object.metadata.name} ${ev.object.spec?.nodeName ?? ""}`.trim());
      if (seen.length >= n) break;
    }
    return seen;
  })();
  return { seen, done };
};

const until = async (f: () => boolean, ms = 10_000) => {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error("not within the time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("watch cache", () => {
  let dir: string;
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const c of closers.splice(0)) c();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = async () => {
    dir = mkdtempSync(join(tmpdir(), "kf-watchcache-"));
    const client = await openDatabase(`file:${join(dir, "db.sqlite")}`, { synchronous: "NORMAL" });
    closers.push(() => client.close());
    return { client, store: new Store(client) };
  };

  it("serves a node's watch the same events as the change log, woken only by its own pods", async () => {
    const { store } = await open();
    const cache = new WatchCache(store, { pollMs: 50 });
    await store.create(key("early"), pod("early", "a"));
    const from = await store.revision();
    const ac = new AbortController();
    const fields = parseFieldSelector("spec.nodeName=a");
    const cached = collect(watchEvents(store, options({ fromRevision: from, signal: ac.signal, fields, cache })), 4);
    const direct = collect(watchEvents(store, options({ fromRevision: from, signal: ac.signal, fields })), 4);
    // a watch of another node: never woken by node a's pods
    let wokenB = 0;
    const off = cache.subscribe({ resource: "pods", field: { field: "spec.nodeName", value: "b" }, wake: () => wokenB++ });
    await cache.start();

    await store.create(key("p1"), pod("p1", "a"));
    await store.create(key("p2"), pod("p2", "c"));
    const p2 = (await store.get(key("p2")))!;
    // moved onto a: ADDED for a's watch; then away again: DELETED
    const moved = await store.update(key("p2"), pod("p2", "a"), Number(p2.metadata.resourceVersion));
    await store.update(key("p2"), pod("p2", "c"), Number(moved.metadata.resourceVersion));
    const p1 = (await store.get(key("p1")))!;
    await store.delete(key("p1"), p1, Number(p1.metadata.resourceVersion));
    await store.create(key("other"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "other", namespace: "default", uid: "u-o" } });

    const want = ["ADDED p1 a", "ADDED p2 a", "DELETED p2 c", "DELETED p1 a"];
    expect(await cached.done).toEqual(want);
    expect(await direct.done).toEqual(want);
    expect(wokenB).toBe(0);
    await store.create(key("pb"), pod("pb", "b"));
    await cache.refresh(true);
    expect(wokenB).toBe(1);
    off();
    ac.abort();
  });

  it("lets a watch that starts before the cache's floor catch up from the change log, with no event twice", async () => {
    const { store } = await open();
    const from = await store.revision();
    await store.create(key("old1"), pod("old1"));
    await store.create(key("old2"), pod("old2"));
    const cache = new WatchCache(store, { pollMs: 50 });
    await cache.start();
    expect(cache.covers(from)).toBe(false);
    const ac = new AbortController();
    const w = collect(watchEvents(store, options({ fromRevision: from, signal: ac.signal, cache })), 4);
    await until(() => w.seen.length >= 2);
    await store.create(key("new1"), pod("new1"));
    await store.create(key("new2"), pod("new2"));
    expect(await w.done).toEqual(["ADDED old1", "ADDED old2", "ADDED new1", "ADDED new2"]);
    ac.abort();
  });

  it("delivers writes made by another process through the poll", async () => {
    const { store } = await open();
    const other = await openDatabase(`file:${join(dir, "db.sqlite")}`, { synchronous: "NORMAL" });
    closers.push(() => other.close());
    // another process's store: its commits are not heard here
    const elsewhere = new Store(other, { notifyListeners: false });
    const cache = new WatchCache(store, { pollMs: 30 });
    const ac = new AbortController();
    const w = collect(watchEvents(store, options({ fromRevision: await store.revision(), signal: ac.signal, pollMs: 30, cache })), 2);
    await cache.start();
    await elsewhere.create(key("far1"), pod("far1"));
    await elsewhere.create(key("far2"), pod("far2"));
    expect(await w.done).toEqual(["ADDED far1", "ADDED far2"]);
    ac.abort();
  });

  it("keeps its capacity: older changes go and its floor moves up", async () => {
    const { store } = await open();
    const cache = new WatchCache(store, { pollMs: 50, capacity: 3 });
    await cache.start();
    const start = cache.revision;
    const off = cache.subscribe({ resource: "pods", wake: () => {} });
    for (let i = 0; i < 8; i++) {
      await store.create(key(`p${i}`), pod(`p${i}`));
      await cache.refresh(true);
    }
    expect(cache.covers(start)).toBe(false);
    const held = cache.read("pods", cache.revision - 3);
    expect(held.map((c) => c.key.name)).toEqual(["p5", "p6", "p7"]);
    off();
  });
});
