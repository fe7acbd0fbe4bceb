/**
 * The CPU time of one body of code inside this process, by V8's sampling profiler
 * (node:inspector): each sample is charged to the first frame, from the top of its
 * stack down, that belongs to one of the given code areas (library and Node internal
 * frames are passed through: they work for whoever called them). Samples of the garbage
 * collector are shared out in proportion; idle time counts for nobody.
 *
 * Used by the edge bench to measure the Worker's own JavaScript per cron run, which
 * workerd's process CPU can only bound from above.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { Session } from "node:inspector/promises";

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Whose a frame's code is: an area's name, or undefined to look further down the stack. */
export type Attribution = (url: string) => string | undefined;

/** Milliseconds of CPU by area while `run` runs (sampled every `intervalUs`). */
export const cpuByArea = async (
  run: () => Promise<void>,
  areaOf: Attribution,
  o: { intervalUs?: number; save?: string } = {},
): Promise<Record<string, number>> => {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: o.intervalUs ?? 100 });
    await session.post("Profiler.start");
    let failed: unknown;
    await run().catch((e) => (failed = e ?? new Error("failed")));
    const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: Profile };
    if (failed) throw failed;
    // for Chrome DevTools or `node --cpu-prof`-style reading
    if (o.save) {
      mkdirSync(dirname(o.save), { recursive: true });
      writeFileSync(o.save, JSON.stringify(profile));
    }
    return attribute(profile, areaOf);
  } finally {
    session.disconnect();
  }
};

/** Charge each sample's time (its delta, in µs) to an area, as described above. Pure. */
export const attribute = (p: Profile, areaOf: Attribution): Record<string, number> => {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  const areaOfNode = (id: number): string => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id)!;
    const fn = n.callFrame.functionName;
    let area: string | undefined;
    if (fn === "(idle)") area = "(idle)";
    else if (fn === "(garbage collector)") area = "(gc)";
    else area = areaOf(n.callFrame.url);
    if (area === undefined) {
      const up = parent.get(id);
      area = up === undefined ? "(other)" : areaOfNode(up);
    }
    memo.set(id, area);
    return area;
  };
  const us: Record<string, number> = {};
  p.samples.forEach((id, i) => {
    const a = areaOfNode(id);
    us[a] = (us[a] ?? 0) + (p.timeDeltas[i] ?? 0);
  });
  const gc = us["(gc)"] ?? 0;
  delete us["(gc)"];
  delete us["(idle)"];
  const busy = Object.values(us).reduce((a, b) => a + b, 0);
  const ms: Record<string, number> = {};
  for (const [a, v] of Object.entries(us)) ms[a] = (v + (busy ? (gc * v) / busy : 0)) / 1000;
  return ms;
};
