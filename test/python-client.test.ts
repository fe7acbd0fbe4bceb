/**
 * An official client nobody here wrote, in another language: Kubernetes' Python client
 * (Debian's python3-kubernetes, installed by .ci/run) drives both runtimes through
 * test/python/client.py: namespace, the default ServiceAccount, create/409/list, a watch
 * resumed from the list's resourceVersion (its `watch=True`), merge patch, a pod, the
 * scale subresource, delete with DeleteOptions and the 404 after it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasPythonClient, runPythonScript } from "./python";
import { startNodeTarget, startWorkerTarget } from "./targets";

const runClient = (url: string, token: string, caPem: string, ns: string) => runPythonScript("client.py", url, token, caPem, ns);

const runtimes = [
  ["Node", () => startNodeTarget({ controllers: true })],
  ["Worker", () => startWorkerTarget({ controllers: true, https: true })],
] as const;

for (const [runtime, start] of runtimes) {
  describe.skipIf(!hasPythonClient)(`the official Python client (${runtime})`, () => {
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
