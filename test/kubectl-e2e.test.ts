/**
 * The everyday kubectl session, with the real kubectl binaries, against `npm start`'s
 * server (real HTTPS, generated CA and kubeconfig) with every controller running.
 *
 * Until the node agent lands, a test node stands in for it: it registers a Node,
 * renews its Lease, and reports the pods bound to it as Running and Ready, which is
 * what the rollout, scale and describe commands need to see.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../node/server";
import { eventually, type Kubectl, kubectl } from "./kubectl";
import { kubectlOk, rows } from "./kubectl-session";
import { KUBIA_INGRESS } from "./book";
import { startTestNode, type TestNode } from "./testnode";

let server: RunningServer;
let dir: string;
let k: Kubectl;
let node: TestNode;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kf-kubectl-"));
  server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "data"), synchronous: "NORMAL", watchPollMs: 200, log: () => {} });
  k = kubectl(server.kubeconfigPath, "1.32", dir);
  node = await startTestNode(server, "node-1");
});

afterAll(async () => {
  await node?.stop();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const file = (name: string, text: string) => {
  const p = join(dir, name);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text);
  return p;
};

const ok = (args: string | string[], input?: string) => kubectlOk(k, args, input);

const KUBIA = `apiVersion: v1
kind: Pod
metadata:
  name: kubia-manual
  labels:
    creation_method: manual
    env: prod
spec:
  hostNetwork: true
  containers:
  - image: luksa/kubia
    name: kubia
    ports:
    - containerPort: 8080
      protocol: TCP
`;

describe("kubectl: the seeds' walkthrough", () => {
  it("version, cluster-info and api-resources", async () => {
    const v = await ok("version -o json");
    expect(JSON.parse(v).serverVersion).toMatchObject({ major: "1", minor: "32" });
    expect(await ok("cluster-info")).toContain("is running at https://127.0.0.1:");
    const res = await ok("api-resources");
    for (const line of ["pods", "deployments", "replicationcontrollers", "leases"]) expect(res).toContain(line);
    expect(rows(res).find((r) => r[0] === "pods")).toEqual(["pods", "po", "v1", "true", "Pod"]);
    expect(rows(res).find((r) => r[0] === "deployments")).toEqual(["deployments", "deploy", "apps/v1", "true", "Deployment"]);
  });

  it("get nodes and namespaces as tables", async () => {
    const nodes = rows(await ok("get nodes"));
    expect(nodes[0]).toEqual(["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    expect(nodes[1].slice(0, 3)).toEqual(["node-1", "Ready", "<none>"]);
    const ns = rows(await ok("get ns"));
    expect(ns[0]).toEqual(["NAME", "STATUS", "AGE"]);
    expect(ns.map((r) => r[0])).toEqual(expect.arrayContaining(["default", "kube-system", "kube-node-lease", "kube-public"]));
  });

  it("creates a pod from YAML with default (strict) validation, lists it with labels and selectors", async () => {
    expect(await ok(["create", "-f", file("kubia-manual.yaml", KUBIA)])).toBe("pod/kubia-manual created\n");
    const again = await k(["create", "-f", join(dir, "kubia-manual.yaml")]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Error from server (AlreadyExists): error when creating "');
    expect(again.stderr).toContain('pods "kubia-manual" already exists');
    await ok(["run", "kubia-dev", "--image=luksa/kubia", "--labels=creation_method=auto,env=devel", "--overrides", '{"spec":{"hostNetwork":true}}']);
    await eventually(async () => (await ok("get pod kubia-manual -o jsonpath={.status.phase}")) === "Running");

    const pods = rows(await ok("get pods"));
    expect(pods[0]).toEqual(["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    expect(pods.find((r) => r[0] === "kubia-manual")?.slice(1, 4)).toEqual(["1/1", "Running", "0"]);

    const wide = rows(await ok("get pods -o wide"));
    expect(wide[0]).toEqual(["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
    expect(wide.find((r) => r[0] === "kubia-manual")?.slice(6)).toEqual(["node-1", "<none>", "<none>"]);

    const shown = await ok("get po --show-labels");
    expect(shown).toMatch(/kubia-manual .*creation_method=manual,env=prod/);
    const cols = rows(await ok("get po -L creation_method,env"));
    expect(cols[0]).toEqual(["NAME", "READY", "STATUS", "RESTARTS", "AGE", "CREATION_METHOD", "ENV"]);
    expect(cols.find((r) => r[0] === "kubia-dev")?.slice(-2)).toEqual(["auto", "devel"]);

    expect(await ok(["get", "po", "-l", "env in (prod,devel)", "-o", "name"])).toBe("pod/kubia-dev\npod/kubia-manual\n");
    expect(await ok(["get", "po", "-l", "creation_method!=manual", "-o", "name"])).toBe("pod/kubia-dev\n");
    expect(await ok(["get", "po", "-l", "!env", "-o", "name"])).toBe("");
    expect(await ok(["get", "po", "--field-selector", "metadata.name=kubia-dev", "-o", "name"])).toBe("pod/kubia-dev\n");
    const none = await k(["get", "po", "-l", "env=qa"]);
    expect(none.stderr).toBe("No resources found in default namespace.\n");
  });

  it("labels and annotates, with --overwrite and key-", async () => {
    expect(await ok("label po kubia-manual creation_method=manual2 --overwrite")).toBe("pod/kubia-manual labeled\n");
    const clash = await k("label po kubia-manual env=debug");
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain("already has a value (prod), and --overwrite is false");
    await ok("label po kubia-manual env-");
    expect(await ok("get po kubia-manual -o jsonpath={.metadata.labels}")).toBe('{"creation_method":"manual2"}');
    await ok("annotate pod kubia-manual mycompany.com/someannotation=foo-bar");
    expect(await ok(["get", "po", "kubia-manual", "-o", "jsonpath={.metadata.annotations.mycompany\\.com/someannotation}"])).toBe("foo-bar");
  });

  it("prints yaml, json and jsonpath", async () => {
    const y = await ok("get po kubia-manual -o yaml");
    expect(y).toContain("kind: Pod");
    expect(y).toContain("restartPolicy: Always");
    expect(y).toContain("terminationGracePeriodSeconds: 30");
    const list = JSON.parse(await ok("get pods -A -o json"));
    expect(list.kind).toBe("List");
    expect(list.items.map((p: any) => p.metadata.name)).toEqual(expect.arrayContaining(["kubia-dev", "kubia-manual"]));
  });

  it("namespaces: create (protobuf body), use and delete", async () => {
    expect(await ok("create namespace custom-namespace")).toBe("namespace/custom-namespace created\n");
    await ok(["create", "-f", join(dir, "kubia-manual.yaml"), "-n", "custom-namespace"]);
    expect(rows(await ok("get po -n custom-namespace")).map((r) => r[0])).toEqual(["NAME", "kubia-manual"]);
    expect(await ok("delete ns custom-namespace")).toBe('namespace "custom-namespace" deleted\n');
    expect((await k("get ns custom-namespace")).stderr).toContain('namespaces "custom-namespace" not found');
  });

  it("describes a pod and a node, with events", async () => {
    const d = await ok("describe pod kubia-manual");
    expect(d).toMatch(/Name:\s+kubia-manual/);
    expect(d).toMatch(/Node:\s+node-1\//);
    expect(d).toMatch(/Status:\s+Running/);
    expect(d).toMatch(/Normal\s+Scheduled\s+.*Successfully assigned default\/kubia-manual to node-1/);
    const n = await ok("describe node node-1");
    expect(n).toMatch(/Name:\s+node-1/);
    expect(n).toMatch(/cpu:\s+4/);
    expect(n).toContain("kubia-manual");
  });

  it("ReplicationController: create, scale, and a deleted pod is replaced", async () => {
    await ok([
      "create",
      "-f",
      file(
        "kubia-rc.yaml",
        `apiVersion: v1
kind: ReplicationController
metadata:
  name: kubia
spec:
  replicas: 3
  selector:
    app: kubia
  template:
    metadata:
      labels:
        app: kubia
    spec:
      hostNetwork: true
      containers:
      - name: kubia
        image: luksa/kubia
        ports:
        - containerPort: 8080
`,
      ),
    ]);
    const ready = (n: number) => eventually(async () => rows(await ok("get rc kubia"))[1]?.[3] === String(n) && rows(await ok("get rc kubia"))[1]);
    expect(await ready(3)).toEqual(["kubia", "3", "3", "3", expect.any(String)]);
    const victim = (await ok("get pods -l app=kubia -o name")).trim().split("\n")[0];
    await ok(["delete", victim]);
    await eventually(
      async () => (await ok("get pods -l app=kubia -o name")).trim().split("\n").length === 3 && !(await ok("get pods -l app=kubia -o name")).includes(victim),
    );
    expect(await ok("scale rc kubia --replicas=5")).toBe("replicationcontroller/kubia scaled\n");
    await ready(5);
    await ok("scale rc kubia --replicas=2");
    await eventually(async () => (await ok("get pods -l app=kubia -o name")).trim().split("\n").length === 2);
    expect(await ok("delete rc kubia")).toBe('replicationcontroller "kubia" deleted\n');
    await eventually(async () => (await ok("get pods -l app=kubia -o name")) === "");
  });

  it("Deployment: create, rollout status, update, history, undo, scale, delete cascades", async () => {
    expect(await ok("create deployment kubia --image=luksa/kubia:v1 --replicas=3")).toBe("deployment.apps/kubia created\n");
    // test node runs hostNetwork-less pods too; the controllers don't care
    const status = await k("rollout status deployment/kubia --timeout=60s");
    expect(status.stdout).toContain('deployment "kubia" successfully rolled out');
    const d = rows(await ok("get deploy kubia"));
    expect(d[0]).toEqual(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    expect(d[1].slice(0, 4)).toEqual(["kubia", "3/3", "3", "3"]);
    const wide = rows(await ok("get deploy kubia -o wide"));
    expect(wide[0]).toEqual(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]);
    expect(wide[1].slice(5)).toEqual(["kubia", "luksa/kubia:v1", "app=kubia"]);

    await ok("set image deployment/kubia kubia=luksa/kubia:v2");
    expect((await k("rollout status deployment/kubia --timeout=60s")).stdout).toContain("successfully rolled out");
    const rs = rows(await ok("get rs -l app=kubia"));
    expect(rs.length).toBe(3); // header + 2 ReplicaSets
    const history = await ok("rollout history deployment/kubia");
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    expect(await ok("rollout history deployment/kubia --revision=1")).toContain("luksa/kubia:v1");

    expect(await ok("rollout undo deployment/kubia")).toBe("deployment.apps/kubia rolled back\n");
    expect((await k("rollout status deployment/kubia --timeout=60s")).stdout).toContain("successfully rolled out");
    expect(await ok("get deploy kubia -o jsonpath={.spec.template.spec.containers[0].image}")).toBe("luksa/kubia:v1");
    expect(rows(await ok("get rs -l app=kubia")).length).toBe(3); // the v1 ReplicaSet was reused
    expect(await ok("rollout history deployment/kubia")).toMatch(/2\s+<none>\n3\s+<none>/);
    expect(await ok("rollout undo deployment/kubia --to-revision=2")).toBe("deployment.apps/kubia rolled back\n");
    expect((await k("rollout status deployment/kubia --timeout=60s")).stdout).toContain("successfully rolled out");
    expect(await ok("get deploy kubia -o jsonpath={.spec.template.spec.containers[0].image}")).toBe("luksa/kubia:v2");
    const rsName = (await ok("get rs -l app=kubia -o name")).trim().split("\n")[0];
    expect(await ok(`scale ${rsName} --replicas=0`)).toBe(`${rsName} scaled\n`);

    const dd = await ok("describe deployment kubia");
    expect(dd).toMatch(/Replicas:\s+3 desired \| 3 updated \| 3 total \| 3 available \| 0 unavailable/);
    expect(dd).toMatch(/StrategyType:\s+RollingUpdate/);
    expect(dd).toMatch(/NewReplicaSet:\s+kubia-\w+ \(3\/3 replicas created\)/);
    expect(dd).toMatch(/Normal\s+ScalingReplicaSet\s+.*Scaled up replica set kubia-\w+ from 0 to 3/);
    const all = await ok("get all");
    expect(all).toMatch(/deployment\.apps\/kubia\s+3\/3/);
    expect(all).toMatch(/replicaset\.apps\/kubia-\w+/);
    expect(all).toMatch(/pod\/kubia-\w+-\w+\s+1\/1\s+Running/);
    expect(all).toMatch(/service\/kubernetes\s+ClusterIP\s+10\.43\.0\.1/);
    expect(await ok("scale deploy kubia --replicas=1")).toBe("deployment.apps/kubia scaled\n");
    await eventually(async () => rows(await ok("get deploy kubia"))[1][1] === "1/1");

    await ok("rollout pause deployment/kubia");
    expect(await ok("get deploy kubia -o jsonpath={.spec.paused}")).toBe("true");
    await ok("rollout resume deployment/kubia");
    await ok("rollout restart deployment/kubia");
    expect((await k("rollout status deployment/kubia --timeout=60s")).stdout).toContain("successfully rolled out");

    expect(await ok("delete deploy kubia")).toBe('deployment.apps "kubia" deleted\n');
    await eventually(async () => (await ok("get rs,pods -l app=kubia -o name")) === "");
  });

  it("Services: create, expose, get svc and endpoints", async () => {
    await ok("create deployment web --image=nginx:1.27 --replicas=2 --port=80");
    expect(await ok("expose deployment web --port=80 --target-port=80")).toBe("service/web exposed\n");
    const svc = rows(await ok("get svc"));
    expect(svc[0]).toEqual(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
    expect(svc.find((r) => r[0] === "web")?.slice(1, 5)).toEqual(["ClusterIP", expect.stringMatching(/^10\.43\.\d+\.\d+$/), "<none>", "80/TCP"]);
    expect(svc.find((r) => r[0] === "kubernetes")?.slice(1, 5)).toEqual(["ClusterIP", "10.43.0.1", "<none>", "443/TCP"]);
    // the well-known Services of every namespace, as k3s shows them
    const everywhere = rows(await ok("get svc -A"));
    expect(everywhere[0]).toEqual(["NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
    expect(everywhere.find((r) => r[1] === "kube-dns")?.slice(0, 6)).toEqual([
      "kube-system",
      "kube-dns",
      "ClusterIP",
      "10.43.0.10",
      "<none>",
      "53/UDP,53/TCP,9153/TCP",
    ]);
    // a clusterIP outside the service CIDR is refused as kube-apiserver refuses it
    const outside = await k("create service clusterip outside --tcp=80:80 --clusterip=10.96.0.5");
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toContain("The range of valid IPs is 10.43.0.0/16");
    await eventually(async () => (await ok("get endpoints web -o jsonpath={.subsets[0].addresses[*].ip}")).split(" ").length === 2);
    const desc = await ok("describe service web");
    expect(desc).toMatch(/Selector:\s+app=web/);
    expect(desc).toMatch(/Endpoints:\s+127\.0\.0\.1:80,127\.0\.0\.1:80/);
    expect(rows(await ok("get ep web"))[0]).toEqual(["NAME", "ENDPOINTS", "AGE"]);
    const ev = rows(await ok("get events --field-selector reason=ScalingReplicaSet"));
    expect(ev[0]).toEqual(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    expect(ev.some((r) => r[3] === "deployment/web")).toBe(true);
    const leases = rows(await ok("get leases -n kube-node-lease"));
    expect(leases[0]).toEqual(["NAME", "HOLDER", "AGE"]);
    expect(leases[1].slice(0, 2)).toEqual(["node-1", "node-1"]);
    expect(await ok("get pods -A -o name")).toContain("pod/web-");
    expect(rows(await ok("get pods -A"))[0]).toEqual(["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    await ok("delete svc web");
    await ok("delete deploy web");
  });

  it("apply twice (strategic merge), multi-document files, a directory, then server-side apply", async () => {
    const v1 = `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  a: "1"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 2
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: app
        image: nginx:1.26
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
`;
    const f = file("apply/app.yaml", v1);
    expect(await ok(["apply", "-f", f])).toBe("configmap/app-config created\ndeployment.apps/app created\n");
    const v2 = v1
      .replace('a: "1"', 'a: "2"')
      .replace("nginx:1.26", "nginx:1.27")
      .replace('        - {name: B, value: "2"}\n', '        - {name: C, value: "3"}\n');
    writeFileSync(f, v2);
    expect(await ok(["apply", "-f", join(dir, "apply")])).toBe("configmap/app-config configured\ndeployment.apps/app configured\n");
    const dep = JSON.parse(await ok("get deploy app -o json"));
    expect(dep.spec.template.spec.containers[0].image).toBe("nginx:1.27");
    expect(dep.spec.template.spec.containers[0].env).toEqual([
      { name: "A", value: "1" },
      { name: "C", value: "3" },
    ]);
    expect(await ok("get cm app-config -o jsonpath={.data.a}")).toBe("2");
    expect(await ok(["apply", "-f", f])).toBe("configmap/app-config unchanged\ndeployment.apps/app unchanged\n");

    const ssa = file("ssa.yaml", `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  x: "1"\n`);
    expect(await ok(["apply", "--server-side", "-f", ssa])).toBe("configmap/ssa serverside-applied\n");
    writeFileSync(ssa, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  x: "2"\n  z: "3"\n`);
    await ok(["apply", "--server-side", "-f", ssa]);
    expect(JSON.parse(await ok("get cm ssa -o json")).data).toEqual({ x: "2", z: "3" });
    expect(await ok(["delete", "-f", f])).toBe('configmap "app-config" deleted\ndeployment.apps "app" deleted\n');
  });

  it("creates every document of a multi-document file, and a directory", async () => {
    const f = file(
      "multi/objects.yaml",
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m2\ndata:\n  a: b\n`,
    );
    file("multi/svc.yaml", `apiVersion: v1\nkind: Service\nmetadata:\n  name: m3\nspec:\n  selector: {app: m}\n  ports:\n  - port: 80\n`);
    expect(await ok(["create", "-f", f])).toBe("configmap/m1 created\nconfigmap/m2 created\n");
    expect(await ok(["delete", "-f", f])).toBe('configmap "m1" deleted\nconfigmap "m2" deleted\n');
    expect(await ok(["create", "-f", join(dir, "multi")])).toBe("configmap/m1 created\nconfigmap/m2 created\nservice/m3 created\n");
    await ok(["delete", "-f", join(dir, "multi")]);
  });

  it("rejects unknown fields under the default strict validation, and invalid objects with causes", async () => {
    const bad = file("bad.yaml", `apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: c\n    image: nginx\n  bogus: 1\n`);
    const r = await k(["create", "-f", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown field "spec.bogus"');
    const inv = file("inv.yaml", `apiVersion: v1\nkind: Pod\nmetadata:\n  name: inv\nspec:\n  containers:\n  - name: c\n`);
    const r2 = await k(["create", "-f", inv]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('The Pod "inv" is invalid: spec.containers[0].image: Required value');
  });

  it("configmaps and secrets from literals (protobuf bodies)", async () => {
    expect(await ok("create configmap cfg --from-literal=a=b --from-literal=c=d")).toBe("configmap/cfg created\n");
    expect(JSON.parse(await ok("get cm cfg -o json")).data).toEqual({ a: "b", c: "d" });
    expect(await ok("create secret generic pw --from-literal=password=hunter2")).toBe("secret/pw created\n");
    expect(Buffer.from(await ok("get secret pw -o jsonpath={.data.password}"), "base64").toString()).toBe("hunter2");
    const s = rows(await ok("get secret pw"));
    expect(s[1].slice(0, 3)).toEqual(["pw", "Opaque", "1"]);
  });

  it("service accounts: every namespace has `default`; create (protobuf body), get, and pods name theirs", async () => {
    expect(rows(await ok("get sa"))[1][0]).toBe("default");
    expect(await ok("create serviceaccount builder")).toBe("serviceaccount/builder created\n");
    const r = rows(await ok("get serviceaccounts builder"));
    expect(r[0]).toEqual(["NAME", "SECRETS", "AGE"]);
    expect(r[1].slice(0, 2)).toEqual(["builder", "0"]);
    const missing = await k('run lonely --image=busybox --overrides={"spec":{"serviceAccountName":"ghost"}}');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('error looking up service account default/ghost: serviceaccount "ghost" not found');
  });

  it("jobs: create (protobuf body), get with kubectl's columns, delete", async () => {
    expect(await ok("create job hello --image=busybox -- echo hi")).toBe("job.batch/hello created\n");
    const job = JSON.parse(await ok("get job hello -o json"));
    expect(job.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6 });
    expect(job.spec.template.spec.restartPolicy).toBe("Never");
    const r = rows(await ok("get jobs"));
    expect(r[0]).toEqual(["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]);
    expect(r[1].slice(0, 3)).toEqual(["hello", "Running", "0/1"]);
    expect(await ok("delete job hello")).toBe('job.batch "hello" deleted\n');
  });

  it("cronjobs: create (protobuf body), get with kubectl's columns, create a Job from one", async () => {
    expect(await ok(["create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *", "--", "echo", "backup"])).toBe(
      "cronjob.batch/nightly created\n",
    );
    const r = rows(await ok("get cronjobs"));
    expect(r[0]).toEqual(["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"]);
    expect(r[1].slice(0, 6)).toEqual(["nightly", "0 3 * * *", "<none>", "False", "0", "<none>"]);
    expect(await ok("create job manual-run --from=cronjob/nightly")).toBe("job.batch/manual-run created\n");
    const job = JSON.parse(await ok("get job manual-run -o json"));
    expect(job.metadata.annotations["cronjob.kubernetes.io/instantiate"]).toBe("manual");
    expect(job.metadata.ownerReferences[0]).toMatchObject({ kind: "CronJob", name: "nightly" });
    expect(job.spec.template.spec.containers[0].args ?? job.spec.template.spec.containers[0].command).toEqual(["echo", "backup"]);
    expect(await ok("delete cronjob nightly")).toBe('cronjob.batch "nightly" deleted\n');
  });

  it("drain: cordons, evicts one pod at a time under a PodDisruptionBudget, and the pods run elsewhere", async () => {
    await ok("create deployment drainme --image=busybox --replicas=3");
    await eventually(
      async () => (await ok("get pods -l app=drainme -o jsonpath={.items[*].status.phase}")).split(" ").filter((p) => p === "Running").length === 3,
    );
    await ok(
      ["create", "-f", "-"],
      "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: drainme}\nspec:\n  minAvailable: 2\n  selector: {matchLabels: {app: drainme}}\n",
    );
    await eventually(async () => rows(await ok("get pdb drainme"))[1]?.[3] === "1");
    expect(rows(await ok("get pdb drainme"))[0]).toEqual(["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"]);
    const second = await startTestNode(server, "node-2");
    try {
      const r = await k("drain node-1 --pod-selector=app=drainme --ignore-daemonsets --timeout=120s", { timeoutMs: 130_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("node/node-1 cordoned");
      expect(r.stdout).toContain("node/node-1 drained");
      // each pod evicted (retried ones are named again)
      expect(new Set((r.stdout + r.stderr).match(/evicting pod default\/drainme-\S+/g)).size).toBe(3);
      // the budget held: at least one eviction had to wait for a replacement to be ready
      expect(r.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
      const nodes = (await ok("get pods -l app=drainme -o jsonpath={.items[*].spec.nodeName}")).split(" ");
      expect(nodes).toEqual(["node-2", "node-2", "node-2"]);
      expect(JSON.parse(await ok("get node node-1 -o json")).spec.unschedulable).toBe(true);
    } finally {
      await k("uncordon node-1");
      await k("delete deployment drainme");
      await k("delete pdb drainme");
      await eventually(async () => (await ok("get pods -l app=drainme -o name")).trim() === "", 30_000);
      await second.stop();
      await k("delete node node-2");
    }
  }, 180_000);

  it("explains fields from our own OpenAPI descriptions", async () => {
    const e = await ok("explain pod.spec.containers");
    expect(e).toMatch(/KIND:\s+Pod/);
    expect(e).toMatch(/FIELD:\s+containers/);
    expect(e).toContain("image");
    expect(await ok("explain deployment.spec.strategy")).toMatch(/rollingUpdate/);
  });

  it("watches: get -w prints ADDED, MODIFIED and DELETED rows", async () => {
    await ok("create configmap before-watch --from-literal=a=0");
    const w = k.spawn(["get", "cm", "-w", "--output-watch-events"]);
    try {
      await eventually(async () => w.output().includes("before-watch"));
      await ok("create configmap watched --from-literal=a=1");
      await ok(["patch", "cm", "watched", "-p", '{"data":{"a":"2"}}']);
      await ok("delete cm watched");
      await eventually(async () => /DELETED\s+watched/.test(w.output()));
      const out = w.output();
      expect(out).toMatch(/ADDED\s+watched/);
      expect(out).toMatch(/MODIFIED\s+watched/);
    } finally {
      w.kill();
    }
  });

  it("errors read as kubectl prints them", async () => {
    const r = await k("get pod nope");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error from server (NotFound): pods "nope" not found\n');
    const d = await k("delete deploy nope");
    expect(d.stderr).toBe('Error from server (NotFound): deployments.apps "nope" not found\n');
  });

  it("--watch-only prints only what changes", async () => {
    const w = k.spawn(["get", "cm", "--watch-only"]);
    try {
      await new Promise((r) => setTimeout(r, 500));
      await ok("create configmap only-new --from-literal=a=1");
      await eventually(async () => w.output().includes("only-new"));
      expect(w.output()).not.toContain("before-watch");
    } finally {
      w.kill();
    }
  });

  it("deletes a pod and waits until it is gone", async () => {
    expect(await ok("delete pod kubia-manual")).toBe('pod "kubia-manual" deleted\n');
    expect((await k("get pod kubia-manual")).code).toBe(1);
  });
});

/** The book's storage manifests (Kubernetes in Action, chapter 6), current apiVersions; the dynamic class's provisioner changed to local-path. */
const MONGODB_PV = `apiVersion: v1
kind: PersistentVolume
metadata:
  name: mongodb-pv
spec:
  capacity:
    storage: 1Gi
  accessModes:
    - ReadWriteOnce
    - ReadOnlyMany
  persistentVolumeReclaimPolicy: Retain
  hostPath:
    path: /tmp/mongodb
`;
const MONGODB_PVC = `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: mongodb-pvc
spec:
  resources:
    requests:
      storage: 1Gi
  accessModes:
  - ReadWriteOnce
  storageClassName: ""
`;
const MONGODB_POD_PVC = `apiVersion: v1
kind: Pod
metadata:
  name: mongodb
spec:
  containers:
  - image: mongo
    name: mongodb
    volumeMounts:
    - name: mongodb-data
      mountPath: /data/db
    ports:
    - containerPort: 27017
      protocol: TCP
  volumes:
  - name: mongodb-data
    persistentVolumeClaim:
      claimName: mongodb-pvc
`;
const STORAGECLASS_FAST = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
provisioner: kubeflare.dev/local-path
parameters:
  type: pd-ssd
