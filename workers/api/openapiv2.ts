/**
 * `/openapi/v2`: the served kinds' definitions as a Swagger 2.0 document, in JSON or in
 * the protobuf encoding client-go asks for (gnostic's openapi_v2.Document, media type
 * `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`).
 *
 * Who reads it: kubectl's client-side schema validation falls back to it for any kind the
 * OpenAPI v3 documents don't describe (`kubectl apply` of a kind Kubeflare doesn't
 * serve), and with it kubectl says `no matches for kind "Job" in version "batch/v1"`
 * instead of a 404; kubectl ≤ 1.29's validation and `explain
 * --output=plaintext-openapiv2`, and other tools that validate against v2 (Helm).
 *
 * The document carries the definitions (the same schemas that validate requests, as
 * v3 publishes them, with `#/definitions/` references) and no paths: the operations
 * are in the v3 documents, and nothing that reads v2 here needs them.
 */
import { Writer } from "protobufjs/minimal.js";
import { stringify } from "yaml";
import { fnv1a } from "../../shared/hash";
import { openApiSchemas } from "../../shared/validation";
import { REF_PREFIX } from "../../shared/validation/schema/openapi";
import { KUBEFLARE_VERSION } from "./discovery";
import { customKindsSignature } from "../registry/crd/catalog";
import { customOpenApiSchemas } from "../registry/crd/openapi";

type Json = Record<string, any>;

/**
 * client-go's Accept for the protobuf form, and the type the answer says (kube-openapi
 * answers with the dotted spelling: Go's mime parser refuses the `@` one in a Content-Type)
 */
export const OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
const PROTOBUF_ALIASES = ["application/com.github.proto-openapi.spec.v2@v1.0+protobuf", OPENAPI_V2_PROTOBUF];

const V2_REF_PREFIX = "#/definitions/";

/** v3 component schema → v2 definition: references point into `definitions`. */
const toV2 = (s: unknown): unknown => {
  if (Array.isArray(s)) return s.map(toV2);
  if (!s || typeof s !== "object") return s;
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    // v3 wraps a described reference in allOf; v2 (as kube-apiserver publishes it) puts $ref beside the description
    if (k === "allOf" && Array.isArray(v) && v.length === 1 && typeof v[0]?.$ref === "string" && Object.keys(v[0]).length === 1)
      out.$ref = v[0].$ref.replace(REF_PREFIX, V2_REF_PREFIX);
    else out[k] = k === "$ref" && typeof v === "string" ? v.replace(REF_PREFIX, V2_REF_PREFIX) : toV2(v);
  }
  return out;
};

/** The Swagger 2.0 document (JSON form). */
export const swaggerDocument = (): Json => ({
  swagger: "2.0",
  info: { title: "Kubeflare", version: `v${KUBEFLARE_VERSION}` },
  paths: {},
  definitions: Object.fromEntries(
    Object.entries({ ...openApiSchemas(), ...customOpenApiSchemas() })
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, schema]) => [name, toV2(schema)]),
  ),
});

// ---------------------------------------------------------------- protobuf (gnostic openapi_v2)
// Field numbers of gnostic's OpenAPIv2.proto: Document{swagger 1, info 2, paths 8,
// definitions 9}; Info{title 1, version 2}; Definitions/Properties{additional_properties 1:
// NamedSchema{name 1, value 2}}; Any{yaml 2}; NamedAny{name 1, value 2}; Schema below.

const message = (w: Writer, field: number, body: (w: Writer) => void) => {
  w.uint32((field << 3) | 2).fork();
  body(w);
  w.ldelim();
};
const str = (w: Writer, field: number, v: unknown) => {
  if (typeof v === "string" && v !== "") w.uint32((field << 3) | 2).string(v);
};
const int64 = (w: Writer, field: number, v: unknown) => {
  if (typeof v === "number") w.uint32(field << 3).int64(v);
};
const double = (w: Writer, field: number, v: unknown) => {
  if (typeof v === "number") w.uint32((field << 3) | 1).double(v);
};
const bool = (w: Writer, field: number, v: unknown) => {
  if (v === true) w.uint32(field << 3).bool(true);
};
/** gnostic's Any: a value as YAML text */
const any = (w: Writer, field: number, v: unknown) => message(w, field, (m) => str(m, 2, stringify(v).trimEnd()));

