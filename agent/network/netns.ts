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
