import { describe, expect, it } from "vitest";
import { dnsFlags, hostUpstreams, parseHostPort } from "./node";

describe("the agent's DNS settings", () => {
  it("parses upstream addresses with an optional port", () => {
    expect(parseHostPort("192.0.2.53")).toEqual({ host: "192.0.2.53", port: 53 });
    expect(parseHostPort("127.0.0.1:5353")).toEqual({ host: "127.0.0.1", port: 5353 });
    expect(parseHostPort("[::1]:54")).toEqual({ host: "::1", port: 54 });
    expect(parseHostPort("dns.example")).toBeNull();
    expect(parseHostPort("127.0.0.1:99999")).toBeNull();
  });

  it("takes the host's nameservers as upstreams, loopback stubs included (the server runs in the host's namespace)", () => {
    expect(hostUpstreams("nameserver 127.0.0.53\nnameserver fd00::1\nsearch x\n")).toEqual([
      { host: "127.0.0.53", port: 53 },
      { host: "fd00::1", port: 53 },
    ]);
  });

  it("checks the flags, naming the bad one", () => {
    expect(dnsFlags({ "cluster-dns": "10.43.0.10", "cluster-domain": "Cluster.Local.", "dns-upstream": "127.0.0.1:5353,192.0.2.1" })).toEqual({
      clusterDNS: "10.43.0.10",
      clusterDomain: "cluster.local",
      dnsUpstreams: [
        { host: "127.0.0.1", port: 5353 },
        { host: "192.0.2.1", port: 53 },
      ],
    });
    expect(dnsFlags({ "cluster-dns": "" })).toEqual({ clusterDNS: "" });
    expect(() => dnsFlags({ "cluster-dns": "dns" })).toThrow(/--cluster-dns/);
    expect(() => dnsFlags({ "cluster-domain": "bad_domain" })).toThrow(/--cluster-domain/);
    expect(() => dnsFlags({ "dns-upstream": "1.2.3.4,nope" })).toThrow(/--dns-upstream: "nope"/);
  });
});
