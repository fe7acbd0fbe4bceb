/** ServiceAccount tokens on a fake clock: claims, defaults and limits, expiry, audiences, binding to a pod, revocation by deletion. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../node/db";
import { fakeClock } from "../../test/controlplane";
import { composeControlPlane } from "../compose";
import { discardQueue } from "../queue";
import { resourceByName } from "./kinds";
import { AuthCaches } from "./rbac/service";
import type { Registry } from "./registry";
import { SYSTEM_USER } from "./user";

let dir: string;
let close: () => void;
let registry: Registry;
const clock = fakeClock(Date.parse("2026-03-01T00:00:00Z"));

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "kf-satokens-"));
  const client = await openDatabase(`file:${join(dir, "db.sqlite")}`, { synchronous: "NORMAL" });
  close = () => client.close();
  ({ registry } = composeControlPlane({ client, queue: discardQueue, controllers: [], now: clock.now }));
  await registry.bootstrap();
  await registry.create(SYSTEM_USER, resourceByName("serviceaccounts"), "default", { metadata: { name: "app" } });
});
afterEach(() => {
  close();
  rmSync(dir, { recursive: true, force: true });
});

const request = (spec: unknown, name = "app") => registry.auth.tokens.request(SYSTEM_USER, "default", name, { kind: "TokenRequest", spec });

describe("ServiceAccount tokens", () => {
  it("signs kube's claims: issuer, subject, audiences, an hour by default, the kubernetes.io claim", async () => {
    const tr = await request({});
    const c = decodeJwt(tr.status.token) as any;
    const sa = await registry.store.get({ resource: "serviceaccounts", namespace: "default", name: "app" });
    const now = clock.now().getTime() / 1000;
    expect(c).toMatchObject({
      iss: "https://kubernetes.default.svc.cluster.local",
      sub: "system:serviceaccount:default:app",
      aud: ["https://kubernetes.default.svc.cluster.local"],
      iat: now,
      nbf: now,
      exp: now + 3600,
      "kubernetes.io": { namespace: "default", serviceaccount: { name: "app", uid: sa!.metadata.uid } },
    });
    expect(tr.status.expirationTimestamp).toBe("2026-03-01T01:00:00Z");
    expect(tr.spec).toMatchObject({ audiences: ["https://kubernetes.default.svc.cluster.local"], expirationSeconds: 3600, boundObjectRef: null });
    const user = await registry.auth.tokens.authenticate(tr.status.token);
    expect(user).toMatchObject({
      name: "system:serviceaccount:default:app",
      uid: sa!.metadata.uid,
      groups: ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"],
      role: "user",
    });
  });

  it("expires: valid until exp, not after (on the fake clock)", async () => {
    const tr = await request({ expirationSeconds: 600 });
    clock.advance(599_000);
    expect(await registry.auth.tokens.authenticate(tr.status.token)).not.toBeNull();
    clock.advance(2_000);
    expect(await registry.auth.tokens.authenticate(tr.status.token)).toBeNull();
  });

  it("refuses lifetimes under 10 minutes, unknown bound kinds, missing accounts; other audiences do not authenticate to the API", async () => {
    await expect(request({ expirationSeconds: 599 })).rejects.toMatchObject({
      code: 422,
      message:
        'TokenRequest.authentication.k8s.io "app" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes',
    });
    await expect(request({ boundObjectRef: { kind: "Node", name: "n" } })).rejects.toMatchObject({ code: 422 });
    await expect(request({}, "nobody")).rejects.toMatchObject({ code: 404, message: 'serviceaccounts "nobody" not found' });
    const other = await request({ audiences: ["vault"] });
    expect((decodeJwt(other.status.token) as any).aud).toEqual(["vault"]);
    expect(await registry.auth.tokens.authenticate(other.status.token)).toBeNull();
    expect(await registry.auth.tokens.authenticate("not.a.jwt")).toBeNull();
  });

  it("binds to a pod: its name and uid in the token, and the token dies with the pod; the account's deletion ends all its tokens", async () => {
    const pod = (
      await registry.create(SYSTEM_USER, resourceByName("pods"), "default", {
        metadata: { name: "p" },
        spec: { serviceAccountName: "app", containers: [{ name: "c", image: "busybox" }] },
      })
    ).object;
    const tr = await request({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p" }, expirationSeconds: 3607 });
    expect((decodeJwt(tr.status.token) as any)["kubernetes.io"].pod).toEqual({ name: "p", uid: pod.metadata.uid });
    const u = await registry.auth.tokens.authenticate(tr.status.token);
    expect(u?.extra?.["authentication.kubernetes.io/pod-name"]).toEqual(["p"]);
    // a pod of another account cannot carry this account's token
    await registry.create(SYSTEM_USER, resourceByName("pods"), "default", { metadata: { name: "q" }, spec: { containers: [{ name: "c", image: "busybox" }] } });
    await expect(request({ boundObjectRef: { kind: "Pod", name: "q" } })).rejects.toMatchObject({ code: 400 });
    await expect(request({ boundObjectRef: { kind: "Pod", name: "p", uid: "wrong" } })).rejects.toMatchObject({ code: 409 });
    await registry.delete(SYSTEM_USER, resourceByName("pods"), "default", "p", { gracePeriodSeconds: 0 });
    clock.advance(11_000);
    // past the per-isolate cache the pod is looked up again: gone
    const fresh = composeControlPlane({ client: registry.store.client, queue: discardQueue, controllers: [], now: clock.now }).registry;
    expect(await fresh.auth.tokens.authenticate(tr.status.token)).toBeNull();
    const plain = await request({});
    expect(await fresh.auth.tokens.authenticate(plain.status.token)).not.toBeNull();
    await registry.delete(SYSTEM_USER, resourceByName("serviceaccounts"), "default", "app", {});
    const fresh2 = composeControlPlane({ client: registry.store.client, queue: discardQueue, controllers: [], now: clock.now }).registry;
    expect(await fresh2.auth.tokens.authenticate(plain.status.token)).toBeNull();
  });

  it("a node may ask only for tokens bound to pods on it", async () => {
    await registry.create(SYSTEM_USER, resourceByName("pods"), "default", {
      metadata: { name: "p" },
      spec: { serviceAccountName: "app", nodeName: "n1", containers: [{ name: "c", image: "busybox" }] },
    });
    const node = (name: string) => ({ name: `system:node:${name}`, role: "node" as const, nodeName: name });
    const ask = (n: string, spec: unknown) => registry.auth.tokens.request(node(n), "default", "app", { spec });
    expect((await ask("n1", { boundObjectRef: { kind: "Pod", name: "p" } })).status.token).toBeTruthy();
    await expect(ask("n2", { boundObjectRef: { kind: "Pod", name: "p" } })).rejects.toMatchObject({ code: 403 });
    await expect(ask("n1", {})).rejects.toMatchObject({ code: 403 });
  });
});

describe("the RBAC view", () => {
  it("is read once and then only checked against the change log, until an RBAC object changes", async () => {
    const lists: string[] = [];
    const list = registry.store.list.bind(registry.store);
    registry.store.list = ((resource: string, o: any) => {
      lists.push(resource);
      return list(resource, o);
    }) as typeof registry.store.list;
    const user = { name: "u", groups: ["system:authenticated"], role: "user" as const };
    const first = await registry.auth.attach(user);
    expect(lists.sort()).toEqual(["clusterrolebindings", "clusterroles", "rolebindings", "roles"]);
    lists.length = 0;
    // other writes do not matter
    await registry.create(SYSTEM_USER, resourceByName("configmaps"), "default", { metadata: { name: "x" } });
    const again = await registry.auth.attach(user);
    expect(lists).toEqual([]);
    expect(again.rbac).toBe(first.rbac);
    await registry.create(SYSTEM_USER, resourceByName("rolebindings"), "default", {
      metadata: { name: "u-view" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "User", name: "u" }],
    });
    const after = await registry.auth.attach(user);
    expect(lists).toHaveLength(4);
    expect(after.rbac).not.toBe(first.rbac);
    expect(after.rbac!.allows(user, { verb: "list", resourceRequest: true, apiGroup: "", resource: "pods", namespace: "default" })).toBe(true);
    expect(first.rbac!.allows(user, { verb: "list", resourceRequest: true, apiGroup: "", resource: "pods", namespace: "default" })).toBe(false);
  });
});

describe("the RBAC view of a sole writer (npm start)", () => {
  it("costs no read at all until this process writes an RBAC object", async () => {
    const client = registry.store.client;
    const { registry: r } = composeControlPlane({
      client,
      queue: discardQueue,
      controllers: [],
      now: clock.now,
      registry: { authCaches: new AuthCaches({ soleWriter: true }) },
    });
    let checks = 0;
    const latest = r.store.latestRevisionOf.bind(r.store);
    r.store.latestRevisionOf = ((x: string[]) => {
      checks++;
      return latest(x);
    }) as typeof r.store.latestRevisionOf;
    const user = { name: "u", groups: ["system:authenticated"], role: "user" as const };
    const first = await r.auth.attach(user);
    expect(checks).toBe(1);
    await r.create(SYSTEM_USER, resourceByName("configmaps"), "default", { metadata: { name: "y" } });
    expect((await r.auth.attach(user)).rbac).toBe(first.rbac);
    expect(checks).toBe(1);
    await r.create(SYSTEM_USER, resourceByName("roles"), "default", {
      metadata: { name: "r" },
      rules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }],
    });
    const after = await r.auth.attach(user);
    expect(checks).toBe(2);
    expect(after.rbac).not.toBe(first.rbac);
  });
});
