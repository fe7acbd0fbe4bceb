/**
 * Issue #11's walkthrough, everything together, as a new user runs it: `npm start` with
 * its own agent (Docker) or with a second agent joined by `npx kubeflare-agent`
 * (containerd), kube-proxy on, the real kubectl. A 3-replica Deployment of busybox httpd
 * pods on the pod network, each serving its own name, exposed as a NodePort; then, from
 * the host (127.0.0.1 only) and from client pods (whose output is read with
 * `kubectl logs`): ClusterIP, DNS names, affinity, a headless Service, UDP, a
 * LoadBalancer, externalTrafficPolicy: Local, service-link variables, scaling and
 * readiness. Both engines run one after the other: both would program this host's
 * nftables table `ip kubeflare` and its NodePorts.
 *
 * Network safety (NET.md): the cluster and service CIDRs go into a sink first; the host
 * talks only to 127.0.0.1; pod and cluster IPs are reached only from inside pods; all of
 * it (process groups, containers, the pod network, the nftables table, the sink) goes in
 * afterAll, even on failure.
 */
import { joinArgs } from "./agent-e2e/process";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { get } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { containerd, docker, type Engine } from "./agent-e2e/engines";
import { type NetSink, canTouchNetwork, netSink } from "./netsink";
import { LABELS } from "../agent/runtime/runtime";
import { podNetwork } from "../agent/network/cidr";
import { Cni } from "../agent/network/cni";
import { netnsPath, unpinNetns } from "../agent/network/netns";
import { eventually, type Kubectl, kubectl } from "./kubectl";

const root = join(import.meta.dirname, "..");
const run = promisify(execFile);
const engines = (await docker.available()) && (await containerd.available()) && (await canTouchNetwork());
if (!engines && process.env.CI) throw new Error("CI must run the Services walkthrough: root, Docker and containerd with the test image are needed");

/** a long-running command in its own process group, so the whole tree can be stopped */
const start = (cmd: string, args: string[]) => {
  const child = spawn(cmd, args, { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return { child, output: () => out };
};
const stop = async (child: ChildProcess | undefined) => {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  // npm exits before the server it started: wait until nothing of the process group is left
  for (let i = 0; i < 150; i++) {
    try {
      process.kill(-child.pid, i < 100 ? 0 : "SIGKILL");
    } catch {
      return; // the group is gone
    }
    await new Promise((r) => setTimeout(r, 100));
  }
};
const agentCli = (args: string[]) =>
  run("npx", ["kubeflare-agent", ...args], { cwd: root }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: 1, stdout: String(e.stdout ?? ""), stderr: String(e.stderr ?? "") }),
  );

