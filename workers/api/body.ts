import { ApiError, badRequest, tooLarge, unsupportedMediaType } from "../../shared/status";
import { checkValue, flowDepthOver, goFloat, MAX_DEPTH, scanJsonText, YAML_MAX_FLOW_DEPTH } from "../../shared/validation/limits";
import { formatPath } from "../../shared/validation/typecheck";
import { YAML_MAX_CHARS, yamlDocuments, yamlError } from "../../shared/validation/yaml";

export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Optional decoder for `application/vnd.kubernetes.protobuf` bodies (kubectl's typed client). */
export type ProtobufDecoder = (bytes: Uint8Array) => unknown;

/**
 * Read the raw body, refusing more than `limit` bytes (413): at once when the declared
 * Content-Length is larger, else as soon as the streamed (e.g. chunked) body passes the
 * limit, without reading the rest. Callers authenticate the sender first.
 */
export const readBody = async (req: Request, limit: number): Promise<Uint8Array> => {
  const declared = Number(req.headers.get("Content-Length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
};

/** Bodies of Kubeflare's own small endpoints (join, bootstraptokens): a few hundred bytes of JSON. */
export const SMALL_BODY_BYTES = 16 * 1024;

/** A small JSON body, read within `limit` (413 past it); undefined when empty, 400 when not JSON. */
export const readSmallJson = async (req: Request, limit = SMALL_BODY_BYTES): Promise<unknown> => {
  const text = new TextDecoder().decode(await readBody(req, limit));
  return text.trim() === "" ? undefined : parseJson(text);
};

const mediaType = (contentType: string | null) => (contentType ?? "").split(";")[0].trim().toLowerCase();

/** Decode a JSON, YAML or protobuf object body. */
export const decodeObject = (bytes: Uint8Array, contentType: string | null, protobuf?: ProtobufDecoder): unknown => {
  const type = mediaType(contentType);
  if (type === "application/vnd.kubernetes.protobuf") {
    if (!protobuf) throw unsupportedMediaType(type);
    try {
      return protobuf(bytes);
    } catch (e) {
      throw badRequest(`unable to decode protobuf body: ${(e as Error).message}`);
    }
  }
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") throw badRequest("the request body is empty");
  if (type === "" || type === "application/json" || type === "*/*") return parseJson(text);
  if (type === "application/yaml" || type === "application/x-yaml" || type === "text/yaml" || type === "application/apply-patch+yaml") {
    return parseYamlDoc(text);
  }
  throw unsupportedMediaType(type);
};

/**
 * A JSON body, refused (400) when it nests deeper than MAX_DEPTH (checked on the text,
 * before anything recursive sees it) or holds a number no double can carry (1e999,
 * which JSON.parse would make Infinity and JSON.stringify null).
 */
export const parseJson = (text: string): unknown => {
  const problem = scanJsonText(text);
  if (problem?.kind === "depth") throw badRequest(`the request body is not valid JSON: exceeded max depth of ${MAX_DEPTH}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw badRequest(`the request body is not valid JSON: ${(e as Error).message}`);
  }
  if (problem?.kind === "number") {
    const at = checkValue(value);
    const where = at?.kind === "number" && at.path.length ? ` at ${formatPath(at.path)}` : "";
    throw badRequest(`the request body is not valid JSON: number ${problem.literal}${where} is out of range`);
  }
  return value;
};

/**
 * A YAML body (one document), refused (400) when it nests deeper than MAX_DEPTH (or
 * than the YAML parser manages: it recurses, and a stack overflow is a 400 too), sets a
 * key twice in one mapping, or holds .inf or .nan, which JSON cannot carry
 * (kube-apiserver converts YAML to JSON: "json: unsupported value: +Inf"). JSON, which
 * is YAML too and what kubectl sends as apply-patch+yaml, is parsed natively; other YAML
 * longer than YAML_MAX_CHARS is refused (413), as the parser would hold the event loop
 * for seconds.
 */
export const parseYamlDoc = (text: string): unknown => {
  let value: unknown;
  try {
    value = /^\s*\{/.test(text) ? JSON.parse(text) : NOT_JSON;
  } catch {
    value = NOT_JSON; // YAML's flow mappings are not all JSON
  }
  if (value === NOT_JSON) value = parseYamlText(text);
  const problem = checkValue(value);
  if (problem?.kind === "depth") throw badRequest(`the request body is not valid YAML: exceeded max depth of ${MAX_DEPTH}`);
  if (problem?.kind === "number") {
    const where = problem.path.length ? `${formatPath(problem.path)}: ` : "";
    throw badRequest(`the request body is not valid YAML: ${where}json: unsupported value: ${goFloat(problem.value!)}`);
  }
  return value;
};

const NOT_JSON = Symbol("not JSON");

const parseYamlText = (text: string): unknown => {
  if (text.length > YAML_MAX_CHARS) {
    throw new ApiError(
      413,
      "RequestEntityTooLarge",
      `a YAML request body is limited to ${YAML_MAX_CHARS} characters (this one has ${text.length}): send it as JSON`,
    );
  }
  if (flowDepthOver(text)) throw badRequest(`the request body is not valid YAML: exceeded max depth of ${YAML_MAX_FLOW_DEPTH} (flow collections)`);
  try {
    const docs = yamlDocuments(text);
    const real = docs.filter((d) => d.contents !== null);
    if (real.length > 1) throw badRequest("the request body must hold one YAML document");
    for (const d of docs) {
      const problem = yamlError(d, text);
      if (problem) throw badRequest(`the request body is not valid YAML: ${problem}`);
    }
    return real[0]?.toJS({ maxAliasCount: 100 }) ?? null;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw badRequest(`the request body is not valid YAML: ${(e as Error).message}`);
  }
};

/** The patch type named by a PATCH request's Content-Type. */
export const patchTypeOf = (contentType: string | null): "json" | "merge" | "strategic" | "apply" => {
  switch (mediaType(contentType)) {
    case "application/json-patch+json":
      return "json";
    case "application/merge-patch+json":
      return "merge";
    case "application/strategic-merge-patch+json":
      return "strategic";
    case "application/apply-patch+yaml":
      return "apply";
    default:
      throw new ApiError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got "${mediaType(contentType)}")`,
      );
  }
};
