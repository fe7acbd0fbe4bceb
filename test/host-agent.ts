/** What the tests (and bench/tunnel.ts) that run a real NodeAgent on this host (exec, attach, port-forward, the terminal) give it alike. */
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach } from "vitest";
import { LABELS } from "../agent/runtime/runtime";
import type { Engine } from "./agent-e2e/engines";
import { eventually, kubectlBinary } from "./kubectl";
import { startNodeTarget, startWorkerTarget } from "./targets";
import type { Api, TunnelEnv } from "./tunnel-suite";

/**
 * The control plane a host agent joins: the Node server, or the bundled Worker in Miniflare
 * serving HTTPS (for kubectl); as a TunnelEnv without a viewer token, and its close.
 */
export const startControlPlane = async (runtime: "node" | "worker"): Promise<{ env: TunnelEnv; close: () => Promise<void> }> => {
  if (runtime === "node") {
    const t = await startNodeTarget();
    return { env: { url: t.url, ca: t.caPem, admin: t.token, viewer: "", kubeconfigPath: join(t.dataDir, "kubeconfig") }, close: t.close };
  }
  const t = await startWorkerTarget({ https: true });
  return { env: { url: t.url!.replace(/\/$/, ""), ca: t.caPem!, admin: t.token, viewer: "", kubeconfigPath: t.kubeconfigPath! }, close: t.close };
};

/** A node credential for `node`, as `kubeflare-agent join` gets one: a bootstrap token, then join with it. */
export const joinNode = async (api: Api, node: string): Promise<string> => {
  const tok = await api("POST", "/apis/kubeflare.dev/v1/bootstraptokens", {});
  const joined = await api("POST", "/apis/kubeflare.dev/v1/join", { nodeName: node }, tok.json?.token);
  if (joined.status !== 201) throw new Error(`joining ${node}: HTTP ${joined.status} ${joined.text}`);
  return joined.json.token;
};

/** A free TCP port on 127.0.0.1 (for kubectl port-forward). */
export const freePort = async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
};

/**
 * `kubectl port-forward TARGET PORT:REMOTE` (kubectl `version`, default 1.33, with `env`
 * as its environment if given) from a free local port; resolves once kubectl says
 * "Forwarding from". The caller stops it; `output()` is what kubectl has printed.
 */
export const portForward = async (kubeconfigPath: string, target: string, remote: number | string, o: { version?: string; env?: NodeJS.ProcessEnv } = {}) => {
  const port = await freePort();
  const p = spawn(
    kubectlBinary(o.version ?? "1.33"),
    ["--kubeconfig", kubeconfigPath, "port-forward", target, `${port}:${remote}`],
    o.env ? { env: o.env } : {},
  );
  let out = "";
  p.stdout.on("data", (d) => (out += d));
  p.stderr.on("data", (d) => (out += d));
  const stop = () => p.kill("SIGTERM");
  try {
    await eventually(async () => out.includes("Forwarding from"), 20_000);
  } catch (e) {
    stop();
    throw e;
  }
  return { port, output: () => out, stop };
};

/** GET http://127.0.0.1:`port`/: its status and body. */
export const httpGet = (port: number) => fetch(`http://127.0.0.1:${port}/`).then(async (r) => ({ status: r.status, body: await r.text() }));

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
