/**
 * kube-apiserver's ServiceAccount admission, as far as Kubeflare has service accounts
 * (plugin/pkg/admission/serviceaccount/admission.go): a new pod runs as "default" unless
 * it names an account, and, unless `automountServiceAccountToken: false`, gets the
 * projected volume `kube-api-access-<5 random>` mounted read-only at
 * /var/run/secrets/kubernetes.io/serviceaccount in every container and init container
 * that has nothing mounted there yet. The volume holds `ca.crt` (the ConfigMap
 * kube-root-ca.crt, which the root CA publisher keeps in every namespace: the CA that
 * vouches for https://kubernetes.default.svc) and `namespace` (downward API).
 *
 * The pod's ServiceAccount must exist (403 `error looking up service account …`, as
 * kube-apiserver says), except `default`: the service account controller makes it in
 * every namespace, but on the Worker that runs after the namespace's write, so a pod
 * created at once in a new namespace would be refused; Kubeflare admits it (kube's
 * clients retry). The account's `automountServiceAccountToken: false` applies to pods
 * that don't say otherwise.
 *
 * and `token` (a serviceAccountToken projection: a token of the pod's ServiceAccount
 * bound to the pod, which the node's agent asks the TokenRequest API for and renews at
 * 80 % of its lifetime: agent/tokens.ts).
 */
import { ApiError } from "../../shared/status";
import { isDNS1123Subdomain } from "../../shared/validation/names";
import type { KObject } from "../../shared/types";
import { randomSuffix } from "./meta";

export const SERVICE_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
export const SERVICE_ACCOUNT_VOLUME_PREFIX = "kube-api-access-";
const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";

/** The projected volume's sources, as Kubernetes' TokenVolumeSource (defaultMode 0644 set explicitly, as upstream does). */
export const apiAccessVolumeSource = () => ({
  defaultMode: 0o644,
  sources: [
    // a bound token of the pod's ServiceAccount (the agent asks for it: agent/tokens.ts)
    { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
    { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
    { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
  ],
});

/**
 * Create-time admission of a pod (mutating, before validation); `lookup` reads a
 * ServiceAccount (null when there is none).
 */
export const admitServiceAccount = async (pod: KObject, lookup: (namespace: string, name: string) => Promise<KObject | null>): Promise<void> => {
  const spec = pod.spec;
  if (!spec || typeof spec !== "object") return;
  // static pods' mirrors are the kubelet's, left as they are
  if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
  if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || "default";
  // the v1 API's deprecated alias follows the name, as the conversion does
  spec.serviceAccount = spec.serviceAccountName;
  const namespace = pod.metadata.namespace ?? "default";
  const accountName = spec.serviceAccountName;
  // a malformed name is validation's to refuse (422), as kube checks existence after validation
  const valid = typeof accountName === "string" && isDNS1123Subdomain(accountName).length === 0;
  const account = valid ? await lookup(namespace, accountName) : null;
  if (valid && !account && accountName !== "default")
    throw new ApiError(
      403,
      "Forbidden",
      `pods "${pod.metadata.name ?? ""}" is forbidden: error looking up service account ${namespace}/${accountName}: serviceaccount "${accountName}" not found`,
      { name: pod.metadata.name, kind: "pods" },
    );
  // the pod's choice wins, then the account's
  if (spec.automountServiceAccountToken === false) return;
  if (spec.automountServiceAccountToken === undefined && account?.automountServiceAccountToken === false) return;

  const volumes: any[] = Array.isArray(spec.volumes) ? spec.volumes : [];
  const existing = volumes.find((v) => typeof v?.name === "string" && v.name.startsWith(SERVICE_ACCOUNT_VOLUME_PREFIX));
  const name: string = existing?.name ?? SERVICE_ACCOUNT_VOLUME_PREFIX + randomSuffix(5);
  let needed = false;
  for (const list of [spec.initContainers, spec.containers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (!c || typeof c !== "object") continue;
      const mounts: any[] = Array.isArray(c.volumeMounts) ? c.volumeMounts : [];
      // something already mounted at the path keeps it
      if (mounts.some((m) => m?.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
      c.volumeMounts = [...mounts, { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
      needed = true;
    }
  }
  if (!existing && needed) spec.volumes = [...volumes, { name, projected: apiAccessVolumeSource() }];
};
