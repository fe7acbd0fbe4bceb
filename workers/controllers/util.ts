/** Helpers shared by the workload controllers (Kubernetes' pkg/controller/controller_utils.go). */
import type { KObject, OwnerReference } from "../../shared/types";
import type { ControllerContext } from "./context";

/** The owner reference with `controller: true`, if any. */
export const controllerRef = (o: KObject): OwnerReference | undefined => o.metadata.ownerReferences?.find((r) => r.controller);

/**
 * Replace an object's metadata (and, by default, spec) with compare-and-swap on its
 * resourceVersion: 409 if it changed since it was read, 404 if it is gone. Unlike a
 * PUT, this never re-creates an object deleted meanwhile.
 */
export const casUpdate = (ctx: ControllerContext, resource: string, obj: KObject, fields: ("metadata" | "spec")[] = ["metadata", "spec"]): Promise<KObject> =>
  ctx.api.patch(
    resource,
    obj.metadata.namespace ?? "",
    obj.metadata.name!,
    "json",
    fields.filter((f) => obj[f] !== undefined).map((f) => ({ op: "add", path: `/${f}`, value: obj[f] })),
  );
