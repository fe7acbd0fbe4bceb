/**
 * The composition root: store, resource layer, work queue, controller manager and HTTP
 * app, wired the same way for the Worker (workers/index.ts), the Node all-in-one
 * (node/server.ts) and the in-process test control plane (test/controlplane.ts). What
 * differs between runtimes is passed in: the database client, the queue, the clock,
 * whether the store wakes watchers in this process, and the controllers to run.
 */
import type { Client } from "@libsql/client";
import { DEFAULT_NETWORK, type NetworkConfig } from "../shared/net/cidr";
import type { ObjectKey } from "../shared/types";
import { type AppOptions, createApp } from "./api/app";
import { type Authenticator, anyOf } from "./api/auth";
import { type ControllerConfig, DEFAULT_CONFIG } from "./controllers/context";
import type { ApiMetrics } from "./api/metrics";
import { type Controller, type ControllerMetrics, ControllerManager, type SubrequestBudget } from "./controllers/manager";
import type { WorkQueue } from "./queue";
import { Registry, type RegistryOptions } from "./registry/registry";
import { Store } from "./store/store";

/**
 * What a control plane reports about itself: request metrics (workers/api/metrics.ts)
 * and the controllers' queues and reconciles (workers/controllers/manager.ts). The
 * runtime passes the implementation: on Node, prom-client's (node/metrics.ts), served
 * at /metrics; on the Worker none (`noMetrics`), and /metrics answers 404 there, since
 * an isolate's counters would cover only the requests that isolate happened to serve.
 * Nothing here imports a metrics library, so the Worker bundle carries none.
 */
export interface ControlPlaneMetrics extends ApiMetrics, ControllerMetrics {}

/** Keeps nothing (the Worker). */
export const noMetrics: ControlPlaneMetrics = { request: () => {}, longRunning: () => {}, queue: () => {}, reconciled: () => {}, schedulingAttempt: () => {} };

export interface ControlPlaneOptions<Q extends WorkQueue> {
  /** the libSQL client: embedded file on Node, Hrana over HTTP on Workers */
  client: Client;
  /**
   * Wake this process's watchers on commit (Node: one long-lived process). On Workers
   * every request builds its own store, so watches poll instead.
   */
  notifyListeners?: boolean;
  /** the work queue; given a function, it is called with the manager's dispatch (an in-process queue) */
  queue: Q | ((dispatch: (keys: ObjectKey[]) => Promise<void>) => Q);
  controllers: Controller[];
  config?: Partial<ControllerConfig>;
  now?: () => Date;
  log?: (msg: string) => void;
  registry?: Omit<RegistryOptions, "store" | "queue" | "now" | "defaultTolerationSeconds" | "serviceCIDR">;
  /** the cluster and service CIDRs (default 10.42.0.0/16 and 10.43.0.0/16), checked by the caller (networkConfigErrors) */
  network?: Partial<NetworkConfig>;
  /** default: noMetrics */
  metrics?: ControlPlaneMetrics;
  /** the invocation's subrequest budget (Workers); none on Node */
  budget?: SubrequestBudget;
}

export interface ControlPlane<Q extends WorkQueue> {
  metrics: ControlPlaneMetrics;
  store: Store;
  registry: Registry;
  manager: ControllerManager;
  queue: Q;
}

/** Store, registry, queue and controller manager, wired together. */
export const composeControlPlane = <Q extends WorkQueue>(o: ControlPlaneOptions<Q>): ControlPlane<Q> => {
  const store = new Store(o.client, o.notifyListeners === false ? { notifyListeners: false } : undefined);
  let manager: ControllerManager | undefined;
  const queue = typeof o.queue === "function" ? o.queue((keys) => manager!.dispatch(keys)) : o.queue;
  const network = { ...DEFAULT_NETWORK, ...o.network };
  const registry = new Registry({
    ...o.registry,
    store,
    queue,
    now: o.now,
    defaultTolerationSeconds: o.config?.defaultTolerationSeconds ?? DEFAULT_CONFIG.defaultTolerationSeconds,
    serviceCIDR: network.serviceCIDR,
  });
  const config = { ...o.config, clusterCIDR: network.clusterCIDR };
  const metrics = o.metrics ?? noMetrics;
  manager = new ControllerManager({ registry, queue, controllers: o.controllers, now: o.now, config, log: o.log, metrics, budget: o.budget });
  // writes no controller needs send no work
  registry.writeFilter = (change) => manager!.wants(change);
  return { metrics, store, registry, manager, queue };
};

/**
 * The Kubernetes-shaped HTTP API of a control plane: bearer tokens (`tokens`: the
 * admin's, viewers', a token file's) and node credentials, and a readiness check that
 * reaches the database.
 */
export const composeApp = (cp: ControlPlane<WorkQueue>, o: { tokens: Authenticator } & Omit<AppOptions, "registry" | "authenticate" | "ready" | "metrics">) =>
  createApp({
    ...o,
    registry: cp.registry,
    metrics: cp.metrics,
    authenticate: cp.registry.auth.authenticate(anyOf(o.tokens, (t) => cp.registry.nodes.authenticate(t))),
    ready: async () => {
      await cp.store.client.execute("SELECT 1");
      return true;
    },
  });
