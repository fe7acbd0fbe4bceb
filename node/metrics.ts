/**
 * The Node server's metrics, kept with prom-client and served at /metrics (workers/api/app.ts).
 * Names and labels follow Kubernetes' own where one exists: kube-apiserver's request
 * metrics, client-go's work queue metrics (one queue per controller, as in
 * kube-controller-manager), controller-runtime's reconcile metrics, kube-scheduler's
 * attempt metrics, and Node's process
 * defaults (process_cpu_seconds_total, process_resident_memory_bytes, nodejs_*).
 * Each server gets its own registry, so several in one process (tests) don't mix.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { RequestLabels } from "../workers/api/metrics";
import type { ControlPlaneMetrics } from "../workers/compose";

/** kube-apiserver's buckets of apiserver_request_duration_seconds */
const REQUEST_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];
/** controller-runtime's buckets of controller_runtime_reconcile_time_seconds */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8,
  9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/** kube-scheduler's buckets of scheduler_scheduling_attempt_duration_seconds: 1 ms doubling to 16 s */
const SCHEDULING_BUCKETS = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);

const REQUEST_LABELS = ["verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component"] as const;
const withoutDryRun = REQUEST_LABELS.filter((l) => l !== "dry_run");

export interface PromControlPlaneMetrics extends ControlPlaneMetrics {
  registry: Registry;
}

export const promMetrics = (): PromControlPlaneMetrics => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "apiserver_request_total",
    help: "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
    labelNames: [...REQUEST_LABELS, "code"],
    registers: [registry],
  });
  const durations = new Histogram({
    name: "apiserver_request_duration_seconds",
    help: "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
    labelNames: REQUEST_LABELS,
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  const longRunning = new Gauge({
    name: "apiserver_longrunning_requests",
    help: "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.",
    labelNames: withoutDryRun,
    registers: [registry],
  });
  const depth = new Gauge({ name: "workqueue_depth", help: "Current depth of workqueue", labelNames: ["name"], registers: [registry] });
  const adds = new Counter({ name: "workqueue_adds_total", help: "Total number of adds handled by workqueue", labelNames: ["name"], registers: [registry] });
  const reconcileTime = new Histogram({
    name: "controller_runtime_reconcile_time_seconds",
    help: "Length of time per reconciliation per controller",
    labelNames: ["controller"],
    buckets: RECONCILE_BUCKETS,
    registers: [registry],
  });
  const reconciles = new Counter({
    name: "controller_runtime_reconcile_total",
    help: "Total number of reconciliations per controller",
    labelNames: ["controller", "result"],
    registers: [registry],
  });
  const reconcileErrors = new Counter({
    name: "controller_runtime_reconcile_errors_total",
    help: "Total number of reconciliation errors per controller",
    labelNames: ["controller"],
    registers: [registry],
  });
  const attempts = new Counter({
    name: "scheduler_schedule_attempts_total",
    help: "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
    labelNames: ["result", "profile"],
    registers: [registry],
  });
  const attemptDuration = new Histogram({
    name: "scheduler_scheduling_attempt_duration_seconds",
    help: "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
    labelNames: ["result", "profile"],
    buckets: SCHEDULING_BUCKETS,
    registers: [registry],
  });
  const noDryRun = ({ dry_run: _, ...rest }: RequestLabels) => rest;
  return {
    registry,
    request: (l, code, seconds) => {
      requests.inc({ ...l, code: String(code) });
      durations.observe(l, seconds);
    },
    longRunning: (l, delta) => longRunning.inc(noDryRun(l), delta),
    queue: (controller, delta) => {
      if (delta > 0) adds.inc({ name: controller }, delta);
      depth.inc({ name: controller }, delta);
    },
    reconciled: (controller, result, seconds) => {
      reconcileTime.observe({ controller }, seconds);
      reconciles.inc({ controller, result });
      if (result === "error") reconcileErrors.inc({ controller });
    },
    schedulingAttempt: (result, seconds) => {
      // Kubeflare's one scheduler is kube-scheduler's default profile
      attempts.inc({ result, profile: "default-scheduler" });
      attemptDuration.observe({ result, profile: "default-scheduler" }, seconds);
    },
    exposition: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
};
