/**
 * What the catalog says of a served resource (workers/registry/kinds has the catalog
 * itself): REST name, kind, group, version, scope and subresources.
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
  /** the verbs served, when not all of them (the create-only reviews: ["create"]) */
  verbs?: string[];
}

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
export const resourceVerbs = (r: ResourceInfo) => r.verbs ?? VERBS;

export const groupVersion = (r: ResourceInfo) => (r.group ? `${r.group}/${r.version}` : r.version);
