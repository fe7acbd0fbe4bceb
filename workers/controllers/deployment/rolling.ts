/**
 * The RollingUpdate strategy, after Kubernetes' pkg/controller/deployment/rolling.go:
 * one step per reconcile within maxSurge and maxUnavailable (the ReplicaSet writes
 * re-enqueue the Deployment for the next step).
 */
import type { KObject } from "../../../shared/types";
import { cleanupDeployment } from "./history";
import { syncRolloutStatus } from "./progress";
import type { DeploymentSync } from "./sync";
import { availableOf, byCreation, deploymentComplete, isActive, maxUnavailable, replicasOf, specReplicas, sum } from "./util";

/** rolloutRolling: one step of a rolling update, then the rollout status. */
export const rolloutRolling = async (s: DeploymentSync): Promise<void> => {
  const { newRS, olds } = await s.getAll(true);
  if (!newRS) return syncRolloutStatus(s, olds, undefined);
  if (await reconcileNewReplicaSet(s, newRS)) return syncRolloutStatus(s, olds, newRS);
  if (
    await reconcileOldReplicaSets(
      s,
      olds.filter((o) => isActive(s.fresh(o))),
      newRS,
    )
  )
    return syncRolloutStatus(s, olds, newRS);
  if (deploymentComplete(s.d, s.storedStatus)) await cleanupDeployment(s, olds);
  return syncRolloutStatus(s, olds, newRS);
};

/** Scale the new ReplicaSet up within replicas + maxSurge (or down to replicas). */
const reconcileNewReplicaSet = async (s: DeploymentSync, newRS: KObject): Promise<boolean> => {
  newRS = s.fresh(newRS);
  const replicas = replicasOf(s.d);
  if (specReplicas(newRS) === replicas) return false;
  if (specReplicas(newRS) > replicas) return s.scaleTo(newRS, replicas);
  return s.scaleTo(newRS, s.newRSNewReplicas(s.all, newRS));
};

/**
 * Scale old ReplicaSets down as far as keeping replicas - maxUnavailable available
 * allows: unhealthy old replicas first (they don't count as available anyway), then
 * available ones, oldest ReplicaSet first.
 */
const reconcileOldReplicaSets = async (s: DeploymentSync, activeOlds: KObject[], newRS: KObject): Promise<boolean> => {
  const d = s.d;
  if (
    sum(
      activeOlds.map((o) => s.fresh(o)),
      specReplicas,
    ) === 0
  )
    return false;
  newRS = s.fresh(newRS);
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const allPods = sum(s.all, specReplicas);
  const newUnavailable = specReplicas(newRS) - availableOf(newRS);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;

  // unhealthy replicas first, otherwise they block the rollout until it times out
  let cleaned = 0;
  for (const o of [...activeOlds].sort(byCreation)) {
    if (cleaned >= maxScaledDown) break;
    const rs = s.fresh(o);
    const unhealthy = specReplicas(rs) - availableOf(rs);
    if (specReplicas(rs) === 0 || unhealthy <= 0) continue;
    const n = Math.min(maxScaledDown - cleaned, unhealthy);
    await s.scaleTo(rs, specReplicas(rs) - n);
    cleaned += n;
  }

  // then available ones, keeping minAvailable
  let scaled = 0;
  const available = sum(s.all.filter(isActive), availableOf);
  if (available > minAvailable) {
    const total = available - minAvailable;
    for (const o of [...activeOlds].sort(byCreation)) {
      if (scaled >= total) break;
      const rs = s.fresh(o);
      if (specReplicas(rs) === 0) continue;
      const n = Math.min(specReplicas(rs), total - scaled);
      await s.scaleTo(rs, specReplicas(rs) - n);
      scaled += n;
    }
  }
  return cleaned + scaled > 0;
};
