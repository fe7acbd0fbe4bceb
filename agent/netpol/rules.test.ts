import { describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { nftCheck, nftCheckAvailable } from "../testing/netns";
import { buildNetpolRuleset, type NetpolInput } from "./rules";

const NODE = "node-a";
const pod = (
  name: string,
  ip: string,
  labels: Record<string, string> = {},
  o: { ns?: string; node?: string; ports?: any[]; hostNetwork?: boolean } = {},
): KObject => ({
  metadata: { name, namespace: o.ns ?? "default", labels },
  spec: { nodeName: o.node ?? NODE, hostNetwork: o.hostNetwork, containers: [{ name: "c", image: "x", ports: o.ports ?? [] }] },
  status: { phase: "Running", podIP: ip, podIPs: [{ ip }] },
});
const ns = (name: string, labels: Record<string, string> = {}): KObject => ({ metadata: { name, labels: { "kubernetes.io/metadata.name": name, ...labels } } });
const np = (name: string, spec: any, namespace = "default"): KObject => ({ metadata: { name, namespace }, spec });
const NAMESPACES = [ns("default"), ns("prod", { env: "prod" }), ns("dev", { env: "dev" })];

const build = (policies: KObject[], pods: KObject[], extra: Partial<NetpolInput> = {}) =>
  buildNetpolRuleset({ policies, pods, namespaces: NAMESPACES, nodeName: NODE, ...extra });
/** the rules of the chain that a pod's address jumps to in a direction's map */
const chainOf = (text: string, dir: "ingress" | "egress", ip: string): string[] => {
  const m = new RegExp(`${ip.replaceAll(".", "\\.")} : jump (\\S+?)[,\\s]`).exec(text.split("\n").find((l) => l.includes(`map ${dir}4`)) ?? "");
  if (!m) return [];
  const lines = text.split("\n");
  const start = lines.indexOf(`  chain ${m[1]} {`);
  const end = lines.indexOf("  }", start);
  return lines.slice(start + 1, end).map((l) => l.trim());
};

describe("NetworkPolicy rules (pure)", () => {
  it("no policy: no chains, every map empty, the table still accepts replies first", () => {
    const rs = build([], [pod("a", "10.42.0.5")]);
    expect(rs.ingressIsolated).toEqual([]);
    expect(rs.text).toContain("type filter hook forward priority filter; policy accept;");
    expect(rs.text).toMatch(/hook forward[^\n]*\n\s+ct state established,related accept\n/);
    expect(rs.text).toContain("map ingress4 { type ipv4_addr : verdict; }");
  });

  it("default deny ingress: the selected local pods drop everything new; egress untouched; other namespaces and nodes untouched", () => {
    const rs = build(
      [np("deny", { podSelector: {}, policyTypes: ["Ingress"] })],
      [pod("a", "10.42.0.5"), pod("b", "10.42.0.6"), pod("p", "10.42.0.7", {}, { ns: "prod" }), pod("far", "10.42.1.5", {}, { node: "node-b" })],
    );
    expect(rs.ingressIsolated).toEqual(["default/a", "default/b"]);
    expect(rs.egressIsolated).toEqual([]);
    expect(chainOf(rs.text, "ingress", "10.42.0.5")).toEqual([expect.stringMatching(/^drop comment "default\/a: isolated for ingress/)]);
    expect(chainOf(rs.text, "ingress", "10.42.0.7")).toEqual([]);
    expect(rs.text).not.toContain("10.42.1.5");
  });

  it("allow from pods by label (same namespace), on a port; the union of two policies", () => {
    const rs = build(
      [
        np("web-from-fe", {
          podSelector: { matchLabels: { app: "web" } },
          ingress: [{ from: [{ podSelector: { matchLabels: { role: "fe" } } }], ports: [{ protocol: "TCP", port: 8080 }] }],
        }),
        np("web-from-mon", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: "mon" } } }] }] }),
      ],
      [
        pod("web", "10.42.0.5", { app: "web" }),
        pod("fe1", "10.42.0.6", { role: "fe" }),
        pod("fe2", "10.42.1.6", { role: "fe" }, { node: "node-b" }),
        pod("fe-prod", "10.42.0.9", { role: "fe" }, { ns: "prod" }),
        pod("mon", "10.42.0.7", { role: "mon" }),
        pod("other", "10.42.0.8"),
      ],
    );
    expect(chainOf(rs.text, "ingress", "10.42.0.5")).toEqual([
      'ip saddr { 10.42.0.6, 10.42.1.6 } meta l4proto tcp th dport 8080 return comment "default/web-from-fe ingress[0]"',
      'ip saddr { 10.42.0.7 } return comment "default/web-from-mon ingress[0]"',
      expect.stringMatching(/^drop /),
    ]);
    expect(rs.ingressIsolated).toEqual(["default/web"]);
  });

  it("namespaceSelector alone and with podSelector; an empty rule allows all; hostNetwork and finished pods take no part", () => {
    const rs = build(
      [
        np("a", {
          podSelector: {},
          ingress: [
            { from: [{ namespaceSelector: { matchLabels: { env: "prod" } } }] },
            { from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: "x" } } }], ports: [{ protocol: "UDP" }] },
          ],
        }),
        np("open", { podSelector: { matchLabels: { open: "1" } }, ingress: [{}] }),
      ],
      [
        pod("t", "10.42.0.5"),
        pod("o", "10.42.0.50", { open: "1" }),
        pod("p1", "10.42.0.7", {}, { ns: "prod" }),
        pod("d1", "10.42.0.8", { role: "x" }, { ns: "dev" }),
        pod("h", "192.0.2.1", {}, { ns: "prod", hostNetwork: true }),
        { ...pod("done", "10.42.0.99", {}, { ns: "prod" }), status: { phase: "Succeeded", podIP: "10.42.0.99" } },
      ],
    );
    expect(chainOf(rs.text, "ingress", "10.42.0.5")).toEqual([
      'ip saddr { 10.42.0.7 } return comment "default/a ingress[0]"',
      'ip saddr { 10.42.0.8 } meta l4proto udp return comment "default/a ingress[1]"',
      expect.stringMatching(/^drop /),
    ]);
    expect(chainOf(rs.text, "ingress", "10.42.0.50")).toEqual([
      'ip saddr { 10.42.0.7 } return comment "default/a ingress[0]"',
      'ip saddr { 10.42.0.8 } meta l4proto udp return comment "default/a ingress[1]"',
      'return comment "default/open ingress[0]"',
      expect.stringMatching(/^drop /),
    ]);
    expect(rs.text).not.toContain("192.0.2.1");
    expect(rs.text).not.toContain("10.42.0.99");
  });

  it("ipBlock with except, endPort ranges, SCTP, IPv6 blocks", () => {
    const rs = build(
      [
        np("blocks", {
          podSelector: {},
          policyTypes: ["Egress"],
          egress: [
            {
              to: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16", "10.2.0.0/16"] } }, { ipBlock: { cidr: "2001:db8::/32" } }],
              ports: [
                { protocol: "TCP", port: 30000, endPort: 32767 },
                { protocol: "SCTP", port: 9 },
              ],
            },
          ],
        }),
      ],
      [pod("a", "10.42.0.5")],
    );
    expect(rs.ingressIsolated).toEqual([]);
    expect(chainOf(rs.text, "egress", "10.42.0.5")).toEqual([
      'ip daddr { 10.0.0.0/8 } ip daddr != { 10.1.0.0/16, 10.2.0.0/16 } meta l4proto tcp th dport 30000-32767 return comment "default/blocks egress[0]"',
      'ip6 daddr { 2001:db8::/32 } meta l4proto tcp th dport 30000-32767 return comment "default/blocks egress[0]"',
      'ip daddr { 10.0.0.0/8 } ip daddr != { 10.1.0.0/16, 10.2.0.0/16 } meta l4proto sctp th dport 9 return comment "default/blocks egress[0]"',
      'ip6 daddr { 2001:db8::/32 } meta l4proto sctp th dport 9 return comment "default/blocks egress[0]"',
      expect.stringMatching(/^drop /),
    ]);
  });

  it("named ports: ingress from the selected pod's containers, egress from the peer pods' (only those that have it)", () => {
    const web = (name: string, ip: string, port: number, node = NODE) =>
      pod(
        name,
        ip,
        { app: "web" },
        {
          node,
          ports: [
            { name: "http", containerPort: port, protocol: "TCP" },
            { name: "dns", containerPort: 53, protocol: "UDP" },
          ],
        },
      );
    const rs = build(
      [
        np("in", {
          podSelector: { matchLabels: { app: "web" } },
          ingress: [
            {
              ports: [
                { protocol: "TCP", port: "http" },
                { protocol: "TCP", port: "dns" },
              ],
            },
          ],
        }),
        np("out", {
          podSelector: { matchLabels: { app: "client" } },
          egress: [{ to: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: "http" }] }],
          policyTypes: ["Egress"],
        }),
      ],
      [web("w1", "10.42.0.5", 8080), web("w2", "10.42.1.5", 9090, "node-b"), pod("c", "10.42.0.6", { app: "client" }), pod("plain", "10.42.0.7")],
    );
    // w1's own http port; its dns port is UDP, so the TCP entry resolves to nothing
    expect(chainOf(rs.text, "ingress", "10.42.0.5")).toEqual([
      'meta l4proto tcp th dport 8080 return comment "default/in ingress[0]"',
      expect.stringMatching(/^drop /),
    ]);
    expect(chainOf(rs.text, "egress", "10.42.0.6")).toEqual([
      'ip daddr { 10.42.0.5 } meta l4proto tcp th dport 8080 return comment "default/out egress[0]"',
      'ip daddr { 10.42.1.5 } meta l4proto tcp th dport 9090 return comment "default/out egress[0]"',
      expect.stringMatching(/^drop /),
    ]);
  });

  it("long peer lists go in one named set, shared by every chain that uses the same list", () => {
    const fes = Array.from({ length: 12 }, (_, i) => pod(`fe${i}`, `10.42.3.${i + 10}`, { role: "fe" }, { node: "node-b" }));
    const rs = build(
      [np("web", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: "fe" } } }] }] })],
      [pod("w1", "10.42.0.5", { app: "web" }), pod("w2", "10.42.0.6", { app: "web" }), ...fes],
    );
    const sets = rs.text.split("\n").filter((l) => l.trim().startsWith("set peers4-"));
    expect(sets).toHaveLength(1);
    const name = /set (peers4-\S+) /.exec(sets[0]!)![1];
    expect(sets[0]).toContain("type ipv4_addr; elements = { 10.42.3.10, 10.42.3.11,");
    expect(sets[0]).toContain("10.42.3.21 }");
    for (const ip of ["10.42.0.5", "10.42.0.6"])
      expect(chainOf(rs.text, "ingress", ip)).toEqual([`ip saddr @${name} return comment "default/web ingress[0]"`, expect.stringMatching(/^drop /)]);
  });

  it("policyTypes: Egress alone leaves ingress open; stored without policyTypes reads as kube's defaults; deleting policies are ignored", () => {
    const rs = build(
      [
        np("e", { podSelector: {}, policyTypes: ["Egress"] }),
        np("implicit", { podSelector: { matchLabels: { x: "1" } }, egress: [{}] }),
        {
          ...np("going", { podSelector: {}, policyTypes: ["Ingress"] }),
          metadata: { name: "going", namespace: "default", deletionTimestamp: "2026-01-01T00:00:00Z" },
        },
      ],
      [pod("a", "10.42.0.5"), pod("x", "10.42.0.6", { x: "1" })],
    );
    expect(rs.egressIsolated).toEqual(["default/a", "default/x"]);
    expect(rs.ingressIsolated).toEqual(["default/x"]);
  });
});

