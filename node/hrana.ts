/**
 * A development and test endpoint speaking the libSQL remote protocol (Hrana v2 over
 * HTTP: `POST /v2/pipeline`) on top of the embedded libsql driver, so the bundled
 * Worker can use `@libsql/client/web` against a local file the way it uses Turso or
 * sqld in production. Not for production use.
 *
 * One connection serves every stream; a stream that leaves a transaction open keeps
 * the connection to itself until it commits, rolls back or closes.
 */
import { serve } from "@hono/node-server";
import { randomBytes } from "node:crypto";
import Database from "libsql";

type Value = { type: "null" } | { type: "integer"; value: string } | { type: "float"; value: number } | { type: "text"; value: string } | { type: "blob"; base64: string };

interface Stmt {
  sql?: string;
  sql_id?: number;
  args?: Value[];
  named_args?: { name: string; value: Value }[];
  want_rows?: boolean;
}

type Cond = { type: "ok"; step: number } | { type: "error"; step: number } | { type: "not"; cond: Cond } | { type: "and"; conds: Cond[] } | { type: "or"; conds: Cond[] } | { type: "is_autocommit" };

interface Stream {
  id: string;
  sqls: Map<number, string>;
  lastSeen: number;
}

class HranaError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const decodeValue = (v: Value): unknown => {
  switch (v.type) {
    case "null":
      return null;
    case "integer": {
      const n = BigInt(v.value);
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    }
    case "float":
      return Number(v.value);
    case "text":
      return v.value;
    case "blob":
      return Buffer.from(v.base64, "base64");
    default:
      throw new HranaError(`unknown value type ${(v as { type: string }).type}`, "HRANA_PROTO_ERROR");
  }
};

const encodeValue = (v: unknown): Value => {
  if (v === null || v === undefined) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: v.toString() };
  if (typeof v === "number") return { type: "float", value: v };
  if (typeof v === "string") return { type: "text", value: v };
  if (v instanceof Uint8Array) return { type: "blob", base64: Buffer.from(v).toString("base64") };
  return { type: "text", value: String(v) };
};

export interface HranaServer {
  handler(req: Request): Promise<Response>;
  close(): void;
}

