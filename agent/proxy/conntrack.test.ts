import { describe, expect, it } from "vitest";
import { staleUdpFlows } from "./conntrack";
import { buildRuleset, type ProxyInput } from "./rules";

const m = (o: Record<string, string[]>) => new Map(Object.entries(o).map(([k, v]) => [k, new Set(v)]));

describe("stale UDP flows", () => {
  it("deletes the flows of endpoints that left a frontend, and everything of a frontend that got its first endpoint", () => {
    const before = m({ "10.43.0.10:53": ["10.42.0.5", "10.42.0.6"], ":30053": ["10.42.0.5"], "10.43.0.11:514": ["10.42.0.7"] });
    const after = m({ "10.43.0.10:53": ["10.42.0.6", "10.42.0.8"], "10.43.0.12:53": ["10.42.0.9"] });
    expect(staleUdpFlows(before, after)).toEqual([
      ["-D", "-p", "udp", "--orig-dst", "10.43.0.10", "--orig-port-dst", "53", "--dst-nat", "10.42.0.5"],
      ["-D", "-p", "udp", "--orig-port-dst", "30053", "--dst-nat", "10.42.0.5"],
      ["-D", "-p", "udp", "--orig-dst", "10.43.0.11", "--orig-port-dst", "514", "--dst-nat", "10.42.0.7"],
      ["-D", "-p", "udp", "--orig-dst", "10.43.0.12", "--orig-port-dst", "53"],
    ]);
  });

  it("nothing on the first sync or when nothing left", () => {
    const now = m({ "10.43.0.10:53": ["10.42.0.5"] });
    expect(staleUdpFlows(undefined, now)).toEqual([]);
    expect(staleUdpFlows(now, m({ "10.43.0.10:53": ["10.42.0.5", "10.42.0.6"] }))).toEqual([]);
  });

  it("the ruleset names each UDP frontend with the endpoints it may DNAT to (not TCP, not unready ones)", () => {
    const input: ProxyInput = {
      services: [
        {
          metadata: { name: "dns", namespace: "default" },
          spec: {
            type: "NodePort",
            clusterIP: "10.43.0.10",
            ports: [
              { name: "dns", port: 53, protocol: "UDP", nodePort: 30053 },
              { name: "tcp", port: 53, protocol: "TCP" },
            ],
          },
        },
      ],
      endpointSlices: [
        {
          metadata: { name: "dns-x", namespace: "default", labels: { "kubernetes.io/service-name": "dns" } },
          addressType: "IPv4",
          ports: [
            { name: "dns", port: 5353, protocol: "UDP" },
            { name: "tcp", port: 5353, protocol: "TCP" },
          ],
          endpoints: [
            { addresses: ["10.42.0.5"], conditions: { ready: true } },
            { addresses: ["10.42.0.6"], conditions: { ready: false } },
          ],
        },
      ],
      nodeName: "n1",
      nodeIPs: ["192.168.1.2"],
      clusterCIDR: "10.42.0.0/16",
    };
    expect(buildRuleset(input).udp).toEqual(m({ "10.43.0.10:53": ["10.42.0.5"], ":30053": ["10.42.0.5"] }));
  });
});
