/**
 * The ingress proxy's routing table, pure code: which Ingresses this controller serves
 * (its IngressClass, or the default class), and for a request's host and path the
 * backend Service, as the Ingress API specifies it (networking.k8s.io/v1):
 *
 * - hosts: an exact host; a wildcard `*.example.com` matches exactly one label in front
 *   (`a.example.com`, not `example.com` nor `a.b.example.com`); a rule without a host
 *   matches every host. Exact hosts are tried first, then wildcards, then host-less rules.
 * - paths: `Exact` is the whole path, case-sensitive; `Prefix` is element-wise by `/`
 *   (`/foo` matches `/foo`, `/foo/` and `/foo/bar`, not `/foobar`; a trailing `/` in the
 *   rule is ignored); `ImplementationSpecific` is served as `Prefix`. The longest
 *   matching path wins, and `Exact` over `Prefix` of the same length.
 * - otherwise the default backend (of the oldest Ingress that has one), else none (404).
 */
import type { KObject } from "../../shared/types";

export const KUBEFLARE_INGRESS_CONTROLLER = "kubeflare.dev/ingress";
const IS_DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class";
const CLASS_ANNOTATION = "kubernetes.io/ingress.class";

export interface Backend {
  namespace: string;
  /** the Service's name, or null for a resource backend (which this proxy cannot serve) */
  service: string | null;
  /** a resource backend, as `Kind.apiGroup "name"` (answered 503) */
  resource?: string;
  port: { number?: number; name?: string };
  /** the Ingress it came from (namespace/name), for logs and annotations */
  ingress: string;
  /** ssl-redirect asked for by annotation */
  sslRedirect: boolean;
}

interface PathRule {
  path: string;
  /** Prefix: the path's elements */
  elements: string[];
  exact: boolean;
  backend: Backend;
}

export interface RouteTable {
  exact: Map<string, PathRule[]>;
  wildcard: Map<string, PathRule[]>;
  any: PathRule[];
  defaultBackend: Backend | null;
  /** the TLS Secrets (namespace/name) and the hosts each serves ([] = every host of its Ingress) */
  tls: { secret: string; hosts: string[] }[];
}

/** The classes this controller serves, and whether one of them is the default. */
export const ourClasses = (classes: KObject[], controller = KUBEFLARE_INGRESS_CONTROLLER) => {
  const mine = classes.filter((c) => c.spec?.controller === controller && !c.metadata.deletionTimestamp);
  const defaults = classes.filter((c) => c.metadata.annotations?.[IS_DEFAULT_CLASS] === "true" && !c.metadata.deletionTimestamp);
  return { names: new Set(mine.map((c) => c.metadata.name!)), weAreDefault: defaults.length > 0 && defaults.every((c) => c.spec?.controller === controller) };
};

/** Is this Ingress ours: its class (field, else the deprecated annotation) is one of ours, or it names none and ours is the default? */
export const servedBy = (ing: KObject, classes: ReturnType<typeof ourClasses>): boolean => {
  const named = typeof ing.spec?.ingressClassName === "string" ? ing.spec.ingressClassName : ing.metadata.annotations?.[CLASS_ANNOTATION];
  if (typeof named === "string" && named !== "") return classes.names.has(named);
  return classes.weAreDefault;
};

const trimSlash = (p: string) => p.replace(/\/+$/, "");
const elementsOf = (p: string) => p.split("/").filter((s) => s !== "");

const sslRedirect = (ing: KObject) => {
  const a = ing.metadata.annotations ?? {};
  return a["kubeflare.dev/ssl-redirect"] === "true" || a["nginx.ingress.kubernetes.io/ssl-redirect"] === "true";
};

const backendOf = (ing: KObject, b: any): Backend => ({
  namespace: ing.metadata.namespace ?? "default",
  service: typeof b?.service?.name === "string" ? b.service.name : null,
  ...(b?.resource ? { resource: `${b.resource.kind}${b.resource.apiGroup ? `.${b.resource.apiGroup}` : ""} "${b.resource.name}"` } : {}),
  port: {
    ...(typeof b?.service?.port?.number === "number" ? { number: b.service.port.number } : {}),
    ...(b?.service?.port?.name ? { name: b.service.port.name } : {}),
  },
  ingress: `${ing.metadata.namespace}/${ing.metadata.name}`,
  sslRedirect: sslRedirect(ing),
});

const byAge = (a: KObject, b: KObject) =>
  String(a.metadata.creationTimestamp ?? "").localeCompare(String(b.metadata.creationTimestamp ?? "")) ||
  `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`);

