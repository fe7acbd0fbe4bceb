import { matchLabels, selectorFromMap } from "../../shared/selectors/labels";
import { ApiError } from "../../shared/status";
import type { KObject, ObjectKey } from "../../shared/types";
import { isConflict } from "./client";
import type { ControllerContext, ReconcileResult } from "./context";
import type { Controller } from "./manager";

const isReady = (p: KObject) => (p.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");

/** The container port a Service port's targetPort names (a number, or a named container port). */
const resolvePort = (pod: KObject, target: number | string | undefined, fallback: number): number | undefined => {
  if (target === undefined || target === "") return fallback;
  if (typeof target === "number") return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  }
  return undefined;
};

const selectorString = (sel: Record<string, string>) =>
  Object.entries(sel)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

/** Endpoints subsets for a Service's selected pods: pods with the same resolved ports share a subset. */
export const endpointSubsets = (svc: KObject, pods: KObject[]): unknown[] => {
  const svcPorts: any[] = svc.spec?.ports ?? [];
  const groups = new Map<string, { addresses: unknown[]; notReadyAddresses: unknown[]; ports: unknown[] }>();
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp || !pod.status?.podIP || ["Succeeded", "Failed"].includes(pod.status?.phase)) continue;
    const ports = svcPorts
      .map((sp) => {
        const port = resolvePort(pod, sp.targetPort, sp.port);
        return port === undefined ? undefined : { ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? "TCP" };
      })
      .filter((p) => p !== undefined);
    if (svcPorts.length && !ports.length) continue;
    const id = JSON.stringify(ports);
    const g = groups.get(id) ?? { addresses: [], notReadyAddresses: [], ports };
    groups.set(id, g);
    const address = {
      ip: pod.status.podIP,
      // a pod whose subdomain names this Service is known by its hostname (StatefulSet pods: web-0.nginx)
      ...(pod.spec?.hostname && pod.spec.subdomain === svc.metadata.name ? { hostname: pod.spec.hostname } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: "Pod", namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
    };
    (isReady(pod) || svc.spec?.publishNotReadyAddresses ? g.addresses : g.notReadyAddresses).push(address);
  }
  const byIp = (a: any, b: any) => (a.ip === b.ip ? a.targetRef.name.localeCompare(b.targetRef.name) : a.ip.localeCompare(b.ip));
  return [...groups.values()].map((g) => {
    g.addresses.sort(byIp);
    g.notReadyAddresses.sort(byIp);
    const out: Record<string, unknown> = {};
    if (g.addresses.length) out.addresses = g.addresses;
    if (g.notReadyAddresses.length) out.notReadyAddresses = g.notReadyAddresses;
    if (g.ports.length) out.ports = g.ports;
    return out;
  });
};

const SERVICE_NAME = "kubernetes.io/service-name";
const MANAGED_BY = "endpointslice.kubernetes.io/managed-by";

/** discovery.k8s.io/v1 EndpointSlices for the same backends (kubectl describe service reads these). */
export const endpointSlices = (svc: KObject, subsets: any[]): KObject[] => {
  const name = svc.metadata.name!;
  const groups = subsets.length ? subsets : [{}];
  return groups.map((g, i) => {
    const endpoint = (a: any, ready: boolean) => ({
      addresses: [a.ip],
      conditions: { ready, serving: ready, terminating: false },
      ...(a.hostname ? { hostname: a.hostname } : {}),
      ...(a.nodeName ? { nodeName: a.nodeName } : {}),
      targetRef: a.targetRef,
    });
    return {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: i === 0 ? name : `${name}-${i}`,
        namespace: svc.metadata.namespace,
        labels: { ...(svc.metadata.labels ?? {}), [SERVICE_NAME]: name, [MANAGED_BY]: "endpointslice-controller.k8s.io" },
        ownerReferences: [{ apiVersion: "v1", kind: "Service", name, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      addressType: "IPv4",
      endpoints: [...(g.addresses ?? []).map((a: any) => endpoint(a, true)), ...(g.notReadyAddresses ?? []).map((a: any) => endpoint(a, false))],
      // every field of a slice port is a pointer in Go clients, which dereference them: always set name
      ports: (g.ports ?? []).map((p: any) => ({ name: p.name ?? "", port: p.port, protocol: p.protocol ?? "TCP" })),
    };
  });
};

const syncSlices = async (ctx: ControllerContext, svc: KObject, subsets: any[]) => {
  const ns = svc.metadata.namespace ?? "";
  const wanted = endpointSlices(svc, subsets);
  const existing = await ctx.api.list("endpointslices", ns, { labelSelector: `${SERVICE_NAME}=${svc.metadata.name}` });
  for (const slice of wanted) {
    const cur = existing.find((e) => e.metadata.name === slice.metadata.name);
    if (!cur) {
      try {
        await ctx.api.create("endpointslices", ns, slice);
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === "AlreadyExists")) throw e;
      }
      continue;
    }
    if (JSON.stringify([cur.endpoints ?? [], cur.ports ?? [], cur.metadata.labels]) === JSON.stringify([slice.endpoints, slice.ports, slice.metadata.labels]))
      continue;
    await ctx.api.update("endpointslices", {
      ...cur,
      metadata: { ...cur.metadata, labels: slice.metadata.labels },
      endpoints: slice.endpoints,
      ports: slice.ports,
    });
  }
  for (const extra of existing.filter((e) => !wanted.some((w) => w.metadata.name === e.metadata.name))) {
    await ctx.api.delete("endpointslices", ns, extra.metadata.name!, { preconditions: { uid: extra.metadata.uid } });
  }
};

