import type { FieldRequirement } from "../../shared/selectors/fields";
import { matchFields } from "../../shared/selectors/fields";
import type { LabelRequirement } from "../../shared/selectors/labels";
import { matchLabels } from "../../shared/selectors/labels";
import { expired } from "../../shared/status";
import type { KObject, WatchEvent } from "../../shared/types";
import { groupVersion, type ResourceInfo } from "../../shared/resources";
import { type Change, type Store, StoreError } from "../store/store";
import { parseRv, parseSelectors } from "./selectors";
import type { WatchQuery } from "./types";
import type { CacheSubscriber, WatchCache } from "./watchcache";

export interface WatchOptions {
  resource: string;
  namespace?: string;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
  /** start after this revision; undefined = send the current state as ADDED first */
  fromRevision?: number;
  allowBookmarks: boolean;
  /** how long the watch lasts (ms) */
  timeoutMs: number;
  signal?: AbortSignal;
  /** poll interval for changes made by other processes / isolates */
  pollMs: number;
  /** while polls find nothing, the interval doubles up to this (default pollMs: no back-off); a change resets it */
  pollMaxMs?: number;
  /** idle interval between BOOKMARK events */
  bookmarkMs: number;
  /** the kind and apiVersion to stamp on objects */
  typeMeta: { apiVersion: string; kind: string };
  /** list used for the initial state */
  listAll: () => Promise<{ items: KObject[]; revision: number }>;
  /** the process's watch cache (the Node server): changes from memory once caught up, woken only by changes that concern this watch */
  cache?: WatchCache;
}

const matches = (o: WatchOptions, obj: KObject | undefined) =>
  !!obj && (!o.namespace || obj.metadata.namespace === o.namespace) && matchLabels(o.labels, obj.metadata.labels) && matchFields(o.fields, obj);

/**
 * Turn one change into the event a filtered watcher sees, as kube-apiserver does:
 * an object entering the selection is ADDED, one leaving it is DELETED.
 */
export const eventFor = (o: WatchOptions, c: Change): WatchEvent | null => {
  const cur = matches(o, c.object);
  switch (c.type) {
    case "ADDED":
      return cur ? { type: "ADDED", object: c.object } : null;
    case "DELETED":
      return cur ? { type: "DELETED", object: c.object } : null;
    case "MODIFIED": {
      const prev = c.prev ? matches(o, c.prev) : cur;
      if (cur && prev) return { type: "MODIFIED", object: c.object };
      if (cur) return { type: "ADDED", object: c.object };
      if (prev) return { type: "DELETED", object: c.object };
      return null;
    }
  }
};

export const withType = (o: WatchOptions, obj: KObject): KObject => ({ ...o.typeMeta, ...obj, apiVersion: o.typeMeta.apiVersion, kind: o.typeMeta.kind });

/** Wait for a local commit, the poll interval, the deadline or an abort, whichever is first. */
const waitForChange = (store: Store, ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      off();
      signal?.removeEventListener("abort", finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    const off = store.onCommit(finish);
    signal?.addEventListener("abort", finish);
  });

/**
 * The next poll interval: back to `min` after a poll that found changes, else doubled
 * up to `max`. A change after a quiet spell is seen up to `max` late.
 */
export const nextPollMs = (current: number, changed: boolean, min: number, max: number): number => (changed ? min : Math.max(min, Math.min(max, current * 2)));

/**
 * A watch: every change after the start revision exactly once, in order, filtered by
 * namespace and selectors; BOOKMARKs when idle (if asked); an ERROR 410 event when
 * the start revision has been compacted away.
 */
