/**
 * The kube-proxy data path next to the direct one, in network namespaces (see
 * agent/testing/netns.ts): TCP round trips (connect, answer, close) from a client
 * namespace straight to a pod IP, to a ClusterIP and to a NodePort, one endpoint each so
 * only the path differs; and how long an endpoint change takes to reach the kernel.
 * Needs root and nft; skipped otherwise.
 */
import { performance } from "node:perf_hooks";
import type { KObject } from "../shared/types";
import { NetnsFixture } from "../agent/testing/netns";
import { ProxyLoop } from "../agent/proxy/proxier";
import { kubeProxyUnavailable } from "../agent/proxy/service-proxy";
import type { ProxyInput } from "../agent/proxy/rules";

type Report = (name: string, value: number, unit: string) => void;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

export async function benchProxy(report: Report, say: (m: string) => void): Promise<void> {
  const why = kubeProxyUnavailable();
  if (why) return say(`kube-proxy: skipped (${why})`);
  const fx = new NetnsFixture(`kfb${process.pid % 10000}`);
  const svc: KObject = {
    metadata: { name: "web", namespace: "default" },
    spec: { type: "NodePort", clusterIP: "10.43.250.1", ports: [{ name: "http", port: 80, nodePort: 30080, protocol: "TCP" }] },
  };
  const input = (n: number): ProxyInput => ({
    services: [svc],
    endpointSlices: [
      {
        metadata: { name: "web-1", namespace: "default", labels: { "kubernetes.io/service-name": "web" } },
        addressType: "IPv4",
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
        // a second, not-ready endpoint that changes every time makes each update a real one
        endpoints: [
          { addresses: ["10.42.250.10"], nodeName: "node-a", conditions: { ready: true } },
          { addresses: [`10.42.250.${100 + (n % 100)}`], conditions: { ready: false } },
        ],
      },
    ],
    nodeName: "node-a",
    nodeIPs: ["10.42.251.1"],
    clusterCIDR: "10.42.250.0/24",
  });
  const loop = new ProxyLoop({ prefix: ["ip", "netns", "exec", fx.node], minIntervalMs: 0 });
  try {
    await fx.create();
    await fx.serve(fx.eps[0]!, "ep1", 8080, 5353);
    loop.update(input(1));
    await loop.settled();
    const N = 2000;
    const paths: [string, string, number][] = [
      ["direct to the pod IP", "10.42.250.10", 8080],
      ["ClusterIP", "10.43.250.1", 80],
      ["NodePort", "10.42.251.1", 30080],
    ];
    for (const [name, host, port] of paths) {
      await fx.time(fx.client, host, port, 200); // warm up
      const t0 = performance.now();
      const lat = await fx.time(fx.client, host, port, N);
      report(`kube-proxy: TCP round trips, ${name}`, N / ((performance.now() - t0) / 1000), "conn/s");
      report(`kube-proxy: ${name}, p50`, pct(lat, 50), "ms");
      report(`kube-proxy: ${name}, p99`, pct(lat, 99), "ms");
    }
    const apply: number[] = [];
    for (let i = 2; i < 42; i++) {
      const t0 = performance.now();
      loop.update(input(i));
      await loop.settled();
      apply.push(performance.now() - t0);
    }
    report("kube-proxy: endpoint change to rules in the kernel, p50", pct(apply, 50), "ms");
    report("kube-proxy: endpoint change to rules in the kernel, p99", pct(apply, 99), "ms");
  } finally {
    await loop.stop(true).catch(() => {});
    await fx.destroy();
  }
}
