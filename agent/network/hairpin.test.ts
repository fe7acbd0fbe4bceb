/** hairpinBridgePorts on a fake /sys/class/net (the real bridge is in test/services-e2e.test.ts's hairpin step). */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hairpinBridgePorts } from "./docker";

describe("hairpin mode on the pod bridge's ports", () => {
  const sys = mkdtempSync(join(tmpdir(), "kf-sys-"));
  afterAll(() => rmSync(sys, { recursive: true, force: true }));
  const port = (name: string, mode: string) => {
    mkdirSync(join(sys, "kf0", "brif", name), { recursive: true });
    writeFileSync(join(sys, "kf0", "brif", name, "hairpin_mode"), mode);
  };

  it("turns it on where it is off, and leaves the others alone", () => {
    port("veth1", "0\n");
    port("veth2", "1\n");
    expect(hairpinBridgePorts("kf0", sys)).toEqual(["veth1"]);
    expect(readFileSync(join(sys, "kf0", "brif", "veth1", "hairpin_mode"), "utf8")).toBe("1");
    expect(hairpinBridgePorts("kf0", sys)).toEqual([]);
  });
  it("does nothing for a bridge that is not there", () => {
    expect(hairpinBridgePorts("kf-none", sys)).toEqual([]);
  });
});
