/** The `kubeflare-agent` command as a child process, the way a second box runs it. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { eventually } from "../kubectl";

const BIN = join(import.meta.dirname, "..", "..", "bin", "kubeflare-agent.mjs");

/** One `kubeflare-agent` command to completion: its exit code and output. */
export const agentCli = (args: string[], env: Record<string, string> = {}) =>
  promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: typeof e.code === "number" ? (e.code as number) : 1, stdout: String(e.stdout ?? ""), stderr: String(e.stderr ?? "") }),
  );

/** `kubeflare-agent run --config F`, restartable, with its output kept for diagnosis. */
export class AgentProcess {
  private child: ChildProcess | undefined;
  private out = "";

  constructor(private readonly config: string) {}

  start(): void {
    const child = spawn(process.execPath, [BIN, "run", "--config", this.config], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d) => (this.out += d));
    child.stderr!.on("data", (d) => (this.out += d));
    this.child = child;
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  output(): string {
    return this.out;
  }

  /** send a signal and wait for the process to be gone */
  async kill(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill(signal);
    return exited;
  }
}

/** A box joining for a test or a benchmark: what `kubeflare-agent join` is told. */
export interface BoxJoin {
  server: string;
  token: string;
  name: string;
  config: string;
  runtime?: "docker" | "containerd";
  caFile?: string;
  /** default 127.0.0.1 (tests only ever talk to loopback) */
  nodeIP?: string;
  /** default the test image's sandbox, kubeflare/pause:test */
  pauseImage?: string;
  dataDir?: string;
  /** the box's own pod bridge / Docker network names (NET.md: never the default kf0/kubeflare in tests) */
  podBridge?: string;
  podNetworkName?: string;
  podCIDR?: string;
  labels?: string;
  /** default false: several agents share the host's nftables */
  kubeProxy?: boolean;
  extra?: string[];
}

/** `join` and its flags for `box`. */
export const joinArgs = (box: BoxJoin): string[] => {
  const flag = (name: string, value: string | undefined) => (value === undefined ? [] : [`--${name}`, value]);
  return [
    "join",
    ...(box.kubeProxy ? [] : ["--no-kube-proxy"]),
    // no ingress proxy on ports 80/443 unless the test gives it ports
    ...((box.extra ?? []).some((a) => a.startsWith("--ingress-")) ? [] : ["--no-ingress"]),
    ...flag("server", box.server),
    ...flag("token", box.token),
    ...flag("name", box.name),
    ...flag("runtime", box.runtime),
    ...flag("ca-file", box.caFile),
    ...flag("node-ip", box.nodeIP ?? "127.0.0.1"),
    ...flag("pause-image", box.pauseImage ?? "kubeflare/pause:test"),
    ...flag("labels", box.labels),
    ...flag("pod-cidr", box.podCIDR),
    ...flag("pod-bridge", box.podBridge),
    ...flag("pod-network-name", box.podNetworkName),
    ...flag("data-dir", box.dataDir),
    ...flag("config", box.config),
    ...(box.extra ?? []),
  ];
};

/** Waits (up to 60 s) until the Node `nodeName` reports the condition Ready=True, read through `admin`. */
export const untilNodeReady = (admin: { find(path: string): Promise<any> }, nodeName: string) =>
  eventually(
    async () => (await admin.find(`/api/v1/nodes/${nodeName}`))?.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"),
    60_000,
  );
