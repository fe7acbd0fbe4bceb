import type { ObjectKey } from "../shared/types";

/**
 * A key in the work queue. A write's key goes to every controller that wants it; a
 * requeue (a reconcile's `requeueAfterMs`, a retry, time-based work) names the one
 * controller that asked, as each of controller-runtime's controllers has its own queue:
 * a ReplicaSet coming back for its own reasons does not wake the other controllers of
 * ReplicaSets.
 */
export interface QueuedKey extends ObjectKey {
  /** only this controller (by name) */
  controller?: string;
}

/**
 * The work queue between writes and controllers. It carries keys only; reconcilers
 * re-read the objects. Cloudflare Queue on Workers, in-process on Node.
 */
export interface WorkQueue {
  /** deliver `keys` to the controllers, at once or after `delayMs` */
  enqueue(keys: QueuedKey[], opts?: { delayMs?: number }): Promise<void>;
}

/** A queue that drops everything (read-only tools, tests of the API alone). */
export const discardQueue: WorkQueue = { enqueue: async () => {} };

export const keyString = (k: ObjectKey) => `${k.resource}/${k.namespace}/${k.name}`;

/** A queued key's identity: the object and the controller it is for (if only one). */
export const queuedKeyString = (k: QueuedKey) => (k.controller ? `${k.controller} ${keyString(k)}` : keyString(k));

/** De-duplicate keys, keeping first-seen order (a key for one controller and the same key for all are two). */
export const uniqueKeys = <K extends QueuedKey>(keys: K[]): K[] => [...new Map(keys.map((k) => [queuedKeyString(k), k])).values()];

/** Cloudflare Queues take at most this delay. */
const MAX_DELAY_SECONDS = 12 * 60 * 60;

/** A queue backed by a Cloudflare Queue binding (each message is a batch of keys). */
export const cloudflareQueue = (binding: { send(body: unknown, opts?: { delaySeconds?: number }): Promise<unknown> }): WorkQueue => ({
  enqueue: async (keys, opts) => {
    if (!keys.length) return;
    const delaySeconds = opts?.delayMs ? Math.min(MAX_DELAY_SECONDS, Math.ceil(opts.delayMs / 1000)) : undefined;
    await binding.send({ keys: uniqueKeys(keys) }, delaySeconds ? { delaySeconds } : undefined);
  },
});

/**
 * The in-process queue (Node): keys are coalesced and handed to `handle` in batches
 * as soon as the event loop is free, one batch at a time; delayed keys wait on a
 * timer. `idle()` resolves when nothing is pending (tests, shutdown).
 */
export class InProcessQueue implements WorkQueue {
  private pending = new Map<string, QueuedKey>();
  private running: Promise<void> | undefined;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private closed = false;

  constructor(
    private readonly handle: (keys: QueuedKey[]) => Promise<void>,
    private readonly maxBatch = 500,
  ) {}

  async enqueue(keys: QueuedKey[], opts?: { delayMs?: number }): Promise<void> {
    if (this.closed || !keys.length) return;
    if (opts?.delayMs && opts.delayMs > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        void this.enqueue(keys);
      }, opts.delayMs);
      (t as { unref?: () => void }).unref?.();
      this.timers.add(t);
      return;
    }
    for (const k of keys) this.pending.set(queuedKeyString(k), k);
    this.running ??= this.drain();
  }

  private async drain(): Promise<void> {
    await Promise.resolve();
    try {
      while (this.pending.size && !this.closed) {
        const batch = [...this.pending.values()].slice(0, this.maxBatch);
        for (const k of batch) this.pending.delete(queuedKeyString(k));
        try {
          await this.handle(batch);
        } catch (e) {
          console.error("work queue handler failed:", (e as Error).message);
        }
      }
    } finally {
      this.running = undefined;
    }
  }

  /** Whether a batch is pending or running. */
  get busy(): boolean {
    return !!this.running || this.pending.size > 0;
  }

  /** Resolves once no batch is pending or running (delayed keys are not waited for). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
  }
}
