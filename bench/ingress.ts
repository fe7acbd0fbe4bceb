/**
 * The agent's ingress proxy next to the direct path: HTTP/1.1 keep-alive requests from C
 * concurrent clients for D seconds, straight to a backend on 127.0.0.1 (standing in for
 * the pod: the proxy's own cost is what differs) and through the ingress proxy routing
 * by host and path to it (a Service and an EndpointSlice on `npm start`'s server, in
 * process). Requests/s and p50/p99 of each, same run.
 */
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startServer } from "../node/server";
import { ApiClient } from "../agent/api";
import { runInformers, serviceInformers } from "../agent/informer";
import { IngressProxy } from "../agent/ingress/proxy";

type Report = (name: string, value: number, unit: string) => void;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

const drive = async (port: number, host: string, concurrency: number, seconds: number) => {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      const req = request({ host: "127.0.0.1", port, path: "/app/x", headers: { Host: host }, agent }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
          lat.push(performance.now() - t0);
          resolve();
        });
      });
      req.on("error", reject);
      req.end();
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  agent.destroy();
  return { rps: lat.length / ((performance.now() - t0) / 1000), p50: pct(lat, 50), p99: pct(lat, 99) };
};

export async function benchIngress(o: { concurrency: number; duration: number }, report: Report, say: (m: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "kf-bench-ingress-"));
  const backend = createServer((_req, res) => res.end("hello from the backend\n"));
  await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
  const backendPort = (backend.address() as AddressInfo).port;
  const server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "data"), synchronous: "NORMAL", watchPollMs: 50, log: () => {} });
  const api = new ApiClient({ server: server.url, token: server.adminToken, caPem: server.caPem });
  const ac = new AbortController();
  const informers = serviceInformers(api);
  void runInformers(informers, ac.signal);
  await api.request("POST", "/api/v1/nodes", { metadata: { name: "bench-node" } });
  const proxy = new IngressProxy({ api, nodeName: "bench-node", informers, httpPort: 0, httpsPort: 0, host: "127.0.0.1" });
  try {
    await proxy.start();
    await api.request("POST", "/api/v1/namespaces/default/services", {
      metadata: { name: "web" },
      spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    });
    await api.request("POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", {
      metadata: { name: "web-1", labels: { "kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "bench" } },
      addressType: "IPv4",
      endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }],
      ports: [{ name: "http", port: backendPort, protocol: "TCP" }],
    });
    await api.request("POST", "/apis/networking.k8s.io/v1/namespaces/default/ingresses", {
      metadata: { name: "web" },
      spec: {
        rules: [
          { host: "web.example.com", http: { paths: [{ path: "/app", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } },
        ],
      },
    });
    for (let i = 0; ; i++) {
      const r = await drive(proxy.http!.port, "web.example.com", 1, 0.05).catch(() => undefined);
      if (r && r.rps > 0) break;
      if (i > 100) throw new Error("the ingress never routed to the backend");
      await new Promise((res) => setTimeout(res, 50));
    }
    for (const [name, port] of [
      ["straight to the backend", backendPort],
      ["through the ingress proxy", proxy.http!.port],
    ] as const) {
      say(`ingress: ${name}, ${o.concurrency} clients for ${o.duration} s`);
      await drive(port, "web.example.com", o.concurrency, 1); // warm up
      const r = await drive(port, "web.example.com", o.concurrency, o.duration);
      report(`ingress: HTTP keep-alive requests, ${name}`, r.rps, "req/s");
      report(`ingress: ${name}, p50`, r.p50, "ms");
      report(`ingress: ${name}, p99`, r.p99, "ms");
    }
  } finally {
    ac.abort();
    await proxy.stop();
    await api.close();
    await server.close();
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
