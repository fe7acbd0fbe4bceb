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
import { Coalescer } from "../coalesce";
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
  private bridgeDone = false;
  private readonly loop: Coalescer<NetpolInput>;

  constructor(private readonly o: EnforcerOptions = {}) {
    this.loop = new Coalescer((input) => this.apply(input), {
      minIntervalMs: o.minIntervalMs,
      onError: (e) => o.log?.(`network policy: ${e.message}`),
    });
  }

  /** failed applies so far */
  get errors(): number {
    return this.loop.errors;
  }

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
    this.loop.update(input);
  }

  /** resolves once everything handed to update() so far is applied (or failed) */
  settled(): Promise<void> {
    return this.loop.settled();
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
    await this.loop.stop();
    if (removeTable) await removeNetpolRules(this.o.prefix);
  }
}

/** `nft delete table inet kubeflare-netpol`; a missing table is fine */
export const removeNetpolRules = (prefix: string[] = []) => run([...prefix, "nft", "-f", "-"], `add table ${TABLE}\ndelete table ${TABLE}\n`);
