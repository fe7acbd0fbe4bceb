import { describe, expect, it } from "vitest";
import { fnv1a, fnv1aHex } from "./hash";

describe("fnv1a", () => {
  it("matches the FNV-1a 32-bit test vectors (Go's hash/fnv New32a)", () => {
    expect(fnv1a("")).toBe(0x811c9dc5);
    expect(fnv1a("a")).toBe(0xe40c292c);
    expect(fnv1a("foobar")).toBe(0xbf9cf968);
  });

  it("hashes bytes like the same ASCII string, and gives 8 hex digits", () => {
    expect(fnv1a(new TextEncoder().encode("foobar"))).toBe(fnv1a("foobar"));
    expect(fnv1a([0x61])).toBe(0xe40c292c);
    expect(fnv1aHex("a")).toBe("e40c292c");
    expect(fnv1aHex("default/web-0")).toMatch(/^[0-9a-f]{8}$/);
    expect(fnv1a("default/web-0")).not.toBe(fnv1a("default/web-1"));
  });
});
