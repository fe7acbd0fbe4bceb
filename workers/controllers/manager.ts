import { logError, logWarn } from "../../shared/log";
import type { ObjectKey } from "../../shared/types";
import { keyString, type QueuedKey, uniqueKeys, type WorkQueue } from "../queue";
import type { Registry } from "../registry/registry";
import type { WriteChange } from "../registry/triggers";
import { ControllerClient } from "./client";
import { type ControllerConfig, type ControllerContext, DEFAULT_CONFIG, type ReconcileResult } from "./context";
import { eventRecorder } from "./events";

/**
 * A secondary resource a controller watches (controller-runtime's
 * `Watches(obj, EnqueueRequestsFromMapFunc(...))`): keys of `resource` are mapped to
 * the primary keys they concern before anything is reconciled. A map function may
 * read through `ctx.api`; it returns [] when the change concerns no primary object.
 */
export interface Watch {
  resource: string;
  /** the primary keys one key of `resource` concerns */
  map?(key: ObjectKey, ctx: ControllerContext): ObjectKey[] | Promise<ObjectKey[]>;
  /** or: the primary keys all of a batch's keys of `resource` concern, at once (one read for many keys) */
  mapAll?(keys: ObjectKey[], ctx: ControllerContext): Promise<ObjectKey[]>;
}

/**
 * A level-triggered controller. Its `primary` resources are what it reconciles
 * (controller-runtime's `For`): `reconcile` and `reconcileBatch` only ever receive
 * keys of those. Keys of the resources in `watches` are mapped to primary keys first.
 *
 * Owned objects (controller-runtime's `Owns`) need no watch: on every write the
 * registry enqueues the keys of the object's owners, old and new ownerReferences
 * alike (so a deleted pod still reaches the ReplicaSet that owned it).
 */
export interface Controller {
  name: string;
  /** plural names of the resources it reconciles */
  primary: string[];
  /** secondary resources, each mapped to primary keys */
  watches?: Watch[];
  /** one primary key at a time; the manager never runs two reconciles of one key at once (see ControllerManager) */
  reconcile?(key: ObjectKey, ctx: ControllerContext): Promise<ReconcileResult>;
  /** all of a batch's primary keys at once (the scheduler places a whole backlog in one pass) */
  reconcileBatch?(keys: ObjectKey[], ctx: ControllerContext): Promise<ReconcileResult>;
  /** periodic resync (cron tick / Node timer): the primary keys that need a look now */
  resync?(ctx: ControllerContext): Promise<ObjectKey[]>;
  /**
   * How often `resync` runs: 0 at every pass (time-based work: node leases, cron
   * schedules, pending pods), default DEFAULT_RESYNC_PERIOD_MS (a safety net under the
   * queue's events, like an informer's resync period: each pass's reads are the cron's
   * subrequests and CPU on the Worker).
   */
  resyncPeriodMs?: number;
  /**
   * How long to pause before reconciling a key again that was delivered while its
   * reconcile ran (given how long that run took, in ms, and what it returned); default 0,
   * at once. The key stays in flight during the pause, so the deliveries that come in
   * meanwhile are one more run, not one each: a controller that re-reads many objects
   * per run (a ReplicaSet of 1,000 pods, written to by their agents many times a
   * second) reruns at a pace its own cost sets instead of back to back. client-go's
   * work queue gets the same from its rate limiter and informers' coalescing. Not on a
   * Worker (a manager with a subrequest budget), where the queue's batches coalesce keys.
   */
  rerunDelayMs?(lastRunMs: number, result: ReconcileResult): number;
  /**
   * Which writes of its primary and watched resources it needs delivered (controller-
   * runtime's predicates); default all. Decided at write time, so a write no controller
   * needs costs no queue message. What it declines must reach it otherwise if at all
   * (its resync, another resource's write).
   */
  wants?(change: WriteChange, ctx: ControllerContext): boolean;
}

/**
 * What the manager reports about its work, named after controller-runtime's and
 * client-go's metrics (node/metrics.ts maps these to them): each controller's share of
 * a queue batch is its work queue (`workqueue_adds_total`, `workqueue_depth`), and each
 * reconcile is timed (`controller_runtime_reconcile_time_seconds`) and counted by
 * result (`controller_runtime_reconcile_total`).
 */
