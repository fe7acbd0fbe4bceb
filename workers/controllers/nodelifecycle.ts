import { logWarn } from "../../shared/log";
import type { KObject, ObjectKey } from "../../shared/types";
import { isConflict } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";
import { pool } from "./manager";
import { type Taint, tolerates, type Toleration } from "./scheduling/taints";
import { rfc3339 } from "../../shared/time";

const UNREACHABLE = "node.kubernetes.io/unreachable";
const NOT_READY = "node.kubernetes.io/not-ready";
const ts = rfc3339;
const conditionOf = (n: KObject, type: string) => (n.status?.conditions ?? []).find((c: any) => c.type === type);

/** When the node last showed signs of life: its Lease renewal, its Ready heartbeat, or the liveness source (config.nodeLiveness). */
const lastSeen = async (ctx: ControllerContext, node: KObject): Promise<number> => {
  const lease = await ctx.api.get("leases", "kube-node-lease", node.metadata.name!);
  const live = ctx.config.nodeLiveness ? ((await ctx.config.nodeLiveness())[node.metadata.name!] ?? 0) : 0;
  return seenAt(node, lease, live);
};

/** The latest of a node's Lease renewal, Ready heartbeat, creation and hub liveness. */
const seenAt = (node: KObject, lease: KObject | null | undefined, live: number): number => {
  const renew = Date.parse(lease?.spec?.renewTime ?? "") || 0;
  const heartbeat = Date.parse(conditionOf(node, "Ready")?.lastHeartbeatTime ?? "") || 0;
  const created = Date.parse(node.metadata.creationTimestamp ?? "") || 0;
  return Math.max(renew, heartbeat, created, live);
};

type Health = "Ready" | "NotReady" | "Unreachable";

const health = (node: KObject, seen: number, now: number, grace: number): Health => {
  if (now - seen > grace) return "Unreachable";
  return conditionOf(node, "Ready")?.status === "True" ? "Ready" : "NotReady";
};

/** The lifecycle taints a node should carry for its health (others are left alone). */
const wantedTaints = (h: Health, existing: Taint[], now: string): Taint[] => {
  const keep = existing.filter((t) => t.key !== UNREACHABLE && t.key !== NOT_READY);
  const key = h === "Unreachable" ? UNREACHABLE : h === "NotReady" ? NOT_READY : undefined;
  if (!key) return keep;
  const prior = (effect: string) => existing.find((t) => t.key === key && t.effect === effect);
  return [...keep, { key, effect: "NoSchedule" }, { key, effect: "NoExecute", timeAdded: prior("NoExecute")?.timeAdded ?? now }];
};

const sameTaints = (a: Taint[], b: Taint[]) => JSON.stringify(a) === JSON.stringify(b);

