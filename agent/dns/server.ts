/**
 * The node-local DNS server (NodeLocal DNSCache's place, CoreDNS's behaviour): UDP and
 * TCP on one address and port (in production the pod bridge gateway, 10.42.N.1:53,
 * which kube-proxy's rules also reach as the cluster DNS Service IP). Names of the
 * cluster zone are answered from the view (resolve.ts); everything else is forwarded
 * to the upstream resolvers, over the protocol the client used (like CoreDNS's forward
 * plugin), each tried in turn with a timeout, SERVFAIL when none answers.
 *
 * Bounds: undecodable messages and responses are dropped; UDP answers larger than the
 * client's EDNS size (512 without EDNS) come back empty with TC set, so the client asks
 * again over TCP; TCP connections are capped in number, closed when idle, and each runs
 * a bounded number of queries at once; forwarded queries in flight are capped (REFUSED
 * beyond, like the forward plugin's max_concurrent).
 */
import * as dgram from "node:dgram";
import { randomInt } from "node:crypto";
import { isIPv6 } from "node:net";
import * as net from "node:net";
import * as packet from "dns-packet";
import type { Answer, DecodedPacket, Question } from "dns-packet";
import { type Answered, DEFAULT_TTL, type Rcode, resolve } from "./resolve";
import type { ClusterView } from "./view";

export interface Upstream {
  host: string;
  port: number;
}

export interface DnsServerOptions {
  host: string;
  /** 0 picks a free port (the same one for UDP and TCP) */
  port: number;
  view: ClusterView;
  /** the cluster domain (cluster.local) */
  domain: string;
  ttl?: number;
  /** the cluster DNS Service IP (the zone's NS address) */
  dnsIP?: string;
  upstreams: Upstream[];
  /** per upstream attempt (default 2 s) */
  upstreamTimeoutMs?: number;
  /** concurrent TCP connections (default 256) */
  maxTcpConnections?: number;
  /** forwarded queries in flight (default 1000, the forward plugin's usual max_concurrent) */
  maxForwards?: number;
  /** a TCP connection with nothing to read for this long is closed (default 10 s, CoreDNS's read timeout) */
  tcpIdleMs?: number;
  log?(msg: string): void;
}

const RCODES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
/** UDP queries larger than this are not DNS queries anyone sends */
const MAX_UDP_QUERY = 4096;
/** the largest UDP answer we send, whatever the client's EDNS size says */
const MAX_UDP_ANSWER = 4096;
/** queries a single TCP connection may have in progress (reading pauses beyond) */
const TCP_PIPELINE = 16;

const lengthPrefixed = (msg: Buffer) => {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
};

export class DnsServer {
  private udp?: dgram.Socket;
  private tcp?: net.Server;
  private inflight = 0;
  private readonly conns = new Set<net.Socket>();
  private boundPort = 0;

  constructor(private readonly o: DnsServerOptions) {}

  get port(): number {
    return this.boundPort;
  }

