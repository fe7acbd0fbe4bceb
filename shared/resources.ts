/**
 * The catalog of served resources: one entry per REST resource, the single source for
 * routing, discovery, storage keys and messages.
 */

export interface ResourceInfo {
  /** plural REST name, e.g. "pods" */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  group: string; // "" = core
  version: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** subresources served under /{name}/{sub} */
  subresources: string[];
  /** whether the kind has a spec/status split (status subresource semantics, generation) */
  hasStatus: boolean;
}

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
export const resourceVerbs = (_r: ResourceInfo) => VERBS;

const r = (x: Omit<ResourceInfo, "listKind"> & { listKind?: string }): ResourceInfo => ({
  ...x,
  listKind: x.listKind ?? `${x.kind}List`,
});

export const RESOURCES: ResourceInfo[] = [
  r({ resource: "namespaces", singular: "namespace", kind: "Namespace", group: "", version: "v1", namespaced: false, shortNames: ["ns"], subresources: ["status", "finalize"], hasStatus: true }),
  r({ resource: "pods", singular: "pod", kind: "Pod", group: "", version: "v1", namespaced: true, shortNames: ["po"], categories: ["all"], subresources: ["status", "log", "binding"], hasStatus: true }),
  r({ resource: "nodes", singular: "node", kind: "Node", group: "", version: "v1", namespaced: false, shortNames: ["no"], subresources: ["status"], hasStatus: true }),
  r({ resource: "services", singular: "service", kind: "Service", group: "", version: "v1", namespaced: true, shortNames: ["svc"], categories: ["all"], subresources: ["status"], hasStatus: true }),
  r({ resource: "endpoints", singular: "endpoints", kind: "Endpoints", group: "", version: "v1", namespaced: true, shortNames: ["ep"], subresources: [], hasStatus: false }),
  r({ resource: "events", singular: "event", kind: "Event", group: "", version: "v1", namespaced: true, shortNames: ["ev"], subresources: [], hasStatus: false }),
  r({ resource: "configmaps", singular: "configmap", kind: "ConfigMap", group: "", version: "v1", namespaced: true, shortNames: ["cm"], subresources: [], hasStatus: false }),
  r({ resource: "secrets", singular: "secret", kind: "Secret", group: "", version: "v1", namespaced: true, subresources: [], hasStatus: false }),
  r({ resource: "replicationcontrollers", singular: "replicationcontroller", kind: "ReplicationController", group: "", version: "v1", namespaced: true, shortNames: ["rc"], categories: ["all"], subresources: ["status", "scale"], hasStatus: true }),
  r({ resource: "deployments", singular: "deployment", kind: "Deployment", group: "apps", version: "v1", namespaced: true, shortNames: ["deploy"], categories: ["all"], subresources: ["status", "scale"], hasStatus: true }),
  r({ resource: "replicasets", singular: "replicaset", kind: "ReplicaSet", group: "apps", version: "v1", namespaced: true, shortNames: ["rs"], categories: ["all"], subresources: ["status", "scale"], hasStatus: true }),
  r({ resource: "endpointslices", singular: "endpointslice", kind: "EndpointSlice", group: "discovery.k8s.io", version: "v1", namespaced: true, subresources: [], hasStatus: false }),
  r({ resource: "leases", singular: "lease", kind: "Lease", group: "coordination.k8s.io", version: "v1", namespaced: true, subresources: [], hasStatus: false }),
];

export const groupVersion = (r: ResourceInfo) => (r.group ? `${r.group}/${r.version}` : r.version);

export const findResource = (group: string, version: string, resource: string) =>
  RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);

export const resourceByName = (resource: string): ResourceInfo => {
  const r = RESOURCES.find((x) => x.resource === resource);
  if (!r) throw new Error(`unknown resource ${resource}`);
  return r;
};

export const resourceByKind = (apiVersion: string, kind: string) =>
  RESOURCES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);

/** The served group versions, core first. */
export const GROUP_VERSIONS: { group: string; version: string }[] = [
  ...new Map(RESOURCES.map((r) => [`${r.group}/${r.version}`, { group: r.group, version: r.version }])).values(),
];
