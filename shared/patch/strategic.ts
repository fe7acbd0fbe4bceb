/**
 * Kubernetes strategic merge patch (`application/strategic-merge-patch+json`, what
 * client-side `kubectl apply`, `kubectl set image` and `kubectl edit` send) for the
 * built-in kinds: maps merge, `null` deletes, lists with a merge key merge element by
 * element, other lists are replaced; directives `$patch` (replace/delete/merge),
 * `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
 */
import { badRequest } from "../status";

/** How a list field merges: by a key field, as a set of primitives, or (absent) replaced. */
export type ListStrategy = { mergeKey: string } | { primitiveSet: true };

/** Lists of a pod spec, relative to the pod spec. */
const POD_SPEC_LISTS: Record<string, ListStrategy> = {
  containers: { mergeKey: "name" },
  initContainers: { mergeKey: "name" },
  ephemeralContainers: { mergeKey: "name" },
  volumes: { mergeKey: "name" },
  imagePullSecrets: { mergeKey: "name" },
  hostAliases: { mergeKey: "ip" },
  topologySpreadConstraints: { mergeKey: "topologyKey" },
  resourceClaims: { mergeKey: "name" },
  schedulingGates: { mergeKey: "name" },
};

/** Lists of a container, relative to the container. */
const CONTAINER_LISTS: Record<string, ListStrategy> = {
  ports: { mergeKey: "containerPort" },
  env: { mergeKey: "name" },
  volumeMounts: { mergeKey: "mountPath" },
  volumeDevices: { mergeKey: "devicePath" },
  resizePolicy: { mergeKey: "resourceName" },
};

/** Where each kind keeps a pod spec. */
const POD_SPEC_ROOT: Record<string, string> = {
  Pod: "spec",
  Deployment: "spec.template.spec",
  ReplicaSet: "spec.template.spec",
  ReplicationController: "spec.template.spec",
};

const CONDITION_KINDS = new Set(["Pod", "Node", "Deployment", "ReplicaSet", "ReplicationController", "Namespace", "Service"]);

/** The patch strategy of the list at `path` (dotted field names, no indices) in `kind`, or undefined (replace). */
export const listStrategy = (kind: string, path: string): ListStrategy | undefined => {
  const meta = /^(?:spec\.template\.)?metadata\.(finalizers|ownerReferences)$/.exec(path);
  if (meta) return meta[1] === "finalizers" ? { primitiveSet: true } : { mergeKey: "uid" };
  if (path === "status.conditions" && CONDITION_KINDS.has(kind)) return { mergeKey: "type" };
  if (kind === "Node" && path === "status.addresses") return { mergeKey: "type" };
  if (kind === "Node" && path === "spec.podCIDRs") return { primitiveSet: true };
  if (kind === "Pod" && (path === "status.podIPs" || path === "status.hostIPs")) return { mergeKey: "ip" };
  if (kind === "Service" && path === "spec.ports") return { mergeKey: "port" };
  const root = POD_SPEC_ROOT[kind];
  if (root && path.startsWith(root + ".")) {
    const rel = path.slice(root.length + 1).split(".");
    if (rel.length === 1) return POD_SPEC_LISTS[rel[0]];
    if (rel.length === 2 && ["containers", "initContainers", "ephemeralContainers"].includes(rel[0])) return CONTAINER_LISTS[rel[1]];
  }
  return undefined;
};

/** The merge key of the list at `path`, if it merges by key. */
export const mergeKeyFor = (kind: string, path: string): string | undefined => {
  const s = listStrategy(kind, path);
  return s && "mergeKey" in s ? s.mergeKey : undefined;
};

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const DELETE = Symbol("delete");

/** A patch value with its directives removed (for values added as a whole). */
const strip = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.filter((e) => !(isObject(e) && e.$patch === "delete" && Object.keys(e).length === 1)).map(strip);
  if (!isObject(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith("$") || k === "__proto__") continue;
    if (x === null) continue;
    out[k] = strip(x);
  }
  return out;
};

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

