/** Pods (core/v1): pkg/registry/core/pod/strategy.go and the pod printer. */
import type { KObject } from "../../../shared/types";
import { timestamp } from "../meta";
import { admitServiceAccount } from "../serviceaccount";
import { jsonEqual } from "../../../shared/json";
import { defineKind } from "./kind";
import { AGE, age, col, humanDuration, NAME, none, type Printer, wide } from "./printing";

/** Kubernetes QoS class from the containers' requests and limits. */
export const qosClass = (pod: KObject): string => {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let allGuaranteed = containers.length > 0;
  let any = false;
  for (const c of containers) {
    const req = c?.resources?.requests ?? {};
    const lim = c?.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ["cpu", "memory"]) {
      const l = lim[r];
      const q = req[r] ?? l;
      if (l === undefined || String(q) !== String(l)) allGuaranteed = false;
    }
  }
  if (allGuaranteed) return "Guaranteed";
  return any ? "Burstable" : "BestEffort";
};

/**
 * DefaultTolerationSeconds admission: new pods tolerate a not-ready or unreachable
 * node for `seconds` before the node lifecycle controller evicts them, unless they
 * already say otherwise.
 */
export const addDefaultTolerations = (pod: KObject, seconds: number): void => {
  if (!pod.spec || typeof pod.spec !== "object") return;
  const tolerations: any[] = Array.isArray(pod.spec.tolerations) ? pod.spec.tolerations : [];
  for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
    const covered = tolerations.some(
      (t) => t && (t.key === key || (t.key === undefined && t.operator === "Exists")) && (!t.effect || t.effect === "NoExecute"),
    );
    if (!covered) tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: seconds });
  }
  pod.spec.tolerations = tolerations;
};

/** The spec fields a pod update may change are blanked out; whatever differs after that is forbidden. */
const immutablePart = (p: KObject) => ({
  ...p.spec,
  containers: (p.spec?.containers ?? []).map((c: any) => ({ ...c, image: undefined })),
  initContainers: (p.spec?.initContainers ?? []).map((c: any) => ({ ...c, image: undefined })),
  activeDeadlineSeconds: undefined,
  tolerations: undefined,
  terminationGracePeriodSeconds: undefined,
});

// ---- printer

/** The STATUS column of `kubectl get pods` (the same reasoning as the apiserver's printer). */
export const podStatus = (pod: KObject): string => {
  const st = pod.status ?? {};
  let reason: string = st.reason || st.phase || "Pending";
  const inits: any[] = st.initContainerStatuses ?? [];
  const initCount = (pod.spec?.initContainers ?? []).length;
  let initializing = false;
  inits.forEach((c, i) => {
    if (initializing) return;
    const t = c.state?.terminated;
    const w = c.state?.waiting;
    if (t && t.exitCode === 0) return;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (w?.reason && w.reason !== "PodInitializing") reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${initCount}`;
    initializing = true;
  });
  if (!initializing) {
    let hasRunning = false;
    const cs: any[] = st.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      if (w?.reason) reason = w.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
      else if (c.ready && c.state?.running) hasRunning = true;
    }
    if (reason === "Completed" && hasRunning) {
      const ready = (st.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
      reason = ready ? "Running" : "NotReady";
    }
  }
  if (pod.metadata.deletionTimestamp && st.reason === "NodeLost") reason = "Unknown";
  else if (pod.metadata.deletionTimestamp) reason = "Terminating";
  return reason;
};

const podRestarts = (pod: KObject, now: number): string => {
  const cs: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const restarts = cs.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const last = cs
    .map((c) => c.lastState?.terminated?.finishedAt)
    .filter(Boolean)
    .map((t: string) => Date.parse(t))
    .sort((a, b) => b - a)[0];
  return restarts && last ? `${restarts} (${humanDuration(now - last)} ago)` : String(restarts);
};

const printer: Printer = {
  columns: [
    NAME,
    col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    col("Status", "The aggregate status of the containers in this pod."),
    col("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
    AGE,
    wide("IP", "IP address allocated to the pod."),
    wide("Node", "Name of the Node this pod is bound to."),
    wide("Nominated Node", "Name of the node nominated by the scheduler for preemption."),
    wide("Readiness Gates", "Pod readiness gates that must be satisfied."),
  ],
  cells: (p, now) => {
    const cs: any[] = p.status?.containerStatuses ?? [];
    const total = (p.spec?.containers ?? []).length;
    const ready = cs.filter((c) => c.ready).length;
    const gates: any[] = p.spec?.readinessGates ?? [];
    const trueConds = new Set((p.status?.conditions ?? []).filter((c: any) => c.status === "True").map((c: any) => c.type));
    return [
      p.metadata.name,
      `${ready}/${total}`,
      podStatus(p),
      podRestarts(p, now),
      age(p, now),
      none(p.status?.podIP),
      none(p.spec?.nodeName),
      none(p.status?.nominatedNodeName),
      gates.length ? `${gates.filter((g) => trueConds.has(g.conditionType)).length}/${gates.length}` : "<none>",
    ];
  },
};

const finished = (pod: KObject) => ["Succeeded", "Failed"].includes(pod.status?.phase);

export const pods = defineKind({
  info: {
    resource: "pods",
    singular: "pod",
    kind: "Pod",
    group: "",
    version: "v1",
    namespaced: true,
    shortNames: ["po"],
    categories: ["all"],
    subresources: ["status", "log", "binding", "eviction"],
    hasStatus: true,
  },
  printer,
  strategy: {
    fieldLabels: [
      "spec.nodeName",
      "spec.restartPolicy",
      "spec.schedulerName",
      "spec.serviceAccountName",
      "spec.hostNetwork",
      "status.phase",
      "status.podIP",
      "status.nominatedNodeName",
    ],
    tracksGeneration: true,
    prepareForCreate: (pod) => {
      pod.status = { phase: "Pending", qosClass: qosClass(pod) };
    },
    admit: async (pod, ctx) => {
      addDefaultTolerations(pod, ctx.defaultTolerationSeconds);
      await admitServiceAccount(pod, (ns, name) => ctx.get("serviceaccounts", ns, name));
    },
    validateUpdate: (pod, old) => {
      const a = immutablePart(pod);
      const b = immutablePart(old);
      // binding sets spec.nodeName once
      if (jsonEqual(a, b) || (old.spec?.nodeName === undefined && jsonEqual({ ...a, nodeName: undefined }, b))) return [];
      return [
        {
          reason: "FieldValueForbidden",
          field: "spec",
          message:
            "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`",
        },
      ];
    },
    // graceful deletion of a pod that runs on a node: its agent stops it, then confirms with grace period 0
    prepareForDelete: (pod, ctx) => {
      if (!pod.spec?.nodeName || finished(pod)) return false;
      const grace = ctx.gracePeriodSeconds ?? pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      if (grace <= 0) {
        pod.metadata.deletionGracePeriodSeconds = 0;
        return false;
      }
      const already = pod.metadata.deletionGracePeriodSeconds;
      if (already === undefined || grace < already) {
        pod.metadata.deletionGracePeriodSeconds = grace;
        // any int64 grace period is valid; the timestamp saturates where Dates end (about 3,000 years on)
        pod.metadata.deletionTimestamp = timestamp(new Date(ctx.now.getTime() + Math.min(grace, 1e11) * 1000));
      }
      return true;
    },
    deletionComplete: (pod) => !pod.spec?.nodeName || pod.metadata.deletionGracePeriodSeconds === 0,
  },
});
