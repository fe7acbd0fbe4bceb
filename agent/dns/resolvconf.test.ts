import { describe, expect, it } from "vitest";
import { formatResolvConf, hostResolvConfPath, parseResolvConf, podResolvConf } from "./resolvconf";

const HOST = parseResolvConf(`# generated
nameserver 192.0.2.53
search corp.example lab.example.
options edns0 timeout:2
nameserver 192.0.2.54
`);
const O = { clusterDNS: ["10.43.0.10"], clusterDomain: "cluster.local", host: HOST };
const pod = (spec: any = {}, ns = "shop") => ({ metadata: { name: "p", namespace: ns }, spec: { containers: [], ...spec } });

describe("pods' resolv.conf (kubelet's rules)", () => {
  it("parses like kubelet: nameservers accumulate, the last search/options win, trailing dots go", () => {
    expect(HOST).toEqual({ nameservers: ["192.0.2.53", "192.0.2.54"], searches: ["corp.example", "lab.example"], options: ["edns0", "timeout:2"] });
  });

  it("ClusterFirst: the cluster DNS only, the cluster search list then the host's, ndots:5", () => {
    const { config, warnings } = podResolvConf(pod(), O);
    expect(formatResolvConf(config)).toBe(
      "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 10.43.0.10\noptions ndots:5\n",
    );
    expect(warnings).toEqual([]);
    // an unset dnsPolicy is ClusterFirst (the API's default)
    expect(podResolvConf(pod({ dnsPolicy: "ClusterFirst" }), O).config).toEqual(config);
  });

  it("ClusterFirst on a hostNetwork pod is Default; ClusterFirstWithHostNet keeps the cluster DNS", () => {
    expect(podResolvConf(pod({ hostNetwork: true }), O).config).toEqual(HOST);
    expect(podResolvConf(pod({ hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" }), O).config.nameservers).toEqual(["10.43.0.10"]);
  });

  it("Default: the node's resolv.conf as it is", () => {
    expect(podResolvConf(pod({ dnsPolicy: "Default" }), O).config).toEqual(HOST);
  });

  it("None: only the pod's dnsConfig; options merged by name with the pod's value winning", () => {
    const { config } = podResolvConf(
      pod({
        dnsPolicy: "None",
        dnsConfig: {
          nameservers: ["192.0.2.1"],
          searches: ["ns1.svc.cluster-domain.example", "my.dns.search.suffix"],
          options: [{ name: "ndots", value: "2" }, { name: "edns0" }],
        },
      }),
      O,
    );
    expect(formatResolvConf(config)).toBe("search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 192.0.2.1\noptions ndots:2 edns0\n");
    // appended to ClusterFirst: duplicates dropped, ndots overridden
    const cf = podResolvConf(
      pod({ dnsConfig: { nameservers: ["10.43.0.10", "192.0.2.9"], searches: ["cluster.local", "x.example"], options: [{ name: "ndots", value: "1" }] } }),
      O,
    );
    expect(cf.config.nameservers).toEqual(["10.43.0.10", "192.0.2.9"]);
    expect(cf.config.searches).toEqual(["shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "lab.example", "x.example"]);
    expect(cf.config.options).toEqual(["ndots:1"]);
  });

  it("no cluster DNS configured: ClusterFirst falls back to Default with kubelet's MissingClusterDNS warning", () => {
    const { config, warnings } = podResolvConf(pod(), { ...O, clusterDNS: [] });
    expect(config).toEqual(HOST);
    expect(warnings.map((w) => w.reason)).toEqual(["MissingClusterDNS"]);
  });

  it("limits: 3 nameservers, 32 search paths, 253-character domains, 2048 characters, each with a DNSConfigForming warning", () => {
    const many = podResolvConf(pod({ dnsPolicy: "None", dnsConfig: { nameservers: ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"] } }), O);
    expect(many.config.nameservers).toEqual(["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
    expect(many.warnings[0]).toMatchObject({ reason: "DNSConfigForming", message: expect.stringContaining("Nameserver limits were exceeded") });
    const searches = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
    const s = podResolvConf(pod({ dnsConfig: { searches } }), O);
    expect(s.config.searches).toHaveLength(32);
    expect(s.warnings[0].message).toContain("Search Line limits were exceeded");
    const long = podResolvConf(pod({ dnsPolicy: "None", dnsConfig: { searches: ["a".repeat(254), "ok.example"] } }), O);
    expect(long.config.searches).toEqual(["ok.example"]);
    const wide = podResolvConf(pod({ dnsPolicy: "None", dnsConfig: { searches: Array.from({ length: 10 }, (_, i) => `${String(i).repeat(240)}.x`) } }), O);
    expect(wide.config.searches.join(" ").length).toBeLessThanOrEqual(2048);
    expect(wide.config.searches).toHaveLength(8);
  });

  it("the node's file: /etc/resolv.conf, or systemd-resolved's upstream list when it only names a loopback stub", () => {
    const stub = (text: string) => (p: string) => (p === "/etc/resolv.conf" ? text : "");
    expect(hostResolvConfPath(() => true, stub("nameserver 127.0.0.53\noptions edns0"))).toBe("/run/systemd/resolve/resolv.conf");
    expect(hostResolvConfPath(() => false, stub("nameserver 127.0.0.53"))).toBe("/etc/resolv.conf");
    expect(hostResolvConfPath(() => true, stub("nameserver 192.0.2.53"))).toBe("/etc/resolv.conf");
  });
});
