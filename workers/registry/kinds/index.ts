/**
 * The catalog of served kinds: the single source for routing, discovery, storage
 * keys, strategies and printers. Adding a kind is one file in this folder (plus its
 * API type in shared/validation) and one line here.
 */
import { groupVersion, type ResourceInfo } from "../../../shared/resources";
import { compareKubeVersions, customKind, customKinds, customKindsSignature, setStaticResources } from "../crd/catalog";
import { configmaps } from "./configmaps";
import { controllerrevisions } from "./controllerrevisions";
import { cronjobs } from "./cronjobs";
import { customresourcedefinitions } from "./customresourcedefinitions";
import { daemonsets } from "./daemonsets";
import { deployments } from "./deployments";
import { endpoints } from "./endpoints";
import { endpointslices } from "./endpointslices";
import { horizontalpodautoscalers } from "./horizontalpodautoscalers";
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
import { statefulsets } from "./statefulsets";
import { persistentvolumes } from "./persistentvolumes";
import { persistentvolumeclaims } from "./persistentvolumeclaims";
import { storageclasses } from "./storageclasses";
import { ingresses } from "./ingresses";
import { ingressclasses } from "./ingressclasses";
import { networkpolicies } from "./networkpolicies";
import { RBAC_KINDS } from "./rbac";
import { limitranges } from "./limitranges";
import { resourcequotas } from "./resourcequotas";

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
  controllerrevisions,
  statefulsets,
  persistentvolumes,
  persistentvolumeclaims,
  storageclasses,
  customresourcedefinitions,
  horizontalpodautoscalers,
  ingresses,
  ingressclasses,
  networkpolicies,
  ...RBAC_KINDS,
  limitranges,
  resourcequotas,
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
  servedResources().find((r) => r.group === group && r.version === version && r.resource === resource);

export const resourceByName = (resource: string): ResourceInfo => kindOf(resource).info;

export const resourceByKind = (apiVersion: string, kind: string): ResourceInfo | undefined =>
  servedResources().find((r) => groupVersion(r) === apiVersion && r.kind === kind);

/** The served group versions, core first. */
export const GROUP_VERSIONS: { group: string; version: string }[] = [
  ...new Map(RESOURCES.map((r) => [`${r.group}/${r.version}`, { group: r.group, version: r.version }])).values(),
];

// ---------------------------------------------------------------- the dynamic layer
// Established CustomResourceDefinitions (workers/registry/crd/catalog.ts): RESOURCES and
// GROUP_VERSIONS stay the static kinds; the lookups above fall back to the custom kinds,
// and servedResources/servedGroupVersions list both (routing, discovery, OpenAPI).
setStaticResources(RESOURCES.map((r) => r.resource));

let served: { sig: string; resources: ResourceInfo[]; groupVersions: { group: string; version: string }[] } | undefined;
const servedNow = () => {
  if (served?.sig === customKindsSignature()) return served;
  // each group's versions by Kubernetes' version priority: the first is the group's preferred one
  const custom = customKinds()
    .map((k) => k.info)
    .sort((a, b) => (a.group === b.group ? compareKubeVersions(a.version, b.version) : a.group < b.group ? -1 : 1));
  const resources = [...RESOURCES, ...custom];
  const gvs = new Map(GROUP_VERSIONS.map((gv) => [`${gv.group}/${gv.version}`, gv]));
  for (const r of custom) if (!gvs.has(`${r.group}/${r.version}`)) gvs.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  served = { sig: customKindsSignature(), resources, groupVersions: [...gvs.values()] };
  return served;
};

/** Every served resource: the static kinds, then each served version of each established CRD. */
export const servedResources = (): ResourceInfo[] => servedNow().resources;

/** Every served group version: the static ones, then the CRDs' (a group's preferred version first). */
export const servedGroupVersions = (): { group: string; version: string }[] => servedNow().groupVersions;

/** The custom resources, one entry per resource (its storage version): for controllers that visit every resource (namespace deletion). */
export const customStorageResources = (): ResourceInfo[] => [...new Set(customKinds().map((k) => k.info.resource))].map((r) => kindOf(r).info);
