import type { Context } from "hono";
import type { ResourceInfo } from "../../shared/resources";
import { findResource, kindOf, RESOURCES } from "../registry/kinds";
import { ApiError, badRequest, methodNotAllowed } from "../../shared/status";
import type { KObject, WatchEvent } from "../../shared/types";
import type { User } from "../registry/user";
import type { DeleteOptions, PatchType, Registry, WriteResult } from "../registry/registry";
import { decodeObject, type ProtobufDecoder, patchTypeOf, readBody } from "./body";
import { boolParam, deleteOptions, intParam, listOptions, type Query, timeParam, writeOptions } from "./options";

export interface RestOptions {
  registry: Registry;
  maxBodyBytes: number;
  protobuf?: ProtobufDecoder;
  /** Renders objects, lists and watch events as meta.k8s.io/v1 Tables when asked (kubectl get). */
  table?: TableRenderer;
  /**
   * Serves watches elsewhere once they are authorized and their query checked (the
   * Worker: its watch hub, workers/hub); unset, the registry's watch serves them here.
   */
  watchServer?: WatchServer;
}

/** Serves an authorized, checked watch request (HTTP stream or WebSocket). */
export type WatchServer = (req: Request, target: Target, user: User) => Promise<Response>;

export interface TableRenderer {
  wants(accept: string | undefined): boolean;
  list(info: ResourceInfo, list: { metadata: { resourceVersion: string; continue?: string }; items: KObject[] }, opts: { includeObject?: string }): unknown;
  object(info: ResourceInfo, obj: KObject, opts: { includeObject?: string }): unknown;
}

/** A resolved REST path. */
export interface Target {
  info: ResourceInfo;
  namespace: string; // "" = all namespaces / cluster scope
  name?: string;
  subresource?: string;
}

const notFoundPath = () => new ApiError(404, "NotFound", "the server could not find the requested resource");

/**
 * Resolve `/api/v1/...` or `/apis/{group}/{version}/...` segments (after the version)
 * to a resource, namespace, name and subresource.
 */
export const resolvePath = (group: string, version: string, segs: string[]): Target => {
  const find = (res: string) => findResource(group, version, res);
  if (segs[0] === "namespaces" && segs.length >= 3) {
    const inner = find(segs[2]);
    if (inner?.namespaced) {
      if (segs.length > 5) throw notFoundPath();
      return { info: inner, namespace: segs[1], name: segs[3], subresource: segs[4] };
    }
  }
  const info = find(segs[0] ?? "");
  if (!info || segs.length > 3) throw notFoundPath();
  if (info.namespaced && segs.length > 1) throw notFoundPath();
  return { info, namespace: "", name: segs[1], subresource: segs[2] };
};

/**
 * One percent-encoded path segment. A malformed escape ("%ZZ", a bare "%") is a 400, as
 * Go's URL parser makes it; escapes of bytes that are not UTF-8 decode to U+FFFD, so
 * they name nothing that exists (404) instead of failing.
 */
