/**
 * Cluster DNS as the agent runs it, against the real Node control plane with a real
 * node credential: the agent's shared informers on Services and EndpointSlices feed the
 * DNS server (on 127.0.0.1, a random port) and the pods' service environment; a pod's
 * resolv.conf is written for its containers. DNS is asked for cluster names only.
 */
import { readFileSync } from "node:fs";
import { Resolver } from "node:dns/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "../agent/api";
import { NodeDns } from "../agent/dns/node";
import { runInformers, type ServiceInformers, serviceInformers } from "../agent/informer";
import { containerEnv } from "../agent/env";
import { startNodeTarget } from "./targets";

let target: Awaited<ReturnType<typeof startNodeTarget>>;
let api: ApiClient;
let dns: NodeDns;
let informers: ServiceInformers;
const watching = new AbortController();
let informing: Promise<void>;
const events: string[] = [];

const call = async (method: string, path: string, body?: unknown) => {
  const res = await target.fetch(path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json as any;
};

const until = async <T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    let v: T | undefined;
    try {
      v = await f();
      if (ok(v)) return v;
    } catch (e) {
      if (Date.now() > end) throw e;
    }
    if (Date.now() > end) return v as T;
    await new Promise((r) => setTimeout(r, 100));
  }
};

const resolver = () => {
  const r = new Resolver({ timeout: 1000, tries: 1 });
  r.setServers([`127.0.0.1:${dns.port}`]);
  return r;
};

beforeAll(async () => {
  target = await startNodeTarget({ watchPollMs: 50 });
  const { token } = await call("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { ttlSeconds: 600 });
  const joined = await (
    await target.fetch("/apis/kubeflare.dev/v1/join", {
      method: "POST",
      token,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ nodeName: "dns-node" }),
    })
  ).json();
  api = new ApiClient({ server: target.url, token: (joined as any).token, caPem: target.caPem });
  informers = serviceInformers(api);
  informing = runInformers(informers, watching.signal);
  dns = new NodeDns({
    informers,
    dataDir: target.dataDir,
    clusterDNS: "10.43.0.10",
    clusterDomain: "cluster.local",
    upstreams: [],
    listen: { host: "127.0.0.1", port: 0 },
    events: { record: (_pod, type, reason, message) => events.push(`${type} ${reason} ${message}`) },
    log: () => undefined,
  });
  dns.start();
  await until(
    async () => dns.port,
    (p) => p > 0,
  );
}, 60_000);

afterAll(async () => {
  await dns?.stop();
  watching.abort();
  await informing;
  await api?.close();
  await target?.close();
});

describe("cluster DNS in the agent, fed by the node's watches", () => {
  it("answers for Services as they are created and deleted", async () => {
    const kubernetes = await call("GET", "/api/v1/namespaces/default/services/kubernetes");
    expect(
      await until(
        () => resolver().resolve4("kubernetes.default.svc.cluster.local"),
        (v) => v.length > 0,
      ),
    ).toEqual([kubernetes.spec.clusterIP]);
    const web = await call("POST", "/api/v1/namespaces/default/services", {
      metadata: { name: "web" },
      spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    });
    expect(
      await until(
        () => resolver().resolve4("web.default.svc.cluster.local"),
        (v) => v.length > 0,
      ),
    ).toEqual([web.spec.clusterIP]);
    expect(await resolver().resolveSrv("_http._tcp.web.default.svc.cluster.local")).toEqual([
      { name: "web.default.svc.cluster.local", port: 80, priority: 0, weight: 100 },
    ]);
    await call("DELETE", "/api/v1/namespaces/default/services/web");
    const gone = await until(
      () =>
        resolver()
          .resolve4("web.default.svc.cluster.local")
          .then(
            () => "found",
            (e) => e.code as string,
          ),
      (v) => v === "ENOTFOUND",
    );
    expect(gone).toBe("ENOTFOUND");
  });

  it("a headless Service resolves to its ready EndpointSlice addresses, StatefulSet names included", async () => {
    await call("POST", "/api/v1/namespaces/default/services", { metadata: { name: "db" }, spec: { clusterIP: "None", ports: [{ port: 5432 }] } });
    await call("POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", {
      metadata: { name: "db-1", labels: { "kubernetes.io/service-name": "db" } },
      addressType: "IPv4",
      endpoints: [
        { addresses: ["10.42.0.7"], hostname: "db-0", conditions: { ready: true } },
        { addresses: ["10.42.0.8"], conditions: { ready: false } },
      ],
      ports: [{ port: 5432, protocol: "TCP" }],
    });
    expect(
      await until(
        () => resolver().resolve4("db.default.svc.cluster.local"),
        (v) => v.length > 0,
      ),
    ).toEqual(["10.42.0.7"]);
    expect(await resolver().resolve4("db-0.db.default.svc.cluster.local")).toEqual(["10.42.0.7"]);
  });

  it("gives pods the service environment and their resolv.conf", async () => {
    const kubernetes = await call("GET", "/api/v1/namespaces/default/services/kubernetes");
    const pod = { metadata: { name: "p", namespace: "default", uid: "dns-test-pod" }, spec: { containers: [{ name: "c" }] } };
    const env = await containerEnv(api, pod, { name: "c" }, "10.42.0.9", "127.0.0.1", dns.services());
    expect(env).toContain(`KUBERNETES_SERVICE_HOST=${kubernetes.spec.clusterIP}`);
    expect(env).toContain("KUBERNETES_SERVICE_PORT=443");
    const mount = dns.resolvConfMount(pod);
    expect(mount.containerPath).toBe("/etc/resolv.conf");
    const text = readFileSync(mount.hostPath, "utf8");
    expect(text).toMatch(/^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\b/);
    expect(text).toContain("nameserver 10.43.0.10\n");
    expect(text).toContain("options ndots:5\n");
  });

  it.skipIf(process.getuid?.() !== 0)("serves on the gateway of the pod network the agent has (from --pod-cidr too, not only spec.podCIDR)", async () => {
    // a loopback address stands in for the bridge's 10.42.N.1; this node's Node has no spec.podCIDR at all
    const node = await call("GET", "/api/v1/nodes/dns-node").catch(() => null);
    expect(node?.spec?.podCIDR).toBeUndefined();
    const gateway = `127.42.${process.pid % 250}.1`;
    let podNetwork: { gateway: string } | undefined;
    const second = new NodeDns({
      informers,
      podNetwork: () => podNetwork,
      dataDir: target.dataDir,
      clusterDNS: "10.43.0.10",
      clusterDomain: "cluster.local",
      upstreams: [],
      events: { record: () => undefined },
      log: () => undefined,
    });
    second.start();
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(second.port).toBe(0);
      podNetwork = { gateway };
      expect(
        await until(
          async () => second.port,
          (p) => p > 0,
        ),
      ).toBe(53);
      const r = new Resolver({ timeout: 1000, tries: 1 });
      r.setServers([`${gateway}:53`]);
      const kubernetes = await call("GET", "/api/v1/namespaces/default/services/kubernetes");
      expect(await r.resolve4("kubernetes.default.svc.cluster.local")).toEqual([kubernetes.spec.clusterIP]);
    } finally {
      await second.stop();
    }
  });
});
