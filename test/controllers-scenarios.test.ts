/**
 * The controllers' required scenarios, over HTTP, on both runtimes, with hollow nodes
 * (Node objects and Leases written through the API, pods reported Running/Ready by
 * the test, as an agent would). Grace periods are shortened so a node failure plays
 * out in seconds; on the Worker the cron trigger is fired by the test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./kubectl";
import { type Target, startNodeTarget, startWorkerTarget } from "./targets";
import { type ApiFetch, startHollowNode, type TestNode } from "./testnode";

type T = Target & { mf?: { getWorker(): Promise<any> } };

const GRACE = 3;
const TOLERATION = 2;

const runtimes: [string, () => Promise<T>][] = [
  ["Node", () => startNodeTarget({ controllers: true, watchPollMs: 100, nodeGraceSeconds: GRACE, tolerationSeconds: TOLERATION, resyncIntervalMs: 500 })],
  ["Worker", () => startWorkerTarget({ controllers: true, nodeGraceSeconds: GRACE, tolerationSeconds: TOLERATION })],
];

for (const [runtime, start] of runtimes) {
  describe(`controller scenarios on ${runtime}`, () => {
    let t: T;
    let cron: ReturnType<typeof setInterval> | undefined;
    const nodes: TestNode[] = [];
    let api: ApiFetch;

    beforeAll(async () => {
      t = await start();
      api = (path, init) => t.fetch(path, init as RequestInit);
      if (t.mf) {
        // the Worker's cron trigger, sped up
        const worker = await t.mf.getWorker();
        cron = setInterval(() => void worker.scheduled({ cron: "* * * * *", scheduledTime: new Date() }).catch(() => {}), 1000);
      }
      for (const n of ["n1", "n2", "n3"]) nodes.push(await startHollowNode(api, n, { memory: "4Gi", leaseMs: 500, syncMs: 150 }));
    }, 60_000);
    afterAll(async () => {
      if (cron) clearInterval(cron);
      for (const n of nodes) await n.stop();
      await t?.close();
    });

    const req = async (method: string, path: string, body?: unknown, contentType = "application/json") => {
      const res = await t.fetch(path, { method, headers: { "Content-Type": contentType }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    };
    const items = async (path: string) => ((await req("GET", path)).json?.items ?? []) as any[];
    const livePods = async (ns: string, sel: string) =>
      (await items(`/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(sel)}`)).filter((p) => !p.metadata.deletionTimestamp);
    const ns = async (name: string) => expect((await req("POST", "/api/v1/namespaces", { metadata: { name } })).status).toBe(201);
    const deployment = (name: string, replicas: number, extra: Record<string, unknown> = {}) => ({
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: "c", image: "busybox:1", resources: { requests: { cpu: "100m", memory: "64Mi" } } }] },
        },
        ...extra,
      },
    });
    const complete = async (ns: string, name: string, replicas: number) =>
      eventually(async () => {
        const d = (await req("GET", `/apis/apps/v1/namespaces/${ns}/deployments/${name}`)).json;
        return (
          d.status?.observedGeneration >= d.metadata.generation &&
          d.status?.updatedReplicas === replicas &&
          d.status?.replicas === replicas &&
          d.status?.availableReplicas === replicas &&
          d
        );
      }, 40_000);

    it("a Deployment of 3 reaches 3 bound pods and the right status; scales 3→5→1", async () => {
      await ns("s1");
      expect((await req("POST", "/apis/apps/v1/namespaces/s1/deployments", deployment("web", 3))).status).toBe(201);
      const d = await complete("s1", "web", 3);
      expect(d.status.conditions.map((c: any) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
        "Available=True/MinimumReplicasAvailable",
        "Progressing=True/NewReplicaSetAvailable",
      ]);
      expect((await livePods("s1", "app=web")).every((p) => ["n1", "n2", "n3"].includes(p.spec.nodeName))).toBe(true);
      await req("PATCH", "/apis/apps/v1/namespaces/s1/deployments/web/scale", { spec: { replicas: 5 } }, "application/merge-patch+json");
      await complete("s1", "web", 5);
      await req("PATCH", "/apis/apps/v1/namespaces/s1/deployments/web/scale", { spec: { replicas: 1 } }, "application/merge-patch+json");
      await complete("s1", "web", 1);
      await eventually(async () => (await livePods("s1", "app=web")).length === 1, 20_000);
    });

    it("rolls out with maxUnavailable=0 never below the desired availability, then rolls back to revision 1", async () => {
      await ns("s2");
      await req(
        "POST",
        "/apis/apps/v1/namespaces/s2/deployments",
        deployment("roll", 3, { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }),
      );
      await complete("s2", "roll", 3);
      await req(
        "PATCH",
        "/apis/apps/v1/namespaces/s2/deployments/roll",
        { spec: { template: { spec: { containers: [{ name: "c", image: "busybox:2" }] } } } },
        "application/strategic-merge-patch+json",
      );
      let lowest = Infinity;
      await eventually(
        async () => {
          const d = (await req("GET", "/apis/apps/v1/namespaces/s2/deployments/roll")).json;
          lowest = Math.min(lowest, d.status?.availableReplicas ?? 0);
          return (
            d.status?.observedGeneration >= d.metadata.generation &&
            d.status.updatedReplicas === 3 &&
            d.status.replicas === 3 &&
            d.status.availableReplicas === 3
          );
        },
        40_000,
        50,
      );
      expect(lowest).toBeGreaterThanOrEqual(3);
      const rss = await items("/apis/apps/v1/namespaces/s2/replicasets?labelSelector=app%3Droll");
      const rev1 = rss.find((r) => r.metadata.annotations["deployment.kubernetes.io/revision"] === "1");
      const template = structuredClone(rev1.spec.template);
      delete template.metadata.labels["pod-template-hash"];
      await req(
        "PATCH",
        "/apis/apps/v1/namespaces/s2/deployments/roll",
        [{ op: "replace", path: "/spec/template", value: template }],
        "application/json-patch+json",
      );
      await complete("s2", "roll", 3);
      const after = await items("/apis/apps/v1/namespaces/s2/replicasets?labelSelector=app%3Droll");
      expect(after).toHaveLength(2);
      expect(after.find((r) => r.metadata.uid === rev1.metadata.uid).metadata.annotations["deployment.kubernetes.io/revision"]).toBe("3");
      expect((await livePods("s2", "app=roll")).every((p) => p.spec.containers[0].image === "busybox:1")).toBe(true);
    });

    it("spreads replicas over the nodes; a pod too big for any node stays Pending with the reason", async () => {
      await ns("s3");
      await req("POST", "/apis/apps/v1/namespaces/s3/deployments", deployment("spread", 6));
      await complete("s3", "spread", 6);
      const per = new Map<string, number>();
      for (const p of await livePods("s3", "app=spread")) per.set(p.spec.nodeName, (per.get(p.spec.nodeName) ?? 0) + 1);
      expect([...per.values()].sort()).toEqual([2, 2, 2]);

      await req("POST", "/api/v1/namespaces/s3/pods", {
        metadata: { name: "huge" },
        spec: { containers: [{ name: "c", image: "busybox:1", resources: { requests: { memory: "16Gi" } } }] },
      });
      const cond = await eventually(
        async () => (await req("GET", "/api/v1/namespaces/s3/pods/huge")).json.status?.conditions?.find((c: any) => c.type === "PodScheduled"),
        20_000,
      );
      expect(cond).toMatchObject({ status: "False", reason: "Unschedulable", message: "0/3 nodes are available: 3 Insufficient memory." });
      const ev = await items("/api/v1/namespaces/s3/events?fieldSelector=involvedObject.name%3Dhuge%2Creason%3DFailedScheduling");
      expect(ev.length).toBe(1);
    });

    it("endpoints follow pod readiness", async () => {
      await ns("s4");
      await req("POST", "/apis/apps/v1/namespaces/s4/deployments", deployment("api", 2));
      await req("POST", "/api/v1/namespaces/s4/services", {
        metadata: { name: "api" },
        spec: { selector: { app: "api" }, ports: [{ port: 80, targetPort: 8080 }] },
      });
      await complete("s4", "api", 2);
      const ready = async () => (await req("GET", "/api/v1/namespaces/s4/endpoints/api")).json?.subsets?.[0];
      await eventually(async () => (await ready())?.addresses?.length === 2, 20_000);
      const [first] = await livePods("s4", "app=api");
      await req(
        "PATCH",
        `/api/v1/namespaces/s4/pods/${first.metadata.name}`,
        { metadata: { annotations: { "test.kubeflare.dev/ready": "false" } } },
        "application/merge-patch+json",
      );
      const subset = await eventually(async () => {
        const s = await ready();
        return s?.addresses?.length === 1 && s?.notReadyAddresses?.length === 1 && s;
      }, 20_000);
      expect(subset.notReadyAddresses[0].targetRef.name).toBe(first.metadata.name);
      expect(subset.ports).toEqual([{ port: 8080, protocol: "TCP" }]);
    });

    it("cascading delete: Background, Foreground and Orphan", async () => {
      await ns("s5");
      for (const name of ["bg", "fg", "orph"]) await req("POST", "/apis/apps/v1/namespaces/s5/deployments", deployment(name, 1));
      for (const name of ["bg", "fg", "orph"]) await complete("s5", name, 1);
      await req("DELETE", "/apis/apps/v1/namespaces/s5/deployments/bg", { propagationPolicy: "Background" });
      await req("DELETE", "/apis/apps/v1/namespaces/s5/deployments/fg", { propagationPolicy: "Foreground" });
      await req("DELETE", "/apis/apps/v1/namespaces/s5/deployments/orph", { propagationPolicy: "Orphan" });
      await eventually(async () => (await items("/apis/apps/v1/namespaces/s5/deployments")).length === 0, 30_000);
      await eventually(async () => {
        const rs = await items("/apis/apps/v1/namespaces/s5/replicasets");
        return rs.length === 1 && rs[0].metadata.labels.app === "orph" && !rs[0].metadata.ownerReferences;
      }, 30_000);
      await eventually(async () => (await livePods("s5", "app in (bg,fg)")).length === 0, 30_000);
      expect(await livePods("s5", "app=orph")).toHaveLength(1);
    });

    it("a namespace's deletion empties it, then it goes", async () => {
      await ns("s6");
      await req("POST", "/apis/apps/v1/namespaces/s6/deployments", deployment("x", 2));
      await req("POST", "/api/v1/namespaces/s6/configmaps", { metadata: { name: "c" }, data: { a: "1" } });
      await complete("s6", "x", 2);
      expect((await req("DELETE", "/api/v1/namespaces/s6")).json.status.phase).toBe("Terminating");
      const refused = await req("POST", "/api/v1/namespaces/s6/configmaps", { metadata: { name: "late" } });
      expect([refused.status, refused.json.reason]).toEqual([403, "Forbidden"]);
      await eventually(async () => (await req("GET", "/api/v1/namespaces/s6")).status === 404, 40_000);
      expect(await items("/api/v1/namespaces/s6/pods")).toEqual([]);
    });

    it("a node that stops renewing its lease goes NotReady and tainted; its pods are replaced on other nodes", async () => {
      await ns("s7");
      await req("POST", "/api/v1/namespaces/s7/replicationcontrollers", {
        metadata: { name: "heal" },
        spec: {
          replicas: 3,
          selector: { app: "heal" },
          template: { metadata: { labels: { app: "heal" } }, spec: { containers: [{ name: "c", image: "busybox:1" }] } },
        },
      });
      await eventually(async () => (await livePods("s7", "app=heal")).filter((p) => p.status?.phase === "Running").length === 3, 30_000);
      const victimNode = (await livePods("s7", "app=heal"))[0].spec.nodeName;
      const victim = nodes.find((n) => n.name === victimNode)!;
      await victim.stop();
      const node = await eventually(async () => {
        const n = (await req("GET", `/api/v1/nodes/${victimNode}`)).json;
        return n.spec?.taints?.some((x: any) => x.key === "node.kubernetes.io/unreachable" && x.effect === "NoExecute") && n;
      }, 30_000);
      expect(node.status.conditions.find((c: any) => c.type === "Ready").status).toBe("Unknown");
      await eventually(async () => {
        const ps = await livePods("s7", "app=heal");
        return ps.length === 3 && ps.every((p) => p.spec.nodeName && p.spec.nodeName !== victimNode && p.status?.phase === "Running");
      }, 40_000);
    });
  });
}
