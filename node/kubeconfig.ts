/** kubeconfig files for the generated credentials. */
import { chmodSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";

export interface KubeconfigOptions {
  server: string;
  token: string;
  clusterName: string;
  caPem?: string;
  userName?: string;
  namespace?: string;
  /** local development against a self-signed certificate that changes (wrangler dev) */
  insecureSkipTlsVerify?: boolean;
}

export const kubeconfigYaml = (o: KubeconfigOptions): string => {
  const user = o.userName ?? `${o.clusterName}-admin`;
  const cluster: Record<string, unknown> = { server: o.server };
  if (o.caPem) cluster["certificate-authority-data"] = Buffer.from(o.caPem).toString("base64");
  if (o.insecureSkipTlsVerify) cluster["insecure-skip-tls-verify"] = true;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: o.clusterName, cluster }],
    users: [{ name: user, user: { token: o.token } }],
    contexts: [{ name: o.clusterName, context: { cluster: o.clusterName, user, ...(o.namespace ? { namespace: o.namespace } : {}) } }],
    "current-context": o.clusterName,
    preferences: {},
  });
};

/** Write a kubeconfig readable by its owner only (it holds a token). */
export const writeKubeconfig = (path: string, text: string): void => {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
};