export interface ControllerMetrics {
  /** `n` keys were handed to `controller` (delta > 0) or taken up by a reconcile (delta < 0) */
  queue(controller: string, delta: number): void;
  /** a reconcile (or a batch reconcile) ended: "success", "error", "requeue_after" */
  reconciled(controller: string, result: "success" | "error" | "requeue_after", seconds: number): void;
  /** the scheduler placed a pod (or could not, or failed to write): kube-scheduler's attempt metrics */
  schedulingAttempt(result: "scheduled" | "unschedulable" | "error", seconds: number): void;
}

export interface ManagerOptions {
  registry: Registry;
  queue: WorkQueue;
  controllers: Controller[];
  now?: () => Date;
  config?: Partial<ControllerConfig>;
  log?: (msg: string) => void;
  /** reconciles (and map functions) run at once per controller and batch */
  concurrency?: number;
  metrics?: ControllerMetrics;
  /**
   * The subrequests one invocation may make (a Worker: 50 on the Free plan, 1,000 on
   * Paid) and how many it has made so far. Past `limit − reserve` a dispatch starts no
   * more reconciles and sends the keys it did not get to back through the queue at once
   * (one more subrequest), so a burst (50 nodes joining, a cron's resync) spreads over
   * several invocations instead of failing in one. Without it, no limit (Node).
   */
  budget?: SubrequestBudget;
}

export interface SubrequestBudget {
  /** subrequests made so far by this invocation */
  used(): number;
  limit: number;
}

/**
 * A subrequest refused because the invocation's budget is spent (workers/runtime.ts
 * counts them): what was being reconciled goes back to the queue, no failure counted.
 */
export class SubrequestBudgetExhausted extends Error {
  constructor(used: number, limit: number) {
    super(`subrequest budget spent (${used} of ${limit})`);
    this.name = "SubrequestBudgetExhausted";
  }
}

/**
 * Whether `e` (or what it wraps: the libSQL client wraps its fetch's errors) is a refusal of the budget.
 * A controller that catches its writes' errors (a create's FailedCreate) rethrows these: they are
 * not failures, and the manager sends the key back to the queue at once, uncounted.
 */
export const budgetRefusal = (e: unknown): boolean => {
  for (let x = e, depth = 0; x && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    if (x instanceof SubrequestBudgetExhausted || (x as Error).name === "SubrequestBudgetExhausted") return true;
  }
  return false;
};

/** Kept free under a budget's limit: the deferral's send, the hub's notification, a margin. */
const BUDGET_RESERVE = 5;
/** What a reconcile in flight is assumed to spend still (most read two or three objects and write one). */
const RECONCILE_ESTIMATE = 4;

const MAX_BACKOFF_MS = 60_000;
/** how often a controller's resync runs unless it says otherwise */
export const DEFAULT_RESYNC_PERIOD_MS = 5 * 60_000;
/** how soon a key found in flight in another manager of this isolate comes back */
export const BUSY_REQUEUE_MS = 100;
/** a reconcile in flight for longer than this is presumed lost (a Worker request cancelled before its `finally`) */
const IN_FLIGHT_STALE_MS = 30_000;

interface InFlight {
  manager: ControllerManager;
  since: number;
  /** delivered again while running: reconcile once more when done */
  dirty: boolean;
}

/** Keys being reconciled in this isolate, by `<controller> <key>`, across managers (on Workers: across invocations). */
const inFlight = new Map<string, InFlight>();

/**
 * Routes keys from the work queue to the controllers, and runs the periodic resync.
 * Failures are retried with exponential backoff through the queue.
 *
 * For each controller, a batch's keys of its primary resources and the primary keys
 * its watches map the other keys to are de-duplicated, then reconciled.
 *
 * One worker per key, as controller-runtime's work queue guarantees: one controller
 * never reconciles a key twice at once. A key that arrives while its manager is
 * reconciling it is marked dirty and reconciled once more when the running reconcile
 * ends (that one may have read state that is already stale); the later delivery
 * returns at once. Nothing ever waits on another's promise: on Workers, awaiting a
 * promise that belongs to another request hangs.
 *
 * On Node there is one manager (queue batches and the resync timer share it). On
 * Workers each invocation builds its own, and Cloudflare may run several queue
 * consumer and cron invocations at once, in one isolate or in several. Within an
 * isolate, a key in flight in another invocation's manager is sent back through the
 * queue to come again shortly (BUSY_REQUEUE_MS): that invocation may end before it
 * could look again. Across isolates nothing prevents two reconciles of one key. That
 * stays correct because every controller write is compare-and-swap on the
 * resourceVersion (a create fails if the name exists), so the loser gets a 409 and
 * comes back; creates under generateName are the exception (two ReplicaSet reconciles
 * may both create a missing pod), and the next pass deletes the surplus.
 */
