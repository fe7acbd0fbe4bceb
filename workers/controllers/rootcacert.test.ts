import { afterEach, describe, expect, it } from "vitest";
import { startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { DESCRIPTION_ANNOTATION, ROOT_CA_CONFIGMAP, rootCACertPublisher } from "./rootcacert";

describe("root CA publisher", () => {
  let cp: TestControlPlane;
  afterEach(async () => cp?.close());

  const cm = (ns: string) => cp.api.get("configmaps", ns, ROOT_CA_CONFIGMAP);

  it("publishes the cluster CA in every namespace, restores it when edited or deleted, and leaves a terminating namespace alone", async () => {
    cp = await startControlPlane({ controllers: [rootCACertPublisher] });
    await cp.settle();
    const ca = await cp.api.rootCA();
    expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"]) expect((await cm(ns))?.data).toEqual({ "ca.crt": ca });

    await cp.api.create("namespaces", "", { apiVersion: "v1", kind: "Namespace", metadata: { name: "fresh" } });
    await cp.settle();
    const made = (await cm("fresh"))!;
    expect(made.data).toEqual({ "ca.crt": ca });
    expect(made.metadata.annotations?.[DESCRIPTION_ANNOTATION]).toContain("kubernetes.default.svc");

    await cp.api.update("configmaps", { ...made, metadata: { ...made.metadata, annotations: {} }, data: { "ca.crt": "x", more: "y" } });
    await cp.settle();
    const back = (await cm("fresh"))!;
    expect(back.data).toEqual({ "ca.crt": ca });
    expect(back.metadata.annotations?.[DESCRIPTION_ANNOTATION]).toBeTruthy();

    await cp.api.delete("configmaps", "fresh", ROOT_CA_CONFIGMAP);
    await cp.settle();
    expect((await cm("fresh"))?.data).toEqual({ "ca.crt": ca });

    // a namespace being deleted (the namespace controller is not running: it stays Terminating) gets nothing back
    // (the namespace first: deleting the ConfigMap first would race its re-creation)
    await cp.api.delete("namespaces", "", "fresh");
    await cp.api.delete("configmaps", "fresh", ROOT_CA_CONFIGMAP);
    await cp.settle();
    expect(await cm("fresh")).toBeNull();
    // the same CA every time it is asked (made once, kept in the store)
    expect(await cp.api.rootCA()).toBe(ca);
  });
});
