import type { Client, InStatement, ResultSet, Row } from "@libsql/client";
import type { KObject, ObjectKey } from "../../shared/types";
import { decode, decodeContinue, encode, encodeContinue, isConstraint, num, retryBusy } from "./codec";
import { changeColumns, OBJECT_COLUMNS, selectorSql } from "./select";
import {
  type Change,
  type ChangeFilter,
  type ChangesResult,
  type ChangeType,
  type CompactOptions,
  type Listener,
  type ListOptions,
  type ListResult,
  StoreError,
  type StoreOptions,
  type UniqueClaim,
  type WriteGuard,
} from "./types";

export { retryBusy } from "./codec";
export * from "./types";

/**
 * etcd semantics on libSQL, the kine way: one global revision (the `changes` log's
 * rowid), compare-and-swap writes that are each ONE guarded INSERT (the triggers keep
 * `objects` in step), snapshot lists, and a change feed watchers poll.
 *
 * This is the only module that speaks SQL. It knows nothing of Kubernetes semantics
 * beyond keys, revisions and selectors; defaulting, validation and status codes live
 * in the resource layer.
 */

export class Store {
  private listeners = new Set<Listener>();
  private writeListeners = new Set<(key: ObjectKey) => void>();
  private readonly now: () => number;
  private readonly notifyListeners: boolean;

  constructor(
    readonly client: Client,
    opts: StoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.notifyListeners = opts.notifyListeners ?? true;
  }

