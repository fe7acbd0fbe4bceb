/**
 * Reading CPU and memory usage the way kubelet's cAdvisor does, from plain text files:
 * a container's cgroup (v1 or v2, found through /proc/<pid>/cgroup, so any engine and
 * cgroup driver), Docker's stats (the same cgroup numbers through the engine API), and
 * the node's /proc/stat and /proc/meminfo. Parsers are pure; the readers only read files.
 *
 * - CPU: cumulative usage in nanoseconds (v1 cpuacct.usage; v2 cpu.stat usage_usec × 1000).
 * - Memory working set: usage minus inactive file pages (v1 memory.usage_in_bytes −
 *   total_inactive_file; v2 memory.current − inactive_file), never below 0, as cAdvisor's
 *   `container_memory_working_set_bytes` (what metrics-server and `kubectl top` report).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** One reading of a container or node: cumulative CPU time and the memory working set now. */
export interface Sample {
  /** epoch ms when read */
  at: number;
  /** cumulative CPU time used, ns */
  cpuNs: number;
  /** bytes */
  workingSet: number;
}

/** `key value` lines (memory.stat, cpu.stat) */
export const parseFlatKeyed = (text: string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
};

/** usage − inactive file, at least 0 (cAdvisor's working set) */
export const workingSet = (usage: number, inactiveFile: number | undefined) => Math.max(0, usage - (inactiveFile ?? 0));

/** /proc/<pid>/cgroup: the v2 path ("0::/x") and the v1 paths by controller ("4:cpu,cpuacct:/x") */
export const parseProcCgroup = (text: string): { v2?: string; v1: Record<string, string> } => {
  const v1: Record<string, string> = {};
  let v2: string | undefined;
  for (const line of text.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === "0" && m[2] === "") v2 = m[3];
    else for (const c of m[2].split(",")) if (c) v1[c] = m[3];
  }
  return { v2, v1 };
};

/** /proc/stat's first line: busy CPU time of the whole node in ns (USER_HZ 100: one jiffy is 10 ms) */
export const parseProcStatCpuNs = (text: string, userHz = 100): number => {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("no cpu line in /proc/stat");
  // user nice system idle iowait irq softirq steal (guest time is counted in user already)
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = [user, nice, system, irq, softirq, steal].reduce((a, b) => a + (b || 0), 0);
  return busy * (1e9 / userHz);
};

/** /proc/meminfo: the node's working set as cAdvisor computes its root: (MemTotal − MemFree) − Inactive(file) */
export const parseMeminfoWorkingSet = (text: string): { capacity: number; workingSet: number } => {
  const kb: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^([^:]+):\s+(\d+)/.exec(line);
    if (m) kb[m[1]] = Number(m[2]) * 1024;
  }
  const usage = (kb.MemTotal ?? 0) - (kb.MemFree ?? 0);
  return { capacity: kb.MemTotal ?? 0, workingSet: workingSet(usage, kb["Inactive(file)"]) };
};

/** Docker's one-shot stats (GET /containers/{id}/stats?stream=false&one-shot=true) as a Sample */
export const dockerSample = (s: any, at: number): Sample | undefined => {
  const cpu = s?.cpu_stats?.cpu_usage?.total_usage;
  const mem = s?.memory_stats;
  if (typeof cpu !== "number" || !mem || typeof mem.usage !== "number") return undefined;
  // cgroup v1: total_inactive_file; v2: inactive_file (Docker's own CLI does the same subtraction)
  const inactive = mem.stats?.total_inactive_file ?? mem.stats?.inactive_file;
  return { at, cpuNs: cpu, workingSet: workingSet(mem.usage, inactive) };
};

const read = (path: string) => readFile(path, "utf8");
const first = async (paths: string[]): Promise<string> => {
  let err: unknown;
  for (const p of paths) {
    try {
      return await read(p);
    } catch (e) {
      err = e;
    }
  }
  throw err;
};

/** A process's cgroup usage (v2 when it has a unified path with cpu.stat, else v1's cpuacct and memory). */
export async function cgroupSample(pid: number, root = "/sys/fs/cgroup", at = Date.now()): Promise<Sample | undefined> {
  let cg: ReturnType<typeof parseProcCgroup>;
  try {
    cg = parseProcCgroup(await read(`/proc/${pid}/cgroup`));
  } catch {
    return undefined;
  }
  try {
    const cpuPath = cg.v1.cpuacct;
    const memPath = cg.v1.memory;
    if (cpuPath !== undefined && memPath !== undefined) {
      const cpuNs = Number((await first([join(root, "cpuacct", cpuPath, "cpuacct.usage"), join(root, "cpu,cpuacct", cpuPath, "cpuacct.usage")])).trim());
      const usage = Number((await read(join(root, "memory", memPath, "memory.usage_in_bytes"))).trim());
      const stat = parseFlatKeyed(await read(join(root, "memory", memPath, "memory.stat")));
      return { at, cpuNs, workingSet: workingSet(usage, stat.total_inactive_file) };
    }
    if (cg.v2 !== undefined) {
      const cpu = parseFlatKeyed(await read(join(root, cg.v2, "cpu.stat")));
      const usage = Number((await read(join(root, cg.v2, "memory.current"))).trim());
      const stat = parseFlatKeyed(await read(join(root, cg.v2, "memory.stat")));
      return { at, cpuNs: (cpu.usage_usec ?? 0) * 1000, workingSet: workingSet(usage, stat.inactive_file) };
    }
  } catch {}
  return undefined;
}

/** The node's busy CPU time and memory working set (/proc). */
export async function nodeSample(at = Date.now()): Promise<Sample & { memoryCapacity: number }> {
  const [stat, meminfo] = await Promise.all([read("/proc/stat"), read("/proc/meminfo")]);
  const mem = parseMeminfoWorkingSet(meminfo);
  return { at, cpuNs: parseProcStatCpuNs(stat), workingSet: mem.workingSet, memoryCapacity: mem.capacity };
}

/** CPU used between two samples in nanocores (ns of CPU time per s of wall time), or undefined without a usable window */
export const cpuNanoCores = (prev: Sample | undefined, cur: Sample): number | undefined => {
  if (!prev) return undefined;
  const dt = cur.at - prev.at;
  if (dt <= 0 || cur.cpuNs < prev.cpuNs) return undefined; // a restarted container's counter went back
  return Math.round(((cur.cpuNs - prev.cpuNs) * 1000) / dt);
};
