/**
 * The local-path provisioner and claim volumes against a real Node control plane (every
 * controller), as a joined node with its own credential (so the node restriction rules
 * are what they are for the agent): a pod on a local-path claim is scheduled to the
 * node, the agent provisions the directory and the volume, waits for the claim to be
 * Bound and mounts the directory; deleting the claim deletes the volume, and the sweep
 * removes the directory and lets the volume go.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KObject } from "../../shared/types";
import { startNodeTarget } from "../../test/targets";
import { ApiClient } from "../api";
import { RetryEvents } from "../events";
import { containerMounts, PodVolumes } from "../volumes";
import { ClaimNotReady } from "./claims";
import { LocalPathProvisioner, PROVISIONER_FINALIZER } from "./localpath";

type NodeTarget = Awaited<ReturnType<typeof startNodeTarget>>;
let target: NodeTarget;
let admin: ApiClient;
let node: ApiClient;
let dataDir: string;
const NODE = "lp-box";
const recorded: string[] = [];

/** What the claims, volumes and pods are, for a failure's message. */
const state = async () => {
  const brief = (o: KObject) => ({ name: o.metadata.name, phase: o.status?.phase, deleting: o.metadata.deletionTimestamp, finalizers: o.metadata.finalizers });
  const list = async (path: string) => ((await admin.get(path).catch(() => ({ items: [] }))).items as KObject[]).map(brief);
  return JSON.stringify({
    claims: await list("/api/v1/namespaces/default/persistentvolumeclaims"),
    volumes: await list("/api/v1/persistentvolumes"),
    pods: await list("/api/v1/namespaces/default/pods"),
  });
};

