import { describe, expect, it } from "vitest";
import { WriteGenerations } from "./generations";

describe("WriteGenerations", () => {
  it("tells whether a resource was written since a mark, resource by resource", () => {
    const g = new WriteGenerations();
    const before = g.mark();
    expect(g.unchangedSince(before, "pods")).toBe(true);
    g.bump("pods");
    expect(g.unchangedSince(before, "pods")).toBe(false);
    expect(g.unchangedSince(before, "secrets")).toBe(true);
    const after = g.mark();
    expect(g.unchangedSince(after, "pods")).toBe(true);
    g.bump("secrets");
    expect(g.unchangedSince(after, "pods")).toBe(true);
    expect(g.unchangedSince(after, "secrets")).toBe(false);
  });
});
