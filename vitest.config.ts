import { defineConfig } from "vitest/config";

/**
 * Three groups, one after another:
 * - "main": everything that needs only this process, child processes, 127.0.0.1 ports
 *   and temporary files (the API on both runtimes, kubectl, controllers, pure logic),
 *   two files at a time (vitest's default on 2 cores is one);
 * - "serial": the tests that change the machine — containers on Docker and containerd,
 *   bridges, routes, network namespaces, nft tables, the sink routes of the network
 *   rule — one file at a time, as they share the engines and the kernel's tables; and
 *   the hostile-input sweep, whose prober wants an answer within 2 s while it runs;
 * - "browser": Chromium aborts a page load with net::ERR_NETWORK_CHANGED when an
 *   interface address changes on the machine mid-request, which the host tests do all
 *   the time: the browser tests run on their own, one file at a time, last.
 * A new test that starts an agent on an engine or touches the host's network goes in SERIAL.
 */
const BROWSER = ["test/dashboard*.test.ts"];
const SERIAL = [
  "agent/main.test.ts",
  "agent/netpol/datapath.test.ts",
  "agent/netpol/rules.test.ts",
  "agent/network/cni.test.ts",
  "agent/network/hairpin.test.ts",
  "agent/network/podnet.test.ts",
  "agent/network/setup.test.ts",
  "agent/proxy/datapath.test.ts",
  "agent/proxy/rules.test.ts",
  "agent/proxy/service-proxy.test.ts",
  "agent/relay/apirelay.test.ts",
  "agent/runtime/runtime.test.ts",
  "agent/sandbox.test.ts",
  "node/network.test.ts",
  "test/agent-cli.test.ts",
  "test/agent-e2e-containerd.test.ts",
  "test/agent-e2e-docker.test.ts",
  "test/agent-engine-events.test.ts",
  "test/agent-lease.test.ts",
  "test/agent-metrics.test.ts",
  "test/agent-podworkers.test.ts",
  "test/agent-streams.test.ts",
  "test/agent-worker.test.ts",
  "test/bench-harness.test.ts",
  "test/deadnode.test.ts",
  "test/hostile.test.ts",
  "test/hpa-e2e.test.ts",
  "test/hub-worker.test.ts",
  "test/logging.test.ts",
  "test/npm-start-agent.test.ts",
  "test/services-e2e.test.ts",
  "test/tunnel-e2e.test.ts",
  "test/tunnel-node.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    teardownTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: {
          name: "main",
          include: ["shared/**/*.test.ts", "workers/**/*.test.ts", "node/**/*.test.ts", "agent/**/*.test.ts", "dev/**/*.test.ts", "test/**/*.test.ts"],
          exclude: ["**/node_modules/**", ...BROWSER, ...SERIAL],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "serial",
          include: SERIAL,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: "browser",
          include: BROWSER,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
