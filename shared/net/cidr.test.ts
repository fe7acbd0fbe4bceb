import { describe, expect, it } from "vitest";
import { containsIP, formatCidr, formatIPv4, networkConfigErrors, networkOf, nthAddress, nthSubnet, overlaps, parseCidr, parseIPv4, subnetCount } from "./cidr";

const cidr = (s: string) => parseCidr(s)!;
const names = { cluster: "--cluster-cidr", service: "--service-cidr" };

describe("IPv4 addresses", () => {
  it("parses and formats dotted quads", () => {
    expect(parseIPv4("10.43.0.1")).toBe(0x0a2b0001);
    expect(parseIPv4("255.255.255.255")).toBe(2 ** 32 - 1);
    expect(formatIPv4(0x0a2b0001)).toBe("10.43.0.1");
    expect(formatIPv4(2 ** 32 - 1)).toBe("255.255.255.255");
  });
  it("refuses what is not one", () => {
    for (const bad of ["10.43.0", "10.43.0.256", "10.043.0.1", "a.b.c.d", "", "10.43.0.1 ", "::1", "1.2.3.4.5"]) expect(parseIPv4(bad)).toBeUndefined();
  });
});

describe("CIDRs", () => {
  it("parses blocks with their host bits zero", () => {
    expect(parseCidr("10.42.0.0/16")).toEqual({ base: 0x0a2a0000, prefix: 16 });
    expect(parseCidr("0.0.0.0/0")).toEqual({ base: 0, prefix: 0 });
    expect(formatCidr(cidr("192.168.4.0/22"))).toBe("192.168.4.0/22");
    for (const bad of ["10.42.0.1/16", "10.42.0.0/33", "10.42.0.0", "10.42.0.0/016", "10.42.0.0/-1", "fd00::/64", "10.42.0.0/16/1"])
      expect(parseCidr(bad)).toBeUndefined();
  });
  it("contains and overlaps", () => {
    const c = cidr("10.43.0.0/16");
    expect(containsIP(c, parseIPv4("10.43.255.255")!)).toBe(true);
    expect(containsIP(c, parseIPv4("10.44.0.0")!)).toBe(false);
    expect(containsIP(c, parseIPv4("10.42.255.255")!)).toBe(false);
    expect(overlaps(cidr("10.42.0.0/16"), cidr("10.43.0.0/16"))).toBe(false);
    expect(overlaps(cidr("10.0.0.0/8"), cidr("10.43.0.0/16"))).toBe(true);
    expect(overlaps(cidr("10.43.0.0/16"), cidr("10.0.0.0/8"))).toBe(true);
    expect(overlaps(cidr("10.43.7.0/24"), cidr("10.43.7.0/24"))).toBe(true);
  });
  it("gives the n-th address and the n-th subnet", () => {
    const c = cidr("10.43.0.0/16");
    expect(nthAddress(c, 1)).toBe("10.43.0.1");
    expect(nthAddress(c, 10)).toBe("10.43.0.10");
    expect(nthAddress(c, 65535)).toBe("10.43.255.255");
    expect(nthAddress(c, 65536)).toBeUndefined();
    expect(nthAddress(c, -1)).toBeUndefined();
    const k = cidr("10.42.0.0/16");
    expect(subnetCount(k, 24)).toBe(256);
    expect(subnetCount(k, 8)).toBe(0);
    expect(formatCidr(nthSubnet(k, 24, 0)!)).toBe("10.42.0.0/24");
    expect(formatCidr(nthSubnet(k, 24, 255)!)).toBe("10.42.255.0/24");
    expect(nthSubnet(k, 24, 256)).toBeUndefined();
    expect(formatCidr(nthSubnet(cidr("10.0.0.0/8"), 24, 257)!)).toBe("10.1.1.0/24");
  });
  it("takes the network of an interface address", () => {
    expect(formatCidr(networkOf("192.168.1.77/24")!)).toBe("192.168.1.0/24");
    expect(formatCidr(networkOf("172.17.0.1/16")!)).toBe("172.17.0.0/16");
    expect(networkOf("fe80::1/64")).toBeUndefined();
  });
});

describe("the cluster's network configuration", () => {
  it("accepts k3s' defaults", () => {
    expect(networkConfigErrors({ clusterCIDR: "10.42.0.0/16", serviceCIDR: "10.43.0.0/16" }, names, [{ name: "eth0", cidr: "192.168.1.5/24" }])).toEqual([]);
  });
  it("refuses malformed blocks and odd sizes, naming the flag", () => {
    expect(networkConfigErrors({ clusterCIDR: "10.42.0.1/16", serviceCIDR: "10.43.0.0/16" }, names)).toEqual([
      '--cluster-cidr must be an IPv4 CIDR with its host bits zero (like 10.42.0.0/16), got "10.42.0.1/16"',
    ]);
    expect(networkConfigErrors({ clusterCIDR: "10.42.0.0/24", serviceCIDR: "11.0.0.0/8" }, names)).toEqual([
      '--cluster-cidr must be a /8 to /22 (each node gets a /24), got "10.42.0.0/24"',
      '--service-cidr must be a /12 to /24, got "11.0.0.0/8"',
    ]);
    expect(networkConfigErrors({ clusterCIDR: "10.42.0.0/16", serviceCIDR: "10.43.0.0/25" }, names)[0]).toMatch(/--service-cidr must be a \/12 to \/24/);
  });
  it("refuses overlaps with each other and with the host's networks", () => {
    expect(networkConfigErrors({ clusterCIDR: "10.0.0.0/8", serviceCIDR: "10.43.0.0/16" }, names)).toEqual([
      "--cluster-cidr 10.0.0.0/8 and --service-cidr 10.43.0.0/16 overlap",
    ]);
    expect(
      networkConfigErrors({ clusterCIDR: "10.42.0.0/16", serviceCIDR: "10.43.0.0/16" }, names, [
        { name: "lo", cidr: "127.0.0.1/8" },
        { name: "eth0", cidr: "10.43.128.9/17" },
      ]),
    ).toEqual(["--service-cidr 10.43.0.0/16 overlaps this machine's network 10.43.128.0/17 (interface eth0); pick another range"]);
  });
});
