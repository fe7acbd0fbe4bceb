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
 * Kubernetes' volume also has a `token` (a serviceAccountToken projection, a bound
 * token of the pod's ServiceAccount). Kubeflare has no ServiceAccounts or bound tokens
 * yet; the `token` source comes with them (a later issue). Until then a pod talks to the
 * API anonymously, or with a token it is given some other way.
 */
import type { KObject } from "../../shared/types";
import { randomSuffix } from "./meta";

export const SERVICE_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
export const SERVICE_ACCOUNT_VOLUME_PREFIX = "kube-api-access-";
const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";

/** The projected volume's sources, as Kubernetes' TokenVolumeSource less the token (defaultMode 0644 set explicitly, as upstream does). */
export const apiAccessVolumeSource = () => ({
  defaultMode: 0o644,
  sources: [
    // { serviceAccountToken: { path: "token", expirationSeconds: 3607 } } comes with ServiceAccounts
    { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
    { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
  ],
});

/** Create-time admission of a pod (mutating, before validation). */
export const admitServiceAccount = (pod: KObject): void => {
  const spec = pod.spec;
  if (!spec || typeof spec !== "object") return;
  // static pods' mirrors are the kubelet's, left as they are
  if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
  if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || "default";
  // the v1 API's deprecated alias follows the name, as the conversion does
  spec.serviceAccount = spec.serviceAccountName;
  // the pod's choice; a ServiceAccount's own automountServiceAccountToken comes with ServiceAccounts
  if (spec.automountServiceAccountToken === false) return;

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
