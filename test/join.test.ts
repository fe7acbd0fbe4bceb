/** Joining a node with a bootstrap token, and what the node credential may and may not do. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNodeTarget, type Target } from "./targets";

let t: Target;
beforeAll(async () => {
  t = await startNodeTarget();
});
afterAll(async () => t?.close());

const call = async (method: string, path: string, body?: unknown, token?: string | null) => {
  const res = await t.fetch(path, { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body), token });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
};

describe("joining nodes", () => {
  let cred = "";

  it("trades a bootstrap token for a node credential; bad and expired tokens get 401", async () => {
    const tok = await call("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { ttlSeconds: 3600 });
    expect(tok.status).toBe(201);
    expect(tok.json.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const secret = await call("GET", `/api/v1/namespaces/kube-system/secrets/bootstrap-token-${tok.json.token.split(".")[0]}`);
    expect(secret.json.type).toBe("bootstrap.kubernetes.io/token");

    const joined = await call("POST", "/apis/kubeflare.dev/v1/join", { nodeName: "box-1" }, tok.json.token);
    expect(joined.status).toBe(201);
    expect(joined.json).toMatchObject({ kind: "NodeCredential", nodeName: "box-1" });
    cred = joined.json.token;
    // only a hash is stored
    const stored = await call("GET", "/api/v1/namespaces/kube-system/secrets/node-credential-box-1");
    expect(JSON.stringify(stored.json)).not.toContain(cred.split(".")[2]);

    const bad = await call("POST", "/apis/kubeflare.dev/v1/join", { nodeName: "box-2" }, tok.json.token.replace(/.$/, (c: string) => (c === "a" ? "b" : "a")));
    expect([bad.status, bad.json.reason]).toEqual([401, "Unauthorized"]);
    const garbage = await call("POST", "/apis/kubeflare.dev/v1/join", { nodeName: "box-2" }, "not-a-token");
    expect(garbage.status).toBe(401);
    const short = await call("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await call("POST", "/apis/kubeflare.dev/v1/join", { nodeName: "box-2" }, short.json.token);
    expect([expired.status, expired.json.message]).toEqual([401, "the join token has expired"]);
    // a node cannot mint join tokens
    expect((await call("POST", "/apis/kubeflare.dev/v1/bootstraptokens", {}, cred)).status).toBe(403);
  });

  it("limits the node credential to its own node, lease, pods and their config", async () => {
    const me = (method: string, path: string, body?: unknown) => call(method, path, body, cred);
    expect((await me("POST", "/api/v1/nodes", { metadata: { name: "box-1" }, status: { capacity: { cpu: "1", memory: "1Gi", pods: "10" } } })).status).toBe(201);
    const other = await me("POST", "/api/v1/nodes", { metadata: { name: "box-9" } });
    expect([other.status, other.json.reason]).toEqual([403, "Forbidden"]);
    expect((await me("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", { metadata: { name: "box-1" }, spec: { holderIdentity: "box-1" } })).status).toBe(201);
    expect((await me("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", { metadata: { name: "box-9" }, spec: {} })).status).toBe(403);

    // the admin sets up pods on this node and another, and their config
    await call("POST", "/api/v1/namespaces/default/secrets", { metadata: { name: "used" }, stringData: { a: "1" } });
    await call("POST", "/api/v1/namespaces/default/secrets", { metadata: { name: "unused" }, stringData: { a: "1" } });
    const spec = (node: string, secret?: string) => ({
      nodeName: node,
      containers: [{ name: "c", image: "i", ...(secret ? { env: [{ name: "A", valueFrom: { secretKeyRef: { name: secret, key: "a" } } }] } : {}) }],
    });
    await call("POST", "/api/v1/namespaces/default/pods", { metadata: { name: "mine" }, spec: spec("box-1", "used") });
    await call("POST", "/api/v1/namespaces/default/pods", { metadata: { name: "theirs" }, spec: spec("box-9") });

    expect((await me("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dbox-1")).json.items.map((p: any) => p.metadata.name)).toEqual(["mine"]);
    expect((await me("GET", "/api/v1/pods")).status).toBe(403);
    expect((await me("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dbox-9")).status).toBe(403);
    expect((await me("GET", "/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dbox-9")).status).toBe(403);
    expect((await me("GET", "/api/v1/namespaces/default/pods/mine")).status).toBe(200);
    const theirs = await me("GET", "/api/v1/namespaces/default/pods/theirs");
    expect([theirs.status, theirs.json.message]).toEqual([403, expect.stringContaining("no relationship found between node 'box-1' and this object")]);
    const pod = (await me("GET", "/api/v1/namespaces/default/pods/mine")).json;
    expect((await me("PUT", "/api/v1/namespaces/default/pods/mine/status", { ...pod, status: { phase: "Running" } })).status).toBe(200);
    const theirPod = (await call("GET", "/api/v1/namespaces/default/pods/theirs")).json;
    expect((await me("PUT", "/api/v1/namespaces/default/pods/theirs/status", { ...theirPod, status: { phase: "Running" } })).status).toBe(403);
    expect((await me("PUT", "/api/v1/namespaces/default/pods/mine", { ...pod, metadata: { ...pod.metadata, labels: { x: "y" } } })).status).toBe(403);

    expect((await me("GET", "/api/v1/namespaces/default/secrets/used")).status).toBe(200);
    expect((await me("GET", "/api/v1/namespaces/default/secrets/unused")).status).toBe(403);
    expect((await me("GET", "/api/v1/namespaces/default/secrets")).status).toBe(403);
    expect((await me("GET", "/apis/apps/v1/namespaces/default/deployments")).status).toBe(403);
    expect((await me("DELETE", "/api/v1/namespaces/default/pods/theirs", {})).status).toBe(403);
    expect((await me("POST", "/api/v1/namespaces/default/events", { metadata: { name: "e1" }, involvedObject: { kind: "Pod", name: "mine", namespace: "default" }, reason: "Started", message: "ok" })).status).toBe(201);
    // another node's credential does not pass for this one
    const forged = cred.slice(0, -1) + (cred.endsWith("x") ? "y" : "x");
    expect((await call("GET", "/api/v1/nodes", undefined, forged)).status).toBe(401);
  });
});
