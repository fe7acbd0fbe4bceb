/**
 * Kubelet's pod workers (pkg/kubelet/pod_workers.go), small: a keyed work queue that
 * runs at most one sync per key (pod uid) at a time, folds the updates that arrive while
 * a key syncs into one more sync after it, and runs different keys in parallel up to a
 * bound. The sync reads the latest state of its key when it starts, so a sync that
 * starts after an update has seen it: nothing is lost by coalescing.
 */
export interface PodWorkersOptions {
  /** at most this many keys sync at once */
  limit: number;
  sync(key: string): Promise<void>;
  /** a sync that threw (the queue goes on; the key syncs again on its next update) */
  onError?(key: string, e: unknown): void;
}

export class PodWorkers {
  /** keys waiting for a slot, oldest first (a Set keeps insertion order) */
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  /** running keys updated since their sync started: they sync once more afterwards */
  private readonly again = new Set<string>();
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: PodWorkersOptions) {
    if (!(o.limit >= 1)) throw new Error(`pod workers: limit must be at least 1, not ${o.limit}`);
  }

  /** The key's state changed: sync it (now, after its running sync, or when a slot frees). */
  update(key: string): void {
    if (this.closed) return;
    if (this.running.has(key)) this.again.add(key);
    else this.queued.add(key);
    this.pump();
  }

  /** whether the key is syncing or waiting to */
  busy(key: string): boolean {
    return this.running.has(key) || this.queued.has(key);
  }

  /** keys syncing and keys waiting (a gauge for metrics) */
  get size(): { running: number; queued: number } {
    return { running: this.running.size, queued: this.queued.size + this.again.size };
  }

  /** Stop starting syncs; resolves when the running ones have finished. */
  close(): Promise<void> {
    this.closed = true;
    this.queued.clear();
    this.again.clear();
    return this.idle();
  }

  /** Resolves once nothing is running or waiting. */
  idle(): Promise<void> {
    if (!this.running.size && !this.queued.size) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    for (const key of this.queued) {
      if (this.running.size >= this.o.limit) break;
      this.queued.delete(key);
      void this.run(key);
    }
    if (!this.running.size && !this.queued.size) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async run(key: string): Promise<void> {
    this.running.add(key);
    try {
      await this.o.sync(key);
    } catch (e) {
      this.o.onError?.(key, e);
    } finally {
      this.running.delete(key);
      // updated meanwhile: once more, behind the keys already waiting
      if (this.again.delete(key) && !this.closed) this.queued.add(key);
      this.pump();
    }
  }
}

/**
 * A bound on engine work that runs at once (container create + start): the engine does
 * it on the box's CPUs, so twenty starts at once finish no sooner than four at a time,
 * and in arrival order the first pods are running early instead of all of them late.
 * First come, first served. A slot is given back when its work ends or after `maxHoldMs`
 * (the work goes on): a container that is slow to start never holds up the others.
 */
export class Slots {
  private inUse = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly limit: number,
    private readonly maxHoldMs = 2000,
  ) {
    if (!(limit >= 1)) throw new Error(`slots: limit must be at least 1, not ${limit}`);
  }

  /** work running now, and work waiting for a slot */
  get size(): { running: number; queued: number } {
    return { running: this.inUse, queued: this.waiting.length };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.inUse < this.limit) this.inUse++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // the slot is handed over as is
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      const next = this.waiting.shift();
      if (next) next();
      else this.inUse--;
    };
    const timer = setTimeout(release, this.maxHoldMs);
    timer.unref?.();
    try {
      return await work();
    } finally {
      clearTimeout(timer);
      release();
    }
  }
}
