/**
 * Which pod network the agent's engine attaches sandboxes to: the node's podCIDR, from
 * `--pod-cidr` (standalone boxes, tests) or else from the agent's own Node object
 * (`spec.podCIDR`, set by the control plane's node IPAM), looked at when the agent
 * registers and whenever it reads its Node again. No podCIDR: sandboxes keep the engine's
 * default network, as before. A changed podCIDR applies to sandboxes made from then on.
 */
import type { KObject } from "../../shared/types";
import type { ContainerRuntime } from "../runtime/runtime";
import { type PodNetwork, podNetwork } from "./cidr";

export interface PodNetworkOptions {
  /** --pod-cidr: wins over the Node's spec.podCIDR */
  podCIDR?: string;
  /** the Linux bridge (default kf0) and Docker network name (default kubeflare) */
  bridge?: string;
  networkName?: string;
  /** the agent's data dir: CNI's state goes in <dataDir>/cni */
  dataDir: string;
}

export class PodNetworkSetup {
  private current: PodNetwork | undefined;
  private failed = "";

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly o: PodNetworkOptions,
    private readonly log: (msg: string) => void,
  ) {}

  /** the pod network in use, once there is one */
  get network(): PodNetwork | undefined {
    return this.current;
  }

  /** Apply the podCIDR the options or this Node give, if it differs from the one in use. Never throws. */
  async fromNode(node: KObject | null | undefined): Promise<void> {
    const cidr = this.o.podCIDR ?? node?.spec?.podCIDR;
    if (!cidr || cidr === this.current?.subnet) return;
    try {
      const net = podNetwork(cidr, { bridge: this.o.bridge, name: this.o.networkName, cniDataDir: `${this.o.dataDir}/cni` });
      if (net.subnet === this.current?.subnet) return;
      await this.runtime.setPodNetwork(net);
      this.current = net;
      this.failed = "";
      this.log(`pod network: ${net.subnet} on bridge ${net.bridge} (gateway ${net.gateway})`);
    } catch (e) {
      // said once per distinct failure, tried again on the next look at the Node
      const msg = `pod network for podCIDR ${cidr} not set up: ${(e as Error).message}`;
      if (msg !== this.failed) this.log(msg);
      this.failed = msg;
    }
  }
}
