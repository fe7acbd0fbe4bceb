/** kubeconfig files for the generated credentials. */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
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

/** A kubeconfig (apiVersion v1, kind Config) with one cluster, one token user and one context, which is current. */
export const kubeconfigYaml = (o: KubeconfigOptions): string => {
  const user = o.userName ?? `${o.clusterName}-admin`;
  const cluster: Record<string, unknown> = { server: o.server };
  if (o.caPem) cluster["certificate-authority-data"] = Buffer.from(o.caPem).toString("base64");
  if (o.insecureSkipTlsVerify) cluster["insecure-skip-tls-verify"] = true;
  return stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: o.clusterName, cluster }],
      users: [{ name: user, user: { token: o.token } }],
      contexts: [{ name: o.clusterName, context: { cluster: o.clusterName, user, ...(o.namespace ? { namespace: o.namespace } : {}) } }],
      "current-context": o.clusterName,
      preferences: {},
    },
    { lineWidth: 0 },
  );
};

/** Write a kubeconfig readable by its owner only (it holds a token), creating its directory (0700) if needed. */
export const writeKubeconfig = (path: string, text: string): void => {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // narrow an existing file before the token goes in: `mode` applies only to new files
  if (existsSync(path)) chmodSync(path, 0o600);
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
};
