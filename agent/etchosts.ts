/**
 * kubelet's managed /etc/hosts: every container of a pod on the pod network gets one
 * file with localhost, the pod's own address under its host name (and, with
 * spec.subdomain, its `<hostname>.<subdomain>.<ns>.svc.<domain>` name), then the
 * pod's hostAliases. Without it a containerd pod's own name resolves nowhere
 * (`hostname -i` fails), and hostAliases do nothing on either engine. Pods on the
 * host's network keep the engine's file, as before.
 */
import type { KObject } from "../shared/types";
import { writePodFile } from "./podfile";
import type { Mount } from "./runtime/runtime";
import { podHostname } from "./sandbox";

/** The file's text, line for line as kubelet writes it (managedHostsFileContent). */
export const hostsFileContent = (pod: KObject, podIPs: string[], clusterDomain = "cluster.local"): string => {
  const name = podHostname(pod);
  const sub = pod.spec?.subdomain ? `${pod.spec.subdomain}.${pod.metadata.namespace}.svc.${clusterDomain}` : "";
  let text =
    "# Kubernetes-managed hosts file.\n" +
    "127.0.0.1\tlocalhost\n" +
    "::1\tlocalhost ip6-localhost ip6-loopback\n" +
    "fe00::0\tip6-localnet\n" +
    "fe00::0\tip6-mcastprefix\n" +
    "fe00::1\tip6-allnodes\n" +
    "fe00::2\tip6-allrouters\n";
  for (const ip of podIPs) text += sub ? `${ip}\t${name}.${sub}\t${name}\n` : `${ip}\t${name}\n`;
  const aliases: any[] = pod.spec?.hostAliases ?? [];
  if (aliases.length) {
    text += "\n# Entries added by HostAliases.\n";
    for (const a of aliases) if (a?.ip && a.hostnames?.length) text += `${a.ip}\t${a.hostnames.join("\t")}\n`;
  }
  return text;
};

/** The pod's hosts file, written under `<dataDir>/pods/<uid>/` (kept with the pod's other files), as a mount at /etc/hosts. */
export const hostsMount = (dataDir: string, pod: KObject, podIP: string, clusterDomain?: string): Mount => {
  const path = writePodFile(dataDir, pod.metadata.uid!, "etc-hosts", hostsFileContent(pod, [podIP], clusterDomain));
  return { hostPath: path, containerPath: "/etc/hosts", readOnly: false };
};
