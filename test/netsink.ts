/**
 * NET.md's network safety for tests that touch kernel networking: before them, the
 * cluster and service CIDRs (10.42/16, 10.43/16) are routed into an empty bridge with a
 * high metric, so a packet no rule handles goes nowhere instead of off the machine;
 * after them, everything the test made goes again (its own sink, routes, bridges, netns),
 * even on failure. Each test file uses its own sink name (and its own metric, since two
 * routes to one prefix with one metric can't coexist), so files running side by side
 * don't remove each other's.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
const quiet = (p: Promise<unknown>) =>
  p.then(
    () => true,
    () => false,
  );

export const SINK_CIDRS = ["10.42.0.0/16", "10.43.0.0/16"];

export interface NetSink {
  /** also remove these Linux links (bridges the test's code made) when done */
  alsoLinks(...names: string[]): void;
  cleanup(): Promise<void>;
}

/** Route 10.42/16 and 10.43/16 into a sink bridge named `name` (at most 15 characters). Needs root. */
export const netSink = async (name: string, metric: number): Promise<NetSink> => {
  const links: string[] = [];
  const cleanup = async () => {
    for (const cidr of SINK_CIDRS) await quiet(run("ip", ["route", "del", cidr, "dev", name, "metric", String(metric)]));
    for (const l of links) await quiet(run("ip", ["link", "del", l]));
    await quiet(run("ip", ["link", "del", name]));
  };
  try {
    if (!(await quiet(run("ip", ["link", "show", name])))) await run("ip", ["link", "add", name, "type", "bridge"]);
    await run("ip", ["link", "set", name, "up"]);
    for (const cidr of SINK_CIDRS) await run("ip", ["route", "replace", cidr, "dev", name, "metric", String(metric)]);
  } catch (e) {
    await cleanup();
    throw e;
  }
  return { alsoLinks: (...names) => links.push(...names), cleanup };
};

/** Whether this process may change the host's network (root, with `ip`). */
export const canTouchNetwork = async (): Promise<boolean> => process.getuid?.() === 0 && (await quiet(run("ip", ["-V"])));