const until = async <T>(f: () => Promise<T | null | undefined | false>, ms = 45_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`condition not met; ${await state()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

beforeAll(async () => {
  target = await startNodeTarget({ controllers: true });
  admin = new ApiClient({ server: target.url, token: target.token, caPem: target.caPem });
  const tok = await admin.request("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { ttlSeconds: 600 });
  const joined = await new ApiClient({ server: target.url, token: tok.token, caPem: target.caPem }).request("POST", "/apis/kubeflare.dev/v1/join", {
    nodeName: NODE,
  });
  node = new ApiClient({ server: target.url, token: joined.token, caPem: target.caPem });
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  await node.request("POST", "/api/v1/nodes", {
    metadata: { name: NODE, labels: { "kubernetes.io/hostname": NODE } },
    status: {
      capacity: { cpu: "2", memory: "2Gi", pods: "10" },
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: now, lastTransitionTime: now }],
    },
  });
  dataDir = mkdtempSync(join(tmpdir(), "kf-localpath-"));
}, 60_000);
afterAll(async () => {
  await node?.close();
  await admin?.close();
  await target?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("local-path provisioner", () => {
  it("provisions a claim given to its node, mounts it once Bound, and removes the directory when the claim is deleted", async () => {
    const provisioner = new LocalPathProvisioner({ api: node, nodeName: NODE, dataDir, log: () => {} });
    const vols = new PodVolumes(
      { api: node, dataDir, now: Date.now, provisioner },
      new RetryEvents({ record: (_pod, _type, reason, message) => void recorded.push(`${reason}: ${message}`) }, Date.now),
    );
    const claim = await admin.request("POST", "/api/v1/namespaces/default/persistentvolumeclaims", {
      metadata: { name: "data" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "64Mi" } } },
    });
    expect(claim.spec.storageClassName).toBe("local-path");
    await admin.request("POST", "/api/v1/namespaces/default/pods", {
      metadata: { name: "db" },
      spec: {
        containers: [
          {
            name: "c",
            image: "busybox",
            volumeMounts: [
              { name: "d", mountPath: "/data" },
              { name: "ro", mountPath: "/ro" },
            ],
          },
        ],
        volumes: [
          { name: "d", persistentVolumeClaim: { claimName: "data" } },
          { name: "ro", persistentVolumeClaim: { claimName: "data", readOnly: true } },
        ],
      },
    });
    const pod: KObject = await until(async () => {
      const p = await node.get("/api/v1/namespaces/default/pods/db");
      return p.spec?.nodeName === NODE && p;
    });
    // the first look provisions: the claim is not Bound yet, and no warning is due (this node is at work on it)
    const first = await vols.setUp(pod).catch((e) => e);
    expect(first).toBeInstanceOf(ClaimNotReady);
    const dir = join(dataDir, "storage", `pvc-${claim.metadata.uid}_default_data`);
    expect(statSync(dir).mode & 0o777).toBe(0o777);
    const pv = await admin.get(`/api/v1/persistentvolumes/pvc-${claim.metadata.uid}`);
    expect(pv.metadata.annotations?.["pv.kubernetes.io/provisioned-by"]).toBe("kubeflare.dev/local-path");
    expect(pv.metadata.finalizers).toContain(PROVISIONER_FINALIZER);
    expect(pv.spec).toMatchObject({
      capacity: { storage: "64Mi" },
      local: { path: dir },
      persistentVolumeReclaimPolicy: "Delete",
      storageClassName: "local-path",
      claimRef: { namespace: "default", name: "data", uid: claim.metadata.uid },
    });
    const mounted = await until(async () => {
      await new Promise((r) => setTimeout(r, 1000)); // a claim that was not ready is read again after a second
      return vols.setUp(pod).catch(() => null);
    });
    expect(mounted.get("d")).toBe(dir);
    expect(containerMounts(pod, pod.spec!.containers[0], mounted).slice(0, 2)).toEqual([
      { hostPath: dir, containerPath: "/data", readOnly: false },
      { hostPath: dir, containerPath: "/ro", readOnly: true },
    ]);
    expect(recorded.filter((r) => r.startsWith("FailedMount"))).toEqual([]);

    // the node reads its pod's claim, not others'
    await admin.request("POST", "/api/v1/namespaces/default/persistentvolumeclaims", {
      metadata: { name: "other" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Mi" } } },
    });
    await expect(node.get("/api/v1/namespaces/default/persistentvolumeclaims/other")).rejects.toMatchObject({ status: 403 });

    // the pod and then the claim go: the volume is deleted, and the sweep removes the directory, then the finalizer
    await admin.request("DELETE", "/api/v1/namespaces/default/pods/db", { gracePeriodSeconds: 0 });
    vols.forget(pod.metadata.uid!);
    await admin.request("DELETE", "/api/v1/namespaces/default/persistentvolumeclaims/data", {});
    await until(async () => (await admin.find(`/api/v1/persistentvolumes/${pv.metadata.name}`))?.metadata.deletionTimestamp);
    expect(existsSync(dir)).toBe(true);
    await provisioner.sweep();
    expect(existsSync(dir)).toBe(false);
    await until(async () => !(await admin.find(`/api/v1/persistentvolumes/${pv.metadata.name}`)));
  }, 120_000);

  it("takes its finalizer off a volume that changed since it was read (a 409 reads it again)", async () => {
    const provisioner = new LocalPathProvisioner({ api: node, nodeName: NODE, dataDir, log: () => {} });
    await admin.request("POST", "/api/v1/persistentvolumes", {
      metadata: { name: "raced", finalizers: [PROVISIONER_FINALIZER] },
      spec: {
        capacity: { storage: "1Mi" },
        accessModes: ["ReadWriteOnce"],
        local: { path: join(dataDir, "raced") },
        persistentVolumeReclaimPolicy: "Retain",
        nodeAffinity: {
          required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [NODE] }] }] },
        },
      },
    });
    await admin.request("DELETE", "/api/v1/persistentvolumes/raced", {});
    const stale = await admin.get("/api/v1/persistentvolumes/raced");
    expect(stale.metadata.deletionTimestamp).toBeTruthy();
    // the volume controller (or anyone) writes it meanwhile: the copy in hand is stale
    await admin.request("PATCH", "/api/v1/persistentvolumes/raced", { metadata: { annotations: { touched: "yes" } } }, "application/merge-patch+json");
    expect((await admin.get("/api/v1/persistentvolumes/raced")).metadata.resourceVersion).not.toBe(stale.metadata.resourceVersion);
    await provisioner.release(stale);
    await until(async () => !(await admin.find("/api/v1/persistentvolumes/raced")));
  });
});
