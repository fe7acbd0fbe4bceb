/** The agent's event aggregation, with a fake clock and a fake API (no network). */
import { describe, expect, it } from "vitest";
import type { KObject } from "../shared/types";
import { ApiRequestError } from "./api";
import { containerPath, EventCorrelator, goDuration, PodEvents } from "./events";

const clock = (start = Date.parse("2025-01-01T00:00:00Z")) => {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

interface Call {
  method: string;
  path: string;
  body: any;
  contentType?: string;
}

/** Records requests; `fail` decides an error per call (or none). */
const fakeApi = (fail: (c: Call) => Error | undefined = () => undefined) => {
  const calls: Call[] = [];
  return {
    calls,
    request: async (method: string, path: string, body?: unknown, contentType?: string) => {
      const c = { method, path, body, contentType };
      calls.push(c);
      const e = fail(c);
      if (e) throw e;
      return {} as any;
    },
  };
};

const pod: KObject = { apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "shop", uid: "u-1", resourceVersion: "42" }, spec: {} };

describe("EventCorrelator", () => {
  it("creates on the first occurrence, counts repeats locally, patches at most once per interval", () => {
    const c = clock();
    const k = new EventCorrelator(c.now);
    const first = k.observe("a", "shop", "web");
    expect(first).toMatchObject({ kind: "create", namespace: "shop", count: 1 });
    if (first.kind !== "create") throw new Error();
    expect(first.name).toMatch(/^web\.[0-9a-f]{8}$/);
    c.advance(1000);
    expect(k.observe("a", "shop", "web")).toEqual({ kind: "wait" });
    c.advance(1000);
    expect(k.observe("a", "shop", "web")).toEqual({ kind: "wait" });
    c.advance(28_000); // 30 s after the create
    expect(k.observe("a", "shop", "web")).toMatchObject({ kind: "patch", name: first.name, count: 4, first: first.first, last: c.now() });
    c.advance(5000);
    expect(k.observe("a", "shop", "web")).toEqual({ kind: "wait" });
  });

  it("sends held-back counts once the interval has passed (due), and only then", () => {
    const c = clock();
    const k = new EventCorrelator(c.now);
    k.observe("a", "shop", "web");
    c.advance(1000);
    k.observe("a", "shop", "web");
    c.advance(1000);
    k.observe("a", "shop", "web");
    expect(k.due()).toEqual([]);
    c.advance(28_000);
    const [w, ...rest] = k.due();
    expect(rest).toEqual([]);
    expect(w).toMatchObject({ count: 3, last: c.now() - 28_000 });
    // nothing new since: nothing to send
    c.advance(60_000);
    expect(k.due()).toEqual([]);
  });

  it("keeps different keys apart", () => {
    const k = new EventCorrelator(clock().now);
    const a = k.observe("a", "shop", "web");
    const b = k.observe("b", "shop", "web");
    expect(a.kind).toBe("create");
    expect(b.kind).toBe("create");
    expect((a as any).name).not.toBe((b as any).name);
  });

  it("starts afresh, under a new name, after forget (the event is gone)", () => {
    const c = clock();
    const k = new EventCorrelator(c.now);
    const a = k.observe("a", "shop", "web") as any;
    k.forget("a");
    c.advance(1);
    const again = k.observe("a", "shop", "web") as any;
    expect(again).toMatchObject({ kind: "create", count: 1 });
    expect(again.name).not.toBe(a.name);
  });

  it("retry leaves the count for the next patch", () => {
    const c = clock();
    const k = new EventCorrelator(c.now);
    k.observe("a", "shop", "web");
    c.advance(30_000);
    expect(k.observe("a", "shop", "web")).toMatchObject({ kind: "patch", count: 2 });
    k.retry("a"); // that patch failed
    expect(k.due()).toEqual([]); // not before the interval
    c.advance(30_000);
    expect(k.due()).toEqual([expect.objectContaining({ count: 2 })]);
  });

  it("is bounded: the least recently seen go first, and old ones are dropped", () => {
    const c = clock();
    const k = new EventCorrelator(c.now, { maxEntries: 3, maxAgeMs: 60_000 });
    for (const key of ["a", "b", "c"]) k.observe(key, "shop", "web");
    c.advance(1000);
    k.observe("a", "shop", "web"); // a is now the most recent
    k.observe("d", "shop", "web"); // evicts b
    expect(k.size).toBe(3);
    expect(k.observe("b", "shop", "web").kind).toBe("create"); // evicts c
    expect(k.observe("a", "shop", "web").kind).toBe("wait");
    c.advance(60_000);
    expect(k.observe("a", "shop", "web").kind).toBe("create"); // all others aged out
    expect(k.size).toBe(1);
  });

  it("keeps names within 253 characters", () => {
    const d = new EventCorrelator(clock().now).observe("a", "shop", "x".repeat(253)) as any;
    expect(d.name.length).toBe(253);
  });
});

