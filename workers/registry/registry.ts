import { applyDefaults } from "../../shared/defaults";
import type { ResourceMetrics } from "./metrics-resources";
import { groupVersion, type ResourceInfo } from "../../shared/resources";
import { ApiError, badRequest, conflict, forbidden, invalid, notFound } from "../../shared/status";
import type { KList, KObject, ObjectKey, WatchEvent } from "../../shared/types";
import { objectWarnings, typeErrors, validateObject } from "../../shared/validation";
import type { WorkQueue } from "../queue";
import { LogStore } from "../store/logs";
import { type Store, StoreError } from "../store/store";
import { apiErrorOf, isReason } from "./errors";
import type { DeleteResult, ListQuery, RegistryCore, RegistryOptions, WatchQuery, WriteOptions, WriteResult } from "./types";
import { checkApplyTypeMeta, checkNameAndNamespace, checkPatchedName, prepareUpdate } from "./update";
import { Access } from "./access";
import { authorize } from "./auth";
import { checkUnknownFields, toObject } from "./decode";
import { type DeleteOptions, deletionFinishes, planDelete } from "./deletion";
import { kindOf, resourceByKind, resourceByName } from "./kinds";
import type { AdmissionContext } from "./kinds/kind";
import { generateName, newUid, timestamp } from "./meta";
import { jsonEqual } from "../../shared/json";
import { DEFAULT_SERVICE_CIDR } from "../../shared/net/cidr";
import { ClusterCA } from "./clusterca";
import { AuthService } from "./rbac/service";
import { NodeCredentials } from "./credentials";
import type { NodeCheck } from "./noderestriction";
import { applyPatch, type PatchType } from "./patch";
import { PodLogs } from "./podlogs";
import { ScaleSubresource } from "./scale";
import { Evictions } from "./eviction";
import { type SeedOptions, seed } from "./seed";
import { MAX_LIST_LIMIT, parseRv, parseSelectors } from "./selectors";
import { affectedKeys, type WriteFilter } from "./triggers";
import type { User, Verb } from "./user";
import { watchQuery } from "./watch";
import { WatchCache } from "./watchcache";
import { rememberCustomResourceDefinition } from "./crd/catalog";
import { CRD_RESOURCE } from "./crd/kind";
import { QuotaAdmission } from "./admission/quota";
import { ReadCache } from "./readcache";

/**
 * The resource layer, kube-apiserver's generic registry store: create, get, list,
 * watch, update, patch and delete for every kind, with defaulting, validation,
 * admission, authorization and enqueueing around the store. What is special about a
 * kind is its strategy (kinds/); the scale and log subresources and node credentials
 * are modules of their own on top of this. The HTTP layer and the controllers both
 * call this; nothing else calls the store.
 */

export type { DeleteOptions } from "./deletion";
export type { FieldValidation } from "./decode";
export type { PatchType } from "./patch";
export type { DeleteResult, ListQuery, RegistryOptions, WatchQuery, WriteOptions, WriteResult } from "./types";

const MAX_RETRIES = 10;
/** how often one write allocates again after losing the race for a value (each loss means another write committed) */
const MAX_ALLOCATION_RACES = 64;

export class Registry implements RegistryCore {
  readonly store: Store;
  readonly now: () => Date;
  /** the scale subresource of Deployments, ReplicaSets and ReplicationControllers */
  readonly scale: ScaleSubresource;
  /** pods/eviction, subject to PodDisruptionBudgets */
  readonly evictions: Evictions;
  /** container output shipped by the agents (pods/log) */
  readonly logs: PodLogs;
  /** join tokens and node credentials */
  readonly nodes: NodeCredentials;
  /** authorization beyond roles: node credentials' object-level limits */
  readonly access: Access;
  /** the cluster CA: kube-root-ca.crt, the nodes' relay serving certificates */
  readonly clusterCA: ClusterCA;
  /** ServiceAccount tokens, RBAC views, impersonation and the access reviews (rbac/service.ts) */
  readonly auth: AuthService;
  /** the LimitRanger and ResourceQuota admission plugins */
  readonly quotas: QuotaAdmission;
  private readonly queue: WorkQueue;
  /** resource usage pulled from the agents on demand (metrics.k8s.io, the HPA); set by the runtime that has the tunnels */
  resourceMetrics?: ResourceMetrics;
  /** which writes the controllers need (set by the composition root: ControllerManager.wants); unset, all */
  writeFilter?: WriteFilter;
  private readonly watchPollMs: number;
  private readonly watchPollMaxMs: number | undefined;
  private readonly watchCache: WatchCache | undefined;
  /** admission's rarely changing reads, where this process is the only writer */
  private readonly reads: ReadCache | undefined;
  private readonly bookmarkMs: number;
  private readonly maxWatchSeconds: number;
  private readonly defaultTolerationSeconds: number;
  /** the service CIDR ClusterIPs are allocated from */
  readonly serviceCIDR: string;

