/** The `kubeflare-agent` command as a child process, the way a second box runs it. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

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
