/** The pod network's addresses from a podCIDR (pure). */
import { describe, expect, it } from "vitest";
import { contains, gatewayOf, parseCIDR, podNetwork } from "./cidr";

describe("podNetwork", () => {
  it("puts the gateway on the first address and pods on the rest, with kf0 and kubeflare by default", () => {
    expect(podNetwork("10.42.7.0/24", { cniDataDir: "/d/cni" })).toEqual({
      subnet: "10.42.7.0/24",
      gateway: "10.42.7.1",
      rangeStart: "10.42.7.2",
      rangeEnd: "10.42.7.254",
      bridge: "kf0",
      name: "kubeflare",
      cniDataDir: "/d/cni",
    });
  });

  it("normalizes the CIDR and refuses what is not one or too small", () => {
    expect(podNetwork("10.42.7.9/24", { cniDataDir: "" }).subnet).toBe("10.42.7.0/24");
    expect(() => podNetwork("10.42.7.0/30", { cniDataDir: "" })).toThrow(/too small/);
    for (const bad of ["10.42.7.0", "10.42.7.0/33", "10.42.256.0/24", "fd00::/64", "x/24"]) expect(() => parseCIDR(bad)).toThrow(/not an IPv4/);
  });

  it("tells whether an address is inside", () => {
    expect(contains("10.42.200.0/24", "10.42.200.17")).toBe(true);
    expect(contains("10.42.200.0/24", "10.42.201.1")).toBe(false);
    expect(contains("10.42.0.0/16", "10.43.0.1")).toBe(false);
  });

  it("has its gateway, the bridge's address, on the first address of the podCIDR", () => {
    expect(gatewayOf("10.42.3.0/24")).toBe("10.42.3.1");
    expect(gatewayOf("10.42.3.77/24")).toBe("10.42.3.1");
    expect(gatewayOf("10.42.0.0/16")).toBe("10.42.0.1");
    expect(gatewayOf("10.42.3.4/30")).toBe("10.42.3.5");
    for (const none of ["", "nonsense", "10.42.3.0/31", "10.42.3.1/32", "fd00::/64"]) expect(gatewayOf(none)).toBeUndefined();
  });
});
