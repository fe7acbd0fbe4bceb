import { describe, expect, it } from "vitest";
import { applyDefaults } from "../../defaults";
import { resourceByName } from "../../../workers/registry/kinds";
import type { KObject } from "../../types";
import { semanticCauses } from "./index";

const np = (spec: Record<string, unknown>) => ({ metadata: { name: "p", namespace: "default" }, spec: { podSelector: {}, ...spec } });
const fields = (o: unknown) => semanticCauses("NetworkPolicy", true, o).map((c) => `${c.field}: ${c.message}`);
const ingressPorts = (...ports: unknown[]) => np({ ingress: [{ ports }] });
const from = (...peers: unknown[]) => np({ ingress: [{ from: peers }] });

describe("NetworkPolicy validation (kube's ValidateNetworkPolicy)", () => {
  it("accepts deny-all, allow-all and the usual shapes", () => {
    expect(fields(np({}))).toEqual([]);
    expect(fields(np({ ingress: [{}], policyTypes: ["Ingress"] }))).toEqual([]);
    expect(fields(np({ egress: [], policyTypes: ["Egress", "Ingress"] }))).toEqual([]);
    expect(fields(from({ podSelector: { matchLabels: { a: "b" } }, namespaceSelector: {} }))).toEqual([]);
  });

  it("policyTypes: Ingress and Egress only, at most two", () => {
    expect(fields(np({ policyTypes: ["Ingress", "Sideways"] }))).toEqual([
      'spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"',
    ]);
    expect(fields(np({ policyTypes: ["Ingress", "Egress", "Ingress"] }))[0]).toMatch(
      /^spec.policyTypes: Invalid value: .*may not specify more than two policyTypes$/,
    );
  });

  it("ports: protocol, number or name, endPort only after a numeric port and not below it", () => {
    expect(fields(ingressPorts({ protocol: "ICMP", port: 80 }))).toEqual([
      'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
    ]);
    expect(fields(ingressPorts({ port: 0 }))).toEqual(["spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"]);
    expect(fields(ingressPorts({ port: "no_such-name!" }))[0]).toMatch(/^spec.ingress\[0\].ports\[0\].port: Invalid value: "no_such-name!"/);
    expect(fields(ingressPorts({ port: 90, endPort: 80 }))).toEqual([
      "spec.ingress[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to `port`",
    ]);
    expect(fields(ingressPorts({ port: 90, endPort: 70000 }))).toEqual([
      "spec.ingress[0].ports[0].endPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
    ]);
    expect(fields(ingressPorts({ port: "http", endPort: 90 }))).toEqual([
      "spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric",
    ]);
    expect(fields(ingressPorts({ endPort: 90 }))).toEqual([
      "spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is not specified",
    ]);
    expect(fields(ingressPorts({ port: 80, endPort: 90 }, { port: "http" }, {}))).toEqual([]);
  });

  it("peers: one at least, ipBlock alone, selectors valid", () => {
    expect(fields(from({}))).toEqual(["spec.ingress[0].from[0]: Required value: must specify a peer"]);
    expect(fields(from({ ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} }))).toEqual([
      "spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer",
    ]);
    expect(fields(from({ podSelector: { matchExpressions: [{ key: "a", operator: "In" }] } }))).toEqual([
      "spec.ingress[0].from[0].podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    ]);
    expect(fields(np({ podSelector: { matchLabels: { "bad key!": "x" } } }))[0]).toMatch(/^spec.podSelector.matchLabels: Invalid value: "bad key!"/);
    expect(fields(np({ egress: [{ to: [{ namespaceSelector: { matchLabels: { a: "in valid" } } }] }] }))[0]).toMatch(
      /^spec.egress\[0\].to\[0\].namespaceSelector.matchLabels: Invalid value: "in valid"/,
    );
  });

  it("ipBlock: a CIDR of either family, excepts strict subsets of it", () => {
    const block = (cidr: string, except?: string[]) => from({ ipBlock: { cidr, except } });
    expect(fields(block("10.0.0.0/8", ["10.1.0.0/16", "10.2.3.4/32"]))).toEqual([]);
    expect(fields(block("2001:db8::/32", ["2001:db8:1::/48"]))).toEqual([]);
    expect(fields(block("10.1.2.3/8"))).toEqual([]); // host bits set: the legacy form kube still accepts
    expect(fields(from({ ipBlock: {} }))).toEqual(["spec.ingress[0].from[0].ipBlock.cidr: Required value"]);
    expect(fields(block("10.0.0.0"))).toEqual([
      'spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ]);
    expect(fields(block("10.0.0.0/8", ["11.0.0.0/16", "10.0.0.0/8", "2001:db8::/64", "x"]))).toEqual([
      'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "11.0.0.0/16": must be a strict subset of `cidr`',
      'spec.ingress[0].from[0].ipBlock.except[1]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`',
      'spec.ingress[0].from[0].ipBlock.except[2]: Invalid value: "2001:db8::/64": must be a strict subset of `cidr`',
      'spec.ingress[0].from[0].ipBlock.except[3]: Invalid value: "x": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ]);
  });
});

describe("NetworkPolicy defaults (SetDefaults_NetworkPolicy)", () => {
  const defaulted = (spec: Record<string, unknown>) => {
    const o = { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", ...np(spec) } as KObject;
    applyDefaults(resourceByName("networkpolicies"), o);
    return o.spec;
  };
  it("policyTypes: Ingress, plus Egress when egress rules are given; kept when set", () => {
    expect(defaulted({}).policyTypes).toEqual(["Ingress"]);
    expect(defaulted({ egress: [] }).policyTypes).toEqual(["Ingress"]);
    expect(defaulted({ egress: [{}] }).policyTypes).toEqual(["Ingress", "Egress"]);
    expect(defaulted({ egress: [{}], policyTypes: ["Egress"] }).policyTypes).toEqual(["Egress"]);
  });
  it("ports: protocol TCP", () => {
    const s = defaulted({ ingress: [{ ports: [{ port: 80 }, { protocol: "UDP", port: 53 }] }], egress: [{ ports: [{}] }] });
    expect(s.ingress[0].ports).toEqual([
      { port: 80, protocol: "TCP" },
      { protocol: "UDP", port: 53 },
    ]);
    expect(s.egress[0].ports).toEqual([{ protocol: "TCP" }]);
  });
});
