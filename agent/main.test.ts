import { describe, expect, it } from "vitest";
import { main, serviceDefaults } from "./main";

describe("the agent's Service range", () => {
  it("gives pods the range's 10th address as cluster DNS unless --cluster-dns says otherwise", () => {
    expect(serviceDefaults({ serviceCIDR: "10.78.0.0/16" })).toEqual({ serviceCIDR: "10.78.0.0/16", clusterDNS: "10.78.0.10" });
    expect(serviceDefaults({ serviceCIDR: "10.78.0.0/16", clusterDNS: "10.78.0.53" })).toEqual({ serviceCIDR: "10.78.0.0/16", clusterDNS: "10.78.0.53" });
    // "" keeps the engine's DNS; without a range, the agent's defaults (10.43.0.0/16, 10.43.0.10)
    expect(serviceDefaults({ serviceCIDR: "10.78.0.0/16", clusterDNS: "" }).clusterDNS).toBe("");
    expect(serviceDefaults({})).toEqual({ serviceCIDR: undefined, clusterDNS: undefined });
  });

  it("join refuses a malformed --service-cidr before contacting the server", async () => {
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => void errors.push(m);
    try {
      expect(await main(["join", "--server", "https://127.0.0.1:1", "--token", "x", "--service-cidr", "10.78.0.1/16"])).toBe(1);
    } finally {
      console.error = orig;
    }
    expect(errors.join("\n")).toContain('--service-cidr: must be an IPv4 CIDR with its host bits zero (like 10.43.0.0/16), got "10.78.0.1/16"');
  });
});
