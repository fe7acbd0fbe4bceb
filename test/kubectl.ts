/** Run the real kubectl binaries (1.NN) against a server, capturing output and exit code. */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";

export const KUBECTL_VERSIONS = ["1.30", "1.31", "1.32", "1.33"];

/** Path of the installed kubectl for a minor version (or the dispatcher for "auto"). */
export const kubectlBinary = (version = "1.32"): string => {
  if (version === "auto") return "/usr/bin/kubectl";
  for (const dir of ["/usr/bin", "/usr/lib/google-cloud-sdk/bin", "/usr/local/bin"]) {
    const p = `${dir}/kubectl.${version}`;
    if (existsSync(p)) return p;
  }
  throw new Error(`kubectl ${version} is not installed (looked for kubectl.${version} in /usr/bin, /usr/lib/google-cloud-sdk/bin, /usr/local/bin)`);
};

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Kubectl {
  (args: string[] | string, opts?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** start a long-running kubectl (watch, logs -f); stop it with kill() */
  spawn(args: string[]): { proc: ChildProcess; output: () => string; kill: () => void };
}

const split = (args: string[] | string) =>
  Array.isArray(args) ? args : (args.match(/'[^']*'|"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^'(.*)'$|^"(.*)"$/, "$1$2"));

export const kubectl = (kubeconfig: string, version = "1.32", cwd?: string): Kubectl => {
  const bin = kubectlBinary(version);
  const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: process.env.HOME ?? "/tmp", KUBECTL_INTERACTIVE_DELETE: "false" };
  const run = ((args: string[] | string, opts: { input?: string; timeoutMs?: number } = {}) =>
    new Promise<KubectlResult>((resolve) => {
      const child = execFile(bin, split(args), { env, cwd, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
      if (opts.input !== undefined) {
        child.stdin?.end(opts.input);
      } else child.stdin?.end();
    })) as Kubectl;
  run.spawn = (args) => {
    const proc = spawn(bin, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout!.on("data", (d) => (out += d));
    proc.stderr!.on("data", (d) => (out += d));
    return { proc, output: () => out, kill: () => void proc.kill("SIGTERM") };
  };
  return run;
};

/** Poll `f` until it returns a truthy value (or throw after `ms`). */
export const eventually = async <T>(f: () => Promise<T | undefined | false | null>, ms = 20_000, every = 100): Promise<T> => {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, every));
  }
};