  constructor(opts: RegistryOptions) {
    this.store = opts.store;
    this.queue = opts.queue;
    this.now = opts.now ?? (() => new Date());
    this.watchPollMs = opts.watchPollMs ?? 1000;
    this.watchPollMaxMs = opts.watchPollMaxMs;
    this.watchCache = opts.watchCache ? new WatchCache(opts.store, { pollMs: this.watchPollMs }) : undefined;
    this.reads = opts.readCache ? new ReadCache(opts.store) : undefined;
    this.bookmarkMs = opts.bookmarkMs ?? 60_000;
    this.maxWatchSeconds = opts.maxWatchSeconds ?? 1800;
    this.defaultTolerationSeconds = opts.defaultTolerationSeconds ?? 10; // DEFAULT_CONFIG's (workers/controllers/context.ts)
    this.serviceCIDR = opts.serviceCIDR ?? DEFAULT_SERVICE_CIDR;
    this.access = new Access(opts.store);
    this.scale = new ScaleSubresource(this);
    this.evictions = new Evictions(this);
    this.logs = new PodLogs(this, new LogStore(opts.store.client, opts.logBytesPerContainer));
    this.nodes = new NodeCredentials(this, opts.credentialCache);
    this.quotas = new QuotaAdmission(opts.store, this.now, this.reads);
    this.clusterCA = new ClusterCA({ store: opts.store, now: this.now, serviceCIDR: this.serviceCIDR, fixed: opts.clusterCA });
    this.auth = new AuthService(opts.store, this.now, opts.authCaches, { issuer: opts.serviceAccountIssuer });
  }

  /** Create the namespaces and Services every cluster starts with, and the `kubernetes` endpoints. Idempotent. */
  bootstrap(o?: SeedOptions): Promise<void> {
    return seed(this, o);
  }

  // ---------------------------------------------------------------- reads

  async get(user: User, info: ResourceInfo, namespace: string, name: string, subresource = ""): Promise<KObject> {
    authorize(user, "get", info, namespace, subresource);
    const obj = await this.store.get(this.key(info, namespace, name));
    // a node learns nothing about objects it may not read, not even whether they exist
    await this.restrict(user, "get", info, namespace, { name, sub: subresource, current: obj });
    if (!obj) throw notFound(info.resource, info.group, name);
    return this.typed(info, obj);
  }

  async list(user: User, info: ResourceInfo, namespace: string, q: ListQuery = {}): Promise<KList> {
    authorize(user, "list", info, namespace);
    await this.restrict(user, "list", info, namespace, { fieldSelector: q.fieldSelector });
    const { labels, fields } = parseSelectors(info, q);
    let atRevision: number | undefined;
    const rv = q.resourceVersion ? parseRv(q.resourceVersion) : undefined;
    if (q.resourceVersionMatch === "Exact" && rv !== undefined) atRevision = rv;
    if (q.limit !== undefined && (!Number.isFinite(q.limit) || q.limit < 0)) throw badRequest(`invalid limit: ${q.limit}`);
    // any int64 is a valid limit; past the number of objects there can be, it means "all"
    const limit = q.limit === undefined ? undefined : Math.min(q.limit, MAX_LIST_LIMIT);
    const res = await this.store
      .list(info.resource, { namespace: namespace || undefined, labels, fields, limit, continue: q.continue, atRevision })
      .catch((e) => Promise.reject(apiErrorOf(e, info, "")));
    const list: KList = {
      apiVersion: groupVersion(info),
      kind: info.listKind,
      metadata: { resourceVersion: String(res.revision) },
      items: res.items.map((o) => this.typed(info, o)),
    };
    if (res.continue) list.metadata.continue = res.continue;
    return list;
  }

  watch(user: User, info: ResourceInfo, namespace: string, q: WatchQuery = {}): AsyncGenerator<WatchEvent> {
    authorize(user, "watch", info, namespace);
    return watchQuery(this.store, info, namespace, q, {
      pollMs: this.watchPollMs,
      pollMaxMs: this.watchPollMaxMs,
      bookmarkMs: this.bookmarkMs,
      maxSeconds: this.maxWatchSeconds,
      cache: this.watchCache,
    });
  }

