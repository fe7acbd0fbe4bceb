/**
 * The agent's relay of the `kubernetes` Service against a real Node control plane: TLS
 * with a certificate from the cluster CA that pods are given (kube-root-ca.crt) for
 * kubernetes.default.svc, pods' own Authorization passed through, the node's never
 * added, watches streamed.
 */
import { execFile, execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { promisify } from "node:util";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNodeTarget, startWorkerTarget, type Target } from "../../test/targets";
import { ApiClient } from "../api";
import { createCa } from "../../workers/registry/pki";
import { ApiRelay } from "./apirelay";

const BUSYBOX = "kubeflare/busybox:test";
const noBusybox = (() => {
  try {
    execFileSync("docker", ["image", "inspect", BUSYBOX], { stdio: "ignore" });
    return "";
  } catch {
    return `no Docker or no ${BUSYBOX} (scripts/test-image.sh)`;
  }
})();
if (noBusybox && process.env.CI === "true") throw new Error(`the relay's busybox check cannot run in CI: ${noBusybox}`);

describe.each([
  ["Node", () => startNodeTarget({ controllers: true })],
  ["Worker", () => startWorkerTarget({ controllers: true, https: true })],
] as const)("the agent's relay of the kubernetes Service to the %s control plane", (_name, start) => {
  let target: Target & { url?: string; caPem?: string };
  let relay: ApiRelay;
  let port: number;
  let rootCA: string;
  let nodeToken: string;
  const NODE = `relay-node-${process.pid}`;

  /** a request to the relay as a pod makes it: to kubernetes.default.svc, trusting only `ca` */
  const viaRelay = (path: string, o: { token?: string; ca?: string; servername?: string; method?: string; onData?: (s: string) => void } = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path,
          method: o.method ?? "GET",
          servername: o.servername ?? "kubernetes.default.svc",
          ca: o.ca ?? rootCA,
          headers: { Host: "kubernetes.default.svc", ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}) },
          agent: false,
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            body += c;
            o.onData?.(body);
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });

  beforeAll(async () => {
    target = await start();
    const t = await (
      await target.fetch("/apis/kubeflare.dev/v1/bootstraptokens", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ttlSeconds: 600 }),
      })
    ).json();
    const joined = await (
      await target.fetch("/apis/kubeflare.dev/v1/join", { method: "POST", token: t.token, body: JSON.stringify({ nodeName: NODE }) })
    ).json();
    nodeToken = joined.token;
    const node = { apiVersion: "v1", kind: "Node", metadata: { name: NODE } };
    const reg = await target.fetch("/api/v1/nodes", {
      method: "POST",
      token: nodeToken,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(node),
    });
    expect(reg.status).toBe(201);
    relay = new ApiRelay({ api: new ApiClient({ server: target.url!, token: nodeToken, caPem: target.caPem }), nodeName: NODE, port: 0 });
    port = await relay.start("127.0.0.1");
    // what a pod is given: the ConfigMap the root CA publisher puts in every namespace
    for (let i = 0; i < 100 && !rootCA; i++) {
      const cm = await target.fetch("/api/v1/namespaces/default/configmaps/kube-root-ca.crt");
      if (cm.status === 200) rootCA = (await cm.json()).data["ca.crt"];
      else await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    await relay?.stop();
    await target?.close();
  });

  it("serves a certificate from the published cluster CA for the Service's names and ClusterIP", async () => {
    expect(rootCA).toMatch(/BEGIN CERTIFICATE/);
    expect(relay.caPem).toBe(rootCA);
    const r = await viaRelay("/version");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).gitVersion).toMatch(/^v1\./);
    // the certificate itself: the names pods dial, issued to this node by the CA they trust
    const cert = await new Promise<X509Certificate>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/version", servername: "kubernetes.default.svc", ca: rootCA, agent: false }, (res) => {
        resolve(new X509Certificate((res.socket as any).getPeerX509Certificate().raw));
        res.resume();
      });
      req.on("error", reject);
      req.end();
    });
    expect(cert.subjectAltName).toBe(
      "DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP Address:10.43.0.1",
    );
    expect(cert.subject).toContain(`CN=system:node:${NODE}`);
    expect(cert.checkIssued(new X509Certificate(rootCA))).toBe(true);
    // a name it was not issued for, or another CA, fails the handshake
    await expect(viaRelay("/version", { servername: "example.com" })).rejects.toThrow(/altnames|Hostname/i);
    await expect(viaRelay("/version", { ca: (await createCa("another-ca")).cert })).rejects.toThrow(/verify|self-signed|issuer/i);
  });

  it("passes the pod's own Authorization through and never adds the node's credential", async () => {
    // no token: what anonymous gets (401), although the node itself may read its Node
    const anon = await viaRelay(`/api/v1/nodes/${NODE}`);
    expect(anon.status).toBe(401);
    expect((await viaRelay("/api/v1/pods")).status).toBe(401);
    expect((await viaRelay(`/api/v1/nodes/${NODE}`, { token: nodeToken })).status).toBe(200);
    // a token the pod has is the pod's rights: the admin's lists everything, a wrong one is refused
    const admin = await viaRelay("/api/v1/namespaces", { token: target.token });
    expect(admin.status).toBe(200);
    expect(JSON.parse(admin.body).items.map((n: any) => n.metadata.name)).toContain("kube-system");
    expect((await viaRelay("/api/v1/namespaces", { token: "not-a-token" })).status).toBe(401);
  });

  it.skipIf(!!noBusybox)(
    `answers busybox's wget, as in a minimal pod image${noBusybox ? ` (skipped: ${noBusybox})` : ""}`,
    async () => {
      // busybox's TLS sends no signature_algorithms: OpenSSL 3's default security level would refuse it
      const { stdout } = await promisify(execFile)(
        "docker",
        [
          "run",
          "--rm",
          "--name",
          `kf-relay-wget-${process.pid}`,
          "--network",
          "host",
          BUSYBOX,
          "wget",
          "--no-check-certificate",
          "-qO-",
          `https://127.0.0.1:${port}/version`,
        ],
        { encoding: "utf8", timeout: 30_000 },
      );
      expect(JSON.parse(stdout).gitVersion).toMatch(/^v1\./);
    },
    40_000,
  );

  it("streams a watch through", async () => {
    const name = `relay-watch-${process.pid}`;
    let created = false;
    const watched = viaRelay("/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=20", {
      token: target.token,
      onData: (body) => {
        if (!created) {
          created = true;
          // the stream is open (the first events arrived): make a change and see it come through before the watch ends
          void target.fetch("/api/v1/namespaces/default/configmaps", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { a: "b" } }),
          });
        }
        if (body.includes(`"name":"${name}"`)) stop?.();
      },
    });
    let stop: (() => void) | undefined;
    const seen = await Promise.race([watched.then((r) => r.body.includes(`"name":"${name}"`)), new Promise<boolean>((r) => (stop = () => r(true)))]);
    expect(seen).toBe(true);
  }, 30_000);
});
