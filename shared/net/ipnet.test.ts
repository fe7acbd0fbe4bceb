import { describe, expect, it } from "vitest";
import { formatIPNet, parseIP, parseIPNet, strictSubnet } from "./ipnet";

describe("ipnet", () => {
  it("parses both families, clears host bits, refuses the rest", () => {
    expect(formatIPNet(parseIPNet("10.1.2.3/8")!)).toBe("10.0.0.0/8");
    expect(formatIPNet(parseIPNet("010.001.2.3/32")!)).toBe("10.1.2.3/32");
    expect(formatIPNet(parseIPNet("2001:DB8:0:0:1::5/64")!)).toBe("2001:db8::/64");
    expect(formatIPNet(parseIPNet("::ffff:10.0.0.1/128")!)).toBe("::ffff:a00:1/128");
    expect(formatIPNet(parseIPNet("0.0.0.0/0")!)).toBe("0.0.0.0/0");
    expect(formatIPNet(parseIPNet("::/0")!)).toBe("::/0");
    for (const bad of ["10.0.0.0", "10.0.0.0/33", "10.0.0/8", "256.0.0.0/8", "::1::/64", "1:2:3:4:5:6:7:8:9/64", "x/8", "10.0.0.0/-1", "2001:db8::/129"])
      expect(parseIPNet(bad), bad).toBeUndefined();
    expect(parseIP("fe80::1")?.family).toBe(6);
    expect(parseIP("1.2.3.4")?.value).toBe(0x01020304n);
  });
  it("strict subnets", () => {
    const n = (s: string) => parseIPNet(s)!;
    expect(strictSubnet(n("10.0.0.0/8"), n("10.1.0.0/16"))).toBe(true);
    expect(strictSubnet(n("10.0.0.0/8"), n("10.0.0.0/8"))).toBe(false);
    expect(strictSubnet(n("10.0.0.0/8"), n("11.0.0.0/16"))).toBe(false);
    expect(strictSubnet(n("10.0.0.0/16"), n("10.0.0.0/8"))).toBe(false);
    expect(strictSubnet(n("::/0"), n("10.0.0.0/8"))).toBe(false);
    expect(strictSubnet(n("2001:db8::/32"), n("2001:db8:ff::/48"))).toBe(true);
  });
});
