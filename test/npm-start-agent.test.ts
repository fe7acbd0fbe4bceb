/**
 * The agent issue's "done means", as a new user runs it: `npm start` on a machine with
 * Docker runs the pods of `kubectl apply -f` on that machine (its in-process agent),
 * and a second box that joins with `npx kubeflare-agent join ...` and `run` gets pods
 * (here on containerd, so both engines take part), and a Service with a pod on each box
 * answers through an Ingress on the local agent's ingress proxy. Real processes throughout.
 */
import { joinArgs } from "./agent-e2e/process";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { containerd, docker } from "./agent-e2e/engines";
import { type NetSink, netSink } from "./netsink";
import { LABELS } from "../agent/runtime/runtime";
import { eventually, kubectl } from "./kubectl";
import { sample } from "./prom";

/** A pod labelled app=web serving "hello from <its hostname>" on 8080, placed by `placement` (a line of its spec). */
const webPod = (name: string, placement: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: web}}
spec:
  ${placement}
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: kubeflare/busybox:test
    imagePullPolicy: Never
    command: ["sh", "-c", "mkdir -p /www && echo hello from $(hostname) > /www/index.html && exec httpd -f -p 8080 -h /www"]
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`;

const root = join(import.meta.dirname, "..");
const engines = (await docker.available()) && (await containerd.available());
if (!engines && process.env.CI) throw new Error("CI must run the npm start + agent test: Docker and containerd with the test image are needed");

/** a long-running npm command in its own process group, so the whole tree can be stopped */
const start = (args: string[]) => {
  const child = spawn("npm", args, { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return { child, output: () => out };
};
const stop = async (child: ChildProcess | undefined) => {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  process.kill(-child.pid!, "SIGTERM");
  await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
  // npm exits before the server it started: wait until nothing of the process group is left
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(-child.pid!, i < 50 ? 0 : "SIGKILL");
    } catch {
      return; // the group is gone
    }
    await new Promise((r) => setTimeout(r, 100));
  }
};
/** GET / on 127.0.0.1:port with a Host header (as `curl --resolve` would send it) */
const hostGet = (port: number, host: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path: "/", headers: { Host: host }, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });

const npx = (args: string[]) =>
  promisify(execFile)("npx", ["kubeflare-agent", ...args], { cwd: root }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: 1, stdout: String(e.stdout ?? ""), stderr: String(e.stderr ?? "") }),
  );

describe.skipIf(!engines)("npm start + kubectl apply + a second box joining with npx kubeflare-agent", () => {
  const dir = mkdtempSync(join(tmpdir(), "kf-done-"));
  let server: ReturnType<typeof start> | undefined;
  let box2: ReturnType<typeof start> | undefined;
  // NET.md: both agents make a pod bridge on this host (npm start's Docker network `kubeflare`
  // on kf0, the second box's CNI bridge): the cluster CIDRs go into a sink first, and all of it goes after
  const box2Bridge = `kfn${process.pid % 100000}`;
  let sink: NetSink | undefined;
  /** the pod with a pod network on the second box: its agent removes it (the CNI DEL with it) before it stops */
  let podOnBox2: (() => Promise<unknown>) | undefined;
  afterAll(async () => {
    await podOnBox2?.().catch(() => undefined);
    await stop(box2?.child);
    await stop(server?.child);
    for (const [engine, node] of [
      [docker, "first-box"],
      [containerd, "second-box"],
    ] as const) {
      for (const c of await engine.containers({ [LABELS.node]: node })) await engine.remove(c.id);
    }
    // the processes are gone now (a dying agent could still have remade its network before)
    await promisify(execFile)("docker", ["network", "rm", "kubeflare"]).catch(() => undefined);
    await sink?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const ingressPort = 20_000 + (process.pid % 20_000) * 2;
  it("runs a Deployment on this machine's Docker, then on a second box that joined", async () => {
    sink = await netSink(`kfsn${process.pid % 100000}`, 7000 + (process.pid % 900));
    sink.alsoLinks("kf0", box2Bridge);
    server = start([
      "start",
      "--",
      "--port",
      "0",
      "--data-dir",
      join(dir, "cp"),
      "--node-name",
      "first-box",
      "--node-ip",
      "127.0.0.1",
      "--sync",
      "normal",
      "--pause-image",
      "kubeflare/pause:test",
      // two agents share this host: neither may write the host's Service rules
      "--no-kube-proxy",
      // the local agent's ingress proxy, on ports of this test's own
      "--ingress-http-port",
      String(ingressPort),
      "--ingress-https-port",
      String(ingressPort + 1),
    ]);
    await eventually(async () => server!.output().includes("node agent: first-box on docker://"), 60_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${server!.output()}`);
    });
    const url = /listening on (https:\/\/\S+)/.exec(server.output())![1];
    const kubeconfig = join(dir, "cp", "kubeconfig");
    const k = kubectl(kubeconfig, "1.33");
    const deployment = (name: string, nodeSelector: Record<string, string>) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      hostNetwork: true
      terminationGracePeriodSeconds: 1
      nodeSelector: ${JSON.stringify(nodeSelector)}
      containers:
      - {name: main, image: kubeflare/busybox:test, imagePullPolicy: Never, command: [sleep, "3600"]}
