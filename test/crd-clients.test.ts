/**
 * Custom resources through clients nobody here wrote, on both runtimes: an
 * `@kubernetes/client-node` informer on a custom resource sees it added, updated and
 * deleted; Kubernetes' Python client (python3-kubernetes) makes a CRD and drives its
 * objects through CustomObjectsApi (create, list, merge and JSON patch, a 422, delete).
 */
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { WIDGET_CRD } from "./crd-fixtures";
import { eventually } from "./kubectl";
import { hasPythonClient, runPythonScript } from "./python";
import { startNodeTarget, startWorkerTarget } from "./targets";

const runPython = (url: string, token: string, caPem: string, ns: string) =>
  runPythonScript("crd.py", url, token, caPem, ns, [JSON.stringify(parse(WIDGET_CRD))]);

const runtimes = [
  ["Node", () => startNodeTarget({ controllers: true, watchPollMs: 200 })],
  ["Worker", () => startWorkerTarget({ controllers: true, https: true })],
] as const;

for (const [runtime, start] of runtimes) {
  describe(`custom resources through the official clients (${runtime})`, () => {
    let t: Awaited<ReturnType<(typeof runtimes)[number][1]>>;
    beforeAll(async () => {
      t = await start();
    }, 60_000);
    afterAll(async () => t?.close());

    it("a client-node informer sees a custom object added, updated and deleted", async () => {
      const kc = new k8s.KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: "kf", server: t.url!, caData: Buffer.from(t.caPem!).toString("base64") }],
        users: [{ name: "admin", token: t.token }],
        contexts: [{ name: "kf", cluster: "kf", user: "admin" }],
        currentContext: "kf",
      });
      const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      await ext.createCustomResourceDefinition({ body: parse(WIDGET_CRD) });
      const ns = "default";
      const list = () => custom.listNamespacedCustomObject({ group: "example.com", version: "v1", namespace: ns, plural: "widgets" });
      await eventually(async () => (await list()).items !== undefined);
      const informer = k8s.makeInformer(kc, `/apis/example.com/v1/namespaces/${ns}/widgets`, list as any);
      const seen: string[] = [];
      for (const ev of ["add", "update", "delete"] as const) {
        informer.on(ev, (o: any) => seen.push(`${ev} ${o.metadata.name} ${o.spec?.size ?? ""}`));
      }
      await informer.start();
      try {
        const body = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "inf" }, spec: { size: "small" } };
        await custom.createNamespacedCustomObject({ group: "example.com", version: "v1", namespace: ns, plural: "widgets", body });
        await eventually(async () => seen.includes("add inf small"));
        await custom.patchNamespacedCustomObject(
          { group: "example.com", version: "v1", namespace: ns, plural: "widgets", name: "inf", body: { spec: { size: "large" } } },
          k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
        );
        await eventually(async () => seen.includes("update inf large"));
        await custom.deleteNamespacedCustomObject({ group: "example.com", version: "v1", namespace: ns, plural: "widgets", name: "inf" });
        await eventually(async () => seen.includes("delete inf large"));
        expect(seen).toEqual(["add inf small", "update inf large", "delete inf large"]);
      } finally {
        await informer.stop();
      }
      await ext.deleteCustomResourceDefinition({ name: "widgets.example.com" });
      await eventually(async () => !(await ext.listCustomResourceDefinition()).items.length, 20_000);
    }, 60_000);

    it.skipIf(!hasPythonClient)(
      "the Python client drives custom objects through CustomObjectsApi",
      async () => {
        const s = await runPython(t.url!, t.token, t.caPem!, `pycrd-${runtime.toLowerCase()}`);
        expect(s.crd).toMatchObject({ established: true, names: "Widget" });
        expect(s.create).toEqual({ step: "create", name: "py-w", spec: { size: "small", replicas: 1, color: "blue" } });
        expect(s.list).toMatchObject({ kind: "WidgetList", names: ["py-w"] });
        expect(s.merge.spec.size).toBe("large");
        expect(s.jsonpatch.spec).toEqual({ size: "large", replicas: 4, color: "blue" });
        expect(s.invalid.status).toBe(422);
        expect(s.invalid.body).toMatchObject({
          reason: "Invalid",
          details: { name: "py-bad", group: "example.com", kind: "Widget", causes: [{ field: "spec.size", reason: "FieldValueTypeInvalid" }] },
        });
        expect(s.gone.status).toBe(404);
        expect(s.done.ok).toBe(true);
      },
      90_000,
    );
  });
}
