/**
 * Node restriction, as Kubernetes' Node authorizer and NodeRestriction admission do
 * it: a node's credential reaches its own Node and Lease, the pods bound to it (read,
 * status, deletion, log upload), the ConfigMaps and Secrets those pods use, and
 * events; nothing else.
 */
import type { ResourceInfo } from "../../shared/resources";
import { forbidden, qualifiedResource } from "../../shared/status";
import type { KObject } from "../../shared/types";
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
    case "configmaps":
    case "secrets":
      return verb === "get" && sub === "";
    case "events":
      return ["create", "update", "patch"].includes(verb);
    case "services":
    case "endpoints":
    case "endpointslices":
      return ["get", "list", "watch"].includes(verb);
    default:
      return false;
  }
};

/** Does a pod use this ConfigMap or Secret (volumes, env, envFrom)? */
const podUses = (pod: KObject, resource: string, name: string): boolean => {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  if (resource === "configmaps") {
    return (
      (pod.spec?.volumes ?? []).some((v: any) => v.configMap?.name === name || v.projected?.sources?.some((s: any) => s.configMap?.name === name)) ||
      containers.some((c: any) => (c.env ?? []).some((e: any) => e.valueFrom?.configMapKeyRef?.name === name) || (c.envFrom ?? []).some((e: any) => e.configMapRef?.name === name))
    );
  }
  return (
    (pod.spec?.volumes ?? []).some((v: any) => v.secret?.secretName === name || v.projected?.sources?.some((s: any) => s.secret?.name === name)) ||
    (pod.spec?.imagePullSecrets ?? []).some((s: any) => s.name === name) ||
    containers.some((c: any) => (c.env ?? []).some((e: any) => e.valueFrom?.secretKeyRef?.name === name) || (c.envFrom ?? []).some((e: any) => e.secretRef?.name === name))
  );
};

export interface NodeCheck {
  user: User;
  verb: Verb;
  info: ResourceInfo;
  namespace: string;
  name?: string;
  sub?: string;
  /** the object as stored (get, update, patch, delete) */
  current?: KObject | null;
  /** the object being written (create, update) */
  incoming?: KObject;
  fieldSelector?: string;
  /** the pods bound to this node in the namespace (ConfigMap/Secret reads) */
  podsOnNode?: () => Promise<KObject[]>;
}

/** Throws 403 unless the node may do this to this object. */
export const checkNode = async (c: NodeCheck): Promise<void> => {
  const { user, verb, info, namespace, name, sub = "" } = c;
  const me = user.nodeName ?? "";
  const no = (why: string) => deny(user, verb, info, namespace, name, sub, why);
  if (!nodeMayAttempt(verb, info, sub)) throw no("the node authorizer does not allow this");
  switch (info.resource) {
    case "nodes":
      if (["create", "update", "patch"].includes(verb) && (name ?? c.incoming?.metadata.name) !== me) throw no(`node "${me}" may only change its own Node object`);
      return;
    case "leases":
      if (namespace !== "kube-node-lease" || (name ?? c.incoming?.metadata.name) !== me) throw no(`node "${me}" may only use its own Lease in kube-node-lease`);
      return;
    case "pods":
      if (verb === "list" || verb === "watch") {
        const sel = (c.fieldSelector ?? "").split(",").map((s) => s.trim());
        if (!sel.includes(`spec.nodeName=${me}`) && !sel.includes(`spec.nodeName==${me}`)) throw no(`node "${me}" may only list pods with fieldSelector spec.nodeName=${me}`);
        return;
      }
      if (c.current && c.current.spec?.nodeName !== me) throw no(`no relationship found between node '${me}' and this object`);
      return;
    case "configmaps":
    case "secrets": {
      const pods = (await c.podsOnNode?.()) ?? [];
      if (!pods.some((p) => podUses(p, info.resource, name ?? ""))) throw no(`no relationship found between node '${me}' and this object`);
      return;
    }
    default:
      return;
  }
};
