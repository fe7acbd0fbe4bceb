/**
 * The streaming subresources, runtime-neutral: which requests they are, who may make
 * them, and which node and pod a request reaches (the StreamOpen the control plane sends
 * that node's agent, shared/tunnel.ts). The Node server (node/upgrade.ts) and the Worker
 * (workers/tunnel/edge.ts) splice the bytes; this file only decides.
 *
 *   GET|POST /api/v1/namespaces/{ns}/pods/{name}/exec|attach|portforward   (upgrade)
 *   *        /api/v1/namespaces/{ns}/pods/{name[:port]}/proxy[/{path}]
 *   *        /api/v1/namespaces/{ns}/services/{[scheme:]name[:port]}/proxy[/{path}]
 *   GET      {TUNNEL_PATH(node)}, {STREAM_PATH(node, id)}                   (the agent)
 *
 * Checks and messages follow kube-apiserver's (pkg/registry/core/pod: streamLocation,
 * PortForwardLocation, ResourceLocation; service ResourceLocation) and kubectl's.
 */
import { allowed } from "../registry/auth";
import { ApiError, badRequest, forbidden, notFound } from "../../shared/status";
import type { KObject } from "../../shared/types";
import type { StreamKind, StreamOpen } from "../../shared/tunnel";
import type { Registry } from "../registry/registry";
import type { User } from "../registry/user";

export type StreamRequest =
  | { type: "control"; node: string }
  | { type: "stream"; node: string; id: string }
  | { type: "pod"; sub: "exec" | "attach" | "portforward"; namespace: string; name: string }
  | {
      type: "proxy";
      resource: "pods" | "services";
      namespace: string;
      id: string /** the rest of the path, still percent-encoded, "/" at least */;
      path: string;
    };

const seg = (s: string): string | undefined => {
  try {
    const d = decodeURIComponent(s);
    return d && !d.includes("/") ? d : undefined;
  } catch {
    return undefined;
  }
};

/** Which streaming request a path is, if any (the path still percent-encoded, without the query). */
export const matchStreamPath = (pathname: string): StreamRequest | undefined => {
  let m = /^\/apis\/kubeflare\.dev\/v1\/nodes\/([^/]+)\/tunnel(?:\/streams\/([^/]+))?\/?$/.exec(pathname);
  if (m) {
    const node = seg(m[1]);
    if (!node) return undefined;
    if (m[2] === undefined) return { type: "control", node };
    const id = seg(m[2]);
    return id ? { type: "stream", node, id } : undefined;
  }
  m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)\/?$/.exec(pathname);
  if (m) {
    const namespace = seg(m[1]);
    const name = seg(m[2]);
    return namespace && name ? { type: "pod", sub: m[3] as "exec" | "attach" | "portforward", namespace, name } : undefined;
  }
  m = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|services)\/([^/]+)\/proxy(\/.*)?$/.exec(pathname);
  if (m) {
    const namespace = seg(m[1]);
    const id = seg(m[3]);
    return namespace && id ? { type: "proxy", resource: m[2] as "pods" | "services", namespace, id, path: m[4] || "/" } : undefined;
  }
  return undefined;
};

