/**
 * Create-time admission of the quota plugins, on the object the registry is about to
 * store: the LimitRanger (defaults, then min/max/ratio) and the ResourceQuota plugin
 * (staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go).
 *
 * Charging is atomic, as kube-apiserver's: the admission adds the object's usage to
 * each matching quota's status.used with a compare-and-swap write (the resourceVersion
 * it read) before the object is written, and re-reads and re-checks on a conflict, so
 * parallel creates are serialized on the quota and never go over it. If the object's
 * own write then fails, the charge is refunded (the same CAS, subtracting). A refund that
 * cannot be made (the process dies between the two writes) leaves the quota charged
 * for an object that does not exist: the quota controller recomputes status.used from
 * what exists and repairs it. The controller does not lower a usage the admission
 * charged less than CHARGE_GRACE_MS ago (the CHARGED_AT annotation), since the object
 * of a charge may still be on its way to the store.
 */
import { forbidden } from "../../../shared/status";
import type { ResourceInfo } from "../../../shared/resources";
import type { KObject } from "../../../shared/types";
import { type Store, StoreError } from "../../store/store";
import type { ReadCache } from "../readcache";
import { applyLimitDefaults, limitError } from "./limitranger";
import {
  add,
  canonicalList,
  exceeded,
  mask,
  podConstraints,
  prettyPrint,
  quotaMatches,
  removeZeros,
  type ResourceList,
  resourcesOf,
  subtract,
  tracks,
  usageOf,
} from "./usage";

/** When the admission last charged a quota (RFC 3339 with millis): the controller leaves fresh charges alone. */
export const CHARGED_AT = "quota.kubeflare.dev/charged-at";
/** How long a charge is presumed to have its object still in flight. */
export const CHARGE_GRACE_MS = 5_000;
/** compare-and-swap attempts per quota before giving up (each lost one means another create was charged) */
const MAX_CAS = 100;

/** Resources whose creates the quota plugin leaves alone (kube's ignoredResources). */
const IGNORED = new Set(["events", "tokenreviews", "subjectaccessreviews", "selfsubjectaccessreviews", "localsubjectaccessreviews", "selfsubjectreviews"]);

const qualified = (info: ResourceInfo) => (info.group ? `${info.resource}.${info.group}` : info.resource);
const refusal = (info: ResourceInfo, name: string, why: string) => forbidden(`${qualified(info)} "${name}" is forbidden: ${why}`);
const hardOf = (q: KObject): ResourceList => (q.status?.hard && typeof q.status.hard === "object" ? q.status.hard : {});
const usedOf = (q: KObject): ResourceList => (q.status?.used && typeof q.status.used === "object" ? q.status.used : {});

/** A charge made: undo it when the object's write fails. */
export interface Charge {
  refund(): Promise<void>;
}

