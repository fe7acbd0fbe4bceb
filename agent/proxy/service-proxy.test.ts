/**
 * kube-proxy against a real control plane: the node credential's watches on Services and
 * EndpointSlices drive the rules in a test network namespace (agent/testing/netns.ts), and a
 * client namespace connects to what the API allocated.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sample } from "../../test/prom";
import { startNodeTarget } from "../../test/targets";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeAgent } from "../agent";
import { ApiClient } from "../api";
import { runInformers, serviceInformers } from "../informer";
import { AgentMetrics } from "../metrics";
import { pickRuntime } from "../runtime/pick";
import { NetnsFixture, netnsUnavailable } from "../testing/netns";
import { kubeProxySetting, ServiceProxy } from "./service-proxy";

const missing = netnsUnavailable("kube-proxy watch test");
const docker = (() => {
  try {
    execFileSync("docker", ["info"], { stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    if (process.env.CI === "true") throw new Error("Docker is needed in CI");
    return false;
  }
})();

describe("kubeProxySetting", () => {
  it("is off when not wanted, and says why when it cannot run", () => {
    const logs: string[] = [];
    expect(kubeProxySetting(false, { clusterDNS: "10.43.0.10" }, (m) => logs.push(m))).toBeUndefined();
    expect(logs).toEqual([]);
    const on = kubeProxySetting(true, { clusterDNS: "10.43.0.10" }, (m) => logs.push(m));
    if (missing) expect(logs[0]).toMatch(/kube-proxy: not running/);
    else expect(on).toEqual({ clusterDNS: "10.43.0.10" });
  });
});

/** the agent's real client, counting what it asks the control plane */
class CountingApi extends ApiClient {
  readonly calls: string[] = [];
  override request<T = any>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    this.calls.push(`${method} ${path}`);
    return super.request<T>(method, path, body, contentType);
  }
  override watch(...args: Parameters<ApiClient["watch"]>): Promise<void> {
    this.calls.push(`WATCH ${args[0]}`);
    return super.watch(...args);
  }
}

const slice = (ep2Ready: boolean) => ({
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { name: "web-1", labels: { "kubernetes.io/service-name": "web" } },
  addressType: "IPv4",
  ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  endpoints: [
    { addresses: ["10.42.250.10"], nodeName: "node-a", conditions: { ready: true } },
    { addresses: ["10.42.250.11"], nodeName: "node-b", conditions: { ready: ep2Ready } },
  ],
});

