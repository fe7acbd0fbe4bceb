import { applyDefaults } from "../../shared/defaults";
import { jsonPatch } from "../../shared/patch/json";
import { jsonMergePatch } from "../../shared/patch/merge";
import { strategicMergePatch } from "../../shared/patch/strategic";
import { groupVersion, type ResourceInfo, resourceByKind, resourceByName } from "../../shared/resources";
import { type FieldRequirement, parseFieldSelector } from "../../shared/selectors/fields";
import { formatLabelSelector, type LabelRequirement, parseLabelSelector, selectorFromLabelSelector, selectorFromMap } from "../../shared/selectors/labels";
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  expired,
  forbidden,
  internalError,
  invalid,
  notFound,
  type StatusCause,
} from "../../shared/status";
import type { KList, KObject, ObjectKey, WatchEvent } from "../../shared/types";
import { unknownFields, validateObject } from "../../shared/validation";
import type { WorkQueue } from "../queue";
import { type LogLineIn, LogStore } from "../store/logs";
import { type Key, type Store, StoreError } from "../store/store";
import { authorize, type User, type Verb } from "./auth";
import {
  bootstrapSecretName,
  countJoin,
  newBootstrapToken,
  newNodeCredential,
  nodeOfCredential,
  parseJoinRequest,
  parseTokenOptions,
  replaceableNode,
  verifyBootstrapToken,
  verifyNodeCredential,
} from "./bootstrap";
import { checkNode, type NodeCheck } from "./noderestriction";
import { clone, generateName, jsonEqual, newUid, randomSuffix, timestamp } from "./meta";
import { normalize, prepareMainUpdate, prepareStatusUpdate, resetStatusOnCreate, specChanged, tracksGeneration } from "./strategy";
import { watchEvents } from "./watch";

/**
 * The resource layer: defaulting, validation, admission, authorization and
 * enqueueing around the store. The HTTP layer and the controllers both call this;
 * nothing else calls the store.
 */

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export interface WriteOptions {
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  fieldManager?: string;
  subresource?: string;
}

