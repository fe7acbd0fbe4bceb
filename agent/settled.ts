/**
 * Which pods the agent's once-a-second pass may leave alone, as kubelet's PLEG and pod
 * workers do: a pod is synced when it changes (a watch event), when the engine's listing
 * of its containers changes (PLEG's relist), and otherwise every --sync-frequency; here a
 * settled pod is synced again at least every SETTLED_RESYNC_MS, every other pod on every
 * pass. Pure.
 */
import type { KObject } from "../shared/types";
import { type ContainerInfo, LABELS } from "./runtime/runtime";

/**
 * How often a settled pod is synced when nothing about it changed: kubelet resyncs such a
 * pod every --sync-frequency (1 min) and otherwise only on an event (PLEG's relist, a
 * change of the pod); here every 10 s, or every syncFrequencyMs when that is shorter.
 */
export const SETTLED_RESYNC_MS = 10_000;

/**
 * A pod the once-a-second pass may leave alone while neither it nor its containers
 * change: Running, every container running and ready (init containers done), not being
 * deleted, no probes (they tick on each sync) and no active deadline (a time limit).
 * Anything else is synced on every pass, as before.
 */
export const settledPod = (pod: KObject, status: Record<string, any>): boolean => {
  const spec = pod.spec ?? {};
  const containers: any[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const app: any[] = status.containerStatuses ?? [];
  return (
    !pod.metadata.deletionTimestamp &&
    spec.activeDeadlineSeconds == null &&
    status.phase === "Running" &&
    !containers.some((c) => c.livenessProbe || c.readinessProbe || c.startupProbe) &&
    app.length === (spec.containers?.length ?? 0) &&
    app.every((c) => c.ready === true && c.state?.running) &&
    (status.initContainerStatuses ?? []).every((c: any) => c.state?.running || c.state?.terminated?.exitCode === 0)
  );
};

/** Per pod uid, what the engine lists of it (container ids and states): PLEG's view, a change of which makes the pod due. */
export const containerFingerprints = (all: ContainerInfo[]): Map<string, string> => {
  const by = new Map<string, string[]>();
  for (const c of all) {
    const uid = c.labels[LABELS.podUid];
    if (!uid) continue;
    let l = by.get(uid);
    if (!l) by.set(uid, (l = []));
    l.push(`${c.id}:${c.state}:${c.exitCode ?? ""}`);
  }
  return new Map([...by].map(([uid, l]) => [uid, l.sort().join(",")]));
};
