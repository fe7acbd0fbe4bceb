/** autoscaling/v1: Scale, the body of the scale subresource of Deployments, ReplicaSets and ReplicationControllers; autoscaling/v2: HorizontalPodAutoscaler. */
import { atomic, atomicMap, type Field, gvk, int32, int64, listOf, object, oneOf, opt, req, string } from "./dsl";
import { condition, conditionsField, LabelSelector, ObjectMeta, Quantity, Time } from "./meta";

export const ScaleSpec = object("io.k8s.api.autoscaling.v1.ScaleSpec", "The desired size of a scalable resource.", {
  replicas: opt(int32, "Desired number of pods; at least 0."),
});

export const ScaleStatus = object("io.k8s.api.autoscaling.v1.ScaleStatus", "The observed size of a scalable resource.", {
  replicas: req(int32, "Number of pods that exist."),
  selector: opt(string, "Label selector of the pods, in the text form kubectl get -l takes."),
});

export const Scale = object(
  "io.k8s.api.autoscaling.v1.Scale",
  "The replica count of a Deployment, ReplicaSet or ReplicationController, read and written through its scale subresource (kubectl scale).",
  {
    apiVersion: opt(string, "API version of the object: autoscaling/v1."),
    kind: opt(string, "Kind of the object: Scale."),
    metadata: opt(ObjectMeta, "Metadata of the scaled object: its name, namespace, uid and resourceVersion."),
    spec: opt(ScaleSpec, "The desired number of pods."),
    status: opt(ScaleStatus, "The observed number of pods."),
  },
  gvk("autoscaling", "v1", "Scale"),
);

// ---------------------------------------------------------------- autoscaling/v2 HorizontalPodAutoscaler

export const METRIC_SOURCE_TYPES = ["ContainerResource", "External", "Object", "Pods", "Resource"] as const;
export const METRIC_TARGET_TYPES = ["AverageValue", "Utilization", "Value"] as const;
export const SCALING_POLICY_TYPES = ["Percent", "Pods"] as const;
export const SCALING_POLICY_SELECTS = ["Disabled", "Max", "Min"] as const;

export const CrossVersionObjectReference = object(
  "io.k8s.api.autoscaling.v2.CrossVersionObjectReference",
  "The object an autoscaler scales or reads a metric of: its kind, name and API version.",
  {
    apiVersion: opt(string, "API version of the referent, e.g. apps/v1."),
    kind: req(string, "Kind of the referent, e.g. Deployment."),
    name: req(string, "Name of the referent, in the autoscaler's namespace."),
  },
  atomicMap,
);

export const MetricTarget = object("io.k8s.api.autoscaling.v2.MetricTarget", "The value a metric is kept at.", {
  type: req(oneOf(METRIC_TARGET_TYPES, { check: false }), "Utilization (percent of the pods' requests), Value or AverageValue (per pod)."),
  value: opt(Quantity, "The target value of the metric (type Value)."),
  averageValue: opt(Quantity, "The target value of the metric averaged over the pods (type AverageValue)."),
  averageUtilization: opt(
    int32,
    "The target average of the resource as a percentage of the pods' requests (type Utilization; Resource and ContainerResource metrics).",
  ),
});

export const MetricValueStatus = object("io.k8s.api.autoscaling.v2.MetricValueStatus", "The current value of a metric.", {
  value: opt(Quantity, "The current value."),
  averageValue: opt(Quantity, "The current value averaged over the pods."),
  averageUtilization: opt(int32, "The current average as a percentage of the pods' requests."),
});

export const MetricIdentifier = object("io.k8s.api.autoscaling.v2.MetricIdentifier", "A metric by name and, optionally, a label selector.", {
  name: req(string, "The metric's name."),
  selector: opt(LabelSelector, "Labels that narrow the metric's series down."),
});

export const ResourceMetricSource = object(
  "io.k8s.api.autoscaling.v2.ResourceMetricSource",
  "A resource of the pods (cpu, memory) as metrics.k8s.io reports it, summed over each pod's containers.",
  {
    name: req(string, "The resource: cpu or memory."),
    target: req(MetricTarget, "The value to keep the resource at."),
  },
);

export const ContainerResourceMetricSource = object(
  "io.k8s.api.autoscaling.v2.ContainerResourceMetricSource",
  "A resource (cpu, memory) of one container of each pod, as metrics.k8s.io reports it.",
  {
    name: req(string, "The resource: cpu or memory."),
    container: req(string, "The container whose usage counts."),
    target: req(MetricTarget, "The value to keep the resource at."),
  },
);

export const PodsMetricSource = object("io.k8s.api.autoscaling.v2.PodsMetricSource", "A custom metric of each pod, averaged (custom.metrics.k8s.io).", {
  metric: req(MetricIdentifier, "The metric."),
  target: req(MetricTarget, "The value to keep it at (AverageValue)."),
});

export const ObjectMetricSource = object("io.k8s.api.autoscaling.v2.ObjectMetricSource", "A custom metric of one object (custom.metrics.k8s.io).", {
  describedObject: req(CrossVersionObjectReference, "The object the metric is about."),
  metric: req(MetricIdentifier, "The metric."),
  target: req(MetricTarget, "The value to keep it at."),
});

export const ExternalMetricSource = object("io.k8s.api.autoscaling.v2.ExternalMetricSource", "A metric from outside the cluster (external.metrics.k8s.io).", {
  metric: req(MetricIdentifier, "The metric."),
  target: req(MetricTarget, "The value to keep it at."),
});

