/**
 * autoscaling/v1 HorizontalPodAutoscalers, served by conversion: each request under
 * /apis/autoscaling/v1/.../horizontalpodautoscalers is answered by the stored version's
 * handler (autoscaling/v2, through the same app, so authentication, authorization,
 * validation and admission are the same), with bodies and answers converted by
 * shared/hpa-convert.ts: objects, lists, watch events and the status subresource. A
 * PATCH is applied to the v1 form, as kube-apiserver does, then written as v2. The
 * group-version is added to discovery here (autoscaling: v2 preferred, then v1).
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import { hpaToV1, hpaToV2 } from "../../shared/hpa-convert";
import { ApiError, badRequest } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { applyPatch } from "../registry/patch";
import { DEFAULT_MAX_BODY_BYTES, decodeObject, type ProtobufDecoder, parseJson, patchTypeOf, readBody } from "./body";

const V1 = "/apis/autoscaling/v1";
const V2 = "/apis/autoscaling/v2";
const RESOURCE = "horizontalpodautoscalers";

const json = (body: unknown, status = 200, headers?: Headers) => {
  const h = new Headers(headers);
  h.set("Content-Type", "application/json");
  h.delete("Content-Length");
  return new Response(JSON.stringify(body), { status, headers: h });
};

const status = (e: ApiError) => json(e.toStatus(), e.code);

const resourceList = {
  kind: "APIResourceList",
  apiVersion: "v1",
  groupVersion: "autoscaling/v1",
  resources: [
    {
      name: RESOURCE,
      singularName: "horizontalpodautoscaler",
      namespaced: true,
      kind: "HorizontalPodAutoscaler",
      verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
      shortNames: ["hpa"],
      categories: ["all"],
    },
    { name: `${RESOURCE}/status`, singularName: "", namespaced: true, kind: "HorizontalPodAutoscaler", verbs: ["get", "patch", "update"] },
  ],
};

/** v2 answers as v1: objects, lists (of objects), anything else as is */
const toV1 = (body: any): any => {
  if (body?.kind === "HorizontalPodAutoscaler") return hpaToV1(body);
  if (body?.kind === "HorizontalPodAutoscalerList") return { ...body, apiVersion: "autoscaling/v1", items: (body.items ?? []).map(hpaToV1) };
  return body;
};

/** Add autoscaling/v1 to the autoscaling group of a /apis answer. */
const withV1 = async (res: Response): Promise<Response> => {
  if (res.status !== 200) return res;
  const body = (await res
    .clone()
    .json()
    .catch(() => null)) as any;
  if (body?.kind === "APIGroupList") {
    const g = body.groups?.find((x: any) => x.name === "autoscaling");
    if (!g || g.versions.some((v: any) => v.version === "v1")) return res;
    g.versions.push({ groupVersion: "autoscaling/v1", version: "v1" });
  } else if (body?.kind === "APIGroupDiscoveryList") {
    const g = body.items?.find((x: any) => x.metadata?.name === "autoscaling");
    if (!g || g.versions.some((v: any) => v.version === "v1")) return res;
    const v2 = g.versions.find((v: any) => v.version === "v2");
    const hpa = v2?.resources?.find((r: any) => r.resource === RESOURCE);
    if (!hpa) return res;
    g.versions.push({ version: "v1", freshness: "Current", resources: [{ ...hpa, responseKind: { ...hpa.responseKind, version: "v1" } }] });
  } else if (body?.kind === "APIGroup" && body.name === "autoscaling") {
    if (!body.versions.some((v: any) => v.version === "v1")) body.versions.push({ groupVersion: "autoscaling/v1", version: "v1" });
  } else return res;
  const headers = new Headers(res.headers);
  headers.delete("Content-Length");
  // the answer's own media type (aggregated discovery has its own)
  return new Response(JSON.stringify(body), { status: 200, headers });
};

/** A watch stream's events, converted line by line. */
const convertStream = (body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> => {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let buffered = "";
  const line = (l: string) => {
    if (!l.trim()) return `${l}\n`;
    try {
      const e = JSON.parse(l);
      return `${JSON.stringify({ ...e, object: toV1(e.object) })}\n`;
    } catch {
      return `${l}\n`;
    }
  };
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctrl) {
        buffered += decoder.decode(chunk, { stream: true });
        let i = buffered.indexOf("\n");
        while (i >= 0) {
          ctrl.enqueue(encoder.encode(line(buffered.slice(0, i))));
          buffered = buffered.slice(i + 1);
          i = buffered.indexOf("\n");
        }
      },
      flush(ctrl) {
        if (buffered) ctrl.enqueue(encoder.encode(line(buffered).trimEnd()));
      },
    }),
  );
};

