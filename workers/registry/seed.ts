/**
 * What every cluster starts with: the system namespaces, the API's own `kubernetes`
 * Service (the first address of the service CIDR) and its endpoints, and the cluster
 * DNS Service `kube-dns` (the tenth address, as k3s has it; the agents answer DNS on
 * every node, so it selects no pods).
 */
import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, bootstrapClusterRoles } from "./rbac/bootstrap";
import { jsonEqual } from "../../shared/json";
import { nthAddress, parseCidr } from "../../shared/net/cidr";
import { ApiError } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { resourceByName } from "./kinds";
import type { RegistryCore } from "./types";
import { SYSTEM_USER } from "./user";

const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

/** Where the API server can be reached from pods (Node: `--advertise-address` and the HTTPS port). */
export interface ApiEndpoint {
  ip: string;
  port: number;
}

export interface SeedOptions {
  /**
   * The `kubernetes` Service's endpoint, written over what is stored. Without one, an
   * Endpoints object with no address is made if there is none (the Worker: the agents
   * relay the Service's port 443 to the Worker's URL themselves).
   */
  apiEndpoint?: ApiEndpoint;
}

const kubernetesService = (clusterIP: string): KObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "kubernetes", labels: { component: "apiserver", provider: "kubernetes" } },
  spec: { clusterIP, ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }] },
});

/** k3s' coredns Service, less the selector: DNS is served by every agent, node-locally. */
const kubeDnsService = (clusterIP: string): KObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: {
    name: "kube-dns",
    labels: { "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS" },
    annotations: { "prometheus.io/port": "9153", "prometheus.io/scrape": "true" },
  },
  spec: {
    clusterIP,
    ports: [
      { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
      { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
      { name: "metrics", port: 9153, protocol: "TCP", targetPort: 9153 },
    ],
  },
});

const createIfMissing = async (registry: RegistryCore, resource: string, namespace: string, obj: KObject) => {
  const info = resourceByName(resource);
  if (await registry.store.get({ resource, namespace, name: obj.metadata.name! })) return;
  try {
    await registry.create(SYSTEM_USER, info, namespace, obj);
  } catch (e) {
    if (e instanceof ApiError && e.reason === "AlreadyExists") return;
    // a concurrent start created it first (a Service's admission then finds its ClusterIP taken)
    if (e instanceof ApiError && (await registry.store.get({ resource, namespace, name: obj.metadata.name! }))) return;
    throw e;
  }
};

/** Create the object, or bring the given top-level fields of the stored one to what is wanted. */
const ensure = async (registry: RegistryCore, resource: string, namespace: string, obj: KObject, fields: string[]) => {
  const info = resourceByName(resource);
  const current = await registry.store.get({ resource, namespace, name: obj.metadata.name! });
  if (!current) return createIfMissing(registry, resource, namespace, obj);
  const labels = { ...(current.metadata.labels ?? {}), ...(obj.metadata.labels ?? {}) };
  if (jsonEqual(labels, current.metadata.labels ?? {}) && fields.every((f) => jsonEqual(current[f] ?? null, obj[f] ?? null))) return;
  const next: KObject = { ...current, metadata: { ...current.metadata, labels } };
  for (const f of fields) {
    if (obj[f] === undefined) delete next[f];
    else next[f] = obj[f];
  }
  try {
    await registry.update(SYSTEM_USER, info, namespace, obj.metadata.name!, next);
  } catch (e) {
    // another process wrote first: it wrote the same thing or will be corrected on its next start
    if (!(e instanceof ApiError && e.reason === "Conflict")) throw e;
  }
};

const createIfMissingWith = (registry: RegistryCore, resource: string, namespace: string, obj: KObject, _fields: string[]) =>
  createIfMissing(registry, resource, namespace, obj);

/**
 * The `kubernetes` Endpoints and EndpointSlice, as kube-apiserver's endpoint reconciler
 * keeps them (the Service has no selector, so the endpoints controller leaves them be).
 */
const kubernetesEndpoints = async (registry: RegistryCore, ep: ApiEndpoint | undefined) => {
  const ports = [{ name: "https", port: ep?.port ?? 6443, protocol: "TCP" }];
  // without an endpoint: an empty object if there is none yet, and what is there is left alone
  await (ep ? ensure : createIfMissingWith)(
    registry,
    "endpoints",
    "default",
    {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "kubernetes", labels: { "endpointslice.kubernetes.io/skip-mirror": "true" } },
      ...(ep ? { subsets: [{ addresses: [{ ip: ep.ip }], ports }] } : {}),
    },
    ["subsets"],
  );
  if (!ep) return;
  await ensure(
    registry,
    "endpointslices",
    "default",
    {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "kubernetes", labels: { "kubernetes.io/service-name": "kubernetes" } },
      addressType: "IPv4",
      endpoints: [{ addresses: [ep.ip], conditions: { ready: true } }],
      ports,
    },
    ["endpoints", "ports"],
  );
};

/**
 * The default StorageClass, as k3s ships its local-path one: volumes are directories
 * under the data dir of the node the first pod using the claim lands on (the agent
 * provisions them), deleted with the claim.
 */
export const LOCAL_PATH_PROVISIONER = "kubeflare.dev/local-path";
const localPathClass: KObject = {
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  metadata: { name: "local-path", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
  provisioner: LOCAL_PATH_PROVISIONER,
  reclaimPolicy: "Delete",
  volumeBindingMode: "WaitForFirstConsumer",
};

/** The default IngressClass, served by every agent's ingress proxy (as k3s ships Traefik's). */
const kubeflareIngressClass: KObject = {
  apiVersion: "networking.k8s.io/v1",
  kind: "IngressClass",
  metadata: { name: "kubeflare", annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } },
  spec: { controller: "kubeflare.dev/ingress" },
};

/** The default ClusterRoles and ClusterRoleBindings (rbac/bootstrap.ts) that are missing: one list of each, then creates. */
const seedRbac = async (registry: RegistryCore) => {
  for (const [resource, objs] of [
    ["clusterroles", bootstrapClusterRoles()],
    ["clusterrolebindings", BOOTSTRAP_CLUSTER_ROLE_BINDINGS],
  ] as const) {
    const have = new Set((await registry.store.list(resource, {})).items.map((o) => o.metadata.name));
    for (const o of objs) if (!have.has(o.metadata.name)) await createIfMissing(registry, resource, "", structuredClone(o));
  }
};

/** Create what is missing of the initial objects, and point the `kubernetes` endpoints at the API server. Idempotent. */
export const seed = async (registry: RegistryCore, o: SeedOptions = {}): Promise<void> => {
  for (const name of SYSTEM_NAMESPACES) {
    await createIfMissing(registry, "namespaces", "", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }
  const range = parseCidr(registry.serviceCIDR)!;
  // a cluster made with another service range keeps its Services (and their addresses)
  await createIfMissing(registry, "services", "default", kubernetesService(nthAddress(range, 1)!));
  await kubernetesEndpoints(registry, o.apiEndpoint);
  try {
    await createIfMissing(registry, "services", "kube-system", kubeDnsService(nthAddress(range, 10)!));
  } catch (e) {
    // the address is some other Service's (a cluster whose range changed): the cluster still starts
    if (!(e instanceof ApiError && e.reason === "Invalid")) throw e;
    console.warn(`kube-dns Service not created: ${e.message}`);
  }
  await createIfMissing(registry, "storageclasses", "", localPathClass);
  await createIfMissing(registry, "ingressclasses", "", kubeflareIngressClass);
  await seedRbac(registry);
};
