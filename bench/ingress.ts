/**
 * `npm run bench -- ingress [--concurrency C] [--duration D]`: the agent's ingress proxy
 * next to the direct path, same run. HTTP/1.1 requests from C concurrent clients for D
 * seconds, (a) straight to a real pod and (b) through the ingress proxy routing by host
 * and path to that pod's Service. The pod is busybox httpd on Docker, started by a real
 * `kubeflare-agent` process joined to `npm start`'s server (in process), with its own pod
 * bridge: the host reaches the pod's IP over it, as the proxy does. Requests/s and
 * p50/p99 of each.
 *
 * Without Docker and the test image (scripts/test-image.sh), or without root for the pod
 * network, the backend is a server on 127.0.0.1 in this process (a Service without
 * selector, its EndpointSlice by hand) and the ingress proxy runs in process: a printed
 * note says so. NET.md: the cluster CIDRs are routed into a sink first, and everything
 * made here goes after.
 */
import { execFile } from "node:child_process";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startServer } from "../node/server";
import { ApiClient } from "../agent/api";
import { runInformers, serviceInformers } from "../agent/informer";
import { IngressProxy } from "../agent/ingress/proxy";

type Report = (name: string, value: number, unit: string) => void;
type Say = (m: string, fraction?: number) => void;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
const HOST = "web.example.com";
const PATH = "/app/x";

