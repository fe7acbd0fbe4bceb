/**
 * The agent's metrics listener (--metrics-bind-address): the real NodeAgent on an
 * in-memory engine against the real Node server, scraped over real HTTP. Durations'
 * values are never asserted, only that they were observed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import { AgentMetrics, parseBindAddress } from "../agent/metrics";
import { main } from "../agent/main";
import { HollowRuntime } from "./hollow-runtime";
import { eventually } from "./kubectl";
import { sample } from "./prom";
import { send, startNodeTarget, type Target } from "./targets";

const NODE = "metrics-box";

describe("the agent's /metrics", () => {
  let t: Target & { url: string; caPem: string };
  let agent: NodeAgent;
  let served: Awaited<ReturnType<AgentMetrics["serve"]>>;
  let dir: string;
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${served.port}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    // ranges no other test's interfaces are in
    t = await startNodeTarget({ network: { clusterCIDR: "10.203.0.0/16", serviceCIDR: "10.204.0.0/16" } });
    dir = mkdtempSync(join(tmpdir(), "kf-agent-metrics-"));
    const metrics = new AgentMetrics();
    served = await metrics.serve("127.0.0.1:0");
    agent = new NodeAgent({
      api: new ApiClient({ server: t.url, token: t.token, caPem: t.caPem }),
      runtime: new HollowRuntime(`m${process.pid % 10000}`),
      nodeName: NODE,
      nodeIP: "127.0.0.1",
      dataDir: dir,
      podCIDR: "10.203.78.0/24",
      clusterCIDR: "10.203.0.0/16",
      clusterDNS: "",
      dnsListen: null,
      syncIntervalMs: 100,
      log: () => {},
      metrics,
    });
    await agent.start();
  });
  afterAll(async () => {
    await agent?.stop();
    await served?.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows kubelet's running pods and containers, pod start and pod worker durations", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "m1", namespace: "default" },
      // no kube-api-access volume: the API alone runs no root-ca-cert-publisher
      spec: { nodeName: NODE, automountServiceAccountToken: false, containers: [{ name: "c", image: "busybox" }] },
    };
    expect((await send(t, "POST", "/api/v1/namespaces/default/pods", pod)).status).toBe(201);
    await eventually(async () => (await send(t, "GET", "/api/v1/namespaces/default/pods/m1")).json?.status?.phase === "Running");
    const text = await eventually(async () => {
      const s = await scrape();
      return sample(s, "kubelet_running_pods") === 1 ? s : undefined;
    });
    expect(sample(text, "kubelet_running_containers", { container_state: "running" })).toBe(1);
    expect(sample(text, "kubelet_running_containers", { container_state: "exited" })).toBe(0);
    // one start, observed once however often the pod is synced after
    expect(sample(text, "kubelet_pod_start_duration_seconds_count")).toBe(1);
    expect(sample(text, "kubelet_pod_start_duration_seconds_bucket", { le: "+Inf" })).toBe(1);
    expect(sample(text, "kubelet_pod_start_total_duration_seconds_count")).toBe(1);
    expect(sample(text, "kubelet_pod_worker_duration_seconds_count", { operation: "create" })).toBe(1);
    await eventually(async () => (sample(await scrape(), "kubelet_pod_worker_duration_seconds_count", { operation: "sync" }) ?? 0) >= 2);
    expect(sample(await scrape(), "kubelet_pod_start_duration_seconds_count")).toBe(1);
    // the process defaults
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(text).toContain("# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram");
  });

  it("serves /metrics only, to GET and HEAD", async () => {
    expect((await fetch(`http://127.0.0.1:${served.port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${served.port}/metrics`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`http://127.0.0.1:${served.port}/metrics`, { method: "HEAD" })).status).toBe(200);
  });
});

describe("--metrics-bind-address", () => {
  it("takes IP:PORT, IPv6 in brackets", () => {
    expect(parseBindAddress("127.0.0.1:10249")).toEqual({ host: "127.0.0.1", port: 10249 });
    expect(parseBindAddress("[::1]:0")).toEqual({ host: "::1", port: 0 });
    for (const bad of ["10249", "localhost:10249", "127.0.0.1", "127.0.0.1:99999", "::1:10249", ""]) {
      expect(() => parseBindAddress(bad), bad).toThrow(/--metrics-bind-address/);
    }
  });

  it("refuses a malformed address before anything starts", async () => {
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => void errors.push(m);
    try {
      expect(await main(["join", "--server", "https://127.0.0.1:1", "--token", "x", "--metrics-bind-address", "localhost:10249"])).toBe(1);
    } finally {
      console.error = orig;
    }
    expect(errors.join("\n")).toMatch(/--metrics-bind-address: "localhost:10249" is not IP:PORT/);
  });
});
