/**
 * The dynamic layer of the catalog: the kinds of established CustomResourceDefinitions,
 * kept per isolate (per process on Node) and read by kinds/index.ts's lookups.
 *
 * Freshness, without a database read per request in the steady state:
 *  - a write of a CRD through this registry reloads the layer at once (registry.enqueue),
 *    so the server (Node) or isolate (Worker) that took the write serves the new
 *    resource on the next request;
 *  - a request runs `refreshCustomKinds(store, maxAge)` first (workers/api/app.ts, the
 *    Worker's runtime): it reads the CRDs only when the layer is older than `maxAge`
 *    (5 s), i.e. at most one read per isolate per 5 s, however many requests;
 *  - a lookup that misses (a path or kind nobody serves here) reloads once more, at most
 *    every MISS_RELOAD_MS, so another isolate serves a CRD created elsewhere at once.
 */
import type { KObject } from "../../../shared/types";
import type { Store } from "../../store/store";
import type { Kind } from "../kinds/kind";
import { CRD_RESOURCE, customKindsOf, isEstablished } from "./kind";

/** the custom kinds by plural resource name; the storage version first */
let byResource = new Map<string, Kind[]>();
/** the CRDs the layer was built from, by name (to upsert one without a read) */
let crds = new Map<string, KObject>();
let loadedAt = Number.NEGATIVE_INFINITY;
/** changes whenever a served CRD does (what the OpenAPI documents are cached under) */
let signature = "";
let missAt = Number.NEGATIVE_INFINITY;
const listeners: (() => void)[] = [];

export const DEFAULT_MAX_AGE_MS = 5000;
const MISS_RELOAD_MS = 1000;

/** Called whenever the layer changes (kinds/index.ts rebuilds RESOURCES and GROUP_VERSIONS). */
export const onCustomKindsChange = (f: () => void) => listeners.push(f);

/** A string that changes whenever the served CRDs do. */
export const customKindsSignature = () => signature;

/** Every custom kind (each served version of each established CRD). */
export const customKinds = (): Kind[] => [...byResource.values()].flat();

/** The custom kind served as `resource` (in `version` when given: else the storage version's). */
export const customKind = (resource: string, version?: string): Kind | undefined => {
  const ks = byResource.get(resource);
  if (!ks) return undefined;
  return (version ? ks.find((k) => k.info.version === version) : undefined) ?? ks[0];
};

/** Names a static kind takes (a CRD may not take them: NamesAccepted False). */
let staticNames = new Set<string>();
export const setStaticResources = (names: string[]) => {
  staticNames = new Set(names);
};
export const isStaticResource = (plural: string) => staticNames.has(plural);

const rebuild = () => {
  const next = new Map<string, Kind[]>();
  for (const crd of crds.values()) {
    if (!isEstablished(crd)) continue;
    for (const k of customKindsOf(crd)) {
      if (staticNames.has(k.info.resource)) continue;
      const list = next.get(k.info.resource) ?? [];
      // one group per plural: the first CRD (by name) keeps it
      if (list.length && list[0].info.group !== k.info.group) continue;
      list.push(k);
      next.set(k.info.resource, list);
    }
  }
  byResource = next;
  const sig = [...crds.values()].map((c) => `${c.metadata.name}@${c.metadata.resourceVersion}`).join(",");
  if (sig === signature) return;
  signature = sig;
  for (const f of listeners) f();
};

/** Replace the layer with these CRDs (as read from the store). */
export const setCustomResourceDefinitions = (list: KObject[], now = Date.now()) => {
  crds = new Map(
    list
      .filter((c) => c.metadata?.name)
      .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1))
      .map((c) => [c.metadata.name!, c]),
  );
  loadedAt = now;
  rebuild();
};

/** Upsert (or, `deleted`, drop) one CRD without reading the store: a write seen by this isolate. */
export const rememberCustomResourceDefinition = (crd: KObject, deleted = false) => {
  if (deleted) crds.delete(crd.metadata.name!);
  else crds.set(crd.metadata.name!, crd);
  crds = new Map([...crds.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  rebuild();
};

/** Reload the layer from the store when it is older than `maxAgeMs` (0: now). */
export const refreshCustomKinds = async (store: Store, maxAgeMs = DEFAULT_MAX_AGE_MS, now = Date.now()): Promise<void> => {
  if (now - loadedAt < maxAgeMs) return;
  loadedAt = now;
  try {
    const res = await store.list(CRD_RESOURCE, {});
    setCustomResourceDefinitions(res.items, now);
  } catch (e) {
    // keep serving what is known; try again next time
    loadedAt = Number.NEGATIVE_INFINITY;
    console.error("custom resource catalog reload failed:", (e as Error).message);
  }
};

/** After a lookup missed: reload, at most every MISS_RELOAD_MS. Resolves to whether it reloaded. */
export const refreshAfterMiss = async (store: Store, now = Date.now()): Promise<boolean> => {
  if (now - missAt < MISS_RELOAD_MS) return false;
  missAt = now;
  await refreshCustomKinds(store, 0, now);
  return true;
};

/** Kubernetes' version priority (v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > other, others alphabetically): negative when `a` comes first. */
export const compareKubeVersions = (a: string, b: string): number => {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    return [m[2] === "alpha" ? 1 : m[2] === "beta" ? 2 : 3, Number(m[1]), Number(m[3] ?? 0)];
  };
  const [pa, pb] = [parse(a), parse(b)];
  if (pa[0] === 0 && pb[0] === 0) return a < b ? -1 : a > b ? 1 : 0;
  if (pa[0] !== pb[0]) return pb[0] - pa[0];
  if (pa[1] !== pb[1]) return pb[1] - pa[1];
  return pb[2] - pa[2];
};
