/**
 * ServiceAccount tokens and RBAC with the real kubectl, on both runtimes: `kubectl
 * create token`, a ServiceAccount bound to `view` in one namespace (`auth can-i` with
 * impersonation, requests with its token allowed there and refused elsewhere with
 * kube-apiserver's message), `auth whoami`, binding printers, escalation prevention and
 * ClusterRole aggregation.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Kubectl, kubectl } from "./kubectl";
import { send, startNodeTarget, startWorkerTarget, type Target } from "./targets";

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());

describe.each([
  [
    "Node",
    async () => {
      const t = await startNodeTarget({ controllers: true });
      return { t: t as Target, kubeconfig: join(t.dataDir, "kubeconfig") };
    },
  ],
  [
    "Worker",
    async () => {
      const t = await startWorkerTarget({ controllers: true, https: true });
      return { t: t as Target, kubeconfig: t.kubeconfigPath! };
    },
  ],
] as const)("ServiceAccount tokens and RBAC with kubectl on %s", (_name, start) => {
  let t: Target;
  let k: Kubectl;
  const ok = async (args: string | string[], input?: string) => {
    const r = await k(args, { input });
    if (r.code !== 0) throw new Error(`kubectl ${args} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    const s = await start();
    t = s.t;
    k = kubectl(s.kubeconfig, "1.32");
    await ok("create namespace a");
    await ok("create namespace b");
    await ok("create serviceaccount sa -n a");
  }, 90_000);
  afterAll(() => t?.close());

  it("kubectl create token: a signed JWT of the account, for an hour or --duration, that the API authenticates", async () => {
    const token = (await eventually(async () => (await k("create token default")).stdout.trim() || undefined)) as string;
    const c = claimsOf(token);
    expect(c.iss).toBe("https://kubernetes.default.svc.cluster.local");
    expect(c.sub).toBe("system:serviceaccount:default:default");
    expect(c.aud).toEqual(["https://kubernetes.default.svc.cluster.local"]);
    expect(c.exp - c.iat).toBe(3600);
    expect(c["kubernetes.io"].namespace).toBe("default");
    expect(c["kubernetes.io"].serviceaccount.name).toBe("default");
    const sa = await send(t, "GET", "/api/v1/namespaces/default/serviceaccounts/default");
    expect(c["kubernetes.io"].serviceaccount.uid).toBe(sa.json.metadata.uid);
    const longer = claimsOf((await ok("create token sa -n a --duration=20m")).trim());
    expect(longer.exp - longer.iat).toBe(1200);
    const short = await k("create token sa -n a --duration=5m");
    expect(short.code).not.toBe(0);
    expect(short.stderr).toContain("may not specify a duration less than 10 minutes");
    // the default account has no permissions: authenticated (403, not 401)
    const r = await send(t, "GET", "/api/v1/namespaces/default/pods", undefined, {}, token);
    expect(r.status).toBe(403);
    expect(r.json.message).toBe(
      'pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"',
    );
    // a forged token is no one
    expect((await send(t, "GET", "/api/v1/namespaces/default/pods", undefined, {}, `${token.slice(0, -4)}AAAA`)).status).toBe(401);
    // whoami with the token
    const who = await send(
      t,
      "POST",
      "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
      {},
      token,
    );
    expect(who.status).toBe(201);
    expect(who.json.status.userInfo.username).toBe("system:serviceaccount:default:default");
    expect(who.json.status.userInfo.groups).toEqual(["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]);
  }, 60_000);

  it("a ServiceAccount bound to view in namespace a: can-i says yes there and no elsewhere; its token lists pods in a, and b answers 403", async () => {
    expect(await ok("create rolebinding sa-view --clusterrole=view --serviceaccount=a:sa -n a")).toBe(
      "rolebinding.rbac.authorization.k8s.io/sa-view created\n",
    );
    expect(await ok("get rolebinding -n a")).toMatch(/^NAME\s+ROLE\s+AGE\nsa-view\s+ClusterRole\/view\s+\d+s\n$/);
    expect(await ok("get rolebinding sa-view -n a -o wide")).toMatch(
      /^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS\nsa-view\s+ClusterRole\/view\s+\S+\s+a\/sa\n$/,
    );
    expect(await ok("auth can-i list pods --as=system:serviceaccount:a:sa -n a")).toBe("yes\n");
    const no = await k("auth can-i list pods --as=system:serviceaccount:a:sa -n b");
    expect(no.code).toBe(1);
    expect(no.stdout).toBe("no\n");
    const noWrite = await k("auth can-i create pods --as=system:serviceaccount:a:sa -n a");
    expect(noWrite.stdout).toBe("no\n");
    expect(await ok("auth can-i get pods --subresource=log --as=system:serviceaccount:a:sa -n a")).toBe("yes\n");
    // --list: SelfSubjectRulesReview
    const list = await ok("auth can-i --list --as=system:serviceaccount:a:sa -n a");
    expect(list).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs\n/);
    expect(list).toMatch(/\npods\s+\[\]\s+\[\]\s+\[get list watch\]\n/);
    expect(list).toMatch(/\n\s+\[\/api\/\*\]\s+\[\]\s+\[get\]\n/);
    // requests as the account (impersonated) are decided the same way
    const imp = await k("get pods -n b --as=system:serviceaccount:a:sa");
    expect(imp.stderr).toContain('pods is forbidden: User "system:serviceaccount:a:sa" cannot list resource "pods" in API group "" in the namespace "b"');

    const token = (await ok("create token sa -n a")).trim();
    const inA = await send(t, "GET", "/api/v1/namespaces/a/pods", undefined, {}, token);
    expect(inA.status).toBe(200);
    const inB = await send(t, "GET", "/api/v1/namespaces/b/pods", undefined, {}, token);
    expect(inB.status).toBe(403);
    expect(inB.json.reason).toBe("Forbidden");
    expect(inB.json.message).toBe('pods is forbidden: User "system:serviceaccount:a:sa" cannot list resource "pods" in API group "" in the namespace "b"');
    const write = await send(t, "POST", "/api/v1/namespaces/a/configmaps", { metadata: { name: "x" } }, {}, token);
    expect(write.status).toBe(403);
    // the binding goes: so does the access
    await ok("delete rolebinding sa-view -n a");
    await eventually(async () => (await send(t, "GET", "/api/v1/namespaces/a/pods", undefined, {}, token)).status === 403);
    // the account goes: its tokens stop working (after the short per-isolate cache)
    await ok("delete serviceaccount sa -n a");
    await eventually(async () => (await send(t, "GET", "/api/v1/namespaces/a/pods", undefined, {}, token)).status === 401, 30_000);
    await ok("create serviceaccount sa -n a");
  }, 90_000);

  it("kubectl auth whoami, and can-i for the admin (system:masters)", async () => {
    const who = await ok("auth whoami");
    expect(who).toMatch(/^ATTRIBUTE\s+VALUE\nUsername\s+admin\nGroups\s+\[system:masters system:authenticated\]\n$/);
    expect(await ok("auth can-i '*' '*' --all-namespaces")).toBe("yes\n");
    expect(await ok("get clusterroles cluster-admin view edit admin system:discovery -o name")).toBe(
      "clusterrole.rbac.authorization.k8s.io/cluster-admin\nclusterrole.rbac.authorization.k8s.io/view\nclusterrole.rbac.authorization.k8s.io/edit\nclusterrole.rbac.authorization.k8s.io/admin\nclusterrole.rbac.authorization.k8s.io/system:discovery\n",
    );
    // kubectl's own describers for the RBAC kinds
    const described = await ok("describe clusterrole view");
    expect(described).toMatch(/^Name:\s+view\n/);
    expect(described).toMatch(/PolicyRule:\n\s+Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs\n/);
    expect(described).toMatch(/\n\s+pods\s+\[\]\s+\[\]\s+\[get list watch\]\n/);
    expect(await ok("describe clusterrolebinding cluster-admin")).toMatch(
      /Role:\n\s+Kind:\s+ClusterRole\n\s+Name:\s+cluster-admin\nSubjects:\n\s+Kind\s+Name\s+Namespace\n\s+----\s+----\s+---------\n\s+Group\s+system:masters\s*\n/,
    );
    expect(await ok("get clusterrolebinding cluster-admin -o wide")).toMatch(/cluster-admin\s+ClusterRole\/cluster-admin\s+\S+\s+system:masters\s*\n$/);
  }, 60_000);

  it("reviews are create-only and check their bodies: 422 naming the field, 405 for other verbs", async () => {
    const ssar = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    const neither = await send(t, "POST", ssar, { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: {} });
    expect(neither.status).toBe(422);
    expect(neither.json.details.causes[0].field).toBe("spec.resourceAttributes");
    const typed = await send(t, "POST", ssar, { kind: "SelfSubjectAccessReview", spec: { resourceAttributes: { verb: 5 } } });
    expect(typed.status).toBe(422);
    expect(typed.json.details.causes[0].field).toBe("spec.resourceAttributes.verb");
    expect((await send(t, "GET", ssar)).status).toBe(405);
    expect((await send(t, "POST", ssar, { kind: "Pod" })).status).toBe(400);
    const sar = await send(t, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      spec: { resourceAttributes: { verb: "get", resource: "pods" } },
    });
    expect(sar.status).toBe(422);
    expect(sar.json.details.causes[0].field).toBe("spec.user");
    const local = await send(t, "POST", "/apis/authorization.k8s.io/v1/namespaces/a/localsubjectaccessreviews", {
      spec: { user: "nobody", resourceAttributes: { verb: "get", resource: "pods", namespace: "b" } },
    });
    expect(local.status).toBe(422);
    expect(local.json.details.causes[0].field).toBe("spec.resourceAttributes.namespace");
    // a token review of a token that is no one's
    const tr = await send(t, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", { spec: { token: "nope" } });
    expect(tr.status).toBe(201);
    expect(tr.json.status.authenticated).toBeUndefined();
  }, 60_000);

  it("escalation prevention: a namespace admin may grant what it holds, not more; aggregation adds labelled rules to view", async () => {
    await ok("create serviceaccount boss -n b");
    await ok("create rolebinding boss-admin --clusterrole=admin --serviceaccount=b:boss -n b");
    const token = (await ok("create token boss -n b")).trim();
    const role = (rules: unknown[]) => ({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "r" }, rules });
    const held = await send(
      t,
      "POST",
      "/apis/rbac.authorization.k8s.io/v1/namespaces/b/roles",
      role([{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }]),
      {},
      token,
    );
    expect(held.status).toBe(201);
    const more = await send(
      t,
      "POST",
      "/apis/rbac.authorization.k8s.io/v1/namespaces/b/roles",
      { ...role([{ apiGroups: [""], resources: ["nodes"], verbs: ["get"] }]), metadata: { name: "r2" } },
      {},
      token,
    );
    expect(more.status).toBe(403);
    expect(more.json.message).toBe(
      'roles.rbac.authorization.k8s.io "r2" is forbidden: user "system:serviceaccount:b:boss" (groups=["system:serviceaccounts" "system:serviceaccounts:b" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}',
    );
    const bindAdmin = await send(
      t,
      "POST",
      "/apis/rbac.authorization.k8s.io/v1/namespaces/b/rolebindings",
      {
        metadata: { name: "to-ca" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
        subjects: [{ kind: "User", name: "x" }],
      },
      {},
      token,
    );
    expect(bindAdmin.status).toBe(403);
    expect(bindAdmin.json.message).toContain("is attempting to grant RBAC permissions not currently held");
    const bindView = await send(
      t,
      "POST",
      "/apis/rbac.authorization.k8s.io/v1/namespaces/b/rolebindings",
      {
        metadata: { name: "to-view" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "User", name: "x" }],
      },
      {},
      token,
    );
    expect(bindView.status).toBe(201);
    expect(bindView.json.subjects[0].apiGroup).toBe("rbac.authorization.k8s.io");

    // aggregation: a ClusterRole labelled aggregate-to-view adds its rules to view (and so to edit and admin)
    const widgets = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "widget-reader", labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } },
      rules: [{ apiGroups: ["example.com"], resources: ["widgets"], verbs: ["get"] }],
    };
    expect((await send(t, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", widgets)).status).toBe(201);
    for (const r of ["view", "edit", "admin"]) {
      await eventually(async () => {
        const got = await send(t, "GET", `/apis/rbac.authorization.k8s.io/v1/clusterroles/${r}`);
        return got.json.rules.some((x: any) => x.resources?.includes("widgets"));
      }, 30_000);
    }
    const sar = (user: string, namespace: string) =>
      send(t, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: { user, groups: ["system:authenticated"], resourceAttributes: { namespace, verb: "get", group: "example.com", resource: "widgets" } },
      });
    await eventually(async () => (await sar("system:serviceaccount:b:boss", "b")).json.status.allowed === true);
    expect((await sar("system:serviceaccount:b:boss", "a")).json.status.allowed).toBe(false);
  }, 90_000);
});
