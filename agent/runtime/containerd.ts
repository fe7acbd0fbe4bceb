/**
 * The containerd implementation of ContainerRuntime, through the `ctr` CLI that ships
 * with containerd (namespace "kubeflare"). containerd keeps no exit codes or output
 * for stopped tasks, so this runtime keeps a small state file per container (start
 * and finish times, exit code, OOM kill) and the output file of each task in `stateDir`.
 * An OOM kill is read from the container's memory cgroup (containerd's cgroupfs layout,
 * `/<namespace>/<id>`) after its task has stopped and before the task is deleted.
 *
 * A pod without host networking gets a sandbox (pause) container whose network, IPC
 * and UTS namespaces its containers join, as with CRI. Once the agent knows its podCIDR
 * (setPodNetwork), a sandbox's network is set up with the CNI plugins when its task
 * starts (an address from the podCIDR on kf0, hostPorts through portmap) and torn down
 * (the address released) when it stops or goes; before that it has loopback only.
 * Limit of this runtime: stdout and stderr share one output file (reported as stdout).
 * Exec streams run `ctr tasks exec`; with a TTY, ctr wants a terminal of its own, so it
 * runs under `script` (a pseudo-terminal), and a resize sets that terminal's size, which
 * ctr passes on to the process's. Attach follows the task's output file from its current
 * end (stdout and stderr as one stream, as the file has them); stdin and a TTY can't be
 * attached to (tasks run detached, writing to that file). Known limit of ctr 1.6: it deletes an exec process as
 * soon as it exits, and on a busy node containerd's shim may not have copied all of its
 * output by then (the tail of a command that exits at once can be lost); CRI waits for the
 * output to drain, which would need the containerd API rather than ctr.
 */
import { inOrder } from "./inorder";
import { cgroupSample, type Sample } from "../stats/cgroup";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { PassThrough } from "node:stream";
import { join } from "node:path";
import { promisify } from "node:util";
import type { PodNetwork } from "../network/cidr";
import { Cni, type PortMapping } from "../network/cni";
import { ensureBridge, pinNetns, unpinNetns } from "../network/netns";
import type { ContainerInfo, ContainerRuntime, ContainerSpec, LogLine, StreamOptions, StreamProcess } from "./runtime";
import { ImagePullError } from "./runtime";

const run = promisify(execFile);

interface State {
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  /** the kernel's OOM killer fired in the container's cgroup */
  oomKilled?: boolean;
  /** bytes of the output file already returned by logs(), and the time stamped on them */
  logOffset?: number;
  /** a sandbox on the pod network: its hostPorts, and its address while the network is set up */
  podNet?: { ports: PortMapping[]; netns?: string; ip?: string };
  /** a sandbox's host name, set in its UTS namespace when it starts (its containers join that namespace) */
  hostname?: string;
}

/** Docker Hub's defaulting of short image references, as containerd wants them spelled. */
export const normalizeRef = (image: string): string => {
  let ref = image;
  const first = ref.split("/")[0];
  const hasRegistry = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (!hasRegistry) ref = `docker.io/${ref.includes("/") ? ref : `library/${ref}`}`;
  const last = ref.split("/").pop()!;
  if (!last.includes(":") && !ref.includes("@")) ref += ":latest";
  return ref;
};

type Meta = { labels: Record<string, string>; image: string };

const ts = (d = new Date()) => d.toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");

export class ContainerdRuntime implements ContainerRuntime {
  readonly name = "containerd" as const;

