import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { endpointsController } from "./endpoints";

const pod = (name: string, labels: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels },
  spec: { containers: [{ name: "web", image: "nginx", ports: [{ name: "http", containerPort: 8080 }] }] },
});

describe("endpoints controller", () => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startControlPlane({ controllers: [endpointsController] });
  });
  afterEach(async () => cp.close());

  const setStatus = async (name: string, ip: string, ready: boolean) => {
    const p = (await cp.api.get("pods", "default", name))!;
    await cp.api.updateStatus("pods", {
      ...p,
      status: { ...p.status, phase: "Running", podIP: ip, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    });
  };

  it("lists ready pods under addresses and others under notReadyAddresses, resolving named target ports", async () => {
    await cp.api.create("services", "default", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", labels: { tier: "front" } },
      spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
    });
    await cp.api.create("pods", "default", pod("a", { app: "web" }));
    await cp.api.create("pods", "default", pod("b", { app: "web" }));
    await cp.api.create("pods", "default", pod("other", { app: "db" }));
    await setStatus("a", "127.0.0.11", true);
    await setStatus("b", "127.0.0.12", false);
    await setStatus("other", "127.0.0.13", true);
    await cp.settle();
    const ep = (await cp.api.get("endpoints", "default", "web"))!;
    expect(ep.metadata.labels).toEqual({ tier: "front" });
    expect(ep.subsets).toHaveLength(1);
    expect(ep.subsets[0].ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(ep.subsets[0].addresses.map((a: any) => [a.ip, a.targetRef.name])).toEqual([["127.0.0.11", "a"]]);
    expect(ep.subsets[0].notReadyAddresses.map((a: any) => a.ip)).toEqual(["127.0.0.12"]);
    const [slice] = await cp.api.list("endpointslices", "default", { labelSelector: "kubernetes.io/service-name=web" });
    expect(slice.addressType).toBe("IPv4");
    expect(slice.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(slice.endpoints.map((e: any) => [e.addresses[0], e.conditions.ready, e.targetRef.name])).toEqual([
      ["127.0.0.11", true, "a"],
      ["127.0.0.12", false, "b"],
    ]);

    // b becomes ready; a is relabelled away
    await setStatus("b", "127.0.0.12", true);
    await cp.api.patch("pods", "default", "a", "merge", { metadata: { labels: { app: "gone" } } });
    await cp.settle();
    const after = (await cp.api.get("endpoints", "default", "web"))!;
    expect(after.subsets[0].addresses.map((a: any) => a.targetRef.name)).toEqual(["b"]);
    expect(after.subsets[0].notReadyAddresses).toBeUndefined();

    // the Service goes, and its Endpoints with it
    await cp.api.delete("services", "default", "web");
    await cp.settle();
    expect(await cp.api.get("endpoints", "default", "web")).toBeNull();
  });

  it("leaves the Endpoints of a selector-less Service to the user", async () => {
    await cp.api.create("services", "default", { apiVersion: "v1", kind: "Service", metadata: { name: "ext" }, spec: { ports: [{ port: 5432 }] } });
    await cp.api.create("endpoints", "default", {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "ext" },
      subsets: [{ addresses: [{ ip: "127.0.0.50" }], ports: [{ port: 5432 }] }],
    });
    await cp.settle();
    const ep = (await cp.api.get("endpoints", "default", "ext"))!;
    expect(ep.subsets[0].addresses[0].ip).toBe("127.0.0.50");
  });
});