/** Mark every condition Unknown when the node stopped reporting (as Kubernetes' node controller does). */
const unknownConditions = (node: KObject, now: string) => {
  const conds: any[] = node.status?.conditions?.length ? node.status.conditions : [{ type: "Ready" }];
  return conds.map((c) =>
    c.status === "Unknown"
      ? c
      : { ...c, status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status.", lastTransitionTime: now },
  );
};

/** Is more than the threshold share of nodes unreachable at once? Then the control plane is the likely culprit. */
const countOutage = async (ctx: ControllerContext): Promise<boolean> => {
  const nodes = await ctx.api.list("nodes");
  if (nodes.length < 3) return false;
  // two lists, however many nodes (not a Lease read per node: that made each check O(nodes))
  const leases = new Map((await ctx.api.list("leases", "kube-node-lease")).map((l) => [l.metadata.name!, l]));
  const live = ctx.config.nodeLiveness ? await ctx.config.nodeLiveness() : {};
  const now = ctx.now().getTime();
  let down = 0;
  for (const n of nodes) {
    const name = n.metadata.name!;
    if (now - seenAt(n, leases.get(name), live[name] ?? 0) > ctx.config.nodeMonitorGracePeriodMs) down++;
  }
  return down / nodes.length > ctx.config.unhealthyZoneThreshold;
};

/**
 * How long one mass-outage verdict holds: Kubernetes' node controller works out its
 * zones' states once per --node-monitor-period (5 s) for every node it looks at, not
 * once per node. When many nodes lapse together (or the server was too slow to take
 * their renewals), every one of their reconciles asked, and each answer read every
 * Node and Lease: at 1,000 nodes, a million objects decoded for one burst.
 */
export const OUTAGE_VERDICT_MS = 5_000;

/** The verdict of the last check, by manager (its config object): shared by the reconciles within OUTAGE_VERDICT_MS of it, in flight or done. */
const verdicts = new WeakMap<object, { at: number; verdict: Promise<boolean> }>();

const massOutage = (ctx: ControllerContext): Promise<boolean> => {
  const now = ctx.now().getTime();
  const last = verdicts.get(ctx.config);
  // a clock that went back (a test's) starts afresh
  if (last && now >= last.at && now - last.at < OUTAGE_VERDICT_MS) return last.verdict;
  const verdict = countOutage(ctx);
  const entry = { at: now, verdict };
  verdicts.set(ctx.config, entry);
  // a failed check is not kept: the next reconcile asks again
  verdict.catch(() => verdicts.get(ctx.config) === entry && verdicts.delete(ctx.config));
  return verdict;
};

/**
 * Taint-based eviction of the pods on a node with NoExecute taints: pods that don't
 * tolerate a taint go at once, tolerating ones after their tolerationSeconds. Pods on
 * an unreachable node can't be confirmed gone by their agent, so once their grace
 * period is over they are deleted for good (their controllers replace them elsewhere).
 */
const evict = async (ctx: ControllerContext, node: KObject, taints: Taint[], unreachable: boolean): Promise<number | undefined> => {
  const noExecute = taints.filter((t) => t.effect === "NoExecute");
  const pods = await ctx.api.list("pods", "", { fieldSelector: `spec.nodeName=${node.metadata.name}` });
  const now = ctx.now().getTime();
  let next: number | undefined;
  await pool(pods, 8, async (pod) => {
    const ns = pod.metadata.namespace ?? "";
    if (pod.metadata.deletionTimestamp) {
      // marked already: on an unreachable node nobody will confirm, so finish it after its grace period
      if (unreachable) {
        const due = Date.parse(pod.metadata.deletionTimestamp);
        if (due <= now)
          await ctx.api.delete("pods", ns, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } }).catch(ignoreConflict);
        else next = Math.min(next ?? Infinity, due);
      }
      return;
    }
    let evictAt: number | undefined;
    for (const taint of noExecute) {
      const tols: Toleration[] = (pod.spec?.tolerations ?? []).filter((t: Toleration) => tolerates(t, taint));
      if (!tols.length) {
        evictAt = now;
        break;
      }
      if (tols.some((t) => t.tolerationSeconds === undefined || t.tolerationSeconds === null)) continue; // tolerated forever
      const seconds = Math.min(...tols.map((t) => Math.max(0, t.tolerationSeconds!)));
      const added = Date.parse(taint.timeAdded ?? "") || now;
      const at = added + seconds * 1000;
      evictAt = evictAt === undefined ? at : Math.min(evictAt, at);
    }
    if (evictAt === undefined) return;
    if (evictAt > now) {
      next = Math.min(next ?? Infinity, evictAt);
      return;
    }
    await ctx.events.record(pod, "Normal", "TaintManagerEviction", `Marking for deletion Pod ${ns}/${pod.metadata.name}`);
    await ctx.api.delete("pods", ns, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } }).catch(ignoreConflict);
    if (unreachable) next = Math.min(next ?? Infinity, now + (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
  });
  return next;
};

/**
 * Kubernetes' MarkPodsNotReady: the pods of a node that stopped reporting can't be
 * known to be ready, so their Ready condition goes False at once (Services stop
 * sending them traffic) rather than when they are evicted. The agent sets it again
 * when it is back.
 */
