import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { readyNode, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { serviceLBController } from "./servicelb";

const node = (name: string, ip: string) => {
  const n = readyNode(name);
  n.status.addresses = [
    { type: "InternalIP", address: ip },
    { type: "Hostname", address: name },
  ];
  return n;
};

const lb = (name: string, extra: Record<string, unknown> = {}): KObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name },
  spec: { type: "LoadBalancer", selector: { app: name }, ports: [{ port: 80 }], ...extra },
});

describe("servicelb controller", () => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startControlPlane({ controllers: [serviceLBController] });
  });
  afterEach(async () => cp.close());

  const ingress = async (name: string) => (await cp.api.get("services", "default", name))?.status?.loadBalancer?.ingress;

  it("lists the Ready, schedulable nodes' InternalIPs, sorted, and follows the nodes", async () => {
    await cp.api.create("nodes", "", node("b", "127.0.0.12"));
    await cp.api.create("nodes", "", node("a", "127.0.0.9"));
    await cp.api.create("services", "default", lb("web"));
    await cp.settle();
    expect(await ingress("web")).toEqual([
      { ip: "127.0.0.9", ipMode: "VIP" },
      { ip: "127.0.0.12", ipMode: "VIP" },
    ]);

    // a node turns NotReady: it leaves the list
    const b = (await cp.api.get("nodes", "", "b"))!;
    await cp.api.updateStatus("nodes", { ...b, status: { ...b.status, conditions: [{ type: "Ready", status: "False" }] } });
    await cp.settle();
    expect(await ingress("web")).toEqual([{ ip: "127.0.0.9", ipMode: "VIP" }]);

    // cordoned: out too; a new node: in
    const a = (await cp.api.get("nodes", "", "a"))!;
    await cp.api.update("nodes", { ...a, spec: { ...a.spec, unschedulable: true } });
    await cp.api.create("nodes", "", node("c", "127.0.0.30"));
    await cp.settle();
    expect(await ingress("web")).toEqual([{ ip: "127.0.0.30", ipMode: "VIP" }]);

    // every node gone: pending again
    for (const n of ["a", "b", "c"]) await cp.api.delete("nodes", "", n);
    await cp.settle();
    expect(await ingress("web")).toBeUndefined();
  });

  it("serves its own class, leaves other classes and other types alone, and withdraws when the type changes", async () => {
    await cp.api.create("nodes", "", node("a", "127.0.0.9"));
    await cp.api.create("services", "default", lb("ours", { loadBalancerClass: "kubeflare.dev/servicelb" }));
    await cp.api.create("services", "default", lb("theirs", { loadBalancerClass: "example.com/metal" }));
    await cp.api.create("services", "default", { ...lb("plain"), spec: { selector: { app: "plain" }, ports: [{ port: 80 }] } });
    await cp.settle();
    expect(await ingress("ours")).toEqual([{ ip: "127.0.0.9", ipMode: "VIP" }]);
    expect(await ingress("theirs")).toBeUndefined();
    expect(await ingress("plain")).toBeUndefined();

    const svc = (await cp.api.get("services", "default", "ours"))!;
    const { externalTrafficPolicy: _e, allocateLoadBalancerNodePorts: _a, loadBalancerClass: _c, ...rest } = svc.spec;
    await cp.api.update("services", { ...svc, spec: { ...rest, type: "ClusterIP", ports: [{ port: 80, protocol: "TCP", targetPort: 80 }] } });
    await cp.settle();
    expect(await ingress("ours")).toBeUndefined();
  });
});
