/**
 * Puts a generated ruleset into the kernel with the `nft` CLI, one transaction per
 * change (`nft -f -`), the way kube-proxy's nftables mode does: the first sync (and
 * any sync after a failure) replaces the whole table (`add table` + `delete table` +
 * the new table); later syncs flush the table's chains and maps, delete the chains and
 * sets that went away and load the new contents, all in one transaction, so the
 * ClientIP affinity sets of unchanged endpoints keep their entries. Nothing is
 * written when the ruleset did not change.
 *
 * `ProxyLoop` rate-limits: changes are coalesced and applied within `minIntervalMs`
 * (default 200 ms) of the first one, so a change reaches the kernel well within 1 s.
 */
import { Coalescer } from "../coalesce";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { NOTHING_DELETED, staleUdpFlows } from "./conntrack";
import { buildRuleset, type ProxyInput, type Ruleset, TABLE_FAMILY, TABLE_NAME } from "./rules";

export interface NftOptions {
  /** command prefix, e.g. ["ip", "netns", "exec", "kf-t-node"] to work inside a network namespace */
  prefix?: string[];
  /** set net.ipv4.ip_forward=1 and net.ipv4.conf.all.route_localnet=1 (default true) */
  sysctls?: boolean;
  log?: (msg: string) => void;
}

const TABLE = `${TABLE_FAMILY} ${TABLE_NAME}`;

/**
 * Docker sets the FORWARD policy to DROP and drops traffic into its bridges that is not
 * a published port; a drop in another table is final whatever our table accepts. So on a
 * Docker host, DNATed (Service) connections are accepted in DOCKER-USER, the chain Docker
 * leaves to the admin (kube-proxy's iptables mode accepts the same in KUBE-FORWARD).
 */
const DOCKER_USER_RULE = ["DOCKER-USER", "-m", "conntrack", "--ctstate", "DNAT", "-m", "comment", "--comment", "kubeflare kube-proxy", "-j", "ACCEPT"];

