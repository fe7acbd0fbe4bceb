/**
 * The catalog of served kinds: the single source for routing, discovery, storage
 * keys, strategies and printers. Adding a kind is one file in this folder (plus its
 * API type in shared/validation) and one line here.
 */
import { groupVersion, type ResourceInfo } from "../../../shared/resources";
import { compareKubeVersions, customKind, customKinds, onCustomKindsChange, setStaticResources } from "../crd/catalog";
import { configmaps } from "./configmaps";
import { cronjobs } from "./cronjobs";
import { customresourcedefinitions } from "./customresourcedefinitions";
import { daemonsets } from "./daemonsets";
import { deployments } from "./deployments";
import { endpoints } from "./endpoints";
import { endpointslices } from "./endpointslices";
import { events } from "./events";
import { jobs } from "./jobs";
import type { Kind } from "./kind";
import { leases } from "./leases";
import { namespaces } from "./namespaces";
import { nodes } from "./nodes";
import { poddisruptionbudgets } from "./poddisruptionbudgets";
import { pods } from "./pods";
import { replicasets } from "./replicasets";
import { replicationcontrollers } from "./replicationcontrollers";
import { secrets } from "./secrets";
import { serviceaccounts } from "./serviceaccounts";
import { services } from "./services";

export const KINDS: Kind[] = [
  namespaces,
  pods,
  nodes,
  services,
  endpoints,
  events,
  configmaps,
  secrets,
  replicationcontrollers,
  deployments,
  replicasets,
  endpointslices,
  leases,
  serviceaccounts,
  jobs,
  cronjobs,
  daemonsets,
  poddisruptionbudgets,
  customresourcedefinitions,
];

export const RESOURCES: ResourceInfo[] = KINDS.map((k) => k.info);

const byResource = new Map(KINDS.map((k) => [k.info.resource, k]));

/** The kind served as `resource` (plural REST name). */
export const kindOf = (info: ResourceInfo | string): Kind => {
  const k =
    byResource.get(typeof info === "string" ? info : info.resource) ??
    customKind(typeof info === "string" ? info : info.resource, typeof info === "string" ? undefined : info.version);
  if (!k) throw new Error(`unknown resource ${typeof info === "string" ? info : info.resource}`);
  return k;
};

export const findResource = (group: string, version: string, resource: string): ResourceInfo | undefined =>
  RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);

export const resourceByName = (resource: string): ResourceInfo => kindOf(resource).info;

export const resourceByKind = (apiVersion: string, kind: string): ResourceInfo | undefined =>
  RESOURCES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);

/** The served group versions, core first. */
export const GROUP_VERSIONS: { group: string; version: string }[] = [
  ...new Map(RESOURCES.map((r) => [`${r.group}/${r.version}`, { group: r.group, version: r.version }])).values(),
];

// ---------------------------------------------------------------- the dynamic layer
// Established CustomResourceDefinitions (workers/registry/crd/catalog.ts) join
// RESOURCES and GROUP_VERSIONS in place, after the static kinds, whenever the layer
// changes; kindOf falls back to them. The static kinds above stay as they are.
const STATIC_RESOURCES = [...RESOURCES];
const STATIC_GROUP_VERSIONS = [...GROUP_VERSIONS];
setStaticResources(STATIC_RESOURCES.map((r) => r.resource));
onCustomKindsChange(() => {
  // each resource's versions by Kubernetes' version priority: the first is the group's preferred one
  const custom = customKinds()
    .map((k) => k.info)
    .sort((a, b) => (a.group === b.group ? compareKubeVersions(a.version, b.version) : a.group < b.group ? -1 : 1));
  RESOURCES.splice(0, RESOURCES.length, ...STATIC_RESOURCES, ...custom);
  const gvs = new Map(STATIC_GROUP_VERSIONS.map((gv) => [`${gv.group}/${gv.version}`, gv]));
  for (const r of custom) if (!gvs.has(`${r.group}/${r.version}`)) gvs.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  GROUP_VERSIONS.splice(0, GROUP_VERSIONS.length, ...gvs.values());
});
