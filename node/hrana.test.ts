import { createClient, LibsqlError } from "@libsql/client/web";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHranaHandler, type HranaServer } from "./hrana";

let dir: string;
let hrana: HranaServer;
let client: ReturnType<typeof createClient>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kf-hrana-"));
  hrana = createHranaHandler({ path: join(dir, "db.sqlite") });
  client = createClient({ url: "http://db.internal", fetch: (input: Request | string, init?: RequestInit) => hrana.handler(new Request(input, init)) } as Parameters<typeof createClient>[0]);
});
afterAll(() => {
  client.close();
  hrana.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("Hrana endpoint (as @libsql/client/web sees it)", () => {
  it("executes with positional and named arguments, round-tripping every type", async () => {
    await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE, f REAL, b BLOB, n INTEGER)");
    const ins = await client.execute({ sql: "INSERT INTO t (v, f, b, n) VALUES (?, ?, ?, ?) RETURNING id", args: ["a", 1.5, new Uint8Array([1, 2, 3]), 9007199254740991] });
    expect(ins.rows[0].id).toBe(1);
    await client.execute({ sql: "INSERT INTO t (v, f, b, n) VALUES (:v, :f, NULL, NULL)", args: { v: "b", f: 2 } });
    const rs = await client.execute({ sql: "SELECT v, f, b, n FROM t WHERE v = ?", args: ["a"] });
    expect(rs.columns).toEqual(["v", "f", "b", "n"]);
    expect(rs.rows[0].v).toBe("a");
    expect(rs.rows[0].f).toBe(1.5);
    expect([...new Uint8Array(rs.rows[0].b as ArrayBuffer)]).toEqual([1, 2, 3]);
    expect(rs.rows[0].n).toBe(9007199254740991);
    const nulls = await client.execute("SELECT b, n FROM t WHERE v = 'b'");
    expect(nulls.rows[0].b).toBeNull();
  });

  it("runs a batch atomically: a failing statement rolls back the ones before it, with the SQLite code", async () => {
    await expect(
      client.batch([
        { sql: "INSERT INTO t (v) VALUES (?)", args: ["c"] },
        { sql: "INSERT INTO t (v) VALUES (?)", args: ["a"] },
      ], "write"),
    ).rejects.toSatisfy((e: unknown) => e instanceof LibsqlError && e.code === "SQLITE_CONSTRAINT_UNIQUE");
    const c = await client.execute("SELECT count(*) AS n FROM t WHERE v = 'c'");
    expect(c.rows[0].n).toBe(0);
    const ok = await client.batch([{ sql: "INSERT INTO t (v) VALUES ('d')", args: [] }, "UPDATE t SET f = 3 WHERE v = 'd'"], "write");
    expect(ok[1].rowsAffected).toBe(1);
  });

  it("keeps an interactive transaction to itself until it ends", async () => {
    const tx = await client.transaction("write");
    await tx.execute("INSERT INTO t (v) VALUES ('tx')");
    // another stream waits for the transaction instead of seeing or joining it
    const other = client.execute("SELECT count(*) AS n FROM t WHERE v = 'tx'");
    await tx.rollback();
    expect((await other).rows[0].n).toBe(0);
    await client.executeMultiple("INSERT INTO t (v) VALUES ('m1'); INSERT INTO t (v) VALUES ('m2');");
    expect((await client.execute("SELECT count(*) AS n FROM t WHERE v LIKE 'm%'")).rows[0].n).toBe(2);
  });

  it("answers unknown batons with 400", async () => {
    const res = await hrana.handler(new Request("http://db.internal/v2/pipeline", { method: "POST", body: JSON.stringify({ baton: "nope", requests: [] }) }));
    expect(res.status).toBe(400);
  });
});
