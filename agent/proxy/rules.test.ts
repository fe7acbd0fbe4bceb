import { describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { nftCheck, nftCheckAvailable } from "../testing/netns";
import { NftProxier } from "./proxier";
import { buildRuleset, type ProxyInput } from "./rules";

/** the ruleset read back: verdict-map elements by map, rules by chain, set declarations */
function parse(text: string) {
  const maps: Record<string, Record<string, string>> = {};
  const chains: Record<string, string[]> = {};
  const sets: Record<string, string> = {};
  for (const m of text.matchAll(/^ {2}map (\S+) \{ type [^;]+;(?: elements = \{ ([^}]*) \};)? \}$/gms)) {
    maps[m[1]!] = Object.fromEntries(
      (m[2] ?? "")
        .split(/,\s*/)
        .filter(Boolean)
        .map((e) => e.split(" : ") as [string, string]),
    );
  }
  for (const m of text.matchAll(/^ {2}set (\S+) \{ (.*?) \}$/gm)) sets[m[1]!] = m[2]!;
  for (const m of text.matchAll(/^ {2}chain (\S+) \{\n(.*?)\n {2}\}$/gms)) chains[m[1]!] = m[2]!.split("\n").map((l) => l.trim());
  return { maps, chains, sets };
}
/** the endpoints (ip:port) a verdict ends in, following goto/jump through service and external chains */
function targets(chains: Record<string, string[]>, verdict: string): string[] {
  const out = new Set<string>();
  const walk = (chain: string, depth: number) => {
    for (const r of chains[chain] ?? []) {
      const dnat = r.match(/dnat to (\S+)/);
      if (dnat) out.add(dnat[1]!);
      for (const g of r.matchAll(/goto (\S+?)(?=[ ,}]|$)/g)) if (depth < 4) walk(g[1]!, depth + 1);
    }
  };
  walk(verdict.replace(/^goto /, ""), 0);
  return [...out].sort();
}

const svc = (name: string, spec: any, extra: Partial<KObject> = {}): KObject => ({
  metadata: { name, namespace: "default", creationTimestamp: "2026-01-01T00:00:00Z" },
  spec: { type: "ClusterIP", ...spec },
  ...extra,
});
const ep = (ip: string, nodeName = "node-a", conditions: any = { ready: true }) => ({ addresses: [ip], nodeName, conditions });
const slice = (svcName: string, endpoints: any[], ports: any[] = [{ name: "http", port: 8080, protocol: "TCP" }]): KObject => ({
  metadata: { name: `${svcName}-x`, namespace: "default", labels: { "kubernetes.io/service-name": svcName } },
  addressType: "IPv4",
  ports,
  endpoints,
});
const httpPort = (more: any = {}) => [{ name: "http", port: 80, targetPort: "web", protocol: "TCP", ...more }];
const build = (services: KObject[], endpointSlices: KObject[], more: Partial<ProxyInput> = {}) => {
  const rs = buildRuleset({ services, endpointSlices, nodeName: "node-a", nodeIPs: ["192.0.2.7"], clusterCIDR: "10.42.0.0/16", ...more });
  return { rs, ...parse(rs.text) };
};

