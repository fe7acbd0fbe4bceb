/**
 * meta.k8s.io/v1 Table output (what `kubectl get` asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`).
 */
import type { ResourceInfo } from "../../shared/resources";
import { badRequest } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { kindOf } from "../registry/kinds";
import type { TableRenderer } from "./rest";

/** Does the Accept header ask for a Table (v1 or v1beta1) before anything else we serve? */
export const wantsTable = (accept: string | undefined): boolean => {
  if (!accept) return false;
  for (const part of accept.split(",")) {
    const [type, ...params] = part.split(";").map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split("=").map((s) => s.trim()) as [string, string]));
    if (p.as === "Table" && p.g === "meta.k8s.io" && (p.v === "v1" || p.v === "v1beta1")) return true;
    // an earlier plain type we can serve wins
    if (type === "application/json" || type === "*/*" || type === "application/*") return false;
  }
  return false;
};

const rowObject = (info: ResourceInfo, obj: KObject, includeObject: string | undefined) => {
  switch (includeObject ?? "Metadata") {
    case "None":
      return undefined;
    case "Object":
      return obj;
    case "Metadata":
      return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata };
    default:
      throw badRequest(`includeObject must be one of None, Metadata or Object, got "${includeObject}" for ${info.resource}`);
  }
};

const table = (info: ResourceInfo, items: KObject[], meta: Record<string, unknown>, includeObject: string | undefined) => {
  const printer = kindOf(info).printer;
  const now = Date.now();
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: meta,
    columnDefinitions: printer.columns,
    rows: items.map((o) => {
      const row: Record<string, unknown> = { cells: printer.cells(o, now) };
      const object = rowObject(info, o, includeObject);
      if (object) row.object = object;
      return row;
    }),
  };
};

export const tableRenderer: TableRenderer = {
  wants: wantsTable,
  list: (info, list, { includeObject }) => {
    const meta: Record<string, unknown> = { resourceVersion: list.metadata.resourceVersion };
    if (list.metadata.continue) meta.continue = list.metadata.continue;
    return table(info, list.items, meta, includeObject);
  },
  object: (info, obj, { includeObject }) => table(info, [obj], { resourceVersion: obj.metadata.resourceVersion }, includeObject),
};
