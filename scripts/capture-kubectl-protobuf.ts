/**
 * Capture the request bodies the real kubectl sends when it creates objects, as test
 * fixtures for workers/api/protobuf.ts.
 *
 * A throwaway plain-HTTP server (node:http) answers just enough discovery for kubectl
 * (/version, /api, /apis, /api/v1, /apis/apps/v1; /openapi/* is 404, so commands run
 * with --validate=false), answers GETs of a Deployment (for `expose` and `scale`), a
 * Pod with most PodSpec features (`debug --copy-to` re-sends it through the typed
 * client, which makes it the way to get kubectl's protobuf for a rich PodSpec) and a
 * Node (`debug node/...`), and records every write. Each command's body is stored as
 * workers/api/testdata/protobuf/<name>.bin for the reference kubectl (1.32); other
 * versions only add <name>@<version>.bin when their bytes differ, and kubectl 1.31 (which
 * still sends JSON) leaves its bodies as <name>.json. capture.json records,
 * per version and command, the method, path and Content-Type of each write.
 *
 *   npx tsx scripts/capture-kubectl-protobuf.ts [versions...]   (default: 1.32 1.30 1.31 1.33)
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(root, "workers/api/testdata/protobuf");
const REFERENCE = "1.32";
/** kubectl before 1.32 sends JSON for the same commands; its bodies are kept as <name>.json. */
const JSON_REFERENCE = "1.31";

const binary = (version: string) => {
  for (const dir of ["/usr/lib/google-cloud-sdk/bin", "/usr/bin", "/usr/local/bin"]) {
    const p = `${dir}/kubectl.${version}`;
    if (existsSync(p)) return p;
  }
  throw new Error(`kubectl ${version} is not installed`);
};

/** The commands whose writes we record; `name` is the fixture's file name. */
const COMMANDS: { name: string; args: string[] }[] = [
  { name: "namespace", args: ["create", "namespace", "foo"] },
  { name: "deployment", args: ["create", "deployment", "web", "--image=nginx:1.27", "--replicas=3", "--port=80"] },
  { name: "deployment-two-images", args: ["create", "deployment", "duo", "--image=nginx:1.27", "--image=redis:7", "-n", "team-a"] },
  { name: "configmap", args: ["create", "configmap", "cm", "--from-literal=a=b", "--from-literal=c=d"] },
  { name: "configmap-binary", args: ["create", "configmap", "bin", "--from-file=blob.bin", "--from-literal=text=hello"] },
  { name: "secret", args: ["create", "secret", "generic", "s", "--from-literal=pw=hunter2"] },
  { name: "secret-typed", args: ["create", "secret", "generic", "typed", "--from-literal=token=abc", "--type=example.com/token"] },
  {
    name: "secret-docker-registry",
    args: ["create", "secret", "docker-registry", "regcred", "--docker-server=registry.example.com", "--docker-username=u", "--docker-password=p"],
  },
  { name: "service-clusterip", args: ["create", "service", "clusterip", "svc", "--tcp=80:8080"] },
  { name: "service-headless", args: ["create", "service", "clusterip", "headless", "--clusterip=None", "--tcp=5432"] },
  { name: "service-nodeport", args: ["create", "service", "nodeport", "np", "--tcp=80:http", "--node-port=30080"] },
  { name: "service-externalname", args: ["create", "service", "externalname", "ext", "--external-name=example.com"] },
  { name: "run", args: ["run", "p", "--image=busybox", "--labels=app=p", "--port=8080", "--", "sleep", "3600"] },
  { name: "run-env", args: ["run", "q", "--image=busybox", "--env=MODE=prod", "--restart=Never", "--image-pull-policy=IfNotPresent", "--annotations=note=hi"] },
  {
    name: "debug-copy",
    args: [
      "debug",
      "rich",
      "--copy-to=rich-debug",
      "--image=busybox:1.36",
      "--container=debugger",
      "--keep-labels",
      "--keep-annotations",
      "--keep-liveness",
      "--keep-readiness",
      "--keep-startup",
      "--same-node",
    ],
  },
  { name: "debug-node", args: ["debug", "node/n1", "--image=busybox:1.36"] },
  { name: "expose", args: ["expose", "deployment", "web", "--port=80", "--target-port=8080"] },
  { name: "scale", args: ["scale", "deployment", "web", "--replicas=5"] },
];

