import {
  type Client,
  createClient,
  type InArgs,
  type InStatement,
  type InValue,
  LibsqlBatchError,
  LibsqlError,
  type Replicated,
  type ResultSet,
  type Row,
  type Transaction,
  type TransactionMode,
} from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import Database from "libsql";
import { createRequire } from "node:module";
import { resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { WRITER_SOURCE } from "./db-writer";

/** The committed migrations; a bundled build (bin/bundle.mjs) says where they are, since its own URL is elsewhere. */
export const MIGRATIONS_DIR = process.env.KUBEFLARE_MIGRATIONS_DIR || fileURLToPath(new URL("../migrations", import.meta.url));

export interface OpenOptions {
  authToken?: string;
  /** SQLite `synchronous` for file databases: FULL (default; survives power loss) or NORMAL (faster; survives process crashes) */
  synchronous?: "FULL" | "NORMAL";
}

/**
 * Open a libSQL database (a `file:` URL for the embedded store, or http(s)/libsql for
 * sqld/Turso) and bring its schema up to date with the committed migrations. A file
 * database is served by an {@link EmbeddedClient}: reads on this thread, writes
 * group-committed on a writer thread.
 */
export async function openDatabase(url: string, opts: OpenOptions = {}): Promise<Client> {
  const path = localPath(url);
  if (path === undefined) {
    const client = createClient({ url, authToken: opts.authToken, intMode: "number" });
    await migrateDatabase(client);
    return client;
  }
  // schema first, on a connection of its own
  const setup = createClient({ url, intMode: "number", concurrency: 1 });
  try {
    await setup.execute("PRAGMA journal_mode = WAL");
    await migrateDatabase(setup);
  } finally {
    setup.close();
  }
  const client = new EmbeddedClient(path, { synchronous: opts.synchronous ?? "FULL", url });
  await client.ready;
  return client;
}

export async function migrateDatabase(client: Client): Promise<void> {
  await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
}

/** The file path of a `file:` URL; undefined for remote and in-memory databases. */
const localPath = (url: string): string | undefined => {
  if (!url.startsWith("file:")) return undefined;
  let p = url.slice("file:".length).replace(/[?#].*$/, "");
  if (p.startsWith("//")) p = p.slice(2);
  p = decodeURIComponent(p);
  if (p === "" || p.includes(":memory:") || p.startsWith("mode=memory")) return undefined;
  return resolvePath(p);
};

type Stmt = { sql: string; args: InValue[] | Record<string, InValue> };
interface WireSet {
  columns: string[];
  rows: unknown[][];
  rowsAffected: number;
  lastInsertRowid: bigint | undefined;
}
interface WireError {
  message: string;
  code?: string;
  rawCode?: number;
  libsql: boolean;
  index: number;
}
type WireResult = { id: number; sets: WireSet[]; error?: undefined } | { id: number; error: WireError; sets?: undefined };

interface Cached {
  stmt: Database.Statement<unknown[]>;
  reader: boolean;
  columns: string[];
}

const READ = /^\s*select\b/i;
const CACHE_MAX = 512;

/**
 * The embedded store's client: the @libsql/client `Client` interface over two
 * connections to one WAL-mode file.
 *
 * - Reads (`SELECT`, and batches in "read" mode) run here, synchronously, on a
 *   query-only connection with prepared statements kept. In WAL mode they never wait
 *   for a writer and see every commit made before they start.
 * - Everything else goes to the writer thread (node/db-writer.ts): concurrent writes
 *   share one transaction and one fsync (group commit), each in its own savepoint,
 *   and a write's promise settles only after that COMMIT has returned, so an
 *   acknowledged write is as durable as `synchronous` makes it.
 *
 * Interactive transactions, `migrate` and `executeMultiple` (nothing in the server uses
 * them) go to an ordinary @libsql/client connection opened on first use.
 */
export class EmbeddedClient implements Client {
  closed = false;
  readonly protocol = "file";
  /** settles when the writer thread is up */
  readonly ready: Promise<void>;
  private readonly reader: Database.Database;
  private readonly cache = new Map<string, Cached>();
  private writer!: Worker;
  private readonly pending = new Map<number, { resolve: (sets: WireSet[]) => void; reject: (e: Error) => void; batch: boolean }>();
  private nextId = 1;
  private outbox: { id: number; stmts: Stmt[] }[] = [];
  private readonly post = () => {
    const units = this.outbox;
    this.outbox = [];
    if (units.length) this.writer.postMessage({ units });
  };
  private other?: Client;

  constructor(
    readonly path: string,
    private readonly opts: { synchronous: "FULL" | "NORMAL"; url: string; busyTimeoutMs?: number },
  ) {
    this.reader = new Database(path);
    this.reader.prepare("PRAGMA query_only = ON").run();
    this.reader.prepare("PRAGMA busy_timeout = 0").run();
    this.ready = this.startWriter();
    this.ready.catch(() => {});
  }

  /**
   * The writer thread. Should it ever end without being asked to, the writes it held
   * fail (none of them was acknowledged) and a new one takes over.
   */
  private startWriter(): Promise<void> {
    const writer = new Worker(WRITER_SOURCE, {
      eval: true,
      workerData: {
        libsql: createRequire(import.meta.url).resolve("libsql"),
        path: this.path,
        synchronous: this.opts.synchronous,
        busyTimeoutMs: this.opts.busyTimeoutMs ?? 5000,
      },
    });
    this.writer = writer;
    let failure: Error | undefined;
    writer.on("message", (m: { results?: WireResult[] }) => {
      for (const r of m.results ?? []) this.settle(r);
    });
    writer.on("error", (e) => (failure = e));
    writer.on("exit", (code) => {
      const e = new LibsqlError(`the database writer thread ended (${failure?.message ?? `exit code ${code}`})`, "SQLITE_IOERR");
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      if (!this.closed) this.startWriter().catch(() => {});
    });
    // the thread keeps the process alive only while a write is in flight (and until it is up)
    return new Promise((resolve, reject) => {
      writer.once("message", () => {
        if (this.pending.size === 0 && !this.closed) writer.unref();
        resolve();
      });
      writer.once("error", reject);
    });
  }

  execute(stmtOrSql: InStatement | string, args?: InArgs): Promise<ResultSet> {
    try {
      this.checkOpen();
      const s = normalize(typeof stmtOrSql === "string" ? { sql: stmtOrSql, args: args ?? [] } : stmtOrSql);
      if (READ.test(s.sql)) return Promise.resolve(this.read(s));
      return this.write([s], false).then((sets) => sets[0]);
    } catch (e) {
      return Promise.reject(mapError(e));
    }
  }

  batch(stmts: Array<InStatement | [string, InArgs?]>, mode: TransactionMode = "deferred"): Promise<ResultSet[]> {
    try {
      this.checkOpen();
      const list = stmts.map((s) => normalize(Array.isArray(s) ? { sql: s[0], args: s[1] ?? [] } : s));
      if (mode === "read") return Promise.resolve(this.readBatch(list));
      return this.write(list, true);
    } catch (e) {
      return Promise.reject(mapError(e));
    }
  }

  async migrate(stmts: InStatement[]): Promise<ResultSet[]> {
    return this.side().migrate(stmts);
  }

  async transaction(mode?: TransactionMode): Promise<Transaction> {
    return this.side().transaction(mode);
  }

  async executeMultiple(sql: string): Promise<void> {
    return this.side().executeMultiple(sql);
  }

  async sync(): Promise<Replicated> {
    return undefined;
  }

  reconnect(): void {
    throw new LibsqlError("reconnect is not supported by the embedded client", "NOT_IMPLEMENTED");
  }

  /** Close after the writes already handed over are committed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.other?.close();
    this.cache.clear();
    this.reader.close();
    this.writer.ref();
    this.post();
    this.writer.postMessage({ close: true });
  }

  private side(): Client {
    this.checkOpen();
    this.other ??= createClient({ url: this.opts.url, intMode: "number", concurrency: 1 });
    return this.other;
  }

  private checkOpen() {
    if (this.closed) throw new LibsqlError("The client is closed", "CLIENT_CLOSED");
  }

  private prepare(sql: string): Cached {
    let c = this.cache.get(sql);
    if (c) return c;
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    const stmt = this.reader.prepare(sql) as Database.Statement<unknown[]>;
    stmt.safeIntegers(true);
    const reader = stmt.reader;
    if (reader) stmt.raw(true);
    c = { stmt, reader, columns: reader ? stmt.columns().map((col) => col.name) : [] };
    this.cache.set(sql, c);
    return c;
  }

  private runRead(s: Stmt): ResultSet {
    const c = this.prepare(s.sql);
    if (!c.reader) {
      const info = c.stmt.run(s.args as unknown[]);
      return resultSet({ columns: [], rows: [], rowsAffected: info.changes, lastInsertRowid: BigInt(info.lastInsertRowid) });
    }
    return resultSet({ columns: c.columns, rows: c.stmt.all(s.args as unknown[]) as unknown[][], rowsAffected: 0, lastInsertRowid: undefined });
  }

  private read(s: Stmt): ResultSet {
    try {
      return this.runRead(s);
    } catch (e) {
      throw mapError(e);
    }
  }

  /** Statements of one read transaction: one snapshot for all of them. */
  private readBatch(list: Stmt[]): ResultSet[] {
    const out: ResultSet[] = [];
    this.prepare("BEGIN").stmt.run();
    try {
      for (let i = 0; i < list.length; i++) {
        try {
          out.push(this.runRead(list[i]));
        } catch (e) {
          const m = mapError(e);
          throw new LibsqlBatchError(m.message, i, m.code, m.extendedCode, m.rawCode);
        }
      }
    } finally {
      if (this.reader.inTransaction) this.prepare("COMMIT").stmt.run();
    }
    return out;
  }

  private write(stmts: Stmt[], batch: boolean): Promise<ResultSet[]> {
    const id = this.nextId++;
    return new Promise<WireSet[]>((resolve, reject) => {
      if (this.pending.size === 0) this.writer.ref();
      this.pending.set(id, { resolve, reject, batch });
      // one message per turn of the loop for all the writes it started
      if (this.outbox.push({ id, stmts }) === 1) queueMicrotask(this.post);
    }).then((sets) => sets.map(resultSet));
  }

  private settle(r: WireResult) {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0 && !this.closed) this.writer.unref();
    if (r.error) p.reject(wireError(r.error, p.batch));
    else p.resolve(r.sets);
  }
}

/** Arguments as @libsql/client hands them to SQLite (intMode "number"). */
const toSql = (v: InValue): InValue | Buffer => {
  if (typeof v === "number" && !Number.isFinite(v)) throw new RangeError("Only finite numbers (not Infinity or NaN) can be passed as arguments");
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (v instanceof Date) return v.valueOf();
  if (v === undefined) throw new TypeError("undefined cannot be passed as argument to the database");
  return v;
};

const normalize = (s: InStatement): Stmt => {
  if (typeof s === "string") return { sql: s, args: [] };
  const args = s.args ?? [];
  if (Array.isArray(args)) return { sql: s.sql, args: args.map(toSql) as InValue[] };
  const named: Record<string, InValue> = {};
  for (const [k, v] of Object.entries(args)) named[k[0] === "@" || k[0] === "$" || k[0] === ":" ? k.slice(1) : k] = toSql(v) as InValue;
  return { sql: s.sql, args: named };
};

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const fromSql = (v: unknown): InValue => {
  if (typeof v === "bigint") {
    if (v < MIN_SAFE || v > MAX_SAFE) throw new RangeError("Received integer which cannot be safely represented as a JavaScript number");
    return Number(v);
  }
  if (v instanceof Uint8Array) return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) as ArrayBuffer;
  return v as InValue;
};

/** Rows as @libsql/client makes them: values by index and by column name. */
const resultSet = (w: WireSet): ResultSet => {
  const rows = w.rows.map((raw) => {
    const row: Record<string | number, unknown> = {};
    Object.defineProperty(row, "length", { value: raw.length });
    for (let i = 0; i < raw.length; i++) {
      const value = fromSql(raw[i]);
      Object.defineProperty(row, i, { value });
      if (!Object.hasOwn(row, w.columns[i])) Object.defineProperty(row, w.columns[i], { value, enumerable: true, configurable: true, writable: true });
    }
    return row as unknown as Row;
  });
  return {
    columns: w.columns,
    columnTypes: w.columns.map(() => ""),
    rows,
    rowsAffected: w.rowsAffected,
    lastInsertRowid: w.lastInsertRowid,
    toJSON() {
      return {
        columns: w.columns,
        rows: rows.map((r) => Array.prototype.map.call(r, (v) => (typeof v === "bigint" ? String(v) : v))),
        rowsAffected: w.rowsAffected,
        lastInsertRowid: w.lastInsertRowid === undefined ? null : String(w.lastInsertRowid),
      };
    },
  };
};

const BASE_CODES: Record<number, string> = {
  1: "SQLITE_ERROR",
  2: "SQLITE_INTERNAL",
  3: "SQLITE_PERM",
  4: "SQLITE_ABORT",
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  7: "SQLITE_NOMEM",
  8: "SQLITE_READONLY",
  9: "SQLITE_INTERRUPT",
  10: "SQLITE_IOERR",
  11: "SQLITE_CORRUPT",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  17: "SQLITE_SCHEMA",
  18: "SQLITE_TOOBIG",
  19: "SQLITE_CONSTRAINT",
  20: "SQLITE_MISMATCH",
  21: "SQLITE_MISUSE",
  25: "SQLITE_RANGE",
  26: "SQLITE_NOTADB",
};
const baseCode = (raw: number) => BASE_CODES[raw & 0xff] ?? `SQLITE_UNKNOWN_${raw & 0xff}`;

/** A libsql (better-sqlite3 style) error as @libsql/client reports it: base code, extended code, raw code. */
const mapError = (e: unknown): LibsqlError => {
  if (e instanceof LibsqlError) return e;
  const err = e as { message?: string; code?: string; rawCode?: number };
  if (err && typeof err.rawCode === "number") return new LibsqlError(String(err.message), baseCode(err.rawCode), err.code, err.rawCode, e as Error);
  return e as LibsqlError;
};

const wireError = (w: WireError, batch: boolean): Error => {
  if (!w.libsql) return new LibsqlError(w.message, "SQLITE_UNKNOWN");
  const code = baseCode(w.rawCode!);
  return batch ? new LibsqlBatchError(w.message, w.index, code, w.code, w.rawCode) : new LibsqlError(w.message, code, w.code, w.rawCode);
};
