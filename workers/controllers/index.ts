import { crdController } from "./crd";
import { clusterRoleAggregationController } from "./clusterroleaggregation";
import { cronJobController } from "./cronjob";
import { daemonSetController } from "./daemonset";
import { deploymentController } from "./deployment";
import { disruptionController } from "./disruption";
import { endpointsController } from "./endpoints";
import { eventTtlController } from "./eventttl";
import { garbageCollector } from "./gc";
import { horizontalController } from "./horizontal";
import { jobController } from "./job";
import type { Controller } from "./manager";
import { namespaceController } from "./namespace";
import { nodeIpamController } from "./nodeipam";
import { nodeLifecycleController } from "./nodelifecycle";
import { rootCACertPublisher } from "./rootcacert";
import { replicaSetController, replicationControllerController } from "./replicaset";
import { scheduler } from "./scheduler";
import { serviceAccountController } from "./serviceaccounts";
import { serviceLBController } from "./servicelb";
import { statefulSetController } from "./statefulset";
import { persistentVolumeController } from "./persistentvolume";
import { resourceQuotaController } from "./resourcequota";
import { ingressStatusController } from "./ingress";

/** Every controller the control plane runs, on Workers and on Node alike. */
export const CONTROLLERS: Controller[] = [
  scheduler,
  replicaSetController,
  replicationControllerController,
  deploymentController,
  nodeLifecycleController,
  nodeIpamController,
  garbageCollector,
  namespaceController,
  endpointsController,
  serviceLBController,
  eventTtlController,
  rootCACertPublisher,
  serviceAccountController,
  jobController,
  cronJobController,
  daemonSetController,
  disruptionController,
  statefulSetController,
  persistentVolumeController,
  crdController,
  horizontalController,
  ingressStatusController,
  clusterRoleAggregationController,
  resourceQuotaController,
];