const SCHEMA_FIELDS = new Set([
  "$ref",
  "format",
  "title",
  "description",
  "default",
  "maximum",
  "minimum",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "uniqueItems",
  "required",
  "enum",
  "additionalProperties",
  "type",
  "items",
  "allOf",
  "properties",
]);

const schema = (w: Writer, s: Json) => {
  str(w, 1, s.$ref);
  str(w, 2, s.format);
  str(w, 3, s.title);
  str(w, 4, s.description);
  if (s.default !== undefined) any(w, 5, s.default);
  double(w, 7, s.maximum);
  double(w, 9, s.minimum);
  int64(w, 11, s.maxLength);
  int64(w, 12, s.minLength);
  str(w, 13, s.pattern);
  int64(w, 14, s.maxItems);
  int64(w, 15, s.minItems);
  bool(w, 16, s.uniqueItems);
  for (const r of s.required ?? []) str(w, 19, r);
  for (const e of s.enum ?? []) any(w, 20, e);
  if (s.additionalProperties !== undefined)
    message(w, 21, (m) => {
      if (typeof s.additionalProperties === "boolean") m.uint32(2 << 3).bool(s.additionalProperties);
      else message(m, 1, (n) => schema(n, s.additionalProperties));
    });
  if (s.type !== undefined) message(w, 22, (m) => (Array.isArray(s.type) ? s.type : [s.type]).forEach((t: string) => str(m, 1, t)));
  if (s.items !== undefined) message(w, 23, (m) => message(m, 1, (n) => schema(n, s.items)));
  for (const a of s.allOf ?? []) message(w, 24, (m) => schema(m, a));
  if (s.properties)
    message(w, 25, (m) => {
      for (const [name, p] of Object.entries(s.properties))
        message(m, 1, (n) => {
          str(n, 1, name);
          message(n, 2, (o) => schema(o, p as Json));
        });
    });
  for (const [k, v] of Object.entries(s))
    if (k.startsWith("x-") && !SCHEMA_FIELDS.has(k))
      message(w, 31, (m) => {
        str(m, 1, k);
        any(m, 2, v);
      });
};

/** The document in gnostic's protobuf encoding. */
export const swaggerProtobuf = (doc: Json): Uint8Array => {
  // the plain Writer, not Writer.create()'s Buffer one: workerd's Buffer utf8Write differs from Node's
  const w = new Writer();
  str(w, 1, doc.swagger);
  message(w, 2, (m) => {
    str(m, 1, doc.info.title);
    str(m, 2, doc.info.version);
  });
  message(w, 8, () => {});
  message(w, 9, (m) => {
    for (const [name, s] of Object.entries(doc.definitions))
      message(m, 1, (n) => {
        str(n, 1, name);
        message(n, 2, (o) => schema(o, s as Json));
      });
  });
  return w.finish();
};

let cached: { json: string; protobuf: Uint8Array; etag: string; signature: string } | undefined;

/** Both forms, built once per process, and again when the served CRDs change. */
const forms = () => {
  if (!cached || cached.signature !== customKindsSignature()) {
    const doc = swaggerDocument();
    const json = JSON.stringify(doc);
    cached = { signature: customKindsSignature(), json, protobuf: swaggerProtobuf(doc), etag: `"${fnv1a(json).toString(16).toUpperCase().padStart(8, "0")}"` };
  }
  return cached;
};

/** GET /openapi/v2: protobuf when the Accept header asks for it, else JSON; 304 for a matching If-None-Match. */
export const openApiV2Response = (req: Request): Response => {
  const f = forms();
  const accept = req.headers.get("Accept") ?? "";
  const protobuf = PROTOBUF_ALIASES.some((t) => accept.includes(t));
  const headers = {
    "Content-Type": protobuf ? OPENAPI_V2_PROTOBUF : "application/json",
    ETag: f.etag,
    Vary: "Accept",
    "Cache-Control": "no-cache, private",
  };
  if (req.headers.get("If-None-Match") === f.etag) return new Response(null, { status: 304, headers });
  return new Response(protobuf ? (f.protobuf as Uint8Array<ArrayBuffer>) : f.json, { headers });
};
