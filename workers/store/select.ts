import type { FieldRequirement } from "../../shared/selectors/fields";
import type { LabelRequirement } from "../../shared/selectors/labels";

/** A SQL fragment with its positional arguments. */
export interface Fragment {
  sql: string;
  args: (string | number)[];
}

/** Where the columns of one stored object live in a query. */
export interface ObjectColumns {
  /** JSON text of metadata.labels */
  labels: string;
  /** JSON text of the whole object */
  object: string;
  name: string;
  namespace: string;
  /** dedicated columns for hot field selectors, when the table has them */
  nodeName?: string;
  phase?: string;
}

/** Columns of the `objects` table (current state). */
export const OBJECT_COLUMNS: ObjectColumns = {
  labels: "o.labels",
  object: "o.object",
  name: "o.name",
  namespace: "o.namespace",
  nodeName: "o.node_name",
  phase: "o.phase",
};

/** Columns of a `changes` row aliased `alias`. */
export const changeColumns = (alias: string): ObjectColumns => ({
  labels: `json_extract(${alias}.object, '$.metadata.labels')`,
  object: `${alias}.object`,
  name: `${alias}.name`,
  namespace: `${alias}.namespace`,
});

const labelPath = (key: string) => `$."${key}"`;

/** SQL for one label requirement, with Kubernetes semantics (`!=`/`notin` match a missing label). */
const labelSql = (cols: ObjectColumns, r: LabelRequirement): Fragment => {
  const v = `json_extract(${cols.labels}, ?)`;
  const p = labelPath(r.key);
  switch (r.op) {
    case "=":
      return { sql: `${v} = ?`, args: [p, r.values[0]] };
    case "!=":
      return { sql: `coalesce(${v} != ?, 1)`, args: [p, r.values[0]] };
    case "in":
      return { sql: `${v} IN (${r.values.map(() => "?").join(",")})`, args: [p, ...r.values] };
    case "notin":
      return { sql: `coalesce(${v} NOT IN (${r.values.map(() => "?").join(",")}), 1)`, args: [p, ...r.values] };
    case "exists":
      return { sql: `json_type(${cols.labels}, ?) IS NOT NULL`, args: [p] };
    case "!exists":
      return { sql: `json_type(${cols.labels}, ?) IS NULL`, args: [p] };
    default:
      throw new Error(`unknown label operator ${(r as LabelRequirement).op}`);
  }
};

/** The SQL expression of a field, as the string Kubernetes compares field selectors against. */
const fieldExpr = (cols: ObjectColumns, field: string): Fragment => {
  if (field === "metadata.name") return { sql: cols.name, args: [] };
  if (field === "metadata.namespace") return { sql: cols.namespace, args: [] };
  if (field === "spec.nodeName" && cols.nodeName) return { sql: `coalesce(${cols.nodeName}, '')`, args: [] };
  if (field === "status.phase" && cols.phase) return { sql: `coalesce(${cols.phase}, '')`, args: [] };
  const path =
    "$." +
    field
      .split(".")
      .map((s) => `"${s}"`)
      .join(".");
  return {
    sql: `(CASE json_type(${cols.object}, ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE coalesce(json_extract(${cols.object}, ?), '') END)`,
    args: [path, path],
  };
};

const fieldSql = (cols: ObjectColumns, r: FieldRequirement): Fragment => {
  // a node's pods: the column itself, so that the (resource, node_name, namespace, name) index
  // finds them (wrapped in coalesce() it could not, and a node's agent or node lifecycle read every pod)
  if (r.field === "spec.nodeName" && cols.nodeName) {
    // and unscheduled pods: node_name is NULL for them, never '' (migration 0004), so the same index finds them
    if (r.value === "") return { sql: `${cols.nodeName} IS ${r.op === "=" ? "" : "NOT "}NULL`, args: [] };
    if (r.op === "=") return { sql: `${cols.nodeName} = ?`, args: [r.value] };
  }
  const e = fieldExpr(cols, r.field);
  return { sql: `${e.sql} ${r.op === "=" ? "=" : "!="} ?`, args: [...e.args, r.value] };
};

/** AND of all requirements; "1" when there are none. */
export const selectorSql = (cols: ObjectColumns, labels: LabelRequirement[] = [], fields: FieldRequirement[] = []): Fragment => {
  const parts = [...labels.map((r) => labelSql(cols, r)), ...fields.map((r) => fieldSql(cols, r))];
  if (parts.length === 0) return { sql: "1", args: [] };
  return { sql: parts.map((p) => `(${p.sql})`).join(" AND "), args: parts.flatMap((p) => p.args) };
};
