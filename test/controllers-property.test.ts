/**
 * Property-style: random sequences of scale / update / delete-pod / node-failure /
 * node-recovery operations, with every controller running in-process and a fake
 * clock, always converge to the declared state: each Deployment has exactly its
 * replicas of up-to-date pods, bound to healthy nodes, no pod is orphaned, and no
 * node holds more than its allocatable.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { KObject } from "../shared/types";
import { CONTROLLERS } from "../workers/controllers";
import { milliValue, value } from "../shared/quantity";
import { fakeClock, type FakeClock, readyNode, startControlPlane, type TestControlPlane } from "./controlplane";

/** mulberry32: a small seeded PRNG, so a failing seed can be replayed. */
const rng = (seed: number) => () => {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const NODES = ["n1", "n2", "n3", "n4"];
const DEPLOYMENTS = ["alpha", "beta"];

let cp: TestControlPlane;
let clock: FakeClock;
afterEach(async () => cp?.close());

const ts = () =>
  clock
    .now()
    .toISOString()
    .replace(/\.\d+Z$/, "Z");

describe("convergence under random operations", () => {
  for (const seed of [1, 7, 42]) {
    it(`seed ${seed}`, async () => {
      const random = rng(seed);
      const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
      clock = fakeClock();
      cp = await startControlPlane({ controllers: CONTROLLERS, now: clock.now, config: { nodeMonitorGracePeriodMs: 40_000, defaultTolerationSeconds: 30 } });
      const down = new Set<string>();
      const desired = new Map<string, { replicas: number; image: string }>();

      const heartbeat = async () => {
        for (const n of NODES) {
          if (down.has(n)) continue;
          const lease = await cp.api.get("leases", "kube-node-lease", n);
          const spec = { holderIdentity: n, leaseDurationSeconds: 40, renewTime: clock.now().toISOString().replace("Z", "000Z") };
          if (lease) await cp.api.update("leases", { ...lease, spec });
          else await cp.api.create("leases", "kube-node-lease", { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: n }, spec });
          const node = (await cp.api.get("nodes", "", n))!;
          const ready = node.status.conditions.find((c: any) => c.type === "Ready");
          if (ready.status !== "True") {
            await cp.api.updateStatus("nodes", {
              ...node,
              status: {
                ...node.status,
                conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: ts(), lastTransitionTime: ts() }],
              },
            });
          }
        }
      };
      /** What the agents on live nodes do: run bound pods, confirm deletions. */
      const kubelets = async () => {
        for (const p of await cp.api.list("pods")) {
          const node = p.spec?.nodeName;
          if (!node || down.has(node)) continue;
          if (p.metadata.deletionTimestamp) {
            await cp.api
              .delete("pods", p.metadata.namespace!, p.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } })
              .catch(() => false);
            continue;
          }
          if (p.status?.phase === "Running") continue;
          await cp.api
            .updateStatus("pods", {
              ...p,
              status: { ...p.status, phase: "Running", podIP: "127.0.0.1", conditions: [{ type: "Ready", status: "True", lastTransitionTime: ts() }] },
            })
            .catch(() => undefined);
        }
      };
      const step = async (ms = 5_000) => {
        clock.advance(ms);
        await heartbeat();
        await cp.manager.resync();
        await cp.settle();
        await kubelets();
        await cp.settle();
      };

      for (const n of NODES) await cp.api.create("nodes", "", readyNode(n, { cpu: "2", memory: "2Gi", pods: "20", now: clock.now() }));
      for (const name of DEPLOYMENTS) {
        desired.set(name, { replicas: 3, image: "busybox:1" });
        await cp.api.create("deployments", "default", {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name },
          spec: {
            replicas: 3,
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name } },
              spec: { containers: [{ name: "c", image: "busybox:1", resources: { requests: { cpu: "100m", memory: "128Mi" } } }] },
            },
          },
        });
      }
      await step();

      for (let op = 0; op < 25; op++) {
        const r = random();
        const name = pick(DEPLOYMENTS);
        if (r < 0.3) {
          const replicas = Math.floor(random() * 7);
          desired.get(name)!.replicas = replicas;
          await cp.api.patch("deployments", "default", name, "merge", { spec: { replicas } });
        } else if (r < 0.5) {
          const image = `busybox:${op}`;
          desired.get(name)!.image = image;
          await cp.api.patch("deployments", "default", name, "strategic", { spec: { template: { spec: { containers: [{ name: "c", image }] } } } });
        } else if (r < 0.7) {
          const pods = (await cp.api.list("pods", "default", { labelSelector: `app=${name}` })).filter((p) => !p.metadata.deletionTimestamp);
          if (pods.length) await cp.api.delete("pods", "default", pick(pods).metadata.name!, { gracePeriodSeconds: 0 });
        } else if (r < 0.85 && down.size < 1) {
          down.add(pick(NODES));
        } else if (down.size) {
          down.clear();
        }
        await step(Math.floor(random() * 20_000));
      }
      // let everything settle: nodes back, time for evictions and rollouts
      down.clear();
      for (let i = 0; i < 40; i++) await step(10_000);

      // the declared state holds
      const pods = await cp.api.list("pods", "default");
      const live = pods.filter((p) => !p.metadata.deletionTimestamp);
      for (const [name, want] of desired) {
        const mine = live.filter((p) => p.metadata.labels?.app === name);
        expect([name, mine.length]).toEqual([name, want.replicas]);
        expect(mine.every((p) => p.spec.containers[0].image === want.image && p.spec.nodeName && p.status?.phase === "Running")).toBe(true);
        const d = (await cp.api.get("deployments", "default", name))!;
        expect(d.status).toMatchObject({ replicas: want.replicas, updatedReplicas: want.replicas, availableReplicas: want.replicas });
      }
      // no orphans: every pod's owner exists
      const rsUids = new Set((await cp.api.list("replicasets", "default")).map((r) => r.metadata.uid));
      expect(pods.filter((p) => !p.metadata.ownerReferences?.some((o) => rsUids.has(o.uid)))).toEqual([]);
      // no node over its allocatable
      for (const n of NODES) {
        const on = live.filter((p: KObject) => p.spec.nodeName === n);
        const cpu = on.reduce((s, p) => s + milliValue(p.spec.containers[0].resources.requests.cpu), 0);
        const mem = on.reduce((s, p) => s + value(p.spec.containers[0].resources.requests.memory), 0);
        expect(cpu).toBeLessThanOrEqual(2000);
        expect(mem).toBeLessThanOrEqual(2 * 1024 ** 3);
      }
    }, 120_000);
  }
});
