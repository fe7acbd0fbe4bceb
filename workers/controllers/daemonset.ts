/**
 * The DaemonSet controller (kube-controller-manager's daemon controller), level-triggered:
 * each reconcile reads the DaemonSet, the nodes and its pods, and makes one round of
 * progress.
 *
 * - A node should run the daemon pod when the template's nodeSelector and required node
 *   affinity match it and it has no NoSchedule/NoExecute taint the pod doesn't tolerate;
 *   a pod already there stays unless a NoExecute taint is untolerated. Cordoned nodes
 *   keep theirs (the pods tolerate `node.kubernetes.io/unschedulable`).
 * - Pods are created with a required node affinity to their node's name
 *   (`matchFields metadata.name`), so the scheduler binds them, as Kubernetes does since
 *   1.12, with the tolerations it adds to daemon pods (not-ready and unreachable
 *   NoExecute without a time limit; disk/memory/pid pressure and unschedulable
 *   NoSchedule; network-unavailable for host-network pods). A node that joins gets its
 *   pod on the next reconcile (Node writes map to every DaemonSet); a label removed
 *   from a node takes it away; a failed daemon pod is deleted and made again.
 * - Template changes roll out with RollingUpdate (`maxUnavailable` nodes at a time, or
 *   `maxSurge` new pods beside old ones) or OnDelete; every template gets a
 *   ControllerRevision (history.ts) and pods carry its `controller-revision-hash`, so
 *   `kubectl rollout history/undo daemonset/x` work; old revisions beyond
 *   `revisionHistoryLimit` go unless a pod still runs them.
 */
import { jsonEqual } from "../../shared/json";
import type { KObject, ObjectKey, OwnerReference } from "../../shared/types";
import { formatLabelSelector, matchLabels, selectorFromLabelSelector } from "../../shared/selectors/labels";
import { ApiError } from "../../shared/status";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import { scaledValue } from "./deployment/util";
import { constructHistory, type History, truncateHistory } from "./history";
import type { Controller } from "./manager";
import { isPodAvailable, isPodReady, lessValuable } from "./replicaset";
import { requiredNodeAffinity } from "./scheduling/affinity";
import { findUntoleratedTaint, nodeTaints, type Toleration } from "./scheduling/taints";
import { controllerRef } from "./util";

export const REVISION_HASH = "controller-revision-hash";
const BURST = 500;

/** The tolerations every daemon pod gets (kube's AddOrUpdateDaemonPodTolerations). */
export const daemonTolerations = (hostNetwork: boolean): Toleration[] => [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
  ...(hostNetwork ? [{ key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" }] : []),
];

const withTolerations = (existing: Toleration[], add: Toleration[]): Toleration[] => {
  const out = [...existing];
  for (const t of add) if (!out.some((e) => e.key === t.key && e.effect === t.effect && (e.operator ?? "Equal") === t.operator)) out.push(t);
  return out;
};

/** Should `node` run the daemon pod (new ones), and may a pod already there go on running? */
export const nodeShouldRun = (ds: KObject, node: KObject): { run: boolean; keep: boolean } => {
  const spec = ds.spec?.template?.spec ?? {};
  const probe = { spec } as KObject;
  const affinity = requiredNodeAffinity(probe);
  if (affinity && !affinity(node)) return { run: false, keep: false };
  const tolerations = withTolerations(spec.tolerations ?? [], daemonTolerations(spec.hostNetwork === true));
  const taints = nodeTaints(node);
  if (findUntoleratedTaint(taints, tolerations, ["NoExecute"])) return { run: false, keep: false };
  if (findUntoleratedTaint(taints, tolerations, ["NoSchedule"])) return { run: false, keep: true };
  return { run: true, keep: true };
};

/** The node a daemon pod is for: where it runs, or the node its affinity names. */
const podNode = (p: KObject): string | undefined => {
  if (p.spec?.nodeName) return p.spec.nodeName;
  for (const term of p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [])
    for (const f of term?.matchFields ?? []) if (f?.key === "metadata.name" && f?.operator === "In" && f.values?.length === 1) return f.values[0];
  return undefined;
};

const isActive = (p: KObject) => !p.metadata.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";
const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

const newPod = (ds: KObject, node: string, hash: string): KObject => {
  const template = ds.spec?.template ?? {};
  const spec = structuredClone(template.spec ?? {});
  const ref: OwnerReference = {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    name: ds.metadata.name!,
    uid: ds.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
  // the pod goes to its node through the scheduler: the node's name as required affinity
  const pin = { matchFields: [{ key: "metadata.name", operator: "In", values: [node] }] };
  spec.affinity ??= {};
  spec.affinity.nodeAffinity ??= {};
  const required = spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  const terms = required?.nodeSelectorTerms?.length
    ? required.nodeSelectorTerms.map((t: any) => ({
        ...t,
        matchFields: [...(t.matchFields ?? []).filter((f: any) => f?.key !== "metadata.name"), pin.matchFields[0]],
      }))
    : [pin];
  spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: terms };
  spec.tolerations = withTolerations(spec.tolerations ?? [], daemonTolerations(spec.hostNetwork === true));
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: `${ds.metadata.name}-`,
      namespace: ds.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), [REVISION_HASH]: hash, "pod-template-generation": String(ds.metadata.generation ?? 1) },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [ref],
    },
    spec,
  } as KObject;
};