const APPS_KINDS: Record<string, string> = { deployments: "Deployment", replicasets: "ReplicaSet", daemonsets: "DaemonSet", statefulsets: "StatefulSet" };
const CORE_KINDS: Record<string, string> = {
  namespaces: "Namespace",
  pods: "Pod",
  services: "Service",
  endpoints: "Endpoints",
  configmaps: "ConfigMap",
  secrets: "Secret",
  replicationcontrollers: "ReplicationController",
  serviceaccounts: "ServiceAccount",
  nodes: "Node",
};
const NAMESPACED = new Set(
  Object.keys(CORE_KINDS)
    .filter((r) => r !== "namespaces" && r !== "nodes")
    .concat(Object.keys(APPS_KINDS)),
);

const resourceList = (groupVersion: string, kinds: Record<string, string>, scale: boolean) => ({
  kind: "APIResourceList",
  apiVersion: "v1",
  groupVersion,
  resources: Object.entries(kinds).flatMap(([name, kind]) => [
    {
      name,
      singularName: kind.toLowerCase(),
      namespaced: NAMESPACED.has(name),
      kind,
      verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
    },
    ...(scale && name !== "statefulsets" && name !== "daemonsets"
      ? [{ name: `${name}/scale`, singularName: "", namespaced: true, group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"] }]
      : []),
  ]),
});

/** A Pod with most PodSpec features, served for `kubectl debug --copy-to`, which re-sends it (typed client). */
const richPod = (ns: string, name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name,
    namespace: ns,
    uid: "00000000-0000-0000-0000-000000000003",
    resourceVersion: "9",
    creationTimestamp: "2024-01-01T00:00:00Z",
    labels: { app: "rich", tier: "web" },
    annotations: { note: "hi" },
  },
  spec: {
    terminationGracePeriodSeconds: 0,
    nodeSelector: { disk: "ssd" },
    nodeName: "n1",
    serviceAccountName: "builder",
    dnsPolicy: "ClusterFirst",
    restartPolicy: "Always",
    hostNetwork: true,
    schedulerName: "default-scheduler",
    securityContext: {},
    tolerations: [
      { key: "dedicated", operator: "Equal", value: "web", effect: "NoSchedule" },
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    ],
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }] },
      },
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 50, podAffinityTerm: { labelSelector: { matchLabels: { app: "rich" } }, topologyKey: "kubernetes.io/hostname" } },
        ],
      },
    },
    volumes: [
      { name: "scratch", emptyDir: {} },
      { name: "host", hostPath: { path: "/var/log", type: "Directory" } },
      { name: "cfg", configMap: { name: "cm", items: [{ key: "a", path: "a.txt" }], defaultMode: 420 } },
      { name: "sec", secret: { secretName: "s", defaultMode: 256, optional: true } },
    ],
    initContainers: [{ name: "init", image: "busybox:1.36", command: ["sh", "-c", "true"], resources: {} }],
    containers: [
      {
        name: "rich",
        image: "nginx:1.27",
        workingDir: "/srv",
        args: ["-g", "daemon off;"],
        ports: [{ name: "http", containerPort: 80, protocol: "TCP" }],
        env: [
          { name: "MODE", value: "prod" },
          { name: "POD_IP", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.podIP" } } },
          { name: "A", valueFrom: { configMapKeyRef: { name: "cm", key: "a" } } },
          { name: "PW", valueFrom: { secretKeyRef: { name: "s", key: "pw", optional: false } } },
        ],
        resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "100m" } },
        volumeMounts: [
          { name: "scratch", mountPath: "/tmp" },
          { name: "cfg", mountPath: "/etc/cfg", readOnly: true },
        ],
        livenessProbe: { httpGet: { path: "/healthz", port: "http", scheme: "HTTP" }, initialDelaySeconds: 3, periodSeconds: 10 },
        readinessProbe: { tcpSocket: { port: 80 }, failureThreshold: 5 },
        startupProbe: { exec: { command: ["cat", "/tmp/ready"] } },
        terminationMessagePath: "/dev/termination-log",
        terminationMessagePolicy: "File",
        imagePullPolicy: "IfNotPresent",
      },
    ],
  },
  status: { phase: "Running" },
});

