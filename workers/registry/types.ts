/** The options and results of the resource layer's operations. */
import type { KObject } from "../../shared/types";
import type { Store } from "../store/store";
import type { WorkQueue } from "../queue";
import type { FieldValidation } from "./decode";

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

export interface DeleteResult {
  object: KObject;
  /** false when the object is only marked for deletion (finalizers, graceful pod deletion) */
  deleted: boolean;
}

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
  /** the service CIDR ClusterIPs come from (default 10.43.0.0/16); checked by the caller (shared/net/cidr.ts networkConfigErrors) */
  serviceCIDR?: string;
  /** bytes of output kept per container (current and previous instance), default 1 MiB */
  logBytesPerContainer?: number;
}
