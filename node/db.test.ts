/**
 * The embedded client (node/db.ts): writes group-committed on the writer thread, each
 * unit alone in its fate; reads on the caller's thread never wait behind a write.
 */
import Database from "libsql";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "./db";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const fresh = async () => {
  const dir = mkdtempSync(join(tmpdir(), "kf-db-"));
  dirs.push(dir);
  const path = join(dir, "db.sqlite");
  const client = await openDatabase(`file:${path}`, { synchronous: "FULL" });
  await client.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
  return { client, path };
};

/** WAL frames written so far (each commit appends the pages it changed, at least one frame) */
const walFrames = (path: string) => Math.max(0, (statSync(`${path}-wal`).size - 32) / (4096 + 24));

describe("embedded client", () => {
  it("commits concurrent writes together: 50 at once take far fewer WAL frames than 50 one after another", async () => {
    const { client, path } = await fresh();
    let before = walFrames(path);
    for (let i = 0; i < 50; i++) await client.execute({ sql: "INSERT INTO t (k, v) VALUES (?, ?)", args: [`s${i}`, i] });
    const sequential = walFrames(path) - before;
    before = walFrames(path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.execute({ sql: "INSERT INTO t (k, v) VALUES (?, ?)", args: [`c${i}`, i] })));
    const concurrent = walFrames(path) - before;
    expect(sequential).toBeGreaterThanOrEqual(50);
    expect(concurrent).toBeLessThan(sequential / 5);
    const rs = await client.execute("SELECT count(*) AS n FROM t");
    expect(rs.rows[0].n).toBe(100);
    client.close();
  });

  it("fails only the unit that fails when writes share a commit", async () => {
    const { client } = await fresh();
    await client.execute({ sql: "INSERT INTO t (k, v) VALUES ('taken', 0)", args: [] });
    const [a, b, c, d] = await Promise.allSettled([
      client.execute({ sql: "INSERT INTO t (k, v) VALUES (?, ?) RETURNING v", args: ["a", 1] }),
      // a batch is atomic: its first insert goes when its second fails
      client.batch(
        [
          { sql: "INSERT INTO t (k, v) VALUES (?, ?)", args: ["b1", 2] },
          { sql: "INSERT INTO t (k, v) VALUES (?, ?)", args: ["taken", 3] },
        ],
        "write",
      ),
      client.execute({ sql: "INSERT INTO t (k, v) VALUES (?, ?)", args: ["taken", 4] }),
      client.execute({ sql: "INSERT INTO t (k, v) VALUES (?, ?)", args: ["d", 5] }),
    ]);
    expect(a.status).toBe("fulfilled");
    expect((a as PromiseFulfilledResult<any>).value.rows[0].v).toBe(1);
    expect(b.status).toBe("rejected");
    expect((b as PromiseRejectedResult).reason).toMatchObject({ code: "SQLITE_CONSTRAINT", statementIndex: 1 });
    expect(c.status).toBe("rejected");
    expect((c as PromiseRejectedResult).reason).toMatchObject({ code: "SQLITE_CONSTRAINT" });
    expect(d.status).toBe("fulfilled");
    expect((d as PromiseFulfilledResult<any>).value.rowsAffected).toBe(1);
    const rows = (await client.execute("SELECT k, v FROM t ORDER BY k")).rows.map((r) => [r.k, r.v]);
    expect(rows).toEqual([
      ["a", 1],
      ["d", 5],
      ["taken", 0],
    ]);
    client.close();
  });

  it("answers reads while a write waits for the write lock, and commits the write once the lock is free", async () => {
    const { client, path } = await fresh();
    await client.execute({ sql: "INSERT INTO t (k, v) VALUES ('x', 1)", args: [] });
    // another process's connection holds the write lock
    const other = new Database(path);
    other.prepare("BEGIN IMMEDIATE").run();
    let written = false;
    const write = client.execute({ sql: "UPDATE t SET v = 2 WHERE k = 'x'", args: [] }).then((rs) => {
      written = true;
      return rs;
    });
    await new Promise((r) => setTimeout(r, 200));
    const read = await client.execute("SELECT v FROM t WHERE k = 'x'");
    expect(read.rows[0].v).toBe(1);
    const snapshot = await client.batch(["SELECT v FROM t WHERE k = 'x'", "SELECT count(*) AS n FROM t"], "read");
    expect(snapshot.map((rs) => rs.rows[0][0])).toEqual([1, 1]);
    expect(written).toBe(false);
    other.prepare("COMMIT").run();
    other.close();
    expect((await write).rowsAffected).toBe(1);
    expect((await client.execute("SELECT v FROM t WHERE k = 'x'")).rows[0].v).toBe(2);
    client.close();
  });

  it("keeps rows by index and by column name, and rejects after close", async () => {
    const { client } = await fresh();
    const rs = await client.execute({ sql: "INSERT INTO t (k, v) VALUES (:k, :v) RETURNING k, v", args: { k: "n", v: 7 } });
    expect(rs.columns).toEqual(["k", "v"]);
    expect([rs.rows[0][0], rs.rows[0].k, rs.rows[0].v, rs.rows[0].length]).toEqual(["n", "n", 7, 2]);
    const plain = await client.execute({ sql: "DELETE FROM t WHERE k = ?", args: ["n"] });
    expect(plain.rowsAffected).toBe(1);
    client.close();
    await expect(client.execute("SELECT 1")).rejects.toMatchObject({ code: "CLIENT_CLOSED" });
  });

  it("fails the writes a dead writer thread held, unacknowledged, and writes again with a new one", async () => {
    const { client } = await fresh();
    const writer = (client as any).writer as import("node:worker_threads").Worker;
    const lost = client.execute({ sql: "INSERT INTO t (k, v) VALUES ('lost', 1)", args: [] });
    await writer.terminate();
    await expect(lost).rejects.toMatchObject({ code: "SQLITE_IOERR" });
    expect((client as any).writer).not.toBe(writer);
    const rs = await client.execute({ sql: "INSERT INTO t (k, v) VALUES ('next', 2) RETURNING v", args: [] });
    expect(rs.rows[0].v).toBe(2);
    expect((await client.execute("SELECT k FROM t ORDER BY k")).rows.map((r) => r.k)).toEqual(["next"]);
    client.close();
  });
});
