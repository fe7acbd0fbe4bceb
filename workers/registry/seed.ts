/** What every cluster starts with: the system namespaces and the API's own `kubernetes` Service. */
import { ApiError } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { resourceByName } from "./kinds";
import type { RegistryCore } from "./types";
import { SYSTEM_USER } from "./user";

const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

const KUBERNETES_SERVICE: KObject = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "kubernetes", labels: { component: "apiserver", provider: "kubernetes" } },
  spec: { clusterIP: "10.96.0.1", ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }] },
};

const createIfMissing = async (registry: RegistryCore, resource: string, namespace: string, obj: KObject) => {
  const info = resourceByName(resource);
  if (await registry.store.get({ resource, namespace, name: obj.metadata.name! })) return;
  try {
    await registry.create(SYSTEM_USER, info, namespace, obj);
  } catch (e) {
    if (!(e instanceof ApiError && e.reason === "AlreadyExists")) throw e;
  }
};

/** Create what is missing of the initial objects. Idempotent. */
export const seed = async (registry: RegistryCore): Promise<void> => {
  for (const name of SYSTEM_NAMESPACES) {
    await createIfMissing(registry, "namespaces", "", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }
  await createIfMissing(registry, "services", "default", KUBERNETES_SERVICE);
};
