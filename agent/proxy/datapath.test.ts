/**
 * The kube-proxy rules on a real kernel: network namespaces (see agent/testing/netns.ts), the
 * generated ruleset applied with `nft` inside the "node" namespace, and real TCP/UDP
 * connections from a client namespace and from the node itself.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { type Answer, installed, NetnsFixture, netnsUnavailable } from "../testing/netns";
import { NftProxier, ProxyLoop } from "./proxier";
import { buildRuleset, type ProxyInput } from "./rules";

const missing = netnsUnavailable("kube-proxy data path test");

const iptables = installed("iptables");
if (!iptables && process.env.CI === "true") throw new Error("iptables is needed in CI (Docker hosts)");

const NODE = "node-a";
const svc = (name: string, spec: any, status?: any): KObject => ({
  metadata: { name, namespace: "default", creationTimestamp: "2026-01-01T00:00:00Z" },
  spec: { type: "ClusterIP", ...spec },
  status,
});
const ep = (ip: string, nodeName: string, ready = true) => ({ addresses: [ip], nodeName, conditions: { ready, serving: ready, terminating: false } });
const slice = (svcName: string, endpoints: any[]): KObject => ({
  metadata: { name: `${svcName}-abc`, namespace: "default", labels: { "kubernetes.io/service-name": svcName } },
  addressType: "IPv4",
  ports: [
    { name: "http", port: 8080, protocol: "TCP" },
    { name: "dns", port: 5353, protocol: "UDP" },
  ],
  endpoints,
});
const ports = (nodePort?: number) => [
  { name: "http", port: 80, targetPort: "http", protocol: "TCP", ...(nodePort ? { nodePort } : {}) },
  { name: "dns", port: 53, targetPort: 5353, protocol: "UDP" },
];

const services = [
  svc("web", { type: "NodePort", clusterIP: "10.43.250.1", ports: ports(30080) }),
  svc("sticky", { clusterIP: "10.43.250.2", ports: ports(), sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } }),
  svc("empty", { clusterIP: "10.43.250.3", ports: ports() }),
  svc("local", { type: "NodePort", clusterIP: "10.43.250.4", externalTrafficPolicy: "Local", ports: ports(30081) }),
  svc("headless", { clusterIP: "None", ports: ports() }),
  svc("lb", { type: "LoadBalancer", clusterIP: "10.43.250.5", ports: [{ name: "http", port: 8081, targetPort: "http", protocol: "TCP", nodePort: 30082 }] }),
  svc("kubernetes", { clusterIP: "10.43.250.9", ports: [{ name: "http", port: 443, targetPort: "http", protocol: "TCP" }] }),
];
const bothReady = [ep("10.42.250.10", NODE), ep("10.42.250.11", "node-b")];
const input = (webEndpoints = bothReady): ProxyInput => ({
  services,
  endpointSlices: [
    slice("web", webEndpoints),
    slice("sticky", bothReady),
    slice("local", bothReady),
    slice("headless", bothReady),
    slice("lb", bothReady),
    slice("kubernetes", bothReady),
  ],
  nodeName: NODE,
  nodeIPs: ["10.42.251.1"],
  clusterCIDR: "10.42.250.0/24",
  serviceCIDR: "10.43.250.0/24",
  localDNS: { ip: "10.42.250.1", port: 5300, serviceIP: "10.43.250.10" },
  localAPI: { ip: "10.42.250.1", port: 6444, serviceIP: "10.43.250.9" },
});
const names = (answers: Answer[]) => new Set(answers.map((a) => a.name ?? a.error));

describe.skipIf(!!missing)(`kube-proxy data path in network namespaces${missing ? ` (skipped: ${missing})` : ""}`, () => {
  const fx = new NetnsFixture();
  let loop: ProxyLoop;

  beforeAll(async () => {
    try {
      await fx.create();
      await Promise.all([
        fx.serve(fx.eps[0]!, "ep1", 8080, 5353),
        fx.serve(fx.eps[1]!, "ep2", 8080, 5353),
        fx.serve(fx.node, "node-dns", 5301, 5300, "10.42.250.1"),
        fx.serve(fx.node, "node-api-relay", 6444, 6445, "10.42.250.1"),
      ]);
      loop = new ProxyLoop({ prefix: ["ip", "netns", "exec", fx.node] });
      loop.update(input());
      await loop.settled();
      expect(loop.errors).toBe(0);
    } catch (e) {
      await fx.destroy();
      throw e;
    }
  });
  afterAll(async () => {
    await loop?.stop(true).catch(() => {});
    await fx.destroy();
  });

  it("spreads ClusterIP TCP connections over both endpoints, masquerading a client outside the pod network", async () => {
    const answers = await fx.ask(fx.client, "tcp", "10.43.250.1", 80, 40);
    expect(names(answers)).toEqual(new Set(["ep1", "ep2"]));
    expect(new Set(answers.map((a) => a.peer))).toEqual(new Set(["10.42.250.1"]));
  });

  it("lets a pod on the endpoints' bridge reach the ClusterIP, unmasqueraded (bridged replies are un-DNATed)", async () => {
    const answers = await fx.ask(fx.pod, "tcp", "10.43.250.1", 80, 40);
    expect(names(answers)).toEqual(new Set(["ep1", "ep2"]));
    expect(new Set(answers.map((a) => a.peer))).toEqual(new Set(["10.42.250.20"]));
  });

  it("carries UDP to the targetPort, spread too", async () => {
    expect(names(await fx.ask(fx.client, "udp", "10.43.250.1", 53, 40))).toEqual(new Set(["ep1", "ep2"]));
  });

  it("answers NodePorts on the node's 127.0.0.1 and on its address", async () => {
    expect(names(await fx.ask(fx.node, "tcp", "127.0.0.1", 30080, 40))).toEqual(new Set(["ep1", "ep2"]));
    expect(names(await fx.ask(fx.client, "tcp", "10.42.251.1", 30080, 40))).toEqual(new Set(["ep1", "ep2"]));
  });

  it("LoadBalancer (ServiceLB-style): the Service port answers on the node's address and its 127.0.0.1", async () => {
    expect(names(await fx.ask(fx.client, "tcp", "10.42.251.1", 8081, 40))).toEqual(new Set(["ep1", "ep2"]));
    expect(names(await fx.ask(fx.node, "tcp", "127.0.0.1", 8081, 40))).toEqual(new Set(["ep1", "ep2"]));
  });

  it("keeps a ClientIP-affinity client on one endpoint", async () => {
    const answers = await fx.ask(fx.client, "tcp", "10.43.250.2", 80, 20);
    expect(names(answers).size).toBe(1);
    expect(["ep1", "ep2"]).toContain(answers[0]!.name);
  });

  it("rejects connections to a Service without endpoints and to unknown ports of a ClusterIP", async () => {
    expect(await fx.ask(fx.client, "tcp", "10.43.250.3", 80)).toEqual([{ error: "ECONNREFUSED" }]);
    expect(await fx.ask(fx.client, "tcp", "10.43.250.1", 81)).toEqual([{ error: "ECONNREFUSED" }]);
  });

  it("externalTrafficPolicy Local: only the local endpoint, client address preserved", async () => {
    const answers = await fx.ask(fx.client, "tcp", "10.42.251.1", 30081, 20);
    expect(names(answers)).toEqual(new Set(["ep1"]));
    expect(new Set(answers.map((a) => a.peer))).toEqual(new Set(["10.42.251.2"]));
    // the ClusterIP of the same Service still uses every endpoint
    expect(names(await fx.ask(fx.client, "tcp", "10.43.250.4", 80, 40))).toEqual(new Set(["ep1", "ep2"]));
  });

  it("sends the cluster DNS Service IP to the node-local DNS listener", async () => {
    expect(names(await fx.ask(fx.client, "udp", "10.43.250.10", 53, 3))).toEqual(new Set(["node-dns"]));
  });

  it("sends the kubernetes Service's port 443 to the node's API relay, not to its endpoints", async () => {
    expect(names(await fx.ask(fx.client, "tcp", "10.43.250.9", 443, 5))).toEqual(new Set(["node-api-relay"]));
  });

  it("takes an endpoint that turned not ready out of rotation, and keeps affinity of unchanged Services", async () => {
    const stuck = (await fx.ask(fx.client, "tcp", "10.43.250.2", 80))[0]!.name;
    // a UDP client that keeps its source port and landed on ep2: conntrack pins it there
    let port = 40_000;
    while ((await fx.ask(fx.client, "udp", "10.43.250.1", 53, 1, port))[0]!.name !== "ep2" && port < 40_040) port++;
    expect(names(await fx.ask(fx.client, "udp", "10.43.250.1", 53, 3, port))).toEqual(new Set(["ep2"]));
    loop.update(input([ep("10.42.250.10", NODE), ep("10.42.250.11", "node-b", false)]));
    try {
      await loop.settled();
      expect(loop.errors).toBe(0);
      expect(names(await fx.ask(fx.client, "tcp", "10.43.250.1", 80, 30))).toEqual(new Set(["ep1"]));
      expect(names(await fx.ask(fx.client, "udp", "10.43.250.1", 53, 10))).toEqual(new Set(["ep1"]));
      // its flow to ep2 was deleted with the endpoint (kube-proxy's conntrack cleanup), so it moves too
      expect(names(await fx.ask(fx.client, "udp", "10.43.250.1", 53, 3, port))).toEqual(new Set(["ep1"]));
      expect(names(await fx.ask(fx.client, "tcp", "10.43.250.2", 80, 10))).toEqual(new Set([stuck]));
    } finally {
      // and back (also when a check above failed, so the next cases start from both endpoints)
      loop.update(input());
      await loop.settled();
    }
    expect(names(await fx.ask(fx.client, "tcp", "10.43.250.1", 80, 40))).toEqual(new Set(["ep1", "ep2"]));
  });

  it.skipIf(!iptables)(`gets through a Docker host's FORWARD DROP policy${iptables ? "" : " (skipped: no iptables)"}`, async () => {
    // what dockerd does to a host, in the node namespace
    for (const args of [
      ["-N", "DOCKER-USER"],
      ["-A", "FORWARD", "-j", "DOCKER-USER"],
      ["-P", "FORWARD", "DROP"],
    ])
      await fx.in(fx.node, "iptables", ...args);
    expect(await fx.ask(fx.client, "tcp", "10.42.251.1", 30080)).toEqual([{ error: "timeout" }]);
    await loop.resync();
    expect(names(await fx.ask(fx.client, "tcp", "10.42.251.1", 30080, 20))).toEqual(new Set(["ep1", "ep2"]));
    expect(names(await fx.ask(fx.client, "tcp", "10.43.250.4", 80, 20))).toEqual(new Set(["ep1", "ep2"]));
    await loop.proxier.remove();
    expect(await fx.in(fx.node, "iptables", "-S", "DOCKER-USER")).not.toContain("kubeflare");
    await fx.in(fx.node, "iptables", "-P", "FORWARD", "ACCEPT");
    loop.update(input());
    await loop.settled();
  });

  it("loads the table again when someone deleted it", async () => {
    await fx.nft("delete", "table", "ip", "kubeflare");
    expect(names(await fx.ask(fx.client, "tcp", "10.43.250.1", 80))).not.toContain("ep1");
    await loop.resync();
    await loop.settled();
    expect(names(await fx.ask(fx.client, "tcp", "10.43.250.1", 80, 20))).toEqual(new Set(["ep1", "ep2"]));
  });

  it("leaves the kernel alone when nothing changed, and removes the table on stop", async () => {
    const p = new NftProxier({ prefix: ["ip", "netns", "exec", fx.node] });
    const rs = buildRuleset(input());
    expect(await p.apply(rs)).toBe(true);
    expect(await p.apply(buildRuleset(input()))).toBe(false);
    await p.remove();
    await expect(fx.nft("list", "table", "ip", "kubeflare")).rejects.toThrow();
    expect(await fx.ask(fx.client, "tcp", "10.43.250.1", 80)).not.toEqual([expect.objectContaining({ name: expect.any(String) })]);
    await p.apply(rs);
    expect(names(await fx.ask(fx.client, "tcp", "10.43.250.1", 80, 10)).has("ep1")).toBe(true);
  });
});