export interface WriteResult {
  object: KObject;
  warnings: string[];
  /** true when a create happened (PUT/apply on a missing object) */
  created?: boolean;
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface WatchQuery extends ListQuery {
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export interface DeleteOptions {
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  orphanDependents?: boolean;
}

export interface DeleteResult {
  object: KObject;
  /** false when the object is only marked for deletion (finalizers, graceful pod deletion) */
  deleted: boolean;
}

export type PatchType = "json" | "merge" | "strategic" | "apply";

export interface RegistryOptions {
  store: Store;
  queue: WorkQueue;
  now?: () => Date;
  /** watch poll interval for writes from other processes (ms) */
  watchPollMs?: number;
  /** idle time between BOOKMARK events (ms) */
  bookmarkMs?: number;
  /** longest watch the server grants (s) */
  maxWatchSeconds?: number;
  /** tolerationSeconds of the not-ready/unreachable tolerations added to new pods (default 30; Kubernetes: 300) */
  defaultTolerationSeconds?: number;
  /** bytes of output kept per container (current and previous instance), default 1 MiB */
  logBytesPerContainer?: number;
}

export interface LogQuery {
  container?: string;
  previous?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: string;
  timestamps?: boolean;
  limitBytes?: number;
}

export interface LogUpload {
  container: string;
  /** the container instance: its restart count when it started */
  attempt: number;
  lines: LogLineIn[];
}

/** Field selectors each resource supports (kube-apiserver's field label conversions). */
const FIELD_LABELS: Record<string, string[]> = {
  pods: ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
  events: [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  nodes: ["spec.unschedulable"],
  namespaces: ["status.phase"],
  secrets: ["type"],
  replicasets: ["status.replicas"],
  replicationcontrollers: ["status.replicas"],
};

const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export class Registry {
  readonly store: Store;
  private readonly queue: WorkQueue;
  private readonly now: () => Date;
  private readonly watchPollMs: number;
  private readonly bookmarkMs: number;
  private readonly maxWatchSeconds: number;
  private readonly defaultTolerationSeconds: number;
  readonly logs: LogStore;

  constructor(opts: RegistryOptions) {
    this.logs = new LogStore(opts.store.client, opts.logBytesPerContainer);
    this.defaultTolerationSeconds = opts.defaultTolerationSeconds ?? 30;
    this.store = opts.store;
    this.queue = opts.queue;
    this.now = opts.now ?? (() => new Date());
    this.watchPollMs = opts.watchPollMs ?? 1000;
    this.bookmarkMs = opts.bookmarkMs ?? 60_000;
    this.maxWatchSeconds = opts.maxWatchSeconds ?? 1800;
  }

  /** Create the namespaces every cluster starts with. Idempotent. */
  async bootstrap(): Promise<void> {
    const ns = resourceByName("namespaces");
    for (const name of SYSTEM_NAMESPACES) {
      if (await this.store.get({ resource: "namespaces", namespace: "", name })) continue;
      try {
        await this.create(SYSTEM_USER_INTERNAL, ns, "", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === "AlreadyExists")) throw e;
      }
    }
    // the API's own Service, as every cluster has it
    if (!(await this.store.get({ resource: "services", namespace: "default", name: "kubernetes" }))) {
      try {
        await this.create(SYSTEM_USER_INTERNAL, resourceByName("services"), "default", {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "kubernetes", labels: { component: "apiserver", provider: "kubernetes" } },
          spec: { clusterIP: "10.96.0.1", ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }] },
        });
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === "AlreadyExists")) throw e;
      }
    }
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
    const { labels, fields } = this.selectors(info, q);
    let atRevision: number | undefined;
    if (q.resourceVersionMatch === "Exact" && q.resourceVersion) atRevision = this.parseRv(q.resourceVersion);
    if (q.limit !== undefined && (!Number.isFinite(q.limit) || q.limit < 0)) throw badRequest(`invalid limit: ${q.limit}`);
    try {
      const res = await this.store.list(info.resource, {
        namespace: namespace || undefined,
        labels,
        fields,
        limit: q.limit,
        continue: q.continue,
        atRevision,
      });
      const list: KList = {
        apiVersion: groupVersion(info),
        kind: info.listKind,
        metadata: { resourceVersion: String(res.revision) },
        items: res.items.map((o) => this.typed(info, o)),
      };
      if (res.continue) list.metadata.continue = res.continue;
      return list;
    } catch (e) {
      if (e instanceof StoreError && e.code === "Expired") throw expired(e.message);
      throw e;
    }
  }

  watch(user: User, info: ResourceInfo, namespace: string, q: WatchQuery = {}): AsyncGenerator<WatchEvent> {
    authorize(user, "watch", info, namespace);
    if (user.role === "node") {
      // a watch is a generator: check synchronously what can be checked (the selector)
      const sel = (q.fieldSelector ?? "").split(",").map((x) => x.trim());
      if (info.resource === "pods" && !sel.includes(`spec.nodeName=${user.nodeName}`)) {
        throw forbidden(`pods is forbidden: User "${user.name}" cannot watch resource "pods" in API group "": node "${user.nodeName}" may only watch pods with fieldSelector spec.nodeName=${user.nodeName}`);
      }
    }
    const { labels, fields } = this.selectors(info, q);
    const rv = q.resourceVersion;
    const fromRevision = rv === undefined || rv === "" || rv === "0" ? undefined : this.parseRv(rv);
    const timeoutSeconds = Math.min(q.timeoutSeconds && q.timeoutSeconds > 0 ? q.timeoutSeconds : this.maxWatchSeconds, this.maxWatchSeconds);
    return watchEvents(this.store, {
      resource: info.resource,
      namespace: namespace || undefined,
      labels,
      fields,
      fromRevision,
      allowBookmarks: !!q.allowWatchBookmarks,
      timeoutMs: timeoutSeconds * 1000,
      signal: q.signal,
      pollMs: this.watchPollMs,
      bookmarkMs: this.bookmarkMs,
      typeMeta: { apiVersion: groupVersion(info), kind: info.kind },
      listAll: async () => {
        const r = await this.store.list(info.resource, { namespace: namespace || undefined, labels, fields });
        return { items: r.items, revision: r.revision };
      },
    });
  }

  // ---------------------------------------------------------------- writes

  async create(user: User, info: ResourceInfo, namespace: string, body: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
    authorize(user, "create", info, namespace, opts.subresource);
    await this.restrict(user, "create", info, namespace, { sub: opts.subresource });
    const obj = this.checkBody(info, body);
    const warnings = this.checkUnknownFields(info, obj, opts.fieldValidation);
    const meta = obj.metadata;
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
    const now = timestamp(this.now());
    meta.uid = newUid();
    meta.creationTimestamp = now;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (tracksGeneration(info)) meta.generation = 1;
    else delete meta.generation;
    resetStatusOnCreate(info, obj);
    normalize(info, obj);
    applyDefaults(info, obj);
    this.admit(info, obj);
    if (info.resource === "pods") addDefaultTolerations(obj, this.defaultTolerationSeconds);
    if (info.resource === "services") await this.allocateServiceAddresses(obj);
    this.validate(info, obj);
    if (opts.dryRun) return { object: this.typed(info, obj), warnings, created: true };
    for (let attempt = 0; ; attempt++) {
      try {
        const stored = await this.store.create(this.key(info, meta.namespace ?? "", meta.name!), obj);
        await this.enqueue(info, stored);
        return { object: this.typed(info, stored), warnings, created: true };
      } catch (e) {
        if (e instanceof StoreError && e.code === "AlreadyExists") {
          if (obj.metadata.generateName && !((body as KObject).metadata?.name) && attempt < 3) {
            meta.name = generateName(meta.generateName!);
            continue;
          }
          throw alreadyExists(info.resource, info.group, meta.name!);
        }
        throw e;
      }
    }
  }

  /** PUT: replace the object (or its status/scale), compare-and-swap on metadata.resourceVersion when given. */
  async update(
    user: User,
    info: ResourceInfo,
    namespace: string,
    name: string,
    body: unknown,
    opts: WriteOptions = {},
  ): Promise<WriteResult> {
    authorize(user, "update", info, namespace, opts.subresource);
    if (opts.subresource === "scale") return this.updateScale(info, namespace, name, body, opts);
    await this.restrictTarget(user, "update", info, namespace, name, opts.subresource);
    const next = this.checkBody(info, body);
    if (next.metadata.name && next.metadata.name !== name) {
      throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (info.namespaced && next.metadata.namespace && next.metadata.namespace !== namespace) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    const warnings = this.checkUnknownFields(info, next, opts.fieldValidation);
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
    const object = await this.commitUpdate(info, key, current, next, opts);
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
    await this.restrict(user, "patch", info, namespace, { name, sub: opts.subresource });
    const key = this.key(info, namespace, name);
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.store.get(key);
      if (!current) {
        if (type === "apply" && !opts.subresource) {
          const obj = this.checkBody(info, patch);
          if (obj.metadata.name && obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
          obj.metadata.name = name;
          return this.create(user, info, namespace, obj, opts);
        }
        throw notFound(info.resource, info.group, name);
      }
      await this.restrict(user, "patch", info, namespace, { name, sub: opts.subresource, current });
      const typedCurrent = this.typed(info, current);
      const base = opts.subresource === "scale" ? this.toScale(info, typedCurrent) : typedCurrent;
      let patched: KObject;
      try {
        patched = this.applyPatch(info, base, type, patch, opts.subresource === "scale" ? "Scale" : info.kind);
      } catch (e) {
        if (e instanceof ApiError) throw e;
        throw new ApiError(422, "Invalid", (e as Error).message, { name, group: info.group, kind: info.resource });
      }
      if (!patched || typeof patched !== "object" || Array.isArray(patched)) throw badRequest("the patch did not produce an object");
      await this.restrict(user, "patch", info, namespace, { name, sub: opts.subresource, current, incoming: patched });
      const warnings = this.checkUnknownFields(info, patched, opts.fieldValidation, opts.subresource === "scale");
      const rv = patched.metadata?.resourceVersion;
      if (rv && rv !== current.metadata.resourceVersion) throw conflict(info.resource, info.group, name);
      if (opts.subresource === "scale") {
        try {
          return await this.writeScale(info, key, current, patched, opts, warnings);
        } catch (e) {
          if (e instanceof StoreError && e.code === "Conflict" && !rv) continue;
          throw e;
        }
      }
      try {
        const object = await this.commitUpdate(info, key, current, patched, opts);
        return { object, warnings };
      } catch (e) {
        if (e instanceof ApiError && e.reason === "Conflict" && !rv) continue;
        throw e;
      }
    }
    throw conflict(info.resource, info.group, name, "too many concurrent writers; please try again");
  }

  async delete(user: User, info: ResourceInfo, namespace: string, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    authorize(user, "delete", info, namespace);
    if (info.resource === "namespaces" && name === "default") {
      throw forbidden(`namespaces "default" is forbidden: this namespace may not be deleted`);
    }
    const key = this.key(info, namespace, name);
    for (let attempt = 0; attempt < 10; attempt++) {
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
      const plan = this.planDelete(info, current, opts);
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
        if (e instanceof StoreError && (e.code === "Conflict" || e.code === "NotFound")) {
          if (pre.resourceVersion) throw conflict(info.resource, info.group, name);
          if (e.code === "NotFound") throw notFound(info.resource, info.group, name);
          continue;
        }
        throw e;
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

  // ---------------------------------------------------------------- internals

  private key(info: ResourceInfo, namespace: string, name: string): Key {
    return { resource: info.resource, namespace: info.namespaced ? namespace : "", name };
  }

  private typed(info: ResourceInfo, obj: KObject): KObject {
    return { apiVersion: groupVersion(info), kind: info.kind, ...obj, metadata: obj.metadata } as KObject;
  }

  private parseRv(rv: string): number {
    if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: "${rv}"`);
    return Number(rv);
  }

  private selectors(info: ResourceInfo, q: ListQuery): { labels: LabelRequirement[]; fields: FieldRequirement[] } {
    const labels = q.labelSelector ? parseLabelSelector(q.labelSelector) : [];
    const fields = q.fieldSelector ? parseFieldSelector(q.fieldSelector) : [];
    const allowed = ["metadata.name", ...(info.namespaced ? ["metadata.namespace"] : []), ...(FIELD_LABELS[info.resource] ?? [])];
    for (const f of fields) {
      if (!allowed.includes(f.field)) {
        throw badRequest(`field label not supported: ${f.field}`);
      }
    }
    return { labels, fields };
  }

  /** The body must be an object of this endpoint's kind. */
  private checkBody(info: ResourceInfo, body: unknown): KObject {
    if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("the request body must be a JSON or YAML object");
    const obj = clone(body) as KObject;
    const gv = groupVersion(info);
    if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${gv})`);
    }
    if (obj.kind !== undefined && obj.kind !== info.kind) {
      throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${info.kind})`);
    }
    if (obj.metadata !== undefined && (typeof obj.metadata !== "object" || obj.metadata === null || Array.isArray(obj.metadata))) {
      throw badRequest("metadata must be an object");
    }
    obj.apiVersion = gv;
    obj.kind = info.kind;
    obj.metadata = obj.metadata ?? {};
    return obj;
  }

  /** fieldValidation: Strict rejects unknown fields (400), Warn drops them with a warning, Ignore drops them silently. */
  private checkUnknownFields(info: ResourceInfo, obj: KObject, mode: FieldValidation = "Warn", scale = false): string[] {
    const unknown = unknownFields(scale ? "Scale" : info.kind, obj);
    if (unknown.length === 0) return [];
    if (mode === "Strict") {
      throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(", ")}`);
    }
    dropPaths(obj, unknown);
    return mode === "Warn" ? unknown.map((f) => `unknown field "${f}"`) : [];
  }

  private validate(info: ResourceInfo, obj: KObject): void {
    const causes: StatusCause[] = validateObject(info, obj);
    if (causes.length) throw invalid(info.kind, info.group, obj.metadata.name ?? "", causes);
  }

  /** Admission rules that need no other object. */
  private admit(info: ResourceInfo, obj: KObject): void {
    if (info.resource === "namespaces" && obj.metadata.name && obj.status?.phase !== "Terminating") {
      obj.status = { ...(obj.status ?? {}), phase: obj.status?.phase ?? "Active" };
    }
  }

  /**
   * Service IP and node port allocation: a ClusterIP from 10.96.0.0/12 (10.96.0.1 is
   * the API's own \`kubernetes\` Service) and node ports from 30000-32767, unique across
   * the cluster. Kubeflare records them as Kubernetes does; traffic forwarding is the
   * agents' business.
   */
  private async allocateServiceAddresses(svc: KObject): Promise<void> {
    const spec = svc.spec;
    if (!spec || typeof spec !== "object") return;
    const type = spec.type ?? "ClusterIP";
    if (type === "ExternalName" || spec.clusterIP === "None") return;
    const services = (await this.store.list("services", {})).items;
    if (!spec.clusterIP) {
      const used = new Set(services.map((s) => s.spec?.clusterIP).filter(Boolean));
      // 10.96.0.0/12 has 2^20 addresses; start at a random offset and take the first free one
      const start = 10 + Math.floor(Math.random() * ((1 << 20) - 20));
      for (let i = 0; i < 1 << 20; i++) {
        const n = ((start + i) % ((1 << 20) - 2)) + 2;
        const ip = `10.${96 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
        if (!used.has(ip)) {
          spec.clusterIP = ip;
          break;
        }
      }
      spec.clusterIPs = [spec.clusterIP];
    }
    if (type === "NodePort" || type === "LoadBalancer") {
      const used = new Set(services.flatMap((s) => (s.spec?.ports ?? []).map((p: any) => p.nodePort)).filter(Boolean));
      let next = 30000 + Math.floor(Math.random() * 2768);
      for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
        if (!p || typeof p !== "object" || p.nodePort) continue;
        for (let i = 0; i < 2768 && used.has(next); i++) next = next >= 32767 ? 30000 : next + 1;
        p.nodePort = next;
        used.add(next);
      }
    }
  }

  /** NamespaceLifecycle: the namespace must exist and not be terminating. */
  private async admitNamespace(namespace: string): Promise<void> {
    const ns = await this.store.get({ resource: "namespaces", namespace: "", name: namespace });
    if (!ns) throw notFound("namespaces", "", namespace);
    if (ns.status?.phase === "Terminating" || ns.metadata.deletionTimestamp) {
      throw forbidden(`unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  private applyPatch(info: ResourceInfo, base: KObject, type: PatchType, patch: unknown, kind: string): KObject {
    switch (type) {
      case "json":
        if (!Array.isArray(patch)) throw badRequest("a JSON patch must be an array of operations");
        return jsonPatch(base, patch);
      case "merge":
        if (!patch || typeof patch !== "object" || Array.isArray(patch)) throw badRequest("a merge patch must be a JSON object");
        return jsonMergePatch(base, patch);
      case "strategic":
        if (!patch || typeof patch !== "object" || Array.isArray(patch)) throw badRequest("a strategic merge patch must be a JSON object");
        return strategicMergePatch(base, patch, kind);
      case "apply": {
        // Server-side apply, simplified: the applied configuration is merged over the
        // live object with strategic-merge semantics (no managedFields conflicts).
        const applied = this.checkBody(info, patch);
        return strategicMergePatch(base, applied, kind);
      }
    }
  }

  /** Validate and write an update of the main resource or /status; no write when nothing changed. */
  private async commitUpdate(info: ResourceInfo, key: Key, current: KObject, next: KObject, opts: WriteOptions): Promise<KObject> {
    const sub = opts.subresource ?? "";
    if (sub && sub !== "status" && !(sub === "finalize" && info.resource === "namespaces")) throw notFound(info.resource, info.group, key.name);
    let obj = this.checkBody(info, next);
    if (sub === "finalize") {
      // namespaces/finalize changes spec.finalizers only
      const finalizers = obj.spec?.finalizers;
      obj = clone(current);
      obj.spec = { ...(obj.spec ?? {}), finalizers };
      if (!finalizers?.length) delete obj.spec.finalizers;
    } else obj = sub === "status" ? prepareStatusUpdate(obj, current) : prepareMainUpdate(info, obj, current);
    delete obj.metadata.resourceVersion;
    normalize(info, obj);
    applyDefaults(info, obj);
    if (tracksGeneration(info) && !sub && specChanged(obj, current)) {
      obj.metadata.generation = (current.metadata.generation ?? 1) + 1;
    }
    this.admit(info, obj);
    this.validate(info, obj);
    this.validateUpdate(info, obj, current);
    const { resourceVersion: _rv, ...curMeta } = current.metadata;
    if (jsonEqual({ ...obj, metadata: { ...obj.metadata } }, { ...this.typed(info, current), metadata: curMeta })) {
      return this.typed(info, current);
    }
    // Removing the last finalizer of an object marked for deletion completes the deletion.
    const finishing =
      !!obj.metadata.deletionTimestamp &&
      !obj.metadata.finalizers?.length &&
      !(info.resource === "namespaces" && obj.spec?.finalizers?.length) &&
      this.graceDone(info, obj);
    if (opts.dryRun) return this.typed(info, obj);
    try {
      const rev = Number(current.metadata.resourceVersion);
      const stored = finishing ? await this.store.delete(key, obj, rev) : await this.store.update(key, obj, rev);
      await this.enqueue(info, stored, current, finishing);
      return this.typed(info, stored);
    } catch (e) {
      if (e instanceof StoreError && e.code === "Conflict") throw conflict(info.resource, info.group, key.name);
      if (e instanceof StoreError && e.code === "NotFound") throw notFound(info.resource, info.group, key.name);
      throw e;
    }
  }

  /** Immutable fields. */
  private validateUpdate(info: ResourceInfo, obj: KObject, old: KObject): void {
    const causes: StatusCause[] = [];
    if (["deployments", "replicasets"].includes(info.resource) && !jsonEqual(obj.spec?.selector, old.spec?.selector)) {
      causes.push({ reason: "FieldValueInvalid", field: "spec.selector", message: "field is immutable" });
    }
    if (info.resource === "pods") {
      const strip = (p: KObject) => ({
        ...p.spec,
        containers: (p.spec?.containers ?? []).map((c: any) => ({ ...c, image: undefined })),
        initContainers: (p.spec?.initContainers ?? []).map((c: any) => ({ ...c, image: undefined })),
        activeDeadlineSeconds: undefined,
        tolerations: undefined,
        terminationGracePeriodSeconds: undefined,
      });
      if (!jsonEqual(strip(obj), strip(old)) && !(old.spec?.nodeName === undefined && jsonEqual({ ...strip(obj), nodeName: undefined }, strip(old)))) {
        causes.push({
          reason: "FieldValueForbidden",
          field: "spec",
          message: "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`",
        });
      }
    }
    if (info.resource === "secrets" || info.resource === "configmaps") {
      if (old.immutable === true && (!jsonEqual(obj.data, old.data) || !jsonEqual(obj.binaryData, old.binaryData) || obj.immutable !== true)) {
        causes.push({ reason: "FieldValueForbidden", field: "data", message: "field is immutable when `immutable` is set" });
      }
    }
    if (causes.length) throw invalid(info.kind, info.group, obj.metadata.name ?? "", causes);
  }

  /** A pod marked for graceful deletion waits for its node to confirm (grace period 0). */
  private graceDone(info: ResourceInfo, obj: KObject): boolean {
    if (info.resource !== "pods") return true;
    return !obj.spec?.nodeName || obj.metadata.deletionGracePeriodSeconds === 0;
  }

  /** What a DELETE does now: remove the object, or mark it (finalizers, graceful pod deletion). */
  private planDelete(info: ResourceInfo, current: KObject, opts: DeleteOptions): { object: KObject; now: boolean } {
    const obj = clone(current);
    delete obj.metadata.resourceVersion;
    const policy = opts.propagationPolicy ?? (opts.orphanDependents ? "Orphan" : undefined);
    const finalizers = new Set(obj.metadata.finalizers ?? []);
    if (policy === "Foreground") finalizers.add("foregroundDeletion");
    if (policy === "Orphan") finalizers.add("orphan");
    // a namespace waits for its spec.finalizers (the namespace controller empties it, then removes "kubernetes")
    const nsPending = info.resource === "namespaces" && (obj.spec?.finalizers?.length ?? 0) > 0;
    const nowTs = timestamp(this.now());
    // graceful deletion of a pod that runs on a node: the node's agent stops it and confirms
    let graceful = false;
    if (info.resource === "pods" && obj.spec?.nodeName && !["Succeeded", "Failed"].includes(obj.status?.phase)) {
      const grace = opts.gracePeriodSeconds ?? obj.metadata.deletionGracePeriodSeconds ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
      if (grace > 0) {
        graceful = true;
        const already = obj.metadata.deletionGracePeriodSeconds;
        if (already === undefined || grace < already) {
          obj.metadata.deletionGracePeriodSeconds = grace;
          obj.metadata.deletionTimestamp = timestamp(new Date(this.now().getTime() + grace * 1000));
        }
      } else {
        obj.metadata.deletionGracePeriodSeconds = 0;
      }
    }
    if (finalizers.size > 0 || graceful || nsPending) {
      obj.metadata.finalizers = finalizers.size ? [...finalizers] : obj.metadata.finalizers;
      if (!obj.metadata.deletionTimestamp) {
        obj.metadata.deletionTimestamp = nowTs;
        obj.metadata.deletionGracePeriodSeconds = obj.metadata.deletionGracePeriodSeconds ?? 0;
      }
      if (info.resource === "namespaces") obj.status = { ...(obj.status ?? {}), phase: "Terminating" };
      return { object: obj, now: false };
    }
    if (!obj.metadata.deletionTimestamp) {
      obj.metadata.deletionTimestamp = nowTs;
      obj.metadata.deletionGracePeriodSeconds = 0;
    }
    return { object: obj, now: true };
  }

  // ---------------------------------------------------------------- scale

  toScale(info: ResourceInfo, obj: KObject): KObject {
    const sel = info.resource === "replicationcontrollers" ? selectorFromMap(obj.spec?.selector) : selectorFromLabelSelector(obj.spec?.selector);
    return {
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      metadata: {
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
        creationTimestamp: obj.metadata.creationTimestamp,
      },
      spec: { replicas: obj.spec?.replicas ?? 0 },
      status: { replicas: obj.status?.replicas ?? 0, selector: sel ? formatLabelSelector(sel) : "" },
    };
  }

  async getScale(user: User, info: ResourceInfo, namespace: string, name: string): Promise<KObject> {
    authorize(user, "get", info, namespace, "scale");
    return this.toScale(info, await this.get(user, info, namespace, name));
  }

  private async updateScale(info: ResourceInfo, namespace: string, name: string, body: unknown, opts: WriteOptions): Promise<WriteResult> {
    if (!body || typeof body !== "object") throw badRequest("the request body must be a Scale object");
    const scale = body as KObject;
    if (scale.kind !== undefined && scale.kind !== "Scale") throw badRequest(`the kind in the data (${scale.kind}) does not match the expected kind (Scale)`);
    const key = this.key(info, namespace, name);
    const current = await this.store.get(key);
    if (!current) throw notFound(info.resource, info.group, name);
    const rv = scale.metadata?.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion) throw conflict(info.resource, info.group, name);
    const warnings = this.checkUnknownFields(info, scale, opts.fieldValidation, true);
    try {
      return await this.writeScale(info, key, current, scale, opts, warnings);
    } catch (e) {
      if (e instanceof StoreError && e.code === "Conflict") throw conflict(info.resource, info.group, name);
      throw e;
    }
  }

  private async writeScale(info: ResourceInfo, key: Key, current: KObject, scale: KObject, opts: WriteOptions, warnings: string[]): Promise<WriteResult> {
    const replicas = scale.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw invalid("Scale", "autoscaling", key.name, [
        { reason: "FieldValueInvalid", field: "spec.replicas", message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` },
      ]);
    }
    const next = clone(current);
    next.spec = { ...(next.spec ?? {}), replicas };
    let object: KObject;
    try {
      object = await this.commitUpdate(info, key, current, next, { ...opts, subresource: undefined });
    } catch (e) {
      if (e instanceof ApiError && e.reason === "Conflict") throw new StoreError("Conflict", e.message);
      throw e;
    }
    return { object: this.toScale(info, object), warnings };
  }

  // ---------------------------------------------------------------- joining nodes

  /**
   * An admin makes a join token (a bootstrap-token Secret in kube-system): single-use
   * unless `maxNodes` says more, and allowed to replace one existing node only when
   * `allowReplace` names it. `options` is the request body, checked here (400 per field).
   */
  async createBootstrapToken(
    user: User,
    options: unknown = {},
  ): Promise<{ token: string; expiration: string; usages: string[]; maxNodes: number; allowReplace?: string }> {
    authorize(user, "create", resourceByName("secrets"), "kube-system");
    const opts = parseTokenOptions(options);
    const { token, secret } = newBootstrapToken(opts, this.now());
    await this.create(user, resourceByName("secrets"), "kube-system", secret);
    return { token, expiration: atob(secret.data.expiration), usages: opts.usages, maxNodes: opts.maxNodes, ...(opts.allowReplace ? { allowReplace: opts.allowReplace } : {}) };
  }

  /** 401 unless `joinToken` is a bootstrap token that can still be used now; its Secret otherwise. */
  async checkJoinToken(joinToken: string): Promise<KObject> {
    const stored = /^[a-z0-9]{6}\./.test(joinToken) ? await this.store.get({ resource: "secrets", namespace: "kube-system", name: bootstrapSecretName(joinToken) }) : null;
    verifyBootstrapToken(joinToken, stored, this.now());
    return stored!;
  }

  /**
   * An agent trades a join token for a credential of its own node. The token must be
   * valid and not used up (401); the name valid (400). A name that an existing Node
   * already has is refused (409): joining under it would revoke that node's credential
   * and hand over its identity (labels, pods, the Secrets they use). Only a token the
   * admin made with allowReplace naming that node, presented with forceReplace, may
   * replace it (403 when forceReplace lacks that allowance); the replacement is recorded
   * as a Warning Event `NodeReplaced` on the Node. Each join counts against the token's
   * max-nodes with a compare-and-swap on its Secret, so of concurrent joins with a
   * single-use token exactly one wins; a refused join does not use the token up.
   */
  async join(joinToken: string, nodeName: unknown, opts: { forceReplace?: unknown } = {}): Promise<{ nodeName: string; token: string }> {
    let stored = await this.checkJoinToken(joinToken);
    const req = parseJoinRequest(nodeName, opts.forceReplace);
    const node = await this.store.get({ resource: "nodes", namespace: "", name: req.nodeName });
    if (node) this.admitReplacement(node, stored, req.forceReplace);
    const secrets = resourceByName("secrets");
    for (let attempt = 0; ; attempt++) {
      try {
        await this.update(SYSTEM_USER_INTERNAL, secrets, "kube-system", stored.metadata.name!, countJoin(stored));
        break;
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === "Conflict") || attempt >= 20) throw e;
        // another join (or an admin) changed the token first: look again
        stored = await this.checkJoinToken(joinToken);
      }
    }
    const cred = await this.issueNodeCredential(req.nodeName);
    if (node) {
      await this.recordEvent(node, "Warning", "NodeReplaced", `Node ${req.nodeName} was replaced by a join with token ${stored.metadata.name}: the previous credential of this node no longer works`);
    }
    return cred;
  }

  /** Whether a join may replace this existing node: 409 or 403 with what the admin can do. */
  private admitReplacement(node: KObject, token: KObject, forceReplace: boolean): void {
    const name = node.metadata.name!;
    const ready = (node.status?.conditions ?? []).find((c: any) => c?.type === "Ready")?.status ?? "Unknown";
    const state = ready === "True" ? "already exists and is Ready" : `already exists (Ready: ${ready})`;
    const how = `an admin creates a token that allows it (kubeflare-agent token create --allow-replace ${name}) and the new box joins with --force-replace`;
    if (!forceReplace) {
      throw new ApiError(
        409,
        "Conflict",
        `node "${name}" ${state}: joining under its name would take over its identity (its credential would stop working). ` +
          `To join a new node, use another name (--name). To replace this one, ${how}; ` +
          `if it is gone for good, an admin can instead delete it (kubectl delete node ${name}) and join with a fresh token`,
        { name, group: "", kind: "nodes" },
      );
    }
    if (replaceableNode(token) !== name) {
      throw new ApiError(403, "Forbidden", `nodes "${name}" is forbidden: the join token does not allow replacing node "${name}"; ${how}`, { name, group: "", kind: "nodes" });
    }
  }

  /** An Event about `obj` (cluster-scoped objects' events live in "default", as kubelet records them). */
  private async recordEvent(obj: KObject, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const ts = timestamp(this.now());
    const info = resourceByKind(obj.apiVersion ?? "v1", obj.kind ?? "") ?? resourceByName("nodes");
    try {
      await this.create(SYSTEM_USER_INTERNAL, resourceByName("events"), obj.metadata.namespace || "default", {
        apiVersion: "v1",
        kind: "Event",
        // named as Kubernetes' recorder names them, <object>.<time in hex> (plus a little randomness)
        metadata: { name: `${obj.metadata.name}.${this.now().getTime().toString(16)}${randomSuffix(3)}` },
        involvedObject: { apiVersion: groupVersion(info), kind: info.kind, name: obj.metadata.name, uid: obj.metadata.uid, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}) },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: ts,
        lastTimestamp: ts,
        source: { component: "kubeflare-apiserver" },
        reportingComponent: "kubeflare-apiserver",
        reportingInstance: "kubeflare-apiserver",
      });
    } catch (e) {
      // the replacement happened; an Event is best effort, as in Kubernetes
      console.error(`event ${reason} for ${obj.metadata.name} not recorded: ${(e as Error).message}`);
    }
  }

  /** A credential for `nodeName` (the in-process agent of `npm start` gets one directly). */
  async issueNodeCredential(nodeName: string): Promise<{ nodeName: string; token: string }> {
    const secrets = resourceByName("secrets");
    const cred = await newNodeCredential(nodeName);
    const current = await this.store.get({ resource: "secrets", namespace: "kube-system", name: cred.secret.metadata.name! });
    if (current) await this.update(SYSTEM_USER_INTERNAL, secrets, "kube-system", cred.secret.metadata.name!, { ...cred.secret, metadata: { ...cred.secret.metadata, resourceVersion: current.metadata.resourceVersion } });
    else await this.create(SYSTEM_USER_INTERNAL, secrets, "kube-system", cred.secret);
    return { nodeName, token: cred.token };
  }

  /** The user a node credential stands for, or null. */
  async authenticateNode(token: string): Promise<User | null> {
    const node = nodeOfCredential(token);
    if (!node) return null;
    return verifyNodeCredential(token, await this.store.get({ resource: "secrets", namespace: "kube-system", name: `node-credential-${node}` }));
  }

  /**
   * Authorization from the request line alone, before the body is read or checked, as
   * kube-apiserver's authorization filter runs before its handlers (for a node: the
   * Node authorizer, which for a named pod looks the pod up).
   */
  async authorizeRequest(user: User, verb: Verb, info: ResourceInfo, namespace: string, name?: string, subresource = ""): Promise<void> {
    authorize(user, verb, info, namespace, subresource);
    if (name !== undefined) await this.restrictTarget(user, verb, info, namespace, name, subresource);
    else await this.restrict(user, verb, info, namespace, { sub: subresource });
  }

  /** A node's target check of a named object, reading the pod when the target is a pod. */
  private async restrictTarget(user: User, verb: Verb, info: ResourceInfo, namespace: string, name: string, sub = ""): Promise<void> {
    if (user.role !== "node") return;
    const current = info.resource === "pods" ? await this.store.get(this.key(info, namespace, name)) : undefined;
    await this.restrict(user, verb, info, namespace, { name, sub, current });
  }

  /** Object-level limits of node credentials (noderestriction.ts); a no-op for everyone else. */
  private async restrict(user: User, verb: Verb, info: ResourceInfo, namespace: string, extra: Partial<NodeCheck>): Promise<void> {
    if (user.role !== "node") return;
    await checkNode({
      user,
      verb,
      info,
      namespace,
      ...extra,
      podsOnNode: async () =>
        (await this.store.list("pods", { namespace, fields: [{ field: "spec.nodeName", op: "=", value: user.nodeName ?? "" }] })).items,
    });
  }

  // ---------------------------------------------------------------- logs

  /** Which container a log request means: the named one, or the only one. */
  private logContainer(pod: KObject, name: string | undefined): any {
    const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    if (!name) {
      if ((pod.spec?.containers ?? []).length === 1 && !(pod.spec?.initContainers ?? []).length) return pod.spec.containers[0];
      throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${all.map((c: any) => c.name).join(" ")}]`);
    }
    const c = all.find((x: any) => x.name === name);
    if (!c) throw badRequest(`container ${name} is not valid for pod ${pod.metadata.name}`);
    return c;
  }

  /** The stored output of a pod's container, as `kubectl logs` wants it; also the instance it read. */
  async readLogs(user: User, namespace: string, name: string, q: LogQuery, afterId = 0): Promise<{ text: string; lastId: number; pod: KObject }> {
    const info = resourceByName("pods");
    authorize(user, "get", info, namespace, "log");
    const pod = await this.get(user, info, namespace, name);
    const c = this.logContainer(pod, q.container);
    const statuses: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const current = statuses.find((s) => s.name === c.name)?.restartCount ?? 0;
    if (q.previous && current === 0) {
      throw badRequest(`previous terminated container "${c.name}" in pod "${name}" not found`);
    }
    const attempt = q.previous ? current - 1 : current;
    const sinceTime = q.sinceSeconds !== undefined ? new Date(this.now().getTime() - q.sinceSeconds * 1000).toISOString() : q.sinceTime;
    const lines = await this.logs.read(pod.metadata.uid!, c.name, attempt, { afterId, tail: afterId ? undefined : q.tailLines, sinceTime });
    let text = lines.map((l) => (q.timestamps ? `${l.time} ${l.line}\n` : `${l.line}\n`)).join("");
    if (q.limitBytes !== undefined) text = new TextDecoder().decode(new TextEncoder().encode(text).slice(0, q.limitBytes));
    return { text, lastId: lines.length ? lines[lines.length - 1].id : afterId, pod };
  }

  /** An agent ships a container instance's output. */
  async appendLogs(user: User, namespace: string, name: string, body: unknown): Promise<number> {
    const info = resourceByName("pods");
    authorize(user, "create", info, namespace, "log");
    const pod = await this.store.get(this.key(info, namespace, name));
    await this.restrict(user, "create", info, namespace, { name, sub: "log", current: pod });
    if (!pod) throw notFound("pods", "", name);
    const up = body as LogUpload;
    if (!up || typeof up.container !== "string" || !Number.isInteger(up.attempt) || !Array.isArray(up.lines)) {
      throw badRequest("a log upload needs container (string), attempt (integer) and lines ([{time, stream, text}])");
    }
    for (const l of up.lines) {
      if (!l || typeof l.time !== "string" || typeof l.text !== "string" || (l.stream !== "stdout" && l.stream !== "stderr")) {
        throw badRequest("each log line needs time (RFC 3339), stream (stdout or stderr) and text");
      }
    }
    this.logContainer(pod, up.container);
    return this.logs.append(pod.metadata.uid!, up.container, up.attempt, up.lines);
  }

  /** Live objects of any kind whose ownerReferences name `ownerUid` (for the garbage collector). */
  async dependents(ownerUid: string): Promise<KObject[]> {
    return (await this.store.dependents(ownerUid)).map((o) => {
      const info = resourceByKind(o.apiVersion ?? "", o.kind ?? "");
      return info ? this.typed(info, o) : o;
    });
  }

  /** Keys of objects whose owners are all or partly gone (the garbage collector's periodic sweep). */
  async danglingDependents(limit?: number): Promise<ObjectKey[]> {
    return this.store.danglingDependents(limit);
  }

  // ---------------------------------------------------------------- triggers

  /**
   * Enqueue the keys a write affects: the object and its owners (old and new); when
   * the object is gone, its dependents too (the garbage collector re-checks them).
   */
  private async enqueue(info: ResourceInfo, obj: KObject, old?: KObject, deleted = false): Promise<void> {
    const keys: ObjectKey[] = [{ resource: info.resource, namespace: obj.metadata.namespace ?? "", name: obj.metadata.name! }];
    for (const o of [obj, old]) {
      for (const ref of o?.metadata.ownerReferences ?? []) {
        const owner = resourceByKind(ref.apiVersion, ref.kind);
        if (owner) keys.push({ resource: owner.resource, namespace: owner.namespaced ? obj.metadata.namespace ?? "" : "", name: ref.name });
      }
    }
    try {
      if (deleted && obj.metadata.uid) {
        for (const d of await this.store.dependents(obj.metadata.uid)) {
          const dinfo = resourceByKind(d.apiVersion ?? "", d.kind ?? "");
          if (dinfo) keys.push({ resource: dinfo.resource, namespace: d.metadata.namespace ?? "", name: d.metadata.name! });
        }
      }
      await this.queue.enqueue(keys);
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

const SYSTEM_USER_INTERNAL: User = { name: "system:kubeflare", role: "admin" };

/**
 * DefaultTolerationSeconds admission: new pods tolerate a not-ready or unreachable
 * node for `seconds` before the node lifecycle controller evicts them, unless they
 * already say otherwise.
 */
export const addDefaultTolerations = (pod: KObject, seconds: number): void => {
  if (!pod.spec || typeof pod.spec !== "object") return;
  const tolerations: any[] = Array.isArray(pod.spec.tolerations) ? pod.spec.tolerations : [];
  for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
    const covered = tolerations.some(
      (t) => t && (t.key === key || (t.key === undefined && t.operator === "Exists")) && (!t.effect || t.effect === "NoExecute"),
    );
    if (!covered) tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: seconds });
  }
  pod.spec.tolerations = tolerations;
};

/** Remove dotted/indexed paths such as `spec.containers[0].foo` from an object. */
export const dropPaths = (obj: unknown, paths: string[]): void => {
  for (const path of paths) {
    const parts = path.match(/[^.[\]]+/g) ?? [];
    let cur: any = obj;
    for (let i = 0; i < parts.length - 1 && cur != null; i++) cur = cur[Array.isArray(cur) ? Number(parts[i]) : parts[i]];
    if (cur && typeof cur === "object") delete cur[parts[parts.length - 1]];
  }
};

export { internalError };