export class ControllerManager {
  readonly ctx: ControllerContext;
  private readonly failures = new Map<string, number>();
  /** requeue sends still in flight: awaited before a dispatch returns (a Worker's request must not leave work behind) */
  private readonly sends = new Set<Promise<unknown>>();
  private readonly concurrency: number;

  constructor(private readonly o: ManagerOptions) {
    const now = o.now ?? (() => new Date());
    const api = new ControllerClient(o.registry);
    const log = o.log ?? ((m: string) => console.log(m));
    this.concurrency = o.concurrency ?? 8;
    this.ctx = {
      api,
      now,
      events: eventRecorder(api, "kubeflare-controller-manager", now),
      config: { ...DEFAULT_CONFIG, ...o.config },
      log,
      schedulingAttempt: o.metrics ? (result, seconds) => o.metrics!.schedulingAttempt(result, seconds) : undefined,
      requeueAfter: (keys, ms, controller) => this.send(controller ? keys.map((k) => ({ ...k, controller })) : keys, ms),
    };
  }

  /**
   * Which controllers here need a write of `change.key`: those whose primary resources
   * or watches include its resource and whose predicate (if any) accepts it — true when
   * that is all of them (one key for every controller), false when none, else their
   * names (a key for each). A manager without controllers (the API alone, controllers
   * elsewhere) cannot know and says yes.
   */
  wants(change: WriteChange): boolean | string[] {
    if (!this.o.controllers.length) return true;
    const concerned = this.o.controllers.filter((c) => concerns(c, change.key));
    const wanting = concerned.filter((c) => !c.wants || c.wants(change, this.ctx));
    if (wanting.length === concerned.length) return wanting.length > 0;
    // some filter it out: the key goes to the others alone (node-ipam reads every Node per reconcile, and a Node's status write is not for it)
    return wanting.length ? wanting.map((c) => c.name) : false;
  }

  /** Send keys to the queue (after `ms`, if given); awaited by `flush`. */
  private send(keys: QueuedKey[], ms?: number): void {
    if (!keys.length) return;
    const p = this.o.queue
      .enqueue(keys, ms ? { delayMs: Math.max(1, ms) } : undefined)
      .catch((e) => logError(this.ctx.log, `requeue failed: ${(e as Error).message}`));
    this.sends.add(p);
    void p.finally(() => this.sends.delete(p));
  }

  /** Whether this invocation's subrequest budget (if any) is spent. */
  private spent(): boolean {
    const b = this.o.budget;
    return !!b && b.used() + this.running * RECONCILE_ESTIMATE >= b.limit - BUDGET_RESERVE;
  }

  /** reconciles and map functions running in this manager */
  private running = 0;

  /** keys whose reconcile the budget cut short: sent back to the queue in one message when the pass ends */
  private overflow: QueuedKey[] = [];

