/**
 * The DNS server on real sockets (127.0.0.1, a random port), asked by node:dns's
 * resolver (c-ares: UDP, then TCP on a truncated answer) and by raw dns-packet
 * messages. Upstream forwarding goes to a stub resolver this test runs on 127.0.0.1,
 * never the host's resolver.
 */
import * as dgram from "node:dgram";
import { Resolver } from "node:dns/promises";
import * as net from "node:net";
import * as packet from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DnsServer } from "./server";
import { ClusterView } from "./view";

/** A stub upstream on 127.0.0.1 (UDP and TCP, one port): answers example.test A with 127.0.0.77, NXDOMAIN otherwise; counts queries. */
const stubUpstream = async () => {
  const seen: string[] = [];
  const answer = (msg: Buffer) => {
    const q = packet.decode(msg);
    const name = q.questions![0].name;
    seen.push(name);
    const found = name === "example.test";
    return packet.encode({
      type: "response",
      id: q.id,
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (found ? 0 : 3),
      questions: q.questions,
      answers: found ? [{ type: "A", name, ttl: 30, class: "IN", data: "127.0.0.77" }] : [],
    });
  };
  const udp = dgram.createSocket("udp4");
  await new Promise<void>((r) => udp.bind(0, "127.0.0.1", () => r()));
  udp.on("message", (m, rinfo) => udp.send(answer(m), rinfo.port, rinfo.address));
  const port = udp.address().port;
  const tcp = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on("data", (c) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const out = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        const len = Buffer.alloc(2);
        len.writeUInt16BE(out.length);
        s.end(Buffer.concat([len, out]));
      }
    });
  });
  await new Promise<void>((r) => tcp.listen(port, "127.0.0.1", () => r()));
  return { port, seen, close: () => Promise.all([new Promise((r) => udp.close(() => r(undefined))), new Promise((r) => tcp.close(() => r(undefined)))]) };
};

const view = new ClusterView();
view.resetServices([
  { metadata: { namespace: "default", name: "kubia" }, spec: { clusterIP: "10.43.0.20", ports: [{ name: "http", port: 80, protocol: "TCP" }] } },
  { metadata: { namespace: "default", name: "ext" }, spec: { type: "ExternalName", externalName: "example.test" } },
  { metadata: { namespace: "default", name: "big" }, spec: { clusterIP: "None", ports: [{ name: "http", port: 80 }] } },
]);
view.resetSlices([
  {
    metadata: { namespace: "default", name: "big-1", labels: { "kubernetes.io/service-name": "big" } },
    addressType: "IPv4",
    endpoints: Array.from({ length: 100 }, (_, i) => ({ addresses: [`10.42.${Math.floor(i / 50)}.${(i % 50) + 2}`], conditions: { ready: true } })),
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  },
]);

let stub: Awaited<ReturnType<typeof stubUpstream>>;
let server: DnsServer;
let silent: dgram.Socket;
let deadServer: DnsServer;
const resolver = (port: number) => {
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  return r;
};

