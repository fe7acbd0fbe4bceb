import { endpointsController } from "./endpoints";
import { garbageCollector } from "./gc";
import type { Controller } from "./manager";
import { namespaceController } from "./namespace";

/** Every controller the control plane runs, on Workers and on Node alike. */
export const CONTROLLERS: Controller[] = [garbageCollector, namespaceController, endpointsController];