`;
const MONGODB_PVC_DP = `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: mongodb-pvc-dp
spec:
  storageClassName: fast
  resources:
    requests:
      storage: 100Mi
  accessModes:
    - ReadWriteOnce
`;

describe("kubectl: storage (the book's chapter 6)", () => {
  it("a pod on an unbound claim waits; the book's hostPath PV binds it and the pod runs; get pv,pvc,sc with kubectl's columns", async () => {
    expect(await ok(["create", "-f", file("books/mongodb-pvc.yaml", MONGODB_PVC)])).toBe("persistentvolumeclaim/mongodb-pvc created\n");
    expect(await ok(["create", "-f", file("books/mongodb-pod-pvc.yaml", MONGODB_POD_PVC)])).toBe("pod/mongodb created\n");
    await eventually(
      async () => (await ok("get pod mongodb -o jsonpath={.status.conditions[0].message}")).includes("pod has unbound immediate PersistentVolumeClaims"),
      20_000,
    );
    expect(await ok("get pod mongodb -o jsonpath={.spec.nodeName}")).toBe("");
    expect(rows(await ok("get pvc mongodb-pvc"))[1].slice(0, 2)).toEqual(["mongodb-pvc", "Pending"]);
    expect(await ok(["create", "-f", file("books/mongodb-pv-hostpath.yaml", MONGODB_PV)])).toBe("persistentvolume/mongodb-pv created\n");
    await eventually(async () => (await ok("get pod mongodb -o jsonpath={.status.phase}")) === "Running", 30_000);
    expect(await ok("get pod mongodb -o jsonpath={.spec.nodeName}")).toBe("node-1");

    const pv = rows(await ok("get pv mongodb-pv"));
    expect(pv[0]).toEqual(["NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE"]);
    // STORAGECLASS and REASON are empty: the columns close up around them
    expect(pv[1].slice(0, 7)).toEqual(["mongodb-pv", "1Gi", "RWO,ROX", "Retain", "Bound", "default/mongodb-pvc", "<unset>"]);
    const pvc = rows(await ok("get pvc mongodb-pvc"));
    expect(pvc[0]).toEqual(["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"]);
    expect(pvc[1].slice(0, 6)).toEqual(["mongodb-pvc", "Bound", "mongodb-pv", "1Gi", "RWO,ROX", "<unset>"]);
    const sc = rows(await ok("get sc"));
    expect(sc[0]).toEqual(["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"]);
    expect(sc[1].slice(0, 5)).toEqual(["local-path (default)", "kubeflare.dev/local-path", "Delete", "WaitForFirstConsumer", "false"]);
    // the columns are the server's (Tables): every supported kubectl prints the same
    for (const version of ["1.27", "1.33"]) {
      const out = (await kubectl(server.kubeconfigPath, version, dir)("get pv,pvc")).stdout;
      expect(rows(out).filter((r) => r[0] === "NAME")).toEqual([pv[0], pvc[0]]);
    }
    const all = await ok("get pv,pvc,sc");
    expect(all).toContain("persistentvolume/mongodb-pv");
    expect(all).toContain("persistentvolumeclaim/mongodb-pvc");
    expect(all).toContain("storageclass.storage.k8s.io/local-path (default)");
    expect(await ok("get pv mongodb-pv -o wide")).toMatch(/VOLUMEMODE\n.*Filesystem\n$/);
    expect(await ok("explain pvc.spec.storageClassName")).toContain("the default class");
    expect(await ok("describe pvc mongodb-pvc")).toMatch(/Status:\s+Bound/);
    // claims cannot change after creation but for a bound claim's request (refused here: no class allows expansion)
    const grow = await k(["patch", "pvc", "mongodb-pvc", "-p", '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}']);
    expect(grow.stderr).toContain("only dynamically provisioned pvc can be resized");

    // the pod goes, then the claim: the Retain volume is Released with its claim reference
    expect(await ok("delete pod mongodb")).toBe('pod "mongodb" deleted\n');
    expect(await ok("delete pvc mongodb-pvc")).toBe('persistentvolumeclaim "mongodb-pvc" deleted\n');
    await eventually(async () => rows(await ok("get pv mongodb-pv"))[1][4] === "Released", 20_000);

    // dynamic provisioning: the book's class (Immediate) with the local-path provisioner, which needs a node: the claim waits
    expect(await ok(["apply", "-f", file("books/storageclass-fast-hostpath.yaml", STORAGECLASS_FAST)])).toBe("storageclass.storage.k8s.io/fast created\n");
    expect(await ok(["apply", "-f", file("books/mongodb-pvc-dp.yaml", MONGODB_PVC_DP)])).toBe("persistentvolumeclaim/mongodb-pvc-dp created\n");
    await eventually(async () => (await ok("get events --field-selector involvedObject.name=mongodb-pvc-dp")).includes("ProvisioningFailed"), 20_000);
    expect(rows(await ok("get pvc mongodb-pvc-dp"))[1].slice(0, 2)).toEqual(["mongodb-pvc-dp", "Pending"]);
    const immutable = await k(["patch", "sc", "fast", "-p", '{"parameters":{"type":"hdd"}}']);
    expect(immutable.stderr).toContain("updates to parameters are forbidden");
  });
});

/** The same everyday commands with every other supported kubectl release. */
for (const version of ["1.30", "1.31", "1.33"]) {
  describe(`kubectl ${version}`, () => {
    const kv = () => kubectl(server.kubeconfigPath, version, dir);
    const run = async (args: string | string[]) => {
      const r = await kv()(args);
      if (r.code !== 0) throw new Error(`kubectl ${version} ${Array.isArray(args) ? args.join(" ") : args} failed (${r.code}): ${r.stderr}`);
      return r;
    };
    it("creates, lists, applies, scales, rolls out, explains and deletes", async () => {
      const ns = `v${version.replace(".", "")}`;
      expect((await run(`create namespace ${ns}`)).stdout).toBe(`namespace/${ns} created\n`);
      const f = file(
        `${ns}/app.yaml`,
        `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: ${ns}
