/**
 * How the agent calls CNI plugins (the libcni way), against stand-in plugins that record
 * what they were given: env, config on stdin, prevResult chaining, runtimeConfig for the
 * portMappings capability, DEL backwards with the cached result, a failed ADD undone.
 * (The real plugins on a real netns: podnet.test.ts.)
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { podNetwork } from "./cidr";
import { Cni } from "./cni";

const dir = mkdtempSync(join(tmpdir(), "kf-cni-unit-"));
const log = join(dir, "calls.jsonl");
// a stand-in plugin: records its call; ADD answers prevResult (or, for bridge, an address); FAIL_<type> makes it fail
const plugin = `#!${process.execPath}
const fs = require("node:fs");
const type = require("node:path").basename(process.argv[1]);
const conf = JSON.parse(fs.readFileSync(0, "utf8"));
const e = process.env;
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ cmd: e.CNI_COMMAND, type, id: e.CNI_CONTAINERID, netns: e.CNI_NETNS, ifname: e.CNI_IFNAME, path: e.CNI_PATH, conf }) + "\\n");
if (fs.existsSync(${JSON.stringify(join(dir, "fail-"))} + type) && e.CNI_COMMAND === "ADD") {
  process.stdout.write(JSON.stringify({ cniVersion: "1.0.0", code: 7, msg: "no luck", details: type + " refused" }));
  process.exit(1);
}
if (e.CNI_COMMAND !== "ADD") process.exit(0);
const out = type === "bridge" ? { cniVersion: "1.0.0", interfaces: [{ name: "eth0" }], ips: [{ address: "10.42.9.5/24", gateway: "10.42.9.1", interface: 0 }] } : conf.prevResult ?? { cniVersion: "1.0.0" };
process.stdout.write(JSON.stringify(out));
`;
for (const t of ["loopback", "bridge", "portmap", "firewall"]) {
  writeFileSync(join(dir, t), plugin);
  chmodSync(join(dir, t), 0o755);
}
const calls = () =>
  readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe("Cni (the CNI calling convention)", () => {
  const net = podNetwork("10.42.9.0/24", { bridge: "kf-unit", name: "unitnet", cniDataDir: join(dir, "state") });
  const cni = new Cni(net, dir);
  beforeEach(() => {
    writeFileSync(log, "");
    rmSync(join(dir, "fail-firewall"), { force: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("ADDs loopback on lo, then the chain on eth0, each plugin with the one before's result; portMappings only where the capability is", async () => {
    const ip = await cni.add("sb1", "/proc/1/ns/net", [{ hostPort: 8081, containerPort: 80, protocol: "tcp" }]);
    expect(ip).toBe("10.42.9.5");
    const c = calls();
    expect(c.map((x) => [x.cmd, x.type, x.ifname])).toEqual([
      ["ADD", "loopback", "lo"],
      ["ADD", "bridge", "eth0"],
      ["ADD", "portmap", "eth0"],
      ["ADD", "firewall", "eth0"],
    ]);
    for (const x of c) expect([x.id, x.netns, x.path]).toEqual(["sb1", "/proc/1/ns/net", dir]);
    const [, bridge, portmap, firewall] = c.map((x) => x.conf);
    expect(bridge).toMatchObject({ cniVersion: "1.0.0", name: "unitnet", type: "bridge", bridge: "kf-unit", isGateway: true, ipMasq: true });
    expect(bridge.ipam).toMatchObject({
      type: "host-local",
      ranges: [[{ subnet: "10.42.9.0/24", gateway: "10.42.9.1" }]],
      dataDir: join(dir, "state", "networks"),
    });
    expect(bridge.prevResult).toBeUndefined();
    expect(bridge.runtimeConfig).toBeUndefined();
    expect(portmap.prevResult.ips[0].address).toBe("10.42.9.5/24");
    expect(portmap.runtimeConfig).toEqual({ portMappings: [{ hostPort: 8081, containerPort: 80, protocol: "tcp" }] });
    expect(firewall.prevResult.ips[0].address).toBe("10.42.9.5/24");
    expect(firewall.runtimeConfig).toBeUndefined();
  });

  it("DELs backwards with the cached config and result, also after the podCIDR changed and without a netns", async () => {
    await cni.add("sb2", "/proc/2/ns/net");
    writeFileSync(log, "");
    const later = new Cni(podNetwork("10.42.77.0/24", { bridge: "kf-unit", name: "unitnet", cniDataDir: join(dir, "state") }), dir);
    await later.del("sb2", "");
    const c = calls();
    expect(c.map((x) => [x.cmd, x.type, x.netns])).toEqual([
      ["DEL", "firewall", ""],
      ["DEL", "portmap", ""],
      ["DEL", "bridge", ""],
    ]);
    for (const x of c) expect(x.conf.prevResult.ips[0].address).toBe("10.42.9.5/24");
    expect(c[2].conf.ipam.ranges[0][0].subnet).toBe("10.42.9.0/24");
  });

  it("undoes a failed ADD (DEL of what ran, newest first) and says what the plugin said", async () => {
    writeFileSync(join(dir, "fail-firewall"), "");
    await expect(cni.add("sb3", "/proc/3/ns/net")).rejects.toThrow('plugin type="firewall" failed (add): no luck: firewall refused');
    expect(calls().map((x) => [x.cmd, x.type])).toEqual([
      ["ADD", "loopback"],
      ["ADD", "bridge"],
      ["ADD", "portmap"],
      ["ADD", "firewall"],
      ["DEL", "firewall"],
      ["DEL", "portmap"],
      ["DEL", "bridge"],
    ]);
    expect(calls()[6].conf.prevResult.ips[0].address).toBe("10.42.9.5/24");
  });
});