const markPodsNotReady = async (ctx: ControllerContext, nodeName: string, nowTs: string): Promise<void> => {
  const pods = await ctx.api.list("pods", "", { fieldSelector: `spec.nodeName=${nodeName}` });
  await pool(pods, 8, async (pod) => {
    const conds: any[] = pod.status?.conditions ?? [];
    if (!conds.some((c) => c.type === "Ready" && c.status !== "False")) return;
    const conditions = conds.map((c) => (c.type === "Ready" && c.status !== "False" ? { ...c, status: "False", lastTransitionTime: nowTs } : c));
    await ctx.api.updateStatus("pods", { ...pod, status: { ...pod.status, conditions } }).catch(ignoreConflict);
    await ctx.events.record(pod, "Warning", "NodeNotReady", "Node is not ready");
  });
};

const ignoreConflict = (e: unknown) => {
  if (!isConflict(e)) throw e;
  return false;
};

const reconcileNode = async (key: ObjectKey, ctx: ControllerContext): Promise<ReconcileResult> => {
  const name = key.name;
  let node = await ctx.api.get("nodes", "", name);
  if (!node) {
    // the node is gone: so are its pods (Kubernetes' pod GC)
    const orphans = await ctx.api.list("pods", "", { fieldSelector: `spec.nodeName=${name}` });
    await pool(orphans, 8, async (p) => {
      await ctx.api
        .delete("pods", p.metadata.namespace ?? "", p.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } })
        .catch(ignoreConflict);
    });
    return;
  }
  const now = ctx.now();
  const nowTs = ts(now);
  const grace = ctx.config.nodeMonitorGracePeriodMs;
  const seen = await lastSeen(ctx, node);
  const h = health(node, seen, now.getTime(), grace);

  if (h === "Unreachable" && conditionOf(node, "Ready")?.status !== "Unknown") {
    try {
      node = await ctx.api.updateStatus("nodes", { ...node, status: { ...node.status, conditions: unknownConditions(node, nowTs) } });
      await ctx.events.record(node, "Normal", "NodeNotReady", `Node ${name} status is now: NodeNotReady`);
      await markPodsNotReady(ctx, name, nowTs);
    } catch (e) {
      if (isConflict(e)) return { requeueAfterMs: 10 };
      throw e;
    }
  }
  const taints: Taint[] = node.spec?.taints ?? [];
  const wanted = wantedTaints(h, taints, nowTs);
  if (!sameTaints(taints, wanted)) {
    try {
      node = await ctx.api.update("nodes", { ...node, spec: { ...node.spec, taints: wanted.length ? wanted : undefined } });
    } catch (e) {
      if (isConflict(e)) return { requeueAfterMs: 10 };
      throw e;
    }
  }
  let next: number | undefined;
  if (wanted.some((t) => t.effect === "NoExecute")) {
    if (await massOutage(ctx)) {
      // most nodes look dead at once: more likely our own outage than theirs; evict nothing
      logWarn(ctx.log, `node lifecycle: most nodes are unreachable at once; not evicting pods from ${name}`);
    } else {
      const due = await evict(ctx, node, wanted, h === "Unreachable");
      if (due !== undefined) next = Math.min(next ?? Infinity, due);
    }
  }
  return next !== undefined ? { requeueAfterMs: Math.max(10, next - now.getTime()) } : undefined;
};

/**
 * A node's Lease (in kube-node-lease, named after the node) was renewed: the node is
 * checked now, and one more check is scheduled for when that lease would expire.
 * Only renewals schedule checks: if node checks scheduled checks too, each would start
 * a chain of delayed messages that never ends (and one more chain per renewal). A
 * lease without a node concerns nothing.
 */
const leaseRenewed = async (key: ObjectKey, ctx: ControllerContext): Promise<ObjectKey[]> => {
  if (key.namespace !== "kube-node-lease") return [];
  const node = await ctx.api.get("nodes", "", key.name);
  if (!node) return [];
  const nodeKey = { resource: "nodes", namespace: "", name: key.name };
  const now = ctx.now().getTime();
  const grace = ctx.config.nodeMonitorGracePeriodMs;
  const seen = await lastSeen(ctx, node);
  if (health(node, seen, now, grace) !== "Unreachable") ctx.requeueAfter([nodeKey], Math.max(10, seen + grace + 1 - now), nodeLifecycleController.name);
  return [nodeKey];
};