`;
    const file = join(dir, "here.yaml");
    writeFileSync(file, deployment("here", { "kubernetes.io/hostname": "first-box" }));
    expect((await k(["apply", "-f", file])).stdout).toBe("deployment.apps/here created\n");
    await k(["rollout", "status", "deployment/here", "--timeout=60s"], { timeoutMs: 70_000 });
    const onDocker = (await docker.containers({ [LABELS.node]: "first-box", [LABELS.podNamespace]: "default" })).filter((c) => c.running);
    expect(onDocker.map((c) => c.labels[LABELS.podName]).filter((n) => n.startsWith("here-"))).toHaveLength(2);
    // the server's /metrics, read as users would (kubectl get --raw): its own request counts and the local agent's kubelet metrics
    const metrics = await eventually(async () => {
      const text = (await k(["get", "--raw", "/metrics"])).stdout;
      return (sample(text, "kubelet_running_pods") ?? 0) >= 2 ? text : undefined;
    });
    expect(sample(metrics, "apiserver_request_total", { verb: "POST", resource: "deployments", group: "apps", code: "201" })).toBe(1);
    expect(sample(metrics, "kubelet_pod_start_duration_seconds_count")).toBeGreaterThanOrEqual(2);
    expect(sample(metrics, "kubelet_running_containers", { container_state: "running" })).toBeGreaterThanOrEqual(2);
    // a pod without hostNetwork gets a sandbox of npm start's --pause-image (the default one is not on this machine)
    writeFileSync(
      file,
      `{apiVersion: v1, kind: Pod, metadata: {name: boxed}, spec: {nodeName: first-box, terminationGracePeriodSeconds: 1, containers: [{name: main, image: kubeflare/busybox:test, imagePullPolicy: Never, command: [sleep, "3600"]}]}}`,
    );
    expect((await k(["apply", "-f", file])).stdout).toBe("pod/boxed created\n");
    await eventually(async () => / 1\/1 +Running +0 /.test((await k("get pod boxed --no-headers")).stdout), 60_000);
    const sandbox = (await docker.containers({ [LABELS.node]: "first-box", [LABELS.podName]: "boxed" })).filter((c) => c.labels[LABELS.role] === "sandbox");
    expect(sandbox.map((c) => c.running)).toEqual([true]);
    const sandboxImage = await promisify(execFile)("docker", ["inspect", "--format", "{{.Config.Image}}", sandbox[0].id]);
    expect(sandboxImage.stdout.trim()).toBe("kubeflare/pause:test");

    // a Service and an Ingress answer on the node's address, through the local agent's ingress proxy
    writeFileSync(
      file,
      `${webPod("web", "nodeName: first-box")}---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
  - host: web.home.lan
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
`,
    );
    expect((await k(["apply", "-f", file])).stdout).toBe("pod/web created\nservice/web created\ningress.networking.k8s.io/web created\n");
    const answer = await eventually(async () => {
      const r = await hostGet(ingressPort, "web.home.lan").catch(() => undefined);
      return r?.status === 200 ? r.body : undefined;
    }, 60_000);
    expect(answer).toBe("hello from web\n");
    // another host is nobody's: the proxy says so
    expect((await hostGet(ingressPort, "other.home.lan")).status).toBe(404);
    await eventually(
      async () => /^web\s+kubeflare\s+web\.home\.lan\s+127\.0\.0\.1\s+80\s+/m.test((await k("get ingress web --no-headers=false")).stdout),
      30_000,
    );

    // the second box: a join token from the admin, then join and run, as the README says
    const token = await npx(["token", "create", "--kubeconfig", kubeconfig, "--ttl", "10m"]);
    expect(token.code).toBe(0);
    const ca = join(dir, "ca.crt");
    writeFileSync(ca, Buffer.from(parse(readFileSync(kubeconfig, "utf8")).clusters[0].cluster["certificate-authority-data"], "base64"));
    const config = join(dir, "box2", "agent.json");
    const joined = await npx(
      joinArgs({
        server: url,
        token: token.stdout.trim(),
        name: "second-box",
        labels: "box=second",
        runtime: "containerd",
        caFile: ca,
        podBridge: box2Bridge,
        config,
      }),
    );
    expect(joined.stderr.replace(/^npm warn .*\n/gm, "")).toBe("");
    expect(joined.stdout).toContain('as node "second-box" (runtime containerd://');
    box2 = start(["exec", "--", "kubeflare-agent", "run", "--config", config]);
    await eventually(async () => (await k("get node second-box --no-headers")).stdout.includes(" Ready "), 60_000);

    writeFileSync(file, deployment("there", { box: "second" }));
    expect((await k(["apply", "-f", file])).stdout).toBe("deployment.apps/there created\n");
    const rollout = await k(["rollout", "status", "deployment/there", "--timeout=60s"], { timeoutMs: 70_000 });
    expect(rollout.stdout).toContain('deployment "there" successfully rolled out');
    const wide = (await k("get pods -l app=there -o wide --no-headers")).stdout.trim().split("\n");
    expect(wide).toHaveLength(2);
    for (const line of wide) expect(line).toMatch(/ 1\/1 +Running +0 .* second-box /);
    const onContainerd = (await containerd.containers({ [LABELS.node]: "second-box" })).filter((c) => c.running);
    expect(onContainerd.map((c) => c.labels[LABELS.podName]).sort()).toEqual(wide.map((l) => l.split(/\s+/)[0]).sort());

    // node-ipam gave each box its own /24 of the cluster CIDR, and the agents' own Node writes kept it
    const cidrs = (await k(["get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.podCIDR} {end}"])).stdout.trim().split(" ");
    expect(cidrs.map((c) => c.split("=")[0]).sort()).toEqual(["first-box", "second-box"]);
    const blocks = cidrs.map((c) => c.split("=")[1]);
    for (const b of blocks) expect(b).toMatch(/^10\.42\.\d+\.0\/24$/);
    expect(new Set(blocks).size).toBe(2);

    // the Service's second replica on the second box (containerd, its own pod bridge): the local agent's
    // ingress proxy reaches pods on both engines, dialling each pod's IP from this host
    writeFileSync(file, webPod("web-there", "nodeSelector: {box: second}"));
    podOnBox2 = async () => {
      await k("delete pod web-there --ignore-not-found --wait=true --timeout=30s", { timeoutMs: 40_000 });
      await eventually(async () => (await containerd.containers({ [LABELS.node]: "second-box", [LABELS.podName]: "web-there" })).length === 0, 30_000);
    };
    expect((await k(["apply", "-f", file])).stdout).toBe("pod/web-there created\n");
    const seen = new Set<string>();
    await eventually(async () => {
      const r = await hostGet(ingressPort, "web.home.lan").catch(() => undefined);
      if (r?.status === 200) seen.add(r.body);
      return seen.size === 2;
    }, 60_000);
    expect([...seen].sort()).toEqual(["hello from web\n", "hello from web-there\n"]);
  }, 300_000);
});
