/** The store's errors, options and results. */
import type { FieldRequirement } from "../../shared/selectors/fields";
import type { LabelRequirement } from "../../shared/selectors/labels";
import type { KObject, ObjectKey } from "../../shared/types";

export type StoreErrorCode = "AlreadyExists" | "Conflict" | "NotFound" | "Expired" | "Taken";

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

/**
 * Values a write claims for its object alone among the live objects of the same
 * resource: the write is refused ("Taken") when another object holds one of them.
 * `path` is a JSON path into the stored object (an array, whose members are compared,
 * or a single value); with `member`, the path of the value inside each array member.
 */
export interface UniqueClaim {
  path: string;
  member?: string;
  values: (string | number)[];
}

export interface WriteGuard {
  unique?: UniqueClaim[];
}

export interface ListOptions {
  namespace?: string;
  labels?: LabelRequirement[];
  fields?: FieldRequirement[];
  limit?: number;
  continue?: string;
  /** read the state as of this revision (resourceVersionMatch=Exact) */
  atRevision?: number;
}

export interface ListResult {
  items: KObject[];
  revision: number;
  continue?: string;
}

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface Change {
  rev: number;
  type: ChangeType;
  key: ObjectKey;
  object: KObject;
  /** the object before this change, when the log still has it */
  prev?: KObject;
}

export interface ChangeFilter {
  /** one resource's changes; absent: all resources' */
  resource?: string;
  namespace?: string;
  /** equality field requirements pushed down to SQL as a prefilter (on the new or the old object) */
  fields?: FieldRequirement[];
}

export interface ChangesResult {
  changes: Change[];
  /** the store's current revision when read */
  revision: number;
}

export interface CompactOptions {
  /** keep at least this many newest revisions (default 1000) */
  keepRevisions?: number;
  /** keep at least this much history in ms (default 5 minutes) */
  keepMs?: number;
  /** rows deleted per statement (default 500) */
  batch?: number;
  now?: number;
}

export interface StoreOptions {
  /**
   * Wake this process's watchers at once after a local write (Node). Workers must not:
   * a promise settled from another request's context is cancelled there, so watches
   * poll instead.
   */
  notifyListeners?: boolean;
  /** clock for created_at (tests inject one) */
  now?: () => number;
}

export type Listener = (rev: number) => void;
