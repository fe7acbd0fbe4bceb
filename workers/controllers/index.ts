import { deploymentController } from "./deployment";
import { endpointsController } from "./endpoints";
import { eventTtlController } from "./eventttl";
import { garbageCollector } from "./gc";
import type { Controller } from "./manager";
import { namespaceController } from "./namespace";
import { nodeLifecycleController } from "./nodelifecycle";
import { replicaSetController, replicationControllerController } from "./replicaset";
import { scheduler } from "./scheduler";

/** Every controller the control plane runs, on Workers and on Node alike. */
export const CONTROLLERS: Controller[] = [
  scheduler,
  replicaSetController,
  replicationControllerController,
  deploymentController,
  nodeLifecycleController,
  garbageCollector,
  namespaceController,
  endpointsController,
  eventTtlController,
];
