/**
 * The sole writer's cache of admission reads, on the real store: a namespace's
 * LimitRanges and a Namespace are read from the database once, then from memory until
 * a write through the store changes them; a read that a write overtook is not kept;
 * what it hands out cannot be changed by the caller.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../node/db";
import { Store } from "../store/store";
import { ReadCache } from "./readcache";

let dir: string;
let store: Store;
let close: () => void;
let reads: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "kf-readcache-"));
  const client = await openDatabase(`file:${join(dir, "db.sqlite")}`, { synchronous: "NORMAL" });
  close = () => client.close();
  store = new Store(client);
  reads = 0;
  const list = store.list.bind(store);
  const get = store.get.bind(store);
  store.list = ((...a: Parameters<typeof list>) => {
    reads++;
    return list(...a);
  }) as typeof store.list;
  store.get = ((...a: Parameters<typeof get>) => {
    reads++;
    return get(...a);
  }) as typeof store.get;
});
afterEach(() => {
  close();
  rmSync(dir, { recursive: true, force: true });
});

const range = (name: string, ns = "a") => ({
  apiVersion: "v1",
  kind: "LimitRange",
  metadata: { name, namespace: ns, uid: `uid-${ns}-${name}` },
  spec: { limits: [] },
});

describe("ReadCache", () => {
  it("reads a namespace's list once, until a write of that resource in that namespace", async () => {
    const cache = new ReadCache(store);
    expect(await cache.list("limitranges", "a")).toEqual([]);
    expect(await cache.list("limitranges", "a")).toEqual([]);
    expect(reads).toBe(1);
    // a write elsewhere (another namespace, another resource) keeps it
    await store.create({ resource: "limitranges", namespace: "b", name: "x" }, range("x", "b"));
    await store.create(
      { resource: "pods", namespace: "a", name: "p" },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "a", uid: "uid-p" } },
    );
    expect(await cache.list("limitranges", "a")).toEqual([]);
    expect(reads).toBe(1);
    const created = await store.create({ resource: "limitranges", namespace: "a", name: "l" }, range("l"));
    const listed = await cache.list("limitranges", "a");
    expect(listed.map((o) => o.metadata.name)).toEqual(["l"]);
    expect(reads).toBe(2);
    // handed out frozen: a caller cannot change what the next one reads; the array is its own
    expect(() => {
      listed[0].spec.limits = "x";
    }).toThrow();
    listed.pop();
    expect((await cache.list("limitranges", "a")).length).toBe(1);
    await store.delete({ resource: "limitranges", namespace: "a", name: "l" }, created, Number(created.metadata.resourceVersion));
    expect(await cache.list("limitranges", "a")).toEqual([]);
    expect(reads).toBe(3);
  });

  it("reads an object once (a missing one too), until it is written", async () => {
    const cache = new ReadCache(store);
    const key = { resource: "namespaces", namespace: "", name: "a" };
    expect(await cache.get(key)).toBeNull();
    expect(await cache.get(key)).toBeNull();
    expect(reads).toBe(1);
    await store.create(key, { apiVersion: "v1", kind: "Namespace", metadata: { name: "a", uid: "uid-ns" } });
    expect((await cache.get(key))?.metadata.name).toBe("a");
    expect((await cache.get(key))?.metadata.name).toBe("a");
    expect(reads).toBe(2);
  });

  it("does not keep a read that a write overtook", async () => {
    const cache = new ReadCache(store);
    const list = store.list;
    // the write commits while the read is on its way
    store.list = (async (...a: Parameters<typeof list>) => {
      const r = await list(...a);
      await store.create({ resource: "limitranges", namespace: "a", name: "late" }, range("late"));
      return r;
    }) as typeof store.list;
    expect(await cache.list("limitranges", "a")).toEqual([]);
    store.list = list;
    expect((await cache.list("limitranges", "a")).map((o) => o.metadata.name)).toEqual(["late"]);
  });
});
