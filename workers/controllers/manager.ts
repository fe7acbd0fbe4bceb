import type { ObjectKey } from "../../shared/types";
import { keyString, uniqueKeys, type WorkQueue } from "../queue";
import type { Registry } from "../registry/registry";
import { ControllerClient } from "./client";
import { type ControllerConfig, type ControllerContext, DEFAULT_CONFIG, type ReconcileResult } from "./context";
import { eventRecorder } from "./events";

/** A level-triggered controller: `reconcile(key)` for each key of the resources it watches. */
export interface Controller {
  name: string;
  /** plural resource names whose keys are routed to this controller */
  resources: string[];
  /** one key at a time (safe to run twice or concurrently) */
  reconcile?(key: ObjectKey, ctx: ControllerContext): Promise<ReconcileResult>;
  /** all of a batch's keys at once (the scheduler places a whole backlog in one pass) */
  reconcileBatch?(keys: ObjectKey[], ctx: ControllerContext): Promise<ReconcileResult>;
  /** periodic resync (cron tick / Node timer): the keys that need a look now */
  resync?(ctx: ControllerContext): Promise<ObjectKey[]>;
}

export interface ManagerOptions {
  registry: Registry;
  queue: WorkQueue;
  controllers: Controller[];
  now?: () => Date;
  config?: Partial<ControllerConfig>;
  log?: (msg: string) => void;
  /** reconciles run at once per batch */
  concurrency?: number;
}

const MAX_BACKOFF_MS = 60_000;

/**
 * Routes keys from the work queue to the controllers, and runs the periodic resync.
 * Failures are retried with exponential backoff through the queue.
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
      requeueAfter: (keys, ms) => {
        const p = o.queue.enqueue(keys, { delayMs: Math.max(1, ms) }).catch((e) => log(`requeue failed: ${(e as Error).message}`));
        this.sends.add(p);
        void p.finally(() => this.sends.delete(p));
      },
    };
  }

  /** Reconcile a batch of keys with every controller that watches their resource. */
  async dispatch(keys: ObjectKey[]): Promise<void> {
    const all = uniqueKeys(keys);
    await Promise.all(
      this.o.controllers.map(async (c) => {
        const mine = all.filter((k) => c.resources.includes(k.resource));
        if (!mine.length) return;
        if (c.reconcileBatch) {
          await this.guard(c, mine, () => c.reconcileBatch!(mine, this.ctx));
          return;
        }
        await pool(mine, this.concurrency, (k) => this.guard(c, [k], () => c.reconcile!(k, this.ctx)));
      }),
    );
    await this.flush();
  }

  /** Wait for the requeue sends made so far. */
  async flush(): Promise<void> {
    while (this.sends.size) await Promise.allSettled([...this.sends]);
  }

  /** The periodic resync: every controller names the keys that need a look, and they are reconciled now. */
  async resync(): Promise<void> {
    const keys: ObjectKey[] = [];
    for (const c of this.o.controllers) {
      if (!c.resync) continue;
      try {
        keys.push(...(await c.resync(this.ctx)));
      } catch (e) {
        this.ctx.log(`${c.name}: resync failed: ${(e as Error).message}`);
      }
    }
    if (keys.length) await this.dispatch(keys);
    await this.flush();
  }

  private async guard(c: Controller, keys: ObjectKey[], run: () => Promise<ReconcileResult>): Promise<void> {
    const id = `${c.name}:${keys.length === 1 ? keyString(keys[0]) : "batch"}`;
    try {
      const r = await run();
      this.failures.delete(id);
      if (r && r.requeueAfterMs !== undefined) this.ctx.requeueAfter(keys, r.requeueAfterMs);
    } catch (e) {
      const n = (this.failures.get(id) ?? 0) + 1;
      this.failures.set(id, n);
      const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(n, 10));
      this.ctx.log(`${c.name}: reconcile ${keys.map(keyString).join(" ")} failed (attempt ${n}, retry in ${delay} ms): ${(e as Error).message}`);
      this.ctx.requeueAfter(keys, delay);
    }
  }
}

/** Run `f` over `items`, at most `n` at a time. */
export const pool = async <T>(items: T[], n: number, f: (x: T) => Promise<void>): Promise<void> => {
  let i = 0;
  const worker = async () => {
    while (i < items.length) await f(items[i++]);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
};