export const decodeSegment = (seg: string): string => {
  const bad = /%(?![0-9A-Fa-f]{2})/.exec(seg);
  if (bad) throw badRequest(`invalid URL escape ${JSON.stringify(seg.slice(bad.index, bad.index + 3))}`);
  try {
    return decodeURIComponent(seg);
  } catch {
    const bytes: number[] = [];
    for (let i = 0; i < seg.length; i++) {
      if (seg[i] === "%") {
        bytes.push(parseInt(seg.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        for (const b of new TextEncoder().encode(seg[i])) bytes.push(b);
      }
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }
};

const json = (body: unknown, status = 200, warnings: string[] = []) => {
  const headers = new Headers({ "Content-Type": "application/json" });
  for (const w of warnings) headers.append("Warning", `299 - ${JSON.stringify(w)}`);
  return new Response(JSON.stringify(body), { status, headers });
};

/** The query of a request. */
const queryOf = (c: Context): Query => new URL(c.req.url).searchParams;

const WRITE_VERBS: Record<string, "create" | "update" | "patch" | "delete"> = { POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" };

/** Serve one REST request on a resolved target (a deprecated custom resource version adds its warning to every answer). */
export const serveResource = async (c: Context, t: Target, user: User, opts: RestOptions): Promise<Response> => {
  const res = await serveTarget(c, t, user, opts);
  const deprecation = kindOf(t.info).strategy.custom?.deprecation;
  if (deprecation) {
    try {
      res.headers.append("Warning", `299 - ${JSON.stringify(deprecation)}`);
    } catch {
      // a response whose headers can't change (a Durable Object's WebSocket upgrade)
    }
  }
  return res;
};

const serveTarget = async (c: Context, t: Target, user: User, opts: RestOptions): Promise<Response> => {
  const { registry } = opts;
  const { info, namespace, name, subresource } = t;
  const method = c.req.method;
  const accept = c.req.header("Accept");
  const table = opts.table?.wants(accept) ? opts.table : undefined;
  const includeObject = c.req.query("includeObject");

  if (subresource && !info.subresources.includes(subresource)) throw notFoundPath();
  // authorization (for a node: of its target) before any body is read or checked, as kube-apiserver's filters do
  const verb = WRITE_VERBS[method];
  if (verb) await registry.access.request(user, name ? verb : verb === "delete" ? "deletecollection" : verb, info, namespace, name, subresource);

  const readObject = async (): Promise<unknown> => {
    const bytes = await readBody(c.req.raw, opts.maxBodyBytes);
    return decodeObject(bytes, c.req.header("Content-Type") ?? null, opts.protobuf);
  };
  /** the write's options, checked before its body is read */
  const writeOpts = (verb: "create" | "update" | "patch", type?: PatchType) => ({ ...writeOptions(queryOf(c), verb, type), subresource });
  const respond = (r: WriteResult, status: number) =>
    json(table && !subresource ? table.object(info, r.object, { includeObject }) : r.object, status, r.warnings);

  // ---- create-only reviews (SelfSubjectAccessReview, ...): answered, never stored
  if (info.verbs && !info.verbs.includes("get")) {
    if (name || method !== "POST") throw methodNotAllowed(`${method} is not supported on ${info.resource}`);
    writeOpts("create");
    return json(await registry.auth.review(user, info, namespace, await readObject()), 201);
  }

  // ---- collection
  if (!name) {
    switch (method) {
      case "GET": {
        const { watch, query: q, allowWatchBookmarks, timeoutSeconds } = listOptions(queryOf(c));
        if (watch) {
          const ac = new AbortController();
          c.req.raw.signal?.addEventListener("abort", () => ac.abort());
          // a node's watch: the Node authorizer's object check first (which objects its selector may name)
          if (user.role === "node") await registry.access.restrict(user, "watch", info, namespace, { fieldSelector: q.fieldSelector });
          const events = registry.watch(user, info, namespace, { ...q, allowWatchBookmarks, timeoutSeconds, signal: ac.signal });
          if (opts.watchServer) {
            // checked (authorization, selectors, resourceVersion) and never started: served elsewhere
            void events.return(undefined);
            return opts.watchServer(c.req.raw, t, user);
          }
          return watchResponse(events, ac, (ev) =>
            table && ev.type !== "ERROR" && ev.type !== "BOOKMARK" ? { type: ev.type, object: table.object(info, ev.object, { includeObject }) } : ev,
          );
        }
        const list = await registry.list(user, info, namespace, q);
        return json(table ? table.list(info, list, { includeObject }) : list);
      }
      case "POST": {
        if (!info.namespaced || namespace || info.resource === "namespaces") {
          const wo = writeOpts("create");
          const r = await registry.create(user, info, namespace, await readObject(), wo);
          return respond(r, 201);
        }
        throw methodNotAllowed(`POST is not allowed on the all-namespaces ${info.resource} collection`);
      }
      case "DELETE": {
        const { query } = listOptions(queryOf(c), { collectionDelete: true });
        const opt = await readDeleteOptions(c, opts);
        const list = await registry.deleteCollection(user, info, namespace, query, opt);
        return json(list);
      }
      default:
        throw methodNotAllowed(`${method} is not supported on ${info.resource}`);
    }
  }

  // ---- one object (or a subresource of it)
  if (subresource === "log") return serveLog(c, namespace, name, user, opts);
  if (subresource === "binding") {
    if (method !== "POST") throw methodNotAllowed("only POST is supported on pods/binding");
    writeOpts("create");
    const binding = (await readObject()) as KObject;
    const node = binding?.target?.name;
    if (!node || binding?.target?.kind !== "Node") throw badRequest("a Binding needs target.kind Node and target.name");
    await registry.bind(user, namespace, name, node);
    return json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 }, 201);
  }
  if (subresource === "token") {
    if (method !== "POST") throw methodNotAllowed("only POST is supported on serviceaccounts/token");
    writeOpts("create");
    return json(await registry.auth.tokens.request(user, namespace, name, await readObject()), 201);
  }
  if (subresource === "eviction") {
    if (method !== "POST") throw methodNotAllowed("only POST is supported on pods/eviction");
    writeOpts("create");
    const eviction = (await readObject()) as KObject;
    const options = deleteOptions(new URLSearchParams(), eviction?.deleteOptions ?? undefined);
    await registry.evictions.evict(user, namespace, name, eviction, options);
    return json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 }, 201);
  }
  switch (method) {
    case "GET": {
      if (subresource === "scale") return json(await registry.scale.get(user, info, namespace, name));
      const obj = await registry.get(user, info, namespace, name, subresource);
      return json(table && !subresource ? table.object(info, obj, { includeObject }) : obj);
    }
    case "PUT": {
      const wo = writeOpts("update");
      const r = await registry.update(user, info, namespace, name, await readObject(), wo);
      return respond(r, r.created ? 201 : 200);
    }
    case "PATCH": {
      const type = patchTypeOf(c.req.header("Content-Type") ?? null);
      // custom resources have no patch strategies: no strategic merge patch (as apiextensions-apiserver)
      if (type === "strategic" && subresource !== "scale" && kindOf(info).strategy.custom) {
        throw new ApiError(
          415,
          "UnsupportedMediaType",
          "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        );
      }
      const wo = writeOpts("patch", type);
      const bytes = await readBody(c.req.raw, opts.maxBodyBytes);
      const body = decodeObject(bytes, type === "apply" ? "application/yaml" : "application/json");
      const r = await registry.patch(user, info, namespace, name, type, body, wo);
      return respond(r, r.created ? 201 : 200);
    }
    case "DELETE": {
      if (subresource) throw methodNotAllowed(`DELETE is not supported on ${info.resource}/${subresource}`);
      const r = await registry.delete(user, info, namespace, name, await readDeleteOptions(c, opts));
      return json(r.object, r.deleted ? 200 : 202);
    }
    default:
      throw methodNotAllowed(`${method} is not supported on ${info.resource}`);
  }
};

/**
 * `pods/{name}/log`: GET reads the output the node agents shipped (plain text; with
 * follow=true a long-lived stream of new lines), POST is how an agent ships it.
 */
const serveLog = async (c: Context, namespace: string, name: string, user: User, opts: RestOptions): Promise<Response> => {
  const { registry } = opts;
  if (c.req.method === "POST") {
    const body = decodeObject(await readBody(c.req.raw, opts.maxBodyBytes), c.req.header("Content-Type") ?? "application/json");
    const appended = await registry.logs.append(user, namespace, name, body);
    return json(
      {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Success",
        code: 201,
        details: { name, kind: "pods", causes: [{ reason: "Appended", message: String(appended) }] },
      },
      201,
    );
  }
  if (c.req.method !== "GET") throw methodNotAllowed(`${c.req.method} is not supported on pods/log`);
  const q = {
    container: c.req.query("container") || undefined,
    previous: boolParam(c.req.query("previous"), "previous"),
    tailLines: intParam(c.req.query("tailLines"), "tailLines"),
    sinceSeconds: intParam(c.req.query("sinceSeconds"), "sinceSeconds"),
    sinceTime: timeParam(c.req.query("sinceTime"), "sinceTime"),
    timestamps: boolParam(c.req.query("timestamps"), "timestamps"),
    limitBytes: intParam(c.req.query("limitBytes"), "limitBytes"),
  };
  const follow = boolParam(c.req.query("follow"), "follow");
  const first = await registry.logs.read(user, namespace, name, q);
  const headers = { "Content-Type": "text/plain", "Cache-Control": "no-cache, private" };
  if (!follow) return new Response(first.text, { headers });
  // follow: keep the stream open and send new lines as agents ship them, until the container
  // instance has stopped (and its last output had time to arrive) or the pod goes
  const enc = new TextEncoder();
  let lastId = first.lastId;
  let sent = false;
  const uid = first.pod.metadata.uid;
  const attempt = first.attempt;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(enc.encode(first.text));
        return;
      }
      for (;;) {
        await new Promise((r) => setTimeout(r, 500));
        try {
          const next = await registry.logs.read(user, namespace, name, { ...q, tailLines: undefined, limitBytes: undefined }, lastId, attempt);
          if (next.pod.metadata.uid !== uid) break;
          if (next.text) {
            lastId = next.lastId;
            controller.enqueue(enc.encode(next.text));
            return;
          }
          // the instance stopped long enough ago that an agent has shipped all it wrote
          if (next.endedAt !== undefined && registry.now().getTime() - next.endedAt >= LOG_SHIPPING_GRACE_MS) break;
        } catch {
          break; // the pod is gone (or the container changed): the stream ends, as kubectl expects
        }
      }
      controller.close();
    },
  });
  return new Response(stream, { headers: { ...headers, ...STREAM_HEADERS } });
};

