/** What the agent says about its machine: the Node object and its Lease. */
import { dirname } from "node:path";
import { statfsSync } from "node:fs";
import { arch, cpus, hostname, networkInterfaces, release, totalmem, type } from "node:os";
import { readFileSync } from "node:fs";
import type { KObject } from "../shared/types";
import { formatQuantity } from "../shared/quantity";
import { rfc3339 } from "../shared/time";

export const AGENT_VERSION = "v1.32.0-kubeflare-0.1.0";

/** The first non-internal IPv4 address, or 127.0.0.1. */
export const defaultNodeIP = (): string => {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
};

const osImage = (): string => {
  try {
    const m = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync("/etc/os-release", "utf8"));
    if (m) return m[1];
  } catch {}
  return `${type()} ${release()}`;
};

const machineId = (): string => {
  try {
    return readFileSync("/etc/machine-id", "utf8").trim();
  } catch {
    return hostname();
  }
};

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" };

export const nodeStatus = (o: { nodeIP: string; runtimeVersion: string; dataDir: string; maxPods?: number; now: Date; ready?: boolean }): KObject["status"] => {
  let storage = 0;
  // the file system the agent's data lives on (its directory may not exist yet: the nearest one that does)
  for (let dir = o.dataDir; ; dir = dirname(dir)) {
    try {
      const s = statfsSync(dir);
      storage = s.blocks * s.bsize;
      break;
    } catch {
      if (dirname(dir) === dir) break;
    }
  }
  const capacity = {
    cpu: String(cpus().length),
    memory: formatQuantity(Math.floor(totalmem() / 1024) * 1024, "BinarySI"),
    pods: String(o.maxPods ?? 110),
    ...(storage ? { "ephemeral-storage": formatQuantity(Math.floor(storage / 1024) * 1024, "BinarySI") } : {}),
  };
  const ts = rfc3339(o.now);
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: ts,
    lastTransitionTime: ts,
  });
  return {
    capacity,
    allocatable: capacity,
    addresses: [
      { type: "InternalIP", address: o.nodeIP },
      { type: "Hostname", address: hostname() },
    ],
    nodeInfo: {
      machineID: machineId(),
      systemUUID: machineId(),
      bootID: "",
      kernelVersion: release(),
      osImage: osImage(),
      containerRuntimeVersion: o.runtimeVersion,
      kubeletVersion: AGENT_VERSION,
      kubeProxyVersion: "",
      operatingSystem: type().toLowerCase() === "linux" ? "linux" : type().toLowerCase(),
      architecture: ARCH[arch()] ?? arch(),
    },
    conditions: [
      cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubeflare-agent has sufficient memory available"),
      cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubeflare-agent has no disk pressure"),
      cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubeflare-agent has sufficient PID available"),
      o.ready === false
        ? cond("Ready", "False", "KubeletNotReady", "container runtime is down")
        : cond("Ready", "True", "KubeletReady", "kubeflare-agent is posting ready status"),
    ],
  };
};

export const nodeLabels = (name: string, extra: Record<string, string> = {}) => ({
  "kubernetes.io/hostname": name,
  "kubernetes.io/os": "linux",
  "kubernetes.io/arch": ARCH[arch()] ?? arch(),
  ...extra,
});
