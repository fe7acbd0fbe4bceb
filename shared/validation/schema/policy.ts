/** policy/v1: PodDisruptionBudget (the Eviction body of pods/eviction is read by workers/registry/eviction.ts). */
import { gvk, int32, int64, mapOf, object, oneOf, opt, string } from "./dsl";
import { Condition, conditionsField, IntOrString, LabelSelector, ObjectMeta, Time } from "./meta";

export const UNHEALTHY_POD_EVICTION_POLICIES = ["IfHealthyBudget", "AlwaysAllow"] as const;

export const PodDisruptionBudgetSpec = object(
  "io.k8s.api.policy.v1.PodDisruptionBudgetSpec",
  "How many of a set of pods must stay up through voluntary disruptions (evictions, drains).",
  {
    minAvailable: opt(IntOrString, "Pods that must stay available after an eviction, as a number or a percentage.", { "x-kubernetes-int-or-string": true }),
    maxUnavailable: opt(IntOrString, "Pods that may be unavailable after an eviction, as a number or a percentage; not with minAvailable.", {
      "x-kubernetes-int-or-string": true,
    }),
    selector: opt(LabelSelector, "The pods the budget covers; an empty selector covers every pod of the namespace."),
    unhealthyPodEvictionPolicy: opt(
      oneOf(UNHEALTHY_POD_EVICTION_POLICIES),
      "IfHealthyBudget (the default): a not-ready pod may be evicted only while the budget's healthy pods suffice; AlwaysAllow: not-ready pods may always be evicted.",
    ),
  },
);

export const PodDisruptionBudgetStatus = object("io.k8s.api.policy.v1.PodDisruptionBudgetStatus", "What the disruption controller observed for a budget.", {
  observedGeneration: opt(int64, "The metadata.generation last acted on."),
  disruptedPods: opt(mapOf(Time), "Pods evicted whose deletion the controller has not yet seen, with the time of their eviction."),
  disruptionsAllowed: opt(int32, "Evictions allowed now."),
  currentHealthy: opt(int32, "Healthy (ready) pods covered."),
  desiredHealthy: opt(int32, "Healthy pods needed."),
  expectedPods: opt(int32, "Pods the budget counts on (the replicas of their controllers, or the pods covered)."),
  conditions: conditionsField(Condition, "DisruptionAllowed: whether an eviction would be allowed now (SufficientPods, InsufficientPods)."),
});

export const PodDisruptionBudget = object(
  "io.k8s.api.policy.v1.PodDisruptionBudget",
  "Limits how many pods of a set voluntary disruptions (evictions, `kubectl drain`) may take down at once.",
  {
    apiVersion: opt(string, "API version of the object: policy/v1."),
    kind: opt(string, "Kind of the object: PodDisruptionBudget."),
    metadata: opt(ObjectMeta, "Standard object metadata."),
    spec: opt(PodDisruptionBudgetSpec, "The budget."),
    status: opt(PodDisruptionBudgetStatus, "The observed state."),
  },
  gvk("policy", "v1", "PodDisruptionBudget"),
);
