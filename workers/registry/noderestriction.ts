/**
 * Node restriction, as Kubernetes' Node authorizer and NodeRestriction admission do
 * it: a node's credential reaches its own Node and Lease, the pods bound to it (read,
 * status, deletion, log upload), the ConfigMaps, Secrets and PersistentVolumeClaims
 * those pods use (and the volumes bound to those claims, read-only), the volumes it
 * provisions (affinity to it alone: create, update, delete), StorageClasses (read),
 * Ingresses and IngressClasses (read, for its ingress proxy) and the TLS Secrets named
 * in spec.tls of an Ingress that Kubeflare's ingress controller serves (get, or a
 * list/watch of that one Secret by name, as kubelet watches its pods' Secrets), and events; and, for its network-policy agent (agent/netpol), what kube-router's
 * or Calico's policy agent reads cluster-wide: NetworkPolicies, Namespaces and Pods (get/list/watch; a get of
 * another node's pod still needs a relationship, writes to pods stay limited to its own); nothing else. It may not give its Node labels that steer workloads
 * (node-role.kubernetes.io/*, node-restriction.kubernetes.io/*, ...) nor change its
 * taints or its pod CIDRs (Kubeflare's addition: node-ipam hands those out). The target is checked before the request's body is read or validated.
 */
import { ingressServedBy } from "../../shared/ingressclass";
import { forbiddenNodeLabels } from "../../shared/nodelabels";
import type { ResourceInfo } from "../../shared/resources";
import { ApiError, forbidden, qualifiedResource } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { jsonEqual } from "../../shared/json";
import type { User, Verb } from "./user";

const deny = (user: User, verb: Verb, info: ResourceInfo, namespace: string, name: string | undefined, sub: string, why: string) => {
  const res = qualifiedResource(info.resource, info.group) + (sub ? `/${sub}` : "");
  return forbidden(
    `${res}${name ? ` "${name}"` : ""} is forbidden: User "${user.name}" cannot ${verb} resource "${info.resource}${sub ? `/${sub}` : ""}" in API group "${info.group}"${
      namespace ? ` in the namespace "${namespace}"` : " at the cluster scope"
    }: ${why}`,
  );
};

/** The coarse rule: may a node attempt this at all? (Object checks follow.) */
export const nodeMayAttempt = (verb: Verb, info: ResourceInfo, sub: string): boolean => {
  switch (info.resource) {
    case "nodes":
      return ["get", "list", "watch", "create", "update", "patch"].includes(verb);
    case "leases":
      return ["get", "create", "update", "patch"].includes(verb);
    case "pods":
      if (sub === "status") return ["get", "update", "patch"].includes(verb);
      if (sub === "log") return verb === "create";
      return sub === "" && ["get", "list", "watch", "delete"].includes(verb);
    // one by name: get, or list/watch with a metadata.name field selector (kubelet's Watch strategy)
    case "configmaps":
    case "secrets":
      return sub === "" && ["get", "list", "watch"].includes(verb);
    // bound tokens for its pods' kube-api-access volumes (the pod is checked by the TokenRequest: registry/satokens.ts)
    case "serviceaccounts":
      return verb === "create" && sub === "token";
    case "events":
      return ["create", "update", "patch"].includes(verb);
    case "services":
    case "endpoints":
    case "endpointslices":
      return ["get", "list", "watch"].includes(verb);
    case "persistentvolumeclaims":
    case "storageclasses":
      return verb === "get" && sub === "";
    // the agents' ingress proxy (agent/ingress) reads Ingresses and classes everywhere, as an ingress controller's role does
    case "ingresses":
    case "ingressclasses":
      return sub === "" && ["get", "list", "watch"].includes(verb);
    // the network-policy agent (agent/netpol) matches peers anywhere by namespace and pod labels
    case "networkpolicies":
    case "namespaces":
      return sub === "" && ["get", "list", "watch"].includes(verb);
    case "persistentvolumes":
      return sub === "" && ["get", "create", "update", "patch", "delete"].includes(verb);
    default:
      return false;
  }
};

/**
 * Is the volume reachable from this node alone: node affinity of exactly one term,
 * kubernetes.io/hostname In [node] (what the agent's local-path provisioner makes)?
 */
export const volumeOnlyOnNode = (pv: KObject | null | undefined, node: string): boolean => {
  const terms = pv?.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!Array.isArray(terms) || terms.length !== 1) return false;
  const t = terms[0] ?? {};
  const e = t.matchExpressions;
  return (
    !t.matchFields?.length &&
    Array.isArray(e) &&
    e.length === 1 &&
    e[0]?.key === "kubernetes.io/hostname" &&
    e[0]?.operator === "In" &&
    jsonEqual(e[0]?.values, [node])
  );
};

const podUsesClaim = (pod: KObject, namespace: string, claim: string) =>
  pod.metadata.namespace === namespace && (pod.spec?.volumes ?? []).some((v: any) => v?.persistentVolumeClaim?.claimName === claim);

