/**
 * The embedded store's writer thread (node/db.ts starts it): the one connection that
 * writes, so that a commit's fsync never holds up the server's event loop, and group
 * commit, so that one fsync serves every write that arrived while the last one ran.
 *
 * Protocol: the main thread posts `{ units: [{ id, stmts }] }` (a unit: one statement, or
 * a write batch that must be atomic); the thread answers `{ results: [{ id, sets } | { id, error }] }`
 * only after the COMMIT that made the unit durable has returned. Units that arrive in
 * the same turn of this thread's loop share one transaction, each inside its own
 * SAVEPOINT: a unit that fails is rolled back alone and the others commit, exactly as if
 * they had run one after another (SQLite serialises them in this order). A failed
 * COMMIT fails every unit of the group (none of them is on disk).
 *
 * It is plain JavaScript in a string (run with `new Worker(…, { eval: true })`) so that
 * it needs no TypeScript loader in the thread and survives bundling.
 */
export const WRITER_SOURCE = `
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.libsql);
const db = new Database(workerData.path);
const pragma = (sql) => db.prepare(sql).run();
// waiting here for another process's write lock blocks this thread only
pragma("PRAGMA busy_timeout = " + Number(workerData.busyTimeoutMs));
pragma("PRAGMA synchronous = " + (workerData.synchronous === "NORMAL" ? "NORMAL" : "FULL"));

const cache = new Map();
const prepare = (sql) => {
  let e = cache.get(sql);
  if (e) return e;
  if (cache.size >= 256) cache.clear();
  const stmt = db.prepare(sql);
  stmt.safeIntegers(true);
  const reader = stmt.reader;
  if (reader) stmt.raw(true);
  e = { stmt, reader, columns: reader ? stmt.columns().map((c) => c.name) : [] };
  cache.set(sql, e);
  return e;
};
const runStmt = (s) => {
  const e = prepare(s.sql);
  if (e.reader) return { columns: e.columns, rows: e.stmt.all(s.args), rowsAffected: 0, lastInsertRowid: undefined };
  const info = e.stmt.run(s.args);
  return { columns: [], rows: [], rowsAffected: info.changes, lastInsertRowid: BigInt(info.lastInsertRowid) };
};
const plain = (e, index) => ({
  message: String((e && e.message) || e),
  code: e && e.code,
  rawCode: e && e.rawCode,
  libsql: !!(e && e.rawCode !== undefined),
  index,
});

let queue = [];
let scheduled = false;
let closing = false;

const flush = () => {
  scheduled = false;
  const units = queue;
  queue = [];
  if (units.length === 0) return finish();
  const out = new Array(units.length);
  try {
    pragma("BEGIN IMMEDIATE");
  } catch (e) {
    const err = plain(e, 0);
    parentPort.postMessage({ results: units.map((u) => ({ id: u.id, error: err })) });
    return finish();
  }
  for (let i = 0; i < units.length; i++) {
    const u = units[i];
    pragma("SAVEPOINT unit");
    let k = 0;
    try {
      const sets = [];
      for (; k < u.stmts.length; k++) sets.push(runStmt(u.stmts[k]));
      pragma("RELEASE unit");
      out[i] = { id: u.id, sets };
    } catch (e) {
      const err = plain(e, k);
      if (!db.inTransaction) {
        // SQLite rolled the whole transaction back (I/O error, full disk): every unit of the group is lost
        for (let j = 0; j < units.length; j++) out[j] = { id: units[j].id, error: err };
        parentPort.postMessage({ results: out });
        return finish();
      }
      pragma("ROLLBACK TO unit");
      pragma("RELEASE unit");
      out[i] = { id: u.id, error: err };
    }
  }
  try {
    pragma("COMMIT");
  } catch (e) {
    const err = plain(e, 0);
    try {
      if (db.inTransaction) pragma("ROLLBACK");
    } catch {}
    for (let j = 0; j < units.length; j++) out[j] = { id: units[j].id, error: err };
  }
  parentPort.postMessage({ results: out });
  finish();
};

const finish = () => {
  if (queue.length) schedule();
  else if (closing) {
    db.close();
    parentPort.close();
  }
};
const schedule = () => {
  if (scheduled) return;
  scheduled = true;
  setImmediate(flush);
};

parentPort.on("message", (m) => {
  if (m.close) {
    closing = true;
    if (!scheduled) finish();
    return;
  }
  for (const u of m.units) queue.push(u);
  schedule();
});
parentPort.postMessage({ ready: true });
`;
