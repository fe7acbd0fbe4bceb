/**
 * A development and test endpoint speaking the libSQL remote protocol (Hrana v2 over
 * HTTP: `POST /v2/pipeline`, JSON) on top of the embedded libsql driver, so the bundled
 * Worker can use `@libsql/client/web` against a local file the way it uses Turso or
 * sqld in production. Not for production use.
 *
 * One connection serves every stream, and requests are serialized on it: a stream that
 * leaves a transaction open keeps the connection to itself until it commits, rolls back
 * or closes (or goes idle), so concurrent streams never interleave inside a transaction
 * and a batch (`BEGIN`, steps, `COMMIT`/`ROLLBACK` under conditions) is atomic.
 * Connection-level state (PRAGMAs, temp tables) is therefore shared by all streams.
 *
 * The driver is used directly rather than through `@libsql/client`'s `file:` mode, which
 * hides whether a transaction is open. Arguments are always bound as one array: the
 * driver reads a lone object argument (a blob, a null) as a map of named parameters, and
 * aborts the process when such a map meets an unnamed `?`.
 */
import { serve } from "@hono/node-server";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import Database from "libsql";

type Value =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

interface Stmt {
  sql?: string;
  sql_id?: number;
  args?: Value[];
  named_args?: { name: string; value: Value }[];
  want_rows?: boolean;
}

type Cond =
  | { type: "ok"; step: number }
  | { type: "error"; step: number }
  | { type: "not"; cond: Cond }
  | { type: "and"; conds: Cond[] }
  | { type: "or"; conds: Cond[] }
  | { type: "is_autocommit" };

interface StmtResult {
  cols: { name: string; decltype: string | null }[];
  rows: Value[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
}

interface Stream {
  id: string;
  /** SQL texts stored with `store_sql`, by id */
  sqls: Map<number, string>;
  lastSeen: number;
}

/** An error reported to the client as `{message, code}`. */
class HranaError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Hrana value → driver value. Integers stay bigint so they bind as INTEGER (numbers bind as REAL). */
const decodeValue = (v: Value): unknown => {
  switch (v?.type) {
    case "null":
      return null;
    case "integer":
      try {
        return BigInt(v.value);
      } catch {
        throw new HranaError(`invalid integer ${JSON.stringify(v.value)}`, "HRANA_PROTO_ERROR");
      }
    case "float":
      return Number(v.value);
    case "text":
      return String(v.value);
    case "blob":
      return Buffer.from(v.base64 ?? "", "base64");
    default:
      throw new HranaError(`unknown value type ${String((v as { type?: unknown })?.type)}`, "HRANA_PROTO_ERROR");
  }
};

/** Driver value (with safe integers on) → Hrana value. */
const encodeValue = (v: unknown): Value => {
  if (v === null || v === undefined) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: v.toString() };
  if (typeof v === "number") return { type: "float", value: v };
  if (typeof v === "string") return { type: "text", value: v };
  if (v instanceof Uint8Array) return { type: "blob", base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  if (v instanceof ArrayBuffer) return { type: "blob", base64: Buffer.from(v).toString("base64") };
  return { type: "text", value: String(v) };
};

const sqliteError = (e: unknown): HranaError => {
  if (e instanceof HranaError) return e;
  const err = e as { message?: string; code?: string };
  // the driver's `code` is the extended SQLite code name, e.g. SQLITE_CONSTRAINT_UNIQUE
  return new HranaError(err?.message ?? String(e), typeof err?.code === "string" && err.code.startsWith("SQLITE_") ? err.code : "SQLITE_ERROR");
};

const errorBody = (e: unknown) => {
  const h = sqliteError(e);
  return { message: h.message, code: h.code };
};

const dbPathOf = (o: { path?: string; url?: string }): string => {
  if (o.path) return o.path;
  if (!o.url) throw new Error("createHranaHandler needs a path or a file: URL");
  if (o.url.startsWith("file://")) return fileURLToPath(o.url);
  if (o.url.startsWith("file:")) return o.url.slice("file:".length);
  throw new Error(`only file: URLs can be served, not ${o.url}`);
};

/** SQLite's IdChar: letters, digits, `_`, `$` and every non-ASCII character. */
const isIdChar = (c: string | undefined) => c !== undefined && (/[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) >= 0x80);

/**
 * The parameters of a SQL text and the indexes SQLite gives them (sqlite3ExprAssignVarNumber):
 * `?` takes the next index, `?NNN` index NNN, and `:name`/`@name`/`$name` the index of an
 * earlier use of the same spelling or else the next one. Strings, quoted identifiers and
 * comments are skipped. Only needed to bind named arguments: the driver binds an array by
 * index, while binding a name map crashes it on an anonymous `?`, and asking SQLite
 * (EXPLAIN) leaves write statements active on the connection.
 */
export const sqlParameters = (sql: string): { index: number; name: string | null }[] => {
  const out: { index: number; name: string | null }[] = [];
  const byName = new Map<string, number>();
  let count = 0;
  let i = 0;
  const skipQuoted = (close: string, doubled: boolean) => {
    for (i++; i < sql.length; i++) {
      if (sql[i] !== close) continue;
      if (doubled && sql[i + 1] === close) i++;
      else break;
    }
    i++;
  };
  while (i < sql.length) {
    const c = sql[i];
    if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === "'" || c === '"' || c === "`") {
      skipQuoted(c, true);
    } else if (c === "[") {
      skipQuoted("]", false);
    } else if (c === "?") {
      let j = i + 1;
      while (j < sql.length && sql[j] >= "0" && sql[j] <= "9") j++;
      if (j === i + 1) out.push({ index: ++count, name: null });
      else {
        const index = Number(sql.slice(i + 1, j));
        count = Math.max(count, index);
        out.push({ index, name: sql.slice(i, j) });
      }
      i = j;
    } else if (c === ":" || c === "@" || c === "$" || c === "#") {
      // tokenize.c CC_VARALPHA/CC_DOLLAR: IdChars, `::` pairs, and a Tcl-style `(...)` suffix
      let j = i + 1;
      let n = 0;
      while (j < sql.length) {
        const d = sql[j];
        if (isIdChar(d)) {
          n++;
          j++;
        } else if (d === "(" && n > 0) {
          while (j < sql.length && !/\s/.test(sql[j]) && sql[j] !== ")") j++;
          if (sql[j] === ")") j++;
          break;
        } else if (d === ":" && sql[j + 1] === ":") j += 2;
        else break;
      }
      if (n > 0) {
        const name = sql.slice(i, j);
        let index = byName.get(name);
        if (index === undefined) byName.set(name, (index = ++count));
        out.push({ index, name });
      }
      i = Math.max(j, i + 1);
    } else if (isIdChar(c)) {
      // identifiers, keywords, numbers (so a `$` inside a name is not a parameter)
      while (i < sql.length && isIdChar(sql[i])) i++;
    } else i++;
  }
  return out;
};