/** Does a pod use this ConfigMap or Secret (volumes, env, envFrom)? */
const podUses = (pod: KObject, resource: string, name: string): boolean => {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  if (resource === "configmaps") {
    return (
      (pod.spec?.volumes ?? []).some((v: any) => v.configMap?.name === name || v.projected?.sources?.some((s: any) => s.configMap?.name === name)) ||
      containers.some(
        (c: any) =>
          (c.env ?? []).some((e: any) => e.valueFrom?.configMapKeyRef?.name === name) || (c.envFrom ?? []).some((e: any) => e.configMapRef?.name === name),
      )
    );
  }
  return (
    (pod.spec?.volumes ?? []).some((v: any) => v.secret?.secretName === name || v.projected?.sources?.some((s: any) => s.secret?.name === name)) ||
    (pod.spec?.imagePullSecrets ?? []).some((s: any) => s.name === name) ||
    containers.some(
      (c: any) => (c.env ?? []).some((e: any) => e.valueFrom?.secretKeyRef?.name === name) || (c.envFrom ?? []).some((e: any) => e.secretRef?.name === name),
    )
  );
};

/** Does an Ingress name this Secret for TLS? */
const ingressUsesSecret = (ing: KObject, name: string): boolean =>
  !ing.metadata.deletionTimestamp && Array.isArray(ing.spec?.tls) && ing.spec.tls.some((t: any) => t?.secretName === name);

/** Does an Ingress of Kubeflare's classes in the namespace name this Secret for TLS (the graph: ingress -> secret)? */
const ingressProxyUses = async (c: NodeCheck, name: string): Promise<boolean> => {
  const naming = ((await c.ingressesInNamespace?.()) ?? []).filter((i) => ingressUsesSecret(i, name));
  if (!naming.length) return false;
  const classes = (await c.ingressClasses?.()) ?? [];
  return naming.some((i) => ingressServedBy(i, classes));
};

export interface NodeCheck {
  user: User;
  verb: Verb;
  info: ResourceInfo;
  namespace: string;
  name?: string;
  sub?: string;
  /** the object as stored (get, update, patch, delete); null when it does not exist, undefined when not read (yet) */
  current?: KObject | null;
  /** the object being written (create, update, patch result) */
  incoming?: KObject;
  fieldSelector?: string;
  /** the pods bound to this node in the namespace (ConfigMap/Secret reads) */
  podsOnNode?: () => Promise<KObject[]>;
  /** the Ingresses of the namespace and every IngressClass (Secret reads of the ingress proxy) */
  ingressesInNamespace?: () => Promise<KObject[]>;
  ingressClasses?: () => Promise<KObject[]>;
}

/** 403 worded as kube-apiserver words an admission refusal: `nodes "x" is forbidden: <why>`. */
const refuse = (info: ResourceInfo, name: string, why: string) =>
  new ApiError(403, "Forbidden", `${qualifiedResource(info.resource, info.group)}${name ? ` "${name}"` : ""} is forbidden: ${why}`, {
    name,
    group: info.group,
    kind: info.resource,
  });

/**
 * The Node authorizer: may the node do this verb to this target? Decided from the
 * request line alone (verb, resource, namespace, name), so that a node learns nothing
 * about objects it may not touch and gets 403 before its body is read or checked. For
 * a named pod it needs the pod (`current`): its spec.nodeName is the relationship.
 * An absent pod passes here and the caller answers 404, as kube-apiserver answers a
 * node's status update or deletion of a pod that is gone (the agent relies on it).
 */
