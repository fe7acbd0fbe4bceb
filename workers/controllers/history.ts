/**
 * ControllerRevision history for DaemonSets and StatefulSets (Kubernetes'
 * pkg/controller/history and the daemon controller's constructHistory/cleanupHistory).
 *
 * A revision's `data` is what kubectl's rollbacker PATCHes (strategic merge) into
 * the owner on `kubectl rollout undo`: `{"spec":{"template":{..., "$patch":"replace"}}}`,
 * serialized as Go's encoding/json would (keys sorted, `creationTimestamp: null` in the
 * template metadata, `resources: {}` in every container), so kubectl's byte comparison
 * ("current template already matches revision N") finds the current one.
 *
 * The owner's current revision is the one whose template equals its template; it gets
 * the next revision number (max of the others + 1) when an older template comes back.
 * Revisions are named `<owner>-<hash>` (hash: the pod-template-hash of the template and
 * status.collisionCount) and labeled with the template's labels plus
 * `controller-revision-hash`; old ones beyond `revisionHistoryLimit` (default 10) go,
 * oldest first, unless a live pod still runs them.
 */
import type { KObject, OwnerReference } from "../../shared/types";
import { formatLabelSelector, matchLabels, selectorFromLabelSelector } from "../../shared/selectors/labels";
import { ApiError } from "../../shared/status";
import { isConflict, isNotFound } from "./client";
import type { ControllerContext } from "./context";
import { sameTemplate, templateHash } from "./deployment/util";
import { controllerRef } from "./util";

export const REVISION_HASH_LABEL = "controller-revision-hash";

/** Go's encoding/json of a value decoded into a map: object keys sorted, recursively. */
const sortKeys = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
};

/** The pod template as a typed Go client marshals it (non-omitempty struct fields appear). */
const goTemplate = (template: any): any => {
  const t = structuredClone(template ?? {});
  t.metadata = t.metadata ?? {};
  if (!("creationTimestamp" in t.metadata)) t.metadata.creationTimestamp = null;
  t.spec = t.spec ?? {};
  for (const list of ["initContainers", "containers"])
    for (const c of Array.isArray(t.spec[list]) ? t.spec[list] : []) if (c && typeof c === "object" && c.resources === undefined) c.resources = {};
  return t;
};

/** The revision data of a DaemonSet or StatefulSet: a patch that restores its template (kubectl's getDaemonSetPatch / getStatefulSetPatch). */
export const revisionData = (owner: KObject): Record<string, unknown> =>
  sortKeys({ spec: { template: { ...goTemplate(owner.spec?.template), $patch: "replace" } } }) as Record<string, unknown>;

/** The template a revision restores. */
export const revisionTemplate = (cr: KObject): unknown => {
  const t = structuredClone((cr as any).data?.spec?.template ?? {});
  delete t.$patch;
  return t;
};

/** Does the revision hold the owner's current template? */
export const revisionMatches = (owner: KObject, cr: KObject): boolean => sameTemplate(owner.spec?.template, revisionTemplate(cr));

const revisionNumber = (cr: KObject): number => Number((cr as any).revision ?? 0);
export const maxRevision = (crs: KObject[]) => crs.reduce((m, c) => Math.max(m, revisionNumber(c)), 0);

