/**
 * The Node server's watch cache, small (kube-apiserver's cacher, in spirit): one reader
 * of the change log for every watch of the process, instead of one query per watch
 * per commit. On each local commit (and at the poll interval, for writers in other
 * processes) it reads the changes of every resource since its head once, keeps the
 * recent ones in memory by resource, and wakes only the watchers they concern: by
 * resource, and for a watcher with an equality field selector (a node's
 * `spec.nodeName=…`), only when the object or its previous version has that value.
 *
 * A watcher whose start revision is older than what the cache holds reads the change
 * log itself (watch.ts) until it has caught up; so does every watch where no cache is
 * used (the Worker: its watch hub is its cache).
 */
import { fieldValue } from "../../shared/selectors/fields";
import type { Change, Store } from "../store/store";

/** A watcher of one resource, woken when changes it may want arrive. */
export interface CacheSubscriber {
  resource: string;
  /** an equality field selector the watcher has (only changes with this value, before or after, concern it) */
  field?: { field: string; value: string };
  wake(): void;
}

interface ResourceLog {
  /** this resource's changes in revision order */
  changes: Change[];
  /** by indexed field, then value: the changes whose object or previous object has it */
  byField: Map<string, Map<string, Change[]>>;
  /** watchers without an indexed field */
  all: Set<CacheSubscriber>;
  /** watchers by indexed field and value */
  indexed: Map<string, Map<string, Set<CacheSubscriber>>>;
}

/** the first revision greater than `rev` in `xs` (binary search) */
const after = (xs: Change[], rev: number): number => {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid].rev <= rev) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

export class WatchCache {
  private readonly logs = new Map<string, ResourceLog>();
  /** the cache holds every change in (floor, head]; undefined until first used */
  private floor: number | undefined;
  private head = 0;
  private held = 0;
  /** local commits announced, and the count the last finished read started after */
  private commits = 0;
  private readFor = 0;
  private lastRead = 0;
  private reading?: Promise<void>;
  private subscribers = 0;
  private starting?: Promise<void>;

  constructor(
    private readonly store: Store,
    private readonly o: { pollMs: number; capacity?: number } = { pollMs: 1000 },
  ) {
    store.onCommit(() => {
      this.commits++;
      if (this.subscribers > 0 && this.floor !== undefined) void this.refresh();
    });
  }

  private log(resource: string): ResourceLog {
    let l = this.logs.get(resource);
    if (!l) this.logs.set(resource, (l = { changes: [], byField: new Map(), all: new Set(), indexed: new Map() }));
    return l;
  }

  /** Start holding changes from the current revision (once). */
  async start(): Promise<void> {
    if (this.floor !== undefined) return;
    this.starting ??= this.store.revision().then((rev) => {
      this.floor ??= rev;
      this.head = Math.max(this.head, rev);
      this.lastRead = Date.now();
    });
    await this.starting;
  }

  /** whether a watcher that has seen every change up to `rev` can read from here */
  covers(rev: number): boolean {
    return this.floor !== undefined && rev >= this.floor;
  }

  /** every change up to here is held (or older than the floor) */
  get revision(): number {
    return this.head;
  }

  subscribe(s: CacheSubscriber): () => void {
    const l = this.log(s.resource);
    if (s.field) {
      let byValue = l.indexed.get(s.field.field);
      if (!byValue) {
        l.indexed.set(s.field.field, (byValue = new Map()));
        // index what is held already for this field
        const index = new Map<string, Change[]>();
        for (const c of l.changes) this.indexOne(index, s.field.field, c);
        l.byField.set(s.field.field, index);
      }
      let set = byValue.get(s.field.value);
      if (!set) byValue.set(s.field.value, (set = new Set()));
      set.add(s);
    } else l.all.add(s);
    this.subscribers++;
    return () => {
      this.subscribers--;
      if (s.field) {
        const byValue = l.indexed.get(s.field.field);
        const set = byValue?.get(s.field.value);
        set?.delete(s);
        if (set && !set.size) byValue!.delete(s.field.value);
      } else l.all.delete(s);
    };
  }

  private indexOne(index: Map<string, Change[]>, field: string, c: Change) {
    const v = fieldValue(c.object, field);
    const push = (value: string) => {
      let xs = index.get(value);
      if (!xs) index.set(value, (xs = []));
      if (xs[xs.length - 1] !== c) xs.push(c);
    };
    push(v);
    if (c.prev) {
      const p = fieldValue(c.prev, field);
      if (p !== v) push(p);
    }
  }

  /**
   * The held changes of `resource` after `rev` (only those touching `field`'s value,
   * when given), in order. Call only when `covers(rev)`.
   */
  read(resource: string, rev: number, field?: { field: string; value: string }): Change[] {
    const l = this.logs.get(resource);
    if (!l) return [];
    const xs = field ? l.byField.get(field.field)?.get(field.value) : l.changes;
    if (!xs) return [];
    return xs.slice(after(xs, rev));
  }

  /**
   * Read the change log from the head, if a local commit came since the last read or
   * the last read is older than the poll interval (writers in other processes). One
   * read at a time; callers share it.
   */
  refresh(force = false): Promise<void> {
    if (this.reading) return this.reading;
    if (this.floor === undefined) return this.start();
    if (!force && this.readFor >= this.commits && Date.now() - this.lastRead < this.o.pollMs) return Promise.resolve();
    const startedFor = this.commits;
    this.reading = (async () => {
      try {
        this.lastRead = Date.now();
        for (;;) {
          const res = await this.store.changesSince({}, this.head, 500);
          this.append(res.changes);
          this.head = Math.max(this.head, res.changes.at(-1)?.rev ?? 0, res.changes.length === 500 ? 0 : res.revision);
          if (res.changes.length < 500) break;
        }
        this.readFor = startedFor;
      } finally {
        this.reading = undefined;
      }
      // commits that came during the read: once more
      if (this.commits > this.readFor && this.subscribers > 0) void this.refresh();
    })();
    return this.reading;
  }

  private append(changes: Change[]) {
    if (!changes.length) return;
    const woken = new Set<CacheSubscriber>();
    for (const c of changes) {
      const l = this.log(c.key.resource);
      l.changes.push(c);
      this.held++;
      for (const s of l.all) woken.add(s);
      for (const [field, byValue] of l.indexed) {
        const index = l.byField.get(field)!;
        this.indexOne(index, field, c);
        const v = fieldValue(c.object, field);
        for (const s of byValue.get(v) ?? []) woken.add(s);
        if (c.prev) {
          const p = fieldValue(c.prev, field);
          if (p !== v) for (const s of byValue.get(p) ?? []) woken.add(s);
        }
      }
    }
    this.trim();
    for (const s of woken) s.wake();
  }

  /** Keep about `capacity` changes: past twice that, the oldest go and the floor moves up. */
  private trim() {
    const cap = this.o.capacity ?? 20_000;
    if (this.held <= 2 * cap) return;
    // the revision below which everything goes: the cap-th newest change overall
    const revs: number[] = [];
    for (const l of this.logs.values()) for (const c of l.changes) revs.push(c.rev);
    revs.sort((a, b) => a - b);
    const floor = revs[revs.length - cap - 1];
    for (const l of this.logs.values()) {
      l.changes = l.changes.slice(after(l.changes, floor));
      for (const index of l.byField.values())
        for (const [v, xs] of index) {
          const kept = xs.slice(after(xs, floor));
          if (kept.length) index.set(v, kept);
          else index.delete(v);
        }
    }
    this.held = cap;
    this.floor = Math.max(this.floor ?? floor, floor);
  }
}
