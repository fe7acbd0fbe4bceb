import { resourceByName } from "../registry/kinds";
import { ApiError } from "../../shared/status";
import type { KObject, ObjectKey } from "../../shared/types";
import type { User } from "../registry/user";
import type { DeleteOptions, PatchType, Registry } from "../registry/registry";
import type { ResourceMetrics } from "../registry/metrics-resources";

/** The identity controllers act as (an admin). */
export const CONTROLLER_USER: User = { name: "system:kube-controller-manager", role: "admin" };

export interface ListOpts {
  labelSelector?: string;
  fieldSelector?: string;
}

/**
 * What controllers see of the API: the resource layer (never HTTP, never SQL),
 * addressed by plural resource name, acting as the controller user.
 */
export class ControllerClient {
  constructor(
    private readonly registry: Registry,
    private readonly user: User = CONTROLLER_USER,
  ) {}

  /** The object, or null when it does not exist. */
  async get(resource: string, namespace: string, name: string): Promise<KObject | null> {
    try {
      return await this.registry.get(this.user, resourceByName(resource), namespace, name);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return null;
      throw e;
    }
  }

  async list(resource: string, namespace = "", opts: ListOpts = {}): Promise<KObject[]> {
    return (await this.registry.list(this.user, resourceByName(resource), namespace, opts)).items;
  }

  async create(resource: string, namespace: string, obj: KObject): Promise<KObject> {
    return (await this.registry.create(this.user, resourceByName(resource), namespace, obj)).object;
  }

  /** PUT with the object's resourceVersion: 409 Conflict if it changed meanwhile. */
  async update(resource: string, obj: KObject): Promise<KObject> {
    const m = obj.metadata;
    return (await this.registry.update(this.user, resourceByName(resource), m.namespace ?? "", m.name!, obj)).object;
  }

  /** PUT of the status subresource, compare-and-swap on resourceVersion. */
  async updateStatus(resource: string, obj: KObject): Promise<KObject> {
    const m = obj.metadata;
    return (await this.registry.update(this.user, resourceByName(resource), m.namespace ?? "", m.name!, obj, { subresource: "status" })).object;
  }

  /** pods/binding: spec.nodeName of an unbound pod, compare-and-swap on `resourceVersion`. */
  async bind(namespace: string, name: string, nodeName: string, resourceVersion?: string): Promise<KObject> {
    return this.registry.bind(this.user, namespace, name, nodeName, resourceVersion);
  }

  async patch(resource: string, namespace: string, name: string, type: PatchType, patch: unknown, subresource?: string): Promise<KObject> {
    return (await this.registry.patch(this.user, resourceByName(resource), namespace, name, type, patch, { subresource })).object;
  }

  /** Delete; a missing object counts as deleted (returns false). */
  async delete(resource: string, namespace: string, name: string, opts: DeleteOptions = {}): Promise<boolean> {
    try {
      await this.registry.delete(this.user, resourceByName(resource), namespace, name, opts);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return false;
      throw e;
    }
  }

  /** Pods' and nodes' resource usage (metrics.k8s.io's source), where this control plane can reach the agents. */
  resourceMetrics(): ResourceMetrics | undefined {
    return this.registry.resourceMetrics;
  }

  /** The cluster CA's certificate (PEM): what kube-root-ca.crt publishes. */
  rootCA(): Promise<string> {
    return this.registry.clusterCA.certificate();
  }

  /** Objects of any kind whose ownerReferences name `ownerUid` (indexed). */
  dependents(ownerUid: string): Promise<KObject[]> {
    return this.registry.dependents(ownerUid);
  }

  /** Keys of objects that name owners which no longer exist, at most `limit` (the garbage collector's sweep). */
  danglingDependents(limit?: number): Promise<ObjectKey[]> {
    return this.registry.danglingDependents(limit);
  }
}

/** True for 409 Conflict (someone else wrote first: re-read and retry). */
export const isConflict = (e: unknown) => e instanceof ApiError && e.code === 409 && e.reason === "Conflict";
export const isNotFound = (e: unknown) => e instanceof ApiError && e.code === 404;
