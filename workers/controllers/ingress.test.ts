import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { readyNode, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { ingressStatusController } from "./ingress";

const node = (name: string, ip: string, proxy = true) => {
  const n = readyNode(name);
  n.status.addresses = [{ type: "InternalIP", address: ip }];
  if (proxy) n.metadata.annotations = { "kubeflare.dev/ingress-proxy": "http=80,https=443" };
  return n;
};

const ing = (name: string, cls?: string): KObject => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name },
  spec: { ...(cls ? { ingressClassName: cls } : {}), defaultBackend: { service: { name: "web", port: { number: 80 } } } },
});

describe("ingress-status controller", () => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startControlPlane({ controllers: [ingressStatusController] });
  });
  afterEach(async () => cp.close());

  const points = async (name: string) => (await cp.api.get("ingresses", "default", name))?.status?.loadBalancer?.ingress;

  it("lists the Ready nodes running the proxy, sorted, for Ingresses of our class, following nodes and classes", async () => {
    // the seeded default class kubeflare is ours
    await cp.api.create("ingressclasses", "", {
      apiVersion: "networking.k8s.io/v1",
      kind: "IngressClass",
      metadata: { name: "nginx" },
      spec: { controller: "k8s.io/ingress-nginx" },
    });
    await cp.api.create("nodes", "", node("b", "127.0.0.12"));
    await cp.api.create("nodes", "", node("a", "127.0.0.9"));
    await cp.api.create("nodes", "", node("c", "127.0.0.5", false));
    await cp.api.create("ingresses", "default", ing("web"));
    await cp.api.create("ingresses", "default", ing("theirs", "nginx"));
    await cp.settle();
    expect(await points("web")).toEqual([{ ip: "127.0.0.9" }, { ip: "127.0.0.12" }]);
    expect(await points("theirs")).toBeUndefined();
    // a node turning NotReady drops out
    const b = (await cp.api.get("nodes", "", "b"))!;
    b.status.conditions = b.status.conditions.map((c: any) => (c.type === "Ready" ? { ...c, status: "False" } : c));
    await cp.api.updateStatus("nodes", b);
    await cp.settle();
    expect(await points("web")).toEqual([{ ip: "127.0.0.9" }]);
    // moved to another class: what we published goes
    const web = (await cp.api.get("ingresses", "default", "web"))!;
    await cp.api.update("ingresses", { ...web, spec: { ...web.spec, ingressClassName: "nginx" } });
    await cp.settle();
    expect(await points("web")).toBeUndefined();
  });
});