export async function* watchEvents(store: Store, o: WatchOptions): AsyncGenerator<WatchEvent> {
  const deadline = Date.now() + o.timeoutMs;
  let from: number;
  if (o.fromRevision === undefined) {
    const snap = await o.listAll();
    for (const obj of snap.items) yield { type: "ADDED", object: withType(o, obj) };
    from = snap.revision;
  } else {
    from = o.fromRevision;
  }
  let lastSent = Date.now();
  let pollMs = o.pollMs;
  const pushdown = o.fields.filter((f) => f.op === "=" && f.field !== "metadata.namespace");
  const cache = o.cache;
  // with the cache: woken when changes that may concern this watch are held (or at the poll interval, or the deadline)
  let pending = true;
  let wakeNow: (() => void) | undefined;
  const sub: CacheSubscriber | undefined = cache && {
    resource: o.resource,
    field: pushdown[0] && { field: pushdown[0].field, value: pushdown[0].value },
    wake: () => {
      pending = true;
      wakeNow?.();
    },
  };
  const unsubscribe = sub && cache!.subscribe(sub);
  try {
    if (cache) await cache.start();
    while (!o.signal?.aborted && Date.now() < deadline) {
      let changes: Change[];
      let revision: number;
      let more = false;
      if (cache?.covers(from)) {
        pending = false;
        changes = cache.read(o.resource, from, sub!.field);
        revision = cache.revision;
      } else {
        let res: Awaited<ReturnType<Store["changesSince"]>>;
        try {
          res = await store.changesSince({ resource: o.resource, namespace: o.namespace, fields: pushdown }, from, 500);
        } catch (e) {
          if (e instanceof StoreError && e.code === "Expired") {
            yield expiredEvent(from, e);
            return;
          }
          throw e;
        }
        changes = res.changes;
        revision = res.revision;
        more = res.changes.length === 500;
      }
      for (const c of changes) {
        const ev = eventFor(o, c);
        if (ev) {
          ev.object = withType(o, ev.object);
          yield ev;
          lastSent = Date.now();
        }
        from = c.rev;
      }
      if (more) continue;
      pollMs = nextPollMs(pollMs, changes.length > 0, o.pollMs, o.pollMaxMs ?? o.pollMs);
      // every change of this resource up to `revision` has been seen
      from = Math.max(from, revision);
      if (o.allowBookmarks && Date.now() - lastSent >= o.bookmarkMs) {
        yield {
          type: "BOOKMARK",
          object: { apiVersion: o.typeMeta.apiVersion, kind: o.typeMeta.kind, metadata: { resourceVersion: String(from) } },
        };
        lastSent = Date.now();
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      const ms = Math.min(pollMs, left, o.allowBookmarks ? o.bookmarkMs : Infinity);
      if (!cache) await waitForChange(store, ms, o.signal);
      else if (!pending) {
        const woken = await new Promise<boolean>((resolve) => {
          const finish = (w: boolean) => {
            clearTimeout(timer);
            wakeNow = undefined;
            o.signal?.removeEventListener("abort", abort);
            resolve(w);
          };
          const abort = () => finish(true);
          const timer = setTimeout(() => finish(false), ms);
          wakeNow = () => finish(true);
          o.signal?.addEventListener("abort", abort);
        });
        // nothing for a poll interval: look for other processes' writes (one read for every watch)
        if (!woken) await cache.refresh();
      }
    }
  } finally {
    unsubscribe?.();
  }
}

/** The ERROR event a watcher gets when its start revision has been compacted away (410 Expired). */
export const expiredEvent = (from: number, e: StoreError): WatchEvent => {
  const status = expired(`too old resource version: ${from} (${e.message.replace(/.*\((\d+)\).*/, "$1")})`).toStatus();
  return { type: "ERROR", object: status as unknown as KObject };
};

/**
 * The watch hub's view of one change: the event this watcher sees, or null (another
 * resource, or outside its selection). The hub reads all resources' changes at once.
 */
export const hubEventFor = (o: WatchOptions, c: Change): WatchEvent | null => {
  if (c.key.resource !== o.resource) return null;
  const ev = eventFor(o, c);
  if (ev) ev.object = withType(o, ev.object);
  return ev;
};

/**
 * What a new watcher of the hub is owed before it joins the fan-out: the current state
 * as ADDED events (no start revision) or every change after its start revision, read
 * from the change log, and the revision it has then seen. An ERROR 410 event when the
 * start revision is compacted away.
 */
export const catchUp = async (store: Store, o: WatchOptions): Promise<{ events: WatchEvent[]; revision: number; expired?: boolean }> => {
  const events: WatchEvent[] = [];
  let from: number;
  if (o.fromRevision === undefined) {
    const snap = await o.listAll();
    for (const obj of snap.items) events.push({ type: "ADDED", object: withType(o, obj) });
    return { events, revision: snap.revision };
  }
  from = o.fromRevision;
  const pushdown = o.fields.filter((f) => f.op === "=" && f.field !== "metadata.namespace");
  for (;;) {
    let res: Awaited<ReturnType<Store["changesSince"]>>;
    try {
      res = await store.changesSince({ resource: o.resource, namespace: o.namespace, fields: pushdown }, from, 500);
    } catch (e) {
      if (e instanceof StoreError && e.code === "Expired") return { events: [expiredEvent(from, e)], revision: from, expired: true };
      throw e;
    }
    for (const c of res.changes) {
      const ev = eventFor(o, c);
      if (ev) events.push({ ...ev, object: withType(o, ev.object) });
      from = c.rev;
    }
    if (res.changes.length < 500) return { events, revision: Math.max(from, res.revision) };
  }
};

/**
 * A watch's options as the API asks for it: selectors, the revision to start after
 * ("" or "0": the current state first), a timeout of at most `maxSeconds`. Throws the
 * API's errors (a bad selector or resourceVersion) at once.
 */
export const watchOptions = (
  store: Store,
  info: ResourceInfo,
  namespace: string,
  q: WatchQuery,
  o: { pollMs: number; pollMaxMs?: number; bookmarkMs: number; maxSeconds: number; cache?: WatchCache },
): WatchOptions => {
  const { labels, fields } = parseSelectors(info, q);
  const rv = q.resourceVersion;
  const fromRevision = rv === undefined || rv === "" || rv === "0" ? undefined : parseRv(rv);
  const timeoutSeconds = Math.min(q.timeoutSeconds && q.timeoutSeconds > 0 ? q.timeoutSeconds : o.maxSeconds, o.maxSeconds);
  return {
    resource: info.resource,
    namespace: namespace || undefined,
    labels,
    fields,
    fromRevision,
    allowBookmarks: !!q.allowWatchBookmarks,
    timeoutMs: timeoutSeconds * 1000,
    signal: q.signal,
    pollMs: o.pollMs,
    pollMaxMs: o.pollMaxMs,
    bookmarkMs: o.bookmarkMs,
    cache: o.cache,
    typeMeta: { apiVersion: groupVersion(info), kind: info.kind },
    listAll: async () => {
      const r = await store.list(info.resource, { namespace: namespace || undefined, labels, fields });
      return { items: r.items, revision: r.revision };
    },
  };
};

/** A polling watch as the API asks for it (the Node server; see watchOptions). */
export const watchQuery = (
  store: Store,
  info: ResourceInfo,
  namespace: string,
  q: WatchQuery,
  o: { pollMs: number; pollMaxMs?: number; bookmarkMs: number; maxSeconds: number; cache?: WatchCache },
): AsyncGenerator<WatchEvent> => watchEvents(store, watchOptions(store, info, namespace, q, o));
