import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Client } from "@libsql/client";
import { openDatabase } from "../../node/db";
import type { KObject } from "../../shared/types";
import { OBJECT_COLUMNS, selectorSql } from "./select";
import { type Change, Store, StoreError } from "./store";

let dir: string;
let client: Client;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "kf-store-"));
  client = await openDatabase(`file:${join(dir, "db.sqlite")}`, { synchronous: "NORMAL" });
  store = new Store(client);
});

afterEach(() => {
  client.close();
  rmSync(dir, { recursive: true, force: true });
});

const pod = (name: string, extra: Partial<KObject> = {}, labels: Record<string, string> = {}): KObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", uid: `uid-${name}`, labels },
  spec: { containers: [{ name: "c", image: "busybox" }] },
  ...extra,
});
const key = (name: string, namespace = "default") => ({ resource: "pods", namespace, name });

const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof StoreError) return e.code;
    throw e;
  }
};

describe("writes", () => {
  it("creates, reads, updates with compare-and-swap and deletes", async () => {
    const a = await store.create(key("a"), pod("a"));
    const rev1 = Number(a.metadata.resourceVersion);
    expect(rev1).toBeGreaterThan(0);
    expect(await code(store.create(key("a"), pod("a")))).toBe("AlreadyExists");

    const got = await store.get(key("a"));
    expect(got?.metadata.resourceVersion).toBe(String(rev1));

    const b = await store.update(key("a"), { ...got!, spec: { x: 1 } }, rev1);
    const rev2 = Number(b.metadata.resourceVersion);
    expect(rev2).toBeGreaterThan(rev1);
    expect(await code(store.update(key("a"), got!, rev1))).toBe("Conflict");
    expect(await code(store.update(key("zzz"), got!, rev1))).toBe("NotFound");
    expect((await store.get(key("a")))?.spec).toEqual({ x: 1 });

    expect(await code(store.delete(key("a"), b, rev1))).toBe("Conflict");
    await store.delete(key("a"), b, rev2);
    expect(await store.get(key("a"))).toBeNull();
    // the name can be used again, and revisions only grow
    const again = await store.create(key("a"), pod("a"));
    expect(Number(again.metadata.resourceVersion)).toBeGreaterThan(rev2);
    expect(await store.revision()).toBe(Number(again.metadata.resourceVersion));
  });

  it("50 concurrent updates from one stale resourceVersion: exactly one wins", async () => {
    const a = await store.create(key("a"), pod("a"));
    const rev = Number(a.metadata.resourceVersion);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.update(key("a"), { ...a, spec: { writer: i } }, rev).then(
          (o) => ({ ok: true as const, writer: i, o }),
          (e) => ({ ok: false as const, code: (e as StoreError).code }),
        ),
      ),
    );
    const wins = results.filter((r) => r.ok);
    expect(wins).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.code === "Conflict")).toHaveLength(49);
    const winner = wins[0] as { writer: number };
    expect((await store.get(key("a")))?.spec).toEqual({ writer: winner.writer });
    // exactly one MODIFIED in the log
    const { changes } = await store.changesSince({ resource: "pods" }, rev);
    expect(changes.map((c) => c.type)).toEqual(["MODIFIED"]);
  });

  it("two concurrent creates of one name: one AlreadyExists", async () => {
    const r = await Promise.all([code(store.create(key("x"), pod("x"))), code(store.create(key("x"), pod("x")))]);
    expect(r.sort()).toEqual(["AlreadyExists", "ok"]);
  });
});