const nft = nftCheckAvailable();

describe.skipIf(!nft)(`nft -c accepts the generated rulesets${nft ? "" : " (skipped: needs root and nft)"}`, () => {
  it("every kind of peer and port", async () => {
    const rs = build(
      [
        np("all", {
          podSelector: {},
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            {
              from: [{ podSelector: { matchLabels: { a: "b" } } }, { ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } }],
              ports: [
                { port: 80, endPort: 90 },
                { protocol: "UDP", port: "dns" },
              ],
            },
            {},
          ],
          egress: [
            { to: [{ ipBlock: { cidr: "2001:db8::/32" } }, { namespaceSelector: {} }], ports: [{ protocol: "SCTP" }, { protocol: "TCP", port: "http" }] },
          ],
        }),
      ],
      [
        pod(
          "a",
          "10.42.0.5",
          { a: "b" },
          {
            ports: [
              { name: "dns", containerPort: 53, protocol: "UDP" },
              { name: "http", containerPort: 80 },
            ],
          },
        ),
        pod("b", "10.42.0.6"),
        ...Array.from({ length: 20 }, (_, i) => pod(`m${i}`, `10.42.5.${i + 2}`, { a: "b" }, { node: "node-b" })),
      ],
    );
    expect(rs.text).toContain("set peers4-");
    await nftCheck(`add table inet kubeflare-netpol\ndelete table inet kubeflare-netpol\n${rs.text}`);
    await nftCheck(build([], []).text);
  });
});