describe("kube-proxy rules (nftables)", () => {
  it("sends a ClusterIP's TCP and UDP ports to their ready endpoints, resolving targetPort through the slice's port names", () => {
    const { maps, chains } = build(
      [svc("web", { clusterIP: "10.43.0.20", ports: [...httpPort(), { name: "dns", port: 53, targetPort: 5353, protocol: "UDP" }] })],
      [
        slice(
          "web",
          [ep("10.42.0.5"), ep("10.42.1.5", "node-b"), ep("10.42.1.6", "node-b", { ready: false })],
          [
            { name: "http", port: 8080, protocol: "TCP" },
            { name: "dns", port: 5353, protocol: "UDP" },
          ],
        ),
      ],
    );
    const tcp = maps["service-ips"]!["10.43.0.20 . tcp . 80"]!;
    expect(targets(chains, tcp)).toEqual(["10.42.0.5:8080", "10.42.1.5:8080"]);
    expect(targets(chains, maps["service-ips"]!["10.43.0.20 . udp . 53"]!)).toEqual(["10.42.0.5:5353", "10.42.1.5:5353"]);
    const svcChain = chains[tcp.replace("goto ", "")]!;
    expect(svcChain[0]).toBe("ip daddr 10.43.0.20 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade");
    expect(svcChain[1]).toMatch(/^numgen random mod 2 vmap \{ 0 : goto endpoint-\S+, 1 : goto endpoint-\S+ \}$/);
    // each endpoint chain masquerades hairpin traffic and DNATs with the right protocol
    const epChain = Object.entries(chains).find(([n]) => n.startsWith("endpoint-") && n.endsWith("10.42.1.5/5353"))![1];
    expect(epChain).toEqual(["ip saddr 10.42.1.5 jump mark-for-masquerade", "meta l4proto udp dnat to 10.42.1.5:5353"]);
    expect(maps["no-endpoint-services"]).toEqual({});
  });

  it("uses serving terminating endpoints only while no endpoint is ready", () => {
    const terminating = ep("10.42.0.9", "node-a", { ready: false, serving: true, terminating: true });
    const gone = ep("10.42.0.10", "node-a", { ready: false, serving: false, terminating: true });
    const ports = httpPort();
    let r = build([svc("web", { clusterIP: "10.43.0.20", ports })], [slice("web", [ep("10.42.0.5"), terminating, gone])]);
    expect(targets(r.chains, r.maps["service-ips"]!["10.43.0.20 . tcp . 80"]!)).toEqual(["10.42.0.5:8080"]);
    r = build([svc("web", { clusterIP: "10.43.0.20", ports })], [slice("web", [terminating, gone])]);
    expect(targets(r.chains, r.maps["service-ips"]!["10.43.0.20 . tcp . 80"]!)).toEqual(["10.42.0.9:8080"]);
  });

  it("rejects a Service without usable endpoints on its ClusterIP and NodePort, and ignores headless and ExternalName Services", () => {
    const { maps, chains } = build(
      [
        svc("none", { type: "NodePort", clusterIP: "10.43.0.21", ports: httpPort({ nodePort: 30001 }) }),
        svc("headless", { clusterIP: "None", ports: httpPort() }),
        svc("ext", { type: "ExternalName", externalName: "example.org" }),
      ],
      [slice("none", [ep("10.42.0.5", "node-a", { ready: false })]), slice("headless", [ep("10.42.0.6")])],
    );
    expect(maps["no-endpoint-services"]).toEqual({ "10.43.0.21 . tcp . 80": "goto reject-chain" });
    expect(maps["no-endpoint-nodeports"]).toEqual({ "tcp . 30001": "goto reject-chain" });
    expect(maps["service-ips"]).toEqual({});
    expect(chains["reject-chain"]).toEqual(["reject"]);
    expect(Object.keys(chains).filter((c) => /^(service|endpoint|external)-[0-9A-F]{8}-/.test(c))).toEqual([]);
    expect(chains["filter-forward"]).toContain("ct state new jump service-endpoints-check");
    expect(chains["filter-output"]).toContain("ct state new jump service-endpoints-check");
    expect(chains["filter-input"]).toContain("ct state new jump nodeport-endpoints-check");
    expect(chains["filter-input"]![1]).toMatch(/^ip daddr 127\.0\.0\.0\/8 ip saddr != 127\.0\.0\.0\/8 .* drop/);
  });

  it("answers NodePorts on every local address (127.0.0.1 included) through a masquerading external chain", () => {
    const { maps, chains } = build(
      [svc("web", { type: "NodePort", clusterIP: "10.43.0.20", ports: httpPort({ nodePort: 30080 }) })],
      [slice("web", [ep("10.42.0.5")])],
    );
    const ext = maps["service-nodeports"]!["tcp . 30080"]!;
    expect(ext).toMatch(/^goto external-/);
    expect(chains[ext.replace("goto ", "")]![0]).toBe("jump mark-for-masquerade");
    expect(targets(chains, ext)).toEqual(["10.42.0.5:8080"]);
    expect(chains.services).toContain("fib daddr type local meta l4proto . th dport vmap @service-nodeports");
    expect(chains.services!.join("\n")).not.toContain("127.0.0.0/8");
    expect(chains.masquerading).toEqual(["mark and 0x4000 == 0 return", "mark set mark xor 0x4000", "masquerade fully-random"]);
  });

  it("LoadBalancer: answers on the ingress IPs and, without a loadBalancerClass, on the node's own IPs and 127.0.0.1", () => {
    const status = { loadBalancer: { ingress: [{ ip: "192.0.2.50" }, { hostname: "lb.example" }] } };
    const { maps } = build(
      [
        svc("lb", { type: "LoadBalancer", clusterIP: "10.43.0.22", ports: httpPort({ nodePort: 30082 }) }, { status }),
        svc("other", { type: "LoadBalancer", clusterIP: "10.43.0.23", loadBalancerClass: "x/y", ports: httpPort({ port: 81, nodePort: 30083 }) }, { status }),
      ],
      [slice("lb", [ep("10.42.0.5")]), slice("other", [ep("10.42.0.6")])],
    );
    const ips = maps["service-ips"]!;
    for (const ip of ["192.0.2.50", "192.0.2.7", "127.0.0.1"]) expect(ips[`${ip} . tcp . 80`]).toMatch(/^goto external-\S+-default\/lb\//);
    expect(ips["192.0.2.50 . tcp . 81"]).toMatch(/^goto external-\S+-default\/other\//);
    expect(ips["192.0.2.7 . tcp . 81"]).toBeUndefined();
    expect(maps["service-nodeports"]!["tcp . 30083"]).toBeDefined();
  });

  it("two ServiceLB Services on one port: the older one keeps the node's port, and the ruleset stays loadable", () => {
    const older = svc("a", { type: "LoadBalancer", clusterIP: "10.43.0.30", ports: httpPort() });
    const newer = svc("b", { type: "LoadBalancer", clusterIP: "10.43.0.31", ports: httpPort() });
    newer.metadata.creationTimestamp = "2026-02-01T00:00:00Z";
    const { maps } = build([newer, older], [slice("a", [ep("10.42.0.5")]), slice("b", [ep("10.42.0.6")])]);
    expect(maps["service-ips"]!["192.0.2.7 . tcp . 80"]).toMatch(/default\/a\//);
    expect(maps["service-ips"]!["10.43.0.31 . tcp . 80"]).toMatch(/default\/b\//);
  });

  it("ClientIP affinity: one timed set per endpoint, sticky lookups before the random pick, updates in the endpoint chain", () => {
    const spec = { clusterIP: "10.43.0.24", ports: httpPort(), sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } };
    const { maps, chains, sets } = build([svc("s", spec)], [slice("s", [ep("10.42.0.5"), ep("10.42.0.6")])]);
    const affinity = Object.keys(sets).filter((s) => s.startsWith("affinity-"));
    expect(affinity).toHaveLength(2);
    for (const s of affinity) expect(sets[s]).toBe("type ipv4_addr; flags dynamic,timeout; timeout 600s;");
    const svcChain = chains[maps["service-ips"]!["10.43.0.24 . tcp . 80"]!.replace("goto ", "")]!;
    expect(svcChain.slice(1, 3).every((r) => /^ip saddr @affinity-\S+ goto endpoint-\S+$/.test(r))).toBe(true);
    expect(svcChain[3]).toMatch(/^numgen random mod 2/);
    const epChain = Object.entries(chains).find(([n]) => n.startsWith("endpoint-") && n.endsWith("10.42.0.6/8080"))![1];
    expect(epChain[1]).toMatch(/^update @affinity-\S+10\.42\.0\.6\/8080 \{ ip saddr \}$/);
    // default timeout: 10800 s
    const d = build([svc("s", { ...spec, sessionAffinityConfig: undefined })], [slice("s", [ep("10.42.0.5")])]);
    expect(Object.values(d.sets).filter((s) => s.includes("timeout 10800s"))).toHaveLength(1);
  });

  it("externalTrafficPolicy Local: external traffic only to local endpoints without masquerade; dropped when none is local", () => {
    const spec = { type: "NodePort", clusterIP: "10.43.0.25", externalTrafficPolicy: "Local", ports: httpPort({ nodePort: 30085 }) };
    let r = build([svc("l", spec)], [slice("l", [ep("10.42.0.5"), ep("10.42.1.5", "node-b")])]);
    const ext = r.chains[r.maps["service-nodeports"]!["tcp . 30085"]!.replace("goto ", "")]!;
    // pods and the node itself short-circuit to the cluster-wide chain; nothing else is masqueraded
    expect(ext.slice(0, 3).map((x) => x.replace(/ comment .*/, ""))).toEqual([
      expect.stringMatching(/^ip saddr 10\.42\.0\.0\/16 goto service-/),
      "fib saddr type local jump mark-for-masquerade",
      expect.stringMatching(/^fib saddr type local goto service-/),
    ]);
    expect(ext[3]).toMatch(/^numgen random mod 1 vmap \{ 0 : goto endpoint-\S+10\.42\.0\.5\/8080 \}$/);
    expect(ext.filter((x) => x === "jump mark-for-masquerade")).toEqual([]);
    expect(r.maps["no-endpoint-nodeports"]).toEqual({});
    r = build([svc("l", spec)], [slice("l", [ep("10.42.1.5", "node-b")])]);
    expect(r.maps["no-endpoint-nodeports"]).toEqual({ "tcp . 30085": "drop" });
    expect(targets(r.chains, r.maps["service-ips"]!["10.43.0.25 . tcp . 80"]!)).toEqual(["10.42.1.5:8080"]);
  });

  it("internalTrafficPolicy Local keeps ClusterIP traffic on this node's endpoints", () => {
    const { maps, chains } = build(
      [svc("i", { clusterIP: "10.43.0.26", internalTrafficPolicy: "Local", ports: httpPort() })],
      [slice("i", [ep("10.42.0.5"), ep("10.42.1.5", "node-b")])],
    );
    expect(targets(chains, maps["service-ips"]!["10.43.0.26 . tcp . 80"]!)).toEqual(["10.42.0.5:8080"]);
  });

  it("DNATs the cluster DNS Service IP to the node-local DNS listener, over any kube-dns Service", () => {
    const { maps, chains } = build(
      [svc("kube-dns", { clusterIP: "10.43.0.10", ports: [{ name: "dns", port: 53, protocol: "UDP" }] })],
      [slice("kube-dns", [ep("10.42.3.3")], [{ name: "dns", port: 53, protocol: "UDP" }])],
      { localDNS: { ip: "10.42.0.1", port: 53 } },
    );
    expect(maps["service-ips"]!["10.43.0.10 . udp . 53"]).toBe("goto local-dns");
    expect(maps["service-ips"]!["10.43.0.10 . tcp . 53"]).toBe("goto local-dns");
    expect(chains["local-dns"]).toEqual(["meta l4proto { tcp, udp } dnat to 10.42.0.1:53"]);
  });

  it("DNATs the kubernetes Service's port 443 to the local API relay instead of its endpoints", () => {
    const https = [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }];
    const { maps, chains } = build(
      [svc("kubernetes", { clusterIP: "10.43.0.1", ports: https })],
      [slice("kubernetes", [ep("192.168.1.10", "")], [{ name: "https", port: 6443, protocol: "TCP" }])],
      { localAPI: { ip: "10.42.0.1", port: 6444 } },
    );
    expect(maps["service-ips"]!["10.43.0.1 . tcp . 443"]).toBe("goto local-api");
    expect(chains["local-api"]).toEqual(["meta l4proto tcp dnat to 10.42.0.1:6444"]);
    // without the relay, the endpoints as before
    const plain = build(
      [svc("kubernetes", { clusterIP: "10.43.0.1", ports: https })],
      [slice("kubernetes", [ep("192.168.1.10", "")], [{ name: "https", port: 6443, protocol: "TCP" }])],
    );
    expect(targets(plain.chains, plain.maps["service-ips"]!["10.43.0.1 . tcp . 443"]!)).toEqual(["192.168.1.10:6443"]);
  });

  it("drops traffic to unallocated ClusterIPs and rejects unknown ports of allocated ones when the service CIDR is known", () => {
    const { chains, rs } = build([svc("web", { clusterIP: "10.43.0.20", ports: httpPort() })], [], { serviceCIDR: "10.43.0.0/16" });
    expect(chains["cluster-ips-check"]!.map((x) => x.replace(/ comment .*/, ""))).toEqual(["ip daddr @cluster-ips reject", "ip daddr 10.43.0.0/16 drop"]);
    expect(rs.text).toMatch(/set cluster-ips \{ type ipv4_addr; elements = \{ 10\.43\.0\.20 \}; \}/);
    expect(() => build([], [], { clusterCIDR: "10.42.0.0/16; flush ruleset" })).toThrow(/cluster CIDR/);
  });

  it("never lets an object's strings into the ruleset unchecked", () => {
    const bad = svc("web", { clusterIP: "10.43.0.20", ports: [{ name: 'x" ; flush ruleset ; "', port: 80 }], externalIPs: ["1.2.3.4 } flush"] });
    const s = slice("web", [{ addresses: ["10.42.0.5; flush ruleset"] }, ep("10.42.0.6")], [{ name: 'x" ; flush ruleset ; "', port: 8080, protocol: "TCP" }]);
    bad.metadata.name = `${"a".repeat(300)}/x`;
    bad.spec.sessionAffinity = "ClientIP";
    bad.spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: "1; flush ruleset" } };
    s.metadata.labels!["kubernetes.io/service-name"] = bad.metadata.name;
    const { rs, chains } = build([bad], [s]);
    expect(Math.max(...Object.keys(chains).map((c) => c.length))).toBeLessThan(256);
    expect(rs.text).toContain("timeout 10800s");
    expect(rs.text).not.toMatch(/flush ruleset|1\.2\.3\.4|10\.42\.0\.5/);
    expect(rs.text.match(/"/g)).toHaveLength(rs.text.match(/comment "[^"]*"/g)!.length * 2);
    expect(rs.text).toContain("dnat to 10.42.0.6:8080");
  });

  it("the applier's transactions: the whole table first, then flush-and-reload keeping unchanged sets", () => {
    const spec = { clusterIP: "10.43.0.24", ports: httpPort(), sessionAffinity: "ClientIP" };
    const a = build([svc("s", spec)], [slice("s", [ep("10.42.0.5"), ep("10.42.0.6")])]).rs;
    const b = build([svc("s", spec)], [slice("s", [ep("10.42.0.5")])]).rs;
    expect(NftProxier.script(a).split("\n").slice(0, 3)).toEqual(["add table ip kubeflare", "delete table ip kubeflare", "table ip kubeflare {"]);
    const step = NftProxier.script(b, a);
    expect(step.startsWith("flush table ip kubeflare\nflush map ip kubeflare service-ips\n")).toBe(true);
    expect(step).toMatch(/^delete chain ip kubeflare endpoint-\S+10\.42\.0\.6\/8080$/m);
    expect(step).toMatch(/^delete set ip kubeflare affinity-\S+10\.42\.0\.6\/8080$/m);
    expect(step).not.toMatch(/^delete \S+ ip kubeflare \S+10\.42\.0\.5\/8080$/m);
  });
});

const nft = nftCheckAvailable();

describe.skipIf(!nft)(`nft -c accepts the generated rulesets${nft ? "" : " (skipped: needs root and nft)"}`, () => {
  it("a ruleset with every kind of Service", async () => {
    const aff = { sessionAffinity: "ClientIP" };
    const status = { loadBalancer: { ingress: [{ ip: "192.0.2.50" }] } };
    const { rs } = build(
      [
        svc("c", { clusterIP: "10.43.0.20", ports: [...httpPort(), { name: "dns", port: 53, protocol: "UDP" }, { name: "s", port: 9, protocol: "SCTP" }] }),
        svc("n", { type: "NodePort", clusterIP: "10.43.0.21", ports: httpPort({ nodePort: 30001 }), ...aff }),
        svc("l", { type: "LoadBalancer", clusterIP: "10.43.0.22", externalTrafficPolicy: "Local", ports: httpPort({ nodePort: 30002 }), ...aff }, { status }),
        svc("x", { type: "LoadBalancer", clusterIP: "10.43.0.23", externalTrafficPolicy: "Local", ports: httpPort({ port: 81, nodePort: 30003 }) }, { status }),
        svc("e", { type: "NodePort", clusterIP: "10.43.0.24", ports: [{ port: 82, nodePort: 30004 }] }),
      ],
      [
        slice(
          "c",
          [ep("10.42.0.5"), ep("10.42.1.5", "node-b")],
          [
            { name: "http", port: 8080, protocol: "TCP" },
            { name: "dns", port: 53, protocol: "UDP" },
            { name: "s", port: 9, protocol: "SCTP" },
          ],
        ),
        slice("n", [ep("10.42.0.5"), ep("10.42.1.5", "node-b")]),
        slice("l", [ep("10.42.0.5"), ep("10.42.1.5", "node-b")]),
        slice("x", [ep("10.42.1.6", "node-b")]),
      ],
      { serviceCIDR: "10.43.0.0/16", localDNS: { ip: "10.42.0.1", port: 53 }, localAPI: { ip: "10.42.0.1", port: 6444 } },
    );
    await nftCheck(NftProxier.script(rs));
    await nftCheck(NftProxier.script(build([], []).rs));
  });
});