  private log(m: string) {
    this.o.log?.(`dns: ${m}`);
  }

  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket(isIPv6(this.o.host) ? "udp6" : "udp4");
      await new Promise<void>((res, rej) => {
        udp.once("error", rej);
        udp.bind(this.o.port, this.o.host, () => {
          udp.off("error", rej);
          res();
        });
      });
      const port = udp.address().port;
      const tcp = net.createServer((s) => this.serveTcp(s));
      tcp.maxConnections = this.o.maxTcpConnections ?? 256;
      try {
        await new Promise<void>((res, rej) => {
          tcp.once("error", rej);
          tcp.listen(port, this.o.host, () => {
            tcp.off("error", rej);
            res();
          });
        });
      } catch (e) {
        udp.close();
        // a picked port may be taken for TCP: pick another
        if (this.o.port === 0 && (e as NodeJS.ErrnoException).code === "EADDRINUSE" && attempt < 5) continue;
        throw e;
      }
      udp.on("error", (e) => this.log(`udp: ${e.message}`));
      tcp.on("error", (e) => this.log(`tcp: ${e.message}`));
      udp.on("message", (msg, rinfo) => {
        if (msg.length > MAX_UDP_QUERY) return;
        void this.handle(msg, false).then((out) => {
          if (out) udp.send(out, rinfo.port, rinfo.address);
        });
      });
      this.udp = udp;
      this.tcp = tcp;
      this.boundPort = port;
      return;
    }
  }

  async stop(): Promise<void> {
    for (const s of this.conns) s.destroy();
    await Promise.all([
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
      new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r())),
    ]);
    this.udp = undefined;
    this.tcp = undefined;
  }

  private serveTcp(s: net.Socket): void {
    this.conns.add(s);
    s.setTimeout(this.o.tcpIdleMs ?? 10_000, () => s.destroy());
    s.on("error", () => undefined);
    s.on("close", () => this.conns.delete(s));
    let buf = Buffer.alloc(0);
    let busy = 0;
    const pump = () => {
      while (buf.length >= 2 && busy < TCP_PIPELINE) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        busy++;
        void this.handle(msg, true).then((out) => {
          busy--;
          if (out && !s.destroyed) s.write(lengthPrefixed(out));
          if (!out)
            s.destroy(); // a malformed message: the stream can't be trusted to be in step
          else {
            pump();
            if (busy < TCP_PIPELINE && s.isPaused()) s.resume();
          }
        });
      }
      if (busy >= TCP_PIPELINE) s.pause();
    };
    s.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      // one message is at most 65537 bytes with its length; more than two pending is abuse
      if (buf.length > 2 * 65537) {
        s.destroy();
        return;
      }
      pump();
    });
  }

  /**
   * One query in, its answer out (null: no answer, the message is dropped). `tcp`: the
   * client asked over TCP (no size limit, and forwarding uses TCP as well).
   */
  async handle(msg: Buffer, tcp: boolean): Promise<Buffer | null> {
    try {
      return await this.answer(msg, tcp);
    } catch (e) {
      // nothing a client (or an upstream) sends may take the agent down
      this.log(`query failed: ${(e as Error).message}`);
      return null;
    }
  }

  private async answer(msg: Buffer, tcp: boolean): Promise<Buffer | null> {
    let query: DecodedPacket & { opcode?: string };
    try {
      query = packet.decode(msg) as DecodedPacket & { opcode?: string };
    } catch {
      return null;
    }
    if (query.type !== "query") return null;
    const opt = (query.additionals ?? []).find((a) => a.type === "OPT") as { udpPayloadSize?: number } | undefined;
    const limit = tcp ? 65535 : Math.min(MAX_UDP_ANSWER, Math.max(512, opt?.udpPayloadSize ?? 512));
    const questions = query.questions ?? [];
    const base = { id: query.id, rd: query.flag_rd, questions, edns: !!opt };
    if (query.opcode !== "QUERY") return this.encode({ ...base, rcode: "NOTIMP", answers: [], authorities: [], additionals: [] }, limit);
    if (questions.length !== 1) return this.encode({ ...base, rcode: "FORMERR", answers: [], authorities: [], additionals: [] }, limit);
    const res = resolve(this.o.view, questions[0], { domain: this.o.domain, ttl: this.o.ttl ?? DEFAULT_TTL, dnsIP: this.o.dnsIP });
    if (res.forward) {
      const out = await this.forward(msg, tcp);
      if (out === "refused") return this.encode({ ...base, rcode: "REFUSED", answers: [], authorities: [], additionals: [] }, limit);
      if (!out) return this.encode({ ...base, rcode: "SERVFAIL", answers: [], authorities: [], additionals: [] }, limit);
      if (out.length <= limit) return out;
      return this.truncated(base, packet.decode(out).flags ?? 0);
    }
    if (res.chase) await this.chase(res);
    return this.encode({ ...base, ...res, aa: true }, limit);
  }

  /** A CNAME out of the zone: its target's addresses from upstream, appended (left out if upstream fails). */
  private async chase(res: Answered): Promise<void> {
    const q = packet.encode({ type: "query", id: 0, flags: packet.RECURSION_DESIRED, questions: [{ type: res.chase!.type, name: res.chase!.name }] });
    let out = await this.forward(q, false);
    if (out && out !== "refused" && packet.decode(out).flag_tc) out = await this.forward(q, true);
    if (!out || out === "refused") return;
    try {
      const r = packet.decode(out);
      res.answers.push(...(r.answers ?? []));
    } catch {
      // an answer we can't read adds nothing
    }
  }

  private encode(
    r: {
      id?: number;
      rd: boolean;
      questions: Question[];
      edns: boolean;
      rcode: Rcode;
      answers: Answer[];
      authorities: Answer[];
      additionals: Answer[];
      aa?: boolean;
    },
    limit: number,
  ): Buffer {
    const flags = (r.aa ? packet.AUTHORITATIVE_ANSWER : 0) | (r.rd ? packet.RECURSION_DESIRED : 0) | RCODES[r.rcode];
    const opt: Answer[] = r.edns
      ? [{ type: "OPT", name: ".", udpPayloadSize: MAX_UDP_ANSWER, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }]
      : [];
    const out = packet.encode({
      type: "response",
      id: r.id,
      flags,
      questions: r.questions,
      answers: r.answers,
      authorities: r.authorities,
      additionals: [...r.additionals, ...opt],
    });
    return out.length <= limit ? out : this.truncated(r, flags);
  }

  /** The question alone with TC set: the client asks again over TCP. */
  private truncated(r: { id?: number; questions: Question[]; edns: boolean }, flags: number): Buffer {
    const opt: Answer[] = r.edns
      ? [{ type: "OPT", name: ".", udpPayloadSize: MAX_UDP_ANSWER, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }]
      : [];
    return packet.encode({
      type: "response",
      id: r.id,
      flags: flags | packet.TRUNCATED_RESPONSE,
      questions: r.questions,
      answers: [],
      authorities: [],
      additionals: opt,
    });
  }

  /** Ask the upstreams in turn; the first answer wins (with the client's id back). */
  private async forward(msg: Buffer, tcp: boolean): Promise<Buffer | null | "refused"> {
    if (this.inflight >= (this.o.maxForwards ?? 1000)) return "refused";
    this.inflight++;
    try {
      const clientId = msg.readUInt16BE(0);
      for (const u of this.o.upstreams) {
        // a fresh id (and, for UDP, a fresh source port) per attempt
        const id = randomInt(65536);
        const out = Buffer.from(msg);
        out.writeUInt16BE(id, 0);
        const answer = tcp ? await this.tcpExchange(u, out) : await this.udpExchange(u, out);
        if (!answer || answer.length < 12 || answer.readUInt16BE(0) !== id) continue;
        answer.writeUInt16BE(clientId, 0);
        return answer;
      }
      return null;
    } finally {
      this.inflight--;
    }
  }

  private udpExchange(u: Upstream, msg: Buffer): Promise<Buffer | null> {
    return new Promise((resolvePromise) => {
      const sock = dgram.createSocket(isIPv6(u.host) ? "udp6" : "udp4");
      const id = msg.readUInt16BE(0);
      const done = (b: Buffer | null) => {
        clearTimeout(timer);
        sock.removeAllListeners("message");
        try {
          sock.close();
        } catch {
          // already closed
        }
        resolvePromise(b);
      };
      const timer = setTimeout(() => done(null), this.o.upstreamTimeoutMs ?? 2000);
      sock.on("error", () => done(null));
      sock.on("message", (m, rinfo) => {
        // only the upstream's answer to this id counts; anything else is ignored
        if (rinfo.port !== u.port || rinfo.address !== u.host || m.length < 12 || m.readUInt16BE(0) !== id) return;
        done(m);
      });
      sock.send(msg, u.port, u.host, (e) => e && done(null));
    });
  }

  private tcpExchange(u: Upstream, msg: Buffer): Promise<Buffer | null> {
    return new Promise((resolvePromise) => {
      let buf = Buffer.alloc(0);
      const s = net.connect({ host: u.host, port: u.port });
      const done = (b: Buffer | null) => {
        clearTimeout(timer);
        s.destroy();
        resolvePromise(b);
      };
      const timer = setTimeout(() => done(null), this.o.upstreamTimeoutMs ?? 2000);
      s.on("error", () => done(null));
      s.on("close", () => done(null));
      s.on("connect", () => s.write(lengthPrefixed(msg)));
      s.on("data", (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      });
    });
  }
}