export interface HranaServer {
  handler(req: Request): Promise<Response>;
  close(): void;
}

export interface HranaOptions {
  /** SQLite file to serve */
  path?: string;
  /** the same as a `file:` URL */
  url?: string;
  /** a stream unseen this long is dropped (rolling back its open transaction); default 60 s */
  idleMs?: number;
}

export function createHranaHandler(o: HranaOptions): HranaServer {
  const db = new Database(dbPathOf(o));
  // the busy timeout first: `npm run dev` opens the file right after another connection closed it,
  // whose closing checkpoint may still hold the lock (a fresh start failed with "database is locked")
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA journal_mode = WAL");
  const counters = db.prepare("SELECT changes(), total_changes(), last_insert_rowid()");
  counters.safeIntegers(true);
  counters.raw(true);
  // all(), not get(): a statement left mid-step would make COMMIT fail with SQLITE_BUSY
  const readCounters = () => (counters.all([]) as [bigint, bigint, bigint][])[0];

  const streams = new Map<string, Stream>();
  const batons = new Map<string, string>();
  const idleMs = o.idleMs ?? 60_000;

  // the connection's owner: the stream running a request, or holding an open transaction
  let owner: string | null = null;
  let waiters: (() => void)[] = [];
  const release = () => {
    owner = null;
    const next = waiters;
    waiters = [];
    for (const w of next) w();
  };
  const acquire = async (stream: string) => {
    while (owner !== null && owner !== stream) await new Promise<void>((r) => waiters.push(r));
    owner = stream;
  };
  const rollback = () => {
    if (db.inTransaction) db.exec("ROLLBACK");
  };

  // drop streams that vanished (a crashed client), so a transaction they left open does not block the others
  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const [id, s] of streams) {
        if (now - s.lastSeen < idleMs) continue;
        streams.delete(id);
        if (owner === id) {
          rollback();
          release();
        }
      }
      for (const [baton, id] of batons) if (!streams.has(id)) batons.delete(baton);
    },
    Math.min(idleMs, 5_000),
  );
  sweeper.unref();

  const sqlOf = (s: Stream, stmt: { sql?: string; sql_id?: number }): string => {
    if (typeof stmt?.sql === "string") return stmt.sql;
    if (stmt?.sql_id !== undefined && s.sqls.has(stmt.sql_id)) return s.sqls.get(stmt.sql_id)!;
    throw new HranaError("statement has neither sql nor a known sql_id", "HRANA_PROTO_ERROR");
  };

  /** Positional arguments bind to ?1..?n; named ones (with or without their `:`/`@`/`$`) to their parameter. */
  const bindArgs = (sql: string, stmt: Stmt): unknown[] => {
    const args = (stmt.args ?? []).map(decodeValue);
    if (!stmt.named_args?.length) return args;
    const named = new Map(stmt.named_args.map((a) => [a.name, decodeValue(a.value)]));
    for (const { index, name } of sqlParameters(sql)) {
      if (!name || name[0] === "?") continue;
      const key = named.has(name) ? name : named.has(name.slice(1)) ? name.slice(1) : undefined;
      if (key === undefined) continue;
      while (args.length < index) args.push(null);
      args[index - 1] = named.get(key);
    }
    return args;
  };

  const execute = (s: Stream, stmt: Stmt): StmtResult => {
    const sql = sqlOf(s, stmt);
    try {
      const prepared = db.prepare(sql);
      const args = bindArgs(sql, stmt);
      const before = readCounters()[1];
      let cols: StmtResult["cols"] = [];
      let rows: unknown[][] = [];
      if (prepared.reader) {
        cols = prepared.columns().map((c) => ({ name: c.name, decltype: c.type ?? null }));
        prepared.safeIntegers(true);
        rows = prepared.raw(true).all(args) as unknown[][];
      } else {
        prepared.run(args);
      }
      // changes() and last_insert_rowid() are stale unless this statement changed rows itself
      const [changes, total, rowid] = readCounters();
      const changed = total !== before;
      return {
        cols,
        rows: stmt.want_rows === false ? [] : rows.map((r) => r.map(encodeValue)),
        affected_row_count: changed ? Number(changes) : 0,
        last_insert_rowid: changed ? rowid.toString() : null,
      };
    } catch (e) {
      throw sqliteError(e);
    }
  };

  const holds = (c: Cond, results: unknown[], errors: unknown[]): boolean => {
    switch (c?.type) {
      case "ok":
        return results[c.step] != null;
      case "error":
        return errors[c.step] != null;
      case "not":
        return !holds(c.cond, results, errors);
      case "and":
        return c.conds.every((x) => holds(x, results, errors));
      case "or":
        return c.conds.some((x) => holds(x, results, errors));
      case "is_autocommit":
        return !db.inTransaction;
      default:
        throw new HranaError(`unknown condition ${String((c as { type?: unknown })?.type)}`, "HRANA_PROTO_ERROR");
    }
  };

  /** One request of a pipeline; throws a HranaError for an error result. */
  const run = (s: Stream, req: any): unknown => {
    switch (req?.type) {
      case "execute":
        return { type: "execute", result: execute(s, req.stmt) };
      case "batch": {
        const steps: { condition?: Cond | null; stmt: Stmt }[] = req.batch?.steps ?? [];
        const results: (StmtResult | null)[] = [];
        const errors: ({ message: string; code: string } | null)[] = [];
        steps.forEach((step, i) => {
          results[i] = null;
          errors[i] = null;
          if (step.condition && !holds(step.condition, results, errors)) return;
          try {
            results[i] = execute(s, step.stmt);
          } catch (e) {
            errors[i] = errorBody(e);
          }
        });
        return { type: "batch", result: { step_results: results, step_errors: errors } };
      }
      case "sequence":
        try {
          db.exec(sqlOf(s, req));
        } catch (e) {
          throw sqliteError(e);
        }
        return { type: "sequence" };
      case "describe": {
        const sql = sqlOf(s, req);
        try {
          const p = db.prepare(sql);
          const params: { name: string | null }[] = [];
          for (const { index, name } of sqlParameters(sql)) params[index - 1] = { name };
          return {
            type: "describe",
            result: {
              params: Array.from(params, (p) => p ?? { name: null }),
              cols: p.reader ? p.columns().map((c) => ({ name: c.name, decltype: c.type ?? null })) : [],
              is_explain: /^\s*explain\b/i.test(sql),
              // the driver does not expose sqlite3_stmt_readonly; describe is informational only
              is_readonly: p.reader && /^\s*(select|values)\b/i.test(sql),
            },
          };
        } catch (e) {
          throw sqliteError(e);
        }
      }
      case "store_sql":
        if (typeof req.sql_id !== "number" || typeof req.sql !== "string") throw new HranaError("store_sql needs sql_id and sql", "HRANA_PROTO_ERROR");
        s.sqls.set(req.sql_id, req.sql);
        return { type: "store_sql" };
      case "close_sql":
        s.sqls.delete(req.sql_id);
        return { type: "close_sql" };
      case "get_autocommit":
        return { type: "get_autocommit", is_autocommit: !db.inTransaction };
      case "close":
        return { type: "close" };
      default:
        throw new HranaError(`unknown request type ${String(req?.type)}`, "HRANA_PROTO_ERROR");
    }
  };

  const pipeline = async (body: { baton?: string | null; requests: unknown[] }): Promise<Response> => {
    let stream: Stream | undefined;
    if (body.baton) {
      // a baton is good for one request; the reply carries the next
      const id = batons.get(body.baton);
      batons.delete(body.baton);
      stream = id ? streams.get(id) : undefined;
      if (!stream) return Response.json({ message: "unknown or expired baton" }, { status: 400 });
    } else {
      stream = { id: randomBytes(12).toString("hex"), sqls: new Map(), lastSeen: Date.now() };
      streams.set(stream.id, stream);
    }
    stream.lastSeen = Date.now();
    await acquire(stream.id);
    stream.lastSeen = Date.now();
    const results: unknown[] = [];
    let closed = false;
    try {
      for (const req of body.requests) {
        if (closed) {
          results.push({ type: "error", error: { message: "stream is closed", code: "STREAM_CLOSED" } });
          continue;
        }
        try {
          results.push({ type: "ok", response: run(stream, req) });
        } catch (e) {
          results.push({ type: "error", error: errorBody(e) });
        }
        if ((req as { type?: unknown })?.type === "close") closed = true;
      }
    } finally {
      if (closed || !streams.has(stream.id)) {
        closed = true;
        rollback();
        streams.delete(stream.id);
      }
      // keep the connection while this stream's transaction is open
      if (closed || !db.inTransaction) release();
    }
    let baton: string | null = null;
    if (!closed) {
      baton = `${stream.id}.${randomBytes(8).toString("hex")}`;
      batons.set(baton, stream.id);
    }
    return Response.json({ baton, base_url: null, results });
  };

  return {
    handler: async (req: Request) => {
      const url = new URL(req.url);
      if (req.method === "GET" && ["/", "/v2", "/health"].includes(url.pathname)) return new Response("ok");
      if (url.pathname !== "/v2/pipeline") return new Response("not found", { status: 404 });
      if (req.method !== "POST") return new Response("method not allowed", { status: 405 });
      let body: any;
      try {
        body = await req.json();
      } catch {
        return Response.json({ message: "invalid JSON" }, { status: 400 });
      }
      if (!body || typeof body !== "object" || !Array.isArray(body.requests))
        return Response.json({ message: "expected {baton, requests: [...]}" }, { status: 400 });
      return pipeline(body);
    },
    close: () => {
      clearInterval(sweeper);
      streams.clear();
      batons.clear();
      db.close();
    },
  };
}

/** Serve the endpoint over HTTP (for `wrangler dev` and remote-style clients). */
export async function serveHrana(o: HranaOptions & { port: number; host: string }): Promise<{ url: string; close(): Promise<void> }> {
  const h = createHranaHandler(o);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: h.handler, port: o.port, hostname: o.host }, (info) =>
      resolve({
        url: `http://${o.host.includes(":") ? `[${o.host}]` : o.host}:${info.port}`,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => {
              h.close();
              r();
            });
            // idle keep-alive sockets would hold close() open
            (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
          }),
      }),
    );
    server.on("error", (e) => {
      h.close();
      reject(e);
    });
  });
}
