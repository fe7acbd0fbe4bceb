/**
 * NetworkPolicies (networking.k8s.io/v1): which traffic the selected pods may receive
 * and send, enforced by every agent on its own node (agent/netpol). `kubectl get netpol`
 * columns: NAME, POD-SELECTOR, AGE (kubectl's FormatLabelSelector of spec.podSelector).
 */
import { defineKind } from "./kind";
import { AGE, age, col, NAME, selectorString } from "./printing";

export const networkpolicies = defineKind({
  info: {
    resource: "networkpolicies",
    singular: "networkpolicy",
    kind: "NetworkPolicy",
    group: "networking.k8s.io",
    version: "v1",
    namespaced: true,
    shortNames: ["netpol"],
  },
  printer: {
    columns: [NAME, col("Pod-Selector", "Pods this policy applies to; empty: every pod of the namespace."), AGE],
    cells: (o, now) => [o.metadata.name, selectorString(o.spec?.podSelector ?? {}), age(o, now)],
  },
  strategy: {
    tracksGeneration: true,
  },
});
