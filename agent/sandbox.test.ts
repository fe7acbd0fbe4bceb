/**
 * Pod sandbox failures, kubelet's way: a Warning FailedCreatePodSandBox event, the
 * containers waiting in ContainerCreating, and new attempts only as the image-pull
 * back-off allows (10 s doubling to 5 min). The pod worker runs on a fake clock and an
 * in-memory engine (pure decision logic; the real engines are in test/agent-e2e/suite.ts).
 */
import { describe, expect, it } from "vitest";
import type { KObject } from "../shared/types";
import type { ApiClient } from "./api";
import type { EventType } from "./events";
import { PodWorker } from "./pods";
import { ImagePullError, LABELS, type ContainerInfo, type ContainerRuntime, type ContainerSpec } from "./runtime/runtime";
import { podHostname, SANDBOX_CHANGED } from "./sandbox";

const PAUSE = "127.0.0.1:5/kubeflare/absent-pause:1";
const APP = "kubeflare/busybox:test";

/** An engine in memory: images it has, containers it runs, and every pull it was asked for. */
class MemoryEngine implements ContainerRuntime {
  readonly name = "docker" as const;
  readonly images = new Set<string>([APP]);
  readonly pulls: { image: string; at: number }[] = [];
  async setPodNetwork() {}
  readonly containers = new Map<string, ContainerInfo>();
  /** images a pull makes present (the registry is back) */
  readonly pullable = new Set<string>();
  private seq = 0;
  constructor(private readonly now: () => number) {}
  version = async () => "docker://0";
  hasImage = async (image: string) => this.images.has(image);
  async pullImage(image: string) {
    this.pulls.push({ image, at: this.now() });
    if (!this.pullable.has(image)) throw new ImagePullError(`failed to pull image "${image}": dial tcp 127.0.0.1:5: connect: connection refused`);
    this.images.add(image);
  }
  list = async (labels: Record<string, string>) =>
    [...this.containers.values()]
      .filter((c) => Object.entries(labels).every(([k, v]) => (v === "" ? k in c.labels : c.labels[k] === v)))
      .map((c) => ({ ...c }));
  inspect = async (id: string) => (this.containers.has(id) ? { ...this.containers.get(id)! } : null);
  async create(spec: ContainerSpec) {
    const id = `c${++this.seq}`.padEnd(16, "0");
    this.containers.set(id, { id, name: spec.name, image: spec.image, labels: spec.labels, state: "created" });
    return id;
  }
  async start(id: string) {
    const c = this.containers.get(id)!;
    Object.assign(c, { state: "running", startedAt: new Date(this.now()).toISOString(), ip: c.labels[LABELS.role] === "sandbox" ? "10.0.0.7" : undefined });
  }
  async stop(id: string) {
    const c = this.containers.get(id);
    if (c) Object.assign(c, { state: "exited", exitCode: 137, finishedAt: new Date(this.now()).toISOString() });
  }
  remove = async (id: string) => void this.containers.delete(id);
  exec = async () => ({ exitCode: 0, output: "" });
  logs = async () => [];
}

const setup = () => {
  let t = Date.parse("2025-01-01T00:00:00Z");
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const engine = new MemoryEngine(clock.now);
  const events: { type: EventType; reason: string; message: string; fieldPath?: string; at: number }[] = [];
  const logs: string[] = [];
  const worker = new PodWorker({
    runtime: engine,
    api: {} as ApiClient, // no ConfigMap, Secret or env reference in these pods: the API is never asked
    nodeName: "box",
    hostIP: "192.0.2.1",
    dataDir: "/nonexistent/kubeflare-sandbox-test",
    pauseImage: PAUSE,
    now: clock.now,
    log: (m) => logs.push(m),
    events: { record: (_pod, type, reason, message, fieldPath) => events.push({ type, reason, message, fieldPath, at: clock.now() }) },
  });
  return { clock, engine, events, logs, worker };
};

const pod = (spec: Record<string, unknown> = {}): KObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "shop", uid: "uid-1" },
  spec: { nodeName: "box", containers: [{ name: "c", image: APP, imagePullPolicy: "Never" }], ...spec },
});

const sandboxFailures = <T extends { reason: string }>(events: T[]) => events.filter((e) => e.reason === "FailedCreatePodSandBox");

