/**
 * What is special about one kind, in one place, as kube-apiserver keeps it in a
 * REST storage and its strategy (pkg/registry/<group>/<kind>/strategy.go): the
 * catalog entry (REST name, kind, scope, subresources), the field selectors it
 * supports, what a create resets and an update may change, admission, immutable
 * fields, graceful deletion, the scale subresource and the `kubectl get` columns.
 *
 * The kind's API type (zod schema, validation rules, defaults) is pure code in
 * shared/validation and shared/defaults; the generic registry applies both.
 */
import type { ResourceInfo } from "../../../shared/resources";
import type { LabelRequirement } from "../../../shared/selectors/labels";
import type { StatusCause } from "../../../shared/status";
import type { KObject } from "../../../shared/types";
import type { UniqueClaim } from "../../store/types";
import type { CustomVersion } from "../crd/kind";
import type { Printer } from "./printing";

/** What create-time admission may consult. */
export interface AdmissionContext {
  /** every stored object of a resource (all namespaces) */
  list(resource: string): Promise<KObject[]>;
  /** one stored object, or null */
  get(resource: string, namespace: string, name: string): Promise<KObject | null>;
  /** tolerationSeconds of the default not-ready/unreachable tolerations */
  defaultTolerationSeconds: number;
  /** the service CIDR ClusterIPs are allocated from */
  serviceCIDR: string;
}

export interface DeleteContext {
  now: Date;
  /** gracePeriodSeconds of the request, if any */
  gracePeriodSeconds?: number;
}

export interface Strategy {
  /** field selectors beyond metadata.name (and metadata.namespace) */
  fieldLabels?: string[];
  /** metadata.generation counts spec changes */
  tracksGeneration?: boolean;
  /** an update of the main resource also writes status (nodes); default: status is the subresource's */
  statusOnMainUpdate?: boolean;
  /** status (and server-set fields) of a freshly created object */
  prepareForCreate?(obj: KObject): void;
  /** conversions every write goes through (Secret stringData becomes data) */
  normalize?(obj: KObject): void;
  /** create-time admission that needs configuration or other objects; may add warnings */
  admit?(obj: KObject, ctx: AdmissionContext): Promise<string[] | void> | string[] | void;
  /** update-time admission of the main resource, on the object about to be written (keeps and allocates what the server owns) */
  admitUpdate?(obj: KObject, old: KObject, ctx: AdmissionContext): Promise<void> | void;
  /**
   * Values the object holds alone among the live objects of its resource (a Service's
   * ClusterIPs and node ports), checked by the store in the write itself; on an update,
   * only those the old object did not hold. A write that loses a race for one goes
   * through admission again.
   */
  unique?(obj: KObject, old?: KObject): UniqueClaim[];
  /** rules on what an update may change (immutable fields) */
  validateUpdate?(obj: KObject, old: KObject): StatusCause[];
  /** NamespaceLifecycle-style refusals of a DELETE by name (throws) */
  admitDelete?(name: string): void;
  /**
   * Called on a copy of the object a DELETE is about to mark or remove: set
   * deletion metadata, and say whether the deletion must wait for someone (a
   * graceful pod deletion waits for its node; a namespace for its spec.finalizers).
   */
  prepareForDelete?(obj: KObject, ctx: DeleteContext): boolean;
  /** an object marked for deletion with no finalizers left may go now (default: yes) */
  deletionComplete?(obj: KObject): boolean;
  /** the pod selector of the scale subresource (status.selector) */
  scaleSelector?(obj: KObject): LabelRequirement[] | null;
  /** a custom resource's version (workers/registry/crd): its schema, scale paths and CRD */
  custom?: CustomVersion;
  /** kinds without a static API type (custom resources): the fields pruning drops, instead of the static schema's unknown fields */
  unknownFields?(obj: KObject): string[];
  /** kinds without a static API type: the type check, instead of the static schema's */
  typeErrors?(obj: KObject): StatusCause[];
  /** kinds without a static API type: the whole validation, instead of the static rules */
  validate?(obj: KObject): StatusCause[];
}

export interface Kind {
  info: ResourceInfo;
  strategy: Strategy;
  printer: Printer;
}

type InfoInput = Omit<ResourceInfo, "listKind" | "subresources" | "hasStatus"> & Partial<Pick<ResourceInfo, "listKind" | "subresources" | "hasStatus">>;

/** A kind with the catalog defaults filled in (listKind `<Kind>List`, no subresources, no status). */
export const defineKind = (k: { info: InfoInput; strategy?: Strategy; printer: Printer }): Kind => ({
  info: { listKind: `${k.info.kind}List`, subresources: [], hasStatus: false, ...k.info },
  strategy: k.strategy ?? {},
  printer: k.printer,
});
