import { describe, expect, it } from "vitest";
import { LABELS } from "../runtime/runtime";
import { cpuNanoCores, dockerSample, parseFlatKeyed, parseMeminfoWorkingSet, parseProcCgroup, parseProcStatCpuNs, type Sample } from "./cgroup";
import { StatsCollector } from "./collector";

describe("stats parsing", () => {
  it("finds v1 and v2 cgroup paths in /proc/<pid>/cgroup", () => {
    const v1 = parseProcCgroup("12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n0::/system.slice/x\n");
    expect(v1.v1.memory).toBe("/docker/abc");
    expect(v1.v1.cpuacct).toBe("/docker/abc");
    expect(v1.v1.cpu).toBe("/docker/abc");
    expect(v1.v2).toBe("/system.slice/x");
    expect(parseProcCgroup("0::/kubeflare/id1\n")).toEqual({ v2: "/kubeflare/id1", v1: {} });
  });

  it("reads busy CPU from /proc/stat (idle and iowait excluded, jiffies of 10 ms)", () => {
    // user nice system idle iowait irq softirq steal guest guest_nice
    const ns = parseProcStatCpuNs("cpu  100 1 50 9999 77 2 3 4 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0\n");
    expect(ns).toBe((100 + 1 + 50 + 2 + 3 + 4) * 10_000_000);
  });

  it("computes the node working set from /proc/meminfo as cAdvisor does", () => {
    const m = parseMeminfoWorkingSet("MemTotal:       1000 kB\nMemFree:         200 kB\nMemAvailable:    600 kB\nInactive(file):  300 kB\n");
    expect(m).toEqual({ capacity: 1000 * 1024, workingSet: (800 - 300) * 1024 });
  });

  it("subtracts inactive_file from Docker's memory usage (v1 total_inactive_file, v2 inactive_file)", () => {
    const v1 = dockerSample({ cpu_stats: { cpu_usage: { total_usage: 5e9 } }, memory_stats: { usage: 10_000, stats: { total_inactive_file: 4_000 } } }, 1);
    expect(v1).toEqual({ at: 1, cpuNs: 5e9, workingSet: 6_000 });
    const v2 = dockerSample({ cpu_stats: { cpu_usage: { total_usage: 7 } }, memory_stats: { usage: 10_000, stats: { inactive_file: 12_000 } } }, 2);
    expect(v2?.workingSet).toBe(0);
    // a stopped container's stats are empty
    expect(dockerSample({ cpu_stats: { cpu_usage: {} }, memory_stats: {} }, 3)).toBeUndefined();
  });

  it("turns cumulative CPU into nanocores over the window", () => {
    const a: Sample = { at: 10_000, cpuNs: 1e9, workingSet: 0 };
    expect(cpuNanoCores(a, { at: 12_000, cpuNs: 2e9, workingSet: 0 })).toBe(500_000_000); // half a core
    expect(cpuNanoCores(undefined, a)).toBeUndefined();
    expect(cpuNanoCores(a, { at: 12_000, cpuNs: 0, workingSet: 0 })).toBeUndefined(); // restarted: counter went back
    expect(parseFlatKeyed("usage_usec 123\nuser_usec 3\nbad line x\n")).toEqual({ usage_usec: 123, user_usec: 3 });
  });
});

describe("StatsCollector", () => {
  const container = (id: string, pod: string, name: string, role = "app") => ({
    id,
    name: id,
    image: "x",
    state: "running" as const,
    labels: {
      [LABELS.node]: "n1",
      [LABELS.podUid]: `uid-${pod}`,
      [LABELS.podName]: pod,
      [LABELS.podNamespace]: "default",
      [LABELS.container]: name,
      [LABELS.role]: role,
    },
  });

  const setup = () => {
    let now = 100_000;
    let cpu = 0;
    let reads = 0;
    const c = new StatsCollector({
      nodeName: "n1",
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      node: async () => ({ at: now, cpuNs: cpu * 2, workingSet: 1 << 30 }),
      runtime: {
        list: async () => [
          container("a", "web", "app"),
          container("s", "web", "POD", "sandbox"),
          { ...container("x", "gone", "app"), state: "exited" as const },
        ],
        stats: async (id) => {
          reads++;
          return id === "a" ? { at: now, cpuNs: cpu, workingSet: 5 << 20 } : { at: now, cpuNs: 0, workingSet: 1 };
        },
      },
    });
    return {
      c,
      advance: (ms: number, cpuNs: number) => {
        now += ms;
        cpu += cpuNs;
      },
      reads: () => reads,
    };
  };

  it("reads twice on the first ask, then rates against the previous ask; only running app containers", async () => {
    const t = setup();
    // the busy container uses a quarter core during the 1 s double read? it does not move here: 0
    const first = await t.c.summary();
    expect(first.pods).toHaveLength(1);
    expect(first.pods[0]).toMatchObject({ namespace: "default", name: "web", uid: "uid-web", windowSeconds: 1 });
    expect(first.pods[0].containers).toEqual([{ name: "app", cpuNanoCores: 0, memoryWorkingSetBytes: 5 << 20 }]);
    expect(t.reads()).toBe(2);
    // 15 s later, 3 s of CPU: 0.2 cores; no second read
    t.advance(15_000, 3e9);
    const second = await t.c.summary();
    expect(t.reads()).toBe(3);
    expect(second.pods[0].windowSeconds).toBe(15);
    expect(second.pods[0].containers[0].cpuNanoCores).toBe(200_000_000);
    expect(second.node.cpuNanoCores).toBe(400_000_000);
    // an ask right after is answered from the last collection, reading nothing
    t.advance(2_000, 1e9);
    expect(await t.c.summary()).toBe(second);
    expect(t.reads()).toBe(3);
  });

  it("reads twice again when the previous reading is too old to be the latest window", async () => {
    const t = setup();
    await t.c.summary();
    t.advance(10 * 60_000, 60e9);
    const s = await t.c.summary();
    expect(s.pods[0].windowSeconds).toBe(1);
    expect(s.pods[0].containers[0].cpuNanoCores).toBe(0);
  });
});
