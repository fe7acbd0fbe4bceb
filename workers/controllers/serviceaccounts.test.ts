import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { SERVICE_ACCOUNT_MOUNT_PATH } from "../registry/serviceaccount";
import { DEFAULT_SERVICE_ACCOUNT, serviceAccountController } from "./serviceaccounts";

const pod = (name: string, spec: Record<string, unknown> = {}): KObject =>
  ({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "busybox" }], ...spec } }) as KObject;

describe("service accounts", () => {
  let cp: TestControlPlane;
  afterEach(async () => cp?.close());

  const sa = (ns: string) => cp.api.get("serviceaccounts", ns, DEFAULT_SERVICE_ACCOUNT);

  it("keeps a `default` ServiceAccount in every active namespace, and makes it again when deleted", async () => {
    cp = await startControlPlane({ controllers: [serviceAccountController] });
    await cp.settle();
    for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"]) expect((await sa(ns))?.metadata.uid).toBeTruthy();

    await cp.api.create("namespaces", "", { apiVersion: "v1", kind: "Namespace", metadata: { name: "fresh" } });
    await cp.settle();
    const first = (await sa("fresh"))!;
    expect(first.kind).toBe("ServiceAccount");

    await cp.api.delete("serviceaccounts", "fresh", DEFAULT_SERVICE_ACCOUNT);
    await cp.settle();
    const again = (await sa("fresh"))!;
    expect(again.metadata.uid).not.toBe(first.metadata.uid);

    // a namespace being deleted (no namespace controller here: it stays Terminating) gets none back
    // (the namespace first: deleting the account first would race its re-creation)
    await cp.api.delete("namespaces", "", "fresh");
    await cp.api.delete("serviceaccounts", "fresh", DEFAULT_SERVICE_ACCOUNT);
    await cp.settle();
    expect(await sa("fresh")).toBeNull();
  });

  it("pod admission: a named account must exist; the account's automountServiceAccountToken applies unless the pod says", async () => {
    cp = await startControlPlane({ controllers: [serviceAccountController] });
    await cp.settle();
    const err = await cp.api.create("pods", "default", pod("p1", { serviceAccountName: "builder" })).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe(403);
    expect(err.message).toBe('pods "p1" is forbidden: error looking up service account default/builder: serviceaccount "builder" not found');
    expect(await cp.api.get("pods", "default", "p1")).toBeNull();

    await cp.api.create("serviceaccounts", "default", {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "builder" },
      automountServiceAccountToken: false,
    } as KObject);
    const mounted = (p: KObject) => p.spec!.containers[0].volumeMounts?.some((m: any) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH) ?? false;
    const p1 = await cp.api.create("pods", "default", pod("p1", { serviceAccountName: "builder" }));
    expect(p1.spec!.serviceAccountName).toBe("builder");
    expect(mounted(p1)).toBe(false);
    // the pod's own setting wins over the account's
    const p2 = await cp.api.create("pods", "default", pod("p2", { serviceAccountName: "builder", automountServiceAccountToken: true }));
    expect(mounted(p2)).toBe(true);
    // `default` gets the volume
    const p3 = await cp.api.create("pods", "default", pod("p3"));
    expect(p3.spec!.serviceAccountName).toBe("default");
    expect(mounted(p3)).toBe(true);
  });
});
