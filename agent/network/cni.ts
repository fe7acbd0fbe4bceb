/**
 * The pod network on containerd, the way CRI runtimes make it (containerd's CRI plugin
 * through go-cni and libcni): the standard CNI plugins (Debian's containernetworking-plugins
 * in /usr/lib/cni) executed with CNI_COMMAND=ADD/DEL/CHECK, the container's id, the
 * sandbox's network namespace and eth0 in the environment, and the network config on
 * stdin. The chain is `bridge` (kf0, the gateway 10.42.N.1, masquerade for traffic leaving
 * the pod CIDR) with `host-local` IPAM over the podCIDR, `portmap` for hostPorts and
 * `firewall` (lets the pod's traffic through the FORWARD chain Docker sets to DROP); the
 * pod's loopback comes up through the `loopback` plugin, as CRI does it.
 *
 * As libcni does: each plugin of the chain gets the one before it's result as
 * `prevResult`; `runtimeConfig.portMappings` goes to the plugins that declare the
 * `portMappings` capability; the ADD's config and result are cached (under the CNI data
 * dir), and DEL runs the chain backwards with the cached config and result, so an address
 * is released even after the podCIDR changed.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PodNetwork } from "./cidr";

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  /** tcp, udp or sctp */
  protocol: string;
}

type Conf = Record<string, any>;
interface NetConfList {
  cniVersion: string;
  name: string;
  plugins: Conf[];
}

const CNI_VERSION = "1.0.0";

export class CniError extends Error {}

/** The conflist of the node's pod network (what /etc/cni/net.d would hold). */
export const conflist = (net: PodNetwork): NetConfList => ({
  cniVersion: CNI_VERSION,
  name: net.name,
  plugins: [
    {
      type: "bridge",
      bridge: net.bridge,
      isGateway: true,
      ipMasq: true,
      hairpinMode: true,
      ipam: {
        type: "host-local",
        ranges: [[{ subnet: net.subnet, rangeStart: net.rangeStart, rangeEnd: net.rangeEnd, gateway: net.gateway }]],
        routes: [{ dst: "0.0.0.0/0" }],
        dataDir: join(net.cniDataDir, "networks"),
      },
    },
    { type: "portmap", capabilities: { portMappings: true }, snat: true },
    { type: "firewall", backend: "iptables" },
  ],
});

const LOOPBACK: NetConfList = { cniVersion: CNI_VERSION, name: "cni-loopback", plugins: [{ type: "loopback" }] };

interface Cached {
  list: NetConfList;
  result: any;
  portMappings: PortMapping[];
  ifName: string;
}

export class Cni {
  constructor(
    private readonly net: PodNetwork,
    private readonly cniPath = process.env.CNI_PATH ?? "/usr/lib/cni",
    private readonly timeoutMs = 60_000,
  ) {
    mkdirSync(join(net.cniDataDir, "results"), { recursive: true, mode: 0o700 });
  }

  get network(): PodNetwork {
    return this.net;
  }

  private cachePath = (id: string) => join(this.net.cniDataDir, "results", `${id.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`);

