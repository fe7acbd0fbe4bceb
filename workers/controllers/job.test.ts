import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { fakeClock, type FakeClock, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { garbageCollector } from "./gc";
import { formatIndexes, JOB_COMPLETION_INDEX, JOB_INDEX_FAILURE_COUNT, JOB_TRACKING_FINALIZER, jobController, parseIndexes } from "./job";

const job = (name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): KObject =>
  ({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name },
    spec: {
      template: { metadata: { labels: { app: name } }, spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }], ...podSpec } },
      ...spec,
    },
  }) as KObject;

describe("completed indexes", () => {
  it("reads and writes kube's interval form", () => {
    expect(formatIndexes(new Set([7, 1, 3, 4, 5]))).toBe("1,3-5,7");
    expect([...parseIndexes("1,3-5,7")]).toEqual([1, 3, 4, 5, 7]);
    expect(formatIndexes(parseIndexes(""))).toBe("");
  });
});

describe("job controller", () => {
  let cp: TestControlPlane;
  let clock: FakeClock;
  afterEach(async () => cp?.close());

  const start = async (controllers = [jobController]) => {
    clock = fakeClock();
    cp = await startControlPlane({ controllers, now: clock.now });
  };
  const pods = async (name: string) =>
    (await cp.api.list("pods", "default", { labelSelector: `batch.kubernetes.io/job-name=${name}` })).sort((a, b) =>
      a.metadata.name! < b.metadata.name! ? -1 : 1,
    );
  const active = async (name: string) => (await pods(name)).filter((p) => !p.status?.phase || p.status.phase === "Pending");
  // as an agent reports a pod whose container exited
  const finish = async (pod: KObject, phase: "Succeeded" | "Failed") => {
    const finishedAt = clock
      .now()
      .toISOString()
      .replace(/\.\d+Z$/, "Z");
    const terminated = { exitCode: phase === "Succeeded" ? 0 : 1, reason: phase === "Succeeded" ? "Completed" : "Error", finishedAt };
    const containerStatuses = [{ name: "c", image: "busybox", imageID: "", ready: false, restartCount: 0, state: { terminated } }];
    await cp.api.updateStatus("pods", { ...pod, status: { ...pod.status, phase, containerStatuses } });
    await cp.settle();
  };
  const get = async (name: string) => (await cp.api.get("jobs", "default", name))!;
  const condition = (j: KObject, type: string) => j.status?.conditions?.find((c: any) => c.type === type);

  it("generates the selector and pod labels, and refuses a template that restarts Always", async () => {
    await start();
    const made = await cp.api.create("jobs", "default", job("gen"));
    const uid = made.metadata.uid!;
    expect(made.spec!.selector).toEqual({ matchLabels: { "batch.kubernetes.io/controller-uid": uid } });
    expect(made.spec!.template.metadata.labels).toEqual({
      app: "gen",
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": "gen",
      "controller-uid": uid,
      "job-name": "gen",
    });
    expect(made.metadata.labels).toEqual({ app: "gen" });
    expect(made.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: "NonIndexed", suspend: false });

    const bad = job("always");
    delete bad.spec!.template.spec.restartPolicy;
    const e = await cp.api.create("jobs", "default", bad).catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.code).toBe(422);
    expect(e.message).toContain('spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"');
    const manual = await cp.api.create("jobs", "default", job("sel", { selector: { matchLabels: { app: "sel" } } })).catch((x) => x);
    expect(manual.code).toBe(422);
    expect(manual.message).toContain("`selector` not auto-generated");
    const cannot = await cp.api.update("jobs", { ...made, spec: { ...made.spec, completions: 5 } }).catch((x) => x);
    expect(cannot.code).toBe(422);
    expect(cannot.message).toContain("spec.completions: Invalid value");
  });

  it("runs `completions` pods, `parallelism` at a time, counts each finished pod once, and completes", async () => {
    await start();
    await cp.api.create("jobs", "default", job("three", { completions: 3, parallelism: 2 }));
    await cp.settle();
    let ps = await pods("three");
    expect(ps).toHaveLength(2);
    expect(ps[0].metadata.finalizers).toEqual([JOB_TRACKING_FINALIZER]);
    expect(ps[0].metadata.ownerReferences?.[0]).toMatchObject({ kind: "Job", name: "three", controller: true, blockOwnerDeletion: true });
    expect((await get("three")).status).toMatchObject({ active: 2, uncountedTerminatedPods: {} });
    expect((await get("three")).status.startTime).toBeTruthy();

    await finish(ps[0], "Succeeded");
    ps = await pods("three");
    expect(ps).toHaveLength(3);
    expect(ps.find((p) => p.status?.phase === "Succeeded")!.metadata.finalizers ?? []).toEqual([]);
    let j = await get("three");
    expect(j.status).toMatchObject({ succeeded: 1, active: 2 });
    // a later reconcile does not count the finished pod again
    await cp.manager.resync();
    await cp.settle();
    expect((await get("three")).status.succeeded).toBe(1);

    for (const p of await active("three")) await finish(p, "Succeeded");
    j = await get("three");
    expect(j.status).toMatchObject({ succeeded: 3, active: 0 });
    expect(condition(j, "Complete")).toMatchObject({ status: "True", reason: "CompletionsReached" });
    expect(j.status.completionTime).toBeTruthy();
    expect(await pods("three")).toHaveLength(3);
    expect((await pods("three")).every((p) => !(p.metadata.finalizers ?? []).length)).toBe(true);
  });

  it("backs off after a failure and fails at backoffLimit, deleting its running pods", async () => {
    await start();
    await cp.api.create("jobs", "default", job("flaky", { backoffLimit: 1 }));
    await cp.settle();
    await finish((await active("flaky"))[0], "Failed");
    expect((await get("flaky")).status).toMatchObject({ failed: 1 });
    // 10 s of back-off before the next pod
    expect(await active("flaky")).toHaveLength(0);
    clock.advance(11_000);
    await cp.manager.resync();
    await cp.settle();
    expect(await active("flaky")).toHaveLength(1);
    await finish((await active("flaky"))[0], "Failed");
    const j = await get("flaky");
    expect(j.status.failed).toBe(2);
    expect(condition(j, "Failed")).toMatchObject({ status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" });
    expect(await active("flaky")).toHaveLength(0);
  });

  it("counts a running pod that is deleted as failed, and replaces it", async () => {
    await start();
    await cp.api.create("jobs", "default", job("gone", { backoffLimit: 3 }));
    await cp.settle();
    const [p] = await active("gone");
    await cp.api.delete("pods", "default", p.metadata.name!);
    await cp.settle();
    expect((await get("gone")).status.failed).toBe(1);
    // the finalizer is off, so the deleted pod is gone
    expect(await cp.api.get("pods", "default", p.metadata.name!)).toBeNull();
    clock.advance(11_000);
    await cp.manager.resync();
    await cp.settle();
    expect(await active("gone")).toHaveLength(1);
  });

  it("Indexed: one pod per index with its index, complete when every index has succeeded", async () => {
    await start();
    await cp.api.create("jobs", "default", job("idx", { completions: 3, parallelism: 3, completionMode: "Indexed" }));
    await cp.settle();
    const ps = await active("idx");
    expect(ps.map((p) => p.metadata.annotations?.[JOB_COMPLETION_INDEX]).sort()).toEqual(["0", "1", "2"]);
    const one = ps.find((p) => p.metadata.annotations?.[JOB_COMPLETION_INDEX] === "1")!;
    expect(one.metadata.name).toMatch(/^idx-1-[a-z0-9]{5}$/);
    expect(one.spec!.hostname).toBe("idx-1");
    expect(one.spec!.containers[0].env).toContainEqual({
      name: "JOB_COMPLETION_INDEX",
      valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX}']` } },
    });
    await finish(one, "Succeeded");
    expect((await get("idx")).status.completedIndexes).toBe("1");
    const zero = (await active("idx")).find((p) => p.metadata.annotations?.[JOB_COMPLETION_INDEX] === "0")!;
    await finish(zero, "Failed");
    clock.advance(11_000);
    await cp.manager.resync();
    await cp.settle();
    // index 0 runs again
    const again = (await active("idx")).map((p) => p.metadata.annotations?.[JOB_COMPLETION_INDEX]).sort();
    expect(again).toEqual(["0", "2"]);
    for (const p of await active("idx")) await finish(p, "Succeeded");
    const j = await get("idx");
    expect(j.status.completedIndexes).toBe("0-2");
    expect(condition(j, "Complete")?.status).toBe("True");
  });

  it("fails past activeDeadlineSeconds", async () => {
    await start();
    await cp.api.create("jobs", "default", job("slow", { activeDeadlineSeconds: 30 }));
    await cp.settle();
    expect(await active("slow")).toHaveLength(1);
    clock.advance(31_000);
    await cp.manager.resync();
    await cp.settle();
    const j = await get("slow");
    expect(condition(j, "Failed")).toMatchObject({ status: "True", reason: "DeadlineExceeded" });
    expect(await active("slow")).toHaveLength(0);
  });

  it("suspend stops the pods without counting them as failures; resume starts them again", async () => {
    await start();
    await cp.api.create("jobs", "default", job("pause", { parallelism: 2, completions: 4 }));
    await cp.settle();
    expect(await active("pause")).toHaveLength(2);
    const j = await get("pause");
    await cp.api.update("jobs", { ...j, spec: { ...j.spec, suspend: true } });
    await cp.settle();
    let s = await get("pause");
    expect(condition(s, "Suspended")).toMatchObject({ status: "True", reason: "JobSuspended" });
    expect(s.status.failed ?? 0).toBe(0);
    expect(await active("pause")).toHaveLength(0);
    expect(s.status.startTime).toBeUndefined();
    await cp.api.update("jobs", { ...s, spec: { ...s.spec, suspend: false } });
    await cp.settle();
    s = await get("pause");
    expect(condition(s, "Suspended")).toMatchObject({ status: "False", reason: "JobResumed" });
    expect(await active("pause")).toHaveLength(2);
    expect(s.status.startTime).toBeTruthy();
  });

  it("ttlSecondsAfterFinished deletes the finished Job and its pods", async () => {
    await start([jobController, garbageCollector]);
    await cp.api.create("jobs", "default", job("brief", { ttlSecondsAfterFinished: 60 }));
    await cp.settle();
    await finish((await active("brief"))[0], "Succeeded");
    expect(condition(await get("brief"), "Complete")?.status).toBe("True");
    clock.advance(61_000);
    await cp.manager.resync();
    await cp.settle();
    expect(await cp.api.get("jobs", "default", "brief")).toBeNull();
    expect(await pods("brief")).toHaveLength(0);
  });

  /** as an agent reports a failed pod: container `c` exited with `code`, with extra pod conditions */
  const fail = async (pod: KObject, code: number, conditions: unknown[] = []) => {
    const finishedAt = clock
      .now()
      .toISOString()
      .replace(/\.\d+Z$/, "Z");
    const containerStatuses = [
      { name: "c", image: "busybox", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: code, reason: "Error", finishedAt } } },
    ];
    await cp.api.updateStatus("pods", { ...pod, status: { ...pod.status, phase: "Failed", containerStatuses, conditions } });
    await cp.settle();
  };

  it("podFailurePolicy: FailJob on an exit code fails the Job at once (FailureTarget, then Failed with PodFailurePolicy)", async () => {
    await start();
    const rules = [
      { action: "FailJob", onExitCodes: { containerName: "c", operator: "In", values: [42] } },
      { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] },
    ];
    const made = await cp.api.create("jobs", "default", job("pfp", { completions: 3, parallelism: 2, backoffLimit: 6, podFailurePolicy: { rules } }));
    // defaulted: the pattern's status
    expect(made.spec!.podFailurePolicy.rules[1].onPodConditions).toEqual([{ type: "DisruptionTarget", status: "True" }]);
    await cp.settle();
    const [first, second] = await active("pfp");
    await fail(first, 42);
    const j = await get("pfp");
    expect(condition(j, "FailureTarget")).toMatchObject({ status: "True", reason: "PodFailurePolicy" });
    expect(condition(j, "Failed")).toMatchObject({
      status: "True",
      reason: "PodFailurePolicy",
      message: `Container c for pod default/${first.metadata.name} failed with exit code 42 matching FailJob rule at index 0`,
    });
    expect(j.status!.failed).toBe(1);
    // its other pod was stopped
    expect((await cp.api.get("pods", "default", second.metadata.name!))?.metadata.deletionTimestamp ?? "gone").toBeTruthy();
  });

  it("podFailurePolicy: Ignore replaces a disrupted pod without counting it; Count (and no match) counts towards backoffLimit", async () => {
    await start();
    const rules = [
      { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
      { action: "Count", onExitCodes: { operator: "NotIn", values: [1, 2] } },
    ];
    await cp.api.create("jobs", "default", job("ign", { backoffLimit: 1, podFailurePolicy: { rules } }));
    await cp.settle();
    const [p1] = await active("ign");
    await fail(p1, 137, [{ type: "DisruptionTarget", status: "True", reason: "EvictionByEvictionAPI" }]);
    let j = await get("ign");
    expect(j.status!.failed ?? 0).toBe(0);
    expect(condition(j, "Failed")).toBeUndefined();
    // replaced at once (no back-off: nothing failed), and its finalizer is gone
    const [p2] = await active("ign");
    expect(p2.metadata.uid).not.toBe(p1.metadata.uid);
    expect((await cp.api.get("pods", "default", p1.metadata.name!))!.metadata.finalizers ?? []).not.toContain(JOB_TRACKING_FINALIZER);
    // exit code 3 (NotIn [1, 2]): Count
    await fail(p2, 3);
    j = await get("ign");
    expect(j.status!.failed).toBe(1);
    clock.advance(11_000);
    await cp.manager.resync();
    await cp.settle();
    const [p3] = await active("ign");
    await fail(p3, 1);
    j = await get("ign");
    expect(j.status!.failed).toBe(2);
    expect(condition(j, "Failed")).toMatchObject({ reason: "BackoffLimitExceeded" });
  });

  it("successPolicy: an Indexed Job succeeds once the leader index has (SuccessCriteriaMet, then Complete)", async () => {
    await start();
    await cp.api.create(
      "jobs",
      "default",
      job("lead", { completionMode: "Indexed", completions: 3, parallelism: 3, successPolicy: { rules: [{ succeededIndexes: "0" }] } }),
    );
    await cp.settle();
    const ps = await active("lead");
    expect(ps).toHaveLength(3);
    const leader = ps.find((p) => p.metadata.annotations?.[JOB_COMPLETION_INDEX] === "0")!;
    await finish(leader, "Succeeded");
    const j = await get("lead");
    expect(condition(j, "SuccessCriteriaMet")).toMatchObject({ status: "True", reason: "SuccessPolicy", message: "Matched rules at index 0" });
    expect(condition(j, "Complete")).toMatchObject({ status: "True", reason: "SuccessPolicy" });
    expect(j.status!.completedIndexes).toBe("0");
    expect(await active("lead")).toHaveLength(0);
  });

  it("validates podFailurePolicy and successPolicy as Kubernetes does", async () => {
    await start();
    const causes = async (spec: Record<string, unknown>, podSpec: Record<string, unknown> = {}) => {
      try {
        await cp.api.create("jobs", "default", job(`v${Math.random().toString(36).slice(2, 8)}`, spec, podSpec));
        return [];
      } catch (e) {
        return ((e as ApiError).details?.causes ?? []).map((c: any) => `${c.field}: ${c.message}`);
      }
    };
    expect(
      await causes({ podFailurePolicy: { rules: [{ action: "Count", onExitCodes: { operator: "In", values: [1] } }] } }, { restartPolicy: "OnFailure" }),
    ).toEqual(['spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified']);
    expect(
      await causes({
        podFailurePolicy: {
          rules: [
            { action: "FailJob", onExitCodes: { containerName: "nope", operator: "In", values: [0, 5, 3] } },
            { action: "FailIndex", onPodConditions: [{ type: "DisruptionTarget" }] },
            { action: "Ignore" },
          ],
        },
      }),
    ).toEqual([
      'spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "nope": must be one of the container or initContainer names in the pod template',
      "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator",
      "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [0,5,3]: must be ordered",
      'spec.podFailurePolicy.rules[1].action: Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set',
      "spec.podFailurePolicy.rules[2]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required",
    ]);
    expect(await causes({ successPolicy: { rules: [{ succeededCount: 2 }] } })).toEqual([
      'spec.successPolicy: Invalid value: "NonIndexed": requires indexed completion mode',
      "spec.successPolicy.rules[0].succeededCount: Invalid value: 2: must be less than or equal to 1 (the number of specified completions)",
    ]);
    expect(
      await causes({ completionMode: "Indexed", completions: 3, successPolicy: { rules: [{ succeededIndexes: "0,2-5", succeededCount: 1 }, {}] } }),
    ).toEqual([
      'spec.successPolicy.rules[0].succeededIndexes: Invalid value: "0,2-5": error parsing succeededIndexes: too large index: "5"',
      "spec.successPolicy.rules[1]: Required value: at least one of succeededCount or succeededIndexes must be specified",
    ]);
  });

  it("backoffLimitPerIndex: an index that fails too often is failed alone (with its own back-off); the Job fails with FailedIndexes at the end", async () => {
    await start();
    const made = await cp.api.create("jobs", "default", job("per", { completionMode: "Indexed", completions: 3, parallelism: 3, backoffLimitPerIndex: 1 }));
    expect(made.spec!.backoffLimit).toBe(2147483647);
    await cp.settle();
    const byIndex = async (i: number) => (await active("per")).find((p) => p.metadata.annotations?.[JOB_COMPLETION_INDEX] === String(i));
    expect((await byIndex(1))!.metadata.annotations?.[JOB_INDEX_FAILURE_COUNT]).toBe("0");
    await fail((await byIndex(1))!, 1);
    expect((await get("per")).status!.failedIndexes ?? "").toBe("");
    // that index backs off 10 s; the others are unaffected
    expect(await byIndex(1)).toBeUndefined();
    clock.advance(11_000);
    await cp.manager.resync();
    await cp.settle();
    const again = (await byIndex(1))!;
    expect(again.metadata.annotations?.[JOB_INDEX_FAILURE_COUNT]).toBe("1");
    await fail(again, 1);
    let j = await get("per");
    expect(j.status).toMatchObject({ failedIndexes: "1", failed: 2 });
    expect(condition(j, "Failed")).toBeUndefined();
    clock.advance(60_000);
    await cp.manager.resync();
    await cp.settle();
    expect(await byIndex(1)).toBeUndefined();
    await finish((await byIndex(0))!, "Succeeded");
    await finish((await byIndex(2))!, "Succeeded");
    j = await get("per");
    expect(j.status).toMatchObject({ completedIndexes: "0,2", failedIndexes: "1" });
    expect(condition(j, "Failed")).toMatchObject({ status: "True", reason: "FailedIndexes", message: "Job has failed indexes" });
  });

  it("podFailurePolicy FailIndex fails the index at once; beyond maxFailedIndexes the Job fails", async () => {
    await start();
    const rules = [{ action: "FailIndex", onExitCodes: { operator: "In", values: [42] } }];
    await cp.api.create(
      "jobs",
      "default",
      job("fi", { completionMode: "Indexed", completions: 2, parallelism: 2, backoffLimitPerIndex: 5, maxFailedIndexes: 0, podFailurePolicy: { rules } }),
    );
    await cp.settle();
    const [p] = await active("fi");
    await fail(p, 42);
    const j = await get("fi");
    expect(j.status!.failedIndexes).toBe(p.metadata.annotations?.[JOB_COMPLETION_INDEX]);
    expect(condition(j, "Failed")).toMatchObject({
      reason: "MaxFailedIndexesExceeded",
      message: "Job has exceeded the specified maximal number of failed indexes",
    });
    expect(await active("fi")).toHaveLength(0);
  });
});