/**
 * How long a follow of a stopped container still waits for output: agents ship every 2 s,
 * so the last lines of a container may arrive after its terminated status.
 */
export const LOG_SHIPPING_GRACE_MS = 5000;

/** DeleteOptions from the body (kubectl) and/or the query string (curl), checked as kube-apiserver does. */
const readDeleteOptions = async (c: Context, opts: RestOptions): Promise<DeleteOptions> => {
  const q = queryOf(c);
  // the query is checked before the body is read
  deleteOptions(q, undefined);
  const bytes = await readBody(c.req.raw, opts.maxBodyBytes);
  const present = bytes.byteLength > 0 && new TextDecoder().decode(bytes).trim() !== "";
  return deleteOptions(q, present ? decodeObject(bytes, c.req.header("Content-Type") ?? "application/json", opts.protobuf) : undefined);
};

/**
 * Headers of a long-lived stream (watch, logs -f). Without them the runtime gzips the
 * response for clients that accept it (kubectl does), and a compressor holds small
 * events back until the stream ends: Miniflare and workerd skip a response whose
 * Content-Encoding is set, and no-transform asks proxies the same.
 */
export const STREAM_HEADERS = { "Cache-Control": "no-cache, no-transform, private", "Content-Encoding": "identity" } as const;

/** What a watch stream holds for a client that is not reading (characters); the watch waits beyond it. */
export const WATCH_BUFFER_CHARS = 256 * 1024;

