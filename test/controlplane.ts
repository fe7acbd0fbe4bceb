/**
 * An in-process control plane for controller tests: a real libSQL file, the real
 * store and resource layer, the in-process work queue and the controller manager.
 * No HTTP. A controllable clock lets tests move time instead of sleeping.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NetworkConfig } from "../shared/net/cidr";
import type { KObject } from "../shared/types";
import { openDatabase } from "../node/db";
import { ControllerClient } from "../workers/controllers/client";
import type { ControllerConfig } from "../workers/controllers/context";
import type { Controller, ControllerManager } from "../workers/controllers/manager";
import { composeControlPlane } from "../workers/compose";
import { InProcessQueue } from "../workers/queue";
import type { Registry } from "../workers/registry/registry";
import type { Store } from "../workers/store/store";

export interface FakeClock {
  now(): Date;
  advance(ms: number): void;
}

export const fakeClock = (start = Date.parse("2026-01-01T00:00:00Z")): FakeClock => {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
};

export interface TestControlPlane {
  registry: Registry;
  store: Store;
  queue: InProcessQueue;
  manager: ControllerManager;
  /** the API as an admin user (like kubectl), through the resource layer */
  api: ControllerClient;
  /** wait until the work queue has drained (controllers converged for now) */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startControlPlane(o: {
  controllers: Controller[];
  now?: () => Date;
  config?: Partial<ControllerConfig>;
  network?: Partial<NetworkConfig>;
  log?: (m: string) => void;
}): Promise<TestControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), "kf-cp-"));
  const client = await openDatabase(`file:${join(dir, "db.sqlite")}`, { synchronous: "NORMAL" });
  const { store, registry, manager, queue } = composeControlPlane({
    client,
    queue: (dispatch) => new InProcessQueue(dispatch),
    controllers: o.controllers,
    now: o.now,
    config: o.config,
    registry: { watchPollMs: 50 },
    network: o.network,
    log: o.log ?? (() => {}),
  });
  await registry.bootstrap();
  const api = new ControllerClient(registry);
  return {
    registry,
    store,
    queue,
    manager,
    api,
    settle: async () => {
      // a reconcile can enqueue more keys: wait until a pass finds nothing pending
      for (let i = 0; i < 1000; i++) {
        await queue.idle();
        await new Promise((r) => setTimeout(r, 5));
        if (!queue.busy) break;
      }
    },
    close: async () => {
      queue.close();
      client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Ready node with capacity, as an agent would register it. */
export const readyNode = (
  name: string,
  o: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: unknown[]; now?: Date } = {},
): KObject => {
  const ts = (o.now ?? new Date()).toISOString().replace(/\.\d+Z$/, "Z");
  const capacity = { cpu: o.cpu ?? "4", memory: o.memory ?? "8Gi", pods: o.pods ?? "110" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", ...(o.labels ?? {}) } },
    spec: o.taints ? { taints: o.taints } : {},
    status: {
      capacity,
      allocatable: capacity,
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "ready", lastHeartbeatTime: ts, lastTransitionTime: ts }],
    },
  };
};