export function createHranaHandler(o: { path: string; idleMs?: number }): HranaServer {
  const db = new Database(o.path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA busy_timeout = 5000");
  const streams = new Map<string, Stream>();
  const batons = new Map<string, string>();
  let owner: string | null = null;
  let waiters: (() => void)[] = [];
  const idleMs = o.idleMs ?? 60_000;

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

  // drop streams that vanished mid-transaction (a crashed client), so others can go on
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [id, s] of streams) {
      if (now - s.lastSeen < idleMs) continue;
      streams.delete(id);
      if (owner === id) {
        if (db.inTransaction) db.exec("ROLLBACK");
        release();
      }
    }
  }, Math.min(idleMs, 5_000));
  sweeper.unref();

  const sqlOf = (s: Stream, stmt: { sql?: string; sql_id?: number }): string => {
    if (typeof stmt.sql === "string") return stmt.sql;
    if (stmt.sql_id !== undefined && s.sqls.has(stmt.sql_id)) return s.sqls.get(stmt.sql_id)!;
    throw new HranaError("statement has neither sql nor a known sql_id", "HRANA_PROTO_ERROR");
  };

  const execute = (s: Stream, stmt: Stmt) => {
    const sql = sqlOf(s, stmt);
    let prepared;
    try {
      prepared = db.prepare(sql);
    } catch (e) {
      throw sqliteError(e);
    }
    const named = stmt.named_args?.length
      ? Object.fromEntries(stmt.named_args.map((a) => [a.name.replace(/^[:@$]/, ""), decodeValue(a.value)]))
      : undefined;
    const positional = (stmt.args ?? []).map(decodeValue);
    const params = named ? [named] : positional;
    try {
      if (prepared.reader) {
        const cols = prepared.columns().map((c: { name: string; type: string | null }) => ({ name: c.name, decltype: c.type ?? null }));
        prepared.safeIntegers(true);
        const rows = prepared.raw(true).all(...params) as unknown[][];
        return {
          cols,
          rows: stmt.want_rows === false ? [] : rows.map((r) => r.map(encodeValue)),
          affected_row_count: /^\s*(insert|update|delete|replace)/i.test(sql) ? rows.length : 0,
          last_insert_rowid: null,
        };
      }
      const info = prepared.run(...params);
      return { cols: [], rows: [], affected_row_count: info.changes, last_insert_rowid: info.lastInsertRowid === undefined ? null : String(info.lastInsertRowid) };
    } catch (e) {
      throw sqliteError(e);
    }
  };

  const holds = (c: Cond, results: unknown[], errors: unknown[]): boolean => {
    switch (c.type) {
      case "ok":
        return results[c.step] !== null && results[c.step] !== undefined;
      case "error":
        return errors[c.step] !== null && errors[c.step] !== undefined;
      case "not":
        return !holds(c.cond, results, errors);
      case "and":
        return c.conds.every((x) => holds(x, results, errors));
      case "or":
        return c.conds.some((x) => holds(x, results, errors));
      case "is_autocommit":
        return !db.inTransaction;
      default:
        throw new HranaError(`unknown condition ${(c as { type: string }).type}`, "HRANA_PROTO_ERROR");
    }
  };

  const run = (s: Stream, req: any): unknown => {
    switch (req.type) {
      case "execute":
        return { type: "execute", result: execute(s, req.stmt) };
      case "batch": {
        const steps: { condition?: Cond; stmt: Stmt }[] = req.batch?.steps ?? [];
        const results: unknown[] = [];
        const errors: unknown[] = [];
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
      case "store_sql":
        s.sqls.set(req.sql_id, req.sql);
        return { type: "store_sql" };
      case "close_sql":
        s.sqls.delete(req.sql_id);
        return { type: "close_sql" };
      case "describe": {
        const p = db.prepare(sqlOf(s, req));
        return {
          type: "describe",
          result: { params: [], cols: p.reader ? p.columns().map((c: { name: string; type: string | null }) => ({ name: c.name, decltype: c.type ?? null })) : [], is_explain: false, is_readonly: !!p.reader && /^\s*select/i.test(sqlOf(s, req)) },
        };
      }
      case "get_autocommit":
        return { type: "get_autocommit", is_autocommit: !db.inTransaction };
      case "close":
        return { type: "close" };
      default:
        throw new HranaError(`unknown request type ${String(req?.type)}`, "HRANA_PROTO_ERROR");
    }
  };

  const pipeline = async (body: any): Promise<Response> => {
    let stream: Stream | undefined;
    if (body.baton) {
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
    const results: unknown[] = [];
    let closed = false;
    try {
      for (const req of body.requests ?? []) {
        if (closed) {
          results.push({ type: "error", error: { message: "stream is closed", code: "STREAM_CLOSED" } });
          continue;
        }
        try {
          results.push({ type: "ok", response: run(stream, req) });
        } catch (e) {
          results.push({ type: "error", error: errorBody(e) });
        }
        if (req?.type === "close") closed = true;
      }
    } finally {
      if (closed) {
        if (db.inTransaction) db.exec("ROLLBACK");
        streams.delete(stream.id);
      }
      if (!db.inTransaction || closed) release();
    }
    let baton: string | null = null;
    if (!closed) {
      baton = `${stream.id}.${randomBytes(6).toString("hex")}`;
      batons.set(baton, stream.id);
    }
    return Response.json({ baton, base_url: null, results });
  };

  return {
    handler: async (req: Request) => {
      const url = new URL(req.url);
      if (req.method === "GET" && (url.pathname === "/v2" || url.pathname === "/health" || url.pathname === "/")) return new Response("ok");
      if (req.method !== "POST" || url.pathname !== "/v2/pipeline") return new Response("not found", { status: 404 });
      let body: unknown;
      try {
        body = await req.json();
      } catch {
        return Response.json({ message: "invalid JSON" }, { status: 400 });
      }
      return pipeline(body);
    },
    close: () => {
      clearInterval(sweeper);
      db.close();
    },
  };
}

const sqliteError = (e: unknown) => {
  if (e instanceof HranaError) return e;
  const err = e as { message?: string; code?: string };
  return new HranaError(err.message ?? String(e), err.code && err.code.startsWith("SQLITE") ? err.code : "SQLITE_ERROR");
};

const errorBody = (e: unknown) => {
  const h = sqliteError(e);
  return { message: h.message, code: h.code };
};

/** Serve the endpoint over HTTP (for `wrangler dev`). */
export async function serveHrana(o: { path: string; port: number; host: string }): Promise<{ url: string; close(): Promise<void> }> {
  const h = createHranaHandler({ path: o.path });
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: h.handler, port: o.port, hostname: o.host }, (info) =>
      resolve({
        url: `http://${o.host}:${info.port}`,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            h.close();
          }),
      }),
    );
    server.on("error", reject);
  });
}
