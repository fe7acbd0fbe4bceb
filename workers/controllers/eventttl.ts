import type { Controller } from "./manager";
import { pool } from "./manager";

/**
 * Events expire: on every resync, events last seen more than `eventTtlMs` ago
 * (default 1 h, as kube-apiserver's --event-ttl) are deleted.
 */
export const eventTtlController: Controller = {
  name: "event-ttl",
  primary: [],
  async resync(ctx) {
    const cutoff = ctx.now().getTime() - ctx.config.eventTtlMs;
    const events = await ctx.api.list("events");
    const old = events.filter((e) => {
      const last = Date.parse(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? "");
      return Number.isFinite(last) && last < cutoff;
    });
    await pool(old, 8, async (e) => {
      await ctx.api.delete("events", e.metadata.namespace ?? "", e.metadata.name!, { preconditions: { uid: e.metadata.uid } }).catch(() => false);
    });
    return [];
  },
};
