/**
 * A file the agent writes for a pod (resolv.conf, hosts) under `<dataDir>/pods/<uid>/`,
 * where the pod's other files live and go with it: replaced atomically, and only when
 * its text changed (containers see it through a bind mount).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Write `text` as the pod's file `name` unless it says that already; its path. */
export const writePodFile = (dataDir: string, podUid: string, name: string, text: string): string => {
  const dir = join(dataDir, "pods", podUid);
  const path = join(dir, name);
  let old = "";
  try {
    old = readFileSync(path, "utf8");
  } catch {
    // not written yet
  }
  if (old !== text) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${path}.tmp`, text, { mode: 0o644 });
    renameSync(`${path}.tmp`, path);
  }
  return path;
};