const node = (name: string) => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, uid: "00000000-0000-0000-0000-000000000004", resourceVersion: "3", labels: { "kubernetes.io/hostname": name } },
  spec: {},
  status: { conditions: [{ type: "Ready", status: "True" }] },
});

/** A Deployment as a server would return it (for expose/scale). */
const deployment = (ns: string, name: string) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name,
    namespace: ns,
    uid: "00000000-0000-0000-0000-000000000001",
    resourceVersion: "7",
    generation: 1,
    labels: { app: name },
    creationTimestamp: "2024-01-01T00:00:00Z",
  },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [{ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80, protocol: "TCP" }] }],
        restartPolicy: "Always",
        dnsPolicy: "ClusterFirst",
      },
    },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
  },
  status: {},
});

interface Write {
  method: string;
  path: string;
  contentType: string;
  body: Buffer;
}

const send = (res: ServerResponse, code: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
};

const notFound = (res: ServerResponse, what: string) =>
  send(res, 404, { kind: "Status", apiVersion: "v1", status: "Failure", message: `${what} not found`, reason: "NotFound", code: 404 });

const handle = (writes: Write[]) => (req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    const method = req.method ?? "GET";
    if (method === "GET") {
      if (path === "/version")
        return send(res, 200, {
          major: "1",
          minor: "32",
          gitVersion: "v1.32.0",
          gitCommit: "capture",
          gitTreeState: "clean",
          buildDate: "2024-12-11T00:00:00Z",
          goVersion: "go1.23.4",
          compiler: "gc",
          platform: "linux/amd64",
        });
      if (path === "/api")
        return send(res, 200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }] });
      if (path === "/apis")
        return send(res, 200, {
          kind: "APIGroupList",
          apiVersion: "v1",
          groups: [{ name: "apps", versions: [{ groupVersion: "apps/v1", version: "v1" }], preferredVersion: { groupVersion: "apps/v1", version: "v1" } }],
        });
      if (path === "/api/v1") return send(res, 200, resourceList("v1", CORE_KINDS, true));
      if (path === "/apis/apps/v1") return send(res, 200, resourceList("apps/v1", APPS_KINDS, true));
      const d = path.match(/^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/);
      if (d) return send(res, 200, deployment(d[1], d[2]));
      const p = path.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/(rich)$/);
      if (p) return send(res, 200, richPod(p[1], p[2]));
      const n = path.match(/^\/api\/v1\/nodes\/([^/]+)$/);
      if (n) return send(res, 200, node(n[1]));
      return notFound(res, path);
    }
    writes.push({ method, path, contentType: req.headers["content-type"] ?? "", body: Buffer.concat(chunks) });
    // Reply with enough of an object for kubectl to print "<kind>/<name> created".
    const m = path.match(/^\/(?:api\/v1|apis\/(apps)\/v1)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/);
    if (!m) return notFound(res, path);
    const [, group, ns, resource, name, sub] = m;
    const kind = (group ? APPS_KINDS : CORE_KINDS)[resource] ?? "Unknown";
    if (method === "PATCH" && sub === "scale")
      return send(res, 200, { kind: "Scale", apiVersion: "autoscaling/v1", metadata: { name, namespace: ns }, spec: { replicas: 5 }, status: { replicas: 3 } });
    if (method === "PATCH" && name) return send(res, 200, deployment(ns ?? "default", name));
    let objName = name ?? "";
    if (!objName && req.headers["content-type"]?.startsWith("application/json")) {
      try {
        objName = JSON.parse(Buffer.concat(chunks).toString()).metadata?.name ?? "";
      } catch {
        /* not JSON */
      }
    }
    if (!objName) objName = lastCreatedName;
    send(res, 201, {
      apiVersion: group ? `${group}/v1` : "v1",
      kind,
      metadata: {
        name: objName,
        ...(ns ? { namespace: ns } : {}),
        uid: "00000000-0000-0000-0000-000000000002",
        resourceVersion: "1",
        creationTimestamp: "2024-01-01T00:00:00Z",
      },
      // `kubectl debug node/...` reads the created pod's first container
      ...(kind === "Pod" ? { spec: { containers: [{ name: "debugger", image: "busybox:1.36" }] } } : {}),
    });
  });
};