/** RBAC's verb for a proxy request: the HTTP method's. */
export const proxyVerb = (method: string): string =>
  ({ GET: "get", HEAD: "get", POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" })[method.toUpperCase()] ?? method.toLowerCase();

/**
 * Streams and proxies are RBAC's: `edit` and `admin` have pods/exec, pods/attach,
 * pods/portforward, pods/proxy and services/proxy, `view` none of them, and the Node
 * authorizer gives a node credential none of them. 403 worded as kube-apiserver's RBAC words it.
 */
export const authorizeStream = (user: User, verb: string, resource: string, sub: string, namespace: string, name: string): void => {
  if (user.role !== "node" && allowed(user, { verb, resourceRequest: true, apiGroup: "", resource, subresource: sub, namespace, name })) return;
  throw forbidden(
    `${resource} "${name}" is forbidden: User "${user.name}" cannot ${verb} resource "${resource}/${sub}" in API group "" in the namespace "${namespace}"`,
  );
};

/** What the control plane asks of a node's agent: the StreamOpen less what the transport adds. */
export type StreamTarget = Omit<StreamOpen, "type" | "id" | "framing" | "protocols" | "upgrade">;

export interface StreamPlan {
  node: string;
  target: StreamTarget;
  /** proxies: the scheme to speak to the pod port, and the path and query to ask for */
  scheme?: "http" | "https";
  path?: string;
}

const unassigned = (name: string) => badRequest(`pod ${name} does not have a host assigned`);

const allContainers = (pod: KObject): any[] => [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];

/**
 * The container an exec or attach means: the one named, else the pod's
 * kubectl.kubernetes.io/default-container annotation (when it names one), else the first.
 */
export const streamContainer = (pod: KObject, named: string | undefined): string => {
  const name = pod.metadata.name!;
  if (named) {
    if (!allContainers(pod).some((c) => c.name === named)) throw badRequest(`container ${named} is not valid for pod ${name}`);
    return named;
  }
  const containers: any[] = pod.spec?.containers ?? [];
  const annotated = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
  if (annotated && containers.some((c) => c.name === annotated)) return annotated;
  if (!containers.length) throw badRequest(`a container name must be specified for pod ${name}`);
  return containers[0].name;
};

/** kube's SplitSchemeNamePort: "name", "name:port" or "scheme:name:port" (http or https). */
export const splitSchemeNamePort = (id: string): { scheme: "http" | "https" | ""; name: string; port: string } | undefined => {
  const parts = id.split(":");
  let scheme = "";
  let name: string;
  let port = "";
  if (parts.length === 1) name = parts[0];
  else if (parts.length === 2) [name, port] = parts;
  else if (parts.length === 3) [scheme, name, port] = parts;
  else return undefined;
  if (!name || (scheme !== "" && scheme !== "http" && scheme !== "https")) return undefined;
  return { scheme: scheme as "http" | "https" | "", name, port };
};

const podKey = (namespace: string, name: string) => ({ resource: "pods", namespace, name });

const getPod = async (registry: Registry, namespace: string, name: string): Promise<KObject> => {
  const pod = await registry.store.get(podKey(namespace, name));
  if (!pod) throw notFound("pods", "", name);
  return pod;
};

const completed = (pod: KObject) => pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";

const isPort = (s: string) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 65535;

/**
 * Where an exec, attach, port-forward or proxy request goes, checked as kube-apiserver
 * checks it (authorization first, then the pod, its container, its node); throws an
 * ApiError with kube's code and message otherwise. `query` is the request's query
 * string without "?".
 */
export const planStream = async (
  registry: Registry,
  user: User,
  req: Extract<StreamRequest, { type: "pod" | "proxy" }>,
  method: string,
  query: string,
): Promise<StreamPlan> => {
  if (req.type === "pod") {
    const { sub, namespace, name } = req;
    // RBAC sees a stream as `create` on the subresource (a WebSocket GET too: AuthorizePodWebsocketUpgradeCreatePermission)
    authorizeStream(user, "create", "pods", sub, namespace, name);
    const pod = await getPod(registry, namespace, name);
    const params = new URLSearchParams(query);
    let container: string | undefined;
    if (sub !== "portforward") container = streamContainer(pod, params.get("container") || undefined);
    const node = pod.spec?.nodeName;
    if (!node) throw unassigned(name);
    if (sub === "portforward") {
      if (pod.status?.phase !== "Running")
        throw badRequest(`unable to forward port because pod is not running. Current status=${pod.status?.phase ?? "Pending"}`);
    } else if (completed(pod)) {
      throw badRequest(
        sub === "exec"
          ? `cannot exec into a container in a completed pod; current phase is ${pod.status.phase}`
          : `cannot attach a container in a completed pod; current phase is ${pod.status.phase}`,
      );
    }
    return {
      node,
      target: { kind: sub as StreamKind, namespace, pod: name, uid: pod.metadata.uid!, ...(container ? { container } : {}), query },
    };
  }

  const { resource, namespace, id } = req;
  const split = splitSchemeNamePort(id);
  const verb = proxyVerb(method);
  // authorization is of the name as given (kube's RequestInfo takes the whole segment)
  authorizeStream(user, verb, resource, "proxy", namespace, id);
  if (!split) throw badRequest(`invalid ${resource === "pods" ? "pod" : "service"} request "${id}"`);
  const scheme = split.scheme || "http";
  const path = req.path + (query ? `?${query}` : "");
  if (resource === "pods") {
    const pod = await getPod(registry, namespace, split.name);
    const port = podPort(pod, split.port);
    if (port === undefined) throw badRequest(`invalid pod request "${id}": no port ${split.port} on pod ${split.name}`);
    const node = pod.spec?.nodeName;
    if (!node) throw unassigned(split.name);
    if (pod.status?.phase !== "Running")
      throw new ApiError(503, "ServiceUnavailable", `pod ${split.name} is not running (phase ${pod.status?.phase ?? "Pending"})`);
    return { node, target: { kind: "tcp", namespace, pod: split.name, uid: pod.metadata.uid!, port }, scheme, path };
  }
  return serviceTarget(registry, namespace, id, split, scheme, path);
};

/** A pod proxy's port: the number given, a named container port, else the first container port, else 80. */
const podPort = (pod: KObject, given: string): number | undefined => {
  const ports: any[] = (pod.spec?.containers ?? []).flatMap((c: any) => c.ports ?? []);
  if (given === "") return ports[0]?.containerPort ?? 80;
  if (isPort(given)) return Number(given);
  return ports.find((p) => p.name === given)?.containerPort;
};

const unavailable = (message: string) => new ApiError(503, "ServiceUnavailable", message);

/** services/proxy: a ready endpoint of the service's port (EndpointSlices), and the pod behind it. */
const serviceTarget = async (
  registry: Registry,
  namespace: string,
  id: string,
  split: { name: string; port: string },
  scheme: "http" | "https",
  path: string,
): Promise<StreamPlan> => {
  const svc = await registry.store.get({ resource: "services", namespace, name: split.name });
  if (!svc) throw notFound("services", "", split.name);
  let portName = split.port;
  // a port number names the service port that has it
  if (isPort(split.port)) {
    const sp = (svc.spec?.ports ?? []).find((p: any) => p.port === Number(split.port));
    if (!sp) throw unavailable(`no service port ${split.port} found for service "${split.name}"`);
    portName = sp.name ?? "";
  }
  const slices = await registry.store.list("endpointslices", {
    namespace,
    labels: [{ key: "kubernetes.io/service-name", op: "=", values: [split.name] }],
  });
  const candidates: { pod: string; port: number }[] = [];
  for (const s of slices.items) {
    const port = (s.ports ?? []).find((p: any) => (p.name ?? "") === portName);
    if (!port?.port) continue;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false || e.targetRef?.kind !== "Pod" || !e.targetRef.name) continue;
      candidates.push({ pod: e.targetRef.name, port: port.port });
    }
  }
  if (!candidates.length) throw unavailable(`no endpoints available for service "${split.name}"`);
  // a random one to start from, as kube-apiserver does; the next when a pod is no longer there
  const start = Math.floor(Math.random() * candidates.length);
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[(start + i) % candidates.length];
    const pod = await registry.store.get(podKey(namespace, c.pod));
    if (!pod?.spec?.nodeName || pod.metadata.deletionTimestamp) continue;
    return { node: pod.spec.nodeName, target: { kind: "tcp", namespace, pod: c.pod, uid: pod.metadata.uid!, port: c.port }, scheme, path };
  }
  throw unavailable(`no endpoints available for service "${id}"`);
};

