/**
 * The eviction subresource (POST pods/{name}/eviction, a policy/v1 Eviction), as
 * kube-apiserver's EvictionREST: a pod is deleted unless a PodDisruptionBudget forbids
 * it, in which case the answer is 429 TooManyRequests (`kubectl drain` retries it).
 *
 * - A finished pod (Succeeded/Failed), or one no budget covers, is deleted at once.
 * - More than one budget covering the pod is a 500, as in Kubernetes.
 * - A budget whose status is behind its spec (observedGeneration) or that allows no
 *   disruption refuses; otherwise its status takes the eviction (disruptionsAllowed − 1,
 *   the pod in `disruptedPods`, compare-and-swap on the budget) before the pod is deleted,
 *   so two concurrent evictions can't both spend the last disruption.
 * - A pod that isn't Ready may go while the budget's healthy pods suffice
 *   (`unhealthyPodEvictionPolicy` IfHealthyBudget, the default) or always (AlwaysAllow),
 *   without spending a disruption.
 */
import { matchLabels, selectorFromLabelSelector } from "../../shared/selectors/labels";
import { ApiError, badRequest, internalError } from "../../shared/status";
import { rfc3339 } from "../../shared/time";
import type { KObject } from "../../shared/types";
import type { DeleteOptions } from "./deletion";
import { resourceByName } from "./kinds";
import type { Registry } from "./registry";
import { SYSTEM_USER, type User } from "./user";

const MAX_RETRIES = 5;

const refuse = (message: string) =>
  new ApiError(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.", {
    causes: [{ reason: "DisruptionBudget", message }],
  });

const ready = (p: KObject) => (p.status?.conditions ?? []).some((c: any) => c?.type === "Ready" && c?.status === "True");

export class Evictions {
  constructor(private readonly registry: Registry) {}

  /** Evict pod `name` (the caller is authorized for `create` on pods/eviction). */
  async evict(_user: User, namespace: string, name: string, body: unknown, deleteOptions: DeleteOptions): Promise<void> {
    const eviction = (body ?? {}) as KObject;
    if (eviction.metadata?.name !== undefined && eviction.metadata.name !== name) throw badRequest("name in URL does not match name in Eviction object");
    const pods = resourceByName("pods");
    const budgets = resourceByName("poddisruptionbudgets");
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const pod = await this.registry.get(SYSTEM_USER, pods, namespace, name);
      const remove = async () => {
        await this.registry.delete(SYSTEM_USER, pods, namespace, name, {
          ...deleteOptions,
          preconditions: { uid: pod.metadata.uid, ...deleteOptions.preconditions },
        });
      };
      if (pod.metadata.deletionTimestamp) return;
      if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return remove();
      const covering = (await this.registry.list(SYSTEM_USER, budgets, namespace)).items.filter((b) => {
        const sel = b.spec?.selector ? selectorFromLabelSelector(b.spec.selector) : null;
        return !!sel && matchLabels(sel, pod.metadata.labels);
      });
      if (covering.length > 1) throw internalError("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
      if (covering.length === 0) return remove();
      const pdb = covering[0];
      const status = pdb.status ?? {};
      if (!ready(pod)) {
        const policy = pdb.spec?.unhealthyPodEvictionPolicy ?? "IfHealthyBudget";
        if (policy === "AlwaysAllow" || (status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0)) return remove();
      }
      if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0))
        throw refuse(`The disruption budget ${pdb.metadata.name} is still being processed by the server.`);
      if ((status.disruptionsAllowed ?? 0) <= 0)
        throw refuse(
          `The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`,
        );
      const next = {
        ...pdb,
        status: {
          ...status,
          disruptionsAllowed: status.disruptionsAllowed - 1,
          disruptedPods: { ...(status.disruptedPods ?? {}), [name]: rfc3339(this.registry.now()) },
        },
      };
      try {
        // the budget spends the disruption first: a concurrent eviction sees it spent (409 on a stale copy)
        await this.registry.update(SYSTEM_USER, budgets, namespace, pdb.metadata.name!, next, { subresource: "status" });
      } catch (e) {
        if (e instanceof ApiError && e.code === 409) continue;
        throw e;
      }
      return remove();
    }
    throw refuse("the disruption budget changed too often while this eviction was considered; try again");
  }
}
