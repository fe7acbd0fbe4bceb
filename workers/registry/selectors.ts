/** Label and field selectors of list and watch requests, with each kind's supported field labels. */
import type { ResourceInfo } from "../../shared/resources";
import { type FieldRequirement, parseFieldSelector } from "../../shared/selectors/fields";
import { type LabelRequirement, parseLabelSelector } from "../../shared/selectors/labels";
import { badRequest } from "../../shared/status";
import { kindOf } from "./kinds";

export interface Selectors {
  labels: LabelRequirement[];
  fields: FieldRequirement[];
}

export const parseSelectors = (info: ResourceInfo, q: { labelSelector?: string; fieldSelector?: string }): Selectors => {
  const labels = q.labelSelector ? parseLabelSelector(q.labelSelector) : [];
  const fields = q.fieldSelector ? parseFieldSelector(q.fieldSelector) : [];
  const allowed = ["metadata.name", ...(info.namespaced ? ["metadata.namespace"] : []), ...(kindOf(info).strategy.fieldLabels ?? [])];
  for (const f of fields) {
    if (!allowed.includes(f.field)) throw badRequest(`field label not supported: ${f.field}`);
  }
  return { labels, fields };
};

/** The largest list limit passed to the store: more objects than a cluster holds (any int64 limit is valid). */
export const MAX_LIST_LIMIT = 2 ** 31 - 1;

/** A resourceVersion as the storage parses it (strconv.ParseUint; 400 otherwise). */
export const parseRv = (rv: string): number => {
  if (!/^\d+$/.test(rv) || rv.length > 20)
    throw badRequest(
      `invalid resource version: resourceVersion: Invalid value: ${JSON.stringify(rv.slice(0, 64))}: strconv.ParseUint: parsing ${JSON.stringify(rv.slice(0, 64))}: invalid syntax`,
    );
  return Number(rv);
};
