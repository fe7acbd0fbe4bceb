/**
 * OpenAPI v3 documents (`/openapi/v3` and one per group-version), generated from the
 * same schemas that validate requests. kubectl reads them for `explain`, and for
 * `--validate=strict` it only checks that write operations take `fieldValidation`,
 * then leaves validation to the server.
 */
import { Hono } from "hono";
import { fnv1a } from "../../shared/hash";
import { groupVersion, type ResourceInfo } from "../../shared/resources";
import { kindOf, servedGroupVersions, servedResources } from "../registry/kinds";
import { customKindsSignature } from "../registry/crd/catalog";
import { customOpenApiSchemas, customSchemaName } from "../registry/crd/openapi";
import { openApiSchemas } from "../../shared/validation";
import { KUBEFLARE_VERSION } from "./discovery";
import { openApiV2Response } from "./openapiv2";

type Json = Record<string, unknown>;

const param = (name: string, description: string, where: "query" | "path" = "query", type = "string"): Json => ({
  name,
  in: where,
  description,
  ...(where === "path" ? { required: true } : {}),
  schema: { type, uniqueItems: true },
});

const WRITE_PARAMS = [
  param("dryRun", "When present, the change is validated but not persisted; the only valid value is All."),
  param("fieldManager", "Name of the actor making the change, recorded for server-side apply."),
  param("fieldValidation", "How unknown or duplicate fields in the body are treated: Ignore, Warn (the default) or Strict."),
];
const LIST_PARAMS = [
  param("labelSelector", "Only return objects whose labels match this selector."),
  param("fieldSelector", "Only return objects whose fields match this selector."),
  param("limit", "Most objects to return in one page.", "query", "integer"),
  param("continue", "Token from a previous page, to fetch the next one."),
  param("resourceVersion", "Serve from this revision (lists) or watch for changes after it."),
  param("resourceVersionMatch", "How resourceVersion applies to a list: Exact or NotOlderThan."),
  param("watch", "Stream changes (ADDED, MODIFIED, DELETED) instead of listing.", "query", "boolean"),
  param("allowWatchBookmarks", "Ask for BOOKMARK events on a watch.", "query", "boolean"),
  param("timeoutSeconds", "End a list or watch call after this many seconds.", "query", "integer"),
];
const DELETE_PARAMS = [
  param("dryRun", "When present, nothing is deleted; the only valid value is All."),
  param("gracePeriodSeconds", "Seconds before the object is deleted; 0 deletes at once.", "query", "integer"),
  param("propagationPolicy", "What happens to dependents: Orphan, Background or Foreground."),
];

const schemaName = (info: ResourceInfo) =>
  kindOf(info).strategy.custom
    ? customSchemaName(info)
    : info.group === "apiextensions.k8s.io"
      ? `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.${info.kind}`
      : info.group === ""
        ? `io.k8s.api.core.v1.${info.kind}`
        : info.group === "apps"
          ? `io.k8s.api.apps.v1.${info.kind}`
          : `io.k8s.api.${info.group.split(".")[0]}.v1.${info.kind}`;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const body = (name: string) => ({ required: true, content: { "application/json": { schema: ref(name) }, "application/yaml": { schema: ref(name) } } });
const ok = (name: string, code = "200") => ({
  [code]: { description: "OK", content: { "application/json": { schema: ref(name) }, "application/yaml": { schema: ref(name) } } },
});

const op = (info: ResourceInfo, action: string, id: string, extra: Json): Json => ({
  description: `${action} ${info.kind}`,
  operationId: `${action}${id}`,
  tags: [groupVersion(info).replace("/", "_")],
  "x-kubernetes-action": action,
  "x-kubernetes-group-version-kind": { group: info.group, version: info.version, kind: info.kind },
  ...extra,
});

/** The paths of one resource: collection and item, namespaced and (for lists) across namespaces. */
const resourcePaths = (info: ResourceInfo): Record<string, Json> => {
  const gvPrefix = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  const kind = schemaName(info);
  const listKind = `${kind}List`;
  const id = info.kind;
  const nsParams = info.namespaced ? [param("namespace", "object name and auth scope, such as for teams and projects", "path")] : [];
  const base = info.namespaced ? `${gvPrefix}/namespaces/{namespace}/${info.resource}` : `${gvPrefix}/${info.resource}`;
  const paths: Record<string, Json> = {
    [base]: {
      parameters: nsParams,
      get: op(info, "list", id, { parameters: LIST_PARAMS, responses: ok(listKind) }),
      post: op(info, "post", id, { parameters: WRITE_PARAMS, requestBody: body(kind), responses: { ...ok(kind), ...ok(kind, "201"), ...ok(kind, "202") } }),
      delete: op(info, "deletecollection", id, {
        parameters: [...LIST_PARAMS, ...DELETE_PARAMS],
        responses: ok("io.k8s.apimachinery.pkg.apis.meta.v1.Status"),
      }),
    },
    [`${base}/{name}`]: {
      parameters: [param("name", `name of the ${info.kind}`, "path"), ...nsParams],
      get: op(info, "get", id, { responses: ok(kind) }),
      put: op(info, "put", id, { parameters: WRITE_PARAMS, requestBody: body(kind), responses: { ...ok(kind), ...ok(kind, "201") } }),
      patch: op(info, "patch", id, {
        parameters: [...WRITE_PARAMS, param("force", "Take over fields owned by other managers (server-side apply).", "query", "boolean")],
        requestBody: {
          required: true,
          content: Object.fromEntries(
            ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"].map(
              (t) => [t, { schema: ref("io.k8s.apimachinery.pkg.apis.meta.v1.Patch") }],
            ),
          ),
        },
        responses: { ...ok(kind), ...ok(kind, "201") },
      }),
      delete: op(info, "delete", id, {
        parameters: DELETE_PARAMS,
        responses: { ...ok("io.k8s.apimachinery.pkg.apis.meta.v1.Status"), ...ok("io.k8s.apimachinery.pkg.apis.meta.v1.Status", "202") },
      }),
    },
  };
  if (info.namespaced) {
    paths[`${gvPrefix}/${info.resource}`] = { get: op(info, "list", `${id}ForAllNamespaces`, { parameters: LIST_PARAMS, responses: ok(listKind) }) };
  }
  for (const sub of info.subresources) {
    if (sub !== "status" && sub !== "scale") continue;
    const subKind = sub === "scale" ? "io.k8s.api.autoscaling.v1.Scale" : kind;
    const item: Json = { parameters: [param("name", `name of the ${info.kind}`, "path"), ...nsParams] };
    for (const [method, action] of [
      ["get", "get"],
      ["put", "put"],
      ["patch", "patch"],
    ] as const) {
      item[method] = {
        ...op(info, action, `${id}${sub[0].toUpperCase()}${sub.slice(1)}`, {
          parameters: method === "get" ? [] : WRITE_PARAMS,
          responses: ok(subKind),
        }),
        ...(sub === "scale" ? { "x-kubernetes-group-version-kind": { group: "autoscaling", version: "v1", kind: "Scale" } } : {}),
      };
    }
    paths[`${base}/{name}/${sub}`] = item;
  }
  return paths;
};