const mergeKeyedList = (kind: string, path: string, key: string, original: unknown[], patch: unknown[]): unknown[] => {
  if (patch.some((e) => isObject(e) && e.$patch === "replace")) {
    return patch.filter((e) => !(isObject(e) && e.$patch === "replace")).map(strip);
  }
  const out = [...original];
  for (const el of patch) {
    if (!isObject(el) || !(key in el)) {
      if (isObject(el) && el.$patch === "delete") throw badRequest(`a $patch: delete element of ${path} needs its merge key "${key}"`);
      out.push(strip(el));
      continue;
    }
    const idx = out.findIndex((o) => isObject(o) && same(o[key], el[key]));
    if (el.$patch === "delete") {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (el.$patch !== undefined && el.$patch !== "merge" && el.$patch !== "replace") throw badRequest(`unknown patch type: ${String(el.$patch)} in ${path}`);
    if (idx >= 0) {
      const merged = mergeValue(kind, path, out[idx], el);
      if (merged === DELETE) out.splice(idx, 1);
      else out[idx] = merged;
    } else out.push(strip(el));
  }
  return out;
};

const orderBy = (list: unknown[], order: unknown[], key: string | undefined): unknown[] => {
  const id = (v: unknown) => JSON.stringify(key && isObject(v) ? v[key] : v);
  const wanted = order.map(id);
  const pos = new Map(wanted.map((w, i) => [w, i]));
  const inOrder = list.filter((v) => pos.has(id(v))).sort((a, b) => pos.get(id(a))! - pos.get(id(b))!);
  const rest = list.filter((v) => !pos.has(id(v)));
  return [...inOrder, ...rest];
};

const mergeValue = (kind: string, path: string, original: unknown, patch: unknown): unknown | typeof DELETE => {
  if (!isObject(patch)) return structuredClone(patch);
  const directive = patch.$patch;
  if (directive === "delete") return DELETE;
  if (directive === "replace") return strip(patch);
  if (directive !== undefined && directive !== "merge") throw badRequest(`unknown patch type: ${String(directive)} in ${path || "the patch"}`);
  const out: Obj = isObject(original) ? { ...original } : {};
  const at = (k: string) => (path ? `${path}.${k}` : k);
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$") || k === "__proto__") continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      const strategy = listStrategy(kind, at(k));
      const cur = Array.isArray(out[k]) ? (out[k] as unknown[]) : [];
      if (strategy && "mergeKey" in strategy) out[k] = mergeKeyedList(kind, at(k), strategy.mergeKey, cur, v);
      else if (strategy) out[k] = [...cur, ...v.filter((x) => !cur.some((c) => same(c, x)))];
      else out[k] = strip(v);
      continue;
    }
    if (isObject(v)) {
      const merged = mergeValue(kind, at(k), out[k], v);
      if (merged === DELETE) delete out[k];
      else out[k] = merged;
      continue;
    }
    out[k] = v;
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$deleteFromPrimitiveList/")) {
      const field = k.slice("$deleteFromPrimitiveList/".length);
      if (!Array.isArray(v)) throw badRequest(`${k} must be a list`);
      if (Array.isArray(out[field])) {
        out[field] = (out[field] as unknown[]).filter((x) => !v.some((d) => same(d, x)));
        if (!(out[field] as unknown[]).length) delete out[field];
      }
    } else if (k.startsWith("$setElementOrder/")) {
      const field = k.slice("$setElementOrder/".length);
      if (!Array.isArray(v)) throw badRequest(`${k} must be a list`);
      if (Array.isArray(out[field])) {
        const strategy = listStrategy(kind, at(field));
        const key = strategy && "mergeKey" in strategy ? strategy.mergeKey : undefined;
        out[field] = orderBy(out[field] as unknown[], v, key);
      }
    } else if (k === "$retainKeys") {
      if (!Array.isArray(v)) throw badRequest("$retainKeys must be a list");
      for (const key of Object.keys(out)) if (!v.includes(key)) delete out[key];
    } else if (k.startsWith("$") && k !== "$patch") {
      throw badRequest(`unknown strategic merge patch directive ${k}`);
    }
  }
  return out;
};

/** Apply a strategic merge patch to an object of `kind` (neither input is changed). */
export const strategicMergePatch = <T extends object>(original: T, patch: object, kind: string): T => {
  const out = mergeValue(kind, "", structuredClone(original), patch);
  if (out === DELETE) throw badRequest("a strategic merge patch cannot delete the whole object");
  return out as T;
};
