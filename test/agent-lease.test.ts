/**
 * What the node agent's heartbeat costs the control plane: the real NodeAgent (on an
 * in-memory engine) against the real Node server over HTTPS, every request it makes
 * recorded. A renewal is one PUT of the Lease it holds; the Lease is read only after a
 * 409; the Node's status is posted when it changed, not on every renewal.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import { HollowRuntime } from "./hollow-runtime";
import { eventually } from "./kubectl";
import { send, startNodeTarget } from "./targets";

/** An ApiClient that records every request and how it ended (urgent ones too: the Lease and the Node's status go that way). */
class RecordingClient extends ApiClient {
  readonly calls: { method: string; path: string; status: number; urgent?: boolean }[] = [];
  override request<T = any>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    return this.recorded(method, path, false, () => super.request<T>(method, path, body, contentType));
  }
  override requestUrgent<T = any>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    return this.recorded(method, path, true, () => super.requestUrgent<T>(method, path, body, contentType));
  }
  private async recorded<T>(method: string, path: string, urgent: boolean, send: () => Promise<T>): Promise<T> {
    try {
      const r = await send();
      this.calls.push({ method, path, status: 200, ...(urgent ? { urgent } : {}) });
      return r;
    } catch (e) {
      this.calls.push({ method, path, status: (e as { status?: number }).status ?? 0, ...(urgent ? { urgent } : {}) });
      throw e;
    }
  }
}

const LEASE = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/lease-box";
const NODE = "/api/v1/nodes/lease-box";

describe("the agent's lease and node status", () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  const start = async (o: { leaseIntervalMs: number; leaseDurationSeconds?: number }) => {
    const t = await startNodeTarget();
    const dir = mkdtempSync(join(tmpdir(), "kf-agent-lease-"));
    const api = new RecordingClient({ server: t.url, token: t.token, caPem: t.caPem });
    const agent = new NodeAgent({
      api,
      runtime: new HollowRuntime(`l${process.pid % 10000}`),
      nodeName: "lease-box",
      nodeIP: "127.0.0.1",
      dataDir: dir,
      // a podCIDR of its own: the agent has no reason to look at its Node for one
      podCIDR: "10.42.77.0/24",
      clusterDNS: "",
      dnsListen: null,
      log: () => {},
      ...o,
    });
    await agent.start();
    cleanup = async () => {
      await agent.stop();
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    };
    const leaseCalls = () => api.calls.filter((c) => c.path === LEASE || c.path.startsWith("/apis/coordination.k8s.io/"));
    const nodeCalls = () => api.calls.filter((c) => c.path === NODE || c.path.startsWith(`${NODE}/`) || c.path === "/api/v1/nodes");
    return { t, api, leaseCalls, nodeCalls };
  };

  it("renews with one PUT of the Lease it holds, and leaves an unchanged Node status alone", async () => {
    const { t, api, leaseCalls, nodeCalls } = await start({ leaseIntervalMs: 100 });
    const before = (await send(t, "GET", LEASE)).json;
    api.calls.length = 0;
    await eventually(async () => leaseCalls().length >= 5);
    expect(leaseCalls().every((c) => c.method === "PUT" && c.status === 200)).toBe(true);
    // on the connection of their own (ApiClient.requestUrgent), not behind pod status writes
    expect(leaseCalls().every((c) => c.urgent)).toBe(true);
    expect(nodeCalls()).toEqual([]);
    const after = (await send(t, "GET", LEASE)).json;
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
    expect(after.spec.holderIdentity).toBe("lease-box");
  });

  it("reads the Lease again only after a 409 (someone else changed it), then renews it", async () => {
    const { t, api, leaseCalls } = await start({ leaseIntervalMs: 100 });
    await eventually(async () => leaseCalls().length >= 2);
    const lease = (await send(t, "GET", LEASE)).json;
    // a merge patch (no resourceVersion): it lands whatever the agent's last renewal was
    const changed = await send(t, "PATCH", LEASE, { metadata: { labels: { touched: "yes" } } }, { "Content-Type": "application/merge-patch+json" });
    expect(changed.status).toBe(200);
    api.calls.length = 0;
    await eventually(async () => leaseCalls().filter((c) => c.method === "PUT" && c.status === 200).length >= 2);
    const calls = leaseCalls().map((c) => `${c.method} ${c.status}`);
    // the agent's next PUT may have been on its way before the change: a 200, then the 409
    const from = calls.indexOf("PUT 409");
    expect(from).toBeGreaterThanOrEqual(0);
    expect(calls.slice(from, from + 3)).toEqual(["PUT 409", "GET 200", "PUT 200"]);
    expect(calls.filter((c) => c.startsWith("GET"))).toHaveLength(1);
    const now = (await send(t, "GET", LEASE)).json;
    expect(now.metadata.labels).toEqual({ touched: "yes" });
    expect(Date.parse(now.spec.renewTime)).toBeGreaterThan(Date.parse(lease.spec.renewTime));
  });

  it("posts the Node's status again once renewals lapsed for longer than the lease lasts (the Node was marked Unknown)", async () => {
    // renewals further apart than the lease lasts: each one follows a lapse
    const { t, api, nodeCalls } = await start({ leaseIntervalMs: 1500, leaseDurationSeconds: 1 });
    // (cleared first: the agent posts its status at every lapsed renewal, which may come between
    // the GET and PUT below — then the PUT is a 409 and is made again from a fresh read)
    api.calls.length = 0;
    await eventually(async () => {
      const node = (await send(t, "GET", NODE)).json;
      const unknown = node.status.conditions.map((c: any) => (c.type === "Ready" ? { ...c, status: "Unknown", reason: "NodeStatusUnknown" } : c));
      return (await send(t, "PUT", `${NODE}/status`, { ...node, status: { ...node.status, conditions: unknown } })).status === 200;
    });
    await eventually(async () => {
      const n = (await send(t, "GET", NODE)).json;
      return n.status.conditions.find((c: any) => c.type === "Ready")?.status === "True";
    });
    expect(nodeCalls().some((c) => c.method === "PUT" && c.path === `${NODE}/status` && c.status === 200)).toBe(true);
    // posted again unchanged: each condition keeps the time it last changed (no work for the controllers)
    const ready = (await send(t, "GET", NODE)).json;
    const posts = nodeCalls().length;
    await eventually(async () => nodeCalls().length > posts);
    const again = (await send(t, "GET", NODE)).json;
    expect(Number(again.metadata.resourceVersion)).toBeGreaterThan(Number(ready.metadata.resourceVersion));
    const times = (n: any) => n.status.conditions.map((c: any) => [c.type, c.status, c.lastTransitionTime]);
    expect(times(again)).toEqual(times(ready));
  });
});