  constructor(
    private readonly stateDir: string,
    private readonly address = process.env.CONTAINERD_ADDRESS ?? "/run/containerd/containerd.sock",
    private readonly namespace = "kubeflare",
  ) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  }

  /**
   * Labels and image by container id: they never change after create, and list() runs
   * every second, so each costs one `ctr containers info` per container lifetime.
   * Entries go in remove() and create(); `metaGen` moves on then too, so a lookup that
   * was under way meanwhile does not store what it read (the id may be a new container).
   */
  private readonly meta = new Map<string, Meta>();
  private metaGen = 0;
  /** reap() under way, by container id: only one of them may delete the task and record the exit */
  private readonly reaping = new Map<string, Promise<State>>();
  /** the pod network, once the agent knows its podCIDR */
  private cni: Cni | undefined;

  async setPodNetwork(net: PodNetwork): Promise<void> {
    await ensureBridge(net.bridge, net.gateway, Number(net.subnet.split("/")[1]));
    this.cni = new Cni(net);
  }

  /** Tear down a sandbox's pod network (release its address) in its pinned namespace, once. */
  private async netDown(id: string): Promise<void> {
    const st = this.readState(id);
    if (!st.podNet?.ip || !this.cni) return;
    await this.cni.del(id, st.podNet.netns && existsSync(st.podNet.netns) ? st.podNet.netns : "");
    this.writeState(id, { ...this.readState(id), podNet: { ...st.podNet, ip: undefined } });
  }

  private ctr(args: string[], timeout = 60_000) {
    return run("ctr", ["--address", this.address, "--namespace", this.namespace, ...args], { timeout, maxBuffer: 16 * 1024 * 1024 });
  }

  private statePath = (id: string) => join(this.stateDir, `${id}.json`);
  private logPath = (id: string) => join(this.stateDir, `${id}.log`);
  private readState(id: string): State {
    try {
      return JSON.parse(readFileSync(this.statePath(id), "utf8"));
    } catch {
      return {};
    }
  }
  private writeState(id: string, s: State) {
    writeFileSync(this.statePath(id), JSON.stringify(s));
  }

  async version(): Promise<string> {
    // without a socket ctr would wait out its 10 s dial timeout before saying so
    if (!existsSync(this.address)) throw new Error(`containerd is not reachable at ${this.address}: no such socket`);
    const { stdout } = await this.ctr(["version"], 10_000);
    const m = /Server:[\s\S]*?Version:\s+(\S+)/.exec(stdout);
    if (!m) throw new Error(`containerd is not reachable at ${this.address}`);
    return `containerd://${m[1].replace(/~.*$/, "")}`;
  }

  async hasImage(image: string): Promise<boolean> {
    const { stdout } = await this.ctr(["images", "ls", "-q"]);
    return stdout.split("\n").includes(normalizeRef(image));
  }

  async pullImage(image: string): Promise<void> {
    try {
      await this.ctr(["images", "pull", normalizeRef(image)], 600_000);
    } catch (e) {
      // ctr's own error line, without its timestamped log lines (a message that changes on every attempt can't be aggregated into one event)
      const stderr = String((e as { stderr?: string }).stderr ?? (e as Error).message);
      const lines = stderr.split("\n").filter((l) => l.trim() && !/^time="[^"]*" level=/.test(l));
      throw new ImagePullError(`failed to pull image "${image}": ${(lines.join("\n") || stderr).trim().replace(/^ctr: /, "")}`);
    }
  }

  /** The host pid of each running task's init process, by container id. */
  private async taskPids(): Promise<Map<string, number>> {
    const { stdout } = await this.ctr(["tasks", "ls"]);
    const out = new Map<string, number>();
    for (const line of stdout.split("\n").slice(1)) {
      const [id, pid, status] = line.trim().split(/\s+/);
      if (id && status === "RUNNING" && Number(pid) > 0) out.set(id, Number(pid));
    }
    return out;
  }

  /** Task status by container id: RUNNING, STOPPED, CREATED, ... */
  private async tasks(): Promise<Map<string, string>> {
    const { stdout } = await this.ctr(["tasks", "ls"]);
    const out = new Map<string, string>();
    for (const line of stdout.split("\n").slice(1)) {
      const [id, , status] = line.trim().split(/\s+/);
      if (id) out.set(id, status);
    }
    return out;
  }

  /** The container's labels and image (null when it does not exist); `fresh` skips the cache. */
  private async labelsOf(id: string, fresh = false): Promise<Meta | null> {
    const cached = fresh ? undefined : this.meta.get(id);
    if (cached) return cached;
    const gen = this.metaGen;
    try {
      const { stdout } = await this.ctr(["containers", "info", id]);
      const info = JSON.parse(stdout);
      const meta: Meta = { labels: info.Labels ?? {}, image: info.Image ?? "" };
      if (gen === this.metaGen) this.meta.set(id, meta);
      return meta;
    } catch {
      return null;
    }
  }

  private forget(id: string) {
    this.meta.delete(id);
    this.metaGen++;
  }

  /**
   * Whether the OOM killer fired in the container's memory cgroup: `oom_kill N` in
   * memory.oom_control (cgroup v1) or memory.events (v2). The cgroup is there until
   * the task is deleted. Missing or unreadable: false.
   */
  private oomKilled(id: string): boolean {
    for (const file of [join("/sys/fs/cgroup/memory", this.namespace, id, "memory.oom_control"), join("/sys/fs/cgroup", this.namespace, id, "memory.events")]) {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        continue;
      }
      const m = /^oom_kill (\d+)$/m.exec(text);
      return !!m && Number(m[1]) > 0;
    }
    return false;
  }

  /** Once a task has stopped, record its exit code, OOM kill and finish time, and delete the task. */
  private reap(id: string, status: string | undefined): Promise<State> {
    // a reap under way for this id (list() and inspect() may overlap) decides for both:
    // a second `tasks delete` would fail and record exit code 0
    const pending = this.reaping.get(id);
    if (pending) return pending.then(() => this.readState(id));
    const st = this.readState(id);
    if (status !== "STOPPED" || st.exitCode !== undefined) return Promise.resolve(st);
    const done = (async () => {
      const oomKilled = this.oomKilled(id);
      let exitCode = 0;
      try {
        const { stderr } = await this.ctr(["tasks", "delete", id]);
        const m = /exit code (\d+)/.exec(stderr);
        if (m) exitCode = Number(m[1]);
      } catch (e) {
        const m = /exit code (\d+)/.exec(String((e as { stderr?: string }).stderr ?? ""));
        if (m) exitCode = Number(m[1]);
      }
      // read again: logs() may have moved its offset meanwhile
      const now: State = { ...this.readState(id), exitCode, oomKilled, finishedAt: ts() };
      this.writeState(id, now);
      return now;
    })().finally(() => this.reaping.delete(id));
    this.reaping.set(id, done);
    return done;
  }

  private info(id: string, meta: Meta, status: string | undefined, st: State): ContainerInfo {
    const state: ContainerInfo["state"] =
      status === "RUNNING" ? "running" : st.exitCode !== undefined ? "exited" : status === "CREATED" || !st.startedAt ? "created" : "unknown";
    return {
      id,
      name: id,
      image: meta.image,
      imageId: meta.image,
      labels: meta.labels,
      state,
      ...(st.exitCode !== undefined ? { exitCode: st.exitCode } : {}),
      ...(st.startedAt ? { startedAt: st.startedAt.replace(/\.\d+Z$/, "Z") } : {}),
      ...(st.finishedAt ? { finishedAt: st.finishedAt.replace(/\.\d+Z$/, "Z") } : {}),
      oomKilled: st.oomKilled ?? false,
      ...(state === "running" && st.podNet?.ip ? { ip: st.podNet.ip } : {}),
    };
  }

  async list(labels: Record<string, string>): Promise<ContainerInfo[]> {
    // one filter argument with comma-separated terms is an AND (separate arguments would be an OR)
    const filter = Object.entries(labels)
      .map(([k, v]) => (v === "" ? `labels."${k}"` : `labels."${k}"==${v}`))
      .join(",");
    const { stdout } = await this.ctr(["containers", "ls", "-q", ...(filter ? [filter] : [])]);
    const ids = stdout
      .split("\n")
      .map((s) => s.trim())
      .filter(Boolean);
    if (!ids.length) return [];
    const tasks = await this.tasks();
    const out: ContainerInfo[] = [];
    for (const id of ids) {
      const meta = await this.labelsOf(id);
      if (!meta) continue;
      out.push(this.info(id, meta, tasks.get(id), await this.reap(id, tasks.get(id))));
    }
    return out;
  }

  async inspect(id: string): Promise<ContainerInfo | null> {
    const status = (await this.tasks()).get(id);
    // a task proves the container exists; without one (not started, or reaped), ask
    // containerd, so a container removed by other hands is not reported from the cache
    const meta = await this.labelsOf(id, status === undefined);
    if (!meta) return null;
    return this.info(id, meta, status, await this.reap(id, status));
  }

  async create(spec: ContainerSpec): Promise<string> {
    const id = spec.name.replace(/[^A-Za-z0-9_.-]/g, "-");
    const args = ["containers", "create"];
    // a sandbox of its own network (not the host's, not another's) goes on the pod network, in a namespace pinned for it
    const podNet = !spec.hostNetwork && !spec.networkFrom && this.cni;
    const netns = podNet ? await pinNetns(id) : undefined;
    // the host's network by its namespace path, not `--net-host`: that also mounts the host's
    // resolv.conf and hosts over the container's own mounts (ClusterFirstWithHostNet's file
    // would lose); the host's files go in here instead, unless the pod brings its own
    const own = new Set(spec.mounts.map((m) => m.containerPath));
    const hostFiles: ContainerSpec["mounts"] = spec.hostNetwork
      ? ["/etc/resolv.conf", "/etc/hosts"].filter((f) => !own.has(f) && existsSync(f)).map((f) => ({ hostPath: f, containerPath: f, readOnly: true }))
      : [];
    // (the agent's own namespace: the host's, as --net-host means; pid 1's may be out of reach)
    if (spec.hostNetwork) args.push("--with-ns", `network:/proc/${process.pid}/ns/net`);
    else if (netns) args.push("--with-ns", `network:${netns}`);
    else if (spec.networkFrom) {
      // the pod's containers join the sandbox's network, IPC and UTS namespaces (what CRI does with a pause container)
      const pid = (await this.taskPids()).get(spec.networkFrom);
      if (!pid) throw new Error(`the pod sandbox ${spec.networkFrom} is not running`);
      for (const ns of ["network", "ipc", "uts"]) args.push("--with-ns", `${ns}:/proc/${pid}/ns/${ns === "network" ? "net" : ns}`);
    }
    args.push("--label", `io.kubeflare.runtime=containerd`);
    for (const [k, v] of Object.entries(spec.labels)) args.push("--label", `${k}=${v}`);
    for (const e of spec.env) args.push("--env", e);
    for (const m of [...hostFiles, ...spec.mounts])
      args.push("--mount", `type=bind,src=${m.hostPath},dst=${m.containerPath},options=rbind:${m.readOnly ? "ro" : "rw"}`);
    if (spec.workingDir) args.push("--cwd", spec.workingDir);
    if (spec.memoryLimitBytes) args.push("--memory-limit", String(spec.memoryLimitBytes));
    if (spec.cpuLimitMillis) args.push("--cpu-period", "100000", "--cpu-quota", String(spec.cpuLimitMillis * 100));
    if (spec.tty) args.push("--tty");
    args.push(normalizeRef(spec.image), id);
    // containerd runs the image's entrypoint only when no arguments are given
    const argv = [...(spec.command ?? []), ...(spec.args ?? [])];
    // "--" keeps ctr from reading the container's own flags (sh -c ...) as its options
    if (argv.length) args.push("--", ...argv);
    this.forget(id);
    await this.ctr(args).catch(async (e) => {
      if (netns) await unpinNetns(id).catch(() => undefined);
      throw e;
    });
    const ports = (spec.hostPorts ?? []).map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol.toLowerCase() }));
    const named = !spec.hostNetwork && !spec.networkFrom && spec.hostname ? { hostname: spec.hostname } : {};
    this.writeState(id, podNet ? { podNet: { ports, netns }, ...named } : named);
    return id;
  }

  async start(id: string): Promise<void> {
    const st = this.readState(id);
    if (st.podNet?.netns && this.cni && !st.podNet.ip) {
      // as CRI does: the network is set up in the pinned namespace before the sandbox runs in it
      const ip = await this.cni.add(id, st.podNet.netns, st.podNet.ports);
      this.writeState(id, { ...st, podNet: { ...st.podNet, ip } });
    }
    await this.ctr(["tasks", "start", "-d", "--log-uri", `file://${this.logPath(id)}`, id]);
    // ctr has no --hostname: a new UTS namespace starts with the host's name, so set the pod's in it
    // (the task just started; the pod's containers join this namespace later)
    const hostname = this.readState(id).hostname;
    const pid = hostname ? (await this.taskPids()).get(id) : undefined;
    if (hostname && pid) await run("nsenter", ["--target", String(pid), "--uts", "hostname", hostname]);
    this.writeState(id, { ...this.readState(id), startedAt: ts(), exitCode: undefined, finishedAt: undefined });
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    const status = (await this.tasks()).get(id);
    // kubelet's StopPodSandbox: the network goes first; a failure fails the stop, to be tried again
    await this.netDown(id);
    if (status !== "RUNNING") return;
    await this.ctr(["tasks", "kill", "-s", "SIGTERM", id]).catch(() => undefined);
    const deadline = Date.now() + graceSeconds * 1000;
    while (Date.now() < deadline) {
      if ((await this.tasks()).get(id) !== "RUNNING") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if ((await this.tasks()).get(id) === "RUNNING") {
      await this.ctr(["tasks", "kill", "-s", "SIGKILL", id]).catch(() => undefined);
      for (let i = 0; i < 50 && (await this.tasks()).get(id) === "RUNNING"; i++) await new Promise((r) => setTimeout(r, 100));
    }
    await this.reap(id, (await this.tasks()).get(id));
  }

  async remove(id: string): Promise<void> {
    // let a reap under way finish first, so it does not write the state file again afterwards
    await this.reaping.get(id)?.catch(() => undefined);
    // the pod network's address goes back before the container (a failure leaves the container to retry with)
    await this.netDown(id);
    await this.ctr(["tasks", "delete", "--force", id]).catch(() => undefined);
    await this.ctr(["containers", "delete", id]).catch(() => undefined);
    if (this.readState(id).podNet?.netns) await unpinNetns(id);
    this.forget(id);
    rmSync(this.statePath(id), { force: true });
    rmSync(this.logPath(id), { force: true });
  }

  async exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    try {
      const { stdout, stderr } = await this.ctr(
        ["tasks", "exec", "--exec-id", `probe-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`, id, ...command],
        timeoutMs,
      );
      return { exitCode: 0, output: stdout + stderr };
    } catch (e) {
      const err = e as { code?: number | string; stdout?: string; stderr?: string };
      return { exitCode: typeof err.code === "number" ? err.code : -1, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
    }
  }

  async execStream(id: string, command: string[], o: StreamOptions): Promise<StreamProcess> {
    const execId = `exec-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const ctr = [
      "ctr",
      "--address",
      this.address,
      "--namespace",
      this.namespace,
      "tasks",
      "exec",
      "--exec-id",
      execId,
      ...(o.tty ? ["--tty"] : []),
      id,
      ...command,
    ];
    const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
    // with a TTY: script's pseudo-terminal is ctr's terminal (-e: its exit code; -f: no buffering; -q: no banner),
    // raw, so that only the container's terminal translates and echoes
    const child = o.tty
      ? spawn("script", ["-qfec", `stty raw -echo; exec ${ctr.map(quote).join(" ")}`, "/dev/null"], { stdio: ["pipe", "pipe", "ignore"] })
      : spawn(ctr[0], ctr.slice(1), { stdio: [o.stdin ? "pipe" : "ignore", "pipe", "pipe"] });
    const done = new Promise<number | null>((resolve) => {
      child.on("close", (code) => resolve(code));
      child.on("error", () => resolve(null));
    });
    // ctr inside script: its terminal is script's pseudo-terminal; setting that one's size sends ctr SIGWINCH
    let terminal: string | undefined;
    const findTerminal = () => {
      try {
        const pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(/\s+/)[0]);
        if (pid > 0) terminal = readlinkSync(`/proc/${pid}/fd/0`);
      } catch {
        // not started yet
      }
      return terminal?.startsWith("/dev/pts/") ? terminal : undefined;
    };
    const resize = async (w: number, h: number) => {
      for (let i = 0; i < 20 && !findTerminal(); i++) await new Promise((r) => setTimeout(r, 50));
      if (terminal) await run("stty", ["-F", terminal, "rows", String(h), "cols", String(w)]).catch(() => undefined);
    };
    return {
      // (with a TTY and no stdin, script's input stays open and unused: its end would end the session)
      stdin: o.stdin ? child.stdin! : undefined,
      stdout: child.stdout!,
      stderr: o.tty ? undefined : (child.stderr ?? undefined),
      resize: inOrder(resize),
      done,
      close: () => {
        child.stdin?.destroy();
        child.stdout?.destroy();
        child.stderr?.destroy();
      },
    };
  }

  async pid(id: string): Promise<number | undefined> {
    return (await this.taskPids()).get(id);
  }

  /** the task's cgroup files (v1 or v2, found through its init process) */
  async stats(id: string): Promise<Sample | undefined> {
    const pid = await this.pid(id);
    return pid ? cgroupSample(pid) : undefined;
  }

  async attachStream(id: string, o: StreamOptions): Promise<StreamProcess> {
    if (o.stdin || o.tty)
      throw new Error("attaching to stdin or a TTY is not supported on containerd (tasks run detached); attach without -i/-t to follow the output");
    const path = this.logPath(id);
    const stdout = new PassThrough();
    let offset = existsSync(path) ? statSync(path).size : 0;
    let closed = false;
    let resolveDone!: (v: null) => void;
    const done = new Promise<number | null>((r) => (resolveDone = r));
    const finish = () => {
      if (closed) return;
      closed = true;
      clearInterval(poll);
      stdout.end();
      resolveDone(null);
    };
    let checks = 0;
    const poll = setInterval(() => {
      // new bytes of the output file, by offset (the file only grows while the task runs)
      void (async () => {
        try {
          const size = existsSync(path) ? statSync(path).size : 0;
          if (size > offset) {
            const fh = await open(path, "r");
            try {
              const buf = Buffer.alloc(Math.min(size - offset, 1 << 20));
              const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
              offset += bytesRead;
              if (!closed && bytesRead) stdout.write(buf.subarray(0, bytesRead));
            } finally {
              await fh.close();
            }
          }
          // about once a second: has the task ended?
          if (++checks % 5 === 0 && (await this.tasks()).get(id) !== "RUNNING") finish();
        } catch {
          finish();
        }
      })();
    }, 200);
    return { stdout, resize: () => undefined, done, close: finish };
  }

  /**
   * New output since the last call: containerd keeps no timestamps, so lines are
   * stamped when first read (good enough for `kubectl logs --timestamps`, ordered).
   */
  async logs(id: string, _sinceMs?: number): Promise<LogLine[]> {
    const path = this.logPath(id);
    if (!existsSync(path)) return [];
    const st = this.readState(id);
    const size = statSync(path).size;
    const from = st.logOffset ?? 0;
    if (size <= from) return [];
    const buf = readFileSync(path).subarray(from);
    const end = buf.lastIndexOf(10) + 1; // whole lines only
    if (end === 0) return [];
    this.writeState(id, { ...st, logOffset: from + end });
    const base = Date.now();
    return buf
      .subarray(0, end)
      .toString("utf8")
      .split("\n")
      .filter((l, i, all) => i < all.length - 1 || l !== "")
      .map((text, i) => ({ stream: "stdout" as const, time: ts(new Date(base)).replace(/000Z$/, `${String(i).padStart(3, "0")}Z`), text }));
  }
}
