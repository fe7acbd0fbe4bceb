/**
 * A sandbox's network namespace, pinned by name (`ip netns add`, a bind mount under
 * /run/netns) the way CRI runtimes pin theirs: the pause container joins it, CNI is told
 * its path, and it outlives the pause process, so DEL always finds the pod's interface
 * (the bridge plugin removes its masquerade rule only then) even when the sandbox died.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

export const netnsName = (id: string): string => `kf-${id.replace(/[^A-Za-z0-9_.-]/g, "-")}`;
export const netnsPath = (id: string): string => `/run/netns/${netnsName(id)}`;

/** Make the sandbox's namespace (if it isn't there already); its path. */
export const pinNetns = async (id: string): Promise<string> => {
  const path = netnsPath(id);
  if (!existsSync(path)) await run("ip", ["netns", "add", netnsName(id)], { timeout: 10_000 });
  return path;
};

/** Let the sandbox's namespace go (it ends once nothing runs in it). */
export const unpinNetns = async (id: string): Promise<void> => {
  if (existsSync(netnsPath(id))) await run("ip", ["netns", "delete", netnsName(id)], { timeout: 10_000 });
};

/**
 * The pod bridge with its gateway address (10.42.N.1/24), up, before any pod: the bridge
 * plugin would make it at the first ADD, but the node-local DNS server listens on the
 * gateway from the start. The plugin takes the bridge as it finds it.
 */
export const ensureBridge = async (bridge: string, gateway: string, prefix: number): Promise<void> => {
  const ip = (args: string[]) => run("ip", args, { timeout: 10_000 });
  if (!existsSync(`/sys/class/net/${bridge}`)) await ip(["link", "add", bridge, "type", "bridge"]);
  const addrs = JSON.parse((await ip(["-j", "addr", "show", "dev", bridge])).stdout || "[]");
  const has = addrs.some((l: any) => (l.addr_info ?? []).some((a: any) => a.family === "inet" && a.local === gateway && a.prefixlen === prefix));
  if (!has) await ip(["addr", "add", `${gateway}/${prefix}`, "dev", bridge]);
  await ip(["link", "set", bridge, "up"]);
};
