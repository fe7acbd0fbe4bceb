/**
 * StatefulSets, ControllerRevisions and rollout history/undo for StatefulSets and
 * DaemonSets with the real kubectl against `npm start`'s server and a hollow node.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../node/server";
import { eventually, type Kubectl, kubectl } from "./kubectl";
import { kubectlOk, rows } from "./kubectl-session";
import { startTestNode, type TestNode } from "./testnode";

let server: RunningServer;
let dir: string;
let k: Kubectl;
let node: TestNode;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kf-kubectl-sts-"));
  server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "data"), synchronous: "NORMAL", watchPollMs: 200, log: () => {} });
  k = kubectl(server.kubeconfigPath, "1.32", dir);
  node = await startTestNode(server, `sts-node-${process.pid}`);
});

afterAll(async () => {
  await node?.stop();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ok = (args: string | string[], input?: string) => kubectlOk(k, args, input);

// the book's StatefulSet (kubia-statefulset.yaml, apps/v1), without the claim templates
const WEB = `apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  clusterIP: None
  selector:
    app: nginx
  ports:
  - name: http
    port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.26
        ports:
        - containerPort: 80
          name: http
`;

const DS = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: monitor
spec:
  selector:
    matchLabels:
      app: monitor
  template:
    metadata:
      labels:
        app: monitor
    spec:
      containers:
      - name: main
        image: monitor:1
`;

describe("kubectl: StatefulSets and rollout history", () => {
  it("apply, rollout status, get columns, history, undo (and a skipped undo to the current revision)", async () => {
    const f = join(dir, "web.yaml");
    writeFileSync(f, WEB);
    expect(await ok(`apply -f ${f}`)).toBe("service/nginx created\nstatefulset.apps/web created\n");
    const status = await k("rollout status statefulset/web --timeout=60s");
    expect(status.stdout).toContain("partitioned roll out complete: 3 new pods have been updated...");
    expect(rows(await ok("get pods -l app=nginx -o custom-columns=NAME:.metadata.name,HOST:.spec.hostname,SUB:.spec.subdomain --no-headers"))).toEqual([
      ["web-0", "web-0", "nginx"],
      ["web-1", "web-1", "nginx"],
      ["web-2", "web-2", "nginx"],
    ]);
    const t = rows(await ok("get statefulset web"));
    expect(t[0]).toEqual(["NAME", "READY", "AGE"]);
    expect(t[1].slice(0, 2)).toEqual(["web", "3/3"]);
    expect(rows(await ok("get sts web -o wide"))[0]).toEqual(["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"]);

    await ok("set image statefulset/web nginx=nginx:1.27");
    expect((await k("rollout status statefulset/web --timeout=60s")).stdout).toContain("partitioned roll out complete: 3 new pods have been updated...");
    expect(await ok("get pods -l app=nginx -o jsonpath={.items[*].spec.containers[0].image}")).toBe("nginx:1.27 nginx:1.27 nginx:1.27");
    expect(await ok("rollout history statefulset/web")).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    expect(await ok("rollout history statefulset/web --revision=1")).toContain("nginx:1.26");
    const crs = rows(await ok("get controllerrevisions -l app=nginx"));
    expect(crs[0]).toEqual(["NAME", "CONTROLLER", "REVISION", "AGE"]);
    expect(
      crs
        .slice(1)
        .map((r) => [r[1], r[2]])
        .sort((a, b) => a[1].localeCompare(b[1])),
    ).toEqual([
      ["statefulset.apps/web", "1"],
      ["statefulset.apps/web", "2"],
    ]);

    expect(await ok("rollout undo statefulset/web")).toBe("statefulset.apps/web rolled back\n");
    expect(await ok("get sts web -o jsonpath={.spec.template.spec.containers[0].image}")).toBe("nginx:1.26");
    await eventually(
      async () => (await ok("get pods -l app=nginx -o jsonpath={.items[*].spec.containers[0].image}")) === "nginx:1.26 nginx:1.26 nginx:1.26",
      60_000,
    );
    expect((await k("rollout status statefulset/web --timeout=60s")).stdout).toContain("partitioned roll out complete");
    expect(await ok("rollout history statefulset/web")).toMatch(/REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);
    // kubectl compares the revision's bytes with the template it marshals itself
    expect(await ok("rollout undo statefulset/web --to-revision=3")).toBe(
      "statefulset.apps/web skipped rollback (current template already matches revision 3)\n",
    );
    expect(await ok("rollout undo statefulset/web --to-revision=2")).toBe("statefulset.apps/web rolled back\n");
    expect(await ok("get sts web -o jsonpath={.spec.template.spec.containers[0].image}")).toBe("nginx:1.27");

    expect(await ok("scale statefulset web --replicas=1")).toBe("statefulset.apps/web scaled\n");
    await eventually(async () => (await ok("get pods -l app=nginx -o name")).trim() === "pod/web-0", 60_000);
    const d = await ok("describe statefulset web");
    expect(d).toMatch(/Normal\s+SuccessfulDelete\s+.*delete Pod web-2 in StatefulSet web successful/);
  });

  it("DaemonSet: rollout history and undo", async () => {
    const f = join(dir, "ds.yaml");
    writeFileSync(f, DS);
    await ok(`apply -f ${f}`);
    expect((await k("rollout status daemonset/monitor --timeout=60s")).stdout).toContain('daemon set "monitor" successfully rolled out');
    await ok("set image daemonset/monitor main=monitor:2");
    expect((await k("rollout status daemonset/monitor --timeout=60s")).stdout).toContain("successfully rolled out");
    expect(await ok("rollout history daemonset/monitor")).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    expect(await ok("rollout history daemonset/monitor --revision=1")).toContain("monitor:1");
    expect(await ok("rollout undo daemonset/monitor")).toBe("daemonset.apps/monitor rolled back\n");
    expect((await k("rollout status daemonset/monitor --timeout=60s")).stdout).toContain("successfully rolled out");
    expect(await ok("get pods -l app=monitor -o jsonpath={.items[*].spec.containers[0].image}")).toBe("monitor:1");
    expect(await ok("rollout history daemonset/monitor")).toMatch(/REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);
    expect(await ok("rollout undo daemonset/monitor --to-revision=3")).toBe(
      "daemonset.apps/monitor skipped rollback (current template already matches revision 3)\n",
    );
    expect(rows(await ok("get controllerrevisions -l app=monitor"))[1][1]).toBe("daemonset.apps/monitor");
  });

  it("volumeClaimTemplates: a claim <template>-<set>-<n> per pod, of the default class, given its pod's node, mounted as the template's volume, kept on scale down", async () => {
    const f = join(dir, "db.yaml");
    writeFileSync(
      f,
      `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 2
  podManagementPolicy: Parallel
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: db:1
        volumeMounts:
        - {name: data, mountPath: /var/lib/db}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
`,
    );
    await ok(`apply -f ${f}`);
    const claims = await eventually(async () => {
      const out = rows(
        await ok([
          "get",
          "pvc",
          "-l",
          "app=db",
          "-o",
          "custom-columns=NAME:.metadata.name,CLASS:.spec.storageClassName,SIZE:.spec.resources.requests.storage,NODE:.metadata.annotations.volume\\.kubernetes\\.io/selected-node",
          "--no-headers",
        ]),
      );
      return out.length === 2 && out.every((r) => r[3] === node.name) && out;
    }, 60_000);
    expect(claims).toEqual([
      ["data-db-0", "local-path", "1Gi", node.name],
      ["data-db-1", "local-path", "1Gi", node.name],
    ]);
    expect(await ok("get pod db-0 -o jsonpath={.spec.volumes[?(@.name=='data')].persistentVolumeClaim.claimName}")).toBe("data-db-0");
    await ok("scale statefulset db --replicas=1");
    await eventually(async () => (await ok("get pods -l app=db -o name")).trim() === "pod/db-0", 60_000);
    // persistentVolumeClaimRetentionPolicy whenScaled: Retain (the default)
    expect((await ok("get pvc data-db-1 -o name")).trim()).toBe("persistentvolumeclaim/data-db-1");
  });
});
