/**
 * The API from inside a pod, the control plane's part, on both runtimes over HTTP: the
 * cluster CA published in every namespace (kube-root-ca.crt), the nodes' relay serving
 * certificates issued by it, and pods given the kube-api-access volume.
 */
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNodeTarget, startWorkerTarget, type Target } from "./targets";

const JSON_CT = { "Content-Type": "application/json" };
const until = async <T>(what: string, f: () => Promise<T | undefined | null | false>, ms = 15_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
const spki = () => generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ type: "spki", format: "pem" }) as string;

describe.each([
  ["Node", () => startNodeTarget({ controllers: true })],
  ["Worker", () => startWorkerTarget({ controllers: true, bindings: { VIEWER_TOKENS: "viewer-token" } })],
] as const)("the API from inside a pod on %s", (_name, start) => {
  let t: Target;
  let nodeToken: string;
  const NODE = "kaa-node";
  const json = async (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const r = await t.fetch(path, { ...init, headers: { ...JSON_CT, ...(init.headers as any) } });
    return { status: r.status, body: (await r.json().catch(() => undefined)) as any };
  };
  const rootCA = (ns: string) =>
    until(`kube-root-ca.crt in ${ns}`, async () => (await json(`/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`)).body?.data?.["ca.crt"] as string);

  beforeAll(async () => {
    t = await start();
    const tok = await json("/apis/kubeflare.dev/v1/bootstraptokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600 }) });
    const joined = await json("/apis/kubeflare.dev/v1/join", { method: "POST", token: tok.body.token, body: JSON.stringify({ nodeName: NODE }) });
    nodeToken = joined.body.token;
  }, 120_000);
  afterAll(() => t?.close());

  it("publishes the cluster CA as kube-root-ca.crt in every namespace, and puts it back when edited or deleted", async () => {
    const ca = await rootCA("default");
    expect(new X509Certificate(ca).ca).toBe(true);
    expect(await rootCA("kube-system")).toBe(ca);
    const cm = (await json("/api/v1/namespaces/default/configmaps/kube-root-ca.crt")).body;
    expect(cm.metadata.annotations["kubernetes.io/description"]).toMatch(/kubernetes\.default\.svc/);
    // a new namespace gets it
    expect((await json("/api/v1/namespaces", { method: "POST", body: JSON.stringify({ metadata: { name: "kaa-ns" } }) })).status).toBe(201);
    expect(await rootCA("kaa-ns")).toBe(ca);
    // edited: restored
    const edited = await json("/api/v1/namespaces/kaa-ns/configmaps/kube-root-ca.crt", {
      method: "PATCH",
      headers: { "Content-Type": "application/merge-patch+json" },
      body: JSON.stringify({ data: { "ca.crt": "not a CA", extra: "x" } }),
    });
    expect(edited.status).toBe(200);
    await until("the edit undone", async () => {
      const d = (await json("/api/v1/namespaces/kaa-ns/configmaps/kube-root-ca.crt")).body?.data;
      return d?.["ca.crt"] === ca && !("extra" in d);
    });
    // deleted: recreated
    expect((await json("/api/v1/namespaces/kaa-ns/configmaps/kube-root-ca.crt", { method: "DELETE" })).status).toBe(200);
    expect(await rootCA("kaa-ns")).toBe(ca);
  }, 60_000);

  it("gives new pods the kube-api-access volume (ServiceAccount admission), unless automountServiceAccountToken is false", async () => {
    const c = { name: "c", image: "busybox" };
    const pod = await json("/api/v1/namespaces/default/pods", {
      method: "POST",
      body: JSON.stringify({ metadata: { name: "kaa-pod" }, spec: { containers: [c] } }),
    });
    expect(pod.status).toBe(201);
    const spec = pod.body.spec;
    expect(spec.serviceAccountName).toBe("default");
    expect(spec.volumes).toHaveLength(1);
    expect(spec.volumes[0].name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
    expect(spec.volumes[0].projected.defaultMode).toBe(420);
    expect(spec.volumes[0].projected.sources.map((s: any) => Object.keys(s)[0])).toEqual(["serviceAccountToken", "configMap", "downwardAPI"]);
    expect(spec.volumes[0].projected.sources[0].serviceAccountToken).toEqual({ path: "token", expirationSeconds: 3607 });
    expect(spec.containers[0].volumeMounts).toEqual([
      { name: spec.volumes[0].name, readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" },
    ]);
    const off = await json("/api/v1/namespaces/default/pods", {
      method: "POST",
      body: JSON.stringify({ metadata: { name: "kaa-pod-off" }, spec: { automountServiceAccountToken: false, containers: [c] } }),
    });
    expect(off.status).toBe(201);
    expect(off.body.spec.volumes).toBeUndefined();
    expect(off.body.spec.containers[0].volumeMounts).toBeUndefined();
  });

  it("keeps the CA's private key out of every API response", async () => {
    for (const path of ["/api/v1/secrets", "/api/v1/configmaps"]) {
      const r = await t.fetch(path);
      expect(r.status).toBe(200);
      expect(await r.text()).not.toMatch(/PRIVATE KEY/);
    }
  });

  it("issues a node's relay serving certificate from that CA, to that node only", async () => {
    const ca = await rootCA("default");
    const path = `/apis/kubeflare.dev/v1/nodes/${NODE}/servingcertificate`;
    const r = await json(path, { method: "POST", token: nodeToken, body: JSON.stringify({ publicKey: spki(), clusterDomain: "kaa.example" }) });
    expect(r.status).toBe(201);
    expect(r.body.kind).toBe("NodeServingCertificate");
    expect(r.body.caCertificate).toBe(ca);
    const cert = new X509Certificate(r.body.certificate);
    expect(cert.checkIssued(new X509Certificate(ca))).toBe(true);
    expect(cert.verify(new X509Certificate(ca).publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe(
      "DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.kaa.example, IP Address:10.43.0.1",
    );
    expect(cert.subject).toContain(`CN=system:node:${NODE}`);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toContain("1.3.6.1.5.5.7.3.1");
    expect(Date.parse(r.body.notAfter)).toBe(Date.parse(cert.validTo));
    // a second one comes from the same CA (the Worker keeps it in the database, made once)
    const again = await json(path, { method: "POST", token: nodeToken, body: JSON.stringify({ publicKey: spki() }) });
    expect(again.status).toBe(201);
    expect(again.body.caCertificate).toBe(ca);

    // another node's name: 403; no token: 401; bad keys: 400 naming the field, nothing issued
    const other = await json("/apis/kubeflare.dev/v1/nodes/someone-else/servingcertificate", {
      method: "POST",
      token: nodeToken,
      body: JSON.stringify({ publicKey: spki() }),
    });
    expect(other.status).toBe(403);
    expect(other.body.reason).toBe("Forbidden");
    expect((await json(path, { method: "POST", token: null, body: JSON.stringify({ publicKey: spki() }) })).status).toBe(401);
    for (const body of [{}, { publicKey: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n" }, { publicKey: 5 }]) {
      const bad = await json(path, { method: "POST", token: nodeToken, body: JSON.stringify(body) });
      expect(bad.status).toBe(400);
      expect(bad.body.details.causes[0].field).toBe("publicKey");
    }
    const badDomain = await json(path, { method: "POST", token: nodeToken, body: JSON.stringify({ publicKey: spki(), clusterDomain: "a b" }) });
    expect(badDomain.status).toBe(400);
    expect(badDomain.body.details.causes[0].field).toBe("clusterDomain");
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" });
    expect((await json(path, { method: "POST", token: nodeToken, body: JSON.stringify({ publicKey: weak }) })).status).toBe(400);
  }, 60_000);

  it("lets a node ask for bound tokens of its own pods only (the Node authorizer's TokenRequest rule), and the token is the pod's ServiceAccount", async () => {
    const mk = (name: string, nodeName: string) =>
      json("/api/v1/namespaces/default/pods", {
        method: "POST",
        body: JSON.stringify({ metadata: { name }, spec: { nodeName, containers: [{ name: "c", image: "busybox" }] } }),
      });
    const mine = (await mk("kaa-mine", NODE)).body;
    await mk("kaa-theirs", "another-node");
    const ask = (pod: KObjectLike, token: string | undefined = nodeToken) =>
      json("/api/v1/namespaces/default/serviceaccounts/default/token", {
        method: "POST",
        token,
        body: JSON.stringify({
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          spec: { expirationSeconds: 3607, boundObjectRef: { kind: "Pod", apiVersion: "v1", name: pod.name, uid: pod.uid } },
        }),
      });
    await until("the default ServiceAccount", async () => (await json("/api/v1/namespaces/default/serviceaccounts/default")).status === 200);
    const ok = await ask({ name: "kaa-mine", uid: mine.metadata.uid });
    expect(ok.status).toBe(201);
    const claims = JSON.parse(Buffer.from(ok.body.status.token.split(".")[1], "base64url").toString());
    expect(claims["kubernetes.io"].pod).toEqual({ name: "kaa-mine", uid: mine.metadata.uid });
    expect(claims.exp - claims.iat).toBe(3607);
    const theirs = await ask({ name: "kaa-theirs" });
    expect(theirs.status).toBe(403);
    // unbound: refused too
    const unbound = await json("/api/v1/namespaces/default/serviceaccounts/default/token", {
      method: "POST",
      token: nodeToken,
      body: JSON.stringify({ spec: {} }),
    });
    expect(unbound.status).toBe(403);
    // the token is the pod's account: authenticated, and (no bindings) allowed nothing but discovery and reviews
    const who = await json("/apis/authentication.k8s.io/v1/selfsubjectreviews", { method: "POST", token: ok.body.status.token, body: JSON.stringify({}) });
    expect(who.body.status.userInfo.username).toBe("system:serviceaccount:default:default");
    expect(who.body.status.userInfo.extra["authentication.kubernetes.io/pod-name"]).toEqual(["kaa-mine"]);
    // the pod goes: so does its token (once the short per-isolate cache has let go)
    expect((await json("/api/v1/namespaces/default/pods/kaa-mine?gracePeriodSeconds=0", { method: "DELETE" })).status).toBe(200);
    await until("the token refused", async () => (await json("/api/v1/namespaces/default/pods", { token: ok.body.status.token })).status === 401, 30_000);
  }, 60_000);
});

type KObjectLike = { name: string; uid?: string };
