/**
 * Applies the newest of a stream of inputs, at most every `minIntervalMs` (default
 * 200 ms), one apply at a time: inputs that arrive meanwhile replace each other and only
 * the last is applied next. A failed apply is tried again with the same input (unless a
 * newer one came) after a back-off that doubles up to 30 s. kube-proxy's rules and the
 * NetworkPolicy rules are loaded into the kernel this way (as upstream kube-proxy's
 * BoundedFrequencyRunner does).
 */
export class Coalescer<T> {
  private pending?: T;
  private timer?: ReturnType<typeof setTimeout>;
  private running?: Promise<void>;
  private lastRun = 0;
  private failures = 0;
  private stopped = false;
  private waiters: (() => void)[] = [];
  /** failed applies so far */
  errors = 0;

  constructor(
    private readonly apply: (input: T) => Promise<unknown>,
    private readonly o: { minIntervalMs?: number; onError?: (e: Error) => void } = {},
  ) {}

  /** an apply is under way */
  get busy(): boolean {
    return !!this.running;
  }

  /** the input waiting for its turn, if any */
  get waiting(): T | undefined {
    return this.pending;
  }

  update(input: T) {
    if (this.stopped) return;
    this.pending = input;
    if (this.timer || this.running) return;
    // after failures, back off (up to 30 s) rather than hammer the kernel
    const interval = this.failures ? Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6)) : (this.o.minIntervalMs ?? 200);
    const wait = Math.max(0, this.lastRun + interval - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** resolves once everything handed to update() so far is applied (or failed) */
  settled(): Promise<void> {
    if (!this.pending && !this.timer && !this.running) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  private flush() {
    this.timer = undefined;
    const input = this.pending;
    this.pending = undefined;
    if (input === undefined || this.stopped) return this.wake();
    this.lastRun = Date.now();
    this.running = this.apply(input)
      .then(() => {
        this.failures = 0;
      })
      .catch((e) => {
        this.errors++;
        this.failures++;
        this.o.onError?.(e as Error);
        // try again with the same input unless a newer one came
        this.pending ??= input;
      })
      .finally(() => {
        this.running = undefined;
        if (this.pending !== undefined && !this.stopped) this.update(this.pending);
        else this.wake();
      });
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** apply nothing more; resolves when the apply under way (if any) ends */
  async stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    await this.running;
    this.wake();
  }
}
