/** The host-gw route planner (pure: no route is touched here). */
import { describe, expect, it } from "vitest";
import { planRoutes, routeNode } from "./routes";

const node = (name: string, podCIDR?: string, internalIP?: string) => ({ name, podCIDR, internalIP });

describe("planRoutes (host-gw)", () => {
  it("routes every other node's podCIDR via its InternalIP, not its own", () => {
    const p = planRoutes(
      "a",
      [node("a", "10.42.0.0/24", "192.168.1.10"), node("b", "10.42.1.0/24", "192.168.1.11"), node("c", "10.42.2.0/24", "192.168.1.12")],
      [],
    );
    expect(p.want).toEqual([
      { dst: "10.42.1.0/24", via: "192.168.1.11" },
      { dst: "10.42.2.0/24", via: "192.168.1.12" },
    ]);
    expect(p.add).toEqual(p.want);
    expect(p.del).toEqual([]);
  });

  it("adds only what is missing and deletes what is stale (node gone, address or range changed)", () => {
    const current = [
      { dst: "10.42.1.0/24", via: "192.168.1.11" },
      { dst: "10.42.2.0/24", via: "192.168.1.99" },
      { dst: "10.42.9.0/24", via: "192.168.1.19" },
    ];
    const p = planRoutes("a", [node("a", "10.42.0.0/24"), node("b", "10.42.1.0/24", "192.168.1.11"), node("c", "10.42.2.0/24", "192.168.1.12")], current);
    expect(p.add).toEqual([{ dst: "10.42.2.0/24", via: "192.168.1.12" }]);
    expect(p.del).toEqual([
      { dst: "10.42.2.0/24", via: "192.168.1.99" },
      { dst: "10.42.9.0/24", via: "192.168.1.19" },
    ]);
  });

  it("never routes outside the cluster CIDR, over its own range, or via loopback/unset/in-cluster addresses", () => {
    const p = planRoutes(
      "a",
      [
        node("a", "10.42.0.0/24", "192.168.1.10"),
        node("b", "0.0.0.0/1", "192.168.1.11"),
        node("c", "10.0.0.0/8", "192.168.1.12"),
        node("d", "10.42.0.0/25", "192.168.1.13"),
        node("e", "10.42.5.0/24", "127.0.0.1"),
        node("f", "10.42.6.0/24"),
        node("g", "10.42.7.0/24", "10.42.9.9"),
        node("h", "not-a-cidr", "192.168.1.14"),
        node("i", undefined, "192.168.1.15"),
        node("j", "10.42.8.0/24", "224.0.0.1"),
      ],
      [],
    );
    expect(p.want).toEqual([]);
  });

  it("gives a range two nodes claim to the first by name, on every box alike; normalizes what it is given", () => {
    const nodes = [node("z", "10.42.3.0/24", "192.168.1.30"), node("y", "10.42.3.7/24", "192.168.1.31"), node("x", "10.42.4.0/24", "192.168.1.32")];
    expect(planRoutes("x", nodes, []).want).toEqual([{ dst: "10.42.3.0/24", via: "192.168.1.31" }]);
    expect(planRoutes("w", nodes, [], "10.42.0.0/16").want).toEqual([
      { dst: "10.42.4.0/24", via: "192.168.1.32" },
      { dst: "10.42.3.0/24", via: "192.168.1.31" },
    ]);
  });

  it("reads a Node object", () => {
    expect(
      routeNode({
        metadata: { name: "b" },
        spec: { podCIDR: "10.42.1.0/24" },
        status: {
          addresses: [
            { type: "Hostname", address: "b" },
            { type: "InternalIP", address: "192.168.1.11" },
          ],
        },
      }),
    ).toEqual({ name: "b", podCIDR: "10.42.1.0/24", internalIP: "192.168.1.11" });
  });
});
