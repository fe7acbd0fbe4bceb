/**
 * Revisions and history, after Kubernetes' deployment_util.go (SetNewReplicaSetAnnotations)
 * and sync.go (cleanupDeployment). A rollback (`kubectl rollout undo`) writes an old
 * ReplicaSet's template back into the Deployment; the sync then finds that ReplicaSet
 * as the new one and raises its revision, keeping the revisions it had in
 * revision-history. Old revisions beyond revisionHistoryLimit are deleted.
 */
import type { KObject } from "../../../shared/types";
import { isConflict } from "../client";
import type { ControllerContext } from "../context";
import {
  byRevision,
  hasRevisionHistoryLimit,
  MAX_REV_HISTORY_CHARS,
  maxSurge,
  replicasOf,
  REVISION,
  REVISION_HISTORY,
  setReplicasAnnotations,
  SKIP_COPY,
  specReplicas,
} from "./util";

/** Copy the Deployment's annotations (but the controller's own) onto a ReplicaSet. */
const copyAnnotations = (d: KObject, rs: KObject): boolean => {
  let changed = false;
  const ann = (rs.metadata.annotations ??= {});
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (SKIP_COPY.has(k) || ann[k] === v) continue;
    ann[k] = v;
    changed = true;
  }
  return changed;
};

/** Kubernetes' SetNewReplicaSetAnnotations: copied annotations, revision (only ever raised, the old one kept in revision-history), replica counts when creating. */
export const setNewReplicaSetAnnotations = (d: KObject, rs: KObject, newRevision: number, exists: boolean): boolean => {
  let changed = copyAnnotations(d, rs);
  const ann = (rs.metadata.annotations ??= {});
  const oldRaw = ann[REVISION];
  const old = oldRaw === undefined || oldRaw === "" ? 0 : Number(oldRaw);
  if (!Number.isInteger(old)) return changed;
  if (old < newRevision) {
    ann[REVISION] = String(newRevision);
    changed = true;
    if (oldRaw !== undefined && oldRaw !== "") {
      // rolled back to this ReplicaSet: remember the revisions it had
      const history = ann[REVISION_HISTORY] ? ann[REVISION_HISTORY].split(",") : [];
      history.push(oldRaw);
      while (history.join(",").length > MAX_REV_HISTORY_CHARS && history.length > 1) history.shift();
      ann[REVISION_HISTORY] = history.join(",");
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
};

/** cleanupDeployment: delete the oldest revisions beyond revisionHistoryLimit (only ReplicaSets with nothing left in them). */
/** What cleanup needs of a sync pass (DeploymentSync). */
interface SyncPass {
  readonly ctx: ControllerContext;
  readonly d: KObject;
  readonly ns: string;
  readonly rs: Map<string, KObject>;
  fresh(rs: KObject): KObject;
}

export const cleanupDeployment = async (s: SyncPass, olds: KObject[]): Promise<void> => {
  const d = s.d;
  if (!hasRevisionHistoryLimit(d)) return;
  const alive = olds.map((o) => s.fresh(o)).filter((o) => !o.metadata.deletionTimestamp);
  const diff = alive.length - d.spec.revisionHistoryLimit;
  if (diff <= 0) return;
  alive.sort(byRevision);
  for (const rs of alive.slice(0, diff)) {
    if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
    await s.ctx.api.delete("replicasets", s.ns, rs.metadata.name!, { preconditions: { uid: rs.metadata.uid }, propagationPolicy: "Background" }).catch((e) => {
      if (!isConflict(e)) throw e;
    });
    s.rs.delete(rs.metadata.uid!);
  }
};
