/**
 * Pod volumes on disk against a real Node control plane: a pod created through the API
 * gets the kube-api-access volume (ServiceAccount admission), and the agent fills it
 * (ca.crt from kube-root-ca.crt, namespace); projected volumes with ConfigMap, Secret
 * and downward API sources, items and modes, as kubelet writes them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KObject } from "../shared/types";
import { startNodeTarget } from "../test/targets";
import { ApiClient } from "./api";
import { ConfigError } from "./env";
import { RetryEvents } from "./events";
import { containerMounts, PodVolumes, writeVolume } from "./volumes";

type NodeTarget = Awaited<ReturnType<typeof startNodeTarget>>;
let target: NodeTarget;
let api: ApiClient;
let dataDir: string;
const recorded: string[] = [];
const JSON_CT = { "Content-Type": "application/json" };

const post = async (path: string, body: unknown) => {
  const r = await target.fetch(path, { method: "POST", headers: JSON_CT, body: JSON.stringify(body) });
  const json = await r.json();
  if (r.status !== 201) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
  return json as KObject;
};
const volumes = (refreshMs = 60_000) =>
  new PodVolumes(
    { api, dataDir, now: Date.now, volumeRefreshMs: refreshMs },
    new RetryEvents({ record: (_pod, _type, reason, message) => void recorded.push(`${reason}: ${message}`) }, Date.now),
  );
const file = (dir: string, name: string) => readFileSync(join(dir, name), "utf8");
const mode = (dir: string, name: string) => statSync(join(dir, name)).mode & 0o777;
const container = { name: "c", image: "busybox" };

beforeAll(async () => {
  target = await startNodeTarget({ controllers: true });
  api = new ApiClient({ server: target.url, token: target.token, caPem: target.caPem });
  dataDir = mkdtempSync(join(tmpdir(), "kf-volumes-"));
}, 60_000);
afterAll(async () => {
  await api?.close();
  await target?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("pod volumes", () => {
  it("gives a new pod the kube-api-access volume, which the agent fills with a bound token, ca.crt and namespace", async () => {
    let rootCA = "";
    for (let i = 0; i < 100 && !rootCA; i++) {
      rootCA = (await api.find("/api/v1/namespaces/default/configmaps/kube-root-ca.crt"))?.data?.["ca.crt"] ?? "";
      if (!rootCA) await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; i < 100 && !(await api.find("/api/v1/namespaces/default/serviceaccounts/default")); i++) await new Promise((r) => setTimeout(r, 100));
    const pod = await post("/api/v1/namespaces/default/pods", {
      metadata: { name: "api-access" },
      spec: {
        initContainers: [{ ...container, name: "init" }],
        containers: [container, { ...container, name: "own", volumeMounts: [{ name: "mine", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }] }],
        volumes: [{ name: "mine", emptyDir: {} }],
      },
    });
    expect(pod.spec.serviceAccountName).toBe("default");
    const vol = pod.spec.volumes.find((v: any) => v.name.startsWith("kube-api-access-"));
    expect(vol.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(vol.projected).toEqual({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ],
    });
    const mount = { name: vol.name, readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" };
    expect(pod.spec.initContainers[0].volumeMounts).toEqual([mount]);
    expect(pod.spec.containers[0].volumeMounts).toEqual([mount]);
    // a container with its own mount there keeps it
    expect(pod.spec.containers[1].volumeMounts).toEqual([{ name: "mine", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }]);

    const dirs = await volumes().setUp(pod);
    const dir = dirs.get(vol.name)!;
    expect(readdirSync(dir).sort()).toEqual(["ca.crt", "namespace", "token"]);
    expect(file(dir, "ca.crt")).toBe(rootCA);
    // the token: the pod's ServiceAccount, bound to the pod, 3607 s, and the API takes it
    const claims = JSON.parse(Buffer.from(file(dir, "token").split(".")[1], "base64url").toString());
    expect(claims.sub).toBe("system:serviceaccount:default:default");
    expect(claims["kubernetes.io"].pod).toEqual({ name: "api-access", uid: pod.metadata.uid });
    expect(claims.exp - claims.iat).toBe(3607);
    const who = await target.fetch("/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      method: "POST",
      headers: JSON_CT,
      body: "{}",
      token: file(dir, "token"),
    });
    expect(((await who.json()) as any).status.userInfo.username).toBe("system:serviceaccount:default:default");
    expect(file(dir, "namespace")).toBe("default");
    expect(mode(dir, "ca.crt")).toBe(0o644);
    expect(containerMounts(pod, pod.spec.containers[0], dirs)).toEqual([
      { hostPath: dir, containerPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true },
    ]);

    // automountServiceAccountToken: false: no volume
    const off = await post("/api/v1/namespaces/default/pods", {
      metadata: { name: "no-access" },
      spec: { automountServiceAccountToken: false, containers: [container] },
    });
    expect(off.spec.volumes ?? []).toEqual([]);
    expect(off.spec.containers[0].volumeMounts ?? []).toEqual([]);
  }, 30_000);

  it("fills projected volumes from ConfigMaps, Secrets and the downward API, with items and modes, and follows changes", async () => {
    await post("/api/v1/namespaces/default/configmaps", { metadata: { name: "proj-cm" }, data: { a: "A", b: "B" } });
    await post("/api/v1/namespaces/default/secrets", { metadata: { name: "proj-secret" }, stringData: { token: "s3cret" } });
    const pod = await post("/api/v1/namespaces/default/pods", {
      metadata: { name: "projected", labels: { app: "web", tier: "front" }, annotations: { note: 'say "hi"' } },
      spec: {
        automountServiceAccountToken: false,
        containers: [container],
        volumes: [
          {
            name: "all",
            projected: {
              defaultMode: 0o640,
              sources: [
                { configMap: { name: "proj-cm", items: [{ key: "a", path: "conf/a.txt", mode: 0o600 }] } },
                { secret: { name: "proj-secret" } },
                { configMap: { name: "absent", optional: true } },
                {
                  downwardAPI: {
                    items: [
                      { path: "name", fieldRef: { fieldPath: "metadata.name" } },
                      { path: "uid", fieldRef: { fieldPath: "metadata.uid" } },
                      { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
                      { path: "annotations", fieldRef: { fieldPath: "metadata.annotations" } },
                      { path: "app", fieldRef: { fieldPath: "metadata.labels['app']" } },
                    ],
                  },
                },
              ],
            },
          },
        ],
      },
    });
    const v = volumes(0);
    const dir = (await v.setUp(pod)).get("all")!;
    expect(readdirSync(dir).sort()).toEqual(["annotations", "app", "conf", "labels", "name", "token", "uid"]);
    expect(file(dir, "conf/a.txt")).toBe("A");
    expect(mode(dir, "conf/a.txt")).toBe(0o600);
    expect(file(dir, "token")).toBe("s3cret");
    expect(mode(dir, "token")).toBe(0o640);
    expect(file(dir, "name")).toBe("projected");
    expect(file(dir, "uid")).toBe(pod.metadata.uid);
    expect(file(dir, "labels")).toBe('app="web"\ntier="front"\n');
    expect(file(dir, "annotations")).toBe('note="say \\"hi\\""\n');
    expect(file(dir, "app")).toBe("web");

    // the ConfigMap changes: the next refresh writes it, and only it (a file written again is a new inode: the rename)
    const inode = (name: string) => statSync(join(dir, name)).ino;
    const before = { a: inode("conf/a.txt"), token: inode("token"), name: inode("name") };
    const cm = (await api.find("/api/v1/namespaces/default/configmaps/proj-cm"))!;
    await api.request("PUT", "/api/v1/namespaces/default/configmaps/proj-cm", { ...cm, data: { a: "A2" } });
    await v.setUp(pod);
    expect(file(dir, "conf/a.txt")).toBe("A2");
    expect(inode("conf/a.txt")).not.toBe(before.a);
    expect({ token: inode("token"), name: inode("name") }).toEqual({ token: before.token, name: before.name });

    // a key that is not there, not optional: FailedMount, as kubelet words it
    const missing = { ...pod, metadata: { ...pod.metadata, uid: `${pod.metadata.uid}-2` } } as KObject;
    missing.spec = {
      ...pod.spec,
      volumes: [{ name: "bad", projected: { sources: [{ configMap: { name: "proj-cm", items: [{ key: "nope", path: "x" }] } }] } }],
    };
    await expect(v.setUp(missing)).rejects.toThrow(ConfigError);
    expect(recorded).toContain('FailedMount: MountVolume.SetUp failed for volume "bad" : configmap references non-existent config key: nope');
  }, 30_000);
});

describe("writeVolume", () => {
  it("leaves files it wrote unchanged alone, writes changed ones and removes keys that left", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-writevolume-"));
    const f = (content: string, m = 0o644) => ({ content: Buffer.from(content), mode: m });
    const first = new Map([
      ["a", f("A")],
      ["b", f("B")],
    ]);
    writeVolume(dir, first);
    const ino = (name: string) => statSync(join(dir, name)).ino;
    const a = ino("a");
    const b = ino("b");
    const second = new Map([
      ["a", f("A")],
      ["b", f("B", 0o600)],
    ]);
    writeVolume(dir, second, first);
    expect(ino("a")).toBe(a);
    expect(ino("b")).not.toBe(b);
    expect(mode(dir, "b")).toBe(0o600);
    writeVolume(dir, new Map([["a", f("A2")]]), second);
    expect(readdirSync(dir)).toEqual(["a"]);
    expect(file(dir, "a")).toBe("A2");
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("shared ConfigMaps and Secrets", () => {
  it("reads one that several pods mount once per refresh interval, but afresh for a new pod", async () => {
    await post("/api/v1/namespaces/default/configmaps", { metadata: { name: "shared-cm" }, data: { k: "1" } });
    const reads: string[] = [];
    const counting = {
      find: (path: string) => {
        reads.push(path);
        return api.find(path);
      },
    };
    let now = 1_000_000;
    const v = new PodVolumes({ api: counting, dataDir, now: () => now, volumeRefreshMs: 60_000 }, new RetryEvents({ record: () => {} }, () => now));
    const pod = (uid: string): KObject => ({
      metadata: { name: uid, namespace: "default", uid },
      spec: { volumes: [{ name: "cfg", configMap: { name: "shared-cm" } }], containers: [container] },
    });
    // first setups: each pod reads it (a new pod never sees an old copy)
    await v.setUp(pod("s1"));
    await v.setUp(pod("s2"));
    expect(reads).toHaveLength(2);
    // a minute on, both refresh: one read for the two, at the same moment (pod workers run in parallel) or not
    now += 60_000;
    await Promise.all([v.setUp(pod("s1")), v.setUp(pod("s2"))]);
    expect(reads).toHaveLength(3);
    now += 60_000;
    await v.setUp(pod("s1"));
    now += 1000;
    await v.setUp(pod("s2"));
    expect(reads).toHaveLength(4);
    expect(file(join(dataDir, "pods", "s2", "volumes", "cfg"), "k")).toBe("1");
  });
});
