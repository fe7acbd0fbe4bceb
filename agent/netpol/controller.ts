/**
 * The agent's network-policy controller (what kube-router's or Calico's policy agent
 * does on each node): informers on NetworkPolicies, Namespaces and Pods of the whole
 * cluster (peers anywhere are matched by their labels and addresses), and the policy
 * table rebuilt from them on every change, coalesced, once all three have listed (no
 * rules from half a picture). A periodic check loads the table again if it went missing.
 * The rules stay in the kernel when the agent stops (pods stay protected across
 * restarts); `kubeflare-agent uninstall` removes them.
 */
import type { ApiClient } from "../api";
import { Informer } from "../informer";
import { sleep } from "../sleep";
import { NetpolEnforcer } from "./enforcer";
import type { NetpolInput } from "./rules";

export interface NetworkPolicySettings {
  /** run nft in another network namespace (tests) */
  prefix?: string[];
  minIntervalMs?: number;
}

export interface NetworkPolicyOptions extends NetworkPolicySettings {
  api: Pick<ApiClient, "request" | "watch">;
  nodeName: string;
  log?: (msg: string) => void;
}

export class NetworkPolicyController {
  readonly policies: Informer;
  readonly namespaces: Informer;
  readonly pods: Informer;
  readonly enforcer: NetpolEnforcer;
  private readonly ac = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(private readonly o: NetworkPolicyOptions) {
    this.policies = new Informer(o.api, "/apis/networking.k8s.io/v1/networkpolicies", o.log);
    this.namespaces = new Informer(o.api, "/api/v1/namespaces", o.log);
    this.pods = new Informer(o.api, "/api/v1/pods", o.log);
    this.enforcer = new NetpolEnforcer({ prefix: o.prefix, minIntervalMs: o.minIntervalMs, log: o.log });
  }

  start() {
    const changed = { onReset: () => this.changed(), onEvent: () => this.changed() };
    for (const i of [this.policies, this.namespaces, this.pods]) {
      i.addHandler(changed);
      this.loops.push(i.run(this.ac.signal));
    }
    this.loops.push(this.resyncLoop());
  }

  /** what the rules are built from right now */
  input(): NetpolInput {
    return { policies: this.policies.items(), namespaces: this.namespaces.items(), pods: this.pods.items(), nodeName: this.o.nodeName };
  }

  private changed() {
    if (!this.policies.synced || !this.namespaces.synced || !this.pods.synced) return;
    this.enforcer.update(this.input());
  }

  private async resyncLoop() {
    while (!this.ac.signal.aborted) {
      await sleep(30_000, this.ac.signal);
      if (!this.ac.signal.aborted && !(await this.enforcer.intact())) {
        this.o.log?.("network policy: the nftables table went missing; loading it again");
        this.changed();
      }
    }
  }

  /** stop following; the rules stay unless `removeRules` */
  async stop(removeRules = false) {
    this.ac.abort();
    await Promise.allSettled(this.loops);
    await this.enforcer.stop(removeRules);
  }
}
