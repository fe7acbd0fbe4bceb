import { createClient as createNodeClient } from "@libsql/client";
import { createClient, LibsqlError, type Client } from "@libsql/client/web";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Database from "libsql";
import { createHranaHandler, serveHrana, sqlParameters, type HranaServer } from "./hrana";

let dir: string;
let hrana: HranaServer;
let client: Client;
let big: Client;

/** a web client whose transport is the handler itself, as the Worker's service binding is */
const clientFor = (h: HranaServer, intMode: "number" | "bigint" = "number") =>
  createClient({ url: "http://db.internal", intMode, fetch: (input: Request | string, init?: RequestInit) => h.handler(new Request(input, init)) });

/** POST one raw pipeline */
const pipeline = async (body: unknown) => {
  const res = await hrana.handler(new Request("http://db.internal/v2/pipeline", { method: "POST", body: JSON.stringify(body) }));
  return { status: res.status, body: (await res.json()) as any };
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kf-hrana-"));
  hrana = createHranaHandler({ path: join(dir, "db.sqlite") });
  client = clientFor(hrana);
  big = clientFor(hrana, "bigint");
});
afterAll(() => {
  client.close();
  big.close();
  hrana.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("Hrana endpoint (as @libsql/client/web sees it)", () => {
  it("executes with positional and named arguments, round-tripping every type", async () => {
    await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE, f REAL, b BLOB, n INTEGER)");
    const ins = await client.execute({
      sql: "INSERT INTO t (v, f, b, n) VALUES (?, ?, ?, ?) RETURNING id",
      args: ["a", 1.5, new Uint8Array([1, 2, 3]), 9007199254740991],
    });
    expect(ins.rows[0].id).toBe(1);
    await client.execute({ sql: "INSERT INTO t (v, f, b, n) VALUES (:v, @f, NULL, $n)", args: { v: "b", f: 2, n: null } });
    const rs = await client.execute({ sql: "SELECT v, f, b, n FROM t WHERE v = ?", args: ["a"] });
    expect(rs.columns).toEqual(["v", "f", "b", "n"]);
    expect(rs.columnTypes).toEqual(["TEXT", "REAL", "BLOB", "INTEGER"]);
    expect(rs.rows[0].v).toBe("a");
    expect(rs.rows[0].f).toBe(1.5);
    expect([...new Uint8Array(rs.rows[0].b as ArrayBuffer)]).toEqual([1, 2, 3]);
    expect(rs.rows[0].n).toBe(9007199254740991);
    const nulls = await client.execute("SELECT v, f, b, n FROM t WHERE v = 'b'");
    expect(nulls.rows[0]).toMatchObject({ v: "b", f: 2, b: null, n: null });
    expect(await client.execute({ sql: "SELECT ? AS s", args: ["héllo 👋"] }).then((r) => r.rows[0].s)).toBe("héllo 👋");
  });

  it("binds a lone blob or null argument (the driver reads a lone object as named parameters)", async () => {
    const blob = await client.execute({ sql: "SELECT ? AS b, typeof(?1) AS t", args: [new Uint8Array([7, 0, 255])] });
    expect([...new Uint8Array(blob.rows[0].b as ArrayBuffer)]).toEqual([7, 0, 255]);
    expect(blob.rows[0].t).toBe("blob");
    const empty = await client.execute({ sql: "SELECT typeof(?) AS t, length(?1) AS l", args: [new Uint8Array(0)] });
    expect(empty.rows[0]).toMatchObject({ t: "blob", l: 0 });
    const nul = await client.execute({ sql: "SELECT typeof(?) AS t", args: [null] });
    expect(nul.rows[0].t).toBe("null");
  });

  it("binds integers as INTEGER and floats as REAL, as sqld does", async () => {
    const rs = await client.execute({ sql: "SELECT typeof(?) AS a, typeof(?) AS b, typeof(?) AS c, ? AS d", args: [5n, 1.5, true, 2] });
    // the client sends JS numbers as floats and booleans as integers
    expect(rs.rows[0]).toMatchObject({ a: "integer", b: "real", c: "integer", d: 2 });
  });

  it("maps named arguments the way SQLite numbers parameters, also mixed with ?NNN and repeated names", async () => {
    const rs = await client.execute({ sql: "SELECT :a AS a1, ?2 AS p2, @b AS b, :a AS a2, $c AS c", args: { a: "x", b: "y", $c: "z" } });
    expect(rs.rows[0]).toMatchObject({ a1: "x", p2: null, b: "y", a2: "x", c: "z" });
    // named arguments on a statement with an anonymous parameter: no crash, the name binds, the ? stays NULL
    const anon = await client.execute({ sql: "SELECT ? AS q, :n AS n", args: { n: 1 } });
    expect(anon.rows[0]).toMatchObject({ q: null, n: 1 });
    // positional and named arguments together (raw protocol: the client API cannot express it)
    const r = await pipeline({
      baton: null,
      requests: [
        {
          type: "execute",
          stmt: {
            sql: "SELECT ? AS p, :k AS k",
            args: [{ type: "text", value: "pos" }],
            named_args: [{ name: ":k", value: { type: "integer", value: "42" } }],
          },
        },
        { type: "close" },
      ],
    });
    expect(r.body.results[0].response.result.rows[0]).toEqual([
      { type: "text", value: "pos" },
      { type: "integer", value: "42" },
    ]);
  });

  it("returns RETURNING rows, affected row counts and the last rowid", async () => {
    await client.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, x INTEGER)");
    const ins = await client.execute({ sql: "INSERT INTO r (x) VALUES (?), (?) RETURNING id, x * 10 AS x10", args: [1n, 2n] });
    expect(ins.rows.map((r) => [r.id, r.x10])).toEqual([
      [1, 10],
      [2, 20],
    ]);
    expect(ins.rowsAffected).toBe(2);
    expect(ins.lastInsertRowid).toBe(2n);
    const upd = await client.execute("UPDATE r SET x = x + 1 RETURNING x");
    expect(upd.rows.map((r) => r.x).sort()).toEqual([2, 3]);
    expect(upd.rowsAffected).toBe(2);
    const plain = await client.execute({ sql: "INSERT INTO r (x) VALUES (?)", args: [9n] });
    expect(plain.rowsAffected).toBe(1);
    expect(plain.lastInsertRowid).toBe(3n);
    // statements that change nothing report nothing, not the previous statement's counts
    const none = await client.execute("UPDATE r SET x = 0 WHERE id = 999 RETURNING id");
    expect(none.rows).toEqual([]);
    expect(none.rowsAffected).toBe(0);
    expect((await client.execute("CREATE TABLE r2 (a)")).rowsAffected).toBe(0);
    expect((await client.execute("SELECT * FROM r")).rowsAffected).toBe(0);
  });

  it("round-trips 64-bit integers in bigint mode and refuses unsafe ones in number mode", async () => {
    await big.execute("CREATE TABLE bi (n INTEGER)");
    const max = 9223372036854775807n;
    const min = -9223372036854775808n;
    await big.batch([{ sql: "INSERT INTO bi VALUES (?), (?), (?)", args: [max, min, 9007199254740993n] }], "write");
    const rs = await big.execute("SELECT n FROM bi ORDER BY n");
    expect(rs.rows.map((r) => r.n)).toEqual([min, 9007199254740993n, max]);
    expect((await big.execute({ sql: "SELECT ? = 9223372036854775807 AS eq", args: [max] })).rows[0].eq).toBe(1n);
    await expect(client.execute("SELECT n FROM bi")).rejects.toThrow(RangeError);
  });

  it("reports SQLite's extended error codes", async () => {
    await expect(client.execute("INSERT INTO r (id, x) VALUES (1, 1)")).rejects.toSatisfy(
      (e: unknown) => e instanceof LibsqlError && e.code === "SQLITE_CONSTRAINT_PRIMARYKEY",
    );
    await expect(client.execute("SELEC 1")).rejects.toSatisfy(
      (e: unknown) => e instanceof LibsqlError && e.code === "SQLITE_ERROR" && /syntax error/.test(e.message),
    );
    await expect(client.execute("SELECT * FROM missing")).rejects.toSatisfy((e: unknown) => e instanceof LibsqlError && /no such table/.test(e.message));
  });

  it("runs a batch atomically: a failing statement rolls back the ones before it, with the SQLite code", async () => {
    await expect(
      client.batch(
        [
          { sql: "INSERT INTO t (v) VALUES (?)", args: ["c"] },
          { sql: "INSERT INTO t (v) VALUES (?)", args: ["a"] },
          { sql: "INSERT INTO t (v) VALUES (?)", args: ["e"] },
        ],
        "write",
      ),
    ).rejects.toSatisfy((e: unknown) => e instanceof LibsqlError && e.code === "SQLITE_CONSTRAINT_UNIQUE");
    const c = await client.execute("SELECT count(*) AS n FROM t WHERE v IN ('c', 'e')");
    expect(c.rows[0].n).toBe(0);
    // and the connection is out of the failed batch's transaction
    expect((await pipeline({ baton: null, requests: [{ type: "get_autocommit" }, { type: "close" }] })).body.results[0].response.is_autocommit).toBe(true);
    const ok = await client.batch([{ sql: "INSERT INTO t (v) VALUES ('d') RETURNING v", args: [] }, "UPDATE t SET f = 3 WHERE v = 'd'"], "write");
    expect(ok[0].rows[0].v).toBe("d");
    expect(ok[1].rowsAffected).toBe(1);
    expect((await client.execute("SELECT f FROM t WHERE v = 'd'")).rows[0].f).toBe(3);
  });

  it("evaluates every batch condition and uses stored SQL", async () => {
    const int = (n: number) => ({ type: "integer", value: String(n) });
    const r = await pipeline({
      baton: null,
      requests: [
        { type: "store_sql", sql_id: 1, sql: "SELECT ? AS x" },
        {
          type: "batch",
          batch: {
            steps: [
              { stmt: { sql_id: 1, args: [int(0)] } }, // 0 ok
              { stmt: { sql: "SELECT * FROM missing" } }, // 1 error
              { condition: { type: "error", step: 1 }, stmt: { sql_id: 1, args: [int(2)] } }, // 2 runs
              {
                condition: {
                  type: "and",
                  conds: [
                    { type: "ok", step: 0 },
                    { type: "ok", step: 1 },
                  ],
                },
                stmt: { sql_id: 1, args: [int(3)] },
              }, // 3 skipped
              {
                condition: {
                  type: "or",
                  conds: [
                    { type: "ok", step: 3 },
                    { type: "not", cond: { type: "ok", step: 1 } },
                  ],
                },
                stmt: { sql_id: 1, args: [int(4)] },
              }, // 4 runs
              { condition: { type: "is_autocommit" }, stmt: { sql_id: 1, args: [int(5)] } }, // 5 runs
            ],
          },
        },
        { type: "close_sql", sql_id: 1 },
        { type: "execute", stmt: { sql_id: 1 } },
        { type: "sequence", sql: "CREATE TABLE seq (a); INSERT INTO seq VALUES (1); INSERT INTO seq VALUES (2);" },
        { type: "bogus" },
        { type: "close" },
        { type: "get_autocommit" },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.baton).toBeNull();
    const [stored, batch, closed, gone, seq, bogus, close, after] = r.body.results;
    expect(stored).toEqual({ type: "ok", response: { type: "store_sql" } });
    const { step_results, step_errors } = batch.response.result;
    expect(step_results.map((s: any) => s && Number(s.rows[0][0].value))).toEqual([0, null, 2, null, 4, 5]);
    expect(step_errors.map((e: any) => e?.code ?? null)).toEqual([null, "SQLITE_ERROR", null, null, null, null]);
    expect(closed.type).toBe("ok");
    expect(gone.type).toBe("error");
    expect(seq).toEqual({ type: "ok", response: { type: "sequence" } });
    expect(bogus.type).toBe("error");
    expect(close).toEqual({ type: "ok", response: { type: "close" } });
    expect(after.type).toBe("error");
    expect((await client.execute("SELECT count(*) AS n FROM seq")).rows[0].n).toBe(2);
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

  it("serializes concurrent transactions instead of interleaving them", async () => {
    await client.execute("CREATE TABLE ctr (id INTEGER PRIMARY KEY, n INTEGER)");
    await client.execute("INSERT INTO ctr VALUES (1, 0)");
    // read-modify-write in parallel transactions: lost updates would show as a total below 10
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const tx = await client.transaction("write");
        const n = (await tx.execute("SELECT n FROM ctr WHERE id = 1")).rows[0].n as number;
        await new Promise((r) => setTimeout(r, 1));
        await tx.execute({ sql: "UPDATE ctr SET n = ? WHERE id = 1", args: [n + 1] });
        await tx.commit();
      }),
    );
    expect((await client.execute("SELECT n FROM ctr")).rows[0].n).toBe(10);
  });

  it("answers bad requests with HTTP errors", async () => {
    expect((await pipeline({ baton: "nope", requests: [] })).status).toBe(400);
    expect((await pipeline({ baton: null })).status).toBe(400);
    const bad = await hrana.handler(new Request("http://db.internal/v2/pipeline", { method: "POST", body: "{" }));
    expect(bad.status).toBe(400);
    expect((await hrana.handler(new Request("http://db.internal/v2"))).status).toBe(200);
    expect((await hrana.handler(new Request("http://db.internal/v3/cursor", { method: "POST", body: "{}" }))).status).toBe(404);
    // a baton is single-use
    const first = await pipeline({ baton: null, requests: [] });
    expect((await pipeline({ baton: first.body.baton, requests: [{ type: "close" }] })).status).toBe(200);
    expect((await pipeline({ baton: first.body.baton, requests: [] })).status).toBe(400);
  });
});

describe("sqlParameters", () => {
  it("numbers parameters exactly as SQLite does", () => {
    const db = new Database(":memory:");
    db.exec('CREATE TABLE q ("@no", "$no", "?no")');
    try {
      /** SQLite's own answer: the Variable opcodes (index, name) of the statement's program */
      const fromSqlite = (sql: string) => {
        const seen = new Map<number, string | null>();
        for (const op of db.prepare(`EXPLAIN ${sql}`).raw(true).all([]) as unknown[][])
          if (op[1] === "Variable") seen.set(Number(op[2]), (op[5] as string | null) ?? null);
        return [...seen].sort((a, b) => a[0] - b[0]);
      };
      const ours = (sql: string) => [...new Map(sqlParameters(sql).map((p) => [p.index, p.name]))].sort((a, b) => a[0] - b[0]);
      for (const sql of [
        "SELECT ?, ?, ?",
        "SELECT :a, @b, $c, :a, ?, ?5, :zz, ?",
        "SELECT ?3, ?, :x, ?1, :x, @x, $x",
        "SELECT ':no', \"@no\", `$no`, [?no], 'it''s ?', ? -- :no ?\n, /* ?, :no */ :yes FROM q",
        "SELECT $a::b, $f(x), :é, @_1, :a$b, x'00', 1e5, ?",
        "SELECT a$b FROM (SELECT 1 AS a$b) WHERE a$b = ?",
      ])
        expect(ours(sql), sql).toEqual(fromSqlite(sql));
    } finally {
      db.close();
    }
  });
});

describe("serveHrana", () => {
  it("serves a file: URL over HTTP to the Node client", async () => {
    const d = mkdtempSync(join(tmpdir(), "kf-hrana-http-"));
    const server = await serveHrana({ url: `file:${join(d, "db.sqlite")}`, port: 0, host: "127.0.0.1" });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(server.url + "/v2")).status).toBe(200);
      const c = createNodeClient({ url: server.url });
      await c.batch(["CREATE TABLE x (a)", { sql: "INSERT INTO x VALUES (?)", args: [new Uint8Array([1])] }], "write");
      expect((await c.execute("SELECT typeof(a) AS t FROM x")).rows[0].t).toBe("blob");
      c.close();
    } finally {
      await server.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe("opening the file another process still locks", () => {
  it("waits for the lock (busy timeout) instead of failing with 'database is locked'", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-hrana-busy-"));
    const path = join(dir, "db.sqlite");
    const setup = new Database(path);
    setup.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x)");
    setup.close();
    // another process holds the file exclusively for a moment, as a closing connection's checkpoint does
    const { spawn } = await import("node:child_process");
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `const D = require("libsql"); const d = new D(${JSON.stringify(path)}); d.exec("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)"); process.stdout.write("locked\\n"); setTimeout(() => { d.exec("COMMIT"); d.close(); }, 500);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on("data", (d) => String(d).includes("locked") && resolve());
        holder.on("exit", (code) => reject(new Error(`the lock holder exited (${code}) before locking`)));
      });
      const h = createHranaHandler({ path });
      h.close();
    } finally {
      holder.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
