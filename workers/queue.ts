import type { ObjectKey } from "../shared/types";

/**
 * The work queue between writes and controllers. It carries keys only; reconcilers
 * re-read the objects. Cloudflare Queue on Workers, in-process on Node.
 */
export interface WorkQueue {
  /** deliver `keys` to the controllers, at once or after `delayMs` */
  enqueue(keys: ObjectKey[], opts?: { delayMs?: number }): Promise<void>;
}

/** A queue that drops everything (read-only tools, tests of the API alone). */
export const discardQueue: WorkQueue = { enqueue: async () => {} };

export const keyString = (k: ObjectKey) => `${k.resource}/${k.namespace}/${k.name}`;

/** De-duplicate keys, keeping first-seen order. */
export const uniqueKeys = (keys: ObjectKey[]): ObjectKey[] => [...new Map(keys.map((k) => [keyString(k), k])).values()];

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
  private pending = new Map<string, ObjectKey>();
  private running: Promise<void> | undefined;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private closed = false;

  constructor(
    private readonly handle: (keys: ObjectKey[]) => Promise<void>,
    private readonly maxBatch = 500,
  ) {}

  async enqueue(keys: ObjectKey[], opts?: { delayMs?: number }): Promise<void> {
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
    for (const k of keys) this.pending.set(keyString(k), k);
    this.running ??= this.drain();
  }

  private async drain(): Promise<void> {
    await Promise.resolve();
    try {
      while (this.pending.size && !this.closed) {
        const batch = [...this.pending.values()].slice(0, this.maxBatch);
        for (const k of batch) this.pending.delete(keyString(k));
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