  /**
   * Reconcile a batch of keys with every controller whose primary resources or watches
   * they belong to (a key naming a controller: with that one alone). Under a subrequest
   * budget, what does not fit goes back to the queue, each key for its controller.
   */
  async dispatch(keys: QueuedKey[]): Promise<void> {
    const all = uniqueKeys(keys);
    const deferred: QueuedKey[] = [];
    const later = (c: Controller, ks: ObjectKey[]) =>
      deferred.push(...ks.map(({ resource, namespace, name }) => ({ resource, namespace, name, controller: c.name })));
    await pool(this.o.controllers, this.o.controllers.length, async (c) => {
      const theirs = all.filter((k) => (!k.controller || k.controller === c.name) && concerns(c, k));
      if (!theirs.length) return;
      if (this.spent()) return void later(c, theirs);
      const mine = await this.primaryKeys(c, theirs);
      if (!mine.length) return;
      const m = this.o.metrics;
      m?.queue(c.name, mine.length);
      if (c.reconcileBatch) {
        m?.queue(c.name, -mine.length);
        await this.guard(c, "batch", mine, () => c.reconcileBatch!(mine, this.ctx));
        return;
      }
      await pool(mine, this.concurrency, async (k) => {
        m?.queue(c.name, -1);
        if (this.spent()) later(c, [k]);
        else await this.reconcileKey(c, k);
      });
    });
    deferred.push(...this.overflow.splice(0));
    if (deferred.length) {
      const b = this.o.budget;
      logWarn(this.ctx.log, `subrequest budget spent${b ? ` (${b.used()} of ${b.limit})` : ""}: ${deferred.length} keys go back to the queue`);
      this.send(deferred);
    }
    await this.flush();
  }

  /** Wait for the requeue sends made so far. */
  async flush(): Promise<void> {
    while (this.sends.size) await Promise.allSettled([...this.sends]);
  }

  /**
   * The periodic resync: every controller whose period is due names the keys that need
   * a look, and they are reconciled now. A pass at `at`, `intervalMs` after the previous
   * one (the cron's minute, the Node timer), runs the controllers one of whose period
   * boundaries fell in between (stateless: a Worker's cron invocations share nothing);
   * without `intervalMs`, all of them.
   */
  async resync(pass: { at?: Date; intervalMs?: number } = {}): Promise<void> {
    const at = (pass.at ?? this.ctx.now()).getTime();
    const due = (c: Controller) => {
      const period = c.resyncPeriodMs ?? DEFAULT_RESYNC_PERIOD_MS;
      if (!pass.intervalMs || period <= 0) return true;
      // each controller at its own phase of the period, so the passes share the work out
      const t = at + phaseOf(c.name, period);
      return Math.floor(t / period) !== Math.floor((t - pass.intervalMs) / period);
    };
    const keys: QueuedKey[] = [];
    // one read per distinct list in a pass: several controllers list namespaces, nodes,
    // services... (on the Worker each read is a subrequest of the cron's invocation)
    const ctx: ControllerContext = { ...this.ctx, api: listsOnce(this.ctx.api) };
    for (const c of this.o.controllers) {
      if (!c.resync || !due(c)) continue;
      try {
        // for the controller that named them (node lifecycle's due nodes are nothing to the DaemonSet controller)
        keys.push(...(await c.resync(ctx)).map((k) => ({ ...k, controller: c.name })));
      } catch (e) {
        logError(this.ctx.log, `${c.name}: resync failed: ${(e as Error).message}`);
      }
    }
    if (keys.length) await this.dispatch(keys);
    await this.flush();
  }

  /** The batch's keys of `c`'s primary resources, and the primary keys its watches map the others to, once each. */
  private async primaryKeys(c: Controller, queued: QueuedKey[]): Promise<ObjectKey[]> {
    const keys = uniqueKeys(queued.map(({ resource, namespace, name }) => ({ resource, namespace, name })));
    const out = keys.filter((k) => c.primary.includes(k.resource));
    for (const w of c.watches ?? []) {
      const theirs = keys.filter((k) => k.resource === w.resource);
      if (!theirs.length) continue;
      if (w.mapAll) {
        await this.guard(c, `map ${w.resource}`, theirs, async () => void out.push(...(await w.mapAll!(theirs, this.ctx))));
      }
      if (w.map) {
        await pool(theirs, this.concurrency, async (k) => {
          await this.guard(c, `map ${keyString(k)}`, [k], async () => void out.push(...(await w.map!(k, this.ctx))));
        });
      }
    }
    return uniqueKeys(out.filter((k) => c.primary.includes(k.resource)));
  }

