/**
 * The catalog of served kinds: the single source for routing, discovery, storage
 * keys, strategies and printers. Adding a kind is one file in this folder (plus its
 * API type in shared/validation) and one line here.
 */
import { groupVersion, type ResourceInfo } from "../../../shared/resources";
import { configmaps } from "./configmaps";
import { cronjobs } from "./cronjobs";
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
import { RBAC_KINDS } from "./rbac";

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
  ...RBAC_KINDS,
];

export const RESOURCES: ResourceInfo[] = KINDS.map((k) => k.info);

const byResource = new Map(KINDS.map((k) => [k.info.resource, k]));

/** The kind served as `resource` (plural REST name). */
export const kindOf = (info: ResourceInfo | string): Kind => {
  const k = byResource.get(typeof info === "string" ? info : info.resource);
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
