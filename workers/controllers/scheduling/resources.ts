/** Resource accounting for scheduling: what a pod requests and what a node has left. */
import { milliValue, value } from "../../../shared/quantity";
import type { KObject } from "../../../shared/types";

export interface Resources {
  /** millicores */
  cpu: number;
  /** bytes */
  memory: number;
  pods: number;
}

const quantity = (m: Record<string, unknown> | undefined, name: string, milli: boolean): number => {
  const q = m?.[name];
  if (typeof q !== "string" && typeof q !== "number") return 0;
  try {
    return milli ? milliValue(q) : value(q);
  } catch {
    return 0;
  }
};

const containerRequests = (c: any): Resources => ({
  cpu: quantity(c?.resources?.requests ?? c?.resources?.limits, "cpu", true),
  memory: quantity(c?.resources?.requests ?? c?.resources?.limits, "memory", false),
  pods: 0,
});

/**
 * A pod's effective requests, as kube-scheduler computes them: the sum over its
 * containers, at least the largest init container's, plus the pod overhead; one pod.
 */
export const podRequests = (pod: KObject): Resources => {
  const sum: Resources = { cpu: 0, memory: 0, pods: 1 };
  for (const c of pod.spec?.containers ?? []) {
    const r = containerRequests(c);
    sum.cpu += r.cpu;
    sum.memory += r.memory;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c);
    sum.cpu = Math.max(sum.cpu, r.cpu);
    sum.memory = Math.max(sum.memory, r.memory);
  }
  sum.cpu += quantity(pod.spec?.overhead, "cpu", true);
  sum.memory += quantity(pod.spec?.overhead, "memory", false);
  return sum;
};

/** A node's allocatable resources (capacity when allocatable is missing). */
export const nodeAllocatable = (node: KObject): Resources => {
  const a = node.status?.allocatable ?? node.status?.capacity ?? {};
  return { cpu: quantity(a, "cpu", true), memory: quantity(a, "memory", false), pods: quantity(a, "pods", false) || 110 };
};

export const add = (a: Resources, b: Resources): Resources => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory, pods: a.pods + b.pods });
