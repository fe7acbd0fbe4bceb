/** Nodes (core/v1): registered by the agents, which write their status with the object. */
import { jsonEqual } from "../../../shared/json";
import type { StatusCause } from "../../../shared/status";
import type { KObject } from "../../../shared/types";
import { AGE, age, col, NAME, none, type Printer, wide } from "./printing";
import { defineKind } from "./kind";

const nodeStatus = (n: KObject): string => {
  const ready = (n.status?.conditions ?? []).find((c: any) => c.type === "Ready");
  const parts = [ready?.status === "True" ? "Ready" : ready?.status === "False" ? "NotReady" : "Unknown"];
  if (n.spec?.unschedulable) parts.push("SchedulingDisabled");
  return parts.join(",");
};

const nodeRoles = (n: KObject): string => {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(n.metadata.labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/")) roles.add(k.slice("node-role.kubernetes.io/".length));
    else if (k === "kubernetes.io/role" && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(",") : "<none>";
};

const address = (n: KObject, type: string) => none((n.status?.addresses ?? []).find((a: any) => a.type === type)?.address);

const printer: Printer = {
  columns: [
    NAME,
    col("Status", "The status of the node"),
    col("Roles", "The roles of the node"),
    AGE,
    col("Version", "Kubelet Version reported by the node."),
    wide("Internal-IP", "List of addresses reachable to the node. Queried from cloud provider, if available."),
    wide("External-IP", "List of addresses reachable to the node. Queried from cloud provider, if available."),
    wide("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
    wide("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
    wide("Container-Runtime", "Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2)."),
  ],
  cells: (n, now) => {
    const info = n.status?.nodeInfo ?? {};
    return [
      n.metadata.name,
      nodeStatus(n),
      nodeRoles(n),
      age(n, now),
      info.kubeletVersion ?? "",
      address(n, "InternalIP"),
      address(n, "ExternalIP"),
      info.osImage || "<unknown>",
      info.kernelVersion || "<unknown>",
      info.containerRuntimeVersion || "<unknown>",
    ];
  },
};

/**
 * kube-apiserver's ValidateNodeUpdate: the pod CIDRs may go from unset to set (node
 * IPAM), and never change after.
 */
const podCIDRsSetOnce = (n: KObject, old: KObject): StatusCause[] => {
  const before: unknown[] = Array.isArray(old.spec?.podCIDRs) ? old.spec.podCIDRs : old.spec?.podCIDR ? [old.spec.podCIDR] : [];
  if (!before.length) return [];
  const after: unknown[] = Array.isArray(n.spec?.podCIDRs) ? n.spec.podCIDRs : n.spec?.podCIDR ? [n.spec.podCIDR] : [];
  if (jsonEqual(before, after) && (n.spec?.podCIDR ?? "") === (old.spec?.podCIDR ?? "")) return [];
  return [{ reason: "FieldValueForbidden", field: "spec.podCIDRs", message: 'Forbidden: node updates may not change podCIDR except from "" to valid' }];
};

export const nodes = defineKind({
  info: {
    resource: "nodes",
    singular: "node",
    kind: "Node",
    group: "",
    version: "v1",
    namespaced: false,
    shortNames: ["no"],
    subresources: ["status"],
    hasStatus: true,
  },
  printer,
  strategy: {
    fieldLabels: ["spec.unschedulable"],
    // kubelets (our agents) register nodes with their status
    statusOnMainUpdate: true,
    validateUpdate: podCIDRsSetOnce,
  },
});