/** one HTTP GET to 127.0.0.1:port on a new connection (a kept-alive one would stick to one endpoint) */
const hostGet = (port: number, path = "/"): Promise<string> =>
  new Promise((resolve, reject) => {
    const req = get({ host: "127.0.0.1", port, path, agent: false, timeout: 3000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
/** the set of answers of `n` GETs (failures count as "error: ...") */
const hostNames = async (port: number, n = 30) => {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(await hostGet(port).catch((e) => `error: ${(e as Error).message}`));
  return [...seen].sort();
};

const END = "END-OF-CLIENT-OUTPUT";

/** a command in a container through the engine's own CLI, its output */
const execOut = async (engine: Engine, id: string, argv: string[]) =>
  engine.name === "docker"
    ? (await run("docker", ["exec", id, ...argv])).stdout
    : (await run("ctr", ["--namespace", "kubeflare", "tasks", "exec", "--exec-id", `svc-${Date.now().toString(36)}`, id, ...argv])).stdout;

const walkthrough = (engine: Engine, n: number) =>
  describe(`the Services walkthrough on ${engine.name}`, () => {
    let dir = "";
    const node = `svc-${engine.name}-${process.pid}`;
    // this run's own pod network (NET.md names are per run: other test files make theirs at the same time)
    const net = {
      clusterCIDR: `10.42.${64 + n * 16}.0/20`,
      bridge: `kfv${engine.name[0]}${process.pid}`.slice(0, 15),
      name: `kf-svc-${engine.name}-${process.pid}`,
    };
    const lbPort = 30000 - 1 - (process.pid % 500) - n * 500; // a LoadBalancer port nothing else on the host uses, below the NodePort range
    let server: ReturnType<typeof start> | undefined;
    let agent: ReturnType<typeof start> | undefined;
    let sink: NetSink | undefined;
    let k: Kubectl;
    let podCIDR = "";
    const agentData = () => (engine.name === "docker" ? join(dir, "cp", "agent") : join(dir, "box", "data"));
    const output = () => `${server?.output().slice(-3000) ?? ""}\n${agent?.output().slice(-3000) ?? ""}`;

    const apply = async (manifest: string | object) => {
      const r = await k(["apply", "-f", "-"], { input: typeof manifest === "string" ? manifest : JSON.stringify(manifest) });
      if (r.code) throw new Error(`kubectl apply: ${r.stderr}`);
      return r.stdout;
    };
    const json = async (args: string) => {
      const r = await k(`${args} -o json`);
      if (r.code) throw new Error(`kubectl ${args}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    };
    /** a pod that runs `script` once (with `get URL`: the body, or FAILED); its log, once it has finished */
    const client = async (name: string, script: string, spec: Record<string, unknown> = {}, timeoutMs = 90_000, labels: Record<string, string> = {}) => {
      // (the test image's busybox wget crashes when given -T: `timeout` bounds it instead)
      const get = `get() { timeout 5 wget -qO- "$1" 2>/dev/null || echo FAILED; }; `;
      await apply({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, labels: { role: "client", ...labels } },
        spec: {
          restartPolicy: "Never",
          terminationGracePeriodSeconds: 1,
          ...spec,
          containers: [{ name: "main", image: "kubeflare/busybox:test", imagePullPolicy: "Never", command: ["sh", "-c", `${get}${script}; echo ${END}`] }],
        },
      });
      const phase = await eventually(async () => {
        const p = (await k(`get pod ${name} -o jsonpath={.status.phase}`)).stdout;
        return p === "Succeeded" || p === "Failed" ? p : undefined;
      }, timeoutMs);
      if (phase !== "Succeeded") throw new Error(`client pod ${name}: ${phase}\n${(await k(`logs ${name}`)).stdout}`);
      // the agent ships output every 2 s, and may report the pod finished before its last lines are in (see the report)
      const log = await eventually(async () => {
        const out = (await k(`logs ${name}`)).stdout;
        return out.includes(END) ? out : undefined;
      }, 15_000);
      return log.replace(`${END}\n`, "");
    };
    const kubiaPods = async (): Promise<{ name: string; ip: string }[]> =>
      (await json("get pods -l app=kubia")).items
        .filter((p: any) => !p.metadata.deletionTimestamp && p.status?.phase === "Running")
        .map((p: any) => ({ name: p.metadata.name as string, ip: p.status.podIP as string }));
    const appContainer = async (pod: string) => {
      const cs = await engine.containers({ [LABELS.node]: node, [LABELS.podName]: pod, [LABELS.container]: "httpd" });
      const c = cs.find((c) => c.running && c.labels[LABELS.role] === "app");
      if (!c) throw new Error(`no running httpd container of ${pod}`);
      return c.id;
    };
    const nodePortOf = async (svc: string) => (await json(`get svc ${svc}`)).spec.ports[0].nodePort as number;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `kf-svc-${engine.name}-`));
      sink = await netSink(`kfsv${engine.name[0]}${process.pid % 10000}`, 6100 + (process.pid % 400) * 2 + n);
      sink.alsoLinks(net.bridge);
      const common = ["--port", "0", "--data-dir", join(dir, "cp"), "--sync", "normal", "--cluster-cidr", net.clusterCIDR];
      if (engine.name === "docker") {
        // npm start's own agent on this machine's Docker, kube-proxy on
        server = start("npm", [
          "start",
          "--",
          ...common,
          "--node-name",
          node,
          "--node-ip",
          "127.0.0.1",
          "--pause-image",
          "kubeflare/pause:test",
          "--pod-bridge",
          net.bridge,
          "--pod-network-name",
          net.name,
        ]);
        await eventually(async () => server!.output().includes(`node agent: ${node} on docker://`), 90_000).catch((e) => {
          throw new Error(`${(e as Error).message}\n${output()}`);
        });
      } else {
        // the control plane alone, and a box that joins on containerd
        server = start("npm", ["start", "--", ...common, "--no-agent"]);
        await eventually(async () => /listening on https:/.test(server!.output()), 90_000).catch((e) => {
          throw new Error(`${(e as Error).message}\n${output()}`);
        });
        const kubeconfig = join(dir, "cp", "kubeconfig");
        const url = /listening on (https:\/\/\S+)/.exec(server.output())![1];
        const token = await agentCli(["token", "create", "--kubeconfig", kubeconfig, "--ttl", "10m"]);
        expect(token.code).toBe(0);
        const ca = join(dir, "ca.crt");
        writeFileSync(ca, Buffer.from(parse(readFileSync(kubeconfig, "utf8")).clusters[0].cluster["certificate-authority-data"], "base64"));
        const config = join(dir, "box", "agent.json");
        const joined = await agentCli(
          joinArgs({
            server: url,
            token: token.stdout.trim(),
            name: node,
            runtime: "containerd",
            caFile: ca,
            podBridge: net.bridge,
            dataDir: agentData(),
            config,
            kubeProxy: true,
          }),
        );
        expect(joined.stderr.replace(/^npm warn .*\n/gm, "")).toBe("");
        agent = start("npx", ["kubeflare-agent", "run", "--config", config]);
      }
      k = kubectl(join(dir, "cp", "kubeconfig"), "1.33");
      await eventually(async () => (await k(`get node ${node} --no-headers`)).stdout.includes(" Ready "), 90_000).catch((e) => {
        throw new Error(`${(e as Error).message}\n${output()}`);
      });
      podCIDR = (await json(`get node ${node}`)).spec.podCIDR;
    }, 200_000);

    afterAll(async () => {
      await stop(agent?.child);
      await stop(server?.child);
      // the processes are gone: now their containers, pod network and rules
      for (const c of await engine.containers({ [LABELS.node]: node })) {
        if (engine.name === "containerd" && c.labels[LABELS.role] === "sandbox" && podCIDR) {
          const pn = podNetwork(podCIDR, { bridge: net.bridge, cniDataDir: join(agentData(), "cni") });
          await new Cni(pn).del(c.id, existsSync(netnsPath(c.id)) ? netnsPath(c.id) : "").catch(() => undefined);
          await unpinNetns(c.id).catch(() => undefined);
        }
        await engine.remove(c.id);
      }
      if (engine.name === "docker") await run("docker", ["network", "rm", net.name]).catch(() => undefined);
      // kube-proxy's table and its DOCKER-USER rule, the way a user removes them
      await agentCli(["uninstall"]);
      await sink?.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 120_000);

    afterEach((ctx) => {
      if (ctx.task.result?.state === "fail") console.error(`--- ${engine.name}: npm start / agent output (tail) ---\n${output()}`);
    });

    it("kubia: 3 httpd pods on the pod network, exposed as a NodePort, all answer on 127.0.0.1:<nodePort>", async () => {
      expect(podCIDR).toMatch(new RegExp(`^10\\.42\\.${64 + n * 16}\\.0/24$`));
      // each pod serves its name, a CGI script that tells the client's address, and a readiness file the test can take away
      const script = [
        "mkdir -p /www/cgi-bin",
        "hostname > /www/index.html",
        "touch /www/ready",
        "echo '#!/bin/sh' > /www/cgi-bin/ip",
        `echo 'printf "Content-Type: text/plain\\r\\n\\r\\n%s\\n" "$REMOTE_ADDR"' >> /www/cgi-bin/ip`,
        "chmod +x /www/cgi-bin/ip",
        "exec httpd -f -p 8080 -h /www",
      ].join("; ");
      expect(
        await apply(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: kubia}
spec:
  replicas: 3
  selector: {matchLabels: {app: kubia}}
  template:
    metadata: {labels: {app: kubia}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: kubeflare/busybox:test
        imagePullPolicy: Never
        command: [sh, -c, ${JSON.stringify(script)}]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1, failureThreshold: 1}
`),
      ).toBe("deployment.apps/kubia created\n");
      const rollout = await k(["rollout", "status", "deployment/kubia", "--timeout=90s"], { timeoutMs: 100_000 });
      expect(rollout.stdout).toContain('deployment "kubia" successfully rolled out');
      const pods = await kubiaPods();
      expect(pods).toHaveLength(3);
      for (const p of pods) expect(p.ip).toMatch(new RegExp(`^10\\.42\\.${64 + n * 16}\\.\\d+$`));

      expect((await k("expose deployment kubia --type=NodePort --port=80 --target-port=8080")).stdout).toBe("service/kubia exposed\n");
      const nodePort = await nodePortOf("kubia");
      expect(nodePort).toBeGreaterThanOrEqual(30000);
      const names = pods.map((p) => p.name).sort();
      await eventually(async () => JSON.stringify(await hostNames(nodePort)) === JSON.stringify(names), 30_000).catch(async (e) => {
        throw new Error(`${(e as Error).message}: saw ${JSON.stringify(await hostNames(nodePort))}, want ${JSON.stringify(names)}`);
      });
    }, 150_000);

    it("from a client pod: http://kubia, http://kubia.default.svc.cluster.local and the ClusterIP answer, from every replica", async () => {
      const clusterIP = (await json("get svc kubia")).spec.clusterIP;
      const names = (await kubiaPods()).map((p) => p.name).sort();
      const log = await client(
        "client-names",
        `for u in kubia kubia.default kubia.default.svc kubia.default.svc.cluster.local ${clusterIP}; do for i in $(seq 15); do echo "$u $(get http://$u/)"; done; done`,
      );
      const answers = (u: string) =>
        log
          .split("\n")
          .filter((l) => l.startsWith(`${u} `))
          .map((l) => l.slice(u.length + 1));
      // (the short forms through the search path of the pod's resolv.conf)
      for (const u of ["kubia", "kubia.default", "kubia.default.svc", "kubia.default.svc.cluster.local", clusterIP]) {
        const a = answers(u);
        expect(a).toHaveLength(15);
        for (const x of a) expect(names).toContain(x);
      }
      // spread across the endpoints
      expect(
        new Set(
          log
            .split("\n")
            .filter(Boolean)
            .map((l) => l.split(" ")[1]),
        ).size,
      ).toBeGreaterThan(1);
    }, 120_000);

    it("a pod reaches itself through its Service (hairpin)", async () => {
      const clusterIP = (await json("get svc kubia")).spec.clusterIP;
      const [me] = await kubiaPods();
      // 30 requests from one replica: a third of them pick it; without hairpin they are lost and retried elsewhere
      const out = await execOut(engine, await appContainer(me.name), [
        "sh",
        "-c",
        `for i in $(seq 30); do timeout 5 wget -qO- http://${clusterIP}:80/ || echo FAILED; done`,
      ]);
      const answers = out.split("\n").filter(Boolean);
      expect(answers).toHaveLength(30);
      expect(answers, out).toContain(me.name);
      expect(answers).not.toContain("FAILED");
    }, 60_000);

    it("sessionAffinity: ClientIP sticks to one pod", async () => {
      await apply({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "kubia-sticky" },
        spec: { selector: { app: "kubia" }, sessionAffinity: "ClientIP", ports: [{ port: 80, targetPort: "http" }] },
      });
      const log = await client("client-sticky", `for i in $(seq 20); do get http://kubia-sticky/; done`);
      const seen = log.split("\n").filter(Boolean);
      expect(seen).toHaveLength(20);
      expect(new Set(seen).size).toBe(1);
      expect((await kubiaPods()).map((p) => p.name)).toContain(seen[0]);
    }, 120_000);

    it("a headless Service resolves to the pod IPs", async () => {
      await apply({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "kubia-headless" },
        spec: { clusterIP: "None", selector: { app: "kubia" }, ports: [{ port: 80, targetPort: 8080 }] },
      });
      const ips = (await kubiaPods()).map((p) => p.ip).sort();
      const log = await client("client-headless", "nslookup kubia-headless.default.svc.cluster.local");
      const answer = log.slice(log.indexOf("Name:"));
      const got = [...answer.matchAll(/Address:\s+(\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]).sort();
      expect(got, log).toEqual(ips);
    }, 120_000);

    it("a UDP Service carries datagrams both ways (a selector-less Service in front of the node's DNS server)", async () => {
      // busybox has no UDP server (its nc has no -u): the UDP server behind this Service is the node-local DNS on the
      // pod bridge's gateway, as a hand-made EndpointSlice; the client's nslookup asks it through the Service's ClusterIP
      const gateway = podCIDR.replace(/0\/24$/, "1");
      await apply(`
apiVersion: v1
kind: Service
metadata: {name: udp-dns}
spec: {ports: [{name: dns, protocol: UDP, port: 53, targetPort: 53}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: udp-dns-1, labels: {kubernetes.io/service-name: udp-dns}}
addressType: IPv4
endpoints: [{addresses: ["${gateway}"], conditions: {ready: true}}]
ports: [{name: dns, protocol: UDP, port: 53}]
`);
      const clusterIP = (await json("get svc udp-dns")).spec.clusterIP;
      const kubiaIP = (await json("get svc kubia")).spec.clusterIP;
      const log = await client("client-udp", `nslookup kubia.default.svc.cluster.local ${clusterIP}`);
      expect(log).toMatch(new RegExp(`Server:\\s+${clusterIP.replace(/\./g, "\\.")}`));
      expect(log).toMatch(new RegExp(`Name:\\s+kubia\\.default\\.svc\\.cluster\\.local\\s+Address:\\s+${kubiaIP.replace(/\./g, "\\.")}`));
    }, 120_000);

    it("a UDP echo Service: datagrams through the ClusterIP and the DNS name reach both replicas and come back", async () => {
      // socat (copied into the test image by scripts/test-image.sh) answers each datagram with its pod's name
      expect(
        await apply(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: socat
        image: kubeflare/busybox:test
        imagePullPolicy: Never
        command: [socat, "UDP4-RECVFROM:9000,fork", "SYSTEM:echo \\"$(hostname) $(head -c 100)\\""]
        ports: [{name: echo, containerPort: 9000, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{name: echo, protocol: UDP, port: 5000, targetPort: echo}]
`),
      ).toBe("deployment.apps/echo created\nservice/echo created\n");
      const rollout = await k(["rollout", "status", "deployment/echo", "--timeout=90s"], { timeoutMs: 100_000 });
      expect(rollout.stdout).toContain('deployment "echo" successfully rolled out');
      const names = (await json("get pods -l app=echo")).items.map((p: any) => p.metadata.name).sort();
      const clusterIP = (await json("get svc echo")).spec.clusterIP;
      // each datagram from a new source port: a new conntrack entry, so kube-proxy's choice is made again
      // (one after the other: sent all at once, the socat echo servers lose some of them)
      const send = (to: string) => `for i in $(seq 1 12); do echo ping-$i | timeout 3 socat -T2 - UDP4:${to}:5000 || echo FAILED; done`;
      await eventually(async () => {
        const log = await client(`client-udp-echo-${Date.now().toString(36)}`, `${send(clusterIP)}; ${send("echo")}`);
        const replies = log.trim().split("\n");
        expect(replies, log).toHaveLength(24);
        for (const [i, r] of replies.entries()) expect(r).toMatch(new RegExp(`^(${names.join("|")}) ping-${(i % 12) + 1}$`));
        return names.every((n: string) => replies.some((r) => r.startsWith(`${n} `)));
      }, 60_000);
    }, 180_000);

    it("a LoadBalancer Service lists the node's address and answers on its port at 127.0.0.1", async () => {
      expect((await k(`expose deployment kubia --name kubia-lb --type=LoadBalancer --port=${lbPort} --target-port=8080`)).stdout).toBe(
        "service/kubia-lb exposed\n",
      );
      const ingress = await eventually(async () => (await json("get svc kubia-lb")).status?.loadBalancer?.ingress, 20_000);
      expect(ingress.map((i: any) => i.ip)).toEqual(["127.0.0.1"]);
      const names = (await kubiaPods()).map((p) => p.name);
      await eventually(async () => names.includes(await hostGet(lbPort)), 20_000);
      // gone with the Service: the port is refused again (not left to a stale rule)
      expect((await k("delete svc kubia-lb")).stdout).toBe('service "kubia-lb" deleted\n');
      await eventually(async () => /ECONNREFUSED/.test(await hostGet(lbPort).catch((e) => String(e))), 20_000);
    }, 60_000);

    it("a Service without endpoints refuses connections on its NodePort (not a timeout)", async () => {
      expect((await k("create service nodeport nothing --tcp=80:8080")).stdout).toBe("service/nothing created\n");
      const nodePort = await nodePortOf("nothing");
      await eventually(async () => /ECONNREFUSED/.test(await hostGet(nodePort).catch((e) => String(e))), 20_000);
    }, 60_000);

    it("externalTrafficPolicy: Local answers on its NodePort and keeps the client's address (Cluster masquerades it)", async () => {
      await apply({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "kubia-local" },
        spec: { type: "NodePort", externalTrafficPolicy: "Local", selector: { app: "kubia" }, ports: [{ port: 80, targetPort: 8080 }] },
      });
      const local = await nodePortOf("kubia-local");
      const cluster = await nodePortOf("kubia");
      const names = (await kubiaPods()).map((p) => p.name);
      await eventually(async () => names.includes(await hostGet(local)), 20_000);
      // from a pod to the node's address on the pod network (its gateway): Local keeps the pod's address, Cluster masquerades
      const gateway = podCIDR.replace(/0\/24$/, "1");
      const log = await client(
        "client-etp",
        `echo "local $(get http://${gateway}:${local}/cgi-bin/ip)"; echo "cluster $(get http://${gateway}:${cluster}/cgi-bin/ip)"`,
      );
      // (busybox httpd listens on IPv6 and says [::ffff:a.b.c.d])
      const field = (k: string) => new RegExp(`^${k} (?:\\[::ffff:)?([^\\]\\s]*)\\]?$`, "m").exec(log)?.[1];
      const me = (await k("get pod client-etp -o jsonpath={.status.podIP}")).stdout;
      expect(me).toMatch(/^10\.42\./);
      expect(field("local"), log).toBe(me);
      expect(field("cluster"), log).toBe(gateway);
    }, 120_000);

    it("service-link variables in a pod created after the Services", async () => {
      const kubia = (await json("get svc kubia")).spec.clusterIP;
      const log = await client("client-env", "env | sort");
      const env = Object.fromEntries(
        log
          .split("\n")
          .filter((l) => l.includes("="))
          .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
      );
      expect(env).toMatchObject({
        KUBERNETES_SERVICE_HOST: "10.43.0.1",
        KUBERNETES_SERVICE_PORT: "443",
        KUBIA_SERVICE_HOST: kubia,
        KUBIA_SERVICE_PORT: "80",
        KUBIA_PORT: `tcp://${kubia}:80`,
        KUBIA_PORT_80_TCP: `tcp://${kubia}:80`,
        KUBIA_PORT_80_TCP_PROTO: "tcp",
        KUBIA_PORT_80_TCP_PORT: "80",
        KUBIA_PORT_80_TCP_ADDR: kubia,
        KUBIA_STICKY_SERVICE_HOST: expect.any(String),
      });
      // headless Services get no variables
      expect(env.KUBIA_HEADLESS_SERVICE_HOST).toBeUndefined();
    }, 120_000);

    it("a pod's own name and its hostAliases are in its /etc/hosts (kubelet's file)", async () => {
      const log = await client("client-hosts", 'echo "me $(hostname) $(hostname -i)"; cat /etc/hosts', {
        hostAliases: [{ ip: "127.0.0.1", hostnames: ["foo.local", "bar.local"] }],
      });
      const ip = (await k("get pod client-hosts -o jsonpath={.status.podIP}")).stdout;
      expect(log).toContain(`me client-hosts ${ip}\n`);
      expect(log).toContain(`${ip}\tclient-hosts\n`);
      expect(log).toContain("127.0.0.1\tfoo.local\tbar.local\n");
    }, 120_000);

    it("scaling to 2, and a pod made unready, leave the rotation; ready again, it comes back", async () => {
      const nodePort = await nodePortOf("kubia");
      expect((await k("scale deployment kubia --replicas=2")).stdout).toBe("deployment.apps/kubia scaled\n");
      const two = await eventually(async () => {
        const pods = await kubiaPods();
        return pods.length === 2 ? pods.map((p) => p.name).sort() : undefined;
      }, 30_000);
      await eventually(async () => JSON.stringify(await hostNames(nodePort)) === JSON.stringify(two), 20_000).catch(async (e) => {
        throw new Error(`${(e as Error).message}: saw ${JSON.stringify(await hostNames(nodePort))}, want ${JSON.stringify(two)}`);
      });
      // one pod fails its readiness probe: it leaves, the other stays
      const [gone, stays] = two;
      await engine.exec(await appContainer(gone), ["rm", "/www/ready"]);
      await eventually(async () => JSON.stringify(await hostNames(nodePort)) === JSON.stringify([stays]), 20_000).catch(async (e) => {
        throw new Error(`${(e as Error).message}: saw ${JSON.stringify(await hostNames(nodePort))}, want ${JSON.stringify([stays])}`);
      });
      expect((await k(`get pod ${gone} -o jsonpath={.status.conditions[?(@.type=="Ready")].status}`)).stdout).toBe("False");
      await engine.exec(await appContainer(gone), ["touch", "/www/ready"]);
      await eventually(async () => JSON.stringify(await hostNames(nodePort)) === JSON.stringify(two), 20_000);
    }, 120_000);

    it("a pod reads https://kubernetes.default.svc/version, verifying the server with the CA it was given", async () => {
      const sa = "/var/run/secrets/kubernetes.io/serviceaccount";
      const request = "GET /version HTTP/1.1\\r\\nHost: kubernetes.default.svc\\r\\nConnection: close\\r\\n\\r\\n";
      const log = await client(
        "client-api",
        [
          `echo "namespace: $(cat ${sa}/namespace)"`,
          // busybox's wget checks no certificate: it shows the way in works (as the book's curl does)
          "get https://kubernetes.default.svc/version",
          "echo",
          // socat checks the chain against the pod's ca.crt and the name kubernetes.default.svc
          // (ignoreeof: its end of the connection stays open after the request, since an early close_notify would
          // end the request; socat is done when the server closes, not after a fixed wait)
          `printf '${request}' | timeout 10 socat -T5 STDIO,ignoreeof OPENSSL:kubernetes.default.svc:443,cafile=${sa}/ca.crt,verify=1 2>&1 | grep -E 'gitVersion|socat' || echo NO-ANSWER`,
          // the CA the pod got is the one the control plane publishes
          `md5sum < ${sa}/ca.crt`,
          // and refuses a server that is not the one asked for (the check is really made)
          `printf '${request}' | timeout 10 socat -T5 STDIO,ignoreeof OPENSSL:kubernetes.default.svc:443,cafile=${sa}/ca.crt,verify=1,commonname=not-the-api.example >/dev/null 2>&1 || echo REFUSED-OTHER-NAME`,
        ].join("; ") + " 2>&1",
        {},
        120_000,
      );
      const version = JSON.parse((await k("version -o json")).stdout).serverVersion.gitVersion;
      expect(log).toContain("namespace: default");
      // once through wget, once through socat's verified connection
      expect(log.split(`"gitVersion":"${version}"`).length - 1, log).toBe(2);
      expect(log).not.toContain("NO-ANSWER");
      expect(log).toContain("REFUSED-OTHER-NAME");
      const published = (await json("get configmap kube-root-ca.crt")).data["ca.crt"];
      const md5 = (await import("node:crypto")).createHash("md5").update(published).digest("hex");
      expect(log).toContain(md5);
      // the pod spec shows the volume kube's ServiceAccount admission adds
      const pod = await json("get pod client-api");
      const vol = pod.spec.volumes.find((v: any) => v.name.startsWith("kube-api-access-"));
      expect(vol.projected.sources.map((x: any) => Object.keys(x)[0]).sort()).toEqual(["configMap", "downwardAPI", "serviceAccountToken"]);
    }, 180_000);

    it("a pod lists the pods of its namespace with its mounted token (its account bound to view) and is refused elsewhere", async () => {
      const sa = "/var/run/secrets/kubernetes.io/serviceaccount";
      expect((await k("create serviceaccount lister")).code).toBe(0);
      expect((await k("create rolebinding lister-view --clusterrole=view --serviceaccount=default:lister")).code).toBe(0);
      // (socat's ignoreeof: see the test above)
      const req = (ns: string) =>
        `printf 'GET /api/v1/namespaces/${ns}/pods HTTP/1.1\\r\\nHost: kubernetes.default.svc\\r\\nAuthorization: Bearer %s\\r\\nConnection: close\\r\\n\\r\\n' "$(cat ${sa}/token)" | ` +
        `timeout 10 socat -T5 STDIO,ignoreeof OPENSSL:kubernetes.default.svc:443,cafile=${sa}/ca.crt,verify=1 2>&1 | grep -oE 'HTTP/1.1 [0-9]+|"kind":"PodList"|pods is forbidden: [^,]*namespace \\\\"${ns}\\\\"' || echo NO-ANSWER`;
      const log = await client(
        "client-token",
        [`echo "token: $(cut -c1-3 ${sa}/token)"`, `echo "--- default"`, req("default"), `echo "--- kube-system"`, req("kube-system")].join("; ") + " 2>&1",
        { serviceAccountName: "lister" },
        120_000,
      );
      expect(log).toContain("token: eyJ");
      const [, mine, other] = log.split(/--- \S+\n/);
      expect(mine).toContain("HTTP/1.1 200");
      expect(mine).toContain('"kind":"PodList"');
      expect(other).toContain("HTTP/1.1 403");
      expect(other).toContain(
        'pods is forbidden: User \\"system:serviceaccount:default:lister\\" cannot list resource \\"pods\\" in API group \\"\\" in the namespace \\"kube-system\\"',
      );
    }, 180_000);

    it("a NetworkPolicy: the kubia pods take connections only from pods labelled access=true, directly and through the ClusterIP", async () => {
      const clusterIP = (await json("get svc kubia")).spec.clusterIP;
      const [target] = await kubiaPods();
      const urls = [`http://${clusterIP}:80/`, `http://${target.ip}:8080/`];
      // both at once (a refused one waits out its 5 s timeout), their answers in order
      const script = `${urls.map((u, i) => `get ${u} > /tmp/np-${i} &`).join(" ")} wait; cat ${urls.map((_, i) => `/tmp/np-${i}`).join(" ")}`;
      expect((await client("np-before", script)).split("\n").filter(Boolean)).not.toContain("FAILED");
      await apply({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "kubia-access" },
        spec: {
          podSelector: { matchLabels: { app: "kubia" } },
          ingress: [{ from: [{ podSelector: { matchLabels: { access: "true" } } }], ports: [{ port: "http" }] }],
        },
      });
      try {
        // the agent applies it within a moment of seeing it; a client pod takes longer than that to start
        await eventually(async () => ((await k("get netpol kubia-access")).code === 0 ? true : undefined), 10_000);
        const denied = (await client("np-denied", script)).split("\n").filter(Boolean);
        expect(denied).toEqual(["FAILED", "FAILED"]);
        const allowed = (await client("np-allowed", script, {}, 90_000, { access: "true" })).split("\n").filter(Boolean);
        expect(allowed).toHaveLength(2);
        expect(allowed).not.toContain("FAILED");
        expect(allowed[1]).toBe(target.name);
      } finally {
        await k("delete netpol kubia-access");
      }
      // without the policy the unlabelled pod gets in again
      const after = await client("np-after", script);
      expect(after.split("\n").filter(Boolean)).not.toContain("FAILED");
    }, 300_000);
  });

describe.skipIf(!engines)("Services end to end: npm start, kube-proxy, cluster DNS, kubectl", () => {
  walkthrough(docker, 0);
  walkthrough(containerd, 1);
});