describe("pod sandbox failures", () => {
  it("records FailedCreatePodSandBox and reports the containers waiting in ContainerCreating", async () => {
    const { engine, events, logs, worker } = setup();
    const status = await worker.sync(pod());
    expect(sandboxFailures(events)).toEqual([
      {
        type: "Warning",
        reason: "FailedCreatePodSandBox",
        message: `Failed to create pod sandbox: failed to get sandbox image "${PAUSE}": failed to pull image "${PAUSE}": dial tcp 127.0.0.1:5: connect: connection refused`,
        fieldPath: undefined,
        at: expect.any(Number),
      },
    ]);
    expect(status.phase).toBe("Pending");
    expect(status.podIP).toBeUndefined();
    expect(status.containerStatuses).toEqual([
      expect.objectContaining({ name: "c", ready: false, started: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } }),
    ]);
    expect(status.conditions).toContainEqual(expect.objectContaining({ type: "PodReadyToStartContainers", status: "False" }));
    // nothing of the pod was created
    expect(engine.containers.size).toBe(0);
    expect(logs).toEqual([expect.stringContaining("pod shop/web: CreatePodSandbox failed, next attempt in 10s: failed to get sandbox image")]);
  });

  it("tries again only as the back-off allows: 10 s, 20 s, 40 s ... not every sync", async () => {
    const { clock, engine, events, worker } = setup();
    const start = clock.now();
    // the agent syncs every pod about once a second; ten minutes of that
    for (let s = 0; s < 600; s++) {
      const status = await worker.sync(pod());
      expect(status.containerStatuses[0].state).toEqual({ waiting: { reason: "ContainerCreating" } });
      clock.advance(1000);
    }
    const offsets = engine.pulls.map((p) => (p.at - start) / 1000);
    expect(offsets).toEqual([0, 10, 30, 70, 150, 310]);
    expect(engine.pulls.every((p) => p.image === PAUSE)).toBe(true);
    // one event per attempt (the recorder aggregates them into one Event's count)
    expect(sandboxFailures(events).map((e) => (e.at - start) / 1000)).toEqual(offsets);
    expect(events.filter((e) => e.reason !== "FailedCreatePodSandBox")).toEqual([]);
  });

  it("runs the pod once the pause image can be had, and starts the back-off afresh after that", async () => {
    const { clock, engine, events, worker } = setup();
    const start = clock.now();
    await worker.sync(pod());
    clock.advance(1000);
    engine.pullable.add(PAUSE); // the registry is back
    for (let s = 1; s < 10; s++) {
      await worker.sync(pod());
      clock.advance(1000);
    }
    expect(engine.pulls).toHaveLength(1); // still in back-off: no attempt before 10 s
    await worker.sync(pod());
    const status = await worker.sync(pod());
    expect(engine.pulls.map((p) => (p.at - start) / 1000)).toEqual([0, 10]);
    expect(status.podIP).toBe("10.0.0.7");
    expect(status.containerStatuses[0].state.running).toBeDefined();
    expect(status.conditions).toContainEqual(expect.objectContaining({ type: "PodReadyToStartContainers", status: "True" }));
    const app = [...engine.containers.values()].find((c) => c.labels[LABELS.container] === "c")!;
    expect(app.state).toBe("running");
    expect(events.map((e) => e.reason)).toEqual(["FailedCreatePodSandBox", "Pulled", "Created", "Started"]);

    // the sandbox dies and the image is gone again: re-created at once (no back-off left over), then backed off from 10 s
    const sandbox = [...engine.containers.values()].find((c) => c.labels[LABELS.role] === "sandbox")!;
    await engine.stop(sandbox.id);
    engine.images.delete(PAUSE);
    engine.pullable.delete(PAUSE);
    clock.advance(60_000);
    const at = clock.now();
    const again = await worker.sync(pod());
    expect(
      events.slice(4).map((e) => [e.type, e.reason, e.message.startsWith("Failed to create pod sandbox: ") ? "Failed to create pod sandbox: ..." : e.message]),
    ).toEqual([
      ["Normal", "SandboxChanged", SANDBOX_CHANGED],
      ["Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: ..."],
    ]);
    // the containers of the old sandbox were stopped, the old sandbox removed
    expect(engine.containers.has(sandbox.id)).toBe(false);
    expect(engine.containers.get(app.id)?.state).toBe("exited");
    expect(again.conditions).toContainEqual(expect.objectContaining({ type: "PodReadyToStartContainers", status: "False" }));
    for (let s = 0; s < 15; s++) {
      clock.advance(1000);
      await worker.sync(pod());
    }
    expect(engine.pulls.slice(2).map((p) => (p.at - at) / 1000)).toEqual([0, 10]);
  });

  it("says PodInitializing for every container of a pod with init containers", async () => {
    const { worker } = setup();
    const status = await worker.sync(pod({ initContainers: [{ name: "init", image: APP, imagePullPolicy: "Never" }] }));
    expect(status.initContainerStatuses.map((s: any) => s.state)).toEqual([{ waiting: { reason: "PodInitializing" } }]);
    expect(status.containerStatuses.map((s: any) => s.state)).toEqual([{ waiting: { reason: "PodInitializing" } }]);
  });

  it("leaves a pod on the host network alone (it needs no sandbox)", async () => {
    const { engine, events, worker } = setup();
    const status = await worker.sync(pod({ hostNetwork: true }));
    expect(engine.pulls).toEqual([]);
    expect(sandboxFailures(events)).toEqual([]);
    expect(status.containerStatuses[0].state.running).toBeDefined();
    expect(status.conditions).toContainEqual(expect.objectContaining({ type: "PodReadyToStartContainers", status: "True" }));
  });
});

describe("the pod's host name (kubelet's)", () => {
  const pod = (name: string, spec: Record<string, unknown> = {}): KObject => ({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec });
  it("is the pod's name, or its spec.hostname", () => {
    expect(podHostname(pod("kubia-86c6d8dbcb-44gdb"))).toBe("kubia-86c6d8dbcb-44gdb");
    expect(podHostname(pod("web-0", { hostname: "db", subdomain: "db" }))).toBe("db");
  });
  it("is cut to 63 characters, without a trailing - or . left by the cut", () => {
    const long = `${"a".repeat(62)}-b${"c".repeat(20)}`;
    expect(podHostname(pod(long))).toBe("a".repeat(62));
    expect(podHostname(pod("x".repeat(63)))).toHaveLength(63);
  });
});
