/**
 * The agent's one wait: `ms`, or less if `signal` aborts or `wake` (when given) is
 * called. The abort listener goes away with the wait: the loops wait every second for
 * as long as the agent runs, and listeners left on the one long-lived signal would pile up.
 */
export const sleep = (ms: number, signal: AbortSignal, onWake?: (wake: () => void) => void) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    onWake?.(done);
  });

/** The list-and-watch loops' back-off after the n-th failure in a row: 500 ms doubling to 30 s, ±50 % jitter. */
export const watchBackoffMs = (failures: number) => Math.min(30_000, 250 * 2 ** Math.min(failures, 7)) * (0.5 + Math.random());