const udpAsk = (port: number, msg: Buffer) =>
  new Promise<Buffer>((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    const t = setTimeout(() => {
      s.close();
      reject(new Error("no answer"));
    }, 2000);
    s.on("message", (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, port, "127.0.0.1");
  });

beforeAll(async () => {
  stub = await stubUpstream();
  server = new DnsServer({ host: "127.0.0.1", port: 0, view, domain: "cluster.local", upstreams: [{ host: "127.0.0.1", port: stub.port }] });
  await server.start();
  // an upstream that never answers: forwarding must give SERVFAIL after the timeout
  silent = dgram.createSocket("udp4");
  await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
  deadServer = new DnsServer({
    host: "127.0.0.1",
    port: 0,
    view,
    domain: "cluster.local",
    upstreams: [{ host: "127.0.0.1", port: silent.address().port }],
    upstreamTimeoutMs: 300,
  });
  await deadServer.start();
});

afterAll(async () => {
  await server?.stop();
  await deadServer?.stop();
  silent?.close();
  await stub?.close();
});

describe("the DNS server on real sockets", () => {
  it("answers A, SRV and CNAME for cluster names to a stock resolver", async () => {
    const r = resolver(server.port);
    expect(await r.resolve4("kubia.default.svc.cluster.local", { ttl: true })).toEqual([{ address: "10.43.0.20", ttl: 5 }]);
    expect(await r.resolveSrv("_http._tcp.kubia.default.svc.cluster.local")).toEqual([
      { name: "kubia.default.svc.cluster.local", port: 80, priority: 0, weight: 100 },
    ]);
    expect(await r.resolveCname("ext.default.svc.cluster.local")).toEqual(["example.test"]);
    // the CNAME's target is chased through the upstream
    expect(await r.resolve4("ext.default.svc.cluster.local")).toEqual(["127.0.0.77"]);
  });

  it("NXDOMAIN for unknown cluster names, with the zone's SOA", async () => {
    await expect(resolver(server.port).resolve4("nope.default.svc.cluster.local")).rejects.toMatchObject({ code: "ENOTFOUND" });
    const res = packet.decode(
      await udpAsk(server.port, packet.encode({ type: "query", id: 7, questions: [{ type: "A", name: "nope.default.svc.cluster.local" }] })),
    );
    expect((res as any).rcode).toBe("NXDOMAIN");
    expect(res.flag_aa).toBe(true);
    expect(res.id).toBe(7);
    expect(res.authorities?.[0]).toMatchObject({ type: "SOA", name: "cluster.local" });
  });

  it("forwards other names to the upstream (over UDP and TCP) and passes its answer back", async () => {
    const before = stub.seen.length;
    expect(await resolver(server.port).resolve4("example.test")).toEqual(["127.0.0.77"]);
    await expect(resolver(server.port).resolve4("missing.test")).rejects.toMatchObject({ code: "ENOTFOUND" });
    expect(stub.seen.slice(before)).toEqual(["example.test", "missing.test"]);
    const s = net.connect(server.port, "127.0.0.1");
    const got = await new Promise<Buffer>((resolve) => {
      let buf = Buffer.alloc(0);
      s.on("data", (c) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) resolve(buf);
      });
      s.write(packet.streamEncode({ type: "query", id: 4242, flags: packet.RECURSION_DESIRED, questions: [{ type: "A", name: "example.test" }] }));
    });
    s.destroy();
    const res = packet.streamDecode(got);
    expect(res.id).toBe(4242);
    expect(res.answers?.map((a: any) => a.data)).toEqual(["127.0.0.77"]);
  });

  it("SERVFAIL when no upstream answers in time", async () => {
    await expect(resolver(deadServer.port).resolve4("example.test")).rejects.toMatchObject({ code: "ESERVFAIL" });
  });

  it("sets TC on UDP answers that don't fit, and the resolver gets them whole over TCP", async () => {
    const raw = packet.decode(
      await udpAsk(server.port, packet.encode({ type: "query", id: 9, questions: [{ type: "A", name: "big.default.svc.cluster.local" }] })),
    );
    expect(raw.flag_tc).toBe(true);
    expect(raw.answers).toEqual([]);
    const all = await resolver(server.port).resolve4("big.default.svc.cluster.local");
    expect(all).toHaveLength(100);
  });

  it("ignores malformed packets and drops TCP connections that send garbage, and keeps answering", async () => {
    const s = dgram.createSocket("udp4");
    for (let i = 0; i < 50; i++) s.send(Buffer.from(`garbage ${i} ${"x".repeat(i * 10)}`), server.port, "127.0.0.1");
    s.send(Buffer.alloc(5000, 1), server.port, "127.0.0.1");
    await new Promise((r) => setTimeout(r, 100));
    s.close();
    const garbage = net.connect(server.port, "127.0.0.1");
    const closed = new Promise<void>((r) => garbage.on("close", () => r()));
    garbage.on("error", () => undefined);
    garbage.write(Buffer.concat([Buffer.from([0, 20]), Buffer.alloc(20, 0xff)]));
    await closed;
    // a TCP client that says a length and never sends the message is dropped when idle: covered by the idle timeout
    expect(await resolver(server.port).resolve4("kubia.default.svc.cluster.local")).toEqual(["10.43.0.20"]);
  });

  it("answers multiple-question and non-QUERY messages with FORMERR / NOTIMP", async () => {
    const multi = packet.decode(
      await udpAsk(
        server.port,
        packet.encode({
          type: "query",
          id: 1,
          questions: [
            { type: "A", name: "a.cluster.local" },
            { type: "A", name: "b.cluster.local" },
          ],
        }),
      ),
    );
    expect((multi as any).rcode).toBe("FORMERR");
    // opcode 2 (STATUS) in the flags
    const status = packet.decode(
      await udpAsk(server.port, packet.encode({ type: "query", id: 2, flags: 2 << 11, questions: [{ type: "A", name: "a.cluster.local" }] })),
    );
    expect((status as any).rcode).toBe("NOTIMP");
  });
});