describe("PodEvents", () => {
  it("creates a kubelet-shaped Event, then patches count and lastTimestamp with a merge patch", async () => {
    const c = clock();
    const api = fakeApi();
    const ev = new PodEvents(api, "node-1", c.now);
    ev.record(pod, "Warning", "BackOff", "Back-off restarting failed container c in pod web_shop(u-1)", containerPath("app", "c"));
    await ev.settled();
    expect(api.calls).toHaveLength(1);
    const { method, path, body } = api.calls[0];
    expect(method).toBe("POST");
    expect(path).toBe("/api/v1/namespaces/shop/events");
    expect(body).toEqual({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: expect.stringMatching(/^web\.[0-9a-f]{8}$/), namespace: "shop" },
      involvedObject: { apiVersion: "v1", kind: "Pod", name: "web", namespace: "shop", uid: "u-1", resourceVersion: "42", fieldPath: "spec.containers{c}" },
      reason: "BackOff",
      message: "Back-off restarting failed container c in pod web_shop(u-1)",
      type: "Warning",
      count: 1,
      firstTimestamp: "2025-01-01T00:00:00Z",
      lastTimestamp: "2025-01-01T00:00:00Z",
      source: { component: "kubelet", host: "node-1" },
      reportingComponent: "kubelet",
      reportingInstance: "node-1",
    });
    // ten repeats a second apart: no writes
    for (let i = 0; i < 10; i++) {
      c.advance(1000);
      ev.record(pod, "Warning", "BackOff", "Back-off restarting failed container c in pod web_shop(u-1)", containerPath("app", "c"));
    }
    await ev.settled();
    expect(api.calls).toHaveLength(1);
    // 30 s on: one patch with the total
    c.advance(20_000);
    ev.record(pod, "Warning", "BackOff", "Back-off restarting failed container c in pod web_shop(u-1)", containerPath("app", "c"));
    await ev.settled();
    expect(api.calls[1]).toEqual({
      method: "PATCH",
      path: `/api/v1/namespaces/shop/events/${body.metadata.name}`,
      body: { count: 12, lastTimestamp: "2025-01-01T00:00:30Z" },
      contentType: "application/merge-patch+json",
    });
  });

  it("sends the trailing count on flush after the interval", async () => {
    const c = clock();
    const api = fakeApi();
    const ev = new PodEvents(api, "node-1", c.now);
    ev.record(pod, "Warning", "Unhealthy", "Liveness probe failed: no", containerPath("app", "c"));
    c.advance(5000);
    ev.record(pod, "Warning", "Unhealthy", "Liveness probe failed: no", containerPath("app", "c"));
    ev.flush();
    await ev.settled();
    expect(api.calls.map((x) => x.method)).toEqual(["POST"]);
    c.advance(25_000);
    ev.flush();
    await ev.settled();
    expect(api.calls.map((x) => x.method)).toEqual(["POST", "PATCH"]);
    expect(api.calls[1].body).toEqual({ count: 2, lastTimestamp: "2025-01-01T00:00:05Z" });
    ev.flush();
    await ev.settled();
    expect(api.calls).toHaveLength(2);
  });

  it("separates events by type, reason, message, field path and pod", async () => {
    const api = fakeApi();
    const ev = new PodEvents(api, "node-1", clock().now);
    ev.record(pod, "Normal", "Started", "Started container a", containerPath("app", "a"));
    ev.record(pod, "Normal", "Started", "Started container a", containerPath("init", "a"));
    ev.record(pod, "Normal", "Created", "Started container a", containerPath("app", "a"));
    ev.record(pod, "Warning", "Started", "Started container a", containerPath("app", "a"));
    ev.record({ ...pod, metadata: { ...pod.metadata, uid: "u-2" } }, "Normal", "Started", "Started container a", containerPath("app", "a"));
    ev.record(pod, "Normal", "Started", "Started container a", containerPath("app", "a")); // a repeat
    await ev.settled();
    expect(api.calls.map((x) => x.method)).toEqual(["POST", "POST", "POST", "POST", "POST"]);
    expect(api.calls[1].body.involvedObject.fieldPath).toBe("spec.initContainers{a}");
  });

  it("forgets an event whose patch finds it gone (404): the next occurrence creates a new one", async () => {
    const c = clock();
    const api = fakeApi((x) => (x.method === "PATCH" ? new ApiRequestError(404, "NotFound", "events not found") : undefined));
    const ev = new PodEvents(api, "node-1", c.now);
    ev.record(pod, "Normal", "Pulling", 'Pulling image "x"');
    c.advance(30_000);
    ev.record(pod, "Normal", "Pulling", 'Pulling image "x"');
    await ev.settled();
    c.advance(1000);
    ev.record(pod, "Normal", "Pulling", 'Pulling image "x"');
    await ev.settled();
    expect(api.calls.map((x) => x.method)).toEqual(["POST", "PATCH", "POST"]);
    expect(api.calls[2].body.count).toBe(1);
    expect(api.calls[2].body.metadata.name).not.toBe(api.calls[0].body.metadata.name);
    expect(api.calls[0].body.involvedObject).not.toHaveProperty("fieldPath");
  });

  it("a failed create is retried by the next occurrence; a failed patch by the next flush", async () => {
    const c = clock();
    let down = true;
    const logs: string[] = [];
    const api = fakeApi(() => (down ? new Error("connect ECONNREFUSED") : undefined));
    const ev = new PodEvents(api, "node-1", c.now, (m) => logs.push(m));
    ev.record(pod, "Normal", "Pulling", 'Pulling image "x"');
    await ev.settled();
    expect(logs[0]).toMatch(/event create failed: connect ECONNREFUSED/);
    down = false;
    c.advance(1000);
    ev.record(pod, "Normal", "Pulling", 'Pulling image "x"');
    await ev.settled();
    expect(api.calls.map((x) => x.method)).toEqual(["POST", "POST"]);
    expect(api.calls[1].body.count).toBe(1);
    // a patch that fails keeps its count for the next try
    down = true;
    c.advance(30_000);
    ev.record(pod, "Normal", "Pulling", 'Pulling image "x"');
    await ev.settled();
    down = false;
    c.advance(30_000);
    ev.flush();
    await ev.settled();
    expect(api.calls.map((x) => x.method)).toEqual(["POST", "POST", "PATCH", "PATCH"]);
    expect(api.calls[3].body.count).toBe(2);
  });

  it("never throws, even when the client throws synchronously, and caps writes in flight", async () => {
    const throwing = {
      request: () => {
        throw new Error("boom");
      },
    };
    const ev = new PodEvents(throwing as any, "node-1", clock().now);
    expect(() => ev.record(pod, "Normal", "Pulling", 'Pulling image "x"')).not.toThrow();
    expect(() => ev.record({ metadata: {} } as KObject, "Normal", "Pulling", "x")).not.toThrow();
    await ev.settled();

    // a control plane that never answers: writes stop piling up at the cap
    let started = 0;
    const hanging = {
      request: () => {
        started++;
        return new Promise(() => {});
      },
    };
    const stuck = new PodEvents(hanging as any, "node-1", clock().now);
    for (let i = 0; i < 100; i++) stuck.record(pod, "Normal", "Pulling", `Pulling image "x${i}"`);
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toBe(32);
  });
});

describe("goDuration", () => {
  it("prints like Go's time.Duration, to the millisecond", () => {
    expect(goDuration(0)).toBe("0s");
    expect(goDuration(523)).toBe("523ms");
    expect(goDuration(1000)).toBe("1s");
    expect(goDuration(1234)).toBe("1.234s");
    expect(goDuration(1200)).toBe("1.2s");
    expect(goDuration(125_500)).toBe("2m5.5s");
    expect(goDuration(120_000)).toBe("2m0s");
    expect(goDuration(3_600_000)).toBe("1h0m0s");
  });
});
