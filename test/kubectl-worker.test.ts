/**
 * A subset of the kubectl session against the Worker in Miniflare (HTTPS on a local
 * port, libSQL over Hrana, controllers on the queue): the edge runtime answers kubectl
 * the way the Node server does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Kubectl, kubectl } from "./kubectl";
import { startWorkerTarget } from "./targets";

let t: Awaited<ReturnType<typeof startWorkerTarget>>;
let k: Kubectl;

beforeAll(async () => {
  t = await startWorkerTarget({ controllers: true, https: true });
  k = kubectl(t.kubeconfigPath!, "1.32");
}, 60_000);
afterAll(async () => t?.close());

const ok = async (args: string | string[], input?: string) => {
  const r = await k(args, { input });
  if (r.code !== 0) throw new Error(`kubectl ${args} failed (${r.code}): ${r.stderr}`);
  expect(r.stderr).toBe("");
  return r.stdout;
};

describe("kubectl against the Worker", () => {
  it("discovers, lists as tables, creates (YAML and protobuf), applies, scales and deletes", async () => {
    expect(JSON.parse(await ok("version -o json")).serverVersion.minor).toBe("32");
    expect(await ok("get ns")).toMatch(/^NAME\s+STATUS\s+AGE\n/);
    expect(await ok("create namespace edge")).toBe("namespace/edge created\n");
    const pod = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: edge\n  labels: {app: p}\nspec:\n  containers:\n  - name: c\n    image: busybox\n`;
    expect(await ok(["create", "--save-config", "-f", "-"], pod)).toBe("pod/p created\n");
    expect(await ok("get pods -n edge -l app=p -o name")).toBe("pod/p\n");
    expect(await ok("create deployment web --image=nginx --replicas=2 -n edge")).toBe("deployment.apps/web created\n");
    await eventually(async () => (await ok("get rs -n edge -o name")).startsWith("replicaset.apps/web-"), 30_000);
    expect(await ok("scale deploy web --replicas=3 -n edge")).toBe("deployment.apps/web scaled\n");
    expect(await ok(["apply", "-f", "-"], pod.replace("labels: {app: p}", "labels: {app: p, tier: x}"))).toBe("pod/p configured\n");
    expect(await ok("get pod p -n edge -o jsonpath={.metadata.labels.tier}")).toBe("x");
    expect(await ok("explain deployment.spec.replicas")).toContain("replicas");
    const err = await k("get pod nope -n edge");
    expect(err.stderr).toBe('Error from server (NotFound): pods "nope" not found\n');
    expect(await ok("delete deploy web -n edge")).toBe('deployment.apps "web" deleted\n');
  });

  it("storage: the default class, a claim bound to a hostPath volume, and a WaitForFirstConsumer claim given its pod's node", async () => {
    expect(await ok("get sc")).toMatch(
      /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE\nlocal-path \(default\)\s+kubeflare.dev\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+/,
    );
    const pv = `apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: edge-pv}\nspec:\n  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: /tmp/edge}\n`;
    const pvc = (name: string, cls: string) =>
      `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: ${name}, namespace: default}\nspec:\n  storageClassName: ${cls}\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 500Mi}}\n`;
    expect(await ok(["create", "-f", "-"], pv)).toBe("persistentvolume/edge-pv created\n");
    expect(await ok(["create", "-f", "-"], pvc("edge-claim", '""'))).toBe("persistentvolumeclaim/edge-claim created\n");
    await eventually(async () => /edge-claim\s+Bound\s+edge-pv\s+1Gi\s+RWO\s+<unset>/.test(await ok("get pvc edge-claim")), 30_000);
    expect(await ok("get pv edge-pv")).toMatch(/edge-pv\s+1Gi\s+RWO\s+Retain\s+Bound\s+default\/edge-claim\s+<unset>/);
    // a node for the scheduler, and a pod on a local-path claim: the claim gets the node it landed on
    const ready = { type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: new Date().toISOString() };
    const node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "edge-n1", labels: { "kubernetes.io/hostname": "edge-n1" } },
      status: { conditions: [ready], capacity: { cpu: "2", memory: "2Gi", pods: "10" } },
    };
    expect(await ok(["create", "-f", "-"], JSON.stringify(node))).toBe("node/edge-n1 created\n");
    expect(await ok(["create", "-f", "-"], pvc("edge-local", "local-path"))).toBe("persistentvolumeclaim/edge-local created\n");
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "edge-user", namespace: "default" },
      spec: { containers: [{ name: "c", image: "busybox" }], volumes: [{ name: "d", persistentVolumeClaim: { claimName: "edge-local" } }] },
    };
    expect(await ok(["create", "-f", "-"], JSON.stringify(pod))).toBe("pod/edge-user created\n");
    await eventually(async () => (await ok("get pod edge-user -o jsonpath={.spec.nodeName}")) === "edge-n1", 30_000);
    await eventually(
      async () => (await ok(["get", "pvc", "edge-local", "-o", "jsonpath={.metadata.annotations.volume\\.kubernetes\\.io/selected-node}"])) === "edge-n1",
      30_000,
    );
  });

  it("streams watch events to kubectl as they happen (get -w)", async () => {
    // kubectl asks for gzip; a compressed stream would hold the events back until it ends
    const w = k.spawn(["get", "configmaps", "-n", "default", "-w", "--output-watch-events"]);
    try {
      await new Promise((r) => setTimeout(r, 1500)); // the watch is open
      expect(await ok("create configmap streamed --from-literal=a=b")).toBe("configmap/streamed created\n");
      await eventually(async () => /ADDED\s+streamed/.test(w.output()), 20_000);
      expect(await ok("delete configmap streamed")).toBe('configmap "streamed" deleted\n');
      await eventually(async () => /DELETED\s+streamed/.test(w.output()), 20_000);
    } finally {
      w.kill();
    }
  });

  it("runs a StatefulSet in order on the queue: web-1 only once web-0 is Ready; revisions for rollout history", async () => {
    const sts = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: default}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: sts}}
  template:
    metadata: {labels: {app: sts}}
    spec:
      containers: [{name: c, image: nginx}]
`;
    expect(await ok(["apply", "-f", "-"], sts)).toBe("statefulset.apps/web created\n");
    await eventually(async () => (await ok("get pods -l app=sts -o name")) === "pod/web-0\n", 30_000);
    // (no node here) as an agent reports it Running and Ready
    await ok([
      "patch",
      "pod",
      "web-0",
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2026-01-01T00:00:00Z" }] } }),
    ]);
    await eventually(async () => (await ok("get pods -l app=sts -o name")) === "pod/web-0\npod/web-1\n", 30_000);
    expect(await ok("get pod web-1 -o jsonpath={.spec.hostname}.{.spec.subdomain}")).toBe("web-1.web");
    await eventually(async () => /^web\s+1\/2\s/m.test(await ok("get sts web")), 30_000);
    expect(await ok("rollout history statefulset/web")).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>/);
    expect(await ok("delete sts web")).toBe('statefulset.apps "web" deleted\n');
  });

  it("runs a CronJob from the cron trigger: a Job <name>-<minutes> at the next minute; create job --from=cronjob", async () => {
    const cj = `apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: default}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox, command: [date]}]
`;
    expect(await ok(["apply", "-f", "-"], cj)).toBe("cronjob.batch/tick created\n");
    // by hand, at once
    expect(await ok("create job manual --from=cronjob/tick")).toBe("job.batch/manual created\n");
    expect(await ok("get job manual -o jsonpath={.metadata.annotations.cronjob\\.kubernetes\\.io/instantiate}")).toBe("manual");
    // on schedule: the Worker's cron (Cloudflare fires it each minute; here, every few seconds) makes the minute's Job
    const worker = await t.mf!.getWorker();
    const job = await eventually(
      async () => {
        await (worker as any).scheduled({ cron: "* * * * *", scheduledTime: new Date() });
        const names = (await ok("get jobs -o name")).split("\n").filter((n) => /^job\.batch\/tick-\d+$/.test(n));
        return names[0];
      },
      90_000,
      3000,
    );
    const minutes = Number(job.split("-").pop());
    // the scheduled time, in minutes since the epoch: the minute after the CronJob was made, or the one after that
    expect(Math.abs(minutes * 60_000 - Date.now())).toBeLessThan(3 * 60_000);
    expect(await ok(`get ${job} -o jsonpath={.metadata.ownerReferences[0].name}`)).toBe("tick");
    await eventually(async () => /^tick\s+\* \* \* \* \*\s+(<none>\s+)?False\s+\d+\s+\S+/m.test(await ok("get cronjob tick")), 30_000);
    expect(await ok("delete cronjob tick")).toBe('cronjob.batch "tick" deleted\n');
  }, 120_000);

  it("ingress: the seeded default class, DefaultIngressClass admission, kubectl's columns", async () => {
    expect(await ok("get ingressclass")).toMatch(/^NAME\s+CONTROLLER\s+PARAMETERS\s+AGE\nkubeflare\s+kubeflare.dev\/ingress\s+<none>\s+/);
    const ing = `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: edge-ing, namespace: default}\nspec:\n  tls: [{hosts: [a.example.com], secretName: s}]\n  rules:\n  - host: a.example.com\n    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}\n`;
    expect(await ok(["create", "-f", "-"], ing)).toBe("ingress.networking.k8s.io/edge-ing created\n");
    expect(await ok("get ing edge-ing")).toMatch(/^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\nedge-ing\s+kubeflare\s+a.example.com\s+80, 443\s+/);
    const bad = await k(["create", "-f", "-"], {
      input: ing.replace("edge-ing", "edge-bad").replace("pathType: Prefix", "pathType: Exact").replace("path: /,", "path: /a//b,"),
    });
    expect(bad.stderr).toContain("spec.rules[0].http.paths[0].path: Invalid value: \"/a//b\": must not contain '//'");
    // the ingress-status controller (on the queue here): the Ready nodes whose agent runs the ingress proxy, for Ingresses of our class only
    const node = (name: string, ip: string, proxy: boolean) => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, ...(proxy ? { annotations: { "kubeflare.dev/ingress-proxy": "http=80,https=443" } } : {}) },
      status: {
        conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: new Date().toISOString() }],
        addresses: [{ type: "InternalIP", address: ip }],
      },
    });
    for (const n of [node("ing-a", "192.0.2.20", true), node("ing-b", "192.0.2.3", true), node("ing-c", "192.0.2.9", false)])
      await ok(["create", "-f", "-"], JSON.stringify(n));
    await eventually(async () => (await ok("get ing edge-ing -o jsonpath={.status.loadBalancer.ingress[*].ip}")) === "192.0.2.3 192.0.2.20", 30_000);
    expect(await ok("get ing edge-ing")).toMatch(/\nedge-ing\s+kubeflare\s+a\.example\.com\s+192\.0\.2\.3,192\.\.\.\s+80, 443\s+/);
    await ok(["create", "-f", "-"], ing.replace("edge-ing", "edge-other").replace("spec:\n", "spec:\n  ingressClassName: other\n"));
    await ok("delete node ing-b");
    await eventually(async () => (await ok("get ing edge-ing -o jsonpath={.status.loadBalancer.ingress[*].ip}")) === "192.0.2.20", 30_000);
    expect(await ok("get ing edge-other -o jsonpath={.status.loadBalancer}")).toBe("");
  });

  it("networkpolicy: apply, get netpol with kubectl's columns and the defaults, kube's validation", async () => {
    const np = `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: edge-np, namespace: default}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{podSelector: {matchLabels: {role: fe}}}], ports: [{port: 80}]}]\n`;
    expect(await ok(["apply", "-f", "-"], np)).toBe("networkpolicy.networking.k8s.io/edge-np created\n");
    expect(await ok("get netpol edge-np")).toMatch(/^NAME\s+POD-SELECTOR\s+AGE\nedge-np\s+app=web\s+/);
    expect(await ok("get netpol edge-np -o jsonpath={.spec.policyTypes}{.spec.ingress[0].ports[0].protocol}")).toBe('["Ingress"]TCP');
    const bad = await k(["create", "-f", "-"], { input: np.replace("edge-np", "edge-np-bad").replace("{port: 80}", "{port: 80, endPort: 79}") });
    expect(bad.stderr).toContain("spec.ingress[0].ports[0].endPort: Invalid value: 79: must be greater than or equal to `port`");
    expect(await ok("delete netpol edge-np")).toBe('networkpolicy.networking.k8s.io "edge-np" deleted\n');
  });
});
