/**
 * What every benchmark scenario hands the harness (bench/run.ts): figures, each with
 * its aim and the reference it is measured against, so the table can say pass or miss.
 *
 * A scenario module exports `bench<Name>(options, progress) → result` (or a string:
 * "skipped: …"), `<name>Report(result) → string` for humans, and
 * `<name>Figures(result) → Figure[]` for the harness's table, `-o json` and the
 * Markdown report.
 */
export interface Figure {
  /** e.g. "API under load: create p99" */
  name: string;
  value: number;
  /** e.g. "ms", "req/s", "MB", "%", "requests/day" */
  unit: string;
  /** the goal; absent for figures shown for information */
  aim?: { op: "<=" | ">="; value: number };
  /** what the aim comes from or what it is compared with, e.g. "issue #14", "Kubernetes SLO 5 s", "Swarm 1.2 s" */
  reference?: string;
  /** repeated runs: the median is `value`, min and max beside it */
  min?: number;
  max?: number;
  /** raw samples for charts (latency distributions, throughput over time), optional */
  samples?: number[];
}

export const meets = (f: Figure): boolean | undefined =>
  f.aim === undefined ? undefined : f.aim.op === "<=" ? f.value <= f.aim.value : f.value >= f.aim.value;