describe.skipIf(!!missing)(`kube-proxy driven by the API's watches${missing ? ` (skipped: ${missing})` : ""}`, () => {
  const fx = new NetnsFixture(`kfw${process.pid % 10000}`);
  let target: Awaited<ReturnType<typeof startNodeTarget>>;
  let proxy: ServiceProxy;
  let api: ApiClient;
  let nodeToken: string;
  /** the informers the first test's ServiceProxy runs on (the agent runs its own) */
  const watching = new AbortController();
  let informing: Promise<void> | undefined;
  const admin = async (method: string, path: string, body?: unknown) => {
    const r = await target.fetch(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { "Content-Type": "application/json" },
    });
    const json = await r.json();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
    return json as any;
  };
  /** ask until `ok` holds (the watch and the rate limiter take a moment); the last answers */
  const until = async (ok: (names: string[]) => boolean, host: string, port: number) => {
    let names: string[] = [];
    for (let i = 0; i < 50; i++) {
      names = (await fx.ask(fx.client, "tcp", host, port, 20)).map((a) => a.name ?? a.error ?? "");
      if (ok(names)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return names;
  };

  beforeAll(async () => {
    try {
      await fx.create();
      await Promise.all([fx.serve(fx.eps[0]!, "ep1", 8080, 5353), fx.serve(fx.eps[1]!, "ep2", 8080, 5353)]);
      target = await startNodeTarget({ watchPollMs: 50 });
      const tok = await admin("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { ttlSeconds: 600 });
      const cred = await (
        await target.fetch("/apis/kubeflare.dev/v1/join", { method: "POST", body: JSON.stringify({ nodeName: "node-a" }), token: tok.token })
      ).json();
      nodeToken = (cred as any).token;
      api = new ApiClient({ server: target.url, token: nodeToken, caPem: target.caPem });
    } catch (e) {
      await fx.destroy();
      throw e;
    }
  });
  afterAll(async () => {
    watching.abort();
    await informing;
    await proxy?.stop(true).catch(() => {});
    await api?.close();
    await target?.close();
    await fx.destroy();
  });

  it("programs a Service from the watches, follows readiness changes, and forgets deleted Services", async () => {
    const svc = await admin("POST", "/api/v1/namespaces/default/services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: { type: "NodePort", ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    });
    await admin("POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", slice(true));
    const clusterIP: string = svc.spec.clusterIP;
    const nodePort: number = svc.spec.ports[0].nodePort;

    const informers = serviceInformers(api);
    informing = runInformers(informers, watching.signal);
    // the pod network comes from the agent, once it has one
    let podNetwork: { subnet: string; gateway: string } | undefined;
    const metrics = new AgentMetrics();
    proxy = new ServiceProxy({
      onSync: metrics.proxySynced,
      informers,
      podNetwork: () => podNetwork,
      clusterDNS: "10.43.0.10",
      nodeName: "node-a",
      nodeIPs: ["10.42.251.1"],
      clusterCIDR: "10.42.250.0/24",
      prefix: ["ip", "netns", "exec", fx.node],
    });
    proxy.start();
    const both = (n: string[]) => new Set(n).size === 2 && n.every((x) => x === "ep1" || x === "ep2");
    expect(new Set(await until(both, clusterIP, 80))).toEqual(new Set(["ep1", "ep2"]));
    expect(new Set(await until(both, "10.42.251.1", nodePort))).toEqual(new Set(["ep1", "ep2"]));

    // no pod network yet: no DNAT of the cluster DNS IP; once the agent has one, to its gateway's port 53
    const table = () => fx.nft("list", "table", "ip", "kubeflare");
    expect(await table()).not.toContain("local-dns");
    podNetwork = { subnet: "10.42.250.0/24", gateway: "10.42.250.1" };
    for (let i = 0; i < 50 && !(await table()).includes("dnat to 10.42.250.1:53"); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await table()).toContain("dnat to 10.42.250.1:53");

    // ep2 turns not ready: out of the rotation, within a generous bound
    const cur = await admin("GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-1");
    const t0 = Date.now();
    await admin("PUT", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-1", { ...slice(false), metadata: cur.metadata });
    const names = await until((n) => n.every((x) => x === "ep1"), clusterIP, 80);
    expect(new Set(names)).toEqual(new Set(["ep1"]));
    expect(Date.now() - t0).toBeLessThan(5000);

    await admin("DELETE", "/api/v1/namespaces/default/services/web");
    for (let i = 0; i < 50; i++) {
      const table = await fx.nft("list", "table", "ip", "kubeflare");
      if (!table.includes(clusterIP)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await fx.nft("list", "table", "ip", "kubeflare")).not.toContain(clusterIP);
    expect(proxy.loop.errors).toBe(0);
    // kube-proxy's metrics: every apply timed, the last good one's time kept
    const text = await metrics.registry.metrics();
    expect(sample(text, "kubeproxy_sync_proxy_rules_duration_seconds_count")).toBeGreaterThanOrEqual(3);
    expect(sample(text, "kubeproxy_sync_proxy_rules_last_timestamp_seconds")).toBeGreaterThan(0);
    expect(sample(text, "kubeproxy_sync_proxy_rules_errors_total")).toBe(0);

    await proxy.stop(true);
    await expect(fx.nft("list", "table", "ip", "kubeflare")).rejects.toThrow();
  });

  it.skipIf(!docker)(
    `runs inside the node agent when asked to, and leaves the rules in place when the agent stops${docker ? "" : " (skipped: no Docker)"}`,
    async () => {
      const picked = await pickRuntime("docker", tmpdir());
      const dataDir = mkdtempSync(join(tmpdir(), "kf-proxy-agent-"));
      const counting = new CountingApi({ server: target.url, token: nodeToken, caPem: target.caPem });
      const agent = new NodeAgent({
        api: counting,
        runtime: picked.runtime,
        nodeName: "node-a",
        nodeIP: "10.42.251.1",
        dataDir,
        log: () => {},
        kubeProxy: { clusterCIDR: "10.42.250.0/24", prefix: ["ip", "netns", "exec", fx.node] },
      });
      try {
        await agent.start();
        const svc = await admin("POST", "/api/v1/namespaces/default/services", {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "web2" },
          spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }] },
        });
        await admin("POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", {
          ...slice(true),
          metadata: { name: "web2-1", labels: { "kubernetes.io/service-name": "web2" } },
        });
        const both = (n: string[]) => new Set(n).size === 2 && n.every((x) => x === "ep1" || x === "ep2");
        expect(new Set(await until(both, svc.spec.clusterIP, 80))).toEqual(new Set(["ep1", "ep2"]));
      } finally {
        await agent.stop();
        await counting.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
      expect(await fx.nft("list", "table", "ip", "kubeflare")).toContain("kubeflare");
      // cluster DNS (the agent runs its view always) and kube-proxy share one list and one watch per resource
      const of = (path: string) => counting.calls.filter((c) => c.endsWith(` ${path}`));
      expect(of("/api/v1/services")).toEqual(["GET /api/v1/services", "WATCH /api/v1/services"]);
      expect(of("/apis/discovery.k8s.io/v1/endpointslices")).toEqual([
        "GET /apis/discovery.k8s.io/v1/endpointslices",
        "WATCH /apis/discovery.k8s.io/v1/endpointslices",
      ]);
    },
  );
});