spec:
  replicas: 2
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: app
        image: nginx:1.26
`,
      );
      const created = await run(["apply", "-f", f]);
      expect(created.stdout).toBe("deployment.apps/app created\n");
      expect(created.stderr).toBe("");
      expect((await run(["rollout", "status", "deployment/app", "-n", ns, "--timeout=60s"])).stdout).toContain("successfully rolled out");
      writeFileSync(f, readFileSync(f, "utf8").replace("nginx:1.26", "nginx:1.27"));
      expect((await run(["apply", "-f", f])).stdout).toBe("deployment.apps/app configured\n");
      expect((await run(["rollout", "status", "deployment/app", "-n", ns, "--timeout=60s"])).stdout).toContain("successfully rolled out");
      expect((await run(["scale", "deploy/app", "--replicas=3", "-n", ns])).stdout).toBe("deployment.apps/app scaled\n");
      const table = (await run(["get", "deploy", "-n", ns])).stdout;
      expect(rows(table)[0]).toEqual(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
      expect((await run("explain deployment.spec.strategy")).stdout).toMatch(/rollingUpdate/);
      expect((await run(["create", "configmap", "c", "--from-literal=a=b", "-n", ns])).stdout).toBe("configmap/c created\n");
      expect((await run(["delete", "ns", ns])).stdout).toBe(`namespace "${ns}" deleted\n`);
    });
  });
}

describe("kubectl: Ingress and IngressClass", () => {
  it("the default class is seeded and given to Ingresses naming none; kubectl's columns; kube's validation", async () => {
    const ic = rows(await ok("get ingressclass"));
    expect(ic[0]).toEqual(["NAME", "CONTROLLER", "PARAMETERS", "AGE"]);
    expect(ic[1].slice(0, 3)).toEqual(["kubeflare", "kubeflare.dev/ingress", "<none>"]);
    expect(await ok(["apply", "-f", file("books/kubia-ingress.yaml", KUBIA_INGRESS)])).toBe("ingress.networking.k8s.io/kubia created\n");
    expect(await ok("get ing kubia -o jsonpath={.spec.ingressClassName}")).toBe("kubeflare");
    const ing = rows(await ok("get ingress kubia"));
    expect(ing[0]).toEqual(["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]);
    expect(ing[1].slice(0, 2)).toEqual(["kubia", "kubeflare"]);
    expect(ing[1][2]).toBe("kubia.example.com");
    const described = await ok("describe ingress kubia");
    expect(described).toMatch(/Ingress Class:\s+kubeflare/);
    expect(described).toMatch(/kubia\.example\.com\s*\n\s+\/kubia\s+kubia:80 \(/);
    // TLS adds 443; an explicit class is kept
    const tls = KUBIA_INGRESS.replace("name: kubia\n", "name: kubia-tls\n").replace(
      "spec:\n",
      "spec:\n  ingressClassName: other\n  tls:\n  - hosts: [kubia.example.com]\n    secretName: tls-secret\n",
    );
    expect(await ok(["apply", "-f", file("books/kubia-ingress-tls.yaml", tls)])).toBe("ingress.networking.k8s.io/kubia-tls created\n");
    const t = rows(await ok("get ingress kubia-tls"));
    expect(t[1].slice(0, 3)).toEqual(["kubia-tls", "other", "kubia.example.com"]);
    expect(t[1]).toContain("80, 443");
    expect(await ok("explain ingress.spec.rules.http.paths.pathType")).toContain("element-wise");
    // kube's networking validation
    const bad = KUBIA_INGRESS.replace("name: kubia\n", "name: bad\n")
      .replace("host: kubia.example.com", "host: foo.*.example.com")
      .replace("path: /kubia\n        pathType: Prefix", "path: kubia\n        pathType: Prefix")
      .replace(
        "pathType: Prefix\n        backend:\n          service:\n            name: bar",
        "pathType: Regex\n        backend:\n          service:\n            name: bar",
      );
    const r = await k(["apply", "-f", "-"], { input: bad });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.rules[0].host: Invalid value: \"foo.*.example.com\": a wildcard DNS-1123 subdomain must start with '*.'");
    expect(r.stderr).toContain('spec.rules[0].http.paths[0].path: Invalid value: "kubia": must be an absolute path');
    expect(r.stderr).toContain('spec.rules[0].http.paths[1].pathType: Unsupported value: "Regex"');
    const noPort = await k(["create", "-f", "-"], {
      input: `{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"np"},"spec":{"defaultBackend":{"service":{"name":"x"}}}}`,
    });
    expect(noPort.stderr).toContain("spec.defaultBackend.service.port: Required value: port name or number is required");
    const empty = await k(["create", "-f", "-"], { input: `{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"e"},"spec":{}}` });
    expect(empty.stderr).toContain("either `defaultBackend` or `rules` must be specified");
    const ctl = await k(["patch", "ingressclass", "kubeflare", "-p", '{"spec":{"controller":"example.com/other"}}']);
    expect(ctl.stderr).toContain("spec.controller: Invalid value");
    expect(ctl.stderr).toContain("field is immutable");
    expect(await ok("delete ingress kubia-tls")).toBe('ingress.networking.k8s.io "kubia-tls" deleted\n');
  });
});

/** The Kubernetes documentation's sample NetworkPolicy (concepts/services-networking/network-policies). */
const TEST_NETWORK_POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - ipBlock:
        cidr: 172.17.0.0/16
        except:
        - 172.17.1.0/24
    - namespaceSelector:
        matchLabels:
          project: myproject
    - podSelector:
        matchLabels:
          role: frontend
    ports:
    - protocol: TCP
      port: 6379
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/24
    ports:
    - protocol: TCP
      port: 5978
`;

