/**
 * The agent's ingress controller: an L7 reverse proxy on the node's ports 80 and 443
 * serving the Ingresses of the `kubeflare.dev/ingress` classes (and, when one of those
 * is the default class, Ingresses naming none), as k3s ships Traefik and ingress-nginx
 * does it:
 *
 * - routes by host and path (./routes.ts) straight to the ready endpoints of the backend
 *   Service (EndpointSlices), round-robin across all of them, on every node: the proxy
 *   dials pod IPs as pods do (the node's own /24 is on its bridge; other nodes' come by
 *   host-gw or VPN routes), like ingress-nginx, not through the ClusterIP;
 * - TLS termination with the `spec.tls` Secrets, picked by SNI (a self-signed
 *   "Kubeflare Ingress Fake Certificate" when none matches, as ingress-nginx's);
 * - HTTP/1.1 keep-alive both ways, WebSocket upgrades passed through,
 *   X-Forwarded-For/Proto/Host/Port, connect and read timeouts, 502/503/504 with bodies
 *   saying why, HTTP->HTTPS redirect by annotation (kubeflare.dev/ssl-redirect or
 *   nginx.ingress.kubernetes.io/ssl-redirect);
 * - built from watches (Ingresses, IngressClasses; the agent's Services and
 *   EndpointSlices informers; each TLS Secret it needs, by name: ./tlssecrets.ts): a
 *   change is served as soon as its event arrives; requests in flight finish where
 *   they were sent.
 *
 * Proxying is http-proxy-3's (no HTTP parsing here). The node says it runs the proxy in
 * the annotation kubeflare.dev/ingress-proxy of its Node, which the control plane's
 * ingress-status controller reads to publish the node's address in the Ingresses' status.
 */
