import type { Question } from "dns-packet";
import { describe, expect, it } from "vitest";
import { type Answered, resolve } from "./resolve";
import { ClusterView } from "./view";

const svc = (ns: string, name: string, spec: any) => ({ apiVersion: "v1", kind: "Service", metadata: { namespace: ns, name }, spec });
const slice = (ns: string, name: string, service: string, endpoints: any[], ports: any[] = [{ name: "http", port: 8080, protocol: "TCP" }]) => ({
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { namespace: ns, name, labels: { "kubernetes.io/service-name": service } },
  addressType: "IPv4",
  endpoints,
  ports,
});

const view = () => {
  const v = new ClusterView();
  v.resetServices([
    svc("default", "kubernetes", { clusterIP: "10.43.0.1", clusterIPs: ["10.43.0.1"], ports: [{ name: "https", port: 443, protocol: "TCP" }] }),
    svc("default", "kubia", {
      clusterIP: "10.43.0.20",
      ports: [
        { name: "http", port: 80, protocol: "TCP", targetPort: 8080 },
        { name: "dns", port: 53, protocol: "UDP" },
      ],
    }),
    svc("default", "db", { clusterIP: "None", ports: [{ name: "pg", port: 5432, protocol: "TCP" }] }),
    svc("default", "empty", { clusterIP: "None", ports: [{ name: "x", port: 1 }] }),
    svc("default", "ext", { type: "ExternalName", externalName: "example.test" }),
    svc("default", "alias", { type: "ExternalName", externalName: "kubia.default.svc.cluster.local" }),
  ]);
  v.resetSlices([
    slice("default", "kubia-abc", "kubia", [{ addresses: ["10.42.0.5"], conditions: { ready: true } }]),
    slice(
      "default",
      "db-xyz",
      "db",
      [
        { addresses: ["10.42.0.7"], hostname: "db-0", conditions: { ready: true } },
        { addresses: ["10.42.1.8"], hostname: "db-1", conditions: { ready: true } },
        { addresses: ["10.42.1.9"], conditions: {} },
        { addresses: ["10.42.1.10"], hostname: "db-3", conditions: { ready: false } },
      ],
      [{ name: "pg", port: 5432, protocol: "TCP" }],
    ),
  ]);
  return v;
};

const O = { domain: "cluster.local", dnsIP: "10.43.0.10" };
const ask = (v: ClusterView, name: string, type: Question["type"] = "A") => {
  const r = resolve(v, { name, type }, O);
  if (r.forward) throw new Error(`${name} was forwarded`);
  return r as Answered;
};
const data = (r: Answered) => r.answers.map((a: any) => a.data);