/**
 * The node lifecycle controller: nodes whose Lease (or heartbeat) is older than the
 * grace period become Unknown and get the unreachable taints; pods that don't
 * tolerate them are evicted (after their tolerationSeconds). A node that comes back
 * loses the taints. When most nodes go dark together, nothing is evicted.
 *
 * Differences from Kubernetes: the default pod tolerationSeconds is 10 s rather than
 * 300 s (a dead node's pods run elsewhere within a minute: 40 s grace + 10 s + the
 * replacement's start; see DEFAULT_CONFIG), and the mass-eviction guard is one
 * cluster-wide threshold instead of per-zone rate limiting.
 */
export const nodeLifecycleController: Controller = {
  name: "node-lifecycle",
  // time-based work: at every resync pass
  resyncPeriodMs: 0,
  primary: ["nodes"],
  watches: [{ resource: "leases", map: leaseRenewed }],
  /**
   * Of the Lease writes, only a new Lease and the renewal of one that had lapsed (the
   * node is back): the renewal of a live Lease changes nothing here, and a Lease that
   * stops being renewed is found by the resync (Workers: the once-a-minute cron).
   */
  wants: ({ key, old, deleted }, ctx) =>
    key.resource !== "leases" ||
    (!deleted &&
      (!old ||
        // a Lease renewed within its own duration did not lapse (an agent whose liveness the
        // watch hub vouches for renews rarely, with a matching leaseDurationSeconds)
        ctx.now().getTime() - (Date.parse(old.spec?.renewTime ?? "") || 0) >
          Math.max(ctx.config.nodeMonitorGracePeriodMs, (Number(old.spec?.leaseDurationSeconds) || 0) * 1000))),
  reconcile: reconcileNode,
  /**
   * The nodes with something to do: not Ready by their Lease and conditions, or still
   * carrying lifecycle taints. Two reads however many nodes there are (one cron run on
   * Workers stays within its subrequest budget); a healthy node costs nothing more.
   * Where the resync period is known (`resyncIntervalMs`: the Node server's timer),
   * a healthy node whose Lease would run out before the next resync gets one check
   * scheduled for that moment (Kubernetes looks every 5 s, --node-monitor-period), so a
   * dead node is found at its grace period, not up to one resync later. One check per
   * node per resync at most: each resync schedules only the expiries in its own window.
   */
  async resync(ctx) {
    const [nodes, leases, live] = await Promise.all([
      ctx.api.list("nodes"),
      ctx.api.list("leases", "kube-node-lease"),
      ctx.config.nodeLiveness ? ctx.config.nodeLiveness() : ({} as Record<string, number>),
    ]);
    const renewed = new Map(leases.map((l) => [l.metadata.name, Date.parse(l.spec?.renewTime ?? "") || 0]));
    const now = ctx.now().getTime();
    const grace = ctx.config.nodeMonitorGracePeriodMs;
    const horizon = ctx.config.resyncIntervalMs;
    const due: ObjectKey[] = [];
    const expiring = new Map<number, ObjectKey[]>();
    for (const n of nodes) {
      const key = { resource: "nodes", namespace: "", name: n.metadata.name! };
      const heartbeat = Date.parse(conditionOf(n, "Ready")?.lastHeartbeatTime ?? "") || 0;
      const seen = Math.max(renewed.get(n.metadata.name) ?? 0, live[n.metadata.name!] ?? 0, heartbeat, Date.parse(n.metadata.creationTimestamp ?? "") || 0);
      const taints: Taint[] = n.spec?.taints ?? [];
      if (health(n, seen, now, grace) !== "Ready" || !sameTaints(taints, wantedTaints("Ready", taints, ""))) due.push(key);
      else if (horizon !== undefined && seen + grace < now + horizon) {
        // its lease runs out before the next resync: look at it the moment it does (not up to a resync later)
        const at = Math.max(10, seen + grace + 1 - now);
        expiring.set(at, [...(expiring.get(at) ?? []), key]);
      }
    }
    for (const [ms, keys] of expiring) ctx.requeueAfter(keys, ms, nodeLifecycleController.name);
    return due;
  },
};
