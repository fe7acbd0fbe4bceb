import { describe, expect, it } from "vitest";
import { lastHeartbeat, leasesByNode, nodeCards, podClass, problems } from "./model";

const pod = (name: string, status: any, extra: any = {}) => ({
  metadata: { name, namespace: "default", ...extra.metadata },
  spec: { nodeName: "n1", containers: [{ name: "c", resources: { requests: { cpu: "500m", memory: "1Gi" } } }], ...extra.spec },
  status,
});
const waiting = (reason: string) => ({ phase: "Running", containerStatuses: [{ name: "c", ready: false, state: { waiting: { reason } } }] });

describe("dashboard model", () => {
  it("colours pods as the overview's chips: running, pending, crash-looping, terminating", () => {
    expect(podClass(pod("a", { phase: "Running", containerStatuses: [{ name: "c", ready: true, state: { running: {} } }] }))).toBe("running");
    expect(podClass(pod("b", { phase: "Pending" }))).toBe("pending");
    expect(podClass(pod("c", waiting("CrashLoopBackOff")))).toBe("crash");
    expect(podClass(pod("d", { phase: "Pending", containerStatuses: [{ name: "c", state: { waiting: { reason: "ImagePullBackOff" } } }] }))).toBe("crash");
    expect(podClass(pod("e", { phase: "Failed" }))).toBe("crash");
    expect(podClass(pod("f", { phase: "Running" }, { metadata: { deletionTimestamp: "2026-01-01T00:00:00Z" } }))).toBe("terminating");
    expect(podClass(pod("g", { phase: "Succeeded" }))).toBe("done");
    // running but not ready yet
    expect(podClass(pod("h", waiting("ContainerCreating")))).toBe("pending");
  });

  it("sums requests of a node's live pods against its allocatable, and counts problems", () => {
    const node = (name: string, ready: string, unschedulable?: boolean) => ({
      metadata: { name },
      spec: unschedulable ? { unschedulable } : {},
      status: { allocatable: { cpu: "2", memory: "4Gi" }, conditions: [{ type: "Ready", status: ready, lastHeartbeatTime: "2026-01-01T00:00:00Z" }] },
    });
    const pods = [
      pod("a", { phase: "Running" }),
      pod("b", { phase: "Succeeded" }),
      pod("c", waiting("CrashLoopBackOff")),
      pod("u", { phase: "Pending" }, { spec: { nodeName: undefined } }),
    ];
    const { cards, unscheduled } = nodeCards([node("n1", "True", true), node("n2", "False")], pods);
    expect(cards[0]).toMatchObject({
      name: "n1",
      ready: "Ready",
      cordoned: true,
      cpu: { used: 1, total: 2 },
      memory: { used: 2 * 2 ** 30, total: 4 * 2 ** 30 },
    });
    expect(cards[0].pods.map((p) => p.metadata.name)).toEqual(["a", "b", "c"]);
    expect(cards[1]).toMatchObject({ name: "n2", ready: "NotReady", cordoned: false });
    expect(unscheduled.map((p) => p.metadata.name)).toEqual(["u"]);
    const deployments = [
      { spec: { replicas: 2 }, status: { availableReplicas: 1 } },
      { spec: { replicas: 1 }, status: { availableReplicas: 1 } },
    ];
    // n2 NotReady, pod c crash-looping, one Deployment short
    expect(problems([node("n1", "True"), node("n2", "False")], pods, deployments)).toBe(3);
  });

  it("takes a node's heartbeat from its Lease when that is later", () => {
    const n = { metadata: { name: "n1" }, status: { conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: "2026-01-01T00:00:00Z" }] } };
    expect(lastHeartbeat(n, new Map())).toBe("2026-01-01T00:00:00Z");
    const leases = leasesByNode([{ metadata: { name: "n1" }, spec: { renewTime: "2026-01-01T00:05:00.123000Z" } }]);
    expect(lastHeartbeat(n, leases)).toBe("2026-01-01T00:05:00.123000Z");
  });
});
