/** The official JavaScript client creates, lists, watches and deletes pods against the Node server. */
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNodeTarget } from "./targets";

let t: Awaited<ReturnType<typeof startNodeTarget>>;
beforeAll(async () => {
  t = await startNodeTarget({ watchPollMs: 200 });
});
afterAll(async () => {
  await t?.close();
});

describe("@kubernetes/client-node", () => {
  it("creates, lists, watches and deletes pods", async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(`${t.dataDir}/kubeconfig`);
    const core = kc.makeApiClient(k8s.CoreV1Api);

    const seen: string[] = [];
    const watch = new k8s.Watch(kc);
    let gotDeleted!: () => void;
    const deleted = new Promise<void>((r) => (gotDeleted = r));
    const req = await watch.watch(
      "/api/v1/namespaces/default/pods",
      { allowWatchBookmarks: true },
      (type: string, obj: any) => {
        if (type === "BOOKMARK") return;
        seen.push(`${type} ${obj.metadata.name}`);
        if (type === "DELETED") gotDeleted();
      },
      () => {},
    );

    const created = await core.createNamespacedPod({
      namespace: "default",
      body: { metadata: { name: "cn", labels: { app: "cn" } }, spec: { containers: [{ name: "c", image: "busybox" }] } },
    });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.spec?.restartPolicy).toBe("Always");

    const list = await core.listNamespacedPod({ namespace: "default", labelSelector: "app=cn" });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(["cn"]);

    await core.patchNamespacedPod(
      { name: "cn", namespace: "default", body: { metadata: { labels: { app: "cn", v: "2" } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedPod({ name: "cn", namespace: "default" });
    await deleted;
    req.abort();
    expect(seen).toEqual(["ADDED cn", "MODIFIED cn", "DELETED cn"]);

    await expect(core.readNamespacedPod({ name: "cn", namespace: "default" })).rejects.toMatchObject({ code: 404 });
  });
});

describe("@kubernetes/client-node informer", () => {
  it("stays in sync with the server through 200 random writes", async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(`${t.dataDir}/kubeconfig`);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: "informer" } } });
    const informer = k8s.makeInformer(kc, "/api/v1/namespaces/informer/configmaps", () => core.listNamespacedConfigMap({ namespace: "informer" }));
    const errors: unknown[] = [];
    informer.on("error", (e) => errors.push(e));
    await informer.start();

    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const live = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const name = `cm-${Math.floor(random() * 20)}`;
      const r = random();
      if (!live.has(name)) {
        await core.createNamespacedConfigMap({ namespace: "informer", body: { metadata: { name }, data: { v: String(i) } } });
        live.set(name, String(i));
      } else if (r < 0.6) {
        await core.patchNamespacedConfigMap(
          { namespace: "informer", name, body: { data: { v: String(i) } } },
          k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
        );
        live.set(name, String(i));
      } else {
        await core.deleteNamespacedConfigMap({ namespace: "informer", name });
        live.delete(name);
      }
    }
    const cached = () => new Map(informer.list().map((c) => [c.metadata!.name!, c.data?.v ?? ""]));
    for (let i = 0; i < 100 && JSON.stringify([...cached()].sort()) !== JSON.stringify([...live].sort()); i++) await new Promise((r) => setTimeout(r, 100));
    const errorsWhileRunning = [...errors];
    await informer.stop();
    expect([...cached()].sort()).toEqual([...live].sort());
    expect(live.size).toBeGreaterThan(0);
    expect(errorsWhileRunning).toEqual([]);
  });
});
