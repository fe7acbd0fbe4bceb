/**
 * NetworkPolicy rules on a real kernel: the kube-proxy fixture's network namespaces
 * (agent/testing/netns.ts: three "pods" on a bridge in a "node" namespace, and a
 * client routed through the node as a pod of another node), the generated policy table
 * applied with `nft` inside the node namespace (br_netfilter on there, so bridged traffic
 * reaches the forward hook), kube-proxy's table next to it for the ClusterIP case, and
 * real TCP connections. Everything is created by the test and removed after it.
 *
 *   web 10.42.250.10 (app=web, port "http" 8080)  db 10.42.250.11 (app=db)
 *   fe  10.42.250.20 (role=fe)                      far 10.42.251.2 (role=fe, namespace prod, another node)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { type Answer, NetnsFixture, netnsUnavailable } from "../testing/netns";
import { ProxyLoop } from "../proxy/proxier";
import { NetpolEnforcer } from "./enforcer";
import type { NetpolInput } from "./rules";

const missing = netnsUnavailable("network policy data path test");

const NODE = "node-a";
const pod = (name: string, ip: string, labels: Record<string, string>, o: { ns?: string; node?: string; ports?: any[] } = {}): KObject => ({
  metadata: { name, namespace: o.ns ?? "default", labels },
  spec: { nodeName: o.node ?? NODE, containers: [{ name: "c", image: "x", ports: o.ports ?? [] }] },
  status: { phase: "Running", podIP: ip },
});
const PODS = [
  pod("web", "10.42.250.10", { app: "web" }, { ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] }),
  pod("db", "10.42.250.11", { app: "db" }),
  pod("fe", "10.42.250.20", { role: "fe" }),
  pod("far", "10.42.251.2", { role: "fe" }, { ns: "prod", node: "node-b" }),
];
const NAMESPACES: KObject[] = [
  { metadata: { name: "default", labels: { "kubernetes.io/metadata.name": "default" } } },
  { metadata: { name: "prod", labels: { "kubernetes.io/metadata.name": "prod", env: "prod" } } },
];
const np = (name: string, spec: any): KObject => ({ metadata: { name, namespace: "default" }, spec });
const input = (...policies: KObject[]): NetpolInput => ({ policies, pods: PODS, namespaces: NAMESPACES, nodeName: NODE });

const DENY_INGRESS = np("default-deny-ingress", { podSelector: {}, policyTypes: ["Ingress"] });
const WEB_FROM_FE = np("web-from-fe", {
  podSelector: { matchLabels: { app: "web" } },
  policyTypes: ["Ingress"],
  ingress: [{ from: [{ podSelector: { matchLabels: { role: "fe" } } }], ports: [{ protocol: "TCP", port: "http" }] }],
});

const ok = (answers: Answer[], who: string) => answers.length === 1 && answers[0]!.name === who;
const blocked = (answers: Answer[]) => answers.length === 1 && answers[0]!.error === "timeout";

describe.skipIf(!!missing)(`NetworkPolicy data path in network namespaces${missing ? ` (skipped: ${missing})` : ""}`, () => {
  const fx = new NetnsFixture(`kfnp${process.pid % 1000}`);
  const [web, db] = fx.eps as [string, string];
  const fe = fx.pod;
  const far = fx.client;
  let enforcer: NetpolEnforcer;
  let proxy: ProxyLoop | undefined;
  const policies = async (...ps: KObject[]) => {
    await enforcer.apply(input(...ps));
  };
  const ask = (from: string, host = "10.42.250.10", port = 8080) => fx.ask(from, "tcp", host, port);

  beforeAll(async () => {
    try {
      await fx.create();
      await Promise.all([fx.serve(web, "web", 8080, 5353), fx.serve(db, "db", 8080, 5353), fx.serve(fe, "fe", 8080, 5353)]);
      enforcer = new NetpolEnforcer({ prefix: ["ip", "netns", "exec", fx.node] });
    } catch (e) {
      await fx.destroy();
      throw e;
    }
  });
  afterAll(async () => {
    await enforcer?.stop(true).catch(() => {});
    await proxy?.stop(true).catch(() => {});
    await fx.destroy();
  });

  it("default-deny ingress blocks connections that worked before, on the bridge and from another node", async () => {
    await policies();
    expect(await ask(fe)).toSatisfy((a: Answer[]) => ok(a, "web"));
    expect(await ask(far)).toSatisfy((a: Answer[]) => ok(a, "web"));
    await policies(DENY_INGRESS);
    // (asked at once, from three namespaces: each blocked one waits out the client's 2 s)
    const [fromFe, fromFar, toFe] = await Promise.all([ask(fe), ask(far), ask(web, "10.42.250.20")]);
    expect(fromFe).toSatisfy(blocked);
    expect(fromFar).toSatisfy(blocked);
    // an empty podSelector selects every pod of the namespace: fe is isolated too
    expect(toFe).toSatisfy(blocked);
    const nft = await fx.nft("list", "table", "inet", "kubeflare-netpol");
    expect(nft).toContain("hook forward");
  });

  it("a policy allowing pods with a label (on a named port) lets them in and not another; the union with default deny", async () => {
    await policies(DENY_INGRESS, WEB_FROM_FE);
    expect(await ask(fe)).toSatisfy((a: Answer[]) => ok(a, "web"));
    const [fromDb, fromFar] = await Promise.all([ask(db), ask(far)]);
    expect(fromDb).toSatisfy(blocked);
    // far has role=fe but lives in namespace prod: a podSelector alone means the policy's namespace
    expect(fromFar).toSatisfy(blocked);
    // ...a namespaceSelector brings it in
    const fromProd = np("web-from-prod", {
      podSelector: { matchLabels: { app: "web" } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: "prod" } }, podSelector: { matchLabels: { role: "fe" } } }] }],
    });
    await policies(DENY_INGRESS, WEB_FROM_FE, fromProd);
    expect(await ask(far)).toSatisfy((a: Answer[]) => ok(a, "web"));
  });

  it("egress deny blocks a connection the destination would accept; replies of allowed connections pass", async () => {
    const feDenyEgress = np("fe-deny-egress", { podSelector: { matchLabels: { role: "fe" } }, policyTypes: ["Egress"] });
    await policies(WEB_FROM_FE, feDenyEgress);
    expect(await ask(fe)).toSatisfy(blocked);
    // others are not selected: db reaches fe (fe's ingress is open; the reply is established traffic)
    expect(await ask(db, "10.42.250.20")).toSatisfy((a: Answer[]) => ok(a, "fe"));
  });

  it("an ipBlock with except lets the block in, less the except", async () => {
    const block = np("web-from-block", {
      podSelector: { matchLabels: { app: "web" } },
      ingress: [{ from: [{ ipBlock: { cidr: "10.42.0.0/16", except: ["10.42.250.16/28"] } }] }],
    });
    await policies(block);
    expect(await ask(far)).toSatisfy((a: Answer[]) => ok(a, "web"));
    expect(await ask(db)).toSatisfy((a: Answer[]) => ok(a, "web"));
    expect(await ask(fe)).toSatisfy(blocked); // 10.42.250.20 is in the except
  });

  it("a ClusterIP connection is judged by the backend pod, after kube-proxy's DNAT", async () => {
    proxy = new ProxyLoop({ prefix: ["ip", "netns", "exec", fx.node] });
    proxy.update({
      services: [
        {
          metadata: { name: "web", namespace: "default" },
          spec: { type: "ClusterIP", clusterIP: "10.43.250.1", ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
        },
      ],
      endpointSlices: [
        {
          metadata: { name: "web-x", namespace: "default", labels: { "kubernetes.io/service-name": "web" } },
          addressType: "IPv4",
          ports: [{ name: "http", port: 8080, protocol: "TCP" }],
          endpoints: [{ addresses: ["10.42.250.10"], nodeName: NODE, conditions: { ready: true, serving: true, terminating: false } }],
        },
      ],
      nodeName: NODE,
      nodeIPs: ["10.42.251.1"],
      clusterCIDR: "10.42.250.0/24",
      serviceCIDR: "10.43.250.0/24",
    });
    await proxy.settled();
    expect(proxy.errors).toBe(0);
    // fe may send only to web's pod address and port: the ClusterIP itself is in no rule
    const feToWebOnly = np("fe-to-web-only", {
      podSelector: { matchLabels: { role: "fe" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "10.42.250.10/32" } }], ports: [{ protocol: "TCP", port: 8080 }] }],
    });
    await policies(DENY_INGRESS, WEB_FROM_FE, feToWebOnly);
    expect(await ask(fe, "10.43.250.1", 80)).toSatisfy((a: Answer[]) => ok(a, "web"));
    // db goes through the same ClusterIP and is refused by web's ingress rules
    expect(await ask(db, "10.43.250.1", 80)).toSatisfy(blocked);
    // with fe's egress policy alone (db unrestricted): fe may not reach db, web (unselected) may
    await policies(feToWebOnly);
    expect(await ask(fe, "10.42.250.11")).toSatisfy(blocked);
    expect(await ask(web, "10.42.250.11")).toSatisfy((a: Answer[]) => ok(a, "db"));
  });

  it("removing the table lifts every restriction", async () => {
    await policies(DENY_INGRESS);
    expect(await ask(fe)).toSatisfy(blocked);
    await enforcer.stop(true);
    expect(await ask(fe)).toSatisfy((a: Answer[]) => ok(a, "web"));
    await expect(fx.nft("list", "table", "inet", "kubeflare-netpol")).rejects.toThrow();
  });
});
