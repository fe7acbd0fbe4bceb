/** What the tests that run a real NodeAgent on this host (exec, attach, port-forward, the terminal) give it alike. */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach } from "vitest";
import { LABELS } from "../agent/runtime/runtime";
import type { Engine } from "./agent-e2e/engines";

/**
 * A NodeAgent's options on this host: node IP 127.0.0.1, its data in `dir`/data, the test
 * images' pause container, no cluster DNS, a sync every 300 ms. The caller adds api, runtime,
 * nodeName and log.
 */
export const hostAgentOptions = (dir: string) => ({
  nodeIP: "127.0.0.1",
  dataDir: join(dir, "data"),
  pauseImage: "kubeflare/pause:test",
  clusterDNS: "",
  dnsListen: null,
  syncIntervalMs: 300,
});

/** After the tests: stops the agent, removes the node's containers from `engine`, closes the control plane and deletes `dir`. */
export const stopHostAgent = async (
  agent: { stop(): Promise<unknown> } | undefined,
  engine: Engine,
  node: string,
  close: (() => Promise<void>) | undefined,
  dir: string | undefined,
) => {
  await agent?.stop();
  for (const c of await engine.containers({ [LABELS.node]: node })) await engine.remove(c.id);
  await close?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
};

/** In a describe: after each failed test, prints the tail of the agent's log. */
export const printAgentLogOnFailure = (node: string, logs: () => string) =>
  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail") console.error(`--- ${node} agent output (tail) ---\n${logs().slice(-4000)}`);
  });
