import { afterEach, describe, expect, it } from "vitest";
import type { ApiError } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { fakeClock, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { CHARGE_GRACE_MS } from "../registry/admission/quota";
import { add, prettyPrint, subtract } from "../registry/admission/usage";
import { replicaSetController } from "./replicaset";
import { resourceQuotaController } from "./resourcequota";

const pod = (name: string, resources?: Record<string, unknown>, extra: Record<string, unknown> = {}): KObject =>
  ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: { containers: [{ name: "app", image: "busybox", ...(resources ? { resources } : {}) }], ...extra },
  }) as KObject;

const quota = (name: string, hard: Record<string, string>, spec: Record<string, unknown> = {}): KObject =>
  ({ apiVersion: "v1", kind: "ResourceQuota", metadata: { name }, spec: { hard, ...spec } }) as KObject;

const limitRange = (limits: unknown[]): KObject => ({ apiVersion: "v1", kind: "LimitRange", metadata: { name: "limits" }, spec: { limits } }) as KObject;

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected a refusal");
    },
    (e) => e as ApiError,
  );

describe("quota arithmetic", () => {
  it("adds and subtracts quantities exactly, in kube's formats", () => {
    expect(add({ "requests.cpu": "500m" }, { "requests.cpu": "500m" })).toEqual({ "requests.cpu": "1" });
    expect(add({ "requests.memory": "128Mi" }, { "requests.memory": "128Mi" })).toEqual({ "requests.memory": "256Mi" });
    // a zero takes the addend's format (Quantity.Add)
    expect(add({ "requests.memory": "0" }, { "requests.memory": "1Gi" })).toEqual({ "requests.memory": "1Gi" });
    expect(add({ cpu: "0.1" }, { cpu: "0.2" })).toEqual({ cpu: "300m" });
    expect(add({ "requests.storage": "10Ti" }, { "requests.storage": "1" })).toEqual({ "requests.storage": "10995116277761" });
    expect(subtract({ pods: "3", cpu: "1" }, { pods: "1", memory: "1Gi" })).toEqual({ pods: "2", cpu: "1" });
    expect(prettyPrint({ pods: "3", "limits.cpu": "0.5" })).toBe("limits.cpu=500m,pods=3");
  });
});