/** Revisions of `owner` (controlled by it and matched by its selector), adopting orphans its selector matches. */
export async function controlledRevisions(ctx: ControllerContext, owner: KObject): Promise<KObject[]> {
  const selector = selectorFromLabelSelector(owner.spec?.selector);
  if (!selector?.length) return [];
  const ns = owner.metadata.namespace ?? "";
  const all = await ctx.api.list("controllerrevisions", ns, { labelSelector: formatLabelSelector(selector) });
  const out: KObject[] = [];
  for (const cr of all) {
    if (!matchLabels(selector, cr.metadata.labels)) continue;
    const ref = controllerRef(cr);
    if (ref) {
      if (ref.uid === owner.metadata.uid) out.push(cr);
      continue;
    }
    if (cr.metadata.deletionTimestamp) continue;
    // an orphan the selector matches: adopt it (ClaimControllerRevisions)
    try {
      const refs = [...(cr.metadata.ownerReferences ?? []), ownerRef(owner)];
      out.push(
        await ctx.api.patch("controllerrevisions", ns, cr.metadata.name!, "merge", {
          metadata: { ownerReferences: refs, resourceVersion: cr.metadata.resourceVersion },
        }),
      );
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }
  return out;
}

export const ownerRef = (owner: KObject): OwnerReference => ({
  apiVersion: owner.apiVersion ?? "apps/v1",
  kind: owner.kind!,
  name: owner.metadata.name!,
  uid: owner.metadata.uid!,
  controller: true,
  blockOwnerDeletion: true,
});

export interface History {
  /** the revision of the owner's template */
  current: KObject;
  /** the others */
  old: KObject[];
  /** the label value pods of the current revision carry (DaemonSet: the hash; StatefulSet: the revision's name) */
  hash: string;
}

/**
 * Find or make the owner's current revision (constructHistory). `kind` decides the pod
 * label value. Throws a Conflict-like ApiError when a hash collision bumped the
 * owner's status.collisionCount (the caller requeues).
 */
export async function constructHistory(ctx: ControllerContext, owner: KObject, resource: string): Promise<History> {
  const revisions = await controlledRevisions(ctx, owner);
  const ns = owner.metadata.namespace ?? "";
  const current: KObject[] = [];
  const old: KObject[] = [];
  for (const cr of revisions) (revisionMatches(owner, cr) ? current : old).push(cr);
  const next = maxRevision(old) + 1;
  let cur: KObject;
  if (!current.length) {
    const collisionCount: number | undefined = owner.status?.collisionCount ?? undefined;
    const hash = templateHash(owner.spec?.template, collisionCount);
    const cr = {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: {
        name: `${owner.metadata.name!.slice(0, 223)}-${hash}`,
        namespace: ns,
        labels: { ...(owner.spec?.template?.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
        ...(owner.kind === "DaemonSet" && owner.metadata.annotations ? { annotations: { ...owner.metadata.annotations } } : {}),
        ownerReferences: [ownerRef(owner)],
      },
      data: revisionData(owner),
      revision: next,
    } as unknown as KObject;
    try {
      cur = await ctx.api.create("controllerrevisions", ns, cr);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
      const existing = await ctx.api.get("controllerrevisions", ns, cr.metadata.name!);
      if (existing && controllerRef(existing)?.uid === owner.metadata.uid && revisionMatches(owner, existing)) cur = existing;
      else {
        // a collision: count it so the next hash differs
        await ctx.api.updateStatus(resource, { ...owner, status: { ...(owner.status ?? {}), collisionCount: (collisionCount ?? 0) + 1 } });
        throw e;
      }
    }
  } else {
    // more than one with the same template: keep the highest, delete the rest (dedupCurHistories)
    current.sort((a, b) => revisionNumber(b) - revisionNumber(a));
    cur = current[0];
    for (const dup of current.slice(1))
      await ctx.api.delete("controllerrevisions", ns, dup.metadata.name!, { preconditions: { uid: dup.metadata.uid } }).catch(() => {});
    if (revisionNumber(cur) < next) {
      cur = await ctx.api.patch("controllerrevisions", ns, cur.metadata.name!, "merge", {
        metadata: { resourceVersion: cur.metadata.resourceVersion },
        revision: next,
      });
    }
  }
  const label = cur.metadata.labels?.[REVISION_HASH_LABEL] ?? cur.metadata.name!;
  return { current: cur, old, hash: owner.kind === "StatefulSet" ? cur.metadata.name! : label };
}

/**
 * Delete the oldest old revisions beyond `revisionHistoryLimit` (default 10), except
 * those a live pod still runs (`inUse`: pod label values, as History.hash).
 */
export async function truncateHistory(ctx: ControllerContext, owner: KObject, old: KObject[], inUse: Set<string>): Promise<void> {
  const limit: number = owner.spec?.revisionHistoryLimit ?? 10;
  const kindIsSts = owner.kind === "StatefulSet";
  const candidates = old
    .filter((cr) => !inUse.has(kindIsSts ? cr.metadata.name! : (cr.metadata.labels?.[REVISION_HASH_LABEL] ?? "")))
    .sort((a, b) => revisionNumber(a) - revisionNumber(b));
  const excess = candidates.length - limit;
  for (const cr of candidates.slice(0, Math.max(0, excess))) {
    try {
      await ctx.api.delete("controllerrevisions", owner.metadata.namespace ?? "", cr.metadata.name!, { preconditions: { uid: cr.metadata.uid } });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }
}
