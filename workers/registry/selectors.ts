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