/** run a command with `input` on stdin; resolves with stdout, rejects with stderr */
export function run(argv: string[], input = ""): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      if (out.length < 1 << 20) out += d;
    });
    child.stderr.on("data", (d) => {
      if (err.length < 1 << 16) err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(" ")}: exit ${code}: ${err.trim()}`))));
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

/**
 * The sysctls kube-proxy needs: forwarding, and route_localnet so that a connection to
 * 127.0.0.1:<nodePort> may be DNATed to a pod (the kernel otherwise drops packets with a
 * loopback source on a non-loopback interface; the iptables mode of kube-proxy sets it
 * for the same reason).
 */
export const SYSCTLS: Record<string, string> = { "net/ipv4/ip_forward": "1", "net/ipv4/conf/all/route_localnet": "1" };
/**
 * Pods on one bridge reach each other through a ClusterIP only if bridged packets pass
 * netfilter (the reply must be un-DNATed): br_netfilter's bridge-nf-call-iptables, which
 * kube-proxy also expects. Set when the module is there; otherwise a warning.
 */
export const BRIDGE_SYSCTL = "net/bridge/bridge-nf-call-iptables";

export class NftProxier {
  private last?: Ruleset;
  private sysctlsDone = false;
  constructor(private readonly opts: NftOptions = {}) {}

  private nft(script: string) {
    return run([...(this.opts.prefix ?? []), "nft", "-f", "-"], script);
  }

  private async setSysctls() {
    if (this.sysctlsDone || this.opts.sysctls === false) return;
    const set = (k: string, v: string) =>
      this.opts.prefix?.length ? run([...this.opts.prefix, "sh", "-c", `echo ${v} > /proc/sys/${k}`]) : writeFile(`/proc/sys/${k}`, v);
    for (const [k, v] of Object.entries(SYSCTLS)) await set(k, v);
    await set(BRIDGE_SYSCTL, "1").catch(() =>
      this.opts.log?.(`kube-proxy: cannot set ${BRIDGE_SYSCTL} (modprobe br_netfilter): pods may not reach ClusterIPs served by pods on the same bridge`),
    );
    await this.dockerForward().catch((e) => this.opts.log?.(`kube-proxy: DOCKER-USER: ${(e as Error).message}`));
    this.sysctlsDone = true;
  }

  /** the transaction that turns `prev` (what the kernel has) into `next` */
  static script(next: Ruleset, prev?: Ruleset): string {
    if (!prev) return `add table ${TABLE}\ndelete table ${TABLE}\n${next.text}`;
    const lines = [`flush table ${TABLE}`];
    for (const m of prev.maps) lines.push(`flush map ${TABLE} ${m}`);
    lines.push(`flush set ${TABLE} cluster-ips`);
    const keep = new Set(next.chains);
    for (const c of prev.chains) if (!keep.has(c)) lines.push(`delete chain ${TABLE} ${c}`);
    for (const [s, decl] of prev.sets) if (next.sets.get(s) !== decl) lines.push(`delete set ${TABLE} ${s}`);
    return `${lines.join("\n")}\n${next.text}`;
  }

  /** apply `next` if it differs from what was applied last; true when something was written */
  async apply(next: Ruleset): Promise<boolean> {
    await this.setSysctls();
    if (this.last && this.last.text === next.text) return false;
    try {
      await this.nft(NftProxier.script(next, this.last));
    } catch (e) {
      if (!this.last) throw e;
      this.opts.log?.(`kube-proxy: incremental nftables update failed, replacing the table: ${(e as Error).message}`);
      this.last = undefined;
      await this.nft(NftProxier.script(next));
    }
    this.last = next;
    return true;
  }

  /**
   * Is what was applied still in the kernel? (kube-proxy's canary: someone may have run
   * `nft flush ruleset`.) If not, the next apply loads the whole table again.
   */
  async intact(): Promise<boolean> {
    // Docker re-creates its chains when it restarts
    await this.dockerForward().catch((e) => this.opts.log?.(`kube-proxy: DOCKER-USER: ${(e as Error).message}`));
    if (!this.last) return true;
    try {
      await run([...(this.opts.prefix ?? []), "nft", "list", "chain", TABLE_FAMILY, TABLE_NAME, "services"]);
      return true;
    } catch {
      this.last = undefined;
      return false;
    }
  }

  /** the DOCKER-USER accept rule, when there is a DOCKER-USER chain; true when it had to be added */
  async dockerForward(): Promise<boolean> {
    const ipt = [...(this.opts.prefix ?? []), "iptables", "-w", "5"];
    try {
      await run([...ipt, "-n", "-L", "DOCKER-USER"]);
    } catch {
      return false; // no Docker (or no iptables): nothing drops our traffic there
    }
    try {
      await run([...ipt, "-C", ...DOCKER_USER_RULE]);
      return false;
    } catch {
      await run([...ipt, "-I", ...DOCKER_USER_RULE]);
      return true;
    }
  }

  /** `nft delete table ip kubeflare` and the DOCKER-USER rule; missing ones are fine */
  async remove(): Promise<void> {
    this.last = undefined;
    await this.nft(`add table ${TABLE}\ndelete table ${TABLE}\n`);
    await run([...(this.opts.prefix ?? []), "iptables", "-w", "5", "-D", ...DOCKER_USER_RULE]).catch(() => {});
  }
}

export interface LoopOptions extends NftOptions {
  minIntervalMs?: number;
  /** each apply's duration and outcome (kube-proxy's sync_proxy_rules metrics, agent/metrics.ts) */
  onSync?: (seconds: number, ok: boolean) => void;
}

/** coalesces updates and applies the newest one at most every `minIntervalMs` (agent/coalesce.ts) */
export class ProxyLoop {
  readonly proxier: NftProxier;
  private lastInput?: ProxyInput;
  private lastUdp?: Map<string, Set<string>>;
  private conntrackMissing = false;
  private stopped = false;
  private readonly loop: Coalescer<ProxyInput>;

  constructor(private readonly opts: LoopOptions = {}) {
    this.proxier = new NftProxier(opts);
    this.loop = new Coalescer(
      async (input) => {
        const start = performance.now();
        try {
          this.lastInput = input;
          const rs = buildRuleset(input);
          await this.proxier.apply(rs);
          const stale = staleUdpFlows(this.lastUdp, rs.udp);
          this.lastUdp = rs.udp;
          await this.clearFlows(stale);
          this.opts.onSync?.((performance.now() - start) / 1000, true);
        } catch (e) {
          this.opts.onSync?.((performance.now() - start) / 1000, false);
          throw e;
        }
      },
      { minIntervalMs: opts.minIntervalMs, onError: (e) => this.opts.log?.(`kube-proxy: ${e.message}`) },
    );
  }

  /** failed applies so far */
  get errors(): number {
    return this.loop.errors;
  }

  /** delete UDP conntrack entries that point at endpoints that went away (./conntrack.ts); never fails the sync */
  private async clearFlows(flows: string[][]) {
    for (const args of flows) {
      if (this.conntrackMissing) return;
      try {
        await run([...(this.opts.prefix ?? []), "conntrack", ...args]);
      } catch (e) {
        const msg = (e as Error).message;
        if (msg.includes(NOTHING_DELETED)) continue;
        if ((e as NodeJS.ErrnoException).code === "ENOENT" || /exit 127|No such file|not found/.test(msg)) {
          this.conntrackMissing = true;
          this.opts.log?.(
            "kube-proxy: no conntrack command (apt-get install conntrack): UDP clients may keep sending to removed endpoints until their flow expires",
          );
        } else this.opts.log?.(`kube-proxy: ${msg}`);
      }
    }
  }

  update(input: ProxyInput) {
    this.loop.update(input);
  }

  /** wait until everything handed to update() so far is in the kernel */
  settled(): Promise<void> {
    return this.loop.settled();
  }

  /** the periodic check: reload everything if the table went missing */
  async resync(): Promise<void> {
    if (this.stopped || this.loop.busy || !this.lastInput) return;
    if (!(await this.proxier.intact())) {
      this.opts.log?.("kube-proxy: the nftables table went missing; loading it again");
      this.update(this.loop.waiting ?? this.lastInput);
    }
  }

  /** stop applying; with `removeTable`, delete the table (agent uninstall, --no-kube-proxy) */
  async stop(removeTable = false) {
    this.stopped = true;
    await this.loop.stop();
    if (removeTable) await this.proxier.remove();
  }
}
