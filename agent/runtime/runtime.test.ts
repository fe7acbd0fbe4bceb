/**
 * The contract every ContainerRuntime meets, run against each engine that is reachable
 * (Docker now; containerd joins the list when its implementation lands). Real engines,
 * no mocks; containers use the host network or none and listen on 127.0.0.1 only.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ContainerdRuntime } from "./containerd";
import { DockerRuntime } from "./docker";
import { type ContainerRuntime, LABELS } from "./runtime";

const IMAGE = "kubeflare/busybox:test";
const engines: [string, ContainerRuntime][] = [
  ["docker", new DockerRuntime()],
  ["containerd", new ContainerdRuntime(mkdtempSync(join(tmpdir(), "kf-ctrd-state-")))],
];

for (const [name, rt] of engines) {
  const up = await rt.version().then(
    () => rt.hasImage(IMAGE),
    () => false,
  );
  if (!up && process.env.CI) throw new Error(`CI must run the ${name} runtime tests: engine or ${IMAGE} missing`);

  describe.skipIf(!up)(`ContainerRuntime: ${name}`, () => {
    const run = `rt-${process.pid}-${Date.now().toString(36)}`;
    const labels = { [LABELS.node]: run, [LABELS.podUid]: run };
    const dir = mkdtempSync(join(tmpdir(), "kf-rt-"));
    afterAll(async () => {
      for (const c of await rt.list({ [LABELS.node]: run })) await rt.remove(c.id);
      rmSync(dir, { recursive: true, force: true });
    });
    const spec = (n: string, args: string[], extra: Record<string, unknown> = {}) => ({
      name: `${run}-${n}`,
      image: IMAGE,
      command: ["sh", "-c"],
      args,
      env: ["GREETING=hello"],
      labels: { ...labels, [LABELS.container]: n },
      hostNetwork: true,
      mounts: [],
      ...extra,
    });

    it("reports its version and finds local images", async () => {
      expect(await rt.version()).toMatch(new RegExp(`^${name}://\\d`));
      expect(await rt.hasImage(IMAGE)).toBe(true);
      expect(await rt.hasImage("kubeflare/does-not-exist:1")).toBe(false);
    });

    it("creates, starts, lists by label, and reports a clean exit with output", async () => {
      const id = await rt.create(spec("once", ["echo $GREETING; echo oops >&2; exit 0"]));
      await rt.start(id);
      for (let i = 0; i < 50 && (await rt.inspect(id))?.state !== "exited"; i++) await new Promise((r) => setTimeout(r, 100));
      const info = (await rt.inspect(id))!;
      expect(info).toMatchObject({ state: "exited", exitCode: 0 });
      expect(info.labels[LABELS.container]).toBe("once");
      expect(Date.parse(info.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(info.startedAt!));
      expect((await rt.list({ [LABELS.node]: run, [LABELS.container]: "once" })).map((c) => c.id)).toEqual([id]);
      // every label must match (not any of them)
      expect(await rt.list({ [LABELS.node]: run, [LABELS.container]: "no-such-container" })).toEqual([]);
      // containerd's shim copies the output into the log file after it reports the exit: the last lines may land a moment later
      // (seconds on a loaded box)
      let lines = await rt.logs(id);
      for (let i = 0; i < 100 && lines.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        lines = [...lines, ...(await rt.logs(id))];
      }
      expect(lines.map((l) => l.text).sort()).toEqual(["hello", "oops"]);
      // Docker keeps the two streams apart; containerd's output file mixes them (documented)
      if (name === "docker") expect(lines.map((l) => `${l.stream}:${l.text}`).sort()).toEqual(["stderr:oops", "stdout:hello"]);
      expect(lines.every((l) => !Number.isNaN(Date.parse(l.time)))).toBe(true);
    });

    it("stops gracefully (SIGTERM), kills after the grace period, execs and mounts", async () => {
      writeFileSync(join(dir, "data.txt"), "from the host");
      const id = await rt.create(
        spec("svc", ["trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done"], {
          mounts: [{ hostPath: dir, containerPath: "/data", readOnly: true }],
          memoryLimitBytes: 32 * 1024 * 1024,
        }),
      );
      await rt.start(id);
      expect((await rt.inspect(id))!.state).toBe("running");
      const ex = await rt.exec(id, ["cat", "/data/data.txt"], 5000);
      expect(ex).toEqual({ exitCode: 0, output: "from the host" });
      expect((await rt.exec(id, ["sh", "-c", "exit 4"], 5000)).exitCode).toBe(4);
      expect((await rt.exec(id, ["sh", "-c", "echo x > /data/nope"], 5000)).exitCode).not.toBe(0);
      await rt.stop(id, 5);
      const info = (await rt.inspect(id))!;
      expect(info).toMatchObject({ state: "exited", exitCode: 0 });
      expect((await rt.logs(id)).map((l) => l.text)).toContain("bye");

      const stubborn = await rt.create(spec("stubborn", ["trap '' TERM; while true; do sleep 0.1; done"]));
      await rt.start(stubborn);
      await rt.stop(stubborn, 1);
      // killed by the signal, not by the OOM killer
      expect(await rt.inspect(stubborn)).toMatchObject({ exitCode: 137, oomKilled: false });
      await rt.remove(stubborn);
      expect(await rt.inspect(stubborn)).toBeNull();
      expect(readFileSync(join(dir, "data.txt"), "utf8")).toBe("from the host");
    });

    it("on the host network: the host's resolv.conf and hosts, unless a mount gives the container its own", async () => {
      const cat = async (n: string, extra: Record<string, unknown> = {}) => {
        const id = await rt.create(spec(n, ["cat /etc/resolv.conf; echo ---; cat /etc/hosts"], extra));
        await rt.start(id);
        for (let i = 0; i < 50 && (await rt.inspect(id))?.state !== "exited"; i++) await new Promise((r) => setTimeout(r, 100));
        return (await rt.logs(id)).map((l) => l.text).join("\n");
      };
      const hostResolv = readFileSync("/etc/resolv.conf", "utf8").trim().split("\n").filter(Boolean);
      const plain = await cat("hostdns");
      for (const line of hostResolv) expect(plain).toContain(line.trim());
      // kubelet's ClusterFirstWithHostNet: the pod's own resolv.conf wins over the host's
      writeFileSync(join(dir, "resolv.conf"), "nameserver 10.43.0.10\nsearch default.svc.cluster.local\n");
      const own = await cat("clusterdns", { mounts: [{ hostPath: join(dir, "resolv.conf"), containerPath: "/etc/resolv.conf", readOnly: false }] });
      expect(own.split("---")[0].trim()).toBe("nameserver 10.43.0.10\nsearch default.svc.cluster.local");
      expect(own.split("---")[1]).toContain("localhost");
    });

    it("reports its containers' state changes as events, not exec's, until aborted (Docker; containerd has none)", async () => {
      // containerd through `ctr` has no event stream the runtime follows: the agent lists that engine every pass
      if (!rt.events) {
        expect(rt.name).toBe("containerd");
        return;
      }
      const ac = new AbortController();
      const seen: { action: string; id: string; node?: string }[] = [];
      let opened!: () => void;
      const open = new Promise<void>((r) => (opened = r));
      const done = rt.events!(
        { [LABELS.node]: run },
        { open: opened, event: (e) => seen.push({ action: e.action, id: e.id, node: e.labels[LABELS.node] }) },
        ac.signal,
      );
      await open;
      // another node's container is not heard of
      const other = await rt.create({ ...spec("other", ["sleep 30"]), labels: { [LABELS.node]: `${run}-other` } });
      const id = await rt.create(spec("evented", ["sleep 30"]));
      await rt.start(id);
      expect((await rt.exec(id, ["true"], 5000)).exitCode).toBe(0);
      await rt.stop(id, 0);
      await rt.remove(id);
      await rt.remove(other);
      const mine = () => seen.filter((e) => e.id === id).map((e) => e.action);
      for (let i = 0; i < 50 && !mine().includes("destroy"); i++) await new Promise((r) => setTimeout(r, 100));
      expect(mine()).toEqual(["create", "start", "die", "destroy"]);
      expect(seen.every((e) => e.id === id && e.node === run)).toBe(true);
      ac.abort();
      await done;
    });

    it("reports OOMKilled when a container exceeds its memory limit", async () => {
      const id = await rt.create(spec("hog", ["x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo $x | wc -c"], { memoryLimitBytes: 16 * 1024 * 1024 }));
      await rt.start(id);
      for (let i = 0; i < 300 && (await rt.inspect(id))?.state !== "exited"; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await rt.inspect(id)).toMatchObject({ state: "exited", exitCode: 137, oomKilled: true });
    });
  });
}
