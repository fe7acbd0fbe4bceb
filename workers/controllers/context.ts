import { DEFAULT_CLUSTER_CIDR } from "../../shared/net/cidr";
import type { ObjectKey } from "../../shared/types";
import type { ControllerClient } from "./client";
import type { EventRecorder } from "./events";

/** Tunables shared by the controllers (defaults in DEFAULT_CONFIG). */
export interface ControllerConfig {
  /**
   * a node whose lease is older than this is unreachable (kube-controller-manager's
   * --node-monitor-grace-period: 40 s, 50 s since Kubernetes 1.32). 40 s with the agent
   * renewing every 10 s (kubelet's interval): three renewals in a row may be lost
   * (a network hiccup of 20 s and more) before the node is marked Unknown.
   */
  nodeMonitorGracePeriodMs: number;
  /**
   * tolerationSeconds of the default not-ready/unreachable tolerations added to pods
   * (kube-apiserver's --default-unreachable-toleration-seconds, 300 s). Kubeflare
   * defaults to 10 s on purpose: a dead node's pods are running elsewhere within a
   * minute (≤ 40 s grace + 10 s + the replacement's start), and a node must still have
   * been silent for 50 s before anything is evicted.
   */
  defaultTolerationSeconds: number;
  /**
   * how often the periodic resync runs, when it runs on a timer (the Node server); the
   * node lifecycle controller then schedules the lease expiries due before the next one
   * itself. Unset (Workers: the cron) schedules nothing.
   */
  resyncIntervalMs?: number;
  /** when more than this share of nodes is unreachable at once, evict nothing (the control plane is the likely culprit) */
  unhealthyZoneThreshold: number;
  /** events older than this are deleted by the resync */
  eventTtlMs: number;
  /**
   * at most this many bindings and verdicts written by one scheduling pass; the rest
   * follow in the next pass, which re-reads everything (a Worker invocation has a
   * subrequest budget, and each binding is a few store round trips)
   */
  maxSchedulingWritesPerPass: number;
  /** the pod network, a /24 of it per node (node-ipam) */
  clusterCIDR: string;
  /**
   * A second source of node liveness besides Leases: when each node was last seen (ms
   * since the epoch), e.g. the Worker's watch hub heartbeats. Node lifecycle takes the
   * later of the two. Unset: Leases (and Ready heartbeats) alone.
   */
  nodeLiveness?: () => Promise<Record<string, number>>;
  /** how often each HorizontalPodAutoscaler is synced where a timer runs (Node; default 15 s, kube's --horizontal-pod-autoscaler-sync-period); Workers: the cron */
  horizontalSyncPeriodMs?: number;
}

export const DEFAULT_CONFIG: ControllerConfig = {
  nodeMonitorGracePeriodMs: 40_000,
  defaultTolerationSeconds: 10,
  unhealthyZoneThreshold: 0.55,
  eventTtlMs: 60 * 60 * 1000,
  maxSchedulingWritesPerPass: Infinity,
  clusterCIDR: DEFAULT_CLUSTER_CIDR,
};

/** What a reconciler gets: the API (as the controller user), a clock, events, config, and a way to come back later. */
export interface ControllerContext {
  api: ControllerClient;
  now(): Date;
  events: EventRecorder;
  config: ControllerConfig;
  log(msg: string): void;
  /** ask for `keys` to be reconciled again after `ms` (time-based work): by `controller` alone if named, else by every controller that reconciles or watches them */
  requeueAfter(keys: ObjectKey[], ms: number, controller?: string): void;
  /** one pod's scheduling attempt ended (kube-scheduler's scheduler_schedule_attempts_total; manager.ts ControllerMetrics) */
  schedulingAttempt?(result: "scheduled" | "unschedulable" | "error", seconds: number): void;
}

/**
 * A reconciler's answer: nothing (done until something changes), or come back after a
 * while; `acted`: it created or deleted objects of its own and is not done yet (a
 * controller's `rerunDelayMs` reruns it without a pause).
 */
export type ReconcileResult = void | { requeueAfterMs?: number; acted?: boolean };
