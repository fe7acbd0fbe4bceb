/**
 * The prober's timing and thresholds (initialDelaySeconds, periodSeconds,
 * successThreshold, failureThreshold, startup before liveness), on a fake clock with
 * exec results scripted by the test. The real probes run against real engines in
 * the end-to-end suite.
 */
import { describe, expect, it } from "vitest";
import type { KObject } from "../shared/types";
import type { ProbeState } from "./status";
import { Prober } from "./probes";
import type { ContainerInfo, ContainerRuntime } from "./runtime/runtime";

const settle = () => new Promise((r) => setImmediate(r));

const setup = (script: (command: string[]) => number) => {
  let now = 1_000_000;
  const execs: string[] = [];
  const kills: { id: string; grace: number }[] = [];
  const events: string[] = [];
  const runtime = {
    exec: async (_id: string, command: string[]) => {
      execs.push(command.join(" "));
      return { exitCode: script(command), output: "nope" };
    },
  } as unknown as ContainerRuntime;
  const results = new Map<string, ProbeState>();
  const prober = new Prober(
    runtime,
    results,
    async (id, grace) => void kills.push({ id, grace }),
    { record: (_p, _t, reason, message) => void events.push(`${reason}: ${message}`) },
    () => now,
  );
  const pod = { metadata: { name: "p", namespace: "default", uid: "u" }, spec: { terminationGracePeriodSeconds: 7 } } as KObject;
  const inst = { id: "c1", name: "c1", image: "i", labels: {}, state: "running", startedAt: new Date(now).toISOString() } as ContainerInfo;
  /** advance the clock by `s` seconds, one tick per second */
  const run = async (container: any, s: number) => {
    for (let i = 0; i < s; i++) {
      prober.tick(pod, container, inst, "127.0.0.1");
      await settle();
      now += 1000;
    }
  };
  return { execs, kills, events, results, run };
};

const probe = (name: string, extra: Record<string, unknown> = {}) => ({ exec: { command: [name] }, periodSeconds: 1, ...extra });

describe("Prober", () => {
  it("waits initialDelaySeconds, then needs successThreshold passes for Ready and failureThreshold failures to lose it", async () => {
    let ok = true;
    const t = setup(() => (ok ? 0 : 1));
    const c = { name: "c", readinessProbe: probe("ready", { initialDelaySeconds: 3, successThreshold: 2, failureThreshold: 2 }) };
    await t.run(c, 3);
    expect(t.execs).toEqual([]); // still within the initial delay
    expect(t.results.get("c1")).toEqual({ ready: false, started: true });
    await t.run(c, 1);
    expect(t.results.get("c1")!.ready).toBe(false); // one success of two
    await t.run(c, 1);
    expect(t.results.get("c1")!.ready).toBe(true);
    ok = false;
    await t.run(c, 1);
    expect(t.results.get("c1")!.ready).toBe(true); // one failure of two
    await t.run(c, 1);
    expect(t.results.get("c1")!.ready).toBe(false);
    expect(t.events).toContain("Unhealthy: Readiness probe failed: nope");
    expect(t.kills).toEqual([]); // readiness never restarts anything
  });

  it("runs every periodSeconds, and kills after failureThreshold liveness failures with the pod's grace period", async () => {
    const t = setup(() => 1);
    const c = { name: "c", livenessProbe: probe("alive", { periodSeconds: 2, failureThreshold: 3 }) };
    await t.run(c, 4);
    expect(t.execs).toHaveLength(2);
    expect(t.kills).toEqual([]);
    await t.run(c, 2);
    expect(t.kills).toEqual([{ id: "c1", grace: 7 }]);
    expect(t.events).toContain("Killing: Container c failed liveness probe, will be restarted");
    // held while the container stops: no second kill
    await t.run(c, 10);
    expect(t.kills).toHaveLength(1);
  });

  it("runs no liveness or readiness probe until the startup probe passes", async () => {
    let started = false;
    const t = setup((cmd) => (cmd[0] === "started" ? (started ? 0 : 1) : 1));
    const c = {
      name: "c",
      startupProbe: probe("started", { failureThreshold: 30 }),
      livenessProbe: probe("alive", { failureThreshold: 1 }),
      readinessProbe: probe("ready"),
    };
    await t.run(c, 5);
    expect(new Set(t.execs)).toEqual(new Set(["started"]));
    expect(t.results.get("c1")).toEqual({ ready: false, started: false });
    expect(t.kills).toEqual([]);
    started = true;
    await t.run(c, 2);
    expect(t.results.get("c1")!.started).toBe(true);
    expect(t.execs).toContain("alive");
    expect(t.kills).toHaveLength(1); // the liveness probe (failing, threshold 1) now counts
  });

  it("kills a container whose startup probe never passes", async () => {
    const t = setup(() => 1);
    const c = { name: "c", startupProbe: probe("started", { failureThreshold: 3, terminationGracePeriodSeconds: 2 }) };
    await t.run(c, 3);
    expect(t.kills).toEqual([{ id: "c1", grace: 2 }]);
  });
});
