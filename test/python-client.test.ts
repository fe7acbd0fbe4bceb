/**
 * An official client nobody here wrote, in another language: Kubernetes' Python client
 * (Debian's python3-kubernetes, installed by .ci/run) drives both runtimes through
 * test/python/client.py: namespace, the default ServiceAccount, create/409/list, a watch
 * resumed from the list's resourceVersion (its `watch=True`), merge patch, a pod, the
 * scale subresource, delete with DeleteOptions and the 404 after it.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNodeTarget, startWorkerTarget } from "./targets";

const PYTHON = "/usr/bin/python3";
const hasClient = (() => {
  try {
    execFileSync(PYTHON, ["-c", "import kubernetes"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!hasClient && process.env.CI) throw new Error("python3-kubernetes is not installed (apt-get install python3-kubernetes)");

const SCRIPT = join(import.meta.dirname, "python", "client.py");

const runClient = (url: string, token: string, caPem: string, ns: string): Promise<Record<string, any>> => {
  const dir = mkdtempSync(join(tmpdir(), "kf-py-"));
  const ca = join(dir, "ca.crt");
  writeFileSync(ca, caPem);
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, [SCRIPT, url, token, ca, ns], { stdio: ["ignore", "pipe", "pipe"] });
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
      if (code !== 0) reject(new Error(`client.py exited ${code}: ${err.slice(-2000)}\n${out}`));
      else resolve(steps);
    });
  });
};

const runtimes = [
  ["Node", () => startNodeTarget({ controllers: true })],
  ["Worker", () => startWorkerTarget({ controllers: true, https: true })],
] as const;

for (const [runtime, start] of runtimes) {
  describe.skipIf(!hasClient)(`the official Python client (${runtime})`, () => {
    let t: Awaited<ReturnType<(typeof runtimes)[number][1]>>;
    beforeAll(async () => {
      t = await start();
    }, 60_000);
    afterAll(async () => t?.close());

    it("creates, lists, watches, patches, scales and deletes", async () => {
      const s = await runClient(t.url!, t.token, t.caPem!, `py-${runtime.toLowerCase()}`);
      expect(s.serviceaccount.name).toBe("default");
      expect(s.create.name).toBe("py-cm");
      expect(s.conflict.status).toBe(409);
      // kube-apiserver's body, field for field (the core group is left out)
      expect(s.conflict.body).toEqual({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: 'configmaps "py-cm" already exists',
        reason: "AlreadyExists",
        details: { name: "py-cm", kind: "configmaps" },
        code: 409,
      });
      expect(s.list.names).toEqual(["py-cm"]);
      expect(s.watch.events).toEqual([
        { type: "ADDED", name: "py-cm2", data: { b: "2" } },
        { type: "MODIFIED", name: "py-cm", data: { a: "2" } },
      ]);
      expect(s.patch.data).toEqual({ a: "2" });
      expect(s.pod).toMatchObject({ serviceAccountName: "default", phase: "Pending" });
      expect(s.scale.replicas).toBe(3);
      expect(s.gone.status).toBe(404);
      expect(s.gone.body).toMatchObject({ reason: "NotFound", details: { name: "py-cm", kind: "configmaps" } });
      expect(s.done).toBeTruthy();
    }, 90_000);
  });
}