/**
 * The agent's own requests (control channel, stream connections): a node credential,
 * and only for its own node; anyone else 403.
 */
export const authorizeTunnel = (user: User, node: string): void => {
  if (user.role === "node" && user.nodeName === node) return;
  throw forbidden(
    `nodes "${node}" is forbidden: User "${user.name}" cannot get resource "nodes/tunnel" in API group "kubeflare.dev" at the cluster scope${
      user.role === "node" ? ": a node may only open its own tunnel" : ""
    }`,
  );
};

/** The error a client gets when the node's agent cannot be reached (kube-apiserver's when kubelet cannot be dialled). */
export const dialError = (node: string, why: string) => new ApiError(500, "InternalError", `error dialing backend: node "${node}": ${why}`);

export const tooManyStreams = (node: string, max: number) =>
  new ApiError(429, "TooManyRequests", `too many open streams to node "${node}" (at most ${max}); try again later`);

/** Headers a proxy does not pass on (hop-by-hop, RFC 9110 7.6.1) and the client's credential (kube-apiserver drops it once authenticated). */
export const HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "authorization",
  "host",
]);

/**
 * The close to pass on when one side of a spliced WebSocket closed: its own code when it
 * may be sent again, 1000 when it gave none, and 1011 with a reason when its connection
 * broke off (1006: an agent that died, a client that vanished).
 */
export const relayedClose = (code: number, reason: string): { code: number; reason: string } => {
  if (code === 1005) return { code: 1000, reason: "" };
  const sendable = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
  if (!sendable) return { code: 1011, reason: "the other end of the stream went away" };
  return { code, reason };
};
