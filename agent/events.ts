/**
 * core/v1 Events about pods, as kubelet writes them (what `kubectl describe pod` shows).
 *
 * The node credential may create and patch events but not read them, so repeats are
 * aggregated here, like kubelet's correlator: the first occurrence of an event creates
 * it, later ones patch `count` and `lastTimestamp`. A crash-looping pod repeats the same
 * few events forever, so a patch goes out at most once per 30 s per event; repeats in
 * between only count locally, and the next patch (or `flush`) carries the total.
 * Recording is fire and forget: it never throws and never waits on the network.
 */
import { fnv1aHex } from "../shared/hash";
import { newEvent } from "../shared/events";
import { rfc3339 } from "../shared/time";
import type { KObject } from "../shared/types";
import { type ApiClient, ApiRequestError } from "./api";

export type EventType = "Normal" | "Warning";

/** Where lifecycle code sends events: PodEvents, or a fake in tests. */
export interface EventSink {
  record(pod: KObject, type: EventType, reason: string, message: string, fieldPath?: string): void;
}

/**
 * How often an event about a step the agent retries (a config error, a pull in
 * backoff, a crash loop) is recorded again: the agent looks at every pod each second,
 * kubelet retries a failing pod about every 10 s, and event counts should read alike.
 */
export const RETRY_EVENT_MS = 10_000;

/**
 * The pod worker's events about steps it retries on every sync tick. An event is
 * recorded unless the same one (same reason and message) was recorded for the same
 * `tag` less than `everyMs` ago. Steps retried on every sync tick pass the default (at
 * most every 10 s); once-per-instance events pass the attempt as tag and Infinity.
 */
export class RetryEvents {
  /** per pod/container/reason/message: when a repeatable event was last recorded, and for what */
  private readonly emitted = new Map<string, { tag: string; at: number }>();

  constructor(
    private readonly sink: EventSink,
    private readonly now: () => number,
  ) {}

  emit(pod: KObject, fieldPath: string, type: EventType, reason: string, message: string, tag = "", everyMs = RETRY_EVENT_MS): void {
    const key = `${pod.metadata.uid}/${fieldPath}/${reason}/${message}`;
    const now = this.now();
    const last = this.emitted.get(key);
    if (last && last.tag === tag && now - last.at < everyMs) return;
    this.emitted.set(key, { tag, at: now });
    this.sink.record(pod, type, reason, message, fieldPath);
  }

  /** The pod is gone: its events go with it. */
  forget(uid: string): void {
    for (const k of this.emitted.keys()) if (k.startsWith(`${uid}/`)) this.emitted.delete(k);
  }
}

/** involvedObject.fieldPath of a container, as kubelet writes it. */
export const containerPath = (role: "init" | "app", name: string): string => `${role === "init" ? "spec.initContainers" : "spec.containers"}{${name}}`;