/** Build the table from the Ingresses this controller serves (already filtered), oldest first so the oldest wins ties. */
export const buildRoutes = (ingresses: KObject[]): RouteTable => {
  const t: RouteTable = { exact: new Map(), wildcard: new Map(), any: [], defaultBackend: null, tls: [] };
  for (const ing of [...ingresses].sort(byAge)) {
    if (ing.metadata.deletionTimestamp) continue;
    const spec = ing.spec ?? {};
    if (!t.defaultBackend && spec.defaultBackend) t.defaultBackend = backendOf(ing, spec.defaultBackend);
    for (const rule of Array.isArray(spec.rules) ? spec.rules : []) {
      const host = typeof rule?.host === "string" ? rule.host.toLowerCase() : "";
      const list = host === "" ? t.any : host.startsWith("*.") ? getOr(t.wildcard, host.slice(2)) : getOr(t.exact, host);
      for (const p of Array.isArray(rule?.http?.paths) ? rule.http.paths : []) {
        const path = typeof p?.path === "string" && p.path ? p.path : "/";
        const exact = p?.pathType === "Exact";
        list.push({ path: exact ? path : trimSlash(path), elements: elementsOf(path), exact, backend: backendOf(ing, p.backend) });
      }
    }
    for (const tls of Array.isArray(spec.tls) ? spec.tls : []) {
      if (typeof tls?.secretName !== "string" || !tls.secretName) continue;
      const hosts: string[] = Array.isArray(tls.hosts) ? tls.hosts.filter((h: unknown) => typeof h === "string").map((h: string) => h.toLowerCase()) : [];
      t.tls.push({ secret: `${ing.metadata.namespace}/${tls.secretName}`, hosts });
    }
  }
  return t;
};

const getOr = (m: Map<string, PathRule[]>, k: string) => {
  let v = m.get(k);
  if (!v) m.set(k, (v = []));
  return v;
};

/** Does `rule` match the request path (no query), and how long is the match? -1 when not. */
const matchLength = (rule: PathRule, path: string, reqElements: string[]): number => {
  if (rule.exact) return path === rule.path ? rule.path.length : -1;
  if (rule.elements.length > reqElements.length) return -1;
  for (let i = 0; i < rule.elements.length; i++) if (rule.elements[i] !== reqElements[i]) return -1;
  return rule.path.length;
};

const best = (rules: PathRule[] | undefined, path: string, reqElements: string[]): Backend | null => {
  let found: PathRule | null = null;
  let len = -1;
  for (const r of rules ?? []) {
    const n = matchLength(r, path, reqElements);
    // longer wins; at equal length Exact beats Prefix; at a full tie the first (oldest Ingress) stays
    if (n > len || (n === len && n >= 0 && r.exact && !found?.exact)) {
      found = r;
      len = n;
    }
  }
  return found?.backend ?? null;
};

/** The host of a Host header or an SNI name: lowercased, without port or trailing dot. */
export const normalizeHost = (h: string | undefined): string => {
  let host = (h ?? "").trim().toLowerCase();
  if (host.startsWith("[")) host = host.slice(0, host.indexOf("]") + 1);
  else if (host.includes(":")) host = host.slice(0, host.lastIndexOf(":"));
  return host.replace(/\.$/, "");
};

/** The wildcard domain a host falls under (`a.example.com` -> `example.com`), or "" for a single label. */
const parentOf = (host: string) => {
  const i = host.indexOf(".");
  return i < 0 ? "" : host.slice(i + 1);
};

/** The backend for a request, or null (no rule and no default backend: 404). */
export const route = (t: RouteTable, hostHeader: string | undefined, rawPath: string): Backend | null => {
  const host = normalizeHost(hostHeader);
  const q = rawPath.indexOf("?");
  const path = q < 0 ? rawPath || "/" : rawPath.slice(0, q) || "/";
  const reqElements = elementsOf(path);
  const parent = parentOf(host);
  return (
    best(t.exact.get(host), path, reqElements) ??
    (parent ? best(t.wildcard.get(parent), path, reqElements) : null) ??
    best(t.any, path, reqElements) ??
    t.defaultBackend
  );
};

/** The TLS Secret (namespace/name) for an SNI name: a TLS entry naming the host (exact, then wildcard), else one naming no hosts. */
export const secretForHost = (t: RouteTable, serverName: string | undefined): string | null => {
  const host = normalizeHost(serverName);
  const exact = t.tls.find((e) => e.hosts.includes(host));
  if (exact) return exact.secret;
  const parent = parentOf(host);
  const wild = parent ? t.tls.find((e) => e.hosts.includes(`*.${parent}`)) : undefined;
  if (wild) return wild.secret;
  return t.tls.find((e) => e.hosts.length === 0)?.secret ?? null;
};

/** Every Secret the table needs (namespace/name). */
export const secretsNeeded = (t: RouteTable): Set<string> => new Set(t.tls.map((e) => e.secret));
