/**
 * The Node server as `npm start --no-agent` runs it (HTTPS, the admin token, the embedded
 * libSQL file, every controller), in a child process of its own so that its event loop is
 * not the benchmark's: `node bin/kubeflare.mjs --port 0 --data-dir DIR --no-agent --sync S [args]`
 * (the esbuild bundle `npm start` runs), or with a CPU profile `node --cpu-prof --cpu-prof-dir DIR
 * --import tsx node/main.ts …` (the sources, so that the profile names their files). Used by
 * the load and scale scenarios.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

export interface ServerChild {
  child: ChildProcess;
  /** https://127.0.0.1:port */
  url: string;
  pid?: number;
  adminToken: string;
  caPem: string;
  /** SIGTERM, then SIGKILL after the grace period; resolves once the process has exited */
  close(): Promise<void>;
}

/** SIGTERM to `child`, SIGKILL if it has not exited after `graceMs`; resolves once it has exited. */
export const stopChild = async (child: ChildProcess, graceMs = 15_000) => {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
};

/**
 * Starts the server with its data in `dataDir`; resolves once it listens. Its output is
 * not read after that (but kept in a file when KF_BENCH_SERVER_LOG names one), and it
 * never outlives this process.
 */
export const startServerChild = async (
  dataDir: string,
  o: { sync: string; profileDir?: string; args?: string[]; stopGraceMs?: number },
): Promise<ServerChild> => {
  const args = [
    ...(o.profileDir ? ["--cpu-prof", "--cpu-prof-dir", o.profileDir] : []),
    // as `npm start` runs it (the bundle), but from the sources when profiling, so that a profile names their files
    ...(o.profileDir ? ["--import", "tsx", join(root, "node/main.ts")] : [join(root, "bin/kubeflare.mjs")]),
    "--port",
    "0",
    "--data-dir",
    dataDir,
    "--no-agent",
    "--sync",
    o.sync,
    ...(o.args ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /listening on (https:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.stderr!.on("data", (d) => (out += d));
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before listening:\n${out}`)));
  });
  // its output is not read any more (but kept in a file when KF_BENCH_SERVER_LOG names one), and must not fill the pipe
  child.stdout!.removeAllListeners("data");
  child.stderr!.removeAllListeners("data");
  const logFile = process.env.KF_BENCH_SERVER_LOG;
  if (logFile) {
    const log = createWriteStream(logFile);
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
  } else {
    child.stdout!.resume();
    child.stderr!.resume();
  }
  // never outlive this process
  const orphan = () => child.kill("SIGKILL");
  process.once("exit", orphan);
  child.once("exit", () => process.off("exit", orphan));
  return {
    url,
    child,
    pid: child.pid,
    adminToken: readFileSync(join(dataDir, "admin-token"), "utf8").trim(),
    caPem: readFileSync(join(dataDir, "tls", "ca.crt"), "utf8"),
    close: () => stopChild(child, o.stopGraceMs),
  };
};