  /** Local commit notifications (watchers in this process wake at once). */
  onCommit(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * Every write this Store committed, by key, on every runtime (caches of what this
   * process reads: they drop what a write may have changed). Called before `onCommit`'s.
   */
  onWrite(l: (key: ObjectKey) => void): () => void {
    this.writeListeners.add(l);
    return () => this.writeListeners.delete(l);
  }

  private notify(rev: number, key: ObjectKey) {
    for (const l of this.writeListeners) {
      try {
        l(key);
      } catch {
        /* a listener's failure is its own */
      }
    }
    if (!this.notifyListeners) return;
    for (const l of this.listeners) {
      try {
        l(rev);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }

  private run<T>(f: () => Promise<T>): Promise<T> {
    return retryBusy(f);
  }

  private execute(stmt: InStatement): Promise<ResultSet> {
    return this.run(() => this.client.execute(stmt));
  }

  private batch(stmts: InStatement[], mode: "read" | "write"): Promise<ResultSet[]> {
    return this.run(() => this.client.batch(stmts, mode));
  }

  async revision(): Promise<number> {
    const rs = await this.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'");
    return num(rs.rows[0]?.seq);
  }

  /**
   * The newest change among these resources (0: none), from the (resource, rev) index:
   * a cheap check that a cached view of them (the RBAC authorizer's) is still current.
   */
  async latestRevisionOf(resources: string[]): Promise<number> {
    const rs = await this.execute({
      sql: resources.map(() => "SELECT max(rev) AS rev FROM changes WHERE resource = ?").join(" UNION ALL "),
      args: resources,
    });
    return Math.max(0, ...rs.rows.map((r) => num(r.rev)));
  }

  async compactedRevision(): Promise<number> {
    const rs = await this.execute("SELECT value FROM meta WHERE key = 'compact_rev'");
    return num(rs.rows[0]?.value);
  }

  async get(key: ObjectKey): Promise<KObject | null> {
    const rs = await this.execute({
      sql: "SELECT rev, object FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
      args: [key.resource, key.namespace, key.name],
    });
    const row = rs.rows[0];
    return row ? decode(row.object, num(row.rev)) : null;
  }

  /** Live objects whose ownerReferences name `ownerUid`. */
  async dependents(ownerUid: string): Promise<KObject[]> {
    const rs = await this.execute({
      sql: `SELECT o.rev, o.object FROM owner_refs r JOIN objects o
              ON o.resource = r.resource AND o.namespace = r.namespace AND o.name = r.name
            WHERE r.owner_uid = ? ORDER BY o.resource, o.namespace, o.name`,
      args: [ownerUid],
    });
    return rs.rows.map((r) => decode(r.object, num(r.rev)));
  }

  /** Live objects that name an owner uid no live object has (the garbage collector's sweep). */
  async danglingDependents(limit = 500): Promise<ObjectKey[]> {
    const rs = await this.execute({
      sql: `SELECT DISTINCT r.resource, r.namespace, r.name FROM owner_refs r
            WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.uid = r.owner_uid) LIMIT ?`,
      args: [limit],
    });
    return rs.rows.map(rowKey);
  }

  /** Find a live object by uid. */
  async getByUid(uid: string): Promise<{ key: ObjectKey; object: KObject } | null> {
    const rs = await this.execute({
      sql: "SELECT resource, namespace, name, rev, object FROM objects WHERE uid = ?",
      args: [uid],
    });
    const r = rs.rows[0];
    if (!r) return null;
    return { key: rowKey(r), object: decode(r.object, num(r.rev)) };
  }

  /**
   * A consistent list: the objects and the revision they were read at come from one
   * read transaction. Pages continue at the first page's revision; when the store has
   * moved on since, later pages are read from the change log as of that revision.
   */
  async list(resource: string, opts: ListOptions = {}): Promise<ListResult> {
    const limit = opts.limit && opts.limit > 0 ? Math.floor(opts.limit) : 0;
    let after = { ns: "", name: "" };
    let atRev = opts.atRevision;
    if (opts.continue) {
      const t = decodeContinue(opts.continue);
      after = { ns: t.ns, name: t.name };
      atRev = t.rev;
    }
    let current = -1;
    if (atRev !== undefined) {
      const [revRs, compactRs] = await this.batch(
        ["SELECT seq FROM sqlite_sequence WHERE name = 'changes'", "SELECT value FROM meta WHERE key = 'compact_rev'"],
        "read",
      );
      current = num(revRs.rows[0]?.seq);
      const compacted = num(compactRs.rows[0]?.value);
      if (atRev < compacted) {
        throw new StoreError(
          "Expired",
          opts.continue
            ? "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."
            : `too old resource version: ${atRev} (${compacted})`,
        );
      }
      if (atRev > current) throw new StoreError("Expired", `resource version ${atRev} is newer than the store's ${current}`);
    }
    const useLog = atRev !== undefined && atRev !== current;
    const cols = useLog ? changeColumns("c") : OBJECT_COLUMNS;
    const sel = selectorSql(cols, opts.labels, opts.fields);
    const where: string[] = [`${useLog ? "c" : "o"}.resource = ?`];
    const args: (string | number)[] = [resource];
    if (opts.namespace) {
      where.push(`${cols.namespace} = ?`);
      args.push(opts.namespace);
    }
    if (opts.continue) {
      where.push(`(${cols.namespace}, ${cols.name}) > (?, ?)`);
      args.push(after.ns, after.name);
    }
    let sql: string;
    if (useLog) {
      where.push(
        "c.rev <= ?",
        "c.type != 'DELETED'",
        `NOT EXISTS (SELECT 1 FROM changes n WHERE n.resource = c.resource AND n.namespace = c.namespace
           AND n.name = c.name AND n.rev > c.rev AND n.rev <= ?)`,
      );
      args.push(atRev!, atRev!);
      sql = `SELECT c.rev AS rev, c.namespace AS namespace, c.name AS name, c.object AS object FROM changes c WHERE ${where.join(" AND ")} AND ${sel.sql} ORDER BY c.namespace, c.name`;
    } else {
      // the store's revision with the rows, from the same snapshot: one statement, no read transaction around two
      sql = `SELECT ${REVISION} AS store_rev, o.rev AS rev, o.namespace AS namespace, o.name AS name, o.object AS object FROM objects o WHERE ${where.join(" AND ")} AND ${sel.sql} ORDER BY o.namespace, o.name`;
    }
    args.push(...sel.args);
    // whether anything matches, with the store's revision, in one statement (for an empty result: the revision it was empty at)
    const present = {
      sql: `SELECT ${REVISION} AS store_rev, EXISTS (SELECT 1 FROM objects o WHERE ${where.join(" AND ")} AND ${sel.sql}) AS present`,
      args: [...args],
    };
    if (limit) {
      sql += " LIMIT ?";
      args.push(limit + 1);
    }
    let rows: Row[] = [];
    let revision = 0;
    if (useLog) {
      rows = (await this.execute({ sql, args })).rows;
      revision = atRev!;
    } else {
      for (let attempt = 0; ; attempt++) {
        rows = (await this.execute({ sql, args })).rows;
        if (rows.length) {
          revision = num(rows[0].store_rev);
          break;
        }
        // no rows carry no revision: still nothing there at the revision read with the check, or read again (a write came between)
        const head = (await this.execute(present)).rows[0];
        if (!num(head?.present)) {
          revision = num(head?.store_rev);
          break;
        }
        if (attempt >= 3) {
          const [rowsRs, revRs] = await this.batch([{ sql, args }, `SELECT ${REVISION} AS store_rev`], "read");
          rows = rowsRs.rows;
          revision = num(revRs.rows[0]?.store_rev);
          break;
        }
      }
    }
    const more = limit > 0 && rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const items = page.map((r) => decode(r.object, num(r.rev)));
    const result: ListResult = { items, revision };
    if (more) {
      const last = page[page.length - 1];
      result.continue = encodeContinue(revision, String(last.namespace), String(last.name));
    }
    return result;
  }

  /**
   * Create; AlreadyExists when a live object has the key, Taken when another live
   * object of the resource holds a value the guard claims. Returns the stored object.
   */
  async create(key: ObjectKey, obj: KObject, guard: WriteGuard = {}): Promise<KObject> {
    const body = encode(obj);
    const unique = uniqueSql(guard.unique, 6);
    let rs: ResultSet;
    try {
      rs = await this.execute({
        sql: `INSERT INTO changes (resource, namespace, name, type, prev_rev, object, created_at)
              SELECT ?1, ?2, ?3, 'ADDED',
                     coalesce((SELECT max(rev) FROM changes WHERE resource = ?1 AND namespace = ?2 AND name = ?3), 0),
                     ?4, ?5
              WHERE NOT EXISTS (SELECT 1 FROM objects WHERE resource = ?1 AND namespace = ?2 AND name = ?3)${unique.sql}
              RETURNING rev`,
        args: [key.resource, key.namespace, key.name, body, this.now(), ...unique.args],
      });
    } catch (e) {
      if (isConstraint(e)) throw new StoreError("AlreadyExists", `${key.resource} "${key.name}" already exists`);
      throw e;
    }
    if (rs.rows.length === 0) {
      if (!unique.sql || (await this.get(key))) throw new StoreError("AlreadyExists", `${key.resource} "${key.name}" already exists`);
      throw taken(key);
    }
    const rev = num(rs.rows[0].rev);
    this.notify(rev, key);
    return decode(body, rev);
  }

  /**
   * Compare-and-swap update: succeeds only when the object's current revision is
   * `expectedRev`. Conflict otherwise (NotFound when it is gone).
   */
  async update(key: ObjectKey, obj: KObject, expectedRev: number, guard: WriteGuard = {}): Promise<KObject> {
    const body = encode(obj);
    const rev = await this.append(key, "MODIFIED", body, expectedRev, guard.unique);
    return decode(body, rev);
  }

  /** Compare-and-swap delete; `last` is the object's final state, kept in the log. */
  async delete(key: ObjectKey, last: KObject, expectedRev: number): Promise<KObject> {
    const body = encode(last);
    const rev = await this.append(key, "DELETED", body, expectedRev);
    return decode(body, rev);
  }

  private async append(key: ObjectKey, type: ChangeType, body: string, expectedRev: number, claims?: UniqueClaim[]): Promise<number> {
    const unique = uniqueSql(claims, 8);
    let rs: ResultSet;
    try {
      rs = await this.execute({
        sql: `INSERT INTO changes (resource, namespace, name, type, prev_rev, object, created_at)
              SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
              WHERE EXISTS (SELECT 1 FROM objects WHERE resource = ?1 AND namespace = ?2 AND name = ?3 AND rev = ?5)${unique.sql}
              RETURNING rev`,
        args: [key.resource, key.namespace, key.name, type, expectedRev, body, this.now(), ...unique.args],
      });
    } catch (e) {
      if (isConstraint(e)) throw new StoreError("Conflict", "the object has been modified");
      throw e;
    }
    if (rs.rows.length === 0) {
      const cur = await this.get(key);
      if (!cur) throw new StoreError("NotFound", `${key.resource} "${key.name}" not found`);
      if (unique.sql && num(cur.metadata.resourceVersion) === expectedRev) throw taken(key);
      throw new StoreError("Conflict", "the object has been modified");
    }
    const rev = num(rs.rows[0].rev);
    this.notify(rev, key);
    return rev;
  }

  /**
   * Changes after `fromRev`, in revision order (at most `limit`). Expired when
   * `fromRev` is older than the compacted history.
   */
  async changesSince(filter: ChangeFilter, fromRev: number, limit = 500): Promise<ChangesResult> {
    // no resource: every resource's changes (the watch hub's one read for all its watchers)
    const where = filter.resource === undefined ? ["c.rev > ?"] : ["c.rev > ?", "c.resource = ?"];
    const args: (string | number)[] = filter.resource === undefined ? [fromRev] : [fromRev, filter.resource];
    if (filter.namespace) {
      where.push("c.namespace = ?");
      args.push(filter.namespace);
    }
    const eq = (filter.fields ?? []).filter((f) => f.op === "=");
    if (eq.length) {
      const cur = selectorSql(changeColumns("c"), [], eq);
      const prev = selectorSql(changeColumns("p"), [], eq);
      where.push(`((${cur.sql}) OR (p.rev IS NOT NULL AND (${prev.sql})))`);
      args.push(...cur.args, ...prev.args);
    }
    // the compacted and current revisions with the rows, from the same snapshot: one statement
    const query = {
      sql: `SELECT ${COMPACTED} AS compact_rev, ${REVISION} AS store_rev,
                   c.rev, c.type, c.resource, c.namespace, c.name, c.object, p.object AS prev_object, p.rev AS prev_rev
            FROM changes c LEFT JOIN changes p ON p.rev = c.prev_rev AND c.prev_rev > 0
            WHERE ${where.join(" AND ")} ORDER BY c.rev LIMIT ?`,
      args: [...args, limit],
    };
    let rows = (await this.execute(query)).rows;
    let heads: Row | undefined = rows[0];
    // nothing new: both revisions with a check that there is still nothing, in one statement
    if (!heads) {
      const head = (
        await this.execute({
          sql: `SELECT ${COMPACTED} AS compact_rev, ${REVISION} AS store_rev,
                       EXISTS (SELECT 1 FROM changes c LEFT JOIN changes p ON p.rev = c.prev_rev AND c.prev_rev > 0 WHERE ${where.join(" AND ")}) AS present`,
          args,
        })
      ).rows[0];
      if (!num(head?.present)) heads = head;
      else {
        // a write came between the two: read both again in one read transaction
        const [rowsRs, headRs] = await this.batch([query, `SELECT ${COMPACTED} AS compact_rev, ${REVISION} AS store_rev`], "read");
        rows = rowsRs.rows;
        heads = headRs.rows[0];
      }
    }
    const compacted = num(heads?.compact_rev);
    if (fromRev < compacted) {
      throw new StoreError("Expired", `too old resource version: ${fromRev} (${compacted})`);
    }
    const changes = rows.map((r): Change => {
      const rev = num(r.rev);
      const c: Change = {
        rev,
        type: String(r.type) as ChangeType,
        key: { resource: String(r.resource), namespace: String(r.namespace), name: String(r.name) },
        object: decode(r.object, rev),
      };
      if (r.prev_object != null) c.prev = decode(r.prev_object, num(r.prev_rev));
      return c;
    });
    return { changes, revision: num(heads?.store_rev) };
  }

  /**
   * Compaction: forget history older than the horizon while keeping, for every key,
   * its newest row at or below the horizon (so reads at any revision >= horizon stay
   * exact). Watchers from before the horizon get Expired.
   */
  async compact(opts: CompactOptions = {}): Promise<{ revision: number; deleted: number }> {
    const keepRevisions = opts.keepRevisions ?? 1000;
    const keepMs = opts.keepMs ?? 5 * 60_000;
    const batch = opts.batch ?? 500;
    const now = opts.now ?? this.now();
    const [revRs, compactRs, oldRs] = await this.batch(
      [
        "SELECT seq FROM sqlite_sequence WHERE name = 'changes'",
        "SELECT value FROM meta WHERE key = 'compact_rev'",
        { sql: "SELECT max(rev) AS rev FROM changes WHERE created_at <= ?", args: [now - keepMs] },
      ],
      "read",
    );
    const current = num(revRs.rows[0]?.seq);
    const previous = num(compactRs.rows[0]?.value);
    const target = Math.min(current - keepRevisions, num(oldRs.rows[0]?.rev));
    if (target <= previous) return { revision: previous, deleted: 0 };
    await this.execute({
      sql: `INSERT INTO meta (key, value) VALUES ('compact_rev', ?)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE CAST(value AS INTEGER) < CAST(excluded.value AS INTEGER)`,
      args: [String(target)],
    });
    let deleted = 0;
    // Superseded rows first, then tombstones: never leave an older row as a key's newest.
    for (const sql of [
      `DELETE FROM changes WHERE rev IN (
         SELECT c.rev FROM changes c WHERE c.rev <= ?1 AND EXISTS (
           SELECT 1 FROM changes n WHERE n.resource = c.resource AND n.namespace = c.namespace
             AND n.name = c.name AND n.rev > c.rev AND n.rev <= ?1)
         LIMIT ?2)`,
      `DELETE FROM changes WHERE rev IN (SELECT rev FROM changes WHERE rev <= ?1 AND type = 'DELETED' LIMIT ?2)`,
    ]) {
      for (;;) {
        const rs = await this.execute({ sql, args: [target, batch] });
        deleted += rs.rowsAffected;
        if (rs.rowsAffected < batch) break;
      }
    }
    return { revision: target, deleted };
  }
}

/**
 * The guard of a write's unique claims, appended to its INSERT ... WHERE: no other
 * live object of the resource (?1) holds one of the values. One statement, so the
 * check and the write are atomic (SQLite runs one writer at a time). Parameters are
 * numbered from `first`.
 */
const uniqueSql = (claims: UniqueClaim[] | undefined, first: number): { sql: string; args: string[] } => {
  const sql: string[] = [];
  const args: string[] = [];
  for (const c of claims ?? []) {
    if (!c.values.length) continue;
    const n = first + args.length;
    const value = c.member ? `json_extract(j.value, ?${n + 2})` : "j.value";
    sql.push(
      ` AND NOT EXISTS (SELECT 1 FROM objects u, json_each(u.object, ?${n}) j
          WHERE u.resource = ?1 AND NOT (u.namespace = ?2 AND u.name = ?3)
            AND ${value} IN (SELECT value FROM json_each(?${n + 1})))`,
    );
    args.push(c.path, JSON.stringify(c.values));
    if (c.member) args.push(c.member);
  }
  return { sql: sql.join(""), args };
};

/** scalar subqueries of the store's current and compacted revisions (SQLite evaluates each once per statement) */
const REVISION = "(SELECT seq FROM sqlite_sequence WHERE name = 'changes')";
const COMPACTED = "(SELECT value FROM meta WHERE key = 'compact_rev')";

const taken = (key: ObjectKey) => new StoreError("Taken", `a value ${key.resource} "${key.name}" claims is held by another object`);

const rowKey = (r: Row): ObjectKey => ({
  resource: String(r.resource),
  namespace: String(r.namespace),
  name: String(r.name),
});
