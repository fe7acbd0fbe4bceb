/** Which podCIDR the agent applies, and when (pure: a recording stand-in for the engine). */
import { describe, expect, it } from "vitest";
import type { ContainerRuntime, PodNetwork } from "../runtime/runtime";
import { PodNetworkSetup } from "./setup";

const engine = (fail?: string) => {
  const applied: PodNetwork[] = [];
  const rt = {
    setPodNetwork: async (n: PodNetwork) => {
      if (fail) throw new Error(fail);
      applied.push(n);
    },
  } as unknown as ContainerRuntime;
  return { rt, applied };
};
const node = (podCIDR?: string) => ({ apiVersion: "v1", kind: "Node", metadata: { name: "n" }, spec: podCIDR ? { podCIDR } : {} });

describe("PodNetworkSetup", () => {
  it("keeps the engine's default network while the Node has no podCIDR, then applies it once, and again when it changes", async () => {
    const { rt, applied } = engine();
    const logs: string[] = [];
    const s = new PodNetworkSetup(rt, { dataDir: "/data" }, (m) => logs.push(m));
    await s.fromNode(node());
    await s.fromNode(null);
    expect(applied).toEqual([]);
    expect(s.network).toBeUndefined();
    await s.fromNode(node("10.42.3.0/24"));
    await s.fromNode(node("10.42.3.0/24"));
    expect(applied.map((n) => [n.subnet, n.gateway, n.bridge, n.name, n.cniDataDir])).toEqual([["10.42.3.0/24", "10.42.3.1", "kf0", "kubeflare", "/data/cni"]]);
    await s.fromNode(node("10.42.4.0/24"));
    expect(applied.map((n) => n.subnet)).toEqual(["10.42.3.0/24", "10.42.4.0/24"]);
    expect(logs).toEqual(["pod network: 10.42.3.0/24 on bridge kf0 (gateway 10.42.3.1)", "pod network: 10.42.4.0/24 on bridge kf0 (gateway 10.42.4.1)"]);
  });

  it("prefers --pod-cidr to the Node's, with the bridge and network names given", async () => {
    const { rt, applied } = engine();
    const s = new PodNetworkSetup(rt, { podCIDR: "10.42.200.0/24", bridge: "kf-t", networkName: "kf-test", dataDir: "/d" }, () => {});
    await s.fromNode(node("10.42.3.0/24"));
    expect(applied.map((n) => [n.subnet, n.bridge, n.name])).toEqual([["10.42.200.0/24", "kf-t", "kf-test"]]);
  });

  it("says once why a podCIDR can't be used, and tries again on the next look", async () => {
    const logs: string[] = [];
    const bad = new PodNetworkSetup(engine().rt, { dataDir: "/d" }, (m) => logs.push(m));
    await bad.fromNode(node("10.42.3.0/30"));
    await bad.fromNode(node("10.42.3.0/30"));
    expect(logs).toEqual(["pod network for podCIDR 10.42.3.0/30 not set up: podCIDR 10.42.3.0/30 is too small: a /29 or larger is needed"]);
    const { rt } = engine("network busy");
    const s = new PodNetworkSetup(rt, { dataDir: "/d" }, (m) => logs.push(m));
    await s.fromNode(node("10.42.5.0/24"));
    expect(s.network).toBeUndefined();
    expect(logs.at(-1)).toBe("pod network for podCIDR 10.42.5.0/24 not set up: network busy");
  });
});
