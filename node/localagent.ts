import { kubeProxySetting, type KubeProxySettings } from "../agent/proxy/service-proxy";
import type { NetworkConfig } from "../shared/net/cidr";
import { localClusterDNS } from "./server";

/** What `npm start`'s flags say of the local agent's Service networking (--cluster-dns as dnsFlags checked it). */
export interface LocalAgentNetworkFlags {
  clusterDNS?: string;
  noKubeProxy?: boolean;
  noNetworkPolicy?: boolean;
}

/**
 * The local agent's cluster DNS address, kube-proxy and NetworkPolicy settings for the
 * server's checked network: pods resolve through the 10th address of --service-cidr
 * (unless --cluster-dns), kube-proxy's `kubernetes` Service relay and its drop of
 * unallocated ClusterIPs cover --service-cidr rather than the default 10.43/16, and
 * NetworkPolicies are enforced where kube-proxy can run (root, nft).
 */
export const localAgentNetwork = (
  flags: LocalAgentNetworkFlags,
  network: NetworkConfig,
  log?: (m: string) => void,
): { clusterDNS: string; kubeProxy: KubeProxySettings | undefined; networkPolicy?: Record<string, never> } => {
  const kubeProxy = kubeProxySetting(!flags.noKubeProxy, { serviceCIDR: network.serviceCIDR }, log);
  return {
    clusterDNS: localClusterDNS({ clusterDNS: flags.clusterDNS, serviceCIDR: network.serviceCIDR }),
    kubeProxy,
    ...(kubeProxy && !flags.noNetworkPolicy ? { networkPolicy: {} } : {}),
  };
};
