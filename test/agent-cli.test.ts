/** The kubeflare-agent command end to end: token create, join (good and bad tokens), status, run. */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type RunningServer, startServer } from "../node/server";
import { eventually } from "./kubectl";
import { AgentProcess, agentCli } from "./agent-e2e/process";
import { netSink } from "./netsink";
import { DockerRuntime } from "../agent/runtime/docker";

const run = agentCli;
const dockerUp = await new DockerRuntime().version().then(
  () => true,
  () => false,
);

let server: RunningServer;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kf-cli-"));
  server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "server"), synchronous: "NORMAL", log: () => {} });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("kubeflare-agent", () => {
  it("creates a join token with an admin kubeconfig, and refuses a bad one at join", async () => {
    const t = await run(["token", "create", "--kubeconfig", server.kubeconfigPath, "--ttl", "1h", "-o", "json"]);
    expect(t.code).toBe(0);
    expect(JSON.parse(t.stdout).token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    if (!dockerUp) return;
    const bad = await run([
      "join",
      "--no-kube-proxy",
      "--server",
      server.url,
      "--token",
      "abcdef.0123456789abcdef",
      "--ca-file",
      join(dir, "server", "tls", "ca.crt"),
      "--config",
      join(dir, "bad.json"),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("error: the server refused the join token: invalid join token\n");
  });

  it("token create takes kubeadm-style usages, a node count and a node it may replace; bad values are refused", async () => {
    const t = await run([
      "token",
      "create",
      "--kubeconfig",
      server.kubeconfigPath,
      "--usages",
      "authentication",
      "--max-nodes",
      "3",
      "--allow-replace",
      "Old-Box",
      "-o",
      "json",
    ]);
    expect(t.code).toBe(0);
    expect(JSON.parse(t.stdout)).toMatchObject({ usages: ["authentication"], maxNodes: 3, allowReplace: "old-box" });
    const single = await run(["token", "create", "--kubeconfig", server.kubeconfigPath]);
    expect(single.stderr).toMatch(
      /^single-use, expires \S+; join with: kubeflare-agent join --server https:\/\/127\.0\.0\.1:\d+ --token [a-z0-9]{6}\.[a-z0-9]{16} --ca-file/,
    );
    const zero = await run(["token", "create", "--kubeconfig", server.kubeconfigPath, "--max-nodes", "0"]);
    expect([zero.code, zero.stderr]).toEqual([1, 'error: --max-nodes: "0" is not a positive whole number\n']);
    const signing = await run(["token", "create", "--kubeconfig", server.kubeconfigPath, "--usages", "signing"]);
    expect([signing.code, signing.stderr]).toEqual([
      1,
      'error: BootstrapToken is invalid: usages[0]: Unsupported value: "signing": supported values: "authentication"\n',
    ]);
    // labels only an admin may set are refused before anything is sent
    const role = await run([
      "join",
      "--no-kube-proxy",
      "--server",
      server.url,
      "--token",
      "abcdef.0123456789abcdef",
      "--labels",
      "disk=ssd,node-role.kubernetes.io/worker=",
      "--config",
      join(dir, "role.json"),
    ]);
    expect(role.code).toBe(1);
    expect(role.stderr).toMatch(/^error: --labels: a node may not set node-role\.kubernetes\.io\/worker on itself .*kubectl label node/);
    // so is an ingress port that is none
    const port = await run([
      "join",
      "--server",
      server.url,
      "--token",
      "abcdef.0123456789abcdef",
      "--ingress-https-port",
      "70000",
      "--config",
      join(dir, "p.json"),
    ]);
    expect([port.code, port.stderr]).toEqual([1, 'error: --ingress-https-port: "70000" is not a port number (0-65535)\n']);
  });

  it.skipIf(!dockerUp)("joins, reports status, and runs as a node", async () => {
    const token = JSON.parse((await run(["token", "create", "--kubeconfig", server.kubeconfigPath, "-o", "json"])).stdout).token;
    const config = join(dir, "agent.json");
    // the node gets a podCIDR, so the agent makes a pod network: the cluster CIDRs into a sink first,
    // this run's own network names, and `uninstall` takes it all away after
    const net = `kfcli${process.pid % 100000}`;
    const sink = await netSink(`kfsc${process.pid % 100000}`, 7900 + (process.pid % 90));
    sink.alsoLinks(net);
    onTestFinished(async () => {
      await run(["uninstall", "--config", config]);
      await sink.cleanup();
    });
    const joined = await run([
      "join",
      "--no-kube-proxy",
      // this host's ports 80/443 are not this test's to take
      "--no-ingress",
      "--pod-bridge",
      net,
      "--pod-network-name",
      net,
      "--server",
      server.url,
      "--token",
      token,
      "--name",
      "cli-node",
      "--labels",
      "disk=ssd,zone=attic",
      "--ca-file",
      join(dir, "server", "tls", "ca.crt"),
      "--node-ip",
      "127.0.0.1",
      "--config",
      config,
    ]);
    expect(joined.stderr).toBe("");
    expect(joined.stdout).toContain("joined https://127.0.0.1:");
    expect(statSync(config).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(config, "utf8"));
    expect(saved).toMatchObject({ nodeName: "cli-node", labels: { disk: "ssd", zone: "attic" } });
    expect(saved.token).toMatch(/^kfn\.cli-node\./);

    const agent = new AgentProcess(config);
    agent.start();
    try {
      const node = await eventually(async () => {
        const n = await server.registry.store.get({ resource: "nodes", namespace: "", name: "cli-node" });
        return n?.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") && n;
      }, 30_000);
      expect(node.metadata.labels).toMatchObject({ "kubernetes.io/hostname": "cli-node", disk: "ssd", zone: "attic" });
      const st = await run(["status", "--config", config, "-o", "json"]);
      expect(JSON.parse(st.stdout)).toMatchObject({ nodeName: "cli-node", ready: "True", pods: 0 });
      const code = await agent.kill("SIGTERM");
      expect(code).toBe(0);
      expect(agent.output()).toContain("SIGTERM: stopping");
    } finally {
      await agent.kill("SIGKILL");
    }

    // the token was single-use; a fresh one may not take over the (still Ready) node...
    const args = ["--server", server.url, "--name", "cli-node", "--ca-file", join(dir, "server", "tls", "ca.crt"), "--config", join(dir, "agent2.json")];
    const reused = await run(["join", "--token", token, ...args]);
    expect([reused.code, reused.stderr]).toEqual([
      1,
      "error: the server refused the join token: the join token has already been used (it is single-use); create another with: kubeflare-agent token create\n",
    ]);
    const fresh = JSON.parse((await run(["token", "create", "--kubeconfig", server.kubeconfigPath, "-o", "json"])).stdout).token;
    const taken = await run(["join", "--token", fresh, ...args]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(
      /^error: the server refused to join "cli-node": node "cli-node" already exists and is Ready: .*--allow-replace cli-node.*--force-replace/,
    );
    const forced = await run(["join", "--token", fresh, "--force-replace", ...args]);
    expect(forced.stderr).toMatch(
      /^error: the server refused to join "cli-node": nodes "cli-node" is forbidden: the join token does not allow replacing node "cli-node"/,
    );
    // ...unless the admin allows it, and the join asks for it
    const allowing = await run(["token", "create", "--kubeconfig", server.kubeconfigPath, "--allow-replace", "cli-node"]);
    expect(allowing.stderr).toContain("--name cli-node --force-replace");
    const replaced = await run(["join", "--token", allowing.stdout.trim(), "--force-replace", ...args]);
    expect([replaced.code, replaced.stderr]).toEqual([0, ""]);
    expect(JSON.parse(readFileSync(join(dir, "agent2.json"), "utf8")).token).not.toBe(saved.token);
    const events = await server.registry.store.list("events", { namespace: "default", fields: [{ field: "reason", op: "=", value: "NodeReplaced" }] });
    expect(events.items.map((e) => [e.involvedObject.name, e.type])).toEqual([["cli-node", "Warning"]]);
  });

  it("says clearly when the server is unreachable or no container runtime is found", async () => {
    const noEngine = await run(["join", "--server", server.url, "--token", "abcdef.0123456789abcdef", "--runtime", "auto", "--config", join(dir, "x.json")], {
      DOCKER_HOST: "unix:///nonexistent/docker.sock",
      CONTAINERD_ADDRESS: "/nonexistent/containerd.sock",
    });
    expect(noEngine.code).toBe(1);
    expect(noEngine.stderr).toMatch(
      /^error: no container runtime found: Docker is not reachable at unix:\/\/\/nonexistent\/docker\.sock .*; containerd is not reachable .*\n$/,
    );
    if (!dockerUp) return;
    // port 1 on loopback: nothing listens there
    const away = await run([
      "join",
      "--no-kube-proxy",
      "--server",
      "https://127.0.0.1:1",
      "--token",
      "abcdef.0123456789abcdef",
      "--runtime",
      "docker",
      "--config",
      join(dir, "y.json"),
    ]);
    expect(away.code).toBe(1);
    expect(away.stderr).toBe("error: cannot reach https://127.0.0.1:1: ECONNREFUSED\n");
  });

  it("prints a systemd unit", async () => {
    const r = await run(["install", "--print", "--config", "/etc/kubeflare/agent.json"]);
    expect(r.stdout).toContain("ExecStart=");
    expect(r.stdout).toContain("run --config /etc/kubeflare/agent.json");
    expect(r.stdout).toContain("WantedBy=multi-user.target");
  });
});
