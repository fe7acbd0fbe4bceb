/**
 * A stand-in for the node agent in kubectl tests (the agent issue replaces it with
 * the real one): registers a Node over HTTPS like any client, renews its Lease, and
 * reports the pods bound to it as Running and Ready; pods marked for deletion are
 * confirmed gone. It runs no containers.
 */
import { Agent, fetch } from "undici";
import type { RunningServer } from "../node/server";

export interface TestNode {
  name: string;
  /** stop heartbeats and pod reporting (the box went dark) */
  stop(): Promise<void>;
}

/** How the hollow node talks to the API: any fetch that adds the credentials. */
export type ApiFetch = (
  path: string,
  init: { method: string; body?: string; headers?: Record<string, string> },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface TestNodeOptions {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  /** how often pods are reported (ms) */
  syncMs?: number;
  /** lease renewal period (ms) */
  leaseMs?: number;
  /** IP reported for its pods */
  podIP?: string;
}

const ts = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

/** A hollow node against the Node server (HTTPS with its CA and admin token). */
export async function startTestNode(server: RunningServer, name: string, opts: TestNodeOptions = {}): Promise<TestNode> {
  const dispatcher = new Agent({ connect: { ca: server.caPem } });
  const api: ApiFetch = (path, init) =>
    fetch(server.url + path, { ...init, dispatcher, headers: { ...init.headers, Authorization: `Bearer ${server.adminToken}` } });
  const node = await startHollowNode(api, name, opts);
  return {
    name,
    stop: async () => {
      await node.stop();
      await dispatcher.close();
    },
  };
}

/** A hollow node over any API transport (the Node server, the Worker in Miniflare). */
export async function startHollowNode(api: ApiFetch, name: string, opts: TestNodeOptions = {}): Promise<TestNode> {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await api(path, {
      method,
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    } as any);
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  const capacity = { cpu: opts.cpu ?? "4", memory: opts.memory ?? "8Gi", pods: opts.pods ?? "110", "ephemeral-storage": "50Gi" };
  const nodeStatus = () => ({
    capacity,
    allocatable: capacity,
    addresses: [
      { type: "InternalIP", address: "127.0.0.1" },
      { type: "Hostname", address: name },
    ],
    nodeInfo: {
      kubeletVersion: "v1.32.0-kubeflare",
      kubeProxyVersion: "",
      containerRuntimeVersion: "test://0",
      osImage: "Test Node",
      kernelVersion: "0.0",
      operatingSystem: "linux",
      architecture: "amd64",
      machineID: name,
      systemUUID: name,
      bootID: name,
    },
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "test node is posting ready status",
        lastHeartbeatTime: ts(),
        lastTransitionTime: ts(),
      },
    ],
  });
  const created = await call("POST", "/api/v1/nodes", {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", ...(opts.labels ?? {}) } },
    status: nodeStatus(),
  });
  if (created.status !== 201) throw new Error(`node registration failed: ${JSON.stringify(created.json)}`);

  const renew = async () => {
    const lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name, namespace: "kube-node-lease" },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace("Z", "000Z") },
    };
    const r = await call("PUT", `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`, lease);
    if (r.status >= 300) throw new Error(`lease renewal failed: ${JSON.stringify(r.json)}`);
  };

  const syncPods = async () => {
    const list = await call("GET", `/api/v1/pods?fieldSelector=spec.nodeName%3D${name}`);
    for (const pod of list.json?.items ?? []) {
      const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
      if (pod.metadata.deletionTimestamp) {
        await call("DELETE", path, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
        continue;
      }
      // a pod annotated test.kubeflare.dev/ready=false runs but is not ready (a failing readiness probe)
      const ready = pod.metadata.annotations?.["test.kubeflare.dev/ready"] !== "false";
      const readyNow = (pod.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
      if (pod.status?.phase === "Running" && readyNow === ready) continue;
      const now = ts();
      const cond = (type: string) => ({
        type,
        status: type === "Ready" || type === "ContainersReady" ? (ready ? "True" : "False") : "True",
        lastProbeTime: null,
        lastTransitionTime: now,
      });
      await call("PUT", `${path}/status`, {
        ...pod,
        status: {
          ...pod.status,
          phase: "Running",
          hostIP: "127.0.0.1",
          podIP: opts.podIP ?? "127.0.0.1",
          podIPs: [{ ip: opts.podIP ?? "127.0.0.1" }],
          startTime: pod.status?.startTime ?? now,
          conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map(cond),
          containerStatuses: (pod.spec.containers ?? []).map((c: any) => ({
            name: c.name,
            image: c.image,
            imageID: "",
            containerID: `test://${pod.metadata.uid}-${c.name}`,
            ready,
            started: true,
            restartCount: 0,
            state: { running: { startedAt: now } },
          })),
        },
      });
    }
  };

  let stopped = false;
  const loop = async (every: number, f: () => Promise<void>) => {
    while (!stopped) {
      await f().catch(() => {});
      await new Promise((r) => setTimeout(r, every));
    }
  };
  await renew();
  const loops = [loop(opts.leaseMs ?? 2000, renew), loop(opts.syncMs ?? 150, syncPods)];
  return {
    name,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}
