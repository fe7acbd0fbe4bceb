/**
 * The scale subresource (autoscaling/v1 Scale) of the kinds whose strategy names a
 * scale selector: read spec.replicas and status, write spec.replicas only.
 */
import type { ResourceInfo } from "../../shared/resources";
import { formatLabelSelector } from "../../shared/selectors/labels";
import { badRequest, conflict, invalid } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { checkUnknownFields } from "./decode";
import { jsonPathValue, setPathValue } from "../../shared/crd/schema";
import { kindOf } from "./kinds";
import { clone } from "./meta";
import { applyPatch, type PatchType } from "./patch";
import type { RegistryCore, WriteOptions, WriteResult } from "./types";
import type { User } from "./user";

const MAX_RETRIES = 10;

export class ScaleSubresource {
  constructor(private readonly registry: RegistryCore) {}

  /** The Scale view of an object. */
  toScale(info: ResourceInfo, obj: KObject): KObject {
    const strategy = kindOf(info).strategy;
    const sel = strategy.scaleSelector?.(obj);
    // a custom resource's replicas and selector are where its CRD says (specReplicasPath, ...)
    const paths = strategy.custom?.scale;
    const at = (path: string | undefined, fallback: unknown) => (path ? (jsonPathValue(obj, path) ?? fallback) : fallback);
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
      spec: { replicas: paths ? at(paths.specReplicasPath, 0) : (obj.spec?.replicas ?? 0) },
      status: {
        replicas: paths ? at(paths.statusReplicasPath, 0) : (obj.status?.replicas ?? 0),
        selector: paths ? at(paths.labelSelectorPath, "") : sel ? formatLabelSelector(sel) : "",
      },
    };
  }

  async get(user: User, info: ResourceInfo, namespace: string, name: string): Promise<KObject> {
    return this.toScale(info, await this.registry.get(user, info, namespace, name, "scale"));
  }

  /** PUT .../scale (authorized by the caller). */
  async update(user: User, info: ResourceInfo, namespace: string, name: string, body: unknown, opts: WriteOptions): Promise<WriteResult> {
    if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("the request body must be a Scale object");
    const scale = clone(body) as KObject;
    if (scale.kind !== undefined && scale.kind !== "Scale") throw badRequest(`the kind in the data (${scale.kind}) does not match the expected kind (Scale)`);
    const current = await this.current(user, info, namespace, name);
    const rv = scale.metadata?.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion) throw conflict(info.resource, info.group, name);
    const warnings = checkUnknownFields("Scale", scale, opts.fieldValidation);
    return this.write(info, current, scale, opts, warnings);
  }

  /** PATCH .../scale, retrying on conflict unless the patch names a resourceVersion. */
  async patch(user: User, info: ResourceInfo, namespace: string, name: string, type: PatchType, patch: unknown, opts: WriteOptions): Promise<WriteResult> {
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await this.current(user, info, namespace, name);
      const scale = applyPatch(this.toScale(info, current), type, patch, "Scale", { name, group: info.group, resource: info.resource });
      const warnings = checkUnknownFields("Scale", scale, opts.fieldValidation);
      const rv = scale.metadata?.resourceVersion;
      if (rv && rv !== current.metadata.resourceVersion) throw conflict(info.resource, info.group, name);
      try {
        return await this.write(info, current, scale, opts, warnings);
      } catch (e) {
        // the patched Scale carries the current resourceVersion; only one the patch itself names is a precondition
        if ((e as { reason?: string }).reason === "Conflict" && !namesResourceVersion(type, patch)) continue;
        throw e;
      }
    }
    throw conflict(info.resource, info.group, name, "too many concurrent writers; please try again");
  }

  private current(user: User, info: ResourceInfo, namespace: string, name: string): Promise<KObject> {
    return this.registry.get(user, info, namespace, name, "scale");
  }

  private async write(info: ResourceInfo, current: KObject, scale: KObject, opts: WriteOptions, warnings: string[]): Promise<WriteResult> {
    const replicas = scale.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw invalid("Scale", "autoscaling", current.metadata.name ?? "", [
        { reason: "FieldValueInvalid", field: "spec.replicas", message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` },
      ]);
    }
    const next = clone(current);
    const path = kindOf(info).strategy.custom?.scale?.specReplicasPath;
    if (path) setPathValue(next, path, replicas);
    else next.spec = { ...(next.spec ?? {}), replicas };
    const object = await this.registry.commitUpdate(info, current, next, { ...opts, subresource: undefined });
    return { object: this.toScale(info, object), warnings };
  }
}

/** Whether a patch sets metadata.resourceVersion (a precondition: its conflicts are not retried). */
const namesResourceVersion = (type: PatchType, patch: unknown): boolean => {
  if (type === "json")
    return Array.isArray(patch) && patch.some((op) => typeof op?.path === "string" && op.path === "/metadata/resourceVersion" && op.op !== "remove");
  const meta = (patch as { metadata?: { resourceVersion?: unknown } } | null)?.metadata;
  return typeof meta?.resourceVersion === "string" && meta.resourceVersion !== "";
};
