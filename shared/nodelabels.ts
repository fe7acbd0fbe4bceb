/**
 * The labels a node may set on its own Node object, as Kubernetes' NodeRestriction
 * admission decides it (plugin/pkg/admission/noderestriction, k8s.io/kubelet
 * well_known_labels.go): nothing under node-restriction.kubernetes.io, and under
 * kubernetes.io / k8s.io only the labels kubelet itself sets (hostname, os, arch,
 * zone, region, instance type) and the kubelet.kubernetes.io / node.kubernetes.io
 * namespaces. So a node can never give itself `node-role.kubernetes.io/*` or any
 * other label an admin uses to steer privileged workloads.
 *
 * Pure code: the control plane enforces it, the agent checks `join --labels` early.
 */

const KUBELET_LABELS = new Set([
  "kubernetes.io/hostname",
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "kubernetes.io/os",
  "kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/arch",
]);

const KUBELET_LABEL_DOMAINS = ["kubelet.kubernetes.io", "node.kubernetes.io"];

/** The prefix of a label key ("" when it has none). */
const prefixOf = (key: string): string => {
  const i = key.indexOf("/");
  return i < 0 ? "" : key.slice(0, i);
};

/** `prefix` is `domain` or a subdomain of it. */
const within = (prefix: string, domain: string) => prefix === domain || prefix.endsWith(`.${domain}`);

/** A label a kubelet may set on its own Node. */
export const isKubeletLabel = (key: string): boolean => KUBELET_LABELS.has(key) || KUBELET_LABEL_DOMAINS.some((d) => within(prefixOf(key), d));

/** May a node add, change or remove this label on its own Node? */
export const nodeMaySetLabel = (key: string): boolean => {
  const prefix = prefixOf(key);
  if (within(prefix, "node-restriction.kubernetes.io")) return false;
  if ((within(prefix, "kubernetes.io") || within(prefix, "k8s.io")) && !isKubeletLabel(key)) return false;
  return true;
};

/** The keys whose presence or value differs between two label maps, sorted. */
export const modifiedLabels = (a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): string[] => {
  const x = a && typeof a === "object" ? a : {};
  const y = b && typeof b === "object" ? b : {};
  const out = new Set<string>();
  for (const k of Object.keys(x)) if (!Object.hasOwn(y, k) || x[k] !== y[k]) out.add(k);
  for (const k of Object.keys(y)) if (!Object.hasOwn(x, k) || x[k] !== y[k]) out.add(k);
  return [...out].sort();
};

/** Of the labels a node changes (from `before` to `after`), those it may not change, sorted. */
export const forbiddenNodeLabels = (after: Record<string, unknown> | undefined, before?: Record<string, unknown>): string[] =>
  modifiedLabels(after, before).filter((k) => !nodeMaySetLabel(k));