/** A list schema for each served kind (kubectl explain podlist, clients' codegen). */
const listSchemas = (): Record<string, Json> =>
  Object.fromEntries(
    servedResources().map((info) => [
      `${schemaName(info)}List`,
      {
        description: `A list of ${info.kind} objects.`,
        type: "object",
        required: ["items"],
        properties: {
          apiVersion: { type: "string", description: "The versioned schema of this representation of an object." },
          kind: { type: "string", description: "The REST resource this object represents." },
          metadata: { allOf: [ref("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")], default: {}, description: "Standard list metadata." },
          items: { type: "array", description: `The ${info.resource}.`, items: { allOf: [ref(schemaName(info))], default: {} } },
        },
        "x-kubernetes-group-version-kind": [{ group: info.group, kind: info.listKind, version: info.version }],
      },
    ]),
  );

const COMMON_SCHEMAS: Record<string, Json> = {
  "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta": {
    description: "Metadata of a list: the revision it was read at and the token for the next page.",
    type: "object",
    properties: {
      resourceVersion: { type: "string", description: "The revision the list was read at." },
      continue: { type: "string", description: "Pass as `continue` to fetch the next page." },
      remainingItemCount: { type: "integer", format: "int64", description: "Objects left after this page, when known." },
    },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.Patch": { description: "A patch body; its format follows the request's Content-Type.", type: "object" },
  "io.k8s.apimachinery.pkg.apis.meta.v1.Status": {
    description: "The outcome of an operation that returns no object, and every error.",
    type: "object",
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      status: { type: "string", description: "Success or Failure." },
      message: { type: "string", description: "What happened, for humans." },
      reason: { type: "string", description: "Why it failed, for machines (NotFound, Conflict, Invalid, ...)." },
      code: { type: "integer", format: "int32", description: "The HTTP status code." },
      details: { type: "object", description: "More about the failure, such as the fields at fault." },
    },
    "x-kubernetes-group-version-kind": [{ group: "", kind: "Status", version: "v1" }],
  },
};

/** FNV-1a over the document, as the cache-busting hash kubectl passes back. */
const hash = (s: string) => fnv1a(s).toString(16).toUpperCase().padStart(8, "0");

interface Doc {
  path: string;
  text: string;
  hash: string;
}

let cache: Map<string, Doc> | undefined;
let cachedFor = "";

/** The per-group-version documents, keyed "api/v1", "apis/apps/v1", ... (built once, and again when the served CRDs change). */
const documents = (): Map<string, Doc> => {
  if (cache && cachedFor === customKindsSignature()) return cache;
  cachedFor = customKindsSignature();
  const schemas = { ...openApiSchemas(), ...customOpenApiSchemas(), ...listSchemas(), ...COMMON_SCHEMAS };
  cache = new Map();
  const gvs = [...servedGroupVersions(), { group: "autoscaling", version: "v1" }];
  for (const gv of gvs) {
    const key = gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
    const paths: Record<string, Json> = {};
    for (const info of servedResources().filter((r) => r.group === gv.group && r.version === gv.version)) Object.assign(paths, resourcePaths(info));
    const doc = {
      openapi: "3.0.0",
      info: { title: "Kubeflare", version: `v${KUBEFLARE_VERSION}` },
      paths,
      components: { schemas },
    };
    const text = JSON.stringify(doc);
    cache.set(key, { path: key, text, hash: hash(text) });
  }
  return cache;
};

export const openapi = () => {
  const app = new Hono();
  app.get("/openapi/v2", (c) => openApiV2Response(c.req.raw));
  app.get("/openapi/v3", () => {
    const paths = Object.fromEntries([...documents().values()].map((d) => [d.path, { serverRelativeURL: `/openapi/v3/${d.path}?hash=${d.hash}` }]));
    return new Response(JSON.stringify({ paths }), { headers: { "Content-Type": "application/json" } });
  });
  app.get("/openapi/v3/*", (c) => {
    const key = c.req.path.slice("/openapi/v3/".length);
    const doc = documents().get(key);
    if (!doc) return c.notFound();
    const immutable = c.req.query("hash") === doc.hash;
    return new Response(doc.text, {
      headers: {
        "Content-Type": "application/json",
        ETag: `"${doc.hash}"`,
        "Cache-Control": immutable ? "public, immutable" : "no-cache, private",
      },
    });
  });
  return app;
};
