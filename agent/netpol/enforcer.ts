/**
 * Puts the NetworkPolicy ruleset into the kernel: the whole `inet kubeflare-netpol`
 * table replaced in one `nft -f` transaction (add + delete + the new table), so there is
 * never a moment without rules; nothing is written when the ruleset did not change.
 * The table has no dynamic state, so a full replace loses nothing. Changes are coalesced
 * (`minIntervalMs`, default 200 ms) and, after failures, retried with back-off.
 *
 * Same-node pod-to-pod traffic crosses the pod bridge; the forward hook sees it only with
 * br_netfilter's bridge-nf-call-iptables=1 (which kube-proxy sets too): set here as well.
 */
import { writeFile } from "node:fs/promises";
import { BRIDGE_SYSCTL, run } from "../proxy/proxier";
import { buildNetpolRuleset, NETPOL_FAMILY, NETPOL_TABLE, type NetpolInput } from "./rules";

const TABLE = `${NETPOL_FAMILY} ${NETPOL_TABLE}`;

export interface EnforcerOptions {
  /** command prefix, e.g. ["ip", "netns", "exec", "x"] to work inside a network namespace */
  prefix?: string[];
  minIntervalMs?: number;
  log?: (msg: string) => void;
}

export class NetpolEnforcer {
  private last = "";
  private pending?: NetpolInput;
  private timer?: ReturnType<typeof setTimeout>;
  private running?: Promise<void>;
  private failures = 0;
  private stopped = false;
  private bridgeDone = false;
  private waiters: (() => void)[] = [];
  errors = 0;

  constructor(private readonly o: EnforcerOptions = {}) {}

  private nft(script: string) {
    return run([...(this.o.prefix ?? []), "nft", "-f", "-"], script);
  }

  private async bridgeSysctl() {
    if (this.bridgeDone) return;
    this.bridgeDone = true;
    const p = this.o.prefix ?? [];
    await (p.length ? run([...p, "sh", "-c", `echo 1 > /proc/sys/${BRIDGE_SYSCTL}`]) : writeFile(`/proc/sys/${BRIDGE_SYSCTL}`, "1")).catch(() =>
      this.o.log?.(`network policy: cannot set ${BRIDGE_SYSCTL} (modprobe br_netfilter): traffic between pods of this node's bridge is not filtered`),
    );
  }

  /** apply the ruleset for `input` now, if it differs from the last one applied; true when something was written */
  async apply(input: NetpolInput): Promise<boolean> {
    await this.bridgeSysctl();
    const text = buildNetpolRuleset(input).text;
    if (text === this.last) return false;
    await this.nft(`add table ${TABLE}\ndelete table ${TABLE}\n${text}`);
    this.last = text;
    return true;
  }

  /** coalesce: the newest input is applied at most every minIntervalMs */
  update(input: NetpolInput) {
    if (this.stopped) return;
    this.pending = input;
    if (this.timer || this.running) return;
    const wait = this.failures ? Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6)) : (this.o.minIntervalMs ?? 200);
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** resolves once everything handed to update() so far is applied (or failed) */
  settled(): Promise<void> {
    if (!this.pending && !this.timer && !this.running) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  private flush() {
    this.timer = undefined;
    const input = this.pending;
    this.pending = undefined;
    if (!input || this.stopped) return this.wake();
    this.running = this.apply(input)
      .then(() => {
        this.failures = 0;
      })
      .catch((e) => {
        this.errors++;
        this.failures++;
        this.o.log?.(`network policy: ${(e as Error).message}`);
        this.pending ??= input;
      })
      .finally(() => {
        this.running = undefined;
        if (this.pending && !this.stopped) this.update(this.pending);
        else this.wake();
      });
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** is the table still in the kernel? If not, the next apply loads it again */
  async intact(): Promise<boolean> {
    if (!this.last) return true;
    try {
      await run([...(this.o.prefix ?? []), "nft", "list", "chain", NETPOL_FAMILY, NETPOL_TABLE, "forward"]);
      return true;
    } catch {
      this.last = "";
      return false;
    }
  }

  /** stop; with `removeTable`, delete the table (every pod unrestricted again) */
  async stop(removeTable = false) {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    this.wake();
    if (removeTable) await removeNetpolRules(this.o.prefix);
  }
}

/** `nft delete table inet kubeflare-netpol`; a missing table is fine */
export const removeNetpolRules = (prefix: string[] = []) => run([...prefix, "nft", "-f", "-"], `add table ${TABLE}\ndelete table ${TABLE}\n`);
