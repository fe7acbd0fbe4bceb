/**
 * The Recreate strategy, after Kubernetes' pkg/controller/deployment/recreate.go: the
 * old ReplicaSets go to zero and their pods finish before the new one is scaled up.
 */
import { formatLabelSelector, selectorFromLabelSelector } from "../../../shared/selectors/labels";
import type { KObject } from "../../../shared/types";
import { controllerRef } from "../util";
import { cleanupDeployment } from "./history";
import { syncRolloutStatus } from "./progress";
import type { DeploymentSync } from "./sync";
import { deploymentComplete, isActive, replicasOf, sum } from "./util";

/** rolloutRecreate: no new ReplicaSet before the old pods are gone. */
export const rolloutRecreate = async (s: DeploymentSync): Promise<void> => {
  let { newRS, olds } = await s.getAll(false);
  let scaledDown = false;
  for (const o of olds.filter((x) => isActive(s.fresh(x)))) if (await s.scaleTo(o, 0)) scaledDown = true;
  if (scaledDown) return syncRolloutStatus(s, olds, newRS);
  if (await oldPodsRunning(s, newRS, olds)) return syncRolloutStatus(s, olds, newRS);
  if (!newRS) ({ newRS, olds } = await s.getAll(true));
  if (newRS) await s.scaleTo(newRS, replicasOf(s.d));
  if (deploymentComplete(s.d, s.storedStatus)) await cleanupDeployment(s, olds);
  return syncRolloutStatus(s, olds, newRS);
};

/** Are pods of the old ReplicaSets still running (terminating ones included)? */
const oldPodsRunning = async (s: DeploymentSync, newRS: KObject | undefined, olds: KObject[]): Promise<boolean> => {
  if (
    sum(
      olds.map((o) => s.fresh(o)),
      (o) => o.status?.replicas ?? 0,
    ) > 0
  )
    return true;
  if (!olds.length) return false;
  const sel = selectorFromLabelSelector(s.d.spec?.selector);
  if (!sel?.length) return false;
  const oldUids = new Set(olds.map((o) => o.metadata.uid));
  const pods = await s.ctx.api.list("pods", s.ns, { labelSelector: formatLabelSelector(sel) });
  const running = pods.some((p) => {
    const owner = controllerRef(p)?.uid;
    if (!owner || owner === newRS?.metadata.uid || !oldUids.has(owner)) return false;
    return p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";
  });
  // pods finishing their termination don't change the ReplicaSets' status: look again soon
  if (running) s.requeue(1_000);
  return running;
};
