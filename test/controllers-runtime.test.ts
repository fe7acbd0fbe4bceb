/**
 * The controllers on both runtimes, end to end over HTTP: on Node they run from the
 * in-process queue; in the Worker from the Cloudflare Queue consumer (Miniflare), with
 * the cron trigger's resync.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./kubectl";
import { startNodeTarget, startWorkerTarget, type Target } from "./targets";

const runtimes: [string, () => Promise<Target & { mf?: { getWorker(): Promise<any> } }>][] = [
  ["Node", () => startNodeTarget({ controllers: true, watchPollMs: 100 })],
  ["Worker", () => startWorkerTarget({ controllers: true })],
  // the Free plan's 50 subrequests per invocation: batches spread over several invocations
  ["Worker on Workers Free", () => startWorkerTarget({ controllers: true, bindings: { SUBREQUESTS_PER_INVOCATION: "50" } })],
];

for (const [name, start] of runtimes) {
  describe(`controllers on ${name}`, () => {
    let t: Target & { mf?: { getWorker(): Promise<any> } };
    beforeAll(async () => {
      t = await start();
    }, 60_000);
    afterAll(async () => t?.close());

    const req = async (method: string, path: string, body?: unknown) => {
      const res = await t.fetch(path, { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    };
    const items = async (path: string) => (await req("GET", path)).json.items as any[];

    it("schedules, replicates, rolls out and garbage-collects", async () => {
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const node = await req("POST", "/api/v1/nodes", {
        metadata: { name: "n1", labels: { "kubernetes.io/hostname": "n1" } },
        status: {
          capacity: { cpu: "4", memory: "8Gi", pods: "110" },
          allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
          conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: now, lastTransitionTime: now }],
        },
      });
      expect(node.status).toBe(201);
      await req("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", {
        metadata: { name: "n1" },
        spec: { holderIdentity: "n1", leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace("Z", "000Z") },
      });

      const rc = await req("POST", "/api/v1/namespaces/default/replicationcontrollers", {
        metadata: { name: "kubia" },
        spec: {
          replicas: 2,
          selector: { app: "kubia" },
          template: { metadata: { labels: { app: "kubia" } }, spec: { containers: [{ name: "kubia", image: "luksa/kubia" }] } },
        },
      });
      expect(rc.status).toBe(201);
      const pods = await eventually(async () => {
        const ps = await items("/api/v1/namespaces/default/pods?labelSelector=app%3Dkubia");
        return ps.length === 2 && ps.every((p) => p.spec.nodeName === "n1") && ps;
      }, 30_000);
      expect(pods.map((p: any) => p.metadata.ownerReferences[0].name)).toEqual(["kubia", "kubia"]);

      const dep = await req("POST", "/apis/apps/v1/namespaces/default/deployments", {
        metadata: { name: "web" },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: "web" } },
          template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx" }] } },
        },
      });
      expect(dep.status).toBe(201);
      const rs = await eventually(async () => (await items("/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb"))[0], 30_000);
      expect(rs.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
      await eventually(async () => (await items("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")).length === 1, 30_000);

      // deleting the Deployment (Background, as kubectl does) leaves nothing behind
      const del = await req("DELETE", "/apis/apps/v1/namespaces/default/deployments/web", { propagationPolicy: "Background" });
      expect(del.status).toBe(200);
      await eventually(async () => {
        const left = [
          ...(await items("/apis/apps/v1/namespaces/default/replicasets")),
          ...(await items("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")),
        ];
        // pods on a node are deleted gracefully; nothing else is left
        return left.every((o) => o.metadata.deletionTimestamp) && (await items("/apis/apps/v1/namespaces/default/replicasets")).length === 0;
      }, 30_000);
    });

    if (name.startsWith("Worker")) {
      it("runs the resync from the cron trigger", async () => {
        const worker = await t.mf!.getWorker();
        const r = await worker.scheduled({ cron: "* * * * *", scheduledTime: new Date() });
        expect(r.outcome).toBe("ok");
      });
    }
  });
}
