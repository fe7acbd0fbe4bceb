/**
 * The building blocks of `kubectl get` columns: each kind's printer (in its kind
 * file) lists the columns and cells kube-apiserver's table convertor produces for it
 * (priority 1 = shown with `-o wide`).
 */
import type { KObject } from "../../../shared/types";

export interface Column {
  name: string;
  type: "string" | "integer" | "date" | "number" | "boolean";
  format: string;
  description: string;
  priority: number;
}

export interface Printer {
  columns: Column[];
  cells(obj: KObject, now: number): unknown[];
}

export const col = (name: string, description: string, o: Partial<Column> = {}): Column => ({
  name,
  type: "string",
  format: "",
  description,
  priority: 0,
  ...o,
});
export const NAME = col("Name", "Name must be unique within a namespace.", { format: "name" });
export const AGE = col("Age", "Time since the object was created.");
export const wide = (name: string, description: string, o: Partial<Column> = {}) => col(name, description, { priority: 1, ...o });

/** The `-o wide` columns of a workload with a pod template (Containers, Images, Selector), as kubectl prints them. */
export const templateColumns = (selectorDescription = "Query over pods that should match the replicas count.") => [
  wide("Containers", "Names of each container in the template."),
  wide("Images", "Images referenced by each container in the template."),
  wide("Selector", selectorDescription),
];

/** Kubernetes' short human duration ("5s", "3m12s", "7h", "12d", "2y30d"). */
export const humanDuration = (ms: number): string => {
  const s = Math.floor(ms / 1000);
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 60 * 2) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 60 * 3) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  if (h < 24 * 365 * 8) {
    const dy = Math.floor(h / 24) % 365;
    return dy === 0 ? `${Math.floor(h / 24 / 365)}y` : `${Math.floor(h / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(h / 24 / 365)}y`;
};

export const since = (ts: string | undefined, now: number) => (ts ? humanDuration(now - Date.parse(ts)) : "<unknown>");
export const age = (o: KObject, now: number) => since(o.metadata.creationTimestamp, now);
export const none = (s: string | undefined) => (s ? s : "<none>");
export const joinOrNone = (xs: string[]) => (xs.length ? xs.join(",") : "<none>");

/** A metav1.LabelSelector as kubectl prints it. */
export const selectorString = (sel: any): string => {
  if (!sel) return "<none>";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const vals = [...(e.values ?? [])].sort().join(",");
    if (e.operator === "In") parts.push(`${e.key} in (${vals})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.length ? parts.join(",") : "<none>";
};

/** A map selector (Services, ReplicationControllers) as kubectl prints it. */
export const mapSelector = (m: Record<string, string> | undefined) =>
  m && Object.keys(m).length
    ? Object.entries(m)
        .map(([k, v]) => `${k}=${v}`)
        .join(",")
    : "<none>";

const templateContainers = (o: KObject) => (o.spec?.template?.spec?.containers ?? []) as any[];
export const containersCell = (o: KObject) => joinOrNone(templateContainers(o).map((c) => c.name));
export const imagesCell = (o: KObject) => joinOrNone(templateContainers(o).map((c) => c.image));
/** The cells of templateColumns: the template's containers and images, and the selector. */
export const templateCells = (o: KObject) => [containersCell(o), imagesCell(o), selectorString(o.spec?.selector)];

/** Kinds without a printer of their own: name and creation time, as kube-apiserver's default table. */
export const defaultPrinter: Printer = {
  columns: [NAME, col("Created At", "Time when the object was created.", { type: "date" })],
  cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ""],
};