import { createSecureContext, type SecureContext } from "node:tls";
import { Agent as HttpAgent, createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { isIP, type Socket } from "node:net";
import { createProxyServer } from "http-proxy-3";
import type { ApiClient } from "../api";
import { Informer, type ServiceInformers } from "../informer";
import { type Backend, buildRoutes, ourClasses, type RouteTable, route, secretForHost, secretsNeeded, servedBy } from "./routes";
import { fakeCertificate } from "./fakecert";
import { TlsSecrets } from "./tlssecrets";

export const INGRESS_PROXY_ANNOTATION = "kubeflare.dev/ingress-proxy";

export interface IngressSettings {
  /** default 80 / 443; 0 picks a free port (tests) */
  httpPort?: number;
  httpsPort?: number;
  /** the address to listen on (default all: "::" falling back to 0.0.0.0) */
  host?: string;
  /** connecting to an endpoint (default 5 s), waiting for its response (default 60 s, nginx's proxy_read_timeout) */
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
}

export interface IngressProxyOptions extends IngressSettings {
  api: ApiClient;
  nodeName: string;
  informers: ServiceInformers;
  log?: (msg: string) => void;
}

const TIMED_OUT = Symbol("timedOut");

/** An error body for people and scripts alike: the status line and why, in plain text. */
const page = (code: number, title: string, detail: string) => `${code} ${title}${detail ? `: ${detail}` : ""} (kubeflare ingress)\n`;

const TITLES: Record<number, string> = { 404: "Not Found", 502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out" };

export class IngressProxy {
  private readonly ac = new AbortController();
  private readonly ingresses: Informer;
  private readonly classes: Informer;
  private table: RouteTable = buildRoutes([]);
  private readonly upstream = new HttpAgent({ keepAlive: true, maxFreeSockets: 64 });
  private readonly proxy = createProxyServer({ agent: this.upstream, ws: true, xfwd: false });
  private readonly rr = new Map<string, number>();
  /** the TLS Secrets the table names, each watched by name */
  private readonly secrets: TlsSecrets;
  private fake?: SecureContext;
  private servers: Server[] = [];
  private loops: Promise<unknown>[] = [];
  private unhook: (() => void)[] = [];
  private rebuildTimer?: NodeJS.Timeout;
  /** where it listens, once it does */
  http?: { host: string; port: number };
  https?: { host: string; port: number };

  constructor(private readonly o: IngressProxyOptions) {
    this.ingresses = new Informer(o.api, "/apis/networking.k8s.io/v1/ingresses", this.log);
    this.classes = new Informer(o.api, "/apis/networking.k8s.io/v1/ingressclasses", this.log);
    this.secrets = new TlsSecrets(o.api, this.log);
    // Connection is hop-by-hop (RFC 9110 7.6.1): an upstream that closes after each response
    // (busybox httpd) must not close the client's keep-alive connection too, as nginx keeps them apart
    this.proxy.on("proxyRes", (proxyRes) => {
      const c = proxyRes.headers.connection;
      if (!c) return;
      for (const h of String(c).split(",")) {
        const name = h.trim().toLowerCase();
        if (name && name !== "close" && name !== "keep-alive" && name !== "upgrade") delete proxyRes.headers[name];
      }
      delete proxyRes.headers.connection;
      delete proxyRes.headers["keep-alive"];
    });
    this.proxy.on("proxyReq", (proxyReq, req) => {
      proxyReq.setTimeout(this.o.readTimeoutMs ?? 60_000, () => {
        (req as any)[TIMED_OUT] = true;
        proxyReq.destroy();
      });
    });
  }

  private log = (m: string) => this.o.log?.(`ingress: ${m}`);

  /** Listen on both ports and start watching. Throws when a port cannot be had (the caller logs it; the node runs on without). */
  async start(): Promise<void> {
    const hook = { onReset: () => this.rebuild(), onEvent: () => this.rebuild() };
    for (const i of [this.ingresses, this.classes, this.o.informers.services, this.o.informers.endpointSlices]) this.unhook.push(i.addHandler(hook));
    this.loops.push(this.ingresses.run(this.ac.signal), this.classes.run(this.ac.signal));
    const http = createHttpServer((req, res) => this.handle(req, res, false));
    const https = createHttpsServer(
      {
        SNICallback: (name, cb) => cb(null, this.contextFor(name)),
        // a context must exist for clients without SNI
        ...this.fakeMaterial(),
      },
      (req, res) => this.handle(req, res, true),
    );
    for (const s of [http, https]) {
      s.keepAliveTimeout = 75_000; // nginx's keepalive_timeout
      s.headersTimeout = 60_000; // client_header_timeout
      s.requestTimeout = 0; // uploads may take long; idle sockets are cut by the timeout below
      s.timeout = 120_000;
      s.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head, s === https));
      s.on("clientError", (_e, socket) => socket.destroy());
    }
    this.servers = [http, https];
    const host = this.o.host;
    this.http = await listen(http, this.o.httpPort ?? 80, host);
    try {
      this.https = await listen(https, this.o.httpsPort ?? 443, host);
    } catch (e) {
      http.close();
      throw e;
    }
    await this.announce(`http=${this.http.port},https=${this.https.port}`);
    this.log(`serving on :${this.http.port} (HTTP) and :${this.https.port} (HTTPS)`);
  }

  async stop(): Promise<void> {
    this.ac.abort();
    for (const u of this.unhook) u();
    clearTimeout(this.rebuildTimer);
    await Promise.allSettled([...this.loops, this.secrets.stop()]);
    for (const s of this.servers) {
      s.close();
      s.closeAllConnections?.();
    }
    this.proxy.close?.();
    this.upstream.destroy();
  }

  /** Say on the Node that this node serves Ingresses. */
  private announce = (value: string) => announceIngress(this.o.api, this.o.nodeName, value, this.o.log ?? (() => {}));

  /** Rebuild the route table (coalesced: one rebuild per burst of events, at once). */
  private rebuild() {
    if (this.rebuildTimer) return;
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = undefined;
      const classes = ourClasses(this.classes.items());
      const table = buildRoutes(this.ingresses.items().filter((i) => servedBy(i, classes)));
      this.table = table;
      this.endpointCache.clear();
      if (this.rr.size > 10_000) this.rr.clear(); // round-robin positions of backends long gone
      this.secrets.want(secretsNeeded(table));
    }, 0);
  }

  // ---------------------------------------------------------------- TLS

  private fakeMaterial() {
    const { cert, key } = fakeCertificate();
    this.fake ??= createSecureContext({ cert, key });
    return { cert, key };
  }

  private contextFor(serverName: string): SecureContext {
    const secret = secretForHost(this.table, serverName);
    return (secret && this.secrets.context(secret)) || this.fake!;
  }

  // ---------------------------------------------------------------- endpoints

  private readonly endpointCache = new Map<string, string[] | string>();

  /** The ready endpoints (ip:port) of a backend, or why there are none. */
  private endpoints(b: Backend): string[] | string {
    const key = `${b.namespace}/${b.service}:${b.port.number ?? b.port.name ?? ""}`;
    let v = this.endpointCache.get(key);
    if (v === undefined) {
      v = this.resolve(b);
      this.endpointCache.set(key, v);
    }
    return v;
  }

  private resolve(b: Backend): string[] | string {
    if (!b.service)
      return `the backend of ingress "${b.ingress}" is the resource ${b.resource ?? "(none)"}: resource backends are not supported by the kubeflare ingress controller, only Services`;
    const svc = this.o.informers.services.get(`${b.namespace}/${b.service}`);
    if (!svc) return `service "${b.namespace}/${b.service}" does not exist`;
    const ports: any[] = svc.spec?.ports ?? [];
    const port = ports.find((p) => (b.port.number !== undefined ? p.port === b.port.number : p.name === b.port.name));
    if (svc.spec?.type === "ExternalName") return externalName(`${b.namespace}/${b.service}`, svc.spec.externalName, port, b.port.number);
    if (!port) return `service "${b.namespace}/${b.service}" has no port ${b.port.number ?? b.port.name}`;
    const out: string[] = [];
    for (const s of this.o.informers.endpointSlices.items()) {
      if (s.metadata.namespace !== b.namespace || s.metadata.labels?.["kubernetes.io/service-name"] !== b.service || s.addressType !== "IPv4") continue;
      const sp = (s.ports ?? []).find((p: any) => (p?.name ?? "") === (port.name ?? "") && (p?.protocol ?? "TCP") === "TCP");
      if (typeof sp?.port !== "number") continue;
      for (const ep of s.endpoints ?? []) {
        if (ep?.conditions?.ready === false || !ep?.addresses?.[0]) continue;
        out.push(`${ep.addresses[0]}:${sp.port}`);
      }
    }
    return out.length ? out : `service "${b.namespace}/${b.service}" has no ready endpoints`;
  }

  /** The next endpoint of a backend (round-robin), or the error page to answer. */
  private pick(b: Backend | null): { target: string } | { code: number; why: string } {
    if (!b) return { code: 404, why: "no Ingress rule matches this host and path, and there is no default backend" };
    const eps = this.endpoints(b);
    if (typeof eps === "string") return { code: 503, why: eps };
    const key = `${b.namespace}/${b.service}:${b.port.number ?? b.port.name}`;
    const i = (this.rr.get(key) ?? 0) % eps.length;
    this.rr.set(key, i + 1);
    return { target: `http://${eps[i]}` };
  }

  // ---------------------------------------------------------------- requests

  private handle(req: IncomingMessage, res: ServerResponse, tls: boolean) {
    const [host, path] = target(req);
    const b = route(this.table, host, path);
    // the ACME HTTP-01 challenge must be answered over HTTP (ingress-nginx exempts it too)
    if (!tls && b?.sslRedirect && this.https && !path.startsWith("/.well-known/acme-challenge/")) {
      const host = (req.headers.host ?? "").replace(/:\d+$/, "");
      const port = this.https.port === 443 ? "" : `:${this.https.port}`;
      res
        .writeHead(308, { Location: `https://${host}${port}${req.url ?? "/"}`, "Content-Type": "text/plain; charset=utf-8" })
        .end(page(308, "Permanent Redirect", ""));
      return;
    }
    const p = this.pick(b);
    if ("code" in p) {
      this.fail(res, p.code, p.why);
      return;
    }
    forwarded(req, tls);
    this.proxy.web(req, res, { target: p.target, connectTimeout: this.o.connectTimeoutMs ?? 5000 } as any, (err: any) => {
      const timedOut = (req as any)[TIMED_OUT] || err?.code === "ECONNECT_TIMEOUT";
      this.log(`${req.method} ${req.headers.host}${req.url} -> ${p.target}: ${err?.code ?? err?.message}`);
      this.fail(
        res,
        timedOut ? 504 : 502,
        timedOut ? `the backend ${p.target} did not answer in time` : `the backend ${p.target} failed: ${err?.code ?? err?.message}`,
      );
    });
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer, tls: boolean) {
    const p = this.pick(route(this.table, ...target(req)));
    if ("code" in p) {
      const body = page(p.code, TITLES[p.code] ?? "Error", p.why);
      socket.end(
        `HTTP/1.1 ${p.code} ${TITLES[p.code] ?? "Error"}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    forwarded(req, tls);
    this.proxy.ws(req, socket, head, { target: p.target, connectTimeout: this.o.connectTimeoutMs ?? 5000 } as any, () => socket.destroy());
  }

  private fail(res: ServerResponse | Socket, code: number, why: string) {
    if (!("writeHead" in res)) {
      res.destroy();
      return;
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const title = TITLES[code] ?? "Error";
    res
      .writeHead(code, { "Content-Type": "text/plain; charset=utf-8", "X-Kubeflare-Ingress-Reason": why.slice(0, 200).replace(/[^\x20-\x7e]/g, "?") })
      .end(page(code, title, why));
  }
}

/** Set (or with null, remove) the Node's annotation saying it serves Ingresses, on which ports. */
export const announceIngress = async (api: ApiClient, nodeName: string, value: string | null, log: (m: string) => void) => {
  try {
    await api.request(
      "PATCH",
      `/api/v1/nodes/${encodeURIComponent(nodeName)}`,
      { metadata: { annotations: { [INGRESS_PROXY_ANNOTATION]: value } } },
      "application/merge-patch+json",
    );
  } catch (e) {
    log(`ingress: could not annotate the Node: ${(e as Error).message}`);
  }
};

/**
 * An ExternalName Service's upstream: its external name (resolved by the node's own
 * resolver) on the port's targetPort when a number, else its port (or, with no ports,
 * the port the Ingress names). As ingress-nginx does, never the node itself: `localhost`
 * and loopback addresses are refused, or anyone who may write a Service and an Ingress
 * could reach the node's own local services through the proxy.
 */
const externalName = (svc: string, name: unknown, port: any, ingressPort: number | undefined): string[] | string => {
  const host = String(name ?? "")
    .toLowerCase()
    .replace(/\.$/, "");
  if (!host) return `service "${svc}" is of type ExternalName without an externalName`;
  const loopback = host === "localhost" || host.endsWith(".localhost") || (isIP(host) === 4 && host.startsWith("127.")) || host === "::1";
  if (loopback) return `service "${svc}" is of type ExternalName naming this node itself (${host}), which the ingress controller refuses to proxy to`;
  const n = typeof port?.targetPort === "number" ? port.targetPort : typeof port?.port === "number" ? port.port : ingressPort;
  if (typeof n !== "number") return `service "${svc}" is of type ExternalName and has no port ${ingressPort ?? ""} to proxy to`;
  return [`${host}:${n}`];
};

/** The host and path a request is for: from its target when in absolute form (RFC 9112 3.2.2), else the Host header and the path. */
const target = (req: IncomingMessage): [string | undefined, string] => {
  const u = req.url ?? "/";
  if (u.startsWith("/")) return [req.headers.host, u];
  try {
    const x = new URL(u);
    return [x.host, `${x.pathname}${x.search}`];
  } catch {
    return [req.headers.host, "/"];
  }
};

/**
 * X-Forwarded-For/Proto/Host/Port and X-Real-IP as ingress-nginx sets them by default
 * (use-forwarded-headers off): the client's own address, not what it claims.
 */
const forwarded = (req: IncomingMessage, tls: boolean) => {
  const ip = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  req.headers["x-forwarded-for"] = ip;
  req.headers["x-real-ip"] = ip;
  req.headers["x-forwarded-proto"] = tls ? "https" : "http";
  req.headers["x-forwarded-host"] = req.headers.host ?? "";
  req.headers["x-forwarded-port"] = String(req.socket.localPort ?? "");
};

const listen = (s: Server, port: number, host: string | undefined) =>
  new Promise<{ host: string; port: number }>((resolve, reject) => {
    s.once("error", reject);
    s.listen(port, host, () => {
      s.off("error", reject);
      const a = s.address();
      resolve({ host: typeof a === "object" && a ? a.address : String(host), port: typeof a === "object" && a ? a.port : port });
    });
  });