  /**
   * Reconcile one key, unless `c` is reconciling it already: in this manager, the
   * running reconcile goes again when it ends; in another (another invocation), the key
   * comes back through the queue shortly.
   */
  private async reconcileKey(c: Controller, key: ObjectKey): Promise<void> {
    const id = `${c.name} ${keyString(key)}`;
    const running = inFlight.get(id);
    if (running && running.manager === this) {
      running.dirty = true;
      return;
    }
    if (running && Date.now() - running.since < IN_FLIGHT_STALE_MS) {
      this.ctx.requeueAfter([key], BUSY_REQUEUE_MS, c.name);
      return;
    }
    const me: InFlight = { manager: this, since: Date.now(), dirty: false };
    inFlight.set(id, me);
    try {
      for (;;) {
        me.dirty = false;
        me.since = Date.now();
        const started = performance.now();
        const result = await this.guard(c, keyString(key), [key], () => c.reconcile!(key, this.ctx));
        if (!me.dirty) break;
        // not under a subrequest budget (a Worker's invocation): there, other invocations that
        // find the key in flight send it back through the queue every BUSY_REQUEUE_MS, so a
        // pause would cost queue messages rather than save reads
        const pause = c.rerunDelayMs && !this.o.budget ? c.rerunDelayMs(performance.now() - started, result) : 0;
        if (pause > 0) {
          me.since = Date.now();
          await new Promise((r) => setTimeout(r, pause));
        }
      }
    } finally {
      if (inFlight.get(id) === me) inFlight.delete(id);
    }
  }

  /** Run `run`; on failure, send `keys` back with backoff (counted per controller and `what`). Its result (undefined on failure). */
  private async guard(c: Controller, what: string, keys: ObjectKey[], run: () => Promise<ReconcileResult>): Promise<ReconcileResult> {
    const id = `${c.name}:${what}`;
    const start = performance.now();
    const timed = (result: "success" | "error" | "requeue_after") => {
      if (!what.startsWith("map ")) this.o.metrics?.reconciled(c.name, result, (performance.now() - start) / 1000);
    };
    this.running++;
    try {
      const r = await run().finally(() => this.running--);
      this.failures.delete(id);
      timed(r && r.requeueAfterMs !== undefined ? "requeue_after" : "success");
      if (r && r.requeueAfterMs !== undefined) this.ctx.requeueAfter(keys, r.requeueAfterMs, c.name);
      return r;
    } catch (e) {
      if (budgetRefusal(e)) {
        // not a failure: it comes again in the next invocation, with a budget of its own
        this.overflow.push(...keys.map(({ resource, namespace, name }) => ({ resource, namespace, name, controller: c.name })));
        return;
      }
      timed("error");
      const n = (this.failures.get(id) ?? 0) + 1;
      this.failures.set(id, n);
      const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(n, 10));
      logError(
        this.ctx.log,
        `${c.name}: ${what.startsWith("map") ? "mapping" : "reconcile"} ${keys.map(keyString).join(" ")} failed (attempt ${n}, retry in ${delay} ms): ${(e as Error).message}`,
      );
      this.ctx.requeueAfter(keys, delay, c.name);
    }
  }
}

/** A stable offset in [0, period) for `name`, in whole minutes where the period allows (FNV-1a of the name). */
const phaseOf = (name: string, period: number): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const step = Math.min(period, 60_000);
  return (h % Math.max(1, Math.floor(period / step))) * step;
};

/** Whether `k` is of a resource `c` reconciles or watches. */
const concerns = (c: Controller, k: ObjectKey) => c.primary.includes(k.resource) || !!c.watches?.some((w) => w.resource === k.resource);

/** Run `f` over `items`, at most `n` at a time. */
export const pool = async <T>(items: T[], n: number, f: (x: T) => Promise<void>): Promise<void> => {
  let i = 0;
  const worker = async () => {
    while (i < items.length) await f(items[i++]);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
};

/**
 * The API with `list` answered once per distinct call (a resync pass reads a snapshot;
 * each caller gets its own array of the same objects, which resyncs only read).
 */
const listsOnce = (api: ControllerClient): ControllerClient => {
  const seen = new Map<string, ReturnType<ControllerClient["list"]>>();
  return new Proxy(api, {
    get(target, prop, receiver) {
      if (prop === "list")
        return (...args: Parameters<ControllerClient["list"]>) => {
          const key = JSON.stringify(args);
          let got = seen.get(key);
          if (!got) {
            got = target.list(...args);
            seen.set(key, got);
          }
          return got.then((items) => [...items]);
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
};
