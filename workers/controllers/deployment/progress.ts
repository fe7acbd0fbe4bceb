/**
 * The rollout status, after Kubernetes' pkg/controller/deployment/progress.go: the
 * Progressing condition (new ReplicaSet available, progressing, or past
 * progressDeadlineSeconds), ReplicaSet failures, and a requeue at the deadline.
 */
import type { KObject } from "../../../shared/types";
import type { DeploymentSync } from "./sync";
import {
  deploymentComplete,
  deploymentProgressing,
  getCondition,
  hasProgressDeadline,
  NEW_RS_AVAILABLE,
  removeCondition,
  RS_UPDATED,
  setCondition,
  TIMED_OUT,
} from "./util";

/** Status plus the Progressing condition (complete, progressing, or timed out) and ReplicaSet failures. */
export const syncRolloutStatus = (s: DeploymentSync, olds: KObject[], newRS: KObject | undefined): void => {
  const d = s.d;
  const next = s.calculateStatus(olds, newRS);
  const nrs = newRS && s.rs.get(newRS.metadata.uid!);
  if (!hasProgressDeadline(d)) removeCondition(next, "Progressing");
  const current = getCondition(s.status, "Progressing");
  const isComplete = next.replicas === next.updatedReplicas && current?.reason === NEW_RS_AVAILABLE;
  if (hasProgressDeadline(d) && !isComplete) {
    const rsName = nrs?.metadata.name;
    if (deploymentComplete(d, next)) {
      const msg = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${d.metadata.name}" has successfully progressed.`;
      setCondition(next, s.condition("Progressing", "True", NEW_RS_AVAILABLE, msg));
    } else if (deploymentProgressing(s.status, next)) {
      const msg = rsName ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`;
      const cond = s.condition("Progressing", "True", RS_UPDATED, msg);
      // the same reason again must still move lastUpdateTime (progress was made)
      if (current) {
        if (current.status === "True") cond.lastTransitionTime = current.lastTransitionTime;
        removeCondition(next, "Progressing");
      }
      setCondition(next, cond);
    } else if (timedOut(s, next)) {
      const msg = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`;
      setCondition(next, s.condition("Progressing", "False", TIMED_OUT, msg));
    }
  }
  // ReplicaSet failures (the new one's first) become the Deployment's ReplicaFailure
  const failures = [nrs, ...olds.map((o) => s.rs.get(o.metadata.uid!))]
    .filter((r): r is KObject => !!r)
    .flatMap((r) => (r.status?.conditions ?? []).filter((c: any) => c?.type === "ReplicaFailure"));
  if (failures.length) {
    const c = failures[0];
    setCondition(next, {
      type: "ReplicaFailure",
      status: c.status,
      lastUpdateTime: c.lastTransitionTime,
      lastTransitionTime: c.lastTransitionTime,
      reason: c.reason,
      message: c.message,
    });
  } else removeCondition(next, "ReplicaFailure");
  s.status = next;

  // come back when the deadline passes without progress
  const progressing = getCondition(next, "Progressing");
  if (hasProgressDeadline(d) && progressing && !deploymentComplete(d, next) && progressing.reason !== TIMED_OUT && progressing.reason !== NEW_RS_AVAILABLE) {
    const last = Date.parse(progressing.lastUpdateTime ?? "");
    if (!Number.isNaN(last)) s.requeue(last + d.spec.progressDeadlineSeconds * 1000 - s.ctx.now().getTime() + 1000);
  }
};

/** Has the Progressing condition gone without an update for longer than progressDeadlineSeconds? */
const timedOut = (s: DeploymentSync, next: any): boolean => {
  const cond = getCondition(next, "Progressing");
  if (!cond || cond.reason === NEW_RS_AVAILABLE) return false;
  if (cond.reason === TIMED_OUT) return true;
  const from = Date.parse(cond.lastUpdateTime ?? "");
  return !Number.isNaN(from) && from + s.d.spec.progressDeadlineSeconds * 1000 < s.ctx.now().getTime();
};