describe("kubectl: NetworkPolicy", () => {
  it("apply, get netpol with kubectl's columns, the defaults, explain, kube's validation", async () => {
    expect(await ok(["apply", "-f", file("docs/netpol.yaml", TEST_NETWORK_POLICY)])).toBe("networkpolicy.networking.k8s.io/test-network-policy created\n");
    const deny = `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"default-deny"},"spec":{"podSelector":{},"egress":[{"ports":[{"port":53}]}]}}`;
    expect(await ok(["apply", "-f", "-"], deny)).toBe("networkpolicy.networking.k8s.io/default-deny created\n");
    const t = rows(await ok("get netpol"));
    expect(t[0]).toEqual(["NAME", "POD-SELECTOR", "AGE"]);
    expect(t.slice(1).map((r) => r.slice(0, 2))).toEqual([
      ["default-deny", "<none>"],
      ["test-network-policy", "role=db"],
    ]);
    // SetDefaults_NetworkPolicy: Ingress plus Egress for egress rules; TCP for a port without protocol
    expect(await ok("get networkpolicy default-deny -o jsonpath={.spec.policyTypes}")).toBe('["Ingress","Egress"]');
    expect(await ok("get networkpolicies.networking.k8s.io default-deny -o jsonpath={.spec.egress[0].ports[0].protocol}")).toBe("TCP");
    expect(await ok("explain networkpolicy.spec.ingress.from.ipBlock")).toContain("must be a strict subset of");
    // kubectl's describer reads the typed object
    const d = await ok("describe netpol test-network-policy");
    expect(d).toContain("PodSelector:     role=db");
    expect(d).toMatch(/To Port: 6379\/TCP/);
    expect(d).toContain("Except: 172.17.1.0/24");
    expect(d).toContain("Policy Types: Ingress, Egress");
    const bad = TEST_NETWORK_POLICY.replace("name: test-network-policy", "name: bad")
      .replace("- 172.17.1.0/24", "- 172.18.1.0/24")
      .replace("      port: 6379", "      port: http\n      endPort: 6380")
      .replace("  - Egress\n", "  - Sideways\n");
    const r = await k(["apply", "-f", "-"], { input: bad });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "172.18.1.0/24": must be a strict subset of `cidr`');
    expect(r.stderr).toContain("spec.ingress[0].ports[0].endPort: Invalid value: 6380: may not be specified when `port` is non-numeric");
    expect(r.stderr).toContain('spec.policyTypes[1]: Unsupported value: "Sideways"');
    const both = await k(["create", "-f", "-"], {
      input: `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"both"},"spec":{"podSelector":{},"ingress":[{"from":[{"ipBlock":{"cidr":"10.0.0.0/8"},"podSelector":{}}]}]}}`,
    });
    expect(both.stderr).toContain("spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer");
    expect(await ok("delete netpol default-deny test-network-policy")).toBe(
      'networkpolicy.networking.k8s.io "default-deny" deleted\nnetworkpolicy.networking.k8s.io "test-network-policy" deleted\n',
    );
  });
});