export async function syncDaemonSet(key: ObjectKey, ctx: ControllerContext): Promise<ReconcileResult> {
  const ds = await ctx.api.get("daemonsets", key.namespace, key.name);
  if (!ds || ds.metadata.deletionTimestamp) return;
  const selector = selectorFromLabelSelector(ds.spec?.selector);
  if (!selector?.length) return;
  const nowMs = ctx.now().getTime();
  const ns = key.namespace;
  const nodes = await ctx.api.list("nodes");
  const pods = (await ctx.api.list("pods", ns, { labelSelector: formatLabelSelector(selector) })).filter(
    (p) => controllerRef(p)?.uid === ds.metadata.uid && matchLabels(selector, p.metadata.labels),
  );
  let history: History;
  try {
    history = await constructHistory(ctx, ds, "daemonsets");
  } catch (e) {
    // a hash collision (collisionCount bumped) or a race on the revisions: look again
    if (e instanceof ApiError && (e.code === 409 || e.code === 404)) return { requeueAfterMs: 20 };
    throw e;
  }
  const hash = history.hash;
  const minReady: number = ds.spec?.minReadySeconds ?? 0;
  const byNode = new Map<string, KObject[]>();
  for (const p of pods) {
    const n = podNode(p);
    if (n) byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const toCreate: string[] = [];
  const toDelete: KObject[] = [];
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let updated = 0;
  let available = 0;
  const oldOnNodes: { node: string; pod: KObject; newPod?: KObject }[] = [];
  const nodeNames = new Set(nodes.map((n) => n.metadata.name!));
  for (const node of nodes) {
    const name = node.metadata.name!;
    const { run, keep } = nodeShouldRun(ds, node);
    const here = byNode.get(name) ?? [];
    // failed daemon pods go, and are made again
    for (const p of here) if (p.status?.phase === "Failed" && !p.metadata.deletionTimestamp) toDelete.push(p);
    const live = here.filter(isActive);
    if (run) desired++;
    if (!keep) {
      if (live.length) misscheduled++;
      toDelete.push(...live);
      continue;
    }
    if (!run && live.length) misscheduled++;
    if (!live.length) {
      if (run) toCreate.push(name);
      continue;
    }
    if (run) current++;
    const fresh = live.filter((p) => p.metadata.labels?.[REVISION_HASH] === hash);
    const old = live.filter((p) => p.metadata.labels?.[REVISION_HASH] !== hash);
    // more than one pod: keep the newest current one (or the oldest), delete the rest
    if (fresh.length > 1) toDelete.push(...[...fresh].sort(lessValuable).slice(0, fresh.length - 1));
    const best = fresh.length ? fresh.reduce((a, b) => (lessValuable(a, b) > 0 ? a : b)) : undefined;
    if (best) {
      updated++;
      if (isPodReady(best)) ready++;
      if (isPodAvailable(best, minReady, nowMs)) available++;
      // an old pod beside an available new one (a surge) has done its work
      if (old.length && isPodAvailable(best, minReady, nowMs)) toDelete.push(...old);
      else if (old.length) oldOnNodes.push({ node: name, pod: old[0], newPod: best });
    } else {
      const o = old[0];
      if (isPodReady(o)) ready++;
      if (isPodAvailable(o, minReady, nowMs)) available++;
      if (old.length > 1) toDelete.push(...old.slice(1));
      oldOnNodes.push({ node: name, pod: o });
    }
  }
  // pods on nodes that no longer exist
  for (const [n, ps] of byNode) if (!nodeNames.has(n)) toDelete.push(...ps.filter((p) => !p.metadata.deletionTimestamp));

  // ---- rolling update
  const strategy = ds.spec?.updateStrategy ?? {};
  if ((strategy.type ?? "RollingUpdate") === "RollingUpdate") {
    const ru = strategy.rollingUpdate ?? {};
    const maxSurge = Math.max(0, scaledValue(ru.maxSurge ?? 0, desired, true));
    const maxUnavailable = Math.max(maxSurge ? 0 : 1, scaledValue(ru.maxUnavailable ?? 1, desired, true));
    const unavailable = desired - available;
    if (maxSurge > 0) {
      // new pods beside old ones, up to maxSurge at a time; the old goes once the new is available
      const surging = oldOnNodes.filter((o) => o.newPod).length;
      for (const o of oldOnNodes.filter((x) => !x.newPod).slice(0, Math.max(0, maxSurge - surging))) toCreate.push(o.node);
    } else {
      // unavailable old pods first, then available ones while the budget lasts
      let budget = maxUnavailable - unavailable;
      const sorted = [...oldOnNodes].sort((a, b) => Number(isPodAvailable(a.pod, minReady, nowMs)) - Number(isPodAvailable(b.pod, minReady, nowMs)));
      for (const o of sorted) {
        const isAvailable = isPodAvailable(o.pod, minReady, nowMs);
        if (!isAvailable) toDelete.push(o.pod);
        else if (budget > 0) {
          toDelete.push(o.pod);
          budget--;
        }
      }
    }
  }

  // ---- writes
  const seen = new Set<string>();
  await Promise.all(
    toDelete
      .filter((p) => !seen.has(p.metadata.uid!) && seen.add(p.metadata.uid!))
      .slice(0, BURST)
      .map(async (p) => {
        try {
          await ctx.api.delete("pods", ns, p.metadata.name!, { preconditions: { uid: p.metadata.uid } });
          await ctx.events.record(ds, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`);
        } catch (e) {
          if (!isNotFound(e) && !isConflict(e)) await ctx.events.record(ds, "Warning", "FailedDelete", `Error deleting: ${errorMessage(e)}`);
        }
      }),
  );
  let failed = false;
  for (const node of toCreate.slice(0, BURST)) {
    try {
      const made = await ctx.api.create("pods", ns, newPod(ds, node, hash));
      await ctx.events.record(ds, "Normal", "SuccessfulCreate", `Created pod: ${made.metadata.name}`);
    } catch (e) {
      failed = true;
      await ctx.events.record(ds, "Warning", "FailedCreate", `Error creating: ${errorMessage(e)}`);
      break;
    }
  }

  // old revisions beyond revisionHistoryLimit, unless a live pod runs them
  await truncateHistory(ctx, ds, history.old, new Set(pods.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.labels?.[REVISION_HASH] ?? "")));

  const status = {
    ...(ds.status ?? {}),
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
    observedGeneration: ds.metadata.generation,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    numberUnavailable: Math.max(0, desired - available),
  };
  if (!status.numberAvailable) delete (status as any).numberAvailable;
  if (!status.numberUnavailable) delete (status as any).numberUnavailable;
  if (!status.updatedNumberScheduled) delete (status as any).updatedNumberScheduled;
  if (!jsonEqual(status, ds.status)) {
    try {
      await ctx.api.updateStatus("daemonsets", { ...ds, status });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
      return { requeueAfterMs: 20 };
    }
  }
  // minReadySeconds: look again when a ready pod becomes available
  if (failed) return { requeueAfterMs: 10_000 };
  if (minReady > 0 && ready > available) return { requeueAfterMs: minReady * 1000 };
}

const dsKey = (ds: KObject): ObjectKey => ({ resource: "daemonsets", namespace: ds.metadata.namespace ?? "", name: ds.metadata.name! });

export const daemonSetController: Controller = {
  name: "daemonset",
  primary: ["daemonsets"],
  watches: [
    {
      // a node that joins, leaves, or changes labels or taints: every DaemonSet looks again
      resource: "nodes",
      map: async (_key, ctx) => (await ctx.api.list("daemonsets")).map(dsKey),
    },
  ],
  // a node's heartbeat (status only) changes nothing here; its labels, taints, existence do
  wants: ({ key, obj, old, deleted }) =>
    key.resource !== "nodes" || deleted || !old || !jsonEqual(obj.metadata?.labels, old.metadata?.labels) || !jsonEqual(obj.spec?.taints, old.spec?.taints),
  reconcile: syncDaemonSet,
  async resync(ctx) {
    return (await ctx.api.list("daemonsets")).map(dsKey);
  },
};
