/**
 * Writes seen so far, counted by resource: what a cache keeps must not have been
 * overtaken by a write of a resource it rests on while it was being read. Take a
 * `mark()` before the read, keep the answer only if `unchangedSince(mark, resource)`.
 * Used by the read cache (readcache.ts) and the token cache (tokenusers.ts).
 */
export class WriteGenerations {
  private readonly counts = new Map<string, number>();

  /** A write of `resource` was made. */
  bump(resource: string): void {
    this.counts.set(resource, (this.counts.get(resource) ?? 0) + 1);
  }

  /** The counts now, to compare with later. */
  mark(): ReadonlyMap<string, number> {
    return new Map(this.counts);
  }

  /** Whether no write of `resource` was made since `mark`. */
  unchangedSince(mark: ReadonlyMap<string, number>, resource: string): boolean {
    return (this.counts.get(resource) ?? 0) === (mark.get(resource) ?? 0);
  }
}