export const authorizeNodeTarget = async (c: NodeCheck): Promise<void> => {
  const { user, verb, info, namespace, name, sub = "" } = c;
  const me = user.nodeName ?? "";
  const no = (why: string) => deny(user, verb, info, namespace, name, sub, why);
  if (!nodeMayAttempt(verb, info, sub)) throw no("the node authorizer does not allow this");
  switch (info.resource) {
    case "nodes":
      if ((verb === "update" || verb === "patch") && name !== undefined && name !== me)
        throw refuse(info, name, `node "${me}" is not allowed to modify node "${name}"`);
      return;
    case "leases":
      if (namespace !== "kube-node-lease" || (name !== undefined && name !== me)) throw no(`node "${me}" may only use its own Lease in kube-node-lease`);
      return;
    case "pods":
      // every pod, read-only: the network-policy agent needs the peers' labels and addresses (as a
      // network-policy agent's ClusterRole grants list/watch pods); kubelet's own watch selects spec.nodeName
      if (verb === "list" || verb === "watch") return;
      if (c.current && c.current.spec?.nodeName !== me) throw no(`no relationship found between node '${me}' and this object`);
      return;
    case "configmaps":
    case "secrets": {
      // a list or watch names its one object in the field selector, as kube's RequestInfo takes it from there
      const target = verb === "list" || verb === "watch" ? nameFromFieldSelector(c.fieldSelector) : name;
      if (verb === "list" || verb === "watch") {
        if (!target || !namespace)
          throw no(`node "${me}" may only ${verb} ${info.resource} one at a time, with fieldSelector metadata.name=<name> in a namespace`);
      }
      // the ingress proxy: a TLS Secret named in spec.tls of an Ingress of our classes in the Secret's namespace, read or watched by name
      if (info.resource === "secrets" && target && (await ingressProxyUses(c, target))) return;
      const pods = (await c.podsOnNode?.()) ?? [];
      if (!pods.some((p) => podUses(p, info.resource, target ?? ""))) throw no(`no relationship found between node '${me}' and this object`);
      return;
    }
    case "persistentvolumeclaims": {
      // the claims of its pods (kube's graph: pod -> pvc)
      const pods = (await c.podsOnNode?.()) ?? [];
      if (!pods.some((p) => podUsesClaim(p, namespace, name ?? ""))) throw no(`no relationship found between node '${me}' and this object`);
      return;
    }
    case "persistentvolumes": {
      // what it provisioned (affinity to it alone), and for reading also the volumes bound to its pods' claims (pod -> pvc -> pv)
      if (verb === "create" || !c.current) return;
      if (volumeOnlyOnNode(c.current, me)) return;
      const ref = c.current.spec?.claimRef;
      if (verb === "get" && ref?.name) {
        const pods = (await c.podsOnNode?.()) ?? [];
        if (pods.some((p) => podUsesClaim(p, ref.namespace ?? "", ref.name))) return;
      }
      throw no(`no relationship found between node '${me}' and this object`);
    }
    default:
      return;
  }
};

/**
 * NodeRestriction admission of what a node writes: the name of the Node or Lease it
 * creates, and on its own Node the labels it may add, change or remove
 * (shared/nodelabels.ts) and its taints, which it may not change. kube-apiserver's
 * messages, word for word.
 */
export const admitNodeWrite = (c: NodeCheck): void => {
  const { user, verb, info, incoming, sub = "" } = c;
  const me = user.nodeName ?? "";
  if (!incoming) return;
  const name = c.name ?? incoming.metadata?.name ?? "";
  if (info.resource === "leases" && verb === "create" && name !== me) {
    throw deny(user, verb, info, c.namespace, name, sub, `node "${me}" may only use its own Lease in kube-node-lease`);
  }
  if (info.resource === "persistentvolumes") {
    // a node writes only the volumes it provisions: local to it alone
    if (!volumeOnlyOnNode(incoming, me))
      throw refuse(info, name, `node "${me}" may only write PersistentVolumes with a node affinity of kubernetes.io/hostname In [${me}] alone`);
    if (verb === "create" && incoming.metadata?.annotations?.["pv.kubernetes.io/provisioned-by"] !== "kubeflare.dev/local-path")
      throw refuse(info, name, `node "${me}" may only create PersistentVolumes provisioned by kubeflare.dev/local-path`);
    return;
  }
  if (info.resource !== "nodes") return;
  if (name !== me) throw refuse(info, name, `node "${me}" is not allowed to modify node "${name}"`);
  // the pod network is the control plane's to hand out (node-ipam): a node may not pick its own block
  const podCIDRs = (n: KObject | null | undefined) => [n?.spec?.podCIDR ?? "", n?.spec?.podCIDRs ?? []];
  if (sub === "" && !jsonEqual(podCIDRs(incoming), podCIDRs(verb === "create" ? null : c.current)))
    throw refuse(info, name, `node "${me}" is not allowed to set podCIDR`);
  if (verb === "create") {
    const bad = forbiddenNodeLabels(incoming.metadata?.labels);
    if (bad.length) throw refuse(info, name, `node "${me}" is not allowed to set the following labels: ${bad.join(", ")}`);
    return;
  }
  // /status writes keep metadata and spec as stored: only the main resource can change labels or taints
  if (sub !== "" || !c.current) return;
  if (!jsonEqual(incoming.spec?.taints ?? [], c.current.spec?.taints ?? [])) throw refuse(info, name, `node "${me}" is not allowed to modify taints`);
  const bad = forbiddenNodeLabels(incoming.metadata?.labels, c.current.metadata.labels);
  if (bad.length) throw refuse(info, name, `is not allowed to modify labels: ${bad.join(", ")}`);
};

/** Throws 403 unless the node may do this to this object (target, then the object written). */
export const checkNode = async (c: NodeCheck): Promise<void> => {
  await authorizeNodeTarget(c);
  admitNodeWrite(c);
};

/** The object a field selector names: `metadata.name=X` (or `==`) among its terms; undefined if none. */
export const nameFromFieldSelector = (sel: string | undefined): string | undefined => {
  for (const term of (sel ?? "").split(",")) {
    const m = /^\s*metadata\.name\s*==?\s*(\S+)\s*$/.exec(term);
    if (m) return m[1];
  }
  return undefined;
};
