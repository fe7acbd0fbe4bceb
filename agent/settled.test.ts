import { describe, expect, it } from "vitest";
import type { KObject } from "../shared/types";
import { LABELS } from "./runtime/runtime";
import { containerFingerprints, settledPod } from "./settled";

const pod = (spec: Record<string, any> = {}, meta: Record<string, any> = {}): KObject =>
  ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default", uid: "u1", ...meta },
    spec: { containers: [{ name: "c", image: "x" }], ...spec },
  }) as KObject;
const running = { name: "c", ready: true, state: { running: { startedAt: "2026-12-02T00:00:00Z" } } };
const status = (over: Record<string, any> = {}) => ({ phase: "Running", containerStatuses: [running], ...over });

describe("settledPod", () => {
  it("a Running pod whose containers all run and are ready is settled", () => {
    expect(settledPod(pod(), status())).toBe(true);
    expect(
      settledPod(pod({ initContainers: [{ name: "i" }] }), status({ initContainerStatuses: [{ name: "i", state: { terminated: { exitCode: 0 } } }] })),
    ).toBe(true);
  });

  it("anything still moving is not: another phase, a container waiting, not ready or missing, an init container not done", () => {
    expect(settledPod(pod(), status({ phase: "Pending" }))).toBe(false);
    expect(settledPod(pod(), status({ containerStatuses: [{ ...running, state: { waiting: { reason: "ContainerCreating" } } }] }))).toBe(false);
    expect(settledPod(pod(), status({ containerStatuses: [{ ...running, ready: false }] }))).toBe(false);
    expect(settledPod(pod({ containers: [{ name: "c" }, { name: "d" }] }), status())).toBe(false);
    expect(
      settledPod(pod({ initContainers: [{ name: "i" }] }), status({ initContainerStatuses: [{ name: "i", state: { terminated: { exitCode: 1 } } }] })),
    ).toBe(false);
  });

  it("pods with probes, an active deadline or a deletion are synced on every pass", () => {
    expect(settledPod(pod({ containers: [{ name: "c", readinessProbe: { exec: { command: ["true"] } } }] }), status())).toBe(false);
    expect(settledPod(pod({ initContainers: [{ name: "s", restartPolicy: "Always", startupProbe: {} }] }), status())).toBe(false);
    expect(settledPod(pod({ activeDeadlineSeconds: 30 }), status())).toBe(false);
    expect(settledPod(pod({}, { deletionTimestamp: "2026-12-02T00:00:00Z" }), status())).toBe(false);
  });
});

describe("containerFingerprints", () => {
  const c = (id: string, uid: string, state: string, exitCode?: number) =>
    ({ id, name: id, image: "x", labels: { [LABELS.podUid]: uid }, state, exitCode }) as any;

  it("one string per pod, independent of listing order, that changes with a container's state, exit code or a new container", () => {
    const a = containerFingerprints([c("1", "u1", "running"), c("2", "u1", "running"), c("3", "u2", "running"), { ...c("4", "", "running"), labels: {} }]);
    expect([...a.keys()].sort()).toEqual(["u1", "u2"]);
    expect(containerFingerprints([c("2", "u1", "running"), c("1", "u1", "running")]).get("u1")).toBe(a.get("u1"));
    expect(containerFingerprints([c("1", "u1", "exited", 0), c("2", "u1", "running")]).get("u1")).not.toBe(a.get("u1"));
    expect(containerFingerprints([c("1", "u1", "exited", 1)]).get("u1")).not.toBe(containerFingerprints([c("1", "u1", "exited", 0)]).get("u1"));
    expect(containerFingerprints([c("1", "u1", "running"), c("2", "u1", "running"), c("5", "u1", "created")]).get("u1")).not.toBe(a.get("u1"));
  });
});