/**
 * A watch as a chunked stream of newline-delimited JSON events. The response (and so
 * its headers) goes out at once; events follow as they happen. Events are read from
 * the watch as they come and held (up to WATCH_BUFFER_CHARS) while the connection
 * cannot take more, then go out together as one chunk: on a busy server a socket
 * write waits for the last one to drain, and one event per write fell further and
 * further behind the changes.
 */
export const watchResponse = (events: AsyncGenerator<WatchEvent>, ac: AbortController, render: (ev: WatchEvent) => unknown): Response => {
  const stream = ON_WORKERS ? pulledStream(events, ac, render) : heldStream(events, ac, render);
  return new Response(stream, {
    status: 200,
    headers: { "Content-Type": "application/json", ...STREAM_HEADERS, "X-Content-Type-Options": "nosniff" },
  });
};

/**
 * On Workers the events are read only as the stream is read (the held stream below
 * made the controller scenarios fail there, not understood yet).
 */
const ON_WORKERS = typeof navigator !== "undefined" && (navigator as { userAgent?: string }).userAgent === "Cloudflare-Workers";

const errorLine = (e: unknown) => {
  const status =
    e instanceof ApiError
      ? e.toStatus()
      : { kind: "Status", apiVersion: "v1", status: "Failure", code: 500, reason: "InternalError", message: String((e as Error)?.message ?? e) };
  return JSON.stringify({ type: "ERROR", object: status }) + "\n";
};

/** One event per chunk, read from the watch when the stream is read. */
const pulledStream = (events: AsyncGenerator<WatchEvent>, ac: AbortController, render: (ev: WatchEvent) => unknown): ReadableStream<Uint8Array> => {
  const enc = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await events.next();
        if (done) controller.close();
        else controller.enqueue(enc.encode(JSON.stringify(render(value)) + "\n"));
      } catch (e) {
        controller.enqueue(enc.encode(errorLine(e)));
        controller.close();
      }
    },
    async cancel() {
      ac.abort();
      await events.return(undefined);
    },
  });
};

/** Events read as they come, held while the connection cannot take more, sent together. */
const heldStream = (events: AsyncGenerator<WatchEvent>, ac: AbortController, render: (ev: WatchEvent) => unknown): ReadableStream<Uint8Array> => {
  const enc = new TextEncoder();
  let held: string[] = [];
  let heldChars = 0;
  let ended = false;
  let cancelled = false;
  let failure = "";
  // the reader waiting for an event, and the watch waiting for room
  let wake: (() => void) | undefined;
  let room: (() => void) | undefined;
  const signal = (f: (() => void) | undefined) => f?.();
  void (async () => {
    try {
      for await (const ev of events) {
        const line = JSON.stringify(render(ev)) + "\n";
        held.push(line);
        heldChars += line.length;
        signal(wake);
        wake = undefined;
        if (heldChars >= WATCH_BUFFER_CHARS && !cancelled) await new Promise<void>((r) => (room = r));
        if (cancelled) break;
      }
    } catch (e) {
      failure = errorLine(e);
    }
    ended = true;
    signal(wake);
    wake = undefined;
  })();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (held.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
      if (held.length) {
        const text = held.join("");
        held = [];
        heldChars = 0;
        signal(room);
        room = undefined;
        controller.enqueue(enc.encode(text));
      }
      if (ended) {
        if (failure) controller.enqueue(enc.encode(failure));
        controller.close();
      }
    },
    async cancel() {
      cancelled = true;
      ac.abort();
      signal(room);
      room = undefined;
      await events.return(undefined);
    },
  });
};

export const allResources = RESOURCES;
