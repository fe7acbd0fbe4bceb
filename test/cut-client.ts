/**
 * An agent's API client whose line to the control plane can be cut: while cut, every
 * request and watch fails at once, as if the network were down; `kill()` cuts it for
 * good and drops its open connections (open watches end), which is what the control
 * plane sees when the agent's process dies: no goodbye, no last write. `afterRenewal`
 * runs right after a Lease renewal succeeds (to kill a node at the worst moment: its
 * lease has its full grace period still to run).
 */
import { ApiClient } from "../agent/api";
import type { WatchEvent } from "../shared/types";

export class CutClient extends ApiClient {
  private cut = false;
  private dead = false;
  /** called once after the next successful Lease renewal, then cleared */
  afterRenewal?: () => void;

  private check(): void {
    if (this.cut || this.dead) throw Object.assign(new Error("connect ECONNREFUSED (line cut)"), { code: "ECONNREFUSED" });
  }

  override request<T = any>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    return this.through(method, path, () => super.request<T>(method, path, body, contentType));
  }

  // the Lease renewals and Node status posts (their own connection) are cut alike
  override requestUrgent<T = any>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    return this.through(method, path, () => super.requestUrgent<T>(method, path, body, contentType));
  }

  private async through<T>(method: string, path: string, send: () => Promise<T>): Promise<T> {
    this.check();
    const r = await send();
    this.check(); // a response arriving after the cut is lost too
    if (method === "PUT" && path.startsWith("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/") && this.afterRenewal) {
      const f = this.afterRenewal;
      this.afterRenewal = undefined;
      f();
    }
    return r;
  }

  override async watch(path: string, rv: string, onEvent: (ev: WatchEvent) => void, signal: AbortSignal, timeoutSeconds?: number): Promise<void> {
    this.check();
    return super.watch(path, rv, (ev) => !this.dead && !this.cut && onEvent(ev), signal, timeoutSeconds);
  }

  /** a network hiccup: nothing gets through for `ms` */
  outage(ms: number): Promise<void> {
    this.cut = true;
    return new Promise((r) =>
      setTimeout(() => {
        this.cut = false;
        r();
      }, ms).unref(),
    );
  }

  /** the agent's process is gone */
  async kill(): Promise<void> {
    this.dead = true;
    await this.close();
  }
}