const reconcileService = async (key: ObjectKey, ctx: ControllerContext): Promise<ReconcileResult> => {
  const svc = await ctx.api.get("services", key.namespace, key.name);
  const current = await ctx.api.get("endpoints", key.namespace, key.name);
  if (!svc || svc.metadata.deletionTimestamp) {
    // endpoints of a deleted Service go with it (user-managed Endpoints have no Service... or a selector-less one)
    if (!svc && current?.metadata.annotations?.["kubeflare.dev/managed-by"] === "endpoints-controller") {
      await ctx.api.delete("endpoints", key.namespace, key.name, { preconditions: { uid: current.metadata.uid } });
    }
    return;
  }
  const selector: Record<string, string> | undefined = svc.spec?.selector;
  if (!selector || !Object.keys(selector).length) return; // selector-less Service: Endpoints are the user's
  const pods = await ctx.api.list("pods", key.namespace, { labelSelector: selectorString(selector) });
  const subsets = endpointSubsets(svc, pods);
  try {
    await syncSlices(ctx, svc, subsets as any[]);
  } catch (e) {
    if (isConflict(e)) return { requeueAfterMs: 50 };
    throw e;
  }
  const labels = { ...(svc.metadata.labels ?? {}) };
  const annotations = { "kubeflare.dev/managed-by": "endpoints-controller" };
  if (!current) {
    try {
      await ctx.api.create("endpoints", key.namespace, {
        apiVersion: "v1",
        kind: "Endpoints",
        metadata: { name: key.name, namespace: key.namespace, labels, annotations },
        subsets,
      });
    } catch (e) {
      // a concurrent reconcile created it first: look again
      if (e instanceof ApiError && e.reason === "AlreadyExists") return { requeueAfterMs: 50 };
      throw e;
    }
    return;
  }
  const same =
    JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets) &&
    JSON.stringify(current.metadata.labels ?? {}) === JSON.stringify(labels) &&
    current.metadata.annotations?.["kubeflare.dev/managed-by"] === "endpoints-controller";
  if (same) return;
  try {
    await ctx.api.update("endpoints", {
      ...current,
      metadata: { ...current.metadata, labels, annotations: { ...(current.metadata.annotations ?? {}), ...annotations } },
      subsets,
    });
  } catch (e) {
    if (isConflict(e)) return { requeueAfterMs: 100 };
    throw e;
  }
};

const serviceKey = (namespace: string, name: string): ObjectKey => ({ resource: "services", namespace, name });

/**
 * A pod changed: the Services in its namespace that select it now or listed it before
 * (not every Service: each reconcile lists the pods it selects).
 */
const servicesOfPod = async (key: ObjectKey, ctx: ControllerContext): Promise<ObjectKey[]> => {
  const services = (await ctx.api.list("services", key.namespace)).filter((svc) => svc.spec?.selector && Object.keys(svc.spec.selector).length);
  if (!services.length) return [];
  const pod = await ctx.api.get("pods", key.namespace, key.name);
  const listedIn = new Set<string>();
  for (const ep of await ctx.api.list("endpoints", key.namespace)) {
    const refs = (ep.subsets ?? []).flatMap((ss: any) => [...(ss.addresses ?? []), ...(ss.notReadyAddresses ?? [])]);
    if (refs.some((a: any) => a.targetRef?.kind === "Pod" && a.targetRef.name === key.name)) listedIn.add(ep.metadata.name!);
  }
  return services
    .filter((svc) => {
      const selects = !!pod && matchLabels(selectorFromMap(svc.spec.selector)!, pod.metadata.labels);
      return selects || listedIn.has(svc.metadata.name!);
    })
    .map((svc) => serviceKey(key.namespace, svc.metadata.name!));
};

/**
 * The endpoints controller: each Service with a selector gets an Endpoints object of
 * the same name listing its pods' IPs (ready ones under `addresses`, others under
 * `notReadyAddresses`) with the Service's ports resolved against the pods', and the
 * EndpointSlices for them. Its own EndpointSlice writes come back as the Service's key
 * (the slices are owned by the Service); an Endpoints object changed by someone else
 * is its Service's business.
 */
export const endpointsController: Controller = {
  name: "endpoints",
  primary: ["services"],
  watches: [
    { resource: "endpoints", map: (key) => [serviceKey(key.namespace, key.name)] },
    { resource: "pods", map: servicesOfPod },
  ],

  reconcile: reconcileService,

  async resync(ctx) {
    const services = await ctx.api.list("services");
    return services.map((s) => ({ resource: "services", namespace: s.metadata.namespace ?? "", name: s.metadata.name! }));
  },
};
