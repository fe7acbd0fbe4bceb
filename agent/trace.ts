/**
 * Startup tracing for profiling (`KUBEFLARE_TRACE=FILE`): a line per step of a pod's way
 * from its watch event to its status write, `<epoch ms> <pod uid> <step>`, appended to
 * FILE. `npm run bench -- startup` with KUBEFLARE_TRACE set writes its own steps (POST,
 * Running seen) into the same file and prints where the time went. Off (one check of a
 * constant) unless the variable is set.
 */
import { appendFileSync } from "node:fs";

const file = process.env.KUBEFLARE_TRACE || undefined;

/** now, as epoch milliseconds with sub-millisecond precision (comparable across processes) */
export const traceNow = (): number => performance.timeOrigin + performance.now();

/** Record that pod `uid` reached `step` now (a no-op without KUBEFLARE_TRACE). */
export const trace = file
  ? (uid: string, step: string): void => appendFileSync(file, `${traceNow().toFixed(1)} ${uid} ${step}\n`)
  : (_uid: string, _step: string): void => {};
