/**
 * Kubernetes' Python client (Debian's python3-kubernetes) for the tests that drive the
 * runtimes with it: whether it is installed (in CI it must be), and a script of
 * test/python run against a server, its JSON lines gathered by their `step`.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PYTHON = "/usr/bin/python3";

export const hasPythonClient = (() => {
  try {
    execFileSync(PYTHON, ["-c", "import kubernetes"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!hasPythonClient && process.env.CI) throw new Error("python3-kubernetes is not installed (apt-get install python3-kubernetes)");

/**
 * Runs test/python/`script` with the server's URL, a token, a file of its CA and a namespace
 * (then `extra` arguments); resolves to its output lines (JSON) by their `step`, rejects
 * when it exits non-zero; killed after 60 s.
 */
export const runPythonScript = (script: string, url: string, token: string, caPem: string, ns: string, extra: string[] = []): Promise<Record<string, any>> => {
  const dir = mkdtempSync(join(tmpdir(), "kf-py-"));
  const ca = join(dir, "ca.crt");
  writeFileSync(ca, caPem);
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, [join(import.meta.dirname, "python", script), url, token, ca, ns, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.on("close", (code) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      const steps: Record<string, any> = {};
      for (const line of out.split("\n").filter(Boolean)) {
        const o = JSON.parse(line);
        steps[o.step] = o;
      }
      if (code !== 0) reject(new Error(`${script} exited ${code}: ${err.slice(-2000)}\n${out}`));
      else resolve(steps);
    });
  });
};
