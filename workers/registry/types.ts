import type { AuthCaches } from "./rbac/service";
/** The options and results of the resource layer's operations. */
import type { ResourceInfo } from "../../shared/resources";
import type { KObject, ObjectKey } from "../../shared/types";
import type { Store } from "../store/store";
import type { WorkQueue } from "../queue";
import type { CaMaterial } from "./pki";
import type { CredentialCache } from "./credentials";
import type { FieldValidation } from "./decode";
import type { NodeCheck } from "./noderestriction";
import type { User, Verb } from "./user";

export interface WriteOptions {
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  fieldManager?: string;
  subresource?: string;
  /**
   * pods/binding (the registry's own, never from a request): the write also sets the
   * PodScheduled=True condition, as kube-apiserver's binding does, in the same commit
   */
  binding?: { at: string };
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

export interface DeleteResult {
  object: KObject;
  /** false when the object is only marked for deletion (finalizers, graceful pod deletion) */
  deleted: boolean;
}

export interface RegistryOptions {
  store: Store;
  /** node credential hashes kept across registries (Workers: one per isolate); default one of this registry's own */
  credentialCache?: CredentialCache;
  queue: WorkQueue;
  now?: () => Date;
  /** watch poll interval for writes from other processes (ms) */
  watchPollMs?: number;
  /** while a watch's polls find nothing, its interval doubles up to this (default watchPollMs: none) */
  watchPollMaxMs?: number;
  /** one reader of the change log for all of this process's watches (workers/registry/watchcache.ts; the Node server) */
  watchCache?: boolean;
  /**
   * this process is the database's only writer (the Node server): namespaces, LimitRanges
   * and ResourceQuotas, and pods' ServiceAccounts, that admission reads are kept in memory, dropped by this process's
   * writes (workers/registry/readcache.ts)
   */
  readCache?: boolean;
  /** idle time between BOOKMARK events (ms) */
  bookmarkMs?: number;
  /** longest watch the server grants (s) */
  maxWatchSeconds?: number;
  /** tolerationSeconds of the not-ready/unreachable tolerations added to new pods (default 30; Kubernetes: 300) */
  defaultTolerationSeconds?: number;
  /** the service CIDR ClusterIPs come from (default 10.43.0.0/16); checked by the caller (shared/net/cidr.ts networkConfigErrors) */
  serviceCIDR?: string;
  /** bytes of output kept per container (current and previous instance), default 1 MiB */
  logBytesPerContainer?: number;
  /** the cluster CA (Node: the data dir's); default: one made once and kept in the store */
  clusterCA?: CaMaterial;
  /** the signing key and RBAC view kept across registries (Workers: one per isolate); default this registry's own */
  authCaches?: AuthCaches;
  /** the `iss` of ServiceAccount tokens (default https://kubernetes.default.svc.cluster.local) */
  serviceAccountIssuer?: string;
}

/**
 * What the subresource modules (scale, pod logs, node credentials, the seed) use of
 * the generic registry: its reads and writes, and the steps it shares.
 */
export interface RegistryCore {
  readonly store: Store;
  /** the Service ClusterIP range */
  readonly serviceCIDR: string;
  now(): Date;
  get(user: User, info: ResourceInfo, namespace: string, name: string, subresource?: string): Promise<KObject>;
  create(user: User, info: ResourceInfo, namespace: string, body: unknown, opts?: WriteOptions): Promise<WriteResult>;
  update(user: User, info: ResourceInfo, namespace: string, name: string, body: unknown, opts?: WriteOptions): Promise<WriteResult>;
  key(info: ResourceInfo, namespace: string, name: string): ObjectKey;
  typed(info: ResourceInfo, obj: KObject): KObject;
  commitUpdate(info: ResourceInfo, current: KObject, next: KObject, opts: WriteOptions): Promise<KObject>;
  restrict(user: User, verb: Verb, info: ResourceInfo, namespace: string, extra: Partial<NodeCheck>): Promise<void>;
}