/** Serve autoscaling/v1 through `app`'s autoscaling/v2 handlers. */
export const autoscalingV1 = (app: () => Hono<any>, maxBodyBytes = DEFAULT_MAX_BODY_BYTES, protobuf?: ProtobufDecoder): MiddlewareHandler => {
  return async (c: Context, next) => {
    const path = c.req.path;
    if (path === "/apis" || path === "/apis/autoscaling") {
      await next();
      if (c.req.method === "GET") c.res = await withV1(c.res);
      return;
    }
    if (path !== V1 && !path.startsWith(`${V1}/`)) return next();
    if (path === V1 || path === `${V1}/`) return json(resourceList);
    const segs = path.slice(V1.length + 1).split("/");
    const i = segs[0] === "namespaces" ? 2 : 0;
    if (segs[i] !== RESOURCE || segs.length > i + 3 || (segs.length === i + 3 && segs[i + 2] !== "status"))
      return status(new ApiError(404, "NotFound", "the server could not find the requested resource"));
    const url = new URL(c.req.url);
    const v2url = (p = path) => `${url.origin}${V2}${p.slice(V1.length)}${url.search}`;
    const headers = new Headers(c.req.raw.headers);
    // answers in JSON (a Table as asked): they are converted
    if (!(headers.get("Accept") ?? "").includes("as=Table")) headers.set("Accept", "application/json");
    headers.delete("Content-Length");
    const call = (method: string, u: string, body?: unknown) => {
      const h = new Headers(headers);
      if (body !== undefined) h.set("Content-Type", "application/json");
      return app().fetch(new Request(u, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) }), c.env);
    };
    const answer = async (res: Response) => {
      const type = res.headers.get("Content-Type") ?? "";
      if (!type.includes("json") || !res.body) return res;
      if (c.req.query("watch") === "true" || c.req.query("watch") === "1") {
        return new Response(convertStream(res.body), { status: res.status, headers: res.headers });
      }
      const body = await res.json().catch(() => undefined);
      return json(toV1(body), res.status, res.headers);
    };
    const method = c.req.method;
    try {
      if (method === "GET" || method === "DELETE" || method === "HEAD") {
        const raw = method === "DELETE" ? new Uint8Array(await readBody(c.req.raw, maxBodyBytes)) : undefined;
        const h = new Headers(headers);
        return answer(await app().fetch(new Request(v2url(), { method, headers: h, body: raw?.length ? raw : undefined }), c.env));
      }
      const bytes = await readBody(c.req.raw, maxBodyBytes);
      const contentType = c.req.header("Content-Type") ?? null;
      // a patch is JSON; an object may come as JSON, YAML or protobuf (kubectl autoscale)
      const body: any = method === "PATCH" ? parseJson(new TextDecoder().decode(bytes)) : decodeObject(bytes, contentType, protobuf);
      if (method === "POST" || method === "PUT") {
        if (body?.apiVersion !== undefined && body.apiVersion !== "autoscaling/v1")
          throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (autoscaling/v1)`);
        return answer(await call(method, v2url(), body && typeof body === "object" ? hpaToV2(body) : body));
      }
      if (method === "PATCH") {
        const type = patchTypeOf(c.req.header("Content-Type") ?? null);
        if (type === "apply")
          throw new ApiError(415, "UnsupportedMediaType", "server-side apply of HorizontalPodAutoscalers is served in autoscaling/v2; use that version");
        const name = segs[i + 1];
        for (let attempt = 0; attempt < 5; attempt++) {
          const got = await call("GET", v2url().split("?")[0]);
          if (got.status !== 200) return answer(got);
          const current = hpaToV1((await got.json()) as KObject);
          const patched = applyPatch(current as KObject, type, body, "HorizontalPodAutoscaler", { name, group: "autoscaling", resource: RESOURCE });
          const pinned = !!(body as any)?.metadata?.resourceVersion;
          if (!pinned) patched.metadata = { ...patched.metadata, resourceVersion: current.metadata?.resourceVersion };
          const res = await call("PUT", v2url(), hpaToV2(patched));
          if (res.status === 409 && !pinned) continue;
          return answer(res);
        }
        throw new ApiError(
          409,
          "Conflict",
          `Operation cannot be fulfilled on horizontalpodautoscalers.autoscaling "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        );
      }
      throw new ApiError(405, "MethodNotAllowed", `${method} is not supported on ${path}`);
    } catch (e) {
      if (e instanceof ApiError) return status(e);
      throw e;
    }
  };
};
