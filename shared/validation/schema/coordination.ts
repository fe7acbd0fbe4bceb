/** coordination.k8s.io/v1: Lease. */
import { gvk, int32, object, opt, string } from "./dsl";
import { MicroTime, ObjectMeta } from "./meta";

export const LeaseSpec = object("io.k8s.api.coordination.v1.LeaseSpec", "Who holds a lease, for how long, and when it was last renewed.", {
  holderIdentity: opt(string, "Identity of the current holder."),
  leaseDurationSeconds: opt(int32, "Seconds the holder keeps the lease after its last renewal; others may take it over after that. Must be greater than 0."),
  acquireTime: opt(MicroTime, "When the current holder acquired the lease."),
  renewTime: opt(MicroTime, "When the holder last renewed the lease."),
  leaseTransitions: opt(int32, "How many times the lease changed holders."),
  strategy: opt(string, "Strategy for picking the leader in coordinated leader election."),
  preferredHolder: opt(string, "Holder that should take over the lease; only with a strategy."),
});

export const Lease = object(
  "io.k8s.api.coordination.v1.Lease",
  "A lock with an expiry time. Node agents keep one each in kube-node-lease as their heartbeat; controllers use them for leader election.",
  {
    apiVersion: opt(string, "API version of the object: coordination.k8s.io/v1."),
    kind: opt(string, "Kind of the object: Lease."),
    metadata: opt(ObjectMeta, "Standard object metadata: name, namespace, labels, annotations and the fields the server maintains."),
    spec: opt(LeaseSpec, "Who holds the lease and until when."),
  },
  gvk("coordination.k8s.io", "v1", "Lease"),
);
