/**
 * The pod network on Docker: a user-defined bridge network (`kubeflare`, Linux bridge
 * kf0) with the node's podCIDR as its subnet and 10.42.N.1 as its gateway. Pod sandboxes
 * join it and get their address from Docker's IPAM; Docker masquerades traffic leaving
 * it and publishes hostPorts (port bindings on the sandbox). Made by the agent, made
 * again when the podCIDR changed (once no container uses the old one).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import type Docker from "dockerode";
import type { PodNetwork } from "./cidr";

const BRIDGE_NAME = "com.docker.network.bridge.name";
export const NETWORK_LABEL = "io.kubeflare.network";

const notFound = (e: unknown) => (e as { statusCode?: number }).statusCode === 404;

/** Make sure the Docker network for `net` exists as described; returns whether it was (re)created. */
export const ensureDockerNetwork = async (docker: Docker, net: PodNetwork): Promise<boolean> => {
  let existing: any = null;
  try {
    existing = await docker.getNetwork(net.name).inspect();
  } catch (e) {
    if (!notFound(e)) throw e;
  }
  if (existing) {
    const cfg = existing.IPAM?.Config?.[0] ?? {};
    if (existing.Driver === "bridge" && cfg.Subnet === net.subnet && cfg.Gateway === net.gateway && existing.Options?.[BRIDGE_NAME] === net.bridge)
      return false;
    const users = Object.keys(existing.Containers ?? {});
    if (users.length)
      throw new Error(
        `the Docker network ${net.name} has subnet ${cfg.Subnet ?? "?"}, not the podCIDR ${net.subnet}, and ${users.length} container(s) still use it: remove their pods first`,
      );
    await docker.getNetwork(existing.Id).remove();
  }
  await docker.createNetwork({
    Name: net.name,
    Driver: "bridge",
    CheckDuplicate: true,
    IPAM: { Driver: "default", Config: [{ Subnet: net.subnet, Gateway: net.gateway }] },
    Options: { [BRIDGE_NAME]: net.bridge },
    Labels: { [NETWORK_LABEL]: "pods" },
  });
  return true;
};

/** Remove the pod network (kubeflare-agent uninstall, tests); containers still on it are disconnected first. */
export const removeDockerNetwork = async (docker: Docker, name: string): Promise<void> => {
  try {
    const n = docker.getNetwork(name);
    const info = await n.inspect();
    for (const id of Object.keys(info.Containers ?? {})) await n.disconnect({ Container: id, Force: true }).catch(() => undefined);
    await n.remove();
  } catch (e) {
    if (!notFound(e)) throw e;
  }
};

/**
 * Hairpin mode on every port of the pod bridge (kubelet's hairpin-veth): a pod that
 * reaches a Service whose chosen endpoint is itself sends the DNATed frame back out the
 * port it came in on, which a bridge drops unless that port is in hairpin mode (Docker
 * turns it on only when its userland proxy is off). Without it such a connection's SYN
 * is lost and its retransmit picks another endpoint a second later, or fails. The CNI
 * bridge on containerd has `hairpinMode` in its config. Needs root; returns the ports
 * it changed.
 */
export const hairpinBridgePorts = (bridge: string, sys = "/sys/class/net"): string[] => {
  const changed: string[] = [];
  let ports: string[];
  try {
    ports = readdirSync(`${sys}/${bridge}/brif`);
  } catch {
    return changed; // no such bridge (yet)
  }
  for (const port of ports) {
    const path = `${sys}/${bridge}/brif/${port}/hairpin_mode`;
    try {
      if (readFileSync(path, "utf8").trim() === "1") continue;
      writeFileSync(path, "1");
      changed.push(port);
    } catch {
      // a port that just went away, or no permission: nothing to do about it here
    }
  }
  return changed;
};