  /** One plugin, the CNI way: its result (parsed stdout) or a CniError with the plugin's own message. */
  private exec(command: "ADD" | "DEL" | "CHECK", conf: Conf, id: string, netns: string, ifName: string): Promise<any> {
    const type = String(conf.type);
    if (!/^[A-Za-z0-9_-]+$/.test(type)) return Promise.reject(new CniError(`bad CNI plugin type "${type}"`));
    const env = {
      PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      CNI_COMMAND: command,
      CNI_CONTAINERID: id,
      CNI_NETNS: netns,
      CNI_IFNAME: ifName,
      CNI_ARGS: "IgnoreUnknown=1",
      CNI_PATH: this.cniPath,
    };
    return new Promise((resolve, reject) => {
      const child = execFile(join(this.cniPath, type), [], { env, timeout: this.timeoutMs, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) {
          try {
            return resolve(stdout.trim() ? JSON.parse(stdout) : {});
          } catch {
            return reject(new CniError(`CNI plugin ${type} ${command}: unreadable result ${JSON.stringify(stdout.slice(0, 200))}`));
          }
        }
        // a failing plugin prints {code, msg, details} on stdout
        let msg = String(stderr || err.message).trim();
        try {
          const e = JSON.parse(stdout);
          if (e.msg) msg = e.details ? `${e.msg}: ${e.details}` : e.msg;
        } catch {}
        reject(new CniError(`plugin type="${type}" failed (${command.toLowerCase()}): ${msg}`));
      });
      child.stdin?.on("error", () => undefined);
      child.stdin?.end(JSON.stringify(conf));
    });
  }

  /** A plugin's config as libcni hands it over: name and version of the list, prevResult, runtimeConfig for its capabilities. */
  private pluginConf(list: NetConfList, plugin: Conf, prevResult: any, portMappings: PortMapping[]): Conf {
    const { capabilities, ...rest } = plugin;
    return {
      ...rest,
      cniVersion: list.cniVersion,
      name: list.name,
      ...(capabilities?.portMappings ? { capabilities, runtimeConfig: { portMappings } } : capabilities ? { capabilities } : {}),
      ...(prevResult ? { prevResult } : {}),
    };
  }

  /** ADD down the chain; a plugin failing undoes the ones before it (DEL, with the result so far) before the error is thrown. */
  private async addList(list: NetConfList, id: string, netns: string, ifName: string, portMappings: PortMapping[]): Promise<any> {
    let result: any;
    for (const [i, p] of list.plugins.entries()) {
      try {
        result = await this.exec("ADD", this.pluginConf(list, p, result, portMappings), id, netns, ifName);
      } catch (e) {
        for (const q of list.plugins.slice(0, i + 1).reverse())
          await this.exec("DEL", this.pluginConf(list, q, result, portMappings), id, netns, ifName).catch(() => undefined);
        throw e;
      }
    }
    return result;
  }

  private async delList(list: NetConfList, id: string, netns: string, ifName: string, portMappings: PortMapping[], result: any): Promise<void> {
    for (const p of [...list.plugins].reverse()) await this.exec("DEL", this.pluginConf(list, p, result, portMappings), id, netns, ifName);
  }

  /**
   * Set up the sandbox's network: loopback, then the pod network on eth0. Returns the
   * pod's IPv4 address. A failed ADD is undone (DEL) before the error is thrown.
   * (bridge's DEL removes its masquerade rule only while the namespace exists: DEL before the sandbox stops.)
   */
  async add(id: string, netns: string, portMappings: PortMapping[] = []): Promise<string> {
    await this.addList(LOOPBACK, id, netns, "lo", []);
    const list = conflist(this.net);
    const result = await this.addList(list, id, netns, "eth0", portMappings);
    const cached: Cached = { list, result, portMappings, ifName: "eth0" };
    writeFileSync(this.cachePath(id), JSON.stringify(cached), { mode: 0o600 });
    const ip = (result?.ips ?? []).map((x: any) => String(x.address ?? "").split("/")[0]).find((a: string) => a.includes("."));
    if (!ip) throw new CniError(`the CNI result gives the pod no IPv4 address: ${JSON.stringify(result).slice(0, 300)}`);
    return ip;
  }

  /** The sandbox's network is still as ADD made it (CNI CHECK on every plugin, with the cached result). */
  async check(id: string, netns: string): Promise<void> {
    const c = this.cached(id);
    if (!c) throw new CniError(`no cached CNI result for ${id}`);
    for (const p of c.list.plugins) await this.exec("CHECK", this.pluginConf(c.list, p, c.result, c.portMappings), id, netns, c.ifName);
  }

  /**
   * Tear the sandbox's network down and release its address. `netns` may be "" once the
   * namespace is gone (the plugins release what they hold anyway). Safe to repeat.
   */
  async del(id: string, netns: string): Promise<void> {
    const c = this.cached(id);
    const list = c?.list ?? conflist(this.net);
    await this.delList(list, id, netns, c?.ifName ?? "eth0", c?.portMappings ?? [], c?.result);
    rmSync(this.cachePath(id), { force: true });
  }

  private cached(id: string): Cached | null {
    try {
      return JSON.parse(readFileSync(this.cachePath(id), "utf8"));
    } catch {
      return null;
    }
  }
}