  // ---------------------------------------------------------------- writes

  async create(user: User, info: ResourceInfo, namespace: string, body: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
    authorize(user, "create", info, namespace, opts.subresource);
    await this.restrict(user, "create", info, namespace, { sub: opts.subresource });
    const kind = kindOf(info);
    const obj = toObject(info, body);
    const warnings = checkUnknownFields(info.kind, obj, opts.fieldValidation, kind.strategy.unknownFields);
    this.checkTypes(info, obj);
    warnings.push(...objectWarnings(info, obj));
    const meta = obj.metadata;
    const named = !!meta.name;
    if (info.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      meta.namespace = namespace || meta.namespace || "default";
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
    await this.restrict(user, "create", info, meta.namespace ?? "", { name: meta.name, sub: opts.subresource, incoming: obj });
    if (info.namespaced) await this.admitNamespace(meta.namespace!);
    meta.uid = newUid();
    meta.creationTimestamp = timestamp(this.now());
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (kind.strategy.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    kind.strategy.prepareForCreate?.(obj);
    kind.strategy.normalize?.(obj);
    if (!kind.strategy.custom) applyDefaults(info, obj);
    // admission may allocate (a Service's ClusterIP): a write that loses the allocation race admits a fresh copy again
    const unadmitted = kind.strategy.unique ? structuredClone(obj) : obj;
    let admittedObj = obj;
    const admitAndValidate = async () => {
      admittedObj = kind.strategy.unique ? structuredClone(unadmitted) : obj;
      const out = (await kind.strategy.admit?.(admittedObj, this.admission())) ?? [];
      await this.quotas.mutate(info, admittedObj);
      this.validate(info, admittedObj);
      this.quotas.validate(info, admittedObj);
      return out;
    };
    warnings.push(...(await admitAndValidate()));
    // ResourceQuota: charged before the write (compare-and-swap on the quotas), refunded if the write fails
    const charge = await this.quotas.charge(info, admittedObj, opts.dryRun);
    if (opts.dryRun) return { object: this.typed(info, admittedObj), warnings, created: true };
    for (let attempt = 0, races = 0; ; attempt++) {
      try {
        const o = admittedObj;
        const stored = await this.store.create(this.key(info, meta.namespace ?? "", o.metadata.name!), o, { unique: kind.strategy.unique?.(o) });
        await this.enqueue(info, stored);
        return { object: this.typed(info, stored), warnings, created: true };
      } catch (e) {
        // a generated name that is taken: try another
        if (e instanceof StoreError && e.code === "AlreadyExists" && meta.generateName && !named && attempt < 3) {
          meta.name = generateName(meta.generateName);
          admittedObj.metadata.name = meta.name;
          if (unadmitted !== obj) unadmitted.metadata.name = meta.name;
          continue;
        }
        // another object got an allocated value first: allocate again (it is committed, so admission sees it)
        if (e instanceof StoreError && e.code === "Taken" && races++ < MAX_ALLOCATION_RACES) {
          await admitAndValidate();
          continue;
        }
        await charge?.refund().catch(() => {});
        throw apiErrorOf(e, info, meta.name!);
      }
    }
  }

  /** PUT: replace the object (or its status), compare-and-swap on metadata.resourceVersion when given. */
  async update(user: User, info: ResourceInfo, namespace: string, name: string, body: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
    authorize(user, "update", info, namespace, opts.subresource);
    if (opts.subresource === "scale") return this.scale.update(user, info, namespace, name, body, opts);
    await this.access.target(user, "update", info, namespace, name, opts.subresource);
    const next = toObject(info, body);
    checkNameAndNamespace(info, next, namespace, name);
    const warnings = checkUnknownFields(info.kind, next, opts.fieldValidation, kindOf(info).strategy.unknownFields);
    this.checkTypes(info, next);
    const key = this.key(info, namespace, name);
    const current = await this.store.get(key);
    if (!current) {
      if (opts.subresource) throw notFound(info.resource, info.group, name);
      // PUT on a missing object creates it, as kube-apiserver allows for most kinds
      const created = await this.create(user, info, namespace, { ...next, metadata: { ...next.metadata, name } }, opts);
      return { ...created, warnings: [...warnings, ...created.warnings] };
    }
    await this.restrict(user, "update", info, namespace, { name, sub: opts.subresource, current, incoming: next });
    const rv = next.metadata.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion) throw conflict(info.resource, info.group, name);
    const object = await this.commitUpdate(info, current, next, opts);
    return { object, warnings };
  }

  /** PATCH: apply a JSON, merge or strategic merge patch (or a server-side apply) to the current object, retrying on conflict. */
  async patch(
    user: User,
    info: ResourceInfo,
    namespace: string,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: WriteOptions & { force?: boolean } = {},
  ): Promise<WriteResult> {
    authorize(user, "patch", info, namespace, opts.subresource);
    if (opts.subresource === "scale") return this.scale.patch(user, info, namespace, name, type, patch, opts);
    await this.restrict(user, "patch", info, namespace, { name, sub: opts.subresource });
    const applied = type === "apply" ? toObject(info, checkApplyTypeMeta(info, patch)) : patch;
    const key = this.key(info, namespace, name);
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await this.store.get(key);
      if (!current) {
        if (type === "apply" && !opts.subresource) {
          const obj = applied as KObject;
          checkNameAndNamespace(info, obj, namespace, name, { nameOptional: true });
          obj.metadata.name = name;
          return this.create(user, info, namespace, obj, opts);
        }
        throw notFound(info.resource, info.group, name);
      }
      await this.restrict(user, "patch", info, namespace, { name, sub: opts.subresource, current });
      // a merge patch's result shares nothing with the stored object or the patch (shared/patch/merge.ts): no copy of it
      const patched = toObject(info, applyPatch(this.typed(info, current), type, applied, info.kind, { name, group: info.group, resource: info.resource }), {
        fresh: type === "merge",
      });
      await this.restrict(user, "patch", info, namespace, { name, sub: opts.subresource, current, incoming: patched });
      checkPatchedName(patched, namespace, name);
      const warnings = checkUnknownFields(info.kind, patched, opts.fieldValidation, kindOf(info).strategy.unknownFields);
      this.checkTypes(info, patched);
      const rv = patched.metadata.resourceVersion;
      if (rv && rv !== current.metadata.resourceVersion) throw conflict(info.resource, info.group, name);
      try {
        return { object: await this.commitUpdate(info, current, patched, opts), warnings };
      } catch (e) {
        // re-apply onto the object now stored: a patch that pins a resourceVersion fails the check above on the next pass
        if (isReason(e, "Conflict")) continue;
        throw e;
      }
    }
    throw conflict(info.resource, info.group, name, "too many concurrent writers; please try again");
  }

