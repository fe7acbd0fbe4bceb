/**
 * The agent's back-off, shared by crash-loop restarts, image pulls and pod sandbox
 * creation (one instance per pod worker, each in its own key space).
 */

/**
 * kubelet's back-off (client-go's flowcontrol.Backoff), per key: the first restart
 * (or pull) happens at once; a failure inside the current window waits it out, and
 * each retry doubles the window, 10 s up to 5 min. A key left alone for twice the
 * maximum (a container that ran 10 minutes) starts again at 10 s.
 */
export class Backoff {
  private readonly entries = new Map<string, { backoff: number; lastUpdate: number }>();
  constructor(
    private readonly initialMs = 10_000,
    private readonly maxMs = 300_000,
  ) {}
  private live(key: string, now: number) {
    const e = this.entries.get(key);
    return e && now - e.lastUpdate <= 2 * this.maxMs ? e : undefined;
  }
  /** the current window (what "back-off 20s restarting failed container" reports) */
  delay(key: string): number {
    return this.entries.get(key)?.backoff ?? this.initialMs;
  }
  /** is a retry after a failure at `failedAt` still held back? (IsInBackOffSince) */
  inBackoffSince(key: string, failedAt: number, now: number): boolean {
    const e = this.live(key, now);
    return !!e && now - failedAt < e.backoff;
  }
  /** is a retry held back counting from the last retry? (IsInBackOffSinceUpdate, for image pulls) */
  inBackoffSinceUpdate(key: string, now: number): boolean {
    const e = this.live(key, now);
    return !!e && now - e.lastUpdate < e.backoff;
  }
  /** a retry happens now: the next failure waits longer (Next) */
  next(key: string, now: number): void {
    const e = this.live(key, now);
    this.entries.set(key, { backoff: e ? Math.min(this.maxMs, e.backoff * 2) : this.initialMs, lastUpdate: now });
  }
  /** forget one key (forget() takes a prefix, and `pull/u/c` is a prefix of `pull/u/c2`) */
  reset(key: string) {
    this.entries.delete(key);
  }
  forget(prefix: string) {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
