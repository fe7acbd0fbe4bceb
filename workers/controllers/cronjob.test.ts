import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { fakeClock, type FakeClock, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { cronJobController, jobNameFor, SCHEDULED_TIMESTAMP } from "./cronjob";
import { garbageCollector } from "./gc";

const cronJob = (name: string, spec: Record<string, unknown> = {}): KObject =>
  ({
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name },
    spec: {
      schedule: "*/5 * * * *",
      jobTemplate: { spec: { template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "c", image: "busybox" }] } } } },
      ...spec,
    },
  }) as KObject;

describe("cronjob controller", () => {
  let cp: TestControlPlane;
  let clock: FakeClock;
  afterEach(async () => cp?.close());

  // the fake clock starts at 2026-01-01T00:00:00Z
  const start = async () => {
    clock = fakeClock(Date.parse("2026-01-01T00:01:00Z"));
    cp = await startControlPlane({ controllers: [cronJobController, garbageCollector], now: clock.now });
  };
  const tick = async (ms: number) => {
    clock.advance(ms);
    await cp.manager.resync();
    await cp.settle();
  };
  const jobs = async () => (await cp.api.list("jobs", "default")).map((j) => j.metadata.name).sort();
  const finishJob = async (name: string, type: "Complete" | "Failed") => {
    const j = (await cp.api.get("jobs", "default", name))!;
    const now = clock
      .now()
      .toISOString()
      .replace(/\.\d+Z$/, "Z");
    await cp.api.updateStatus("jobs", {
      ...j,
      status: {
        ...j.status,
        startTime: now,
        ...(type === "Complete" ? { completionTime: now, succeeded: 1 } : { failed: 1 }),
        conditions: [{ type, status: "True", lastProbeTime: now, lastTransitionTime: now }],
      },
    });
    await cp.settle();
  };

  it("validates schedules and time zones as Kubernetes does", async () => {
    await start();
    const refused = async (spec: Record<string, unknown>, name = "bad") => {
      const e = await cp.api.create("cronjobs", "default", cronJob(name, spec)).catch((x) => x);
      expect(e).toBeInstanceOf(ApiError);
      expect(e.code).toBe(422);
      return e.message as string;
    };
    expect(await refused({ schedule: "* * * *" })).toContain('spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]');
    expect(await refused({ schedule: "TZ=UTC 0 * * * *" })).toContain("cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
    expect(await refused({ timeZone: "Mars/Olympus" })).toContain('spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus');
    expect(await refused({}, "x".repeat(53))).toContain("must be no more than 52 characters");
    const made = await cp.api.create("cronjobs", "default", cronJob("ok", { schedule: "@hourly", timeZone: "Europe/Berlin" }));
    expect(made.spec).toMatchObject({ concurrencyPolicy: "Allow", suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
  });

  it("starts one Job per scheduled time, named by the time, and remembers it", async () => {
    await start();
    await cp.api.create("cronjobs", "default", cronJob("every5"));
    await cp.settle();
    expect(await jobs()).toEqual([]);
    await tick(4 * 60_000); // 00:05
    const first = jobNameFor("every5", new Date("2026-01-01T00:05:00Z"));
    expect(await jobs()).toEqual([first]);
    const job = (await cp.api.get("jobs", "default", first))!;
    expect(job.metadata.annotations?.[SCHEDULED_TIMESTAMP]).toBe("2026-01-01T00:05:00Z");
    expect(job.metadata.ownerReferences?.[0]).toMatchObject({ kind: "CronJob", name: "every5", controller: true });
    let cj = (await cp.api.get("cronjobs", "default", "every5"))!;
    expect(cj.status.lastScheduleTime).toBe("2026-01-01T00:05:00Z");
    expect(cj.status.active.map((a: any) => a.name)).toEqual([first]);
    // again before the next time: nothing new
    await tick(60_000);
    expect(await jobs()).toEqual([first]);
    // missed runs are not made up: 20 minutes later, only the latest starts
    await finishJob(first, "Complete");
    await tick(20 * 60_000); // 00:26
    expect(await jobs()).toEqual([first, jobNameFor("every5", new Date("2026-01-01T00:25:00Z"))].sort());
    cj = (await cp.api.get("cronjobs", "default", "every5"))!;
    expect(cj.status.lastSuccessfulTime).toBeTruthy();
  });

  it("Forbid skips a run while one is active; Replace deletes the active one", async () => {
    await start();
    await cp.api.create("cronjobs", "default", cronJob("forbid", { concurrencyPolicy: "Forbid" }));
    await cp.api.create("cronjobs", "default", cronJob("replace", { concurrencyPolicy: "Replace" }));
    await cp.settle();
    await tick(4 * 60_000); // 00:05
    const at5 = (n: string) => jobNameFor(n, new Date("2026-01-01T00:05:00Z"));
    const at10 = (n: string) => jobNameFor(n, new Date("2026-01-01T00:10:00Z"));
    expect(await jobs()).toEqual([at5("forbid"), at5("replace")].sort());
    await tick(5 * 60_000); // 00:10
    const names = await jobs();
    expect(names).toContain(at5("forbid"));
    expect(names).not.toContain(at10("forbid"));
    expect(names).toContain(at10("replace"));
    expect(names).not.toContain(at5("replace"));
  });

  it("keeps the history limits, holds runs while suspended, and skips runs past startingDeadlineSeconds", async () => {
    await start();
    await cp.api.create("cronjobs", "default", cronJob("hist", { successfulJobsHistoryLimit: 1, startingDeadlineSeconds: 30 }));
    await cp.settle();
    await tick(4 * 60_000); // 00:05
    const a = jobNameFor("hist", new Date("2026-01-01T00:05:00Z"));
    await finishJob(a, "Complete");
    await tick(5 * 60_000); // 00:10
    const b = jobNameFor("hist", new Date("2026-01-01T00:10:00Z"));
    await finishJob(b, "Complete");
    expect(await jobs()).toEqual([b]);
    // suspended: 00:15 passes without a run
    const cj = (await cp.api.get("cronjobs", "default", "hist"))!;
    await cp.api.update("cronjobs", { ...cj, spec: { ...cj.spec, suspend: true } });
    await tick(5 * 60_000); // 00:15
    expect(await jobs()).toEqual([b]);
    // resumed 2 minutes after 00:15: later than the 30 s deadline, so 00:15 is missed
    const s = (await cp.api.get("cronjobs", "default", "hist"))!;
    await cp.api.update("cronjobs", { ...s, spec: { ...s.spec, suspend: false } });
    await tick(2 * 60_000); // 00:17
    expect(await jobs()).toEqual([b]);
    const events = await cp.api.list("events", "default");
    expect(events.some((e) => e.reason === "MissedSchedule" && e.involvedObject?.name === "hist")).toBe(true);
  });

  it("reads the schedule in its time zone", async () => {
    await start();
    await cp.api.create("cronjobs", "default", cronJob("tz", { schedule: "30 1 * * *", timeZone: "Asia/Tokyo" }));
    await cp.settle();
    // 01:30 in Tokyo is 16:30 UTC the day before; the clock starts at 00:01 UTC on Jan 1
    await tick(16 * 3600_000 + 29 * 60_000); // 16:30 UTC
    const name = jobNameFor("tz", new Date("2026-01-01T16:30:00Z"));
    expect(await jobs()).toEqual([name]);
    expect((await cp.api.get("jobs", "default", name))!.metadata.annotations?.[SCHEDULED_TIMESTAMP]).toBe("2026-01-02T01:30:00+09:00");
  });
});