describe("watch feed", () => {
  it("delivers every change after R exactly once, in order, while 5 writers run", async () => {
    for (let i = 0; i < 5; i++) await store.create(key(`w${i}`), pod(`w${i}`));
    const start = await store.revision();
    const seen: Change[] = [];
    let done = false;
    const reader = (async () => {
      let from = start;
      while (!done || from < (await store.revision())) {
        const { changes } = await store.changesSince({ resource: "pods" }, from, 7);
        for (const c of changes) seen.push(c);
        if (changes.length) from = changes[changes.length - 1].rev;
        else await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const writers = Array.from({ length: 5 }, async (_, w) => {
      let cur = await store.get(key(`w${w}`));
      for (let i = 0; i < 40; i++) {
        cur = await store.update(key(`w${w}`), { ...cur!, spec: { i } }, Number(cur!.metadata.resourceVersion));
      }
      await store.delete(key(`w${w}`), cur!, Number(cur!.metadata.resourceVersion));
    });
    await Promise.all(writers);
    done = true;
    await reader;
    const revs = seen.map((c) => c.rev);
    expect(revs).toHaveLength(5 * 41);
    expect(new Set(revs).size).toBe(revs.length);
    expect([...revs].sort((a, b) => a - b)).toEqual(revs);
    expect(revs[0]).toBeGreaterThan(start);
    // per object: 40 MODIFIED in order, then DELETED, and each carries its previous state
    for (let w = 0; w < 5; w++) {
      const mine = seen.filter((c) => c.key.name === `w${w}`);
      expect(mine.map((c) => c.type)).toEqual([...Array(40).fill("MODIFIED"), "DELETED"]);
      expect(mine.slice(0, 40).map((c) => c.object.spec.i)).toEqual([...Array(40).keys()]);
      expect(mine[1].prev?.spec).toEqual({ i: 0 });
    }
  });

  it("filters by namespace and pushes equality field selectors to SQL on old and new state", async () => {
    const start = await store.revision();
    await store.create(key("p1", "ns1"), pod("p1", { spec: { nodeName: "n1" } }));
    await store.create(key("p2", "ns2"), pod("p2", { spec: { nodeName: "n2" } }));
    const p1 = await store.get(key("p1", "ns1"));
    await store.update(key("p1", "ns1"), { ...p1!, spec: { nodeName: "n2" } }, Number(p1!.metadata.resourceVersion));
    const byNs = await store.changesSince({ resource: "pods", namespace: "ns2" }, start);
    expect(byNs.changes.map((c) => c.key.name)).toEqual(["p2"]);
    const byNode = await store.changesSince({ resource: "pods", fields: [{ field: "spec.nodeName", op: "=", value: "n1" }] }, start);
    // created on n1, then moved away (the move is seen because the old state matched)
    expect(byNode.changes.map((c) => [c.key.name, c.type])).toEqual([
      ["p1", "ADDED"],
      ["p1", "MODIFIED"],
    ]);
  });
});

describe("list", () => {
  it("selects by labels and fields in SQL", async () => {
    await store.create(key("a"), pod("a", { spec: { nodeName: "n1" }, status: { phase: "Running" } }, { env: "prod", tier: "web" }));
    await store.create(key("b"), pod("b", { status: { phase: "Pending" } }, { env: "devel" }));
    await store.create(key("c"), pod("c", {}, { env: "qa", "app.kubernetes.io/name": "x" }));
    await store.create(key("d", "other"), pod("d", {}, {}));
    const names = async (o: Parameters<Store["list"]>[1]) => (await store.list("pods", o)).items.map((i) => i.metadata.name);
    expect(await names({})).toEqual(["a", "b", "c", "d"]);
    expect(await names({ namespace: "other" })).toEqual(["d"]);
    expect(await names({ labels: [{ key: "env", op: "in", values: ["prod", "devel"] }] })).toEqual(["a", "b"]);
    expect(await names({ labels: [{ key: "env", op: "notin", values: ["prod"] }] })).toEqual(["b", "c", "d"]);
    expect(await names({ labels: [{ key: "env", op: "!=", values: ["qa"] }] })).toEqual(["a", "b", "d"]);
    expect(await names({ labels: [{ key: "tier", op: "exists", values: [] }] })).toEqual(["a"]);
    expect(await names({ labels: [{ key: "env", op: "!exists", values: [] }] })).toEqual(["d"]);
    expect(await names({ labels: [{ key: "app.kubernetes.io/name", op: "=", values: ["x"] }] })).toEqual(["c"]);
    expect(await names({ fields: [{ field: "spec.nodeName", op: "=", value: "n1" }] })).toEqual(["a"]);
    expect(await names({ fields: [{ field: "status.phase", op: "!=", value: "Running" }] })).toEqual(["b", "c", "d"]);
    expect(await names({ fields: [{ field: "metadata.name", op: "=", value: "b" }] })).toEqual(["b"]);
    expect(await names({ fields: [{ field: "metadata.namespace", op: "=", value: "other" }] })).toEqual(["d"]);
  });

  it("finds unscheduled pods (spec.nodeName unset or empty) through the node index, not by reading every pod", async () => {
    await store.create(key("a"), pod("a", { spec: { nodeName: "n1" } }));
    await store.create(key("b"), pod("b"));
    await store.create(key("c"), pod("c", { spec: { nodeName: "" } }));
    await store.create(key("d", "other"), pod("d"));
    const names = async (op: "=" | "!=") =>
      (await store.list("pods", { fields: [{ field: "spec.nodeName", op, value: "" }] })).items.map((i) => i.metadata.name);
    expect(await names("=")).toEqual(["b", "c", "d"]);
    expect(await names("!=")).toEqual(["a"]);
    // bound: no longer pending
    const b = (await store.get(key("b")))!;
    await store.update(key("b"), { ...b, spec: { nodeName: "n2" } }, Number(b.metadata.resourceVersion));
    expect(await names("=")).toEqual(["c", "d"]);
    expect(await names("!=")).toEqual(["a", "b"]);
    // the query the store runs for them seeks the (resource, node_name, namespace, name) index, in list order
    const sel = selectorSql(OBJECT_COLUMNS, [], [{ field: "spec.nodeName", op: "=", value: "" }]);
    const plan = await client.execute({
      sql: `EXPLAIN QUERY PLAN SELECT o.object FROM objects o WHERE o.resource = ? AND ${sel.sql} ORDER BY o.namespace, o.name`,
      args: ["pods", ...sel.args],
    });
    expect(plan.rows.map((r) => String(r.detail))).toEqual(["SEARCH o USING INDEX objects_node_pods (resource=? AND node_name=?)"]);
  });

  it("pages with limit/continue over a consistent snapshot", async () => {
    for (let i = 0; i < 10; i++) await store.create(key(`p${i}`), pod(`p${i}`));
    const first = await store.list("pods", { limit: 4 });
    expect(first.items.map((i) => i.metadata.name)).toEqual(["p0", "p1", "p2", "p3"]);
    expect(first.continue).toBeTruthy();
    // the world moves on between pages
    const p5 = await store.get(key("p5"));
    await store.delete(key("p5"), p5!, Number(p5!.metadata.resourceVersion));
    await store.create(key("p45"), pod("p45"));
    const second = await store.list("pods", { limit: 4, continue: first.continue });
    expect(second.revision).toBe(first.revision);
    expect(second.items.map((i) => i.metadata.name)).toEqual(["p4", "p5", "p6", "p7"]);
    const third = await store.list("pods", { limit: 4, continue: second.continue });
    expect(third.items.map((i) => i.metadata.name)).toEqual(["p8", "p9"]);
    expect(third.continue).toBeUndefined();
  });
});

describe("compaction", () => {
  it("forgets old history: watch from a compacted revision is Expired, newer reads stay exact", async () => {
    let t = 1_000_000;
    store = new Store(client, { now: () => t });
    const a = await store.create(key("a"), pod("a"));
    let cur = a;
    for (let i = 0; i < 30; i++) {
      t += 1000;
      cur = await store.update(key("a"), { ...cur, spec: { i } }, Number(cur.metadata.resourceVersion));
    }
    const b = await store.create(key("b"), pod("b"));
    await store.delete(key("b"), b, Number(b.metadata.resourceVersion));
    t += 1000;
    for (let i = 30; i < 40; i++) cur = await store.update(key("a"), { ...cur, spec: { i } }, Number(cur.metadata.resourceVersion));
    const res = await store.compact({ keepRevisions: 10, keepMs: 0, now: t + 10_000 });
    expect(res.revision).toBe((await store.revision()) - 10);
    expect(res.deleted).toBeGreaterThan(25);
    expect(await code(store.changesSince({ resource: "pods" }, 1))).toBe("Expired");
    expect(await code(store.list("pods", { atRevision: 2 }))).toBe("Expired");
    // from the horizon on, every change is still there
    const after = await store.changesSince({ resource: "pods" }, res.revision);
    expect(after.changes).toHaveLength(10);
    // a read at the horizon still sees the right state of a
    const snap = await store.list("pods", { atRevision: res.revision });
    expect(snap.items.map((i) => [i.metadata.name, i.spec.i])).toEqual([["a", 29]]);
    // the live object is untouched
    expect((await store.get(key("a")))?.spec).toEqual({ i: 39 });
    // a second compaction with nothing new to forget is a no-op
    expect((await store.compact({ keepRevisions: 10, keepMs: 0, now: t + 10_000 })).deleted).toBe(0);
  });

  it("keeps the newest revisions and minutes by default", async () => {
    for (let i = 0; i < 20; i++) await store.create(key(`p${i}`), pod(`p${i}`));
    const r = await store.compact();
    expect(r.deleted).toBe(0);
    expect((await store.changesSince({ resource: "pods" }, 0)).changes).toHaveLength(20);
  });
});

describe("unique claims", () => {
  const svc = (name: string, ns: string, clusterIP: string, nodePorts: number[]): KObject => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns, uid: `uid-${ns}-${name}` },
    spec: { clusterIPs: [clusterIP], ports: nodePorts.map((n, i) => ({ port: 80 + i, nodePort: n })) },
  });
  const sk = (name: string, namespace = "default") => ({ resource: "services", namespace, name });
  const claims = (o: KObject) => ({
    unique: [
      { path: "$.spec.clusterIPs", values: o.spec.clusterIPs },
      { path: "$.spec.ports", member: "$.nodePort", values: o.spec.ports.map((p: any) => p.nodePort) },
    ],
  });

  it("refuses a create or update that claims a value another live object of the resource holds, and frees it on delete", async () => {
    const a = await store.create(sk("a"), svc("a", "default", "10.43.0.5", [30001, 30002]), claims(svc("a", "default", "10.43.0.5", [30001, 30002])));
    // the same address, another namespace
    const b = svc("b", "other", "10.43.0.5", [30003]);
    expect(await code(store.create(sk("b", "other"), b, claims(b)))).toBe("Taken");
    // a port of a's second entry
    const c = svc("c", "default", "10.43.0.6", [30002]);
    expect(await code(store.create(sk("c"), c, claims(c)))).toBe("Taken");
    expect(await store.get(sk("c"))).toBeNull();
    // without a guard, or with free values, writes go through; another resource's values don't count
    const d = svc("d", "default", "10.43.0.7", [30004]);
    const stored = await store.create(sk("d"), d, claims(d));
    expect(
      await code(
        store.create({ resource: "pods", namespace: "default", name: "p" }, svc("p", "default", "10.43.0.5", []), claims(svc("p", "default", "10.43.0.5", []))),
      ),
    ).toBe("ok");
    // an update may keep its own values; claiming another's is Taken, a stale revision stays Conflict
    expect(await code(store.update(sk("a"), a, Number(a.metadata.resourceVersion), claims(a)))).toBe("ok");
    const moved = svc("d", "default", "10.43.0.7", [30001]);
    expect(await code(store.update(sk("d"), moved, Number(stored.metadata.resourceVersion), claims(moved)))).toBe("Taken");
    expect(await code(store.update(sk("d"), moved, Number(stored.metadata.resourceVersion) - 1, claims(moved)))).toBe("Conflict");
    // the key taken wins over a claim: AlreadyExists
    expect(await code(store.create(sk("a"), svc("a", "default", "10.43.0.7", []), claims(svc("a", "default", "10.43.0.7", []))))).toBe("AlreadyExists");
    // once a is gone, its values are free
    const cur = (await store.get(sk("a")))!;
    await store.delete(sk("a"), cur, Number(cur.metadata.resourceVersion));
    expect(await code(store.create(sk("b", "other"), b, claims(b)))).toBe("ok");
  });
});
