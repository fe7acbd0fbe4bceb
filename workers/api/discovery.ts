import { Hono } from "hono";
import { groupVersion, type ResourceInfo, resourceVerbs } from "../../shared/resources";
import { servedGroupVersions, servedResources } from "../registry/kinds";

/** The Kubernetes release whose API and kubectl behaviour Kubeflare follows. */
export const KUBE_MINOR = "32";
export const KUBEFLARE_VERSION = "0.1.0";

export const versionInfo = () => ({
  major: "1",
  minor: KUBE_MINOR,
  gitVersion: `v1.${KUBE_MINOR}.0+kubeflare-${KUBEFLARE_VERSION}`,
  gitCommit: "kubeflare",
  gitTreeState: "clean",
  buildDate: "2026-11-23T00:00:00Z",
  goVersion: "n/a",
  compiler: "n/a",
  platform: "cloudflare-workers/node",
});

const SUBRESOURCE_VERBS: Record<string, string[]> = {
  status: ["get", "patch", "update"],
  scale: ["get", "patch", "update"],
  log: ["get", "create"],
  binding: ["create"],
  eviction: ["create"],
  finalize: ["update"],
};

const subresourceKind = (r: ResourceInfo, sub: string) =>
  sub === "scale"
    ? { group: "autoscaling", version: "v1", kind: "Scale" }
    : sub === "binding"
      ? { group: "", version: "v1", kind: "Binding" }
      : sub === "eviction"
        ? { group: "policy", version: "v1", kind: "Eviction" }
        : sub === "log"
          ? { group: "", version: "v1", kind: "Pod" }
          : { group: r.group, version: r.version, kind: r.kind };

/**
 * Subresources served outside the REST handler, by the agent tunnel (workers/tunnel,
 * node/upgrade.ts): listed as kube-apiserver lists them, with their options kinds.
 */
const STREAM_SUBRESOURCES: Record<string, { sub: string; kind: string; verbs: string[] }[]> = {
  pods: [
    { sub: "attach", kind: "PodAttachOptions", verbs: ["create", "get"] },
    { sub: "exec", kind: "PodExecOptions", verbs: ["create", "get"] },
    { sub: "portforward", kind: "PodPortForwardOptions", verbs: ["create", "get"] },
    { sub: "proxy", kind: "PodProxyOptions", verbs: ["create", "delete", "get", "patch", "update"] },
  ],
  services: [{ sub: "proxy", kind: "ServiceProxyOptions", verbs: ["create", "delete", "get", "patch", "update"] }],
};

/** Every subresource of `r` with the kind and verbs discovery shows. */
const subresourcesOf = (r: ResourceInfo) => [
  ...r.subresources.map((sub) => ({ sub, kind: subresourceKind(r, sub), verbs: SUBRESOURCE_VERBS[sub] ?? ["get"] })),
  ...(r.group === "" ? (STREAM_SUBRESOURCES[r.resource] ?? []) : []).map((x) => ({
    sub: x.sub,
    kind: { group: "", version: "v1", kind: x.kind },
    verbs: x.verbs,
  })),
];

/** Legacy (per group-version) discovery: APIResourceList. */
export const apiResourceList = (group: string, version: string) => {
  const resources: unknown[] = [];
  for (const r of servedResources().filter((x) => x.group === group && x.version === version)) {
    resources.push({
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: resourceVerbs(r),
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
      storageVersionHash: btoa(`${groupVersion(r)}/${r.kind}`).slice(0, 11),
    });
    for (const { sub, kind: k, verbs } of subresourcesOf(r)) {
      resources.push({
        name: `${r.resource}/${sub}`,
        singularName: "",
        namespaced: r.namespaced,
        // another group-version than the resource's: both are named (kubectl drain looks for policy/v1 on pods/eviction)
        ...(k.group !== r.group || k.version !== r.version ? { group: k.group, version: k.version } : {}),
        kind: k.kind,
        verbs,
      });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: group ? `${group}/${version}` : version, resources };
};

const groups = () => {
  const byGroup = new Map<string, string[]>();
  for (const gv of servedGroupVersions()) {
    if (!gv.group) continue;
    byGroup.set(gv.group, [...(byGroup.get(gv.group) ?? []), gv.version]);
  }
  return [...byGroup].map(([name, versions]) => ({
    name,
    versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
  }));
};

/** Aggregated discovery (apidiscovery.k8s.io/v2): one request for a whole tree. */
const AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

const aggregated = (core: boolean) => ({
  kind: "APIGroupDiscoveryList",
  apiVersion: "apidiscovery.k8s.io/v2",
  metadata: {},
  items: (core ? [{ name: "", versions: ["v1"] }] : groups().map((g) => ({ name: g.name, versions: g.versions.map((v) => v.version) }))).map((g) => ({
    metadata: { name: g.name, creationTimestamp: null },
    versions: g.versions.map((version) => ({
      version,
      freshness: "Current",
      resources: servedResources()
        .filter((r) => r.group === g.name && r.version === version)
        .map((r) => ({
          resource: r.resource,
          responseKind: { group: r.group, version: r.version, kind: r.kind },
          scope: r.namespaced ? "Namespaced" : "Cluster",
          singularResource: r.singular,
          verbs: resourceVerbs(r),
          ...(r.shortNames ? { shortNames: r.shortNames } : {}),
          ...(r.categories ? { categories: r.categories } : {}),
          ...(subresourcesOf(r).length
            ? { subresources: subresourcesOf(r).map(({ sub, kind, verbs }) => ({ subresource: sub, responseKind: kind, verbs })) }
            : {}),
        })),
    })),
  })),
});

const wantsAggregated = (accept: string | undefined) =>
  !!accept && accept.split(",")[0].includes("g=apidiscovery.k8s.io") && accept.split(",")[0].includes("v=v2");

const json = (body: unknown, contentType = "application/json") => new Response(JSON.stringify(body), { headers: { "Content-Type": contentType } });

/** /version, /api, /apis and the per-group-version resource lists. */
export const discovery = (reloadAfterMiss: () => Promise<boolean> = async () => false) => {
  const app = new Hono();
  app.get("/version", () => json(versionInfo()));
  app.get("/api", (c) => {
    if (wantsAggregated(c.req.header("Accept"))) return json(aggregated(true), AGGREGATED);
    const host = c.req.header("Host") ?? "";
    return json({
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: host }],
    });
  });
  app.get("/apis", (c) => {
    if (wantsAggregated(c.req.header("Accept"))) return json(aggregated(false), AGGREGATED);
    return json({ kind: "APIGroupList", apiVersion: "v1", groups: groups() });
  });
  app.get("/api/v1", () => json(apiResourceList("", "v1")));
  app.get("/apis/:group", async (c) => {
    const find = () => groups().find((x) => x.name === c.req.param("group"));
    const g = find() ?? ((await reloadAfterMiss()) ? find() : undefined);
    if (!g) return c.notFound();
    return json({ kind: "APIGroup", apiVersion: "v1", ...g });
  });
  app.get("/apis/:group/:version", async (c) => {
    const { group, version } = c.req.param();
    const served = () => servedGroupVersions().some((gv) => gv.group === group && gv.version === version);
    if (!served() && !((await reloadAfterMiss()) && served())) return c.notFound();
    return json(apiResourceList(group, version));
  });
  return app;
};