  async delete(user: User, info: ResourceInfo, namespace: string, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    authorize(user, "delete", info, namespace);
    const kind = kindOf(info);
    kind.strategy.admitDelete?.(name);
    const key = this.key(info, namespace, name);
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await this.store.get(key);
      await this.restrict(user, "delete", info, namespace, { name, current });
      if (!current) throw notFound(info.resource, info.group, name);
      const pre = opts.preconditions ?? {};
      if (pre.uid && pre.uid !== current.metadata.uid) {
        throw conflict(info.resource, info.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      if (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
        throw conflict(
          info.resource,
          info.group,
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
        );
      }
      const plan = planDelete(kind, current, opts, this.now());
      if (opts.dryRun) return { object: this.typed(info, plan.object), deleted: plan.now };
      try {
        const rev = Number(current.metadata.resourceVersion);
        const stored = plan.now
          ? await this.store.delete(key, plan.object, rev)
          : jsonEqual(plan.object, { ...current, metadata: withoutRv(current.metadata) })
            ? current
            : await this.store.update(key, plan.object, rev);
        await this.enqueue(info, stored, undefined, plan.now);
        return { object: this.typed(info, stored), deleted: plan.now };
      } catch (e) {
        const err = apiErrorOf(e, info, name);
        if (isReason(err, "Conflict") && !pre.resourceVersion) continue;
        throw err;
      }
    }
    throw conflict(info.resource, info.group, name, "too many concurrent writers; please try again");
  }

  async deleteCollection(user: User, info: ResourceInfo, namespace: string, q: ListQuery, opts: DeleteOptions = {}): Promise<KList> {
    authorize(user, "deletecollection", info, namespace);
    const list = await this.list(user, info, namespace, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
    const items: KObject[] = [];
    for (const item of list.items) {
      try {
        const r = await this.delete(user, info, item.metadata.namespace ?? "", item.metadata.name!, opts);
        items.push(r.object);
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) continue;
        throw e;
      }
    }
    return { ...list, items };
  }

  /**
   * pods/binding: set spec.nodeName of an unbound pod, compare-and-swap on
   * `resourceVersion` when given (the scheduler's view of the pod must still hold),
   * and the PodScheduled=True condition in the same write (kube-apiserver's binding
   * does both: the node agent never sees a bound pod whose status is about to change).
   */
  async bind(user: User, namespace: string, name: string, nodeName: string, resourceVersion?: string): Promise<KObject> {
    const patch = { ...(resourceVersion ? { metadata: { resourceVersion } } : {}), spec: { nodeName } };
    return (await this.patch(user, resourceByName("pods"), namespace, name, "merge", patch, { binding: { at: timestamp(this.now()) } })).object;
  }

  /** Live objects of any kind whose ownerReferences name `ownerUid` (for the garbage collector). */
  async dependents(ownerUid: string): Promise<KObject[]> {
    return (await this.store.dependents(ownerUid)).map((o) => {
      const info = resourceByKind(o.apiVersion ?? "", o.kind ?? "");
      return info ? this.typed(info, o) : o;
    });
  }

  /** Keys of objects whose owners are all or partly gone (the garbage collector's periodic sweep). */
  danglingDependents(limit?: number): Promise<ObjectKey[]> {
    return this.store.danglingDependents(limit);
  }

  // ---------------------------------------------------------------- shared with the subresource modules

  key(info: ResourceInfo, namespace: string, name: string): ObjectKey {
    return { resource: info.resource, namespace: info.namespaced ? namespace : "", name };
  }

  typed(info: ResourceInfo, obj: KObject): KObject {
    const o = { apiVersion: groupVersion(info), kind: info.kind, ...obj, metadata: obj.metadata } as KObject;
    // a custom resource read in another version than it was written in (conversion None: apiVersion only)
    o.apiVersion = groupVersion(info);
    return o;
  }

  /**
   * Validate and write an update of the main resource, /status or /finalize onto
   * `current` (no write when nothing changed). `next` has been checked as an object
   * of the kind. Conflicts are 409s.
   */
  async commitUpdate(info: ResourceInfo, current: KObject, next: KObject, opts: WriteOptions): Promise<KObject> {
    for (let races = 0; ; races++) {
      try {
        return await this.commitUpdateOnce(info, current, next, opts);
      } catch (e) {
        // another object got a value this update allocated: allocate again (it is committed, so admission sees it)
        if (e instanceof StoreError && e.code === "Taken" && races < MAX_ALLOCATION_RACES) continue;
        throw apiErrorOf(e, info, current.metadata.name!);
      }
    }
  }

  private async commitUpdateOnce(info: ResourceInfo, current: KObject, next: KObject, opts: WriteOptions): Promise<KObject> {
    const kind = kindOf(info);
    const key = this.key(info, current.metadata.namespace ?? "", current.metadata.name!);
    // metadata.uid is immutable (kube-apiserver's ValidateObjectMetaUpdate); an empty one means "the current one"
    if (next.metadata.uid && next.metadata.uid !== current.metadata.uid) {
      throw invalid(info.kind, info.group, key.name, [
        { reason: "FieldValueInvalid", field: "metadata.uid", message: `Invalid value: ${JSON.stringify(next.metadata.uid)}: field is immutable` },
      ]);
    }
    const obj = prepareUpdate(kind, current, next, opts.subresource ?? "");
    if (!obj) throw notFound(info.resource, info.group, key.name);
    if (opts.binding) setPodScheduled(obj, opts.binding.at);
    delete obj.metadata.resourceVersion;
    kind.strategy.normalize?.(obj);
    if (!kind.strategy.custom) applyDefaults(info, obj);
    if (!opts.subresource) await kind.strategy.admitUpdate?.(obj, current, this.admission());
    if (kind.strategy.tracksGeneration && !opts.subresource && !jsonEqual(obj.spec ?? null, current.spec ?? null)) {
      obj.metadata.generation = (current.metadata.generation ?? 1) + 1;
    }
    this.validate(info, obj);
    const causes = kind.strategy.validateUpdate?.(obj, current) ?? [];
    if (causes.length) throw invalid(info.kind, info.group, obj.metadata.name ?? "", causes);
    const { resourceVersion: _rv, ...curMeta } = current.metadata;
    if (jsonEqual({ ...obj, metadata: { ...obj.metadata } }, { ...this.typed(info, current), metadata: curMeta })) {
      return this.typed(info, current);
    }
    const finishing = deletionFinishes(kind, obj);
    if (opts.dryRun) return this.typed(info, obj);
    const rev = Number(current.metadata.resourceVersion);
    // ResourceQuota on updates (a Service becoming a NodePort, a claim growing): the delta, refunded if the write fails
    const charge = opts.subresource || finishing ? undefined : await this.quotas.charge(info, obj, false, current);
    const stored = await (finishing
      ? this.store.delete(key, obj, rev)
      : this.store.update(key, obj, rev, { unique: opts.subresource ? undefined : kind.strategy.unique?.(obj, current) })
    ).catch(async (e) => {
      await charge?.refund().catch(() => {});
      throw e;
    });
    await this.enqueue(info, stored, current, finishing);
    return this.typed(info, stored);
  }

  /** Object-level limits of node credentials; a no-op for everyone else. */
  restrict(user: User, verb: Verb, info: ResourceInfo, namespace: string, extra: Partial<NodeCheck>): Promise<void> {
    return this.access.restrict(user, verb, info, namespace, extra);
  }

  // ---------------------------------------------------------------- internals

  /** What admission hooks may consult. */
  private admission(): AdmissionContext {
    return {
      list: async (resource) => (await this.store.list(resource, {})).items,
      // a pod's ServiceAccount, read on every pod create, from memory where this process is the only writer
      get: (resource, namespace, name) => (resource === "serviceaccounts" && this.reads ? this.reads : this.store).get({ resource, namespace, name }),
      defaultTolerationSeconds: this.defaultTolerationSeconds,
      serviceCIDR: this.serviceCIDR,
    };
  }

  /**
   * The type check of an incoming object, before anything else reads its fields (422
   * with the causes): no later step meets `containers: {}` or `stringData: {k: 5}`.
   */
  private checkTypes(info: ResourceInfo, obj: KObject): void {
    const custom = kindOf(info).strategy.typeErrors;
    const causes = custom ? custom(obj) : typeErrors(info, obj);
    if (causes.length) throw invalid(info.kind, info.group, typeof obj.metadata?.name === "string" ? obj.metadata.name : "", causes);
  }

  /** The rules, on an object made from type-checked input (checkTypes) by defaulting and the strategy. */
  private validate(info: ResourceInfo, obj: KObject): void {
    const custom = kindOf(info).strategy.validate;
    const causes = custom ? custom(obj) : validateObject(info, obj, { typesChecked: true });
    if (causes.length) throw invalid(info.kind, info.group, obj.metadata.name ?? "", causes);
  }

  /** NamespaceLifecycle: the namespace must exist and not be terminating. */
  private async admitNamespace(namespace: string): Promise<void> {
    const ns = await (this.reads ?? this.store).get({ resource: "namespaces", namespace: "", name: namespace });
    if (!ns) throw notFound("namespaces", "", namespace);
    if (ns.status?.phase === "Terminating" || ns.metadata.deletionTimestamp) {
      throw forbidden(`unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  /** Hand the keys a write affects to the controllers. */
  private async enqueue(info: ResourceInfo, obj: KObject, old?: KObject, deleted = false): Promise<void> {
    this.auth.written(info.resource, obj);
    try {
      if (info.resource === "secrets") this.nodes.forget(obj);
      // the custom resource catalog of this isolate follows its own CRD writes at once
      if (info.resource === CRD_RESOURCE) rememberCustomResourceDefinition(this.typed(info, obj), deleted);
      const dependents = deleted && obj.metadata.uid ? await this.store.dependents(obj.metadata.uid) : [];
      await this.queue.enqueue(affectedKeys(info, obj, old, dependents, { deleted, wants: this.writeFilter }));
    } catch (e) {
      // the write is committed; the periodic resync will catch up
      console.error("enqueue failed:", (e as Error).message);
    }
  }
}

const withoutRv = (m: KObject["metadata"]) => {
  const { resourceVersion: _rv, ...rest } = m;
  return rest;
};

/** PodScheduled=True on a pod being bound; a condition that was True already keeps its transition time. */
const setPodScheduled = (pod: KObject, at: string) => {
  pod.status ??= {};
  const conditions: any[] = Array.isArray(pod.status.conditions) ? pod.status.conditions : [];
  const prev = conditions.find((c) => c?.type === "PodScheduled");
  const cond = {
    type: "PodScheduled",
    status: "True",
    lastProbeTime: null,
    lastTransitionTime: prev?.status === "True" && prev.lastTransitionTime ? prev.lastTransitionTime : at,
  };
  pod.status.conditions = prev ? conditions.map((c) => (c === prev ? cond : c)) : [...conditions, cond];
};