export class QuotaAdmission {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    /** where this process is the only writer: the namespaces' LimitRanges and ResourceQuotas kept in memory */
    private readonly cache?: ReadCache,
  ) {}

  private async inNamespace(resource: string, namespace: string): Promise<KObject[]> {
    if (this.cache && (resource === "limitranges" || resource === "resourcequotas")) return this.cache.list(resource, namespace);
    return (await this.store.list(resource, { namespace })).items;
  }

  /** the LimitRanges read by `mutate`, for `validate` of the same object */
  private readonly ranges = new WeakMap<KObject, KObject[]>();

  /**
   * Mutating admission, before validation: the LimitRanger's defaults (pods) and a new
   * quota's status (hard, and what is used now).
   */
  async mutate(info: ResourceInfo, obj: KObject): Promise<void> {
    const ns = obj.metadata.namespace;
    if (!ns || info.group !== "") return;
    if (info.resource === "pods" || info.resource === "persistentvolumeclaims") {
      const ranges = await this.inNamespace("limitranges", ns);
      this.ranges.set(obj, ranges);
      if (info.resource === "pods") applyLimitDefaults(obj, ranges);
    } else if (info.resource === "resourcequotas") {
      obj.status = await this.initialStatus(obj);
    }
  }

  /** Validating admission, after validation (a 422 comes first): the LimitRanger's min, max and ratios (403). */
  validate(info: ResourceInfo, obj: KObject): void {
    const ranges = this.ranges.get(obj);
    if (!ranges?.length) return;
    const e = limitError(info.resource, obj, ranges);
    if (e) throw refusal(info, obj.metadata.name ?? "", e);
  }

  /** A new quota starts enforced: status.hard is spec.hard and status.used what the namespace uses now. */
  private async initialStatus(quota: KObject): Promise<KObject["status"]> {
    const hard = canonicalList(quota.spec?.hard && typeof quota.spec.hard === "object" ? quota.spec.hard : {});
    const used = await calculateUsage(quota, hard, this.now(), (r) => this.inNamespace(r, quota.metadata.namespace!));
    // the quota counts itself when it tracks resourcequotas
    const self = mask(usageOf("resourcequotas", "", quota, this.now()), Object.keys(hard));
    return { hard, used: add(used, self) };
  }

  /**
   * After validation: charge every quota of the namespace that tracks the object, or
   * refuse (403) with kube's words. Nothing is charged on a dry run.
   */
  async charge(info: ResourceInfo, obj: KObject, dryRun = false, old?: KObject): Promise<Charge | undefined> {
    const ns = obj.metadata.namespace;
    if (!ns || IGNORED.has(info.resource)) return undefined;
    // updates: only Services (type, ports) and claims (growing) change what they use; the delta is charged
    if (old && (info.group !== "" || (info.resource !== "services" && info.resource !== "persistentvolumeclaims"))) return undefined;
    const quotas = await this.inNamespace("resourcequotas", ns);
    if (quotas.length === 0) return undefined;
    const name = obj.metadata.name ?? "";
    let usage = usageOf(info.resource, info.group, obj, this.now());
    if (old) usage = nonNegative(subtract(usage, usageOf(info.resource, info.group, old, this.now())));
    usage = removeZeros(usage);
    if (Object.keys(usage).length === 0) return undefined;
    const charged: { quota: string; delta: ResourceList }[] = [];
    const refund = async () => {
      for (const c of charged) await this.cas(ns, c.quota, (q) => subtract(usedOf(q), c.delta));
    };
    try {
      for (const first of quotas.sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)))) {
        let q: KObject | null = first;
        for (let attempt = 0; q; attempt++) {
          const delta = this.check(info, obj, q, usage, name);
          if (!delta || dryRun) break;
          const key = { resource: "resourcequotas", namespace: ns, name: q.metadata.name! };
          try {
            await this.store.update(key, this.withUsed(q, add(usedOf(q), delta)), Number(q.metadata.resourceVersion));
            charged.push({ quota: q.metadata.name!, delta });
            break;
          } catch (e) {
            if (e instanceof StoreError && e.code === "NotFound") break; // the quota is gone: nothing to charge
            if (!(e instanceof StoreError) || e.code !== "Conflict" || attempt >= MAX_CAS) throw e;
            q = await this.store.get(key); // charged by another create meanwhile (or changed): check again
          }
        }
      }
    } catch (e) {
      await refund().catch(() => {});
      throw e;
    }
    return charged.length ? { refund } : undefined;
  }

  /** The usage to add to one quota, or undefined when it does not track the object; throws the refusals. */
  private check(info: ResourceInfo, obj: KObject, q: KObject, usage: ResourceList, name: string): ResourceList | undefined {
    if (!quotaMatches(q, info.resource, info.group, obj)) return undefined;
    const hard = hardOf(q);
    const restricted = Object.keys(hard).filter((r) => tracks(info.resource, info.group, r));
    if (info.resource === "pods" && info.group === "") {
      const e = podConstraints(obj, restricted);
      if (e) throw refusal(info, name, `failed quota: ${q.metadata.name}: ${e}`);
    }
    const used = usedOf(q);
    const unknown = restricted.filter((r) => !(r in used));
    if (unknown.length) throw refusal(info, name, `status unknown for quota: ${q.metadata.name}, resources: ${restricted.sort().join(",")}`);
    const requested = mask(usage, Object.keys(hard));
    if (Object.keys(requested).length === 0) return undefined;
    const next = mask(add(used, requested), Object.keys(requested));
    const over = exceeded(next, hard);
    if (over.length) {
      throw refusal(
        info,
        name,
        `exceeded quota: ${q.metadata.name}, requested: ${prettyPrint(mask(requested, over))}, used: ${prettyPrint(mask(used, over))}, limited: ${prettyPrint(mask(hard, over))}`,
      );
    }
    return requested;
  }

  private withUsed(q: KObject, used: ResourceList): KObject {
    const { resourceVersion: _rv, ...metadata } = q.metadata;
    return {
      ...q,
      metadata: { ...metadata, annotations: { ...(metadata.annotations ?? {}), [CHARGED_AT]: this.now().toISOString() } },
      status: { ...q.status, used },
    };
  }

  /** Rewrite a quota's status.used with compare-and-swap, re-reading on conflicts. */
  private async cas(namespace: string, name: string, used: (q: KObject) => ResourceList): Promise<void> {
    const key = { resource: "resourcequotas", namespace, name };
    for (let attempt = 0; attempt < MAX_CAS; attempt++) {
      const q = await this.store.get(key);
      if (!q) return;
      try {
        await this.store.update(key, this.withUsed(q, used(q)), Number(q.metadata.resourceVersion));
        return;
      } catch (e) {
        if (e instanceof StoreError && e.code === "NotFound") return;
        if (!(e instanceof StoreError) || e.code !== "Conflict") throw e;
      }
    }
  }
}

/** quota.SubtractWithNonNegativeResult's clamp: negative values become 0. */
const nonNegative = (list: ResourceList): ResourceList => Object.fromEntries(Object.entries(list).map(([k, v]) => [k, String(v).startsWith("-") ? "0" : v]));

/**
 * What the namespace's objects use of `hard` (CalculateUsage): each tracked resource's
 * objects listed once, summed over those the quota matches. Every hard name is in the
 * result (0 when nothing uses it).
 */
export const calculateUsage = async (
  quota: KObject,
  hard: ResourceList,
  now: Date,
  listOf: (resource: string, group: string) => Promise<KObject[]>,
): Promise<ResourceList> => {
  let used: ResourceList = Object.fromEntries(Object.keys(hard).map((k) => [k, "0"]));
  for (const { resource, group } of resourcesOf(hard)) {
    for (const o of await listOf(resource, group)) {
      if (!quotaMatches(quota, resource, group, o)) continue;
      used = add(used, mask(usageOf(resource, group, o, now), Object.keys(hard)));
    }
  }
  return used;
};
