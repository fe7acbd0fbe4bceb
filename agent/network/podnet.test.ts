/**
 * The pod network on real engines: sandboxes made after setPodNetwork get distinct
 * addresses from the podCIDR, reach each other from inside their containers, publish
 * hostPorts on 127.0.0.1, and give their addresses back when they go. Each engine gets
 * its own test podCIDR, bridge and network name (so runs side by side don't meet), and the
 * cluster CIDRs are routed into a sink first (NET.md's safety rules); traffic goes only to
 * 127.0.0.1 from the host and to pod IPs from inside the pods.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../test/kubectl";
import { canTouchNetwork, type NetSink, netSink } from "../../test/netsink";
import { ContainerdRuntime } from "../runtime/containerd";
import { DockerRuntime } from "../runtime/docker";
import { type ContainerRuntime, LABELS } from "../runtime/runtime";
import { contains, podNetwork } from "./cidr";
import { removeDockerNetwork } from "./docker";

const run = promisify(execFile);
const IMAGE = "kubeflare/busybox:test";
const PAUSE = "kubeflare/pause:test";

const cases = [
  { engine: "docker", cidr: "10.42.200.0/24", bridge: "kf-pn-d", name: "kf-podnet-test-d", hostPort: 18471 },
  { engine: "containerd", cidr: "10.42.201.0/24", bridge: "kf-pn-c", name: "kf-podnet-test-c", hostPort: 18472 },
] as const;

for (const c of cases) {
  const dataDir = mkdtempSync(join(tmpdir(), `kf-podnet-${c.engine}-`));
  const rt: ContainerRuntime = c.engine === "docker" ? new DockerRuntime() : new ContainerdRuntime(join(dataDir, "containerd"));
  const up =
    (await canTouchNetwork()) &&
    (await rt.version().then(
      async () => (await rt.hasImage(IMAGE)) && (await rt.hasImage(PAUSE)),
      () => false,
    ));
  if (!up && process.env.CI) throw new Error(`CI must run the ${c.engine} pod network tests: root, engine, ${IMAGE} and ${PAUSE} needed`);

  describe.skipIf(!up)(`pod network on ${c.engine}`, () => {
    const node = `podnet-${c.engine}-${process.pid}`;
    const net = podNetwork(c.cidr, { bridge: c.bridge, name: c.name, cniDataDir: join(dataDir, "cni") });
    let sink: NetSink;
    const labels = (pod: string, role: string) => ({ [LABELS.node]: node, [LABELS.podUid]: `${node}-${pod}`, [LABELS.podName]: pod, [LABELS.role]: role });
    const sandbox = async (pod: string, hostPorts: { containerPort: number; hostPort: number; protocol: string }[] = []) => {
      const id = await rt.create({
        name: `${node}-${pod}-pause`,
        image: PAUSE,
        env: [],
        labels: labels(pod, "sandbox"),
        hostNetwork: false,
        mounts: [],
        hostPorts,
      });
      await rt.start(id);
      return { id, ip: (await rt.inspect(id))!.ip ?? "" };
    };
    const app = async (pod: string, sandboxId: string, script: string) => {
      const id = await rt.create({
        name: `${node}-${pod}-app`,
        image: IMAGE,
        command: ["sh", "-c", script],
        env: [],
        labels: labels(pod, "app"),
        hostNetwork: false,
        networkFrom: sandboxId,
        mounts: [],
      });
      await rt.start(id);
      return id;
    };
    const removeAll = async () => {
      const all = await rt.list({ [LABELS.node]: node });
      // app containers before their sandboxes, as the agent does
      for (const x of all.filter((x) => x.labels[LABELS.role] !== "sandbox")) await rt.remove(x.id);
      for (const x of all.filter((x) => x.labels[LABELS.role] === "sandbox")) await rt.remove(x.id);
    };

    beforeAll(async () => {
      sink = await netSink(c.engine === "docker" ? "kf-sink-pnd" : "kf-sink-pnc", c.engine === "docker" ? 5011 : 5012);
      sink.alsoLinks(c.bridge);
      await rt.setPodNetwork(net);
    });

    afterAll(async () => {
      await removeAll().catch(() => undefined);
      if (c.engine === "docker") await removeDockerNetwork(new Docker(), c.name).catch(() => undefined);
      await sink?.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("puts the gateway address on the pod bridge before any pod (the node-local DNS server listens there)", async () => {
      const addrs = JSON.parse((await run("ip", ["-j", "addr", "show", "dev", c.bridge])).stdout);
      expect(addrs[0].addr_info.filter((a: any) => a.family === "inet").map((a: any) => `${a.local}/${a.prefixlen}`)).toEqual([`${net.gateway}/24`]);
      // and again is no change
      await rt.setPodNetwork(net);
      expect(JSON.parse((await run("ip", ["-j", "addr", "show", "dev", c.bridge])).stdout)[0].addr_info.filter((a: any) => a.family === "inet")).toHaveLength(
        1,
      );
    });

    it("gives two sandboxes distinct addresses from the podCIDR; one pod reaches the other, the host reaches a hostPort on 127.0.0.1; addresses go back", async () => {
      const a = await sandbox("a", [{ containerPort: 8080, hostPort: c.hostPort, protocol: "TCP" }]);
      const b = await sandbox("b");
      expect(contains(c.cidr, a.ip)).toBe(true);
      expect(contains(c.cidr, b.ip)).toBe(true);
      expect(a.ip).not.toBe(b.ip);
      expect([a.ip, b.ip]).not.toContain(net.gateway);
      await app("a", a.id, `mkdir -p /www && echo "hello from pod a" > /www/index.html && exec httpd -f -p 8080 -h /www`);
      const client = await app("b", b.id, "exec sleep 3600");
      // from inside pod b, pod a's address
      const got = await eventually(async () => {
        const r = await rt.exec(client, ["wget", "-q", "-O", "-", `http://${a.ip}:8080/`], 5000);
        return r.exitCode === 0 && r.output.includes("hello from") && r.output;
      });
      expect(got.trim()).toBe("hello from pod a");
      // pod b's default route is the bridge's gateway (10.42.N.1)
      const route = await rt.exec(client, ["ip", "route"], 5000);
      expect(route.output).toContain(`default via ${net.gateway}`);
      // the hostPort, from the host, on 127.0.0.1 only
      const viaHost = await eventually(async () => (await run("curl", ["-sS", "--max-time", "3", `http://127.0.0.1:${c.hostPort}/`])).stdout);
      expect(viaHost.trim()).toBe("hello from pod a");

      // the addresses are released when the sandboxes go
      const leases = () => {
        const d = join(net.cniDataDir, "networks", net.name);
        return existsSync(d) ? readdirSync(d).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
      };
      const dockerUsers = async () => Object.keys((await new Docker().getNetwork(c.name).inspect()).Containers ?? {}).length;
      if (c.engine === "containerd") expect(leases().sort()).toEqual([a.ip, b.ip].sort());
      else expect(await dockerUsers()).toBe(2);
      await removeAll();
      if (c.engine === "containerd") {
        expect(leases()).toEqual([]);
        // and the plugins' iptables rules (bridge's masquerade, portmap's DNAT) with them
        expect((await run("iptables-save", ["-t", "nat"])).stdout).not.toContain(`"${net.name}"`);
      } else expect(await dockerUsers()).toBe(0);
      // and the hostPort is closed again
      await expect(run("curl", ["-sS", "--max-time", "2", `http://127.0.0.1:${c.hostPort}/`])).rejects.toThrow();
    }, 90_000);

    // (containerd only: Docker keeps its own namespaces)
    if (c.engine === "containerd")
      it("releases everything of a sandbox whose pause process died (its namespace is pinned)", async () => {
        const s = await sandbox("died", [{ containerPort: 8080, hostPort: c.hostPort + 10, protocol: "TCP" }]);
        expect(contains(c.cidr, s.ip)).toBe(true);
        expect(existsSync(join(net.cniDataDir, "networks", net.name, s.ip))).toBe(true);
        await run("ctr", ["--namespace", "kubeflare", "tasks", "kill", "-s", "SIGKILL", s.id]);
        await eventually(async () => (await rt.inspect(s.id))?.state === "exited");
        await rt.remove(s.id);
        expect(existsSync(join(net.cniDataDir, "networks", net.name, s.ip))).toBe(false);
        // bridge's masquerade rule and portmap's DNAT went too (the plugins found the interface in the pinned namespace)
        expect((await run("iptables-save", ["-t", "nat"])).stdout).not.toContain(`"${net.name}"`);
        expect((await run("ip", ["netns", "list"])).stdout).not.toContain(s.id);
      }, 60_000);

    it("stops a sandbox: its address goes back at once (StopPodSandbox tears the network down first)", async () => {
      const s = await sandbox("stopped");
      expect(contains(c.cidr, s.ip)).toBe(true);
      await rt.stop(s.id, 1);
      expect((await rt.inspect(s.id))!.ip ?? "").toBe("");
      if (c.engine === "containerd") expect(existsSync(join(net.cniDataDir, "networks", net.name, s.ip))).toBe(false);
      await rt.remove(s.id);
    }, 60_000);
  });
}
