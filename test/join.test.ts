/**
 * Joining a node with a bootstrap token (single-use by default, takeover of an existing
 * node only with the admin's allowance), and what the node credential may and may not
 * do (NodeRestriction), on both runtimes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send, startNodeTarget, startWorkerTarget, type Target } from "./targets";

describe.each([
  ["Node server", () => startNodeTarget()],
  ["Worker in Miniflare", () => startWorkerTarget()],
] as const)("joining nodes: %s", (_name, start) => {
  let t: Target;
  beforeAll(async () => {
    t = await start();
  }, 120_000);
  afterAll(async () => t?.close());

  const call = (method: string, path: string, body?: unknown, token?: string | null, contentType = "application/json") =>
    send(t, method, path, body, { "Content-Type": contentType }, token);
  const newToken = async (opts: Record<string, unknown> = {}) => {
    const r = await call("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { ttlSeconds: 3600, ...opts });
    expect(r.status).toBe(201);
    return r.json.token as string;
  };
  const join = (token: string, nodeName: string, extra: Record<string, unknown> = {}) =>
    call("POST", "/apis/kubeflare.dev/v1/join", { nodeName, ...extra }, token);
  const tokenSecret = async (token: string) => (await call("GET", `/api/v1/namespaces/kube-system/secrets/bootstrap-token-${token.split(".")[0]}`)).json;
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  /** an admin-made Node with the given Ready status */
  const makeNode = async (name: string, ready: "True" | "False" | "Unknown") => {
    const r = await call("POST", "/api/v1/nodes", {
      metadata: { name },
      status: {
        conditions: [{ type: "Ready", status: ready, reason: "Test", lastHeartbeatTime: new Date().toISOString() }],
        capacity: { cpu: "1", memory: "1Gi", pods: "10" },
      },
    });
    expect(r.status).toBe(201);
    return r.json;
  };
  /** does this node credential still authenticate? */
  const works = async (cred: string) => (await call("GET", "/api/v1/nodes", undefined, cred)).status === 200;

  let cred = "";

  it("trades a bootstrap token for a node credential; bad and expired tokens get 401", async () => {
    const tok = await call("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { ttlSeconds: 3600 });
    expect(tok.status).toBe(201);
    expect(tok.json.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const secret = await tokenSecret(tok.json.token);
    expect(secret.type).toBe("bootstrap.kubernetes.io/token");

    const joined = await join(tok.json.token, "box-1");
    expect(joined.status).toBe(201);
    expect(joined.json).toMatchObject({ kind: "NodeCredential", nodeName: "box-1" });
    cred = joined.json.token;
    // kubeadm's fields, and the join count against the limit (single-use unless asked)
    expect(tok.json).toMatchObject({ kind: "BootstrapToken", maxNodes: 1, usages: ["authentication"] });
    expect(secret.data).toMatchObject({ "max-nodes": b64("1"), "join-count": b64("0"), "usage-bootstrap-authentication": b64("true") });
    // only a hash is stored
    const stored = await call("GET", "/api/v1/namespaces/kube-system/secrets/node-credential-box-1");
    expect(JSON.stringify(stored.json)).not.toContain(cred.split(".")[2]);

    const fresh = await newToken();
    const bad = await join(
      fresh.replace(/.$/, (c: string) => (c === "a" ? "b" : "a")),
      "box-2",
    );
    expect([bad.status, bad.json.reason]).toEqual([401, "Unauthorized"]);
    const garbage = await join("not-a-token", "box-2");
    expect(garbage.status).toBe(401);
    const short = await call("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await join(short.json.token, "box-2");
    expect([expired.status, expired.json.message]).toEqual([401, "the join token has expired"]);
    // a node cannot mint join tokens, and is told so before its options are looked at
    expect((await call("POST", "/apis/kubeflare.dev/v1/bootstraptokens", {}, cred)).status).toBe(403);
    expect((await call("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { ttlSeconds: -1 }, cred)).status).toBe(403);
  });

  it("a join token is single-use by default: joining again with it is 401 and changes nothing", async () => {
    const tok = await newToken();
    expect((await join(tok, "once-a")).status).toBe(201);
    expect((await tokenSecret(tok)).data["join-count"]).toBe(b64("1"));
    // kubeadm's answer to a token that no longer authenticates: 401, as for an expired one
    const again = await join(tok, "once-b");
    expect([again.status, again.json.reason, again.json.kind]).toEqual([401, "Unauthorized", "Status"]);
    expect(again.json.message).toContain("the join token has already been used");
    expect((await call("GET", "/api/v1/namespaces/kube-system/secrets/node-credential-once-b")).status).toBe(404);
    expect((await tokenSecret(tok)).data["join-count"]).toBe(b64("1"));
  });

  it("of concurrent joins with a single-use token exactly one wins", async () => {
    const tok = await newToken();
    const names = Array.from({ length: 8 }, (_, i) => `race-${i}`);
    const results = await Promise.all(names.map((n) => join(tok, n)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 401, 401, 401, 401, 401, 401, 401]);
    const creds = await Promise.all(names.map((n) => call("GET", `/api/v1/namespaces/kube-system/secrets/node-credential-${n}`)));
    expect(creds.filter((r) => r.status === 200)).toHaveLength(1);
    expect((await tokenSecret(tok)).data["join-count"]).toBe(b64("1"));
  });

  it("a token with maxNodes N serves N joins, concurrent or not, then 401", async () => {
    const tok = await newToken({ maxNodes: 3 });
    expect((await tokenSecret(tok)).data["max-nodes"]).toBe(b64("3"));
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => join(tok, `fleet-${i}`)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 401)).toHaveLength(3);
    const late = await join(tok, "fleet-late");
    expect(late.status).toBe(401);
    expect(late.json.message).toContain("used by 3 of the 3 nodes it allows");
    expect((await tokenSecret(tok)).data["join-count"]).toBe(b64("3"));
  });

  it("checks token options: 400 naming each bad field, nothing created", async () => {
    const before = (await call("GET", "/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dbootstrap.kubernetes.io%2Ftoken")).json.items.length;
    const cases: [unknown, string[]][] = [
      [{ ttlSeconds: 1e15 }, ["ttlSeconds"]],
      [{ ttlSeconds: 0 }, ["ttlSeconds"]],
      [{ ttlSeconds: "3600" }, ["ttlSeconds"]],
      [{ maxNodes: 0 }, ["maxNodes"]],
      [{ maxNodes: 2.5 }, ["maxNodes"]],
      [{ maxNodes: "3" }, ["maxNodes"]],
      [{ usages: ["signing"] }, ["usages[0]"]],
      [{ usages: [] }, ["usages"]],
      [{ usages: "authentication" }, ["usages"]],
      [{ allowReplace: "Bad_Name" }, ["allowReplace"]],
      [{ allowReplace: 5 }, ["allowReplace"]],
      [{ ttl: 60 }, ["ttl"]],
      [{ ttlSeconds: -1, maxNodes: 100000, usages: ["authentication", "x"] }, ["ttlSeconds", "usages[1]", "maxNodes"]],
      [[1, 2], []],
    ];
    for (const [body, fields] of cases) {
      const r = await call("POST", "/apis/kubeflare.dev/v1/bootstraptokens", body);
      expect([JSON.stringify(body), r.status, r.json.kind, r.json.reason]).toEqual([JSON.stringify(body), 400, "Status", "BadRequest"]);
      expect((r.json.details?.causes ?? []).map((c: any) => c.field).sort()).toEqual([...fields].sort());
      for (const f of fields) expect(r.json.message).toContain(`${f}: `);
    }
    expect((await call("GET", "/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dbootstrap.kubernetes.io%2Ftoken")).json.items.length).toBe(before);
  });

  it("checks join request fields (400 naming them) without using the token up", async () => {
    const tok = await newToken();
    const r1 = await join(tok, "ok-name", { forceReplace: "yes" });
    expect([r1.status, r1.json.details?.causes?.[0]?.field]).toEqual([400, "forceReplace"]);
    const r2 = await join(tok, "Bad_Name");
    expect([r2.status, r2.json.details?.causes?.[0]?.field]).toEqual([400, "nodeName"]);
    const r3 = await join(tok, "x".repeat(240));
    expect([r3.status, r3.json.details?.causes?.[0]?.field]).toEqual([400, "nodeName"]);
    expect((await join(tok, "ok-name")).status).toBe(201);
  });

  it("refuses to take over a Ready node (409, the token stays usable), and forceReplace without the allowance (403)", async () => {
    const first = await join(await newToken(), "live-box");
    expect(first.status).toBe(201);
    await makeNode("live-box", "True");
    const tok = await newToken();
    const refused = await join(tok, "live-box");
    expect([refused.status, refused.json.kind, refused.json.reason]).toEqual([409, "Status", "Conflict"]);
    expect(refused.json.message).toContain('node "live-box" already exists and is Ready');
    expect(refused.json.message).toContain("kubeflare-agent token create --allow-replace live-box");
    expect(refused.json.message).toContain("--force-replace");
    const forced = await join(tok, "live-box", { forceReplace: true });
    expect([forced.status, forced.json.reason]).toEqual([403, "Forbidden"]);
    expect(forced.json.message).toContain('the join token does not allow replacing node "live-box"');
    // an allowance for another node does not help
    const other = await join(await newToken({ allowReplace: "some-other-box" }), "live-box", { forceReplace: true });
    expect(other.status).toBe(403);
    // the live node keeps its identity; the refused joins did not use the token up
    expect(await works(first.json.token)).toBe(true);
    expect((await tokenSecret(tok)).data["join-count"]).toBe(b64("0"));
    expect((await join(tok, "live-box-2")).status).toBe(201);
  });

  it("replaces a node with the admin's allowance and a forceReplace join, recorded as a NodeReplaced Warning Event", async () => {
    const first = await join(await newToken(), "swap-box");
    const node = await makeNode("swap-box", "True");
    const tok = await newToken({ allowReplace: "swap-box" });
    expect((await tokenSecret(tok)).data["allow-replace"]).toBe(b64("swap-box"));
    // the allowance alone is not enough: the join must ask for it
    expect((await join(tok, "swap-box")).status).toBe(409);
    const replaced = await join(tok, "swap-box", { forceReplace: true });
    expect(replaced.status).toBe(201);
    expect(await works(first.json.token)).toBe(false);
    expect(await works(replaced.json.token)).toBe(true);
    const events = await call("GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dswap-box,reason%3DNodeReplaced");
    expect(events.json.items).toHaveLength(1);
    expect(events.json.items[0]).toMatchObject({
      type: "Warning",
      reason: "NodeReplaced",
      involvedObject: { kind: "Node", name: "swap-box", uid: node.metadata.uid },
    });
    expect(events.json.items[0].message).toContain(`bootstrap-token-${tok.split(".")[0]}`);
    // a plain join (no existing node) records nothing
    await join(await newToken(), "plain-box");
    expect((await call("GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dplain-box")).json.items).toHaveLength(0);
  });

  it("a NotReady node is not up for grabs either; once an admin deletes it, its name joins with a fresh token", async () => {
    const first = await join(await newToken(), "down-box");
    await makeNode("down-box", "Unknown");
    const refused = await join(await newToken(), "down-box");
    expect(refused.status).toBe(409);
    expect(refused.json.message).toContain('node "down-box" already exists (Ready: Unknown)');
    expect(refused.json.message).toContain("kubectl delete node down-box");
    expect(await works(first.json.token)).toBe(true);
    expect((await call("DELETE", "/api/v1/nodes/down-box")).status).toBe(200);
    const rejoined = await join(await newToken(), "down-box");
    expect(rejoined.status).toBe(201);
    expect(await works(first.json.token)).toBe(false);
  });

  it("limits the node credential to its own node, lease, pods and their config", async () => {
    const me = (method: string, path: string, body?: unknown) => call(method, path, body, cred);
    expect((await me("POST", "/api/v1/nodes", { metadata: { name: "box-1" }, status: { capacity: { cpu: "1", memory: "1Gi", pods: "10" } } })).status).toBe(
      201,
    );
    const other = await me("POST", "/api/v1/nodes", { metadata: { name: "box-9" } });
    expect([other.status, other.json.reason]).toEqual([403, "Forbidden"]);
    expect(
      (await me("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", { metadata: { name: "box-1" }, spec: { holderIdentity: "box-1" } }))
        .status,
    ).toBe(201);
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
    // every pod is readable in a list or watch (the network-policy agent's peers, agent/netpol); a get still needs a relationship
    expect((await me("GET", "/api/v1/pods")).json.items.map((p: any) => p.metadata.name)).toEqual(expect.arrayContaining(["mine", "theirs"]));
    expect((await me("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dbox-9")).json.items.map((p: any) => p.metadata.name)).toEqual(["theirs"]);
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
    // one by name: list (and watch) with a metadata.name field selector, as kubelet's Watch strategy does
    const one = await me("GET", "/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Dused");
    expect([one.status, one.json.items?.map((x: any) => x.metadata.name)]).toEqual([200, ["used"]]);
    expect((await me("GET", "/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Dunused")).status).toBe(403);
    expect((await me("GET", "/api/v1/namespaces/default/secrets?watch=1&fieldSelector=metadata.name%3Dunused")).status).toBe(403);
    expect((await me("GET", "/api/v1/secrets?watch=1&fieldSelector=metadata.name%3Dused")).status).toBe(403);
    expect((await me("GET", "/api/v1/namespaces/default/secrets?watch=1")).status).toBe(403);
    expect((await me("GET", "/apis/apps/v1/namespaces/default/deployments")).status).toBe(403);
    expect((await me("DELETE", "/api/v1/namespaces/default/pods/theirs", {})).status).toBe(403);
    expect(
      (
        await me("POST", "/api/v1/namespaces/default/events", {
          metadata: { name: "e1" },
          involvedObject: { kind: "Pod", name: "mine", namespace: "default" },
          reason: "Started",
          message: "ok",
        })
      ).status,
    ).toBe(201);
    // another node's credential does not pass for this one
    const forged = cred.slice(0, -1) + (cred.endsWith("x") ? "y" : "x");
    expect((await call("GET", "/api/v1/nodes", undefined, forged)).status).toBe(401);
  });

  it("authorizes a node's target before looking it up or reading the body (403, not 404 or 400)", async () => {
    const me = (method: string, path: string, body?: unknown, type?: string) => call(method, path, body, cred, type);
    // a node that does not exist: 403, as for one that does, never 404
    const ghost = await me("PATCH", "/api/v1/nodes/ghost", { metadata: { labels: { a: "b" } } }, "application/merge-patch+json");
    expect([ghost.status, ghost.json.reason, ghost.json.message]).toEqual([
      403,
      "Forbidden",
      'nodes "ghost" is forbidden: node "box-1" is not allowed to modify node "ghost"',
    ]);
    const real = await me("PATCH", "/api/v1/nodes/box-9", { metadata: { labels: { a: "b" } } }, "application/merge-patch+json");
    await call("POST", "/api/v1/nodes", { metadata: { name: "box-9" } });
    const existing = await me("PATCH", "/api/v1/nodes/box-9", { metadata: { labels: { a: "b" } } }, "application/merge-patch+json");
    expect([real.status, existing.status, existing.json.message]).toEqual([403, 403, ghost.json.message.replaceAll("ghost", "box-9")]);
    expect((await me("PUT", "/api/v1/nodes/ghost", "{not json")).status).toBe(403);
    expect((await me("PATCH", "/api/v1/nodes/ghost", "[", "application/json-patch+json")).status).toBe(403);
    // a malformed log upload for another node's pod: 403, whatever the body
    for (const body of [{}, { container: 5 }, "{not json", "[]"]) {
      const r = await me("POST", "/api/v1/namespaces/default/pods/theirs/log", body);
      expect([JSON.stringify(body), r.status, r.json.reason]).toEqual([JSON.stringify(body), 403, "Forbidden"]);
      expect(r.json.message).toContain("no relationship found between node 'box-1' and this object");
    }
    // for its own pod the same bodies are plain bad requests
    expect((await me("POST", "/api/v1/namespaces/default/pods/mine/log", {})).status).toBe(400);
    // other writes with broken bodies: the target first
    expect((await me("PUT", "/api/v1/namespaces/default/pods/theirs/status", "{not json")).status).toBe(403);
    expect((await me("PUT", "/api/v1/namespaces/default/pods/theirs/status", { metadata: { name: "other-name" } })).status).toBe(403);
    expect((await me("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/box-9", "{not json")).status).toBe(403);
    expect((await me("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", "{not json")).status).toBe(403);
    // a Secret no pod of this node uses: 403 whether or not it exists
    expect((await me("GET", "/api/v1/namespaces/default/secrets/no-such-secret")).status).toBe(403);
  });

  it("lets a node read Ingresses and IngressClasses, and get or watch by name only the Secrets an Ingress of our class names for TLS (its ingress proxy)", async () => {
    const me = (method: string, path: string, body?: unknown, type?: string) => call(method, path, body, cred, type);
    for (const name of ["site-tls", "unrelated"]) {
      await call("POST", "/api/v1/namespaces/default/secrets", { metadata: { name }, type: "kubernetes.io/tls", data: { "tls.crt": "", "tls.key": "" } });
    }
    const ingress = {
      metadata: { name: "site" },
      spec: { tls: [{ hosts: ["a.example.com"], secretName: "site-tls" }], defaultBackend: { service: { name: "web", port: { number: 80 } } } },
    };
    expect((await me("GET", "/api/v1/namespaces/default/secrets/site-tls")).status).toBe(403);
    expect((await call("POST", "/apis/networking.k8s.io/v1/namespaces/default/ingresses", ingress)).status).toBe(201);
    expect((await me("GET", "/apis/networking.k8s.io/v1/ingresses")).status).toBe(200);
    expect((await me("GET", "/apis/networking.k8s.io/v1/ingressclasses")).status).toBe(200);
    expect((await me("GET", "/api/v1/namespaces/default/secrets/site-tls")).status).toBe(200);
    expect((await me("GET", "/api/v1/namespaces/default/secrets/unrelated")).status).toBe(403);
    expect((await me("GET", "/api/v1/namespaces/default/secrets")).status).toBe(403);
    // watched by name, as kubelet watches its pods' Secrets: a renewed certificate reaches the proxy at once
    const listed = await me("GET", "/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Dsite-tls");
    expect([listed.status, listed.json.items?.map((i: any) => i.metadata.name)]).toEqual([200, ["site-tls"]]);
    expect((await me("GET", "/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Dunrelated")).status).toBe(403);
    expect((await me("GET", "/api/v1/namespaces/default/secrets?watch=1&fieldSelector=metadata.name%3Dunrelated")).status).toBe(403);
    expect((await me("GET", "/api/v1/secrets?watch=1&fieldSelector=metadata.name%3Dsite-tls")).status).toBe(403);
    // an Ingress of another controller's class does not open its Secret to nodes
    await call("POST", "/apis/networking.k8s.io/v1/ingressclasses", { metadata: { name: "theirs" }, spec: { controller: "example.com/other" } });
    const theirs = {
      metadata: { name: "theirs" },
      spec: { ingressClassName: "theirs", tls: [{ secretName: "unrelated" }], defaultBackend: ingress.spec.defaultBackend },
    };
    expect((await call("POST", "/apis/networking.k8s.io/v1/namespaces/default/ingresses", theirs)).status).toBe(201);
    expect((await me("GET", "/api/v1/namespaces/default/secrets/unrelated")).status).toBe(403);
    expect((await me("GET", "/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Dunrelated")).status).toBe(403);
    // read only: no writes to Ingresses, their status or classes
    expect((await me("DELETE", "/apis/networking.k8s.io/v1/namespaces/default/ingresses/site")).status).toBe(403);
    expect((await me("PUT", "/apis/networking.k8s.io/v1/namespaces/default/ingresses/site/status", ingress)).status).toBe(403);
    expect((await me("DELETE", "/apis/networking.k8s.io/v1/ingressclasses/kubeflare")).status).toBe(403);
    // the network-policy agent: NetworkPolicies and Namespaces, read only
    expect((await me("GET", "/apis/networking.k8s.io/v1/networkpolicies")).status).toBe(200);
    expect((await me("GET", "/api/v1/namespaces")).status).toBe(200);
    expect((await me("GET", "/api/v1/namespaces/default")).status).toBe(200);
    const pol = { metadata: { name: "p" }, spec: { podSelector: {} } };
    expect((await me("POST", "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies", pol)).status).toBe(403);
    expect((await me("DELETE", "/api/v1/namespaces/default")).status).toBe(403);
  });

  it("lets a node read its pods' claims and their volumes, and write only local-path volumes on itself", async () => {
    const me = (method: string, path: string, body?: unknown, type?: string) => call(method, path, body, cred, type);
    const claim = (name: string) => ({ metadata: { name }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } });
    await call("POST", "/api/v1/namespaces/default/persistentvolumeclaims", claim("mine-data"));
    await call("POST", "/api/v1/namespaces/default/persistentvolumeclaims", claim("their-data"));
    const pod = (name: string, node: string, claimName: string) => ({
      metadata: { name },
      spec: { nodeName: node, containers: [{ name: "c", image: "i" }], volumes: [{ name: "d", persistentVolumeClaim: { claimName } }] },
    });
    await call("POST", "/api/v1/namespaces/default/pods", pod("mine-pvc", "box-1", "mine-data"));
    await call("POST", "/api/v1/namespaces/default/pods", pod("their-pvc", "box-9", "their-data"));
    expect((await me("GET", "/api/v1/namespaces/default/persistentvolumeclaims/mine-data")).status).toBe(200);
    expect((await me("GET", "/api/v1/namespaces/default/persistentvolumeclaims/their-data")).status).toBe(403);
    expect((await me("GET", "/api/v1/namespaces/default/persistentvolumeclaims")).status).toBe(403);
    expect((await me("GET", "/apis/storage.k8s.io/v1/storageclasses/local-path")).status).toBe(200);
    expect((await me("DELETE", "/apis/storage.k8s.io/v1/storageclasses/local-path")).status).toBe(403);
    const affinity = (node: string) => ({
      required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] }] },
    });
    const volume = (name: string, node: string, claimName: string) => ({
      metadata: { name, annotations: { "pv.kubernetes.io/provisioned-by": "kubeflare.dev/local-path" } },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        storageClassName: "local-path",
        local: { path: `/var/lib/x/${name}` },
        nodeAffinity: affinity(node),
        claimRef: { namespace: "default", name: claimName },
      },
    });
    // its own local volume: yes; one on another node: no
    expect((await me("POST", "/api/v1/persistentvolumes", volume("pv-mine", "box-1", "mine-data"))).status).toBe(201);
    const elsewhere = await me("POST", "/api/v1/persistentvolumes", volume("pv-else", "box-9", "their-data"));
    expect([elsewhere.status, elsewhere.json.message]).toEqual([403, expect.stringContaining("kubernetes.io/hostname In [box-1] alone")]);
    expect((await call("POST", "/api/v1/persistentvolumes", volume("pv-theirs", "box-9", "their-data"))).status).toBe(201);
    expect((await me("GET", "/api/v1/persistentvolumes/pv-mine")).status).toBe(200);
    expect((await me("GET", "/api/v1/persistentvolumes/pv-theirs")).status).toBe(403);
    expect((await me("DELETE", "/api/v1/persistentvolumes/pv-theirs")).status).toBe(403);
    expect((await me("GET", "/api/v1/persistentvolumes")).status).toBe(403);
    // a volume elsewhere bound to its pod's claim may be read, not changed
    expect((await call("POST", "/api/v1/persistentvolumes", { ...volume("pv-shared", "box-9", "mine-data"), metadata: { name: "pv-shared" } })).status).toBe(
      201,
    );
    expect((await me("GET", "/api/v1/persistentvolumes/pv-shared")).status).toBe(200);
    expect((await me("DELETE", "/api/v1/persistentvolumes/pv-shared")).status).toBe(403);
    expect((await me("DELETE", "/api/v1/persistentvolumes/pv-mine")).status).toBeLessThan(300);
  });

  it("refuses a node the labels Kubernetes reserves (node-role, node-restriction) and changes of its taints, with kube-apiserver's messages", async () => {
    const tok = await newToken();
    const c = (await join(tok, "lbl-box")).json.token as string;
    const me = (method: string, path: string, body?: unknown, type?: string) => call(method, path, body, c, type);
    const create = await me("POST", "/api/v1/nodes", {
      metadata: { name: "lbl-box", labels: { "node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "lbl-box" } },
    });
    expect([create.status, create.json.kind, create.json.reason, create.json.message]).toEqual([
      403,
      "Status",
      "Forbidden",
      'nodes "lbl-box" is forbidden: node "lbl-box" is not allowed to set the following labels: node-role.kubernetes.io/control-plane',
    ]);
    expect((await call("GET", "/api/v1/nodes/lbl-box")).status).toBe(404);
    const allowed = {
      "kubernetes.io/hostname": "lbl-box",
      "kubernetes.io/arch": "amd64",
      "topology.kubernetes.io/zone": "z1",
      "node.kubernetes.io/instance-type": "small",
      "example.com/disk": "ssd",
      plain: "yes",
    };
    expect((await me("POST", "/api/v1/nodes", { metadata: { name: "lbl-box", labels: allowed } })).status).toBe(201);
    // the admin marks the node; the node may not undo it, nor add such labels itself
    const admin = await call(
      "PATCH",
      "/api/v1/nodes/lbl-box",
      { metadata: { labels: { "node-restriction.kubernetes.io/pool": "db" } }, spec: { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] } },
      undefined,
      "application/merge-patch+json",
    );
    expect(admin.status).toBe(200);
    const merge = "application/merge-patch+json";
    const role = await me("PATCH", "/api/v1/nodes/lbl-box", { metadata: { labels: { "node-role.kubernetes.io/master": "" } } }, merge);
    expect([role.status, role.json.message]).toEqual([403, 'nodes "lbl-box" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/master']);
    const strategic = await me(
      "PATCH",
      "/api/v1/nodes/lbl-box",
      { metadata: { labels: { "node-role.kubernetes.io/worker": "" } } },
      "application/strategic-merge-patch+json",
    );
    expect(strategic.status).toBe(403);
    const unmark = await me("PATCH", "/api/v1/nodes/lbl-box", { metadata: { labels: { "node-restriction.kubernetes.io/pool": null } } }, merge);
    expect([unmark.status, unmark.json.message]).toEqual([
      403,
      'nodes "lbl-box" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/pool',
    ]);
    for (const key of ["kubernetes.io/role", "k8s.io/x", "sub.k8s.io/y", "a.node-restriction.kubernetes.io/z"]) {
      expect((await me("PATCH", "/api/v1/nodes/lbl-box", { metadata: { labels: { [key]: "v" } } }, merge)).status).toBe(403);
    }
    const current = (await me("GET", "/api/v1/nodes/lbl-box")).json;
    const put = await me("PUT", "/api/v1/nodes/lbl-box", {
      ...current,
      metadata: { ...current.metadata, labels: { ...current.metadata.labels, "node-role.kubernetes.io/worker": "" } },
    });
    expect([put.status, put.json.message]).toEqual([403, 'nodes "lbl-box" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/worker']);
    const untaint = await me("PATCH", "/api/v1/nodes/lbl-box", { spec: { taints: [] } }, merge);
    expect([untaint.status, untaint.json.message]).toEqual([403, 'nodes "lbl-box" is forbidden: node "lbl-box" is not allowed to modify taints']);
    // labels kubelet may set, and labels outside kubernetes.io / k8s.io, are fine
    const fine = await me(
      "PATCH",
      "/api/v1/nodes/lbl-box",
      { metadata: { labels: { "topology.kubernetes.io/zone": "z2", "kubelet.kubernetes.io/x": "1", "example.com/disk": "hdd" } } },
      merge,
    );
    expect(fine.status).toBe(200);
    const stored = (await call("GET", "/api/v1/nodes/lbl-box")).json;
    expect(stored.metadata.labels).toMatchObject({ "topology.kubernetes.io/zone": "z2", "node-restriction.kubernetes.io/pool": "db" });
    expect(Object.keys(stored.metadata.labels).filter((k) => k.startsWith("node-role."))).toEqual([]);
    expect(stored.spec.taints).toHaveLength(1);
    // its status stays its own to write
    expect((await me("PATCH", "/api/v1/nodes/lbl-box/status", { status: { conditions: [{ type: "Ready", status: "True" }] } }, merge)).status).toBe(200);
  });
});
