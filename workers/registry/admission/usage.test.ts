import { describe, expect, it } from "vitest";
import type { KObject } from "../../../shared/types";
import { applyLimitDefaults, limitError } from "./limitranger";
import { podConstraints, podUsage, quotaMatches, resourcesOf, usageOf } from "./usage";

const now = new Date("2026-01-01T00:00:00Z");
const pod = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}, status: Record<string, unknown> = {}): KObject =>
  ({ metadata: { name: "p", namespace: "ns", ...meta }, spec, status }) as KObject;
const c = (name: string, resources?: unknown) => ({ name, image: "i", ...(resources ? { resources } : {}) });
const quota = (spec: Record<string, unknown>): KObject => ({ metadata: { name: "q" }, spec }) as KObject;

describe("quota usage of pods", () => {
  it("sums containers, takes the largest init container, and adds the overhead", () => {
    const p = pod({
      containers: [c("a", { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "200m" } }), c("b", { requests: { cpu: "300m" } })],
      initContainers: [c("init", { requests: { cpu: "1" } })],
      overhead: { cpu: "10m" },
    });
    expect(podUsage(p, now)).toEqual({
      "count/pods": "1",
      pods: "1",
      cpu: "1010m",
      "requests.cpu": "1010m",
      "limits.cpu": "210m",
      memory: "64Mi",
      "requests.memory": "64Mi",
    });
  });

  it("does not count terminal pods, nor pods past their deletion grace period (count/pods still)", () => {
    expect(podUsage(pod({ containers: [c("a")] }, {}, { phase: "Succeeded" }), now)).toEqual({ "count/pods": "1" });
    const deleting = (at: string, grace: number) => pod({ containers: [c("a")] }, { deletionTimestamp: at, deletionGracePeriodSeconds: grace });
    expect(podUsage(deleting("2025-12-31T23:59:00Z", 30), now).pods).toBeUndefined();
    expect(podUsage(deleting("2025-12-31T23:59:50Z", 30), now).pods).toBe("1");
  });

  it("matches scopes and scope selectors", () => {
    const be = pod({ containers: [c("a")] });
    const burst = pod({ containers: [c("a", { requests: { cpu: "1" } })], activeDeadlineSeconds: 10, priorityClassName: "high" });
    const scoped = (scopes: string[]) => quota({ hard: { pods: "1" }, scopes });
    expect(quotaMatches(scoped(["BestEffort"]), "pods", "", be)).toBe(true);
    expect(quotaMatches(scoped(["BestEffort"]), "pods", "", burst)).toBe(false);
    expect(quotaMatches(scoped(["NotBestEffort", "Terminating"]), "pods", "", burst)).toBe(true);
    expect(quotaMatches(scoped(["NotTerminating"]), "pods", "", burst)).toBe(false);
    const pc = (operator: string, values?: string[]) =>
      quota({ hard: { pods: "1" }, scopeSelector: { matchExpressions: [{ scopeName: "PriorityClass", operator, values }] } });
    expect(quotaMatches(pc("In", ["high"]), "pods", "", burst)).toBe(true);
    expect(quotaMatches(pc("In", ["high"]), "pods", "", be)).toBe(false);
    expect(quotaMatches(pc("NotIn", ["high"]), "pods", "", be)).toBe(true);
    expect(quotaMatches(pc("Exists"), "pods", "", be)).toBe(false);
    // a scoped quota tracks pods only
    expect(quotaMatches(scoped(["BestEffort"]), "services", "", { metadata: {} } as KObject)).toBe(false);
  });

  it("names the containers that leave out what a quota tracks", () => {
    const p = pod({
      containers: [c("a", { limits: { cpu: "1" }, requests: { cpu: "1" } }), c("b")],
      initContainers: [c("i", { requests: { memory: "1Mi" } })],
    });
    expect(podConstraints(p, ["pods", "requests.cpu", "limits.memory"])).toBe("must specify limits.memory for: a,b,i; requests.cpu for: b,i");
    expect(podConstraints(p, ["pods", "count/pods"])).toBeUndefined();
  });

  it("counts objects by count/<resource>.<group> and the legacy names, and knows what to list for a quota", () => {
    expect(usageOf("deployments", "apps", { metadata: {} } as KObject, now)).toEqual({ "count/deployments.apps": "1" });
    expect(usageOf("secrets", "", { metadata: {} } as KObject, now)).toEqual({ "count/secrets": "1", secrets: "1" });
    expect(usageOf("services", "", { metadata: {}, spec: { type: "LoadBalancer", ports: [{ port: 1 }, { port: 2 }] } } as KObject, now)).toEqual({
      "count/services": "1",
      services: "1",
      "services.loadbalancers": "1",
      "services.nodeports": "2",
    });
    expect(resourcesOf({ pods: "1", "requests.cpu": "1", "count/deployments.apps": "1", configmaps: "1", "requests.storage": "1Gi" })).toEqual([
      { resource: "pods", group: "" },
      { resource: "deployments", group: "apps" },
      { resource: "configmaps", group: "" },
      { resource: "persistentvolumeclaims", group: "" },
    ]);
  });
});

describe("LimitRanger", () => {
  const lr = (limits: unknown[]) => ({ metadata: { name: "lr" }, spec: { limits } }) as KObject;

  it("keeps what containers set, and fills in init containers too", () => {
    const p = pod({ containers: [c("a", { limits: { cpu: "2" }, requests: { cpu: "2" } })], initContainers: [c("i")] });
    applyLimitDefaults(p, [lr([{ type: "Container", default: { cpu: "1" }, defaultRequest: { cpu: "500m" } }])]);
    expect(p.spec.containers[0].resources).toEqual({ limits: { cpu: "2" }, requests: { cpu: "2" } });
    expect(p.spec.initContainers[0].resources).toEqual({ limits: { cpu: "1" }, requests: { cpu: "500m" } });
    expect(p.metadata.annotations?.["kubernetes.io/limit-ranger"]).toBe(
      "LimitRanger plugin set: cpu request for init container i; cpu limit for init container i",
    );
  });

  it("words refusals as kube's, the first refusing range wins", () => {
    const p = pod({ containers: [c("a", { requests: { cpu: "100m" } })] });
    expect(limitError("pods", p, [lr([{ type: "Container", max: { cpu: "1" } }])])).toBe("maximum cpu usage per Container is 1.  No limit is specified");
    expect(limitError("pods", p, [lr([{ type: "Pod", min: { cpu: "200m" } }])])).toBe("minimum cpu usage per Pod is 200m, but request is 100m");
    expect(limitError("pods", p, [lr([{ type: "Container", maxLimitRequestRatio: { cpu: "2" } }])])).toBe(
      "cpu max limit to request ratio per Container is 2, but no limit is specified or limit is 0",
    );
    expect(limitError("pods", p, [lr([{ type: "PersistentVolumeClaim", max: { storage: "1Gi" } }])])).toBeUndefined();
    const claim = { metadata: { name: "c" }, spec: { resources: { requests: {} } } } as KObject;
    expect(limitError("persistentvolumeclaims", claim, [lr([{ type: "PersistentVolumeClaim", min: { storage: "1Gi" } }])])).toBe(
      "minimum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified",
    );
  });
});
