/**
 * Resource accounting for scheduling, as kube-scheduler does it: what a pod requests
 * (containers summed, each init container taken as a maximum, sidecars added, plus the
 * pod overhead), what a node can give (allocatable), and what its bound pods already take.
 */
import { MAX_QUANTITY_LENGTH, milliValue, value } from "../../../shared/quantity";
import type { KObject } from "../../../shared/types";

export interface Resources {
  /** millicores */
  cpu: number;
  /** bytes */
  memory: number;
  /** pod count */
  pods: number;
  /** every other resource (ephemeral-storage, hugepages-*, extended resources such as nvidia.com/gpu) in base units; absent when none */
  scalar?: Record<string, number>;
}

/** What a pod without a cpu or memory request counts as when scoring (kube-scheduler's non-zero defaults). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** Resource names the node's kubelet accounts for in other ways (never "Insufficient ..."). */
const NOT_SCALAR = new Set(["cpu", "memory", "pods"]);

export const emptyResources = (): Resources => ({ cpu: 0, memory: 0, pods: 0 });

type QuantityMap = Record<string, unknown> | undefined | null;

/** Parsed quantities: a pass reads the same few strings ("100m", "128Mi") for thousands of pods. */
const parsed = new Map<string, number>();
const MAX_MEMO = 4096;

/**
 * One quantity of a resource list, in millis (cpu) or base units; missing or malformed
 * counts as 0. Parsing is bounded (quantity.ts refuses text longer than
 * MAX_QUANTITY_LENGTH at once, and saturates at int64), so a pass costs the same
 * whatever was stored; such text is not kept in the memo either.
 */
const amount = (m: QuantityMap, name: string): number => {
  const q = m?.[name];
  if (typeof q !== "string" && typeof q !== "number") return 0;
  if (typeof q === "string" && q.length > MAX_QUANTITY_LENGTH) return 0;
  const milli = name === "cpu";
  const memo = `${milli ? "m" : "u"}${typeof q === "number" ? "#" : ""}${q}`;
  let v = parsed.get(memo);
  if (v === undefined) {
    try {
      v = milli ? milliValue(q) : value(q);
    } catch {
      v = 0;
    }
    if (parsed.size >= MAX_MEMO) parsed.clear();
    parsed.set(memo, v);
  }
  return v;
};

const has = (m: QuantityMap, name: string) => !!m && (typeof m[name] === "string" || typeof m[name] === "number");

/** A resource list as Resources (pods = 0). */
const fromList = (m: QuantityMap): Resources => {
  const r: Resources = { cpu: amount(m, "cpu"), memory: amount(m, "memory"), pods: 0 };
  if (m) {
    for (const name of Object.keys(m)) {
      if (NOT_SCALAR.has(name)) continue;
      const v = amount(m, name);
      if (v) (r.scalar ??= {})[name] = v;
    }
  }
  return r;
};

/**
 * A container's requests; a resource with a limit but no request requests its limit
 * (the API server's defaulting, repeated here for objects that skipped it).
 * `nonZero` gives a container that requests no cpu or memory the scoring defaults.
 */
export const containerRequests = (c: any, nonZero = false): Resources => {
  const requests: QuantityMap = c?.resources?.requests;
  const limits: QuantityMap = c?.resources?.limits;
  const merged: Record<string, unknown> = { ...(limits ?? {}), ...(requests ?? {}) };
  const r = fromList(merged);
  if (nonZero) {
    if (!has(merged, "cpu")) r.cpu = DEFAULT_MILLI_CPU_REQUEST;
    if (!has(merged, "memory")) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
};

/** a += b (in place). */
export const addInto = (a: Resources, b: Resources): Resources => {
  a.cpu += b.cpu;
  a.memory += b.memory;
  a.pods += b.pods;
  if (b.scalar) for (const [k, v] of Object.entries(b.scalar)) (a.scalar ??= {})[k] = (a.scalar[k] ?? 0) + v;
  return a;
};

export const add = (a: Resources, b: Resources): Resources => addInto(addInto(emptyResources(), a), b);

/** a = max(a, b) per resource (in place). */
const maxInto = (a: Resources, b: Resources): void => {
  a.cpu = Math.max(a.cpu, b.cpu);
  a.memory = Math.max(a.memory, b.memory);
  if (b.scalar) for (const [k, v] of Object.entries(b.scalar)) (a.scalar ??= {})[k] = Math.max(a.scalar[k] ?? 0, v);
};

/**
 * A pod's effective requests (k8s resource.PodRequests): the sum of its containers;
 * restartable init containers (sidecars, restartPolicy Always) add to that sum; the
 * result is at least every regular init container's request plus the sidecars started
 * before it; plus spec.overhead; pods = 1. With `nonZero`, containers without a cpu or
 * memory request count the scoring defaults (100m, 200Mi).
 */
export const podRequests = (pod: KObject, nonZero = false): Resources => {
  const sum: Resources = { cpu: 0, memory: 0, pods: 1 };
  for (const c of pod.spec?.containers ?? []) addInto(sum, containerRequests(c, nonZero));
  const sidecars = emptyResources();
  const initMax = emptyResources();
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c, nonZero);
    if (c?.restartPolicy === "Always") {
      addInto(sum, r);
      addInto(sidecars, r);
      maxInto(initMax, sidecars);
    } else {
      maxInto(initMax, addInto(r, sidecars));
    }
  }
  maxInto(sum, initMax);
  const overhead = pod.spec?.overhead;
  if (overhead) addInto(sum, fromList(overhead));
  return sum;
};

/** The scoring view of a pod's requests: cpu and memory with the non-zero defaults. */
export const podNonZeroRequests = (pod: KObject): Resources => podRequests(pod, true);

/** What a node can give pods: status.allocatable (status.capacity when allocatable is missing). */
export const nodeAllocatable = (node: KObject): Resources => {
  const list: QuantityMap = node.status?.allocatable ?? node.status?.capacity;
  const r = fromList(list);
  r.pods = amount(list, "pods");
  return r;
};

/** What a set of pods (bound to one node) requests together. */
export const requestedBy = (pods: KObject[], nonZero = false): Resources => {
  const sum = emptyResources();
  for (const p of pods) addInto(sum, podRequests(p, nonZero));
  return sum;
};