export const MetricSpec = object("io.k8s.api.autoscaling.v2.MetricSpec", "One metric the autoscaler scales on: its type and the source of that type.", {
  type: req(oneOf(METRIC_SOURCE_TYPES, { check: false }), "ContainerResource, External, Object, Pods or Resource."),
  resource: opt(ResourceMetricSource, "The pods' resource (type Resource)."),
  containerResource: opt(ContainerResourceMetricSource, "One container's resource (type ContainerResource)."),
  pods: opt(PodsMetricSource, "A custom metric per pod (type Pods)."),
  object: opt(ObjectMetricSource, "A custom metric of an object (type Object)."),
  external: opt(ExternalMetricSource, "A metric from outside the cluster (type External)."),
});

export const HPAScalingPolicy = object("io.k8s.api.autoscaling.v2.HPAScalingPolicy", "How much the replicas may change within a period.", {
  type: req(oneOf(SCALING_POLICY_TYPES, { check: false }), "Pods (a number of pods) or Percent (of the replicas at the start of the period)."),
  value: req(int32, "The change allowed; greater than 0."),
  periodSeconds: req(int32, "The period the change is measured over (1 to 1800 s)."),
});

export const HPAScalingRules = object(
  "io.k8s.api.autoscaling.v2.HPAScalingRules",
  "How one direction of scaling is paced: a stabilization window and rate policies.",
  {
    stabilizationWindowSeconds: opt(
      int32,
      "Recommendations of this many past seconds are considered: scaling down takes the highest, scaling up the lowest (0 to 3600; defaults: 300 down, 0 up).",
    ),
    selectPolicy: opt(
      oneOf(SCALING_POLICY_SELECTS, { check: false }),
      "Which policy applies: Max (the largest change, the default), Min, or Disabled (no scaling this way).",
    ),
    policies: opt(listOf(HPAScalingPolicy), "The rate policies (defaults: up 4 pods or 100 % per 15 s; down 100 % per 15 s).", atomic),
  },
);

export const HorizontalPodAutoscalerBehavior = object(
  "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerBehavior",
  "How fast the autoscaler scales up and down.",
  {
    scaleUp: opt(HPAScalingRules, "Rules for scaling up."),
    scaleDown: opt(HPAScalingRules, "Rules for scaling down."),
  },
);

export const HorizontalPodAutoscalerSpec = object(
  "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
  "What to scale, between which bounds, on which metrics.",
  {
    scaleTargetRef: req(
      CrossVersionObjectReference,
      "The object to scale, through its scale subresource (a Deployment, ReplicaSet, ReplicationController, StatefulSet).",
    ),
    minReplicas: opt(int32, "The fewest replicas (default 1)."),
    maxReplicas: req(int32, "The most replicas; at least minReplicas."),
    metrics: opt(
      listOf(MetricSpec),
      "The metrics to scale on; the highest replica count any of them asks for wins (default: cpu at 80 % utilization).",
      atomic,
    ),
    behavior: opt(HorizontalPodAutoscalerBehavior, "How fast to scale up and down (defaults as Kubernetes when given)."),
  },
);

const metricStatus = (name: string, description: string, fields: Record<string, Field>) =>
  object(`io.k8s.api.autoscaling.v2.${name}`, description, { ...fields, current: req(MetricValueStatus, "The current value.") });

export const MetricStatus = object("io.k8s.api.autoscaling.v2.MetricStatus", "The last value read of one metric.", {
  type: req(oneOf(METRIC_SOURCE_TYPES, { check: false }), "The metric's type."),
  resource: opt(metricStatus("ResourceMetricStatus", "A resource metric's current value.", { name: req(string, "The resource.") }), "Type Resource."),
  containerResource: opt(
    metricStatus("ContainerResourceMetricStatus", "A container resource metric's current value.", {
      name: req(string, "The resource."),
      container: req(string, "The container."),
    }),
    "Type ContainerResource.",
  ),
  pods: opt(metricStatus("PodsMetricStatus", "A pods metric's current value.", { metric: req(MetricIdentifier, "The metric.") }), "Type Pods."),
  object: opt(
    metricStatus("ObjectMetricStatus", "An object metric's current value.", {
      metric: req(MetricIdentifier, "The metric."),
      describedObject: req(CrossVersionObjectReference, "The object."),
    }),
    "Type Object.",
  ),
  external: opt(
    metricStatus("ExternalMetricStatus", "An external metric's current value.", { metric: req(MetricIdentifier, "The metric.") }),
    "Type External.",
  ),
});

export const HorizontalPodAutoscalerCondition = condition("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerCondition", "horizontal pod autoscaler", [
  "lastTransitionTime",
]);

export const HorizontalPodAutoscalerStatus = object("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus", "What the autoscaler last saw and did.", {
  observedGeneration: opt(int64, "The generation last acted on."),
  lastScaleTime: opt(Time, "When the autoscaler last changed the replica count."),
  currentReplicas: opt(int32, "The target's replicas when last read."),
  desiredReplicas: req(int32, "The replicas the autoscaler wants."),
  currentMetrics: opt(listOf(MetricStatus), "The last values read of the metrics.", atomic),
  conditions: conditionsField(HorizontalPodAutoscalerCondition, "AbleToScale, ScalingActive and ScalingLimited."),
});

export const HorizontalPodAutoscaler = object(
  "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
  "Scales a workload's replicas between bounds to keep metrics (CPU and memory of its pods) at a target.",
  {
    apiVersion: opt(string, "API version of the object: autoscaling/v2."),
    kind: opt(string, "Kind of the object: HorizontalPodAutoscaler."),
    metadata: opt(ObjectMeta, "Standard object metadata."),
    spec: opt(HorizontalPodAutoscalerSpec, "What to scale and how."),
    status: opt(HorizontalPodAutoscalerStatus, "The autoscaler's last observations."),
  },
  gvk("autoscaling", "v2", "HorizontalPodAutoscaler"),
);
