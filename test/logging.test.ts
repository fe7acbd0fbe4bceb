/**
 * The all-in-one's logs as a user sees them (`npm start`): readable text lines by
 * default, one JSON object per line with --log-format json (or kube components'
 * --logging-format=json), and bad values refused naming the flag.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NodeAgent } from "../agent/agent";
import { createLogger } from "../shared/log";
import { CutClient } from "./cut-client";
import { HollowRuntime } from "./hollow-runtime";
import { eventually } from "./kubectl";
import { startNodeTarget } from "./targets";

const started: { child: ChildProcess; dir: string }[] = [];
afterEach(() => {
  for (const s of started.splice(0)) {
    s.child.kill("SIGKILL");
    rmSync(s.dir, { recursive: true, force: true });
  }
});

/** `npm start -- --no-agent --port 0 ...args` until it says where it listens, then SIGTERM; its stdout and stderr. */
const run = async (args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> => {
  const dir = mkdtempSync(join(tmpdir(), "kf-logging-"));
  const child = spawn(process.execPath, ["--import", "tsx", "node/main.ts", "--no-agent", "--port", "0", "--sync", "normal", "--data-dir", dir, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push({ child, dir });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const done = await Promise.race([eventually(async () => stdout.includes("kubectl --kubeconfig"), 60_000).then(() => false), exited.then(() => true)]);
  if (!done) child.kill("SIGTERM");
  const code = await exited;
  return { stdout, stderr, code };
};

describe("npm start's logs", () => {
  it("JSON with --logging-format=json: every line parses, with ts, level and msg", async () => {
    const { stdout, code } = await run(["--logging-format=json"]);
    expect(code).toBe(0);
    const lines = stdout.split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) {
      const rec = JSON.parse(line);
      expect(Number.isNaN(Date.parse(rec.ts))).toBe(false);
      expect(["error", "warn", "info", "debug"]).toContain(rec.level);
      expect(typeof rec.msg).toBe("string");
    }
    expect(lines.map((l) => JSON.parse(l).msg)).toContain("SIGTERM: shutting down");
    expect(lines.some((l) => /^Kubeflare control plane listening on https:\/\/127\.0\.0\.1:\d+$/.test(JSON.parse(l).msg))).toBe(true);
  }, 90_000);

  it("readable text by default; a bad format or level is refused naming the flag", async () => {
    const { stdout, code } = await run([]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}kubeflare: Kubeflare control plane listening on https:\/\/127\.0\.0\.1:\d+$/m);
    expect(stdout).not.toContain("{");
    const bad = await run(["--log-format", "yaml"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--log-format must be text or json, got "yaml"');
    const level = await run(["--log-level", "loud"]);
    expect(level.code).toBe(2);
    expect(level.stderr).toContain("--log-level must be one of error, warn, info, debug");
  }, 120_000);
});

describe("the agent's logs", () => {
  it("go through a Logger as JSON lines with its node and component, failures at warn", async () => {
    const t = await startNodeTarget();
    const dir = mkdtempSync(join(tmpdir(), "kf-agent-log-"));
    const lines: string[] = [];
    const api = new CutClient({ server: t.url, token: t.token, caPem: t.caPem });
    const agent = new NodeAgent({
      api,
      runtime: new HollowRuntime(`g${process.pid % 10000}`),
      nodeName: "log-box",
      nodeIP: "127.0.0.1",
      dataDir: dir,
      podCIDR: "10.42.79.0/24",
      clusterDNS: "",
      dnsListen: null,
      log: createLogger({ format: "json", sink: (line) => lines.push(line) }),
    });
    try {
      await agent.start();
      // the process is gone as far as the server is concerned: the pod watch fails
      await api.kill();
      await eventually(async () => lines.some((l) => JSON.parse(l).level === "warn"), 20_000);
      const recs = lines.map((l) => JSON.parse(l));
      expect(recs.find((r) => r.msg.startsWith("registered; runtime"))).toMatchObject({ level: "info", component: "agent", node: "log-box" });
      const warn = recs.find((r) => r.level === "warn");
      expect(warn.msg).toMatch(/^pod watch failed \(\d+\): /);
      expect(warn).toMatchObject({ component: "agent", node: "log-box" });
      // no "[agent NAME]" prefix when the node is a field
      expect(recs.every((r) => !r.msg.startsWith("[agent"))).toBe(true);
    } finally {
      await agent.stop();
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
