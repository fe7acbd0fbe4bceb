/**
 * What the tests of the node's packet rules share (kube-proxy in agent/proxy, NetworkPolicy
 * in agent/netpol): whether this machine can run them, `nft -c` checks of generated
 * rulesets, and the data path fixture below.
 *
 * The data path fixture: network namespaces the test creates, so the
 * host's own tables are never touched. Layout (all inside the test's namespaces):
 *
 *   <p>-ep1 10.42.250.10 ─┐
 *   <p>-ep2 10.42.250.11 ─┤
 *   <p>-pod 10.42.250.20 ─┼─ bridge br0 10.42.250.1 ── <p>-node ── 10.42.251.1 ── <p>-client 10.42.251.2
 *                         (pod network)               (rules here)   (a client outside the pod network)
 *
 * The node namespace routes between the two; each endpoint runs a tiny TCP server that
 * answers with its name and the peer address it saw, and a UDP echo. Before anything,
 * the host routes 10.42/16 and 10.43/16 into a sink bridge (NET.md), and `destroy()`
 * removes every namespace, process, route and bridge it created.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../proxy/proxier";

/** Whether `bin` is on the PATH. */
export const installed = (bin: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

/**
 * Why a test that changes packet rules in network namespaces cannot run here (not root,
 * or one of `bins` not installed), "" when it can. In CI (CI=true) it must: a reason is
 * an error there, naming `test`.
 */
export const netnsUnavailable = (test: string, bins = ["nft", "ip"]): string => {
  const missing = process.getuid?.() !== 0 ? "not root" : (bins.filter((b) => !installed(b)).map((b) => `${b} not installed`)[0] ?? "");
  if (missing && process.env.CI === "true") throw new Error(`${test} cannot run in CI: ${missing}`);
  return missing;
};

/** Whether `nft -c` can check rulesets here (root and nft); in CI (CI=true) it must. */
export const nftCheckAvailable = (): boolean => {
  const ok = installed("nft") && process.getuid?.() === 0;
  if (!ok && process.env.CI === "true") throw new Error("nft -c needs root and the nftables package in CI");
  return ok;
};

/** `nft -c -f -`: the kernel's parser and checks, nothing applied. */
export const nftCheck = (script: string) => run(["nft", "-c", "-f", "-"], script);

const SERVER = `
const net = require("node:net"), dgram = require("node:dgram");
const [name, tcp, udp, host] = process.argv.slice(2);
let up = 0; const ready = () => { if (++up === 2) console.log("ready"); };
net.createServer((s) => s.end(JSON.stringify({ name, peer: s.remoteAddress }) + "\\n")).listen(Number(tcp), host, ready);
const u = dgram.createSocket("udp4");
u.on("message", (m, r) => u.send(JSON.stringify({ name, peer: r.address, echo: String(m) }), r.port, r.address));
u.bind(Number(udp), host, ready);
`;

const CLIENT = `
const net = require("node:net"), dgram = require("node:dgram");
const [proto, host, port, n, src] = process.argv.slice(2);
const one = () => new Promise((resolve) => {
  const t = setTimeout(() => done({ error: "timeout" }), 2000);
  let sock;
  const done = (r) => { clearTimeout(t); try { sock.destroy ? sock.destroy() : sock.close(); } catch {} resolve(r); };
  if (proto === "tcp") {
    let buf = "";
    sock = net.connect(Number(port), host);
    sock.on("data", (d) => (buf += d));
    sock.on("end", () => done(JSON.parse(buf)));
    sock.on("error", (e) => done({ error: e.code }));
  } else {
    sock = dgram.createSocket("udp4");
    sock.on("message", (m) => done(JSON.parse(String(m))));
    sock.on("error", (e) => done({ error: e.code }));
    const send = () => sock.send("ping", Number(port), host);
    if (src) sock.bind(Number(src), send);
    else send();
  }
});
(async () => {
  const out = [];
  for (let i = 0; i < Number(n); i++) {
    out.push(await one());
    if (out[i].error === "timeout") break; // a black hole stays one: don't wait n times
  }
  console.log(JSON.stringify(out));
})();
`;

/** sequential connect-read-close round trips; prints the latencies in ms */
const TIMER = `
const net = require("node:net");
const [host, port, n] = process.argv.slice(2);
const one = () => new Promise((resolve, reject) => {
  const t0 = process.hrtime.bigint();
  const s = net.connect(Number(port), host);
  s.on("data", () => {});
  s.on("end", () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
  s.on("error", reject);
});
(async () => { const out = []; for (let i = 0; i < Number(n); i++) out.push(await one()); console.log(JSON.stringify(out)); })();
`;

export interface Answer {
  name?: string;
  peer?: string;
  error?: string;
}

const sh = (...argv: string[]) => run(argv);
const quiet = (...argv: string[]) => run(argv).catch(() => "");

export class NetnsFixture {
  readonly node: string;
  readonly client: string;
  readonly eps: string[];
  /** a client pod on the endpoints' bridge */
  readonly pod: string;
  readonly dir = mkdtempSync(join(tmpdir(), "kf-proxy-"));
  private readonly procs: ChildProcess[] = [];
  private readonly sink: string;
  private sinkCreated = false;
  private metric = "";

  constructor(readonly prefix = `kfp${process.pid % 10000}`) {
    this.node = `${prefix}-node`;
    this.client = `${prefix}-client`;
    this.eps = [`${prefix}-ep1`, `${prefix}-ep2`];
    this.pod = `${prefix}-pod`;
    this.sink = `${prefix}-sink`;
    writeFileSync(join(this.dir, "server.cjs"), SERVER);
    writeFileSync(join(this.dir, "client.cjs"), CLIENT);
    writeFileSync(join(this.dir, "timer.cjs"), TIMER);
  }

  in(ns: string, ...argv: string[]) {
    return sh("ip", "netns", "exec", ns, ...argv);
  }

  /** `nft ...` inside the node namespace (where the rules are), e.g. `nft("list", "table", "ip", "kubeflare")` */
  nft(...argv: string[]) {
    return this.in(this.node, "nft", ...argv);
  }

  async create() {
    // the host safety net first: a packet no rule rewrites goes nowhere
    await sh("ip", "link", "add", this.sink, "type", "bridge");
    this.sinkCreated = true;
    await sh("ip", "link", "set", this.sink, "up");
    // a metric of our own: other tests may have their sink routes in place (same prefix and metric would clash)
    for (let m = 5100 + (process.pid % 800); ; m++) {
      try {
        await sh("ip", "route", "add", "10.42.0.0/16", "dev", this.sink, "metric", String(m));
        this.metric = String(m);
        break;
      } catch (e) {
        if (m > 5100 + (process.pid % 800) + 20) throw e;
      }
    }
    await sh("ip", "route", "add", "10.43.0.0/16", "dev", this.sink, "metric", this.metric);

    for (const ns of [this.node, this.client, this.pod, ...this.eps]) {
      await sh("ip", "netns", "add", ns);
      await this.in(ns, "ip", "link", "set", "lo", "up");
    }
    // like the host (NET.md): the service CIDR routed into a sink, so an un-DNATed packet
    // reaches the forward hook (and kube-proxy's reject) instead of failing routing
    await this.in(this.node, "ip", "link", "add", "sink", "type", "bridge");
    await this.in(this.node, "ip", "link", "set", "sink", "up");
    await this.in(this.node, "ip", "route", "add", "10.43.0.0/16", "dev", "sink", "metric", "5000");
    await this.in(this.node, "ip", "link", "add", "br0", "type", "bridge");
    await this.in(this.node, "ip", "addr", "add", "10.42.250.1/24", "dev", "br0");
    await this.in(this.node, "ip", "link", "set", "br0", "up");
    for (const [i, [ns, host]] of [...this.eps.map((ns, i) => [ns, 10 + i] as const), [this.pod, 20] as const].entries()) {
      await this.in(this.node, "ip", "link", "add", `ep${i}`, "type", "veth", "peer", "name", "eth0", "netns", ns);
      await this.in(this.node, "ip", "link", "set", `ep${i}`, "master", "br0", "up");
      await this.in(ns, "ip", "addr", "add", `10.42.250.${host}/24`, "dev", "eth0");
      await this.in(ns, "ip", "link", "set", "eth0", "up");
      await this.in(ns, "ip", "route", "add", "default", "via", "10.42.250.1");
    }
    await this.in(this.node, "ip", "link", "add", "cl0", "type", "veth", "peer", "name", "eth0", "netns", this.client);
    await this.in(this.node, "ip", "addr", "add", "10.42.251.1/24", "dev", "cl0");
    await this.in(this.node, "ip", "link", "set", "cl0", "up");
    await this.in(this.client, "ip", "addr", "add", "10.42.251.2/24", "dev", "eth0");
    await this.in(this.client, "ip", "link", "set", "eth0", "up");
    await this.in(this.client, "ip", "route", "add", "default", "via", "10.42.251.1");
  }

  /** start `name`'s TCP server on `tcp` and UDP echo on `udp` inside `ns`; resolves once both listen */
  serve(ns: string, name: string, tcp: number, udp: number, host = "0.0.0.0") {
    const p = spawn("ip", ["netns", "exec", ns, process.execPath, join(this.dir, "server.cjs"), name, String(tcp), String(udp), host], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    this.procs.push(p);
    return new Promise<void>((resolve, reject) => {
      p.stdout!.on("data", (d) => String(d).includes("ready") && resolve());
      p.on("exit", (code) => reject(new Error(`server ${name} exited ${code}`)));
    });
  }

  /** `n` connections (TCP) or datagrams (UDP) from inside `ns`, one after another; UDP from `srcPort` when given */
  async ask(ns: string, proto: "tcp" | "udp", host: string, port: number, n = 1, srcPort?: number): Promise<Answer[]> {
    const args = [proto, host, String(port), String(n), ...(srcPort ? [String(srcPort)] : [])];
    return JSON.parse(await this.in(ns, process.execPath, join(this.dir, "client.cjs"), ...args));
  }

  /** latencies (ms) of `n` TCP round trips from inside `ns` (the benchmark) */
  async time(ns: string, host: string, port: number, n: number): Promise<number[]> {
    return JSON.parse(await this.in(ns, process.execPath, join(this.dir, "timer.cjs"), host, String(port), String(n)));
  }

  async destroy() {
    for (const p of this.procs) p.kill("SIGKILL");
    for (const ns of [this.node, this.client, this.pod, ...this.eps]) await quiet("ip", "netns", "del", ns);
    if (this.sinkCreated) {
      // deleting the bridge takes its routes with it
      await quiet("ip", "link", "del", this.sink);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