describe("LimitRanger and ResourceQuota admission, the resource quota controller", () => {
  let cp: TestControlPlane;
  afterEach(async () => cp?.close());
  const clock = fakeClock();
  const start = async () => {
    cp = await startControlPlane({ controllers: [resourceQuotaController], now: clock.now });
  };
  const status = async (name: string) => (await cp.api.get("resourcequotas", "default", name))!.status;

  it("gives containers the LimitRange's defaults and refuses what is over its max", async () => {
    await start();
    await cp.api.create(
      "limitranges",
      "default",
      limitRange([
        { type: "Container", default: { cpu: "500m", memory: "256Mi" }, defaultRequest: { cpu: "250m" }, max: { cpu: "1" } },
        { type: "Pod", max: { memory: "1Gi" } },
      ]),
    );
    // the LimitRange's own defaulting: no defaultRequest memory → the default limit's
    const lr = await cp.api.get("limitranges", "default", "limits");
    expect(lr!.spec.limits[0].defaultRequest).toEqual({ cpu: "250m", memory: "256Mi" });

    const p = await cp.api.create("pods", "default", pod("plain"));
    expect(p.spec.containers[0].resources).toEqual({ limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "250m", memory: "256Mi" } });
    expect(p.metadata.annotations?.["kubernetes.io/limit-ranger"]).toBe(
      "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app",
    );
    // limits only: requests are the limits (pod defaulting), the LimitRange's defaultRequest does not override them
    const q = await cp.api.create("pods", "default", pod("limited", { limits: { cpu: "800m" } }));
    expect(q.spec.containers[0].resources.requests.cpu).toBe("800m");

    const e = await failure(cp.api.create("pods", "default", pod("big", { limits: { cpu: "2" } })));
    expect(e.code).toBe(403);
    expect(e.reason).toBe("Forbidden");
    expect(e.message).toBe('pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
    const both = await failure(cp.api.create("pods", "default", pod("bigger", { limits: { cpu: "2", memory: "2Gi" } })));
    expect(both.message).toBe(
      'pods "bigger" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, maximum memory usage per Pod is 1Gi, but limit is 2Gi]',
    );
    expect(await cp.api.get("pods", "default", "big")).toBeNull();
    // validation comes before the LimitRanger's refusals: an invalid pod over the max is a 422
    const invalid = pod("invalid", { limits: { cpu: "2" } });
    delete invalid.spec.containers[0].image;
    expect((await failure(cp.api.create("pods", "default", invalid))).code).toBe(422);
  });

  it("enforces min and the limit-to-request ratio, and claims' storage bounds", async () => {
    await start();
    await cp.api.create("limitranges", "default", {
      ...limitRange([
        { type: "Container", min: { memory: "64Mi" }, maxLimitRequestRatio: { cpu: "2" } },
        { type: "PersistentVolumeClaim", max: { storage: "1Gi" } },
      ]),
    } as KObject);
    const small = await failure(cp.api.create("pods", "default", pod("small", { requests: { memory: "32Mi", cpu: "100m" }, limits: { cpu: "100m" } })));
    expect(small.message).toBe('pods "small" is forbidden: minimum memory usage per Container is 64Mi, but request is 32Mi');
    const ratio = await failure(cp.api.create("pods", "default", pod("ratio", { requests: { memory: "64Mi", cpu: "100m" }, limits: { cpu: "300m" } })));
    expect(ratio.message).toBe('pods "ratio" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 3.000000');
    const claim = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "huge" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } },
    } as KObject;
    const refused = await failure(cp.api.create("persistentvolumeclaims", "default", claim));
    expect(refused.message).toBe('persistentvolumeclaims "huge" is forbidden: maximum storage usage per PersistentVolumeClaim is 1Gi, but request is 5Gi');
  });

  it("refuses a LimitRange whose bounds contradict each other", async () => {
    await start();
    const e = await failure(
      cp.api.create("limitranges", "default", limitRange([{ type: "Container", min: { cpu: "2" }, max: { cpu: "1" }, default: { cpu: "1" } }])),
    );
    expect(e.code).toBe(422);
    expect(e.message).toContain('spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1');
    const t = await failure(cp.api.create("limitranges", "default", limitRange([{ type: "Bogus", max: { cpu: "1" } }])));
    expect(t.message).toContain('spec.limits[0].type: Invalid value: "Bogus": must be a standard limit type or fully qualified');
    const q = await failure(cp.api.create("resourcequotas", "default", quota("bad", { bananas: "1", pods: "1.5" })));
    expect(q.code).toBe(422);
    expect(q.message).toContain('spec.hard[bananas]: Invalid value: "bananas": must be a standard resource for quota');
    expect(q.message).toContain('spec.hard[pods]: Invalid value: "1.5": must be an integer');
    const s = await failure(cp.api.create("resourcequotas", "default", quota("scoped", { services: "1" }, { scopes: ["BestEffort"] })));
    expect(s.message).toContain("unsupported scope applied to resource");
  });

  it("counts a new quota's usage at once, refuses the fourth pod with kube's message, frees quota on deletion", async () => {
    await start();
    await cp.api.create("pods", "default", pod("before"));
    await cp.api.create("resourcequotas", "default", quota("compute", { pods: "3", "count/configmaps": "10" }));
    expect(await status("compute")).toEqual({ hard: { pods: "3", "count/configmaps": "10" }, used: { pods: "1", "count/configmaps": "0" } });
    await cp.api.create("pods", "default", pod("p1"));
    await cp.api.create("pods", "default", pod("p2"));
    const e = await failure(cp.api.create("pods", "default", pod("p3")));
    expect(e.code).toBe(403);
    expect(e.message).toBe('pods "p3" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=3, limited: pods=3');
    expect((await status("compute")).used.pods).toBe("3");

    // a create that fails after the charge is refunded
    await cp.api.create("configmaps", "default", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } } as KObject);
    expect((await failure(cp.api.create("configmaps", "default", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } } as KObject))).code).toBe(409);
    expect((await status("compute")).used["count/configmaps"]).toBe("1");

    // deletion: the controller frees the pod's share, once the charge is no longer fresh
    await cp.api.delete("pods", "default", "p1", { gracePeriodSeconds: 0 });
    await cp.settle();
    expect((await status("compute")).used.pods).toBe("3");
    clock.advance(CHARGE_GRACE_MS + 1);
    await cp.manager.resync();
    await cp.settle();
    expect((await status("compute")).used.pods).toBe("2");
    await cp.api.create("pods", "default", pod("p4"));

    // a pod that finished no longer counts
    const p4 = (await cp.api.get("pods", "default", "p4"))!;
    await cp.api.updateStatus("pods", { ...p4, status: { ...p4.status, phase: "Succeeded" } });
    clock.advance(CHARGE_GRACE_MS + 1);
    await cp.settle();
    await cp.manager.resync();
    await cp.settle();
    expect((await status("compute")).used.pods).toBe("2");
  });

  it("asks pods for the compute resources a quota tracks, and charges their requests and limits", async () => {
    await start();
    await cp.api.create("resourcequotas", "default", quota("compute", { "requests.cpu": "1", "limits.memory": "1Gi" }));
    const e = await failure(cp.api.create("pods", "default", pod("bare")));
    expect(e.message).toBe('pods "bare" is forbidden: failed quota: compute: must specify limits.memory for: app; requests.cpu for: app');
    await cp.api.create("pods", "default", pod("a", { requests: { cpu: "500m" }, limits: { memory: "512Mi" } }));
    await cp.api.create("pods", "default", pod("b", { requests: { cpu: "0.5" }, limits: { memory: "256Mi" } }));
    expect((await status("compute")).used).toEqual({ "requests.cpu": "1", "limits.memory": "768Mi" });
    const over = await failure(cp.api.create("pods", "default", pod("c", { requests: { cpu: "100m" }, limits: { memory: "512Mi" } })));
    expect(over.message).toBe(
      'pods "c" is forbidden: exceeded quota: compute, requested: limits.memory=512Mi,requests.cpu=100m, used: limits.memory=768Mi,requests.cpu=1, limited: limits.memory=1Gi,requests.cpu=1',
    );
  });

  it("matches scopes: a BestEffort quota counts only best-effort pods", async () => {
    await start();
    await cp.api.create("resourcequotas", "default", quota("besteffort", { pods: "1" }, { scopes: ["BestEffort"] }));
    await cp.api.create("pods", "default", pod("be1"));
    await cp.api.create("pods", "default", pod("burstable", { requests: { cpu: "100m" } }));
    await cp.api.create("pods", "default", pod("burstable2", { requests: { cpu: "100m" } }));
    const e = await failure(cp.api.create("pods", "default", pod("be2")));
    expect(e.message).toBe('pods "be2" is forbidden: exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1');
  });

  it("counts quotas and other objects, and refuses a ReplicaSet's pods beyond the quota", async () => {
    cp = await startControlPlane({ controllers: [resourceQuotaController, replicaSetController], now: clock.now });
    await cp.api.create("resourcequotas", "default", quota("objects", { resourcequotas: "1", pods: "2", "services.nodeports": "1" }));
    expect((await status("objects")).used).toEqual({ resourcequotas: "1", pods: "0", "services.nodeports": "0" });
    const second = await failure(cp.api.create("resourcequotas", "default", quota("second", { pods: "1" })));
    expect(second.message).toBe(
      'resourcequotas "second" is forbidden: exceeded quota: objects, requested: resourcequotas=1, used: resourcequotas=1, limited: resourcequotas=1',
    );
    const svc = (name: string, ports: number[]) =>
      ({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name },
        spec: { type: "NodePort", ports: ports.map((port) => ({ name: `p${port}`, port })) },
      }) as KObject;
    const two = await failure(cp.api.create("services", "default", svc("two", [80, 443])));
    expect(two.message).toBe(
      'services "two" is forbidden: exceeded quota: objects, requested: services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1',
    );
    await cp.api.create("services", "default", svc("one", [80]));
    // updates are charged their delta: a ClusterIP Service becoming a NodePort one
    await cp.api.create("services", "default", { ...svc("plain", [80]), spec: { ports: [{ port: 80 }] } } as KObject);
    const patched = await failure(cp.api.patch("services", "default", "plain", "merge", { spec: { type: "NodePort" } }));
    expect(patched.message).toBe(
      'services "plain" is forbidden: exceeded quota: objects, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1',
    );
    expect((await cp.api.get("services", "default", "plain"))!.spec.type).toBe("ClusterIP");

    await cp.api.create("replicasets", "default", {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web" },
      spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: pod("x").spec } },
    } as KObject);
    await cp.settle();
    expect(await cp.api.list("pods", "default")).toHaveLength(2);
    const events = await cp.api.list("events", "default");
    expect(events.some((e) => e.reason === "FailedCreate" && String(e.message).includes("exceeded quota: objects, requested: pods=1"))).toBe(true);
  });

  it("charges claims' storage, also per StorageClass", async () => {
    await start();
    await cp.api.create(
      "resourcequotas",
      "default",
      quota("storage", { "requests.storage": "2Gi", "fast.storageclass.storage.k8s.io/persistentvolumeclaims": "1" }),
    );
    const claim = (name: string, size: string, cls: string) =>
      ({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name },
        spec: { accessModes: ["ReadWriteOnce"], storageClassName: cls, resources: { requests: { storage: size } } },
      }) as KObject;
    await cp.api.create("persistentvolumeclaims", "default", claim("a", "1Gi", "fast"));
    const big = await failure(cp.api.create("persistentvolumeclaims", "default", claim("b", "1.5Gi", "slow")));
    expect(big.message).toBe(
      'persistentvolumeclaims "b" is forbidden: exceeded quota: storage, requested: requests.storage=1536Mi, used: requests.storage=1Gi, limited: requests.storage=2Gi',
    );
    const fast = await failure(cp.api.create("persistentvolumeclaims", "default", claim("c", "100Mi", "fast")));
    expect(fast.message).toContain("exceeded quota: storage, requested: fast.storageclass.storage.k8s.io/persistentvolumeclaims=1");
    await cp.api.create("persistentvolumeclaims", "default", claim("d", "1Gi", "slow"));
    expect((await status("storage")).used).toEqual({ "requests.storage": "2Gi", "fast.storageclass.storage.k8s.io/persistentvolumeclaims": "1" });
  });

  it("never lets parallel creates go over the quota", async () => {
    await start();
    await cp.api.create("resourcequotas", "default", quota("five", { pods: "5" }));
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => cp.api.create("pods", "default", pod(`par-${i}`))));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    for (const r of results) if (r.status === "rejected") expect((r.reason as ApiError).message).toContain("exceeded quota: five");
    await cp.settle();
    expect((await status("five")).used.pods).toBe("5");
    expect(await cp.api.list("pods", "default")).toHaveLength(5);
  });
});
