/** autoscaling/v1: Scale, the body of the scale subresource of Deployments, ReplicaSets and ReplicationControllers. */
import { gvk, int32, object, opt, req, string } from "./dsl";
import { ObjectMeta } from "./meta";

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
