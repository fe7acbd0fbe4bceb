/**
 * The pod status the agent reports, from what the engine runs and what the pod worker
 * knows (why a container waits, probe results, crash-loop back-off), as kubelet's
 * generateAPIPodStatus builds it: container statuses, the phase (kubelet's getPhase)
 * and the pod's conditions. Pure: the worker gathers the facts, this writes them up.
 */
import { rfc3339 } from "../shared/time";
import type { KObject } from "../shared/types";
import { type ContainerInfo, LABELS } from "./runtime/runtime";

/** Why a container is not running yet, when the agent knows (image pull, config). */
export type Waiting = { reason: string; message?: string };

/** A running container's probe results, maintained by the prober. */
export interface ProbeState {
  ready: boolean;
  started: boolean;
}

/** What the pod worker knows about one container of the pod. */
export interface ContainerView {
  /** the container's spec */
  spec: any;
  /** its latest instance and the one before it, with details (start, finish, exit code) */
  latest: ContainerInfo | null;
  prev: ContainerInfo | null;
  /** why it can't start (or start again), when the worker knows */
  waiting?: Waiting;
  /** the latest instance's probe results, once there are some */
  probe?: ProbeState;
  /** the crash-loop back-off window (ms) while a restart after the latest instance's exit is held back */
  backoffMs?: number;
}

export interface StatusFacts {
  pod: KObject;
  /** the pod's IP ("" while it has none) and its node's */
  podIP: string;
  hostIP: string;
  /** every init container has completed */
  initDone: boolean;
  /** the pod has a sandbox with its network set up */
  sandboxReady: boolean;
  now: number;
  /** the engine's name, the scheme of container IDs (docker://, containerd://) */
  runtime: string;
  /** one per init container and per app container, in spec order */
  init: ContainerView[];
  app: ContainerView[];
}

/** Whether a terminated container should run again under the pod's restartPolicy. */
export const shouldRestart = (pod: KObject, role: "init" | "app", exitCode: number | undefined): boolean => {
  const policy = pod.spec?.restartPolicy ?? "Always";
  if (role === "init") return exitCode !== 0 && policy !== "Never";
  return policy === "Always" || (policy === "OnFailure" && exitCode !== 0);
};

/** One container's status (kubelet's convertToAPIContainerStatuses, for one container). */
const containerStatus = (f: StatusFacts, v: ContainerView, role: "init" | "app") => {
  const { pod } = f;
  const { spec: c, latest, prev } = v;
  const restartCount = latest ? Number(latest.labels[LABELS.attempt] ?? 0) : 0;
  const terminated = (i: ContainerInfo) => ({
    exitCode: i.exitCode ?? 0,
    reason: i.oomKilled ? "OOMKilled" : i.exitCode === 0 ? "Completed" : "Error",
    ...(i.startedAt ? { startedAt: i.startedAt } : {}),
    ...(i.finishedAt ? { finishedAt: i.finishedAt } : {}),
    containerID: `${f.runtime}://${i.id}`,
  });
  const base = {
    name: c.name,
    image: c.image,
    imageID: latest?.imageId ?? "",
    restartCount,
    ...(latest ? { containerID: `${f.runtime}://${latest.id}` } : {}),
  };
  if (!latest) {
    const w = v.waiting ?? { reason: role === "init" ? "PodInitializing" : f.initDone ? "ContainerCreating" : "PodInitializing" };
    return { ...base, state: { waiting: w }, lastState: {}, ready: false, started: false };
  }
  const lastState = prev ? { terminated: terminated(prev) } : {};
  if (latest.state === "running") {
    const p = v.probe;
    // before the first probe result: not ready while a readiness probe is pending, not started while a startup probe is
    // and never ready before started (readiness probes wait for the startup probe)
    const started = p ? p.started : !c.startupProbe;
    const ready = role === "app" && started && (p ? p.ready : !c.readinessProbe);
    return { ...base, state: { running: { startedAt: latest.startedAt } }, lastState, ready, started };
  }
  if (latest.state === "exited") {
    const willRestart = shouldRestart(pod, role, latest.exitCode);
    // the next instance can't start (its image can't be pulled, its config is missing): say why, as kubelet does
    const blocked = v.waiting;
    if (willRestart && blocked) return { ...base, state: { waiting: blocked }, lastState: { terminated: terminated(latest) }, ready: false, started: false };
    if (willRestart && v.backoffMs !== undefined) {
      return {
        ...base,
        state: {
          waiting: {
            reason: "CrashLoopBackOff",
            message: `back-off ${Math.round(v.backoffMs / 1000)}s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
          },
        },
        lastState: { terminated: terminated(latest) },
        ready: false,
        started: false,
      };
    }
    return { ...base, state: { terminated: terminated(latest) }, lastState, ready: false, started: false };
  }
  const w = v.waiting ?? { reason: "ContainerCreating" };
  return { ...base, state: { waiting: w }, lastState, ready: false, started: false };
};

/** The pod status to report. */
export const podStatus = (f: StatusFacts): Record<string, any> => {
  const { pod, initDone } = f;
  const initStatuses = f.init.map((v) => containerStatus(f, v, "init"));
  const statuses = f.app.map((v) => containerStatus(f, v, "app"));
  // kubelet lists app container statuses by name (init containers keep their order)
  statuses.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const policy = pod.spec?.restartPolicy ?? "Always";
  const allTerminated = statuses.length > 0 && statuses.every((s) => s.state.terminated);
  const anyFailed = statuses.some((s) => s.state.terminated && s.state.terminated.exitCode !== 0);
  const initFailed = initStatuses.some((s) => s.state.terminated && s.state.terminated.exitCode !== 0) && policy === "Never";
  let phase = "Pending";
  if (initFailed) phase = "Failed";
  // kubelet's getPhase: under OnFailure a failed container is about to run again, so the pod is still Running
  else if (initDone && allTerminated && policy !== "Always") phase = !anyFailed ? "Succeeded" : policy === "Never" ? "Failed" : "Running";
  else if (initDone && statuses.some((s) => s.state.running || s.lastState.terminated)) phase = "Running";
  const ready = initDone && statuses.length > 0 && statuses.every((s) => s.ready);
  const prevConds: any[] = pod.status?.conditions ?? [];
  const ts = rfc3339(new Date(f.now));
  const cond = (type: string, ok: boolean, reason?: string) => {
    const status = ok ? "True" : "False";
    const prev = prevConds.find((c) => c.type === type);
    return {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : ts,
      ...(ok || !reason ? {} : { reason }),
    };
  };
  const conditions = [
    // kubelet: True once the pod has a sandbox with its network set up
    cond("PodReadyToStartContainers", f.sandboxReady),
    cond("Initialized", initDone, "ContainersNotInitialized"),
    cond("Ready", ready, "ContainersNotReady"),
    cond("ContainersReady", ready, "ContainersNotReady"),
    prevConds.find((c) => c.type === "PodScheduled") ?? cond("PodScheduled", true),
  ];
  const started = pod.status?.startTime ?? ts;
  return {
    ...(pod.status?.qosClass ? { qosClass: pod.status.qosClass } : {}),
    phase,
    conditions,
    hostIP: f.hostIP,
    hostIPs: [{ ip: f.hostIP }],
    ...(f.podIP ? { podIP: f.podIP, podIPs: [{ ip: f.podIP }] } : {}),
    startTime: started,
    ...(initStatuses.length ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
  };
};
