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
  stop(): Promise<void>;
}

const ts = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

export async function startTestNode(server: RunningServer, name: string): Promise<TestNode> {
  const dispatcher = new Agent({ connect: { ca: server.caPem } });
  const call = async (method: string, path: string, body?: unknown, contentType = "application/json") => {
    const res = await fetch(server.url + path, {
      method,
      dispatcher,
      headers: { Authorization: `Bearer ${server.adminToken}`, "Content-Type": contentType },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  const capacity = { cpu: "4", memory: "8Gi", pods: "110", "ephemeral-storage": "50Gi" };
  const nodeStatus = () => ({
    capacity,
    allocatable: capacity,
    addresses: [{ type: "InternalIP", address: "127.0.0.1" }, { type: "Hostname", address: name }],
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
    conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "test node is posting ready status", lastHeartbeatTime: ts(), lastTransitionTime: ts() }],
  });
  const created = await call("POST", "/api/v1/nodes", {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" } },
    status: nodeStatus(),
  });
  if (created.status !== 201) throw new Error(`node registration failed: ${JSON.stringify(created.json)}`);

  const renew = async () => {
    const lease = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace: "kube-node-lease" }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace("Z", "000Z") } };
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
      if (pod.status?.phase === "Running") continue;
      const now = ts();
      const cond = (type: string) => ({ type, status: "True", lastProbeTime: null, lastTransitionTime: now });
      await call("PUT", `${path}/status`, {
        ...pod,
        status: {
          ...pod.status,
          phase: "Running",
          hostIP: "127.0.0.1",
          podIP: "127.0.0.1",
          podIPs: [{ ip: "127.0.0.1" }],
          startTime: now,
          conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map(cond),
          containerStatuses: (pod.spec.containers ?? []).map((c: any) => ({
            name: c.name,
            image: c.image,
            imageID: "",
            containerID: `test://${pod.metadata.uid}-${c.name}`,
            ready: true,
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
  const loops = [loop(2000, renew), loop(150, syncPods)];
  return {
    name,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      await dispatcher.close();
    },
  };
}