const drive = async (host: string, port: number, hostHeader: string, concurrency: number, seconds: number) => {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      const req = request({ host, port, path: PATH, headers: { Host: hostHeader }, agent }, (res) => {
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

/** Both paths, one after the other, after a warm-up each. */
const compare = async (o: { concurrency: number; duration: number }, report: Report, say: Say, paths: [string, string, number][]) => {
  for (const [i, [name, host, port]] of paths.entries()) {
    say(`ingress: ${name}, ${o.concurrency} clients for ${o.duration} s`, i / paths.length);
    await drive(host, port, HOST, o.concurrency, 1);
    const r = await drive(host, port, HOST, o.concurrency, o.duration);
    report(`ingress: HTTP requests, ${name}`, r.rps, "req/s");
    report(`ingress: ${name}, p50`, r.p50, "ms");
    report(`ingress: ${name}, p99`, r.p99, "ms");
  }
};

/** Until a GET through this path answers 200. */
const reachable = async (host: string, port: number, what: string) => {
  for (let i = 0; ; i++) {
    const r = await drive(host, port, HOST, 1, 0.05).catch(() => undefined);
    if (r && r.rps > 0) return;
    if (i > 600) throw new Error(`${what} never answered`);
    await new Promise((res) => setTimeout(res, 100));
  }
};

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

const ingressSpec = {
  rules: [{ host: HOST, http: { paths: [{ path: "/app", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } }],
};

/**
 * Through a pod on Docker; the note to print when it could not be (no Docker, no root),
 * or undefined when it ran.
 */
const throughPod = async (o: { concurrency: number; duration: number }, report: Report, say: Say): Promise<string | undefined> => {
  const { docker } = await import("../test/agent-e2e/engines");
  const { canTouchNetwork, netSink } = await import("../test/netsink");
  if (!(await docker.available())) return "no Docker with kubeflare/busybox:test (scripts/test-image.sh)";
  if (!(await canTouchNetwork())) return "not root (the pod network needs it)";
  const { agentCli, AgentProcess, joinArgs } = await import("../test/agent-e2e/process");
  const { LABELS } = await import("../agent/runtime/runtime");
  const id = process.pid % 10_000;
  const node = `bench-ingress-${process.pid}`;
  const bridge = `kfbi${id}`;
  const network = `kf-bench-ingress-${process.pid}`;
  const base = mkdtempSync(join(tmpdir(), "kf-bench-ingress-"));
  const sink = await netSink(`kfsbi${id}`, 8000 + (process.pid % 900));
  sink.alsoLinks(bridge);
  const server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(base, "server"), synchronous: "NORMAL", log: () => {} });
  const api = new ApiClient({ server: server.url, token: server.adminToken, caPem: server.caPem });
  let agent: InstanceType<typeof AgentProcess> | undefined;
  try {
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    const caFile = join(base, "ca.crt");
    writeFileSync(caFile, server.caPem);
    const config = join(base, "agent.json");
    const token = JSON.parse((await agentCli(["token", "create", "--kubeconfig", server.kubeconfigPath, "-o", "json"])).stdout).token;
    const joined = await agentCli(
      joinArgs({
        server: server.url,
        token,
        name: node,
        runtime: "docker",
        caFile,
        config,
        dataDir: join(base, "agent"),
        podCIDR: `10.42.${110 + (process.pid % 30)}.0/24`,
        podBridge: bridge,
        podNetworkName: network,
        extra: ["--ingress-http-port", String(httpPort), "--ingress-https-port", String(httpsPort)],
      }),
    );
    if (joined.code !== 0) throw new Error(`kubeflare-agent join failed: ${joined.stderr}`);
    agent = new AgentProcess(config);
    agent.start();
    say("ingress: a busybox httpd pod on Docker, its Service and an Ingress", 0);
    await api.request("POST", "/api/v1/namespaces/default/pods", {
      metadata: { name: "web", labels: { app: "web" } },
      spec: {
        nodeName: node,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "web",
            image: "kubeflare/busybox:test",
            imagePullPolicy: "Never",
            command: ["sh", "-c", "mkdir -p /www/app && echo hello from the pod > /www/app/x && exec httpd -f -p 8080 -h /www"],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    });
    await api.request("POST", "/api/v1/namespaces/default/services", {
      metadata: { name: "web" },
      spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    await api.request("POST", "/apis/networking.k8s.io/v1/namespaces/default/ingresses", { metadata: { name: "web" }, spec: ingressSpec });
    let podIP = "";
    for (const t0 = performance.now(); !podIP; ) {
      const pod = await api.get("/api/v1/namespaces/default/pods/web");
      if (pod.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True")) podIP = pod.status.podIP;
      else if (performance.now() - t0 > 120_000) throw new Error(`the bench pod did not become Ready within 2 minutes:\n${agent.output().slice(-3000)}`);
      else await new Promise((r) => setTimeout(r, 200));
    }
    await reachable(podIP, 8080, `the pod at ${podIP}:8080`);
    await reachable("127.0.0.1", httpPort, "the ingress proxy");
    await compare(o, report, say, [
      ["straight to the pod (busybox httpd on Docker)", podIP, 8080],
      ["through the ingress proxy to the pod", "127.0.0.1", httpPort],
    ]);
    return undefined;
  } finally {
    await agent?.kill("SIGTERM");
    for (const c of await docker.containers({ [LABELS.node]: node })) await docker.remove(c.id);
    await new Promise((r) => execFile("docker", ["network", "rm", network], () => r(undefined)));
    await api.close();
    await server.close();
    await sink.cleanup();
    rmSync(base, { recursive: true, force: true });
  }
};

/** The fallback: a backend on 127.0.0.1 in this process standing in for the pod, the ingress proxy in process too. */
const throughHostBackend = async (o: { concurrency: number; duration: number }, report: Report, say: Say) => {
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
    await api.request("POST", "/apis/networking.k8s.io/v1/namespaces/default/ingresses", { metadata: { name: "web" }, spec: ingressSpec });
    await reachable("127.0.0.1", proxy.http!.port, "the ingress proxy");
    await compare(o, report, say, [
      ["straight to a 127.0.0.1 stand-in backend (no pod)", "127.0.0.1", backendPort],
      ["through the ingress proxy to the stand-in", "127.0.0.1", proxy.http!.port],
    ]);
  } finally {
    ac.abort();
    await proxy.stop();
    await api.close();
    await server.close();
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Run the comparison; returns the note printed with the figures (which backend, and why not a pod when not). */
export async function benchIngress(o: { concurrency: number; duration: number }, report: Report, say: Say): Promise<string> {
  const missing = await throughPod(o, report, say);
  if (missing === undefined) return "ingress: backend = a busybox httpd pod on Docker, run by a kubeflare-agent process; the proxy is that agent's";
  const note = `ingress: NOTE: ${missing}, so the backend is a Node server on 127.0.0.1 standing in for the pod, and the proxy runs in process`;
  say(note);
  await throughHostBackend(o, report, say);
  return note;
}
