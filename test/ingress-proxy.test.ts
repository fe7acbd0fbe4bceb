/**
 * The agent's ingress proxy against a real control plane (`npm start`'s server) and real
 * HTTP backends on 127.0.0.1 (Services without selectors, their EndpointSlices written
 * here): round-robin, keep-alive, the default backend, 502/503/504, the ssl-redirect
 * annotation, requests in flight across an update, TLS Secrets followed by their
 * watches, and Ingresses of another class left alone. The pod network side is covered by the agent end-to-end suite.
 */
import { execFile } from "node:child_process";
import { createServer, request as httpRequest, Agent as HttpAgent, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { promisify } from "node:util";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../node/server";
import { ApiClient } from "../agent/api";
import { runInformers, serviceInformers } from "../agent/informer";
import { IngressProxy } from "../agent/ingress/proxy";
import { eventually } from "./kubectl";

let server: RunningServer;
let dir: string;
let api: ApiClient;
let proxy: IngressProxy;
const ac = new AbortController();
const backends: Server[] = [];
let connections = 0;

/** a backend answering "<name> <path> <X-Forwarded-Proto> <X-Forwarded-Host>": after 250 ms under /slow, never under /hang */
const backend = async (name: string) => {
  const s = createServer((req, res) => {
    // under /close the backend closes after each response (busybox httpd does)
    if (req.url?.startsWith("/close")) res.setHeader("Connection", "close");
    const reply = () => res.end(`${name} ${req.url} ${req.headers["x-forwarded-proto"]} ${req.headers["x-forwarded-host"]}`);
    if (req.url?.startsWith("/slow")) setTimeout(reply, 250);
    else if (req.url?.startsWith("/hang")) return;
    else reply();
  });
  s.on("connection", () => connections++);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  backends.push(s);
  return (s.address() as AddressInfo).port;
};

const service = async (name: string, ports: number[]) => {
  await api.request("POST", "/api/v1/namespaces/default/services", { metadata: { name }, spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }] } });
  // one endpoint per backend, each its own slice (the port differs)
  for (const [i, port] of ports.entries()) {
    await api.request("POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", {
      metadata: { name: `${name}-${i}`, labels: { "kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "test" } },
      addressType: "IPv4",
      endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }],
      ports: [{ name: "http", port, protocol: "TCP" }],
    });
  }
};

const ingress = (name: string, spec: Record<string, unknown>, annotations?: Record<string, string>) =>
  api.request("POST", "/apis/networking.k8s.io/v1/namespaces/default/ingresses", { metadata: { name, ...(annotations ? { annotations } : {}) }, spec });
const be = (name: string) => ({ service: { name, port: { number: 80 } } });
const rule = (host: string, path: string, svc: string) => ({ host, http: { paths: [{ path, pathType: "Prefix", backend: be(svc) }] } });

const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 1 });
const get = (host: string, path: string, agent?: HttpAgent) =>
  new Promise<{ status: number; body: string; headers: Record<string, any>; reused: boolean }>((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: proxy.http!.port, path, headers: { Host: host }, agent: agent ?? false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, reused: req.reusedSocket }));
    });
    req.on("error", reject);
    req.end();
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kf-ingress-"));
  server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "data"), synchronous: "NORMAL", watchPollMs: 50, log: () => {} });
  api = new ApiClient({ server: server.url, token: server.adminToken, caPem: server.caPem });
  await api.request("POST", "/api/v1/nodes", { metadata: { name: "ingress-node" } });
  const informers = serviceInformers(api);
  void runInformers(informers, ac.signal);
  proxy = new IngressProxy({ api, nodeName: "ingress-node", informers, httpPort: 0, httpsPort: 0, host: "127.0.0.1", readTimeoutMs: 400 });
  await proxy.start();
  await service("web", [await backend("web-a"), await backend("web-b")]);
  await service("refused", [await backend("gone")]);
  const gone = backends.pop()!;
  await new Promise((r) => gone.close(r));
  await service("empty", []);
  await service("slow", [await backend("slow-a")]);
}, 60_000);