/** A duration as Go's time.Duration prints it, to the millisecond (kubelet's "in 1.234s"). */
export const goDuration = (ms: number): string => {
  ms = Math.max(0, Math.round(ms));
  if (ms < 1000) return ms === 0 ? "0s" : `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = `${+((ms % 60_000) / 1000).toFixed(3)}s`;
  return h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s;
};

const iso = (ms: number) => rfc3339(new Date(ms));

export interface CorrelatorOptions {
  /** at most one patch per event this often (default 30 s) */
  patchIntervalMs?: number;
  /** events remembered at most (least recently seen dropped first; default 1000) */
  maxEntries?: number;
  /** an event not seen again for this long is forgotten (default 1 h) */
  maxAgeMs?: number;
}

interface Entry {
  namespace: string;
  name: string;
  count: number;
  first: number;
  last: number;
  /** when the count was last sent (created or patched) */
  sentAt: number;
  /** occurrences counted since then, not yet sent */
  dirty: boolean;
}

/** An Event write: where, and the count and times it carries. */
export interface Write {
  key: string;
  namespace: string;
  name: string;
  count: number;
  first: number;
  last: number;
}

/** What to write for an occurrence: nothing yet, the new Event, or the running count. */
export type Decision = { kind: "wait" } | ({ kind: "create" } & Write) | ({ kind: "patch" } & Write);

/**
 * The aggregation decisions, without I/O: which writes an occurrence calls for. Keys
 * are kept in least-recently-seen order (a Map keeps insertion order; a touched key is
 * moved to the end), so pruning by age and by size both start at the front.
 */
export class EventCorrelator {
  private readonly entries = new Map<string, Entry>();
  private readonly interval: number;
  private readonly maxEntries: number;
  private readonly maxAge: number;

  constructor(
    private readonly now: () => number,
    o: CorrelatorOptions = {},
  ) {
    this.interval = o.patchIntervalMs ?? 30_000;
    this.maxEntries = o.maxEntries ?? 1000;
    this.maxAge = o.maxAgeMs ?? 3_600_000;
  }

  get size(): number {
    return this.entries.size;
  }

  /** One occurrence of the event `key` about the object `objectName` in `namespace`. */
  observe(key: string, namespace: string, objectName: string): Decision {
    const now = this.now();
    this.prune(now);
    const e = this.entries.get(key);
    if (!e) {
      // the first time is part of the name: after the entry is forgotten (agent restart,
      // event expired or evicted) the same event starts a new object instead of colliding
      const name = `${objectName.slice(0, 253 - 9)}.${fnv1aHex(`${key}/${now}`)}`;
      this.entries.set(key, { namespace, name, count: 1, first: now, last: now, sentAt: now, dirty: false });
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      return { kind: "create", key, namespace, name, count: 1, first: now, last: now };
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    e.count++;
    e.last = now;
    if (now - e.sentAt < this.interval) {
      e.dirty = true;
      return { kind: "wait" };
    }
    return this.send(key, e, now);
  }

  /** Patches for counts held back by the interval whose time has come. */
  due(): Write[] {
    const now = this.now();
    this.prune(now);
    const out: Write[] = [];
    for (const [key, e] of this.entries) if (e.dirty && now - e.sentAt >= this.interval) out.push(this.send(key, e, now));
    return out;
  }

  /** The event is gone or was never created (404, failed create): the next occurrence starts afresh. */
  forget(key: string): void {
    this.entries.delete(key);
  }

  /** A patch did not get through: the next one (after the interval) carries the count. */
  retry(key: string): void {
    const e = this.entries.get(key);
    if (e) e.dirty = true;
  }

  private send(key: string, e: Entry, now: number): { kind: "patch" } & Write {
    e.sentAt = now;
    e.dirty = false;
    return { kind: "patch", key, namespace: e.namespace, name: e.name, count: e.count, first: e.first, last: e.last };
  }

  private prune(now: number): void {
    for (const [key, e] of this.entries) {
      if (now - e.last < this.maxAge) break;
      this.entries.delete(key);
    }
  }
}

/** Writes running at once at most; beyond that (control plane away) events are dropped. */
const MAX_IN_FLIGHT = 32;

export class PodEvents implements EventSink {
  private readonly correlator: EventCorrelator;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly api: Pick<ApiClient, "request">,
    private readonly nodeName: string,
    now: () => number = Date.now,
    private readonly log: (msg: string) => void = () => {},
    options: CorrelatorOptions = {},
  ) {
    this.correlator = new EventCorrelator(now, options);
  }

  record(pod: KObject, type: EventType, reason: string, message: string, fieldPath?: string): void {
    try {
      const namespace = pod.metadata.namespace || "default";
      const key = JSON.stringify([pod.metadata.uid ?? "", type, reason, message, fieldPath ?? ""]);
      const d = this.correlator.observe(key, namespace, pod.metadata.name ?? "");
      if (d.kind === "create") {
        const event = newEvent(
          { apiVersion: "v1", kind: "Pod", ...pod },
          {
            name: d.name,
            type,
            reason,
            message,
            fieldPath,
            source: { component: "kubelet", host: this.nodeName },
            first: new Date(d.first),
            last: new Date(d.last),
          },
        );
        this.write(d.key, "POST", `/api/v1/namespaces/${namespace}/events`, event);
      } else if (d.kind === "patch") {
        this.patch(d);
      }
    } catch (e) {
      this.log(`event ${reason} for pod ${pod.metadata?.name} not recorded: ${(e as Error).message}`);
    }
  }

  /** Send counts that waited out the patch interval (called from the sync loop). */
  flush(): void {
    try {
      for (const w of this.correlator.due()) this.patch(w);
    } catch (e) {
      this.log(`event flush failed: ${(e as Error).message}`);
    }
  }

  /** Resolves when the writes under way have finished (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private patch(d: Write): void {
    this.write(
      d.key,
      "PATCH",
      `/api/v1/namespaces/${d.namespace}/events/${d.name}`,
      { count: d.count, lastTimestamp: iso(d.last) },
      "application/merge-patch+json",
    );
  }

  private write(key: string, method: "POST" | "PATCH", path: string, body: unknown, contentType?: string): void {
    const gaveUp = () => (method === "POST" ? this.correlator.forget(key) : this.correlator.retry(key));
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      gaveUp();
      return;
    }
    const p = Promise.resolve()
      .then(() => this.api.request(method, path, body, contentType))
      .then(
        () => undefined,
        (e) => {
          // a patched event that is gone (expired by the event TTL, deleted) is created anew next time
          if (method === "PATCH" && e instanceof ApiRequestError && e.status === 404) return this.correlator.forget(key);
          gaveUp();
          this.log(`event ${method === "POST" ? "create" : "update"} failed: ${(e as Error).message}`);
        },
      )
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}