/** The name argument of the command being run, for replies to protobuf bodies we don't decode here. */
let lastCreatedName = "";

const run = (bin: string, args: string[], env: NodeJS.ProcessEnv, cwd: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(bin, args, { env, cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });

const nameArg = (args: string[]) => {
  const positional = args.filter((a) => !a.startsWith("-"));
  if (positional[0] === "run") return positional[1];
  if (positional[0] === "debug") return args.find((a) => a.startsWith("--copy-to="))?.slice(10) ?? "node-debugger";
  if (positional[0] === "create") return positional[1] === "secret" || positional[1] === "service" ? positional[3] : positional[2];
  return positional[2];
};

export interface CaptureRecord {
  name: string;
  args: string[];
  code: number;
  stderr?: string;
  writes: { method: string; path: string; contentType: string; bytes: number }[];
}

export async function capture(version: string): Promise<{ records: CaptureRecord[]; bodies: Map<string, Write> }> {
  const writes: Write[] = [];
  const server = createServer(handle(writes));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), "kf-capture-"));
  try {
    writeFileSync(
      join(dir, "kubeconfig"),
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]\ncurrent-context: c\n`,
    );
    // not valid UTF-8, so kubectl puts it in binaryData
    writeFileSync(join(dir, "blob.bin"), Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41]));
    const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, "kubeconfig") };
    const bin = binary(version);
    const records: CaptureRecord[] = [];
    const bodies = new Map<string, Write>();
    for (const cmd of COMMANDS) {
      const before = writes.length;
      lastCreatedName = nameArg(cmd.args);
      // only `create` has --validate (and it must come before a `--`); debug's --keep-* flags came in 1.31
      const supported = Number(version.split(".")[1]) >= 31 ? cmd.args : cmd.args.filter((a) => !a.startsWith("--keep-"));
      const args = cmd.args[0] === "create" ? [...supported, "--validate=false"] : supported;
      const r = await run(bin, args, env, dir);
      const mine = writes.slice(before);
      records.push({
        name: cmd.name,
        args,
        code: r.code,
        ...(r.code !== 0 || r.stderr ? { stderr: r.stderr.trim() } : {}),
        writes: mine.map((w) => ({ method: w.method, path: w.path, contentType: w.contentType, bytes: w.body.length })),
      });
      if (mine.length) bodies.set(cmd.name, mine[0]);
    }
    return { records, bodies };
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const versions = process.argv.length > 2 ? process.argv.slice(2) : [REFERENCE, "1.30", "1.31", "1.33"];
  mkdirSync(OUT, { recursive: true });
  const manifestPath = join(OUT, "capture.json");
  const manifest: Record<string, CaptureRecord[]> = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, "utf8")) : {};
  for (const version of versions) {
    const { records, bodies } = await capture(version);
    manifest[version] = records;
    for (const [name, w] of bodies) {
      if (w.contentType.startsWith("application/vnd.kubernetes.protobuf")) {
        const ref = join(OUT, `${name}.bin`);
        if (version === REFERENCE) writeFileSync(ref, w.body);
        else if (!existsSync(ref) || !readFileSync(ref).equals(w.body)) writeFileSync(join(OUT, `${name}@${version}.bin`), w.body);
      } else if (version === JSON_REFERENCE && w.contentType.startsWith("application/json") && existsSync(join(OUT, `${name}.bin`))) {
        // what the last JSON-sending kubectl sent for the same command: the shape the decoder must produce
        writeFileSync(join(OUT, `${name}.json`), `${JSON.stringify(JSON.parse(w.body.toString()), null, 2)}\n`);
      }
    }
    console.log(`kubectl ${version}:`);
    for (const r of records) {
      const w = r.writes.map((x) => `${x.method} ${x.path} [${x.contentType || "-"}] ${x.bytes}B`).join("; ") || "(no writes)";
      console.log(`  ${r.name.padEnd(24)} exit ${r.code}  ${w}${r.stderr ? `\n      stderr: ${r.stderr}` : ""}`);
    }
  }
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}