afterAll(async () => {
  ac.abort();
  await proxy?.stop();
  keepAlive.destroy();
  for (const s of backends) s.close();
  await api?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** a self-signed certificate for `cn` (openssl), base64 for a kubernetes.io/tls Secret */
const certificate = async (cn: string) => {
  const [crt, key] = [join(dir, `${cn}.crt`), join(dir, `${cn}.key`)];
  await promisify(execFile)("openssl", [
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=${cn}`, "-addext", `subjectAltName=DNS:${cn}`],
    ...["-keyout", key, "-out", crt],
  ]);
  return { "tls.crt": readFileSync(crt).toString("base64"), "tls.key": readFileSync(key).toString("base64") };
};
/** the certificate the HTTPS port serves for an SNI name: its subject CN and SHA-256 fingerprint */
const served = (servername: string) =>
  new Promise<{ cn: string; fingerprint: string }>((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port: proxy.https!.port, servername, rejectUnauthorized: false }, () => {
      const c = s.getPeerCertificate();
      resolve({ cn: String(c.subject.CN), fingerprint: c.fingerprint256 });
      s.end();
    });
    s.on("error", reject);
  });

describe("the ingress proxy", () => {
  it("announces itself on its Node", async () => {
    const node = await api.get("/api/v1/nodes/ingress-node");
    expect(node.metadata.annotations?.["kubeflare.dev/ingress-proxy"]).toBe(`http=${proxy.http!.port},https=${proxy.https!.port}`);
  });

  it("round-robins over the endpoints with keep-alive both ways, X-Forwarded-*, and the default backend", async () => {
    await ingress("rr", { defaultBackend: be("web"), rules: [rule("rr.example.com", "/app", "web")] });
    await eventually(async () => (await get("rr.example.com", "/app")).status === 200, 5000);
    const before = connections;
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await get("rr.example.com", "/app/x", keepAlive);
      expect(r.status).toBe(200);
      if (i > 0) expect(r.reused).toBe(true);
      seen.push(r.body);
    }
    expect(seen.map((s) => s.split(" ")[0]).sort()).toEqual(["web-a", "web-a", "web-b", "web-b"]);
    expect(seen[0].split(" ").slice(1)).toEqual(["/app/x", "http", "rr.example.com"]);
    // at most one new upstream connection per endpoint for four requests
    expect(connections - before).toBeLessThanOrEqual(2);
    expect((await get("unknown.example.com", "/elsewhere")).body).toMatch(/^web-[ab] \/elsewhere/);
    // a backend closing its connection after each response leaves the client's keep-alive connection open (hop-by-hop)
    const first = await get("rr.example.com", "/close/1", keepAlive);
    const second = await get("rr.example.com", "/close/2", keepAlive);
    expect([first.status, second.status, second.reused, second.headers.connection]).toEqual([200, 200, true, "keep-alive"]);
  });

  it("answers 503 (no endpoints), 502 (refused) and 504 (no answer in time), saying why", async () => {
    await ingress("errors", {
      rules: [rule("err.example.com", "/empty", "empty"), rule("err.example.com", "/refused", "refused"), rule("err.example.com", "/hang", "web")],
    });
    const empty = await eventually(async () => {
      const r = await get("err.example.com", "/empty");
      return r.status === 503 ? r : undefined;
    }, 5000);
    expect(empty.body).toBe('503 Service Temporarily Unavailable: service "default/empty" has no ready endpoints (kubeflare ingress)\n');
    const refused = await get("err.example.com", "/refused");
    expect([refused.status, refused.body]).toEqual([502, expect.stringContaining("ECONNREFUSED")]);
    const hang = await get("err.example.com", "/hang");
    expect([hang.status, hang.body]).toEqual([504, expect.stringContaining("did not answer in time")]);
    // a resource backend (a valid Ingress) and an ExternalName Service naming the node itself: 503, saying why
    await api.request("POST", "/api/v1/namespaces/default/services", {
      metadata: { name: "self" },
      spec: { type: "ExternalName", externalName: "localhost", ports: [{ port: 80 }] },
    });
    await ingress("unsupported", {
      rules: [
        {
          host: "err.example.com",
          http: {
            paths: [
              { path: "/bucket", pathType: "Prefix", backend: { resource: { apiGroup: "k8s.example.com", kind: "StorageBucket", name: "static-assets" } } },
              { path: "/self", pathType: "Prefix", backend: be("self") },
            ],
          },
        },
      ],
    });
    const bucket = await eventually(async () => {
      const r = await get("err.example.com", "/bucket/a");
      return r.status === 503 ? r : undefined;
    }, 5000);
    expect(bucket.body).toBe(
      '503 Service Temporarily Unavailable: the backend of ingress "default/unsupported" is the resource StorageBucket.k8s.example.com "static-assets": resource backends are not supported by the kubeflare ingress controller, only Services (kubeflare ingress)\n',
    );
    const self = await get("err.example.com", "/self");
    expect([self.status, self.body]).toEqual([
      503,
      expect.stringContaining('service "default/self" is of type ExternalName naming this node itself (localhost)'),
    ]);
  });

  it("finishes requests in flight when their Ingress goes, and stops routing at once", async () => {
    await ingress("flight", { rules: [rule("flight.example.com", "/slow", "slow")] });
    await eventually(async () => (await get("flight.example.com", "/slow/warm")).body.startsWith("slow-a "), 5000);
    // a request the backend takes 250 ms over; the Ingress is deleted meanwhile
    const inflight = get("flight.example.com", "/slow/x");
    await new Promise((r) => setTimeout(r, 50));
    await api.request("DELETE", "/apis/networking.k8s.io/v1/namespaces/default/ingresses/flight", {});
    const done = await inflight;
    expect([done.status, done.body.split(" ").slice(0, 2)]).toEqual([200, ["slow-a", "/slow/x"]]);
    // new requests go where the remaining Ingresses say: the default backend of "rr"
    await eventually(async () => /^web-[ab] /.test((await get("flight.example.com", "/slow/y")).body), 5000);
  });

  it("serves a TLS Secret by SNI as its watch has it: made after its Ingress, replaced, deleted", async () => {
    const fake = await served("nobody.example.com");
    expect(fake.cn).toBe("Kubeflare Ingress Fake Certificate");
    await ingress("tls", { tls: [{ hosts: ["tls.example.com"], secretName: "tls-cert" }], rules: [rule("tls.example.com", "/", "web")] });
    await eventually(async () => (await get("tls.example.com", "/")).status === 200, 5000);
    // the Ingress names a Secret that is not there yet: the fake certificate
    expect((await served("tls.example.com")).cn).toBe("Kubeflare Ingress Fake Certificate");
    const first = { metadata: { name: "tls-cert" }, type: "kubernetes.io/tls", data: await certificate("tls.example.com") };
    await api.request("POST", "/api/v1/namespaces/default/secrets", first);
    const one = await eventually(async () => {
      const c = await served("tls.example.com");
      return c.cn === "tls.example.com" ? c : undefined;
    }, 5000);
    // a renewed certificate for the same name, nothing restarted
    await api.request("PUT", "/api/v1/namespaces/default/secrets/tls-cert", { ...first, data: await certificate("tls.example.com") });
    const two = await eventually(async () => {
      const c = await served("tls.example.com");
      return c.fingerprint !== one.fingerprint ? c : undefined;
    }, 5000);
    expect(two.cn).toBe("tls.example.com");
    await api.request("DELETE", "/api/v1/namespaces/default/secrets/tls-cert", {});
    await eventually(async () => (await served("tls.example.com")).cn === "Kubeflare Ingress Fake Certificate", 5000);
    await api.request("DELETE", "/apis/networking.k8s.io/v1/namespaces/default/ingresses/tls", {});
  });

  it("redirects HTTP to HTTPS when annotated, and leaves Ingresses of other classes alone", async () => {
    await ingress("secure", { rules: [rule("secure.example.com", "/", "web")] }, { "nginx.ingress.kubernetes.io/ssl-redirect": "true" });
    const r = await eventually(async () => {
      const x = await get("secure.example.com", "/a?b=c");
      return x.status === 308 ? x : undefined;
    }, 5000);
    expect(r.headers.location).toBe(`https://secure.example.com:${proxy.https!.port}/a?b=c`);
    // but not an ACME HTTP-01 challenge, which a certificate manager's solver answers over HTTP
    expect((await get("secure.example.com", "/.well-known/acme-challenge/tok")).body).toMatch(/^web-[ab] \/\.well-known\/acme-challenge\/tok/);
    await api.request("POST", "/apis/networking.k8s.io/v1/ingressclasses", { metadata: { name: "nginx" }, spec: { controller: "k8s.io/ingress-nginx" } });
    await ingress("theirs", { ingressClassName: "nginx", rules: [rule("theirs.example.com", "/", "web")] });
    await ingress("marker", { rules: [rule("marker.example.com", "/", "web")] });
    await eventually(async () => (await get("marker.example.com", "/")).status === 200, 5000);
    expect((await get("theirs.example.com", "/x")).body).toMatch(/^web-[ab] \/x/); // the default backend of "rr", not "theirs"' rule
  });
});