describe("cluster DNS answers (CoreDNS kubernetes plugin semantics)", () => {
  it("a Service's name is its ClusterIP, with CoreDNS's 5 s TTL and the name as asked", () => {
    const r = ask(view(), "Kubia.Default.svc.cluster.local");
    expect(r.rcode).toBe("NOERROR");
    expect(r.answers).toEqual([{ type: "A", name: "Kubia.Default.svc.cluster.local", ttl: 5, class: "IN", data: "10.43.0.20" }]);
    expect(data(ask(view(), "kubernetes.default.svc.cluster.local."))).toEqual(["10.43.0.1"]);
  });

  it("AAAA on an IPv4-only Service is NODATA (NOERROR, no answers, SOA in authority)", () => {
    const r = ask(view(), "kubia.default.svc.cluster.local", "AAAA");
    expect(r.rcode).toBe("NOERROR");
    expect(r.answers).toEqual([]);
    expect(r.authorities[0]).toMatchObject({
      type: "SOA",
      name: "cluster.local",
      ttl: 5,
      data: { mname: "ns.dns.cluster.local", rname: "hostmaster.cluster.local", refresh: 7200, retry: 1800, expire: 86400, minimum: 5 },
    });
  });

  it("unknown names inside the zone are NXDOMAIN with the SOA; names outside are forwarded", () => {
    for (const n of [
      "nope.default.svc.cluster.local",
      "kubia.default.svc.cluster.local.cluster.local",
      "foo.cluster.local",
      "a.b.c.kubia.default.svc.cluster.local",
    ]) {
      const r = ask(view(), n);
      expect(r.rcode, n).toBe("NXDOMAIN");
      expect(r.authorities[0]?.type, n).toBe("SOA");
    }
    expect(resolve(view(), { name: "example.com", type: "A" }, O)).toEqual({ forward: true });
    expect(resolve(view(), { name: "notcluster.local", type: "A" }, O)).toEqual({ forward: true });
  });

  it("the zone apex, svc and a namespace exist without records (NODATA); SOA and NS at the apex", () => {
    for (const n of ["cluster.local", "svc.cluster.local", "default.svc.cluster.local", "pod.cluster.local"]) {
      const r = ask(view(), n);
      expect([r.rcode, r.answers.length], n).toEqual(["NOERROR", 0]);
    }
    expect(ask(view(), "cluster.local", "SOA").answers[0].type).toBe("SOA");
    const ns = ask(view(), "cluster.local", "NS");
    expect(ns.answers[0]).toMatchObject({ type: "NS", data: "ns.dns.cluster.local" });
    expect(ns.additionals[0]).toMatchObject({ type: "A", name: "ns.dns.cluster.local", data: "10.43.0.10" });
    expect(ask(view(), "dns-version.cluster.local", "TXT").answers[0]).toMatchObject({ data: "1.1.0" });
  });

  it("a headless Service resolves to its ready endpoint addresses (ready unset counts as ready)", () => {
    expect(data(ask(view(), "db.default.svc.cluster.local")).sort()).toEqual(["10.42.0.7", "10.42.1.8", "10.42.1.9"]);
    // no ready endpoints: NXDOMAIN, as CoreDNS
    expect(ask(view(), "empty.default.svc.cluster.local").rcode).toBe("NXDOMAIN");
  });

  it("StatefulSet-style names: <hostname>.<service> and <dashed-ip>.<service>", () => {
    expect(data(ask(view(), "db-1.db.default.svc.cluster.local"))).toEqual(["10.42.1.8"]);
    expect(data(ask(view(), "10-42-1-9.db.default.svc.cluster.local"))).toEqual(["10.42.1.9"]);
    // not ready: gone
    expect(ask(view(), "db-3.db.default.svc.cluster.local").rcode).toBe("NXDOMAIN");
    // endpoint names work for ClusterIP Services too
    expect(data(ask(view(), "10-42-0-5.kubia.default.svc.cluster.local"))).toEqual(["10.42.0.5"]);
  });

  it("SRV for named ports: priority 0, weight 100/n, the Service's name as target with its address", () => {
    const r = ask(view(), "_http._tcp.kubia.default.svc.cluster.local", "SRV");
    expect(r.answers).toEqual([
      {
        type: "SRV",
        name: "_http._tcp.kubia.default.svc.cluster.local",
        ttl: 5,
        class: "IN",
        data: { priority: 0, weight: 100, port: 80, target: "kubia.default.svc.cluster.local" },
      },
    ]);
    expect(r.additionals).toEqual([{ type: "A", name: "kubia.default.svc.cluster.local", ttl: 5, class: "IN", data: "10.43.0.20" }]);
    // every port when no port is named
    const all = ask(view(), "kubia.default.svc.cluster.local", "SRV");
    expect(all.answers.map((a: any) => [a.data.port, a.data.weight])).toEqual([
      [80, 50],
      [53, 50],
    ]);
    expect(ask(view(), "_dns._udp.kubia.default.svc.cluster.local", "SRV").answers.map((a: any) => a.data.port)).toEqual([53]);
    // wrong protocol or unknown port name: NXDOMAIN
    expect(ask(view(), "_dns._tcp.kubia.default.svc.cluster.local", "SRV").rcode).toBe("NXDOMAIN");
    expect(ask(view(), "_nope._tcp.kubia.default.svc.cluster.local", "SRV").rcode).toBe("NXDOMAIN");
  });

  it("SRV of a headless Service: one record per endpoint, targets <hostname-or-dashed-ip>.<svc>", () => {
    const r = ask(view(), "_pg._tcp.db.default.svc.cluster.local", "SRV");
    expect(r.answers.map((a: any) => [a.data.target, a.data.port, a.data.weight])).toEqual([
      ["db-0.db.default.svc.cluster.local", 5432, 33],
      ["db-1.db.default.svc.cluster.local", 5432, 33],
      ["10-42-1-9.db.default.svc.cluster.local", 5432, 33],
    ]);
    expect(r.additionals.map((a: any) => [a.name, a.data])).toContainEqual(["db-1.db.default.svc.cluster.local", "10.42.1.8"]);
  });

  it("pod names <a-b-c-d>.<ns>.pod answer the address itself (pods insecure); anything else there is NXDOMAIN", () => {
    expect(data(ask(view(), "10-42-0-5.default.pod.cluster.local"))).toEqual(["10.42.0.5"]);
    expect(data(ask(view(), "10-42-7-7.other.pod.cluster.local"))).toEqual(["10.42.7.7"]);
    expect(ask(view(), "10-42-0-5.default.pod.cluster.local", "AAAA").answers).toEqual([]);
    expect(ask(view(), "web.default.pod.cluster.local").rcode).toBe("NXDOMAIN");
    expect(ask(view(), "10-42-0-300.default.pod.cluster.local").rcode).toBe("NXDOMAIN");
  });

  it("ExternalName is a CNAME: chased inside the zone, handed to the server outside it", () => {
    const ext = ask(view(), "ext.default.svc.cluster.local");
    expect(ext.answers).toEqual([{ type: "CNAME", name: "ext.default.svc.cluster.local", ttl: 5, class: "IN", data: "example.test" }]);
    expect(ext.chase).toEqual({ name: "example.test", type: "A" });
    const alias = ask(view(), "alias.default.svc.cluster.local");
    expect(alias.answers.map((a: any) => [a.type, a.data])).toEqual([
      ["CNAME", "kubia.default.svc.cluster.local"],
      ["A", "10.43.0.20"],
    ]);
    expect(alias.chase).toBeUndefined();
    expect(data(ask(view(), "ext.default.svc.cluster.local", "CNAME"))).toEqual(["example.test"]);
    // no SRV for ExternalName, no port names on it
    expect(ask(view(), "ext.default.svc.cluster.local", "SRV").answers).toEqual([]);
    expect(ask(view(), "_http._tcp.ext.default.svc.cluster.local", "SRV").rcode).toBe("NXDOMAIN");
  });

  it("follows watch events: a deleted Service is NXDOMAIN, an endpoint turning unready leaves the answer", () => {
    const v = view();
    v.service("DELETED", svc("default", "kubia", {}) as any);
    expect(ask(v, "kubia.default.svc.cluster.local").rcode).toBe("NXDOMAIN");
    v.slice(
      "MODIFIED",
      slice("default", "db-xyz", "db", [{ addresses: ["10.42.0.7"], hostname: "db-0", conditions: { ready: false } }, { addresses: ["10.42.1.8"] }]) as any,
    );
    expect(data(ask(v, "db.default.svc.cluster.local"))).toEqual(["10.42.1.8"]);
    v.slice("DELETED", slice("default", "db-xyz", "db", []) as any);
    expect(ask(v, "db.default.svc.cluster.local").rcode).toBe("NXDOMAIN");
  });

  it("before the first list, names in the zone are SERVFAIL (not a false NXDOMAIN)", () => {
    const v = new ClusterView();
    v.resetServices([]);
    expect(ask(v, "kubia.default.svc.cluster.local").rcode).toBe("SERVFAIL");
    v.resetSlices([]);
    expect(ask(v, "kubia.default.svc.cluster.local").rcode).toBe("NXDOMAIN");
  });

  it("PTR for ClusterIPs and endpoint addresses; unknown reverse names go upstream", () => {
    expect(data(ask(view(), "20.0.43.10.in-addr.arpa", "PTR"))).toEqual(["kubia.default.svc.cluster.local"]);
    expect(data(ask(view(), "8.1.42.10.in-addr.arpa", "PTR"))).toEqual(["db-1.db.default.svc.cluster.local"]);
    expect(resolve(view(), { name: "1.0.0.127.in-addr.arpa", type: "PTR" }, O)).toEqual({ forward: true });
  });

  it("zone transfers are refused; other types on existing names are NODATA", () => {
    expect(ask(view(), "cluster.local", "AXFR").rcode).toBe("REFUSED");
    const mx = ask(view(), "kubia.default.svc.cluster.local", "MX");
    expect([mx.rcode, mx.answers.length]).toEqual(["NOERROR", 0]);
    expect(ask(view(), "nope.default.svc.cluster.local", "MX").rcode).toBe("NXDOMAIN");
  });
});
