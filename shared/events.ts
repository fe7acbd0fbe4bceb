/** core/v1 Events as Kubernetes' recorders write them (kubelet, controllers, the API server). */
import type { KObject } from "./types";
import { rfc3339 } from "./time";

export type EventType = "Normal" | "Warning";

export interface EventSource {
  /** the reporting component ("kubelet", "kubeflare-controller-manager", ...) */
  component: string;
  /** the node, for kubelet's events */
  host?: string;
}

/**
 * A new Event about `obj` named `name` (in the object's namespace, or "default" for
 * cluster-scoped objects), counted once between `first` and `last`.
 */
export const newEvent = (
  obj: KObject,
  e: { name: string; type: EventType; reason: string; message: string; source: EventSource; first: Date; last?: Date; fieldPath?: string },
): KObject => {
  const namespace = obj.metadata.namespace || "default";
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: e.name, namespace },
    involvedObject: {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: obj.metadata.name,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
      uid: obj.metadata.uid,
      ...(obj.metadata.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}),
      ...(e.fieldPath ? { fieldPath: e.fieldPath } : {}),
    },
    reason: e.reason,
    message: e.message,
    type: e.type,
    count: 1,
    firstTimestamp: rfc3339(e.first),
    lastTimestamp: rfc3339(e.last ?? e.first),
    source: e.source.host ? { component: e.source.component, host: e.source.host } : { component: e.source.component },
    reportingComponent: e.source.component,
    reportingInstance: e.source.host ?? e.source.component,
  };
};
