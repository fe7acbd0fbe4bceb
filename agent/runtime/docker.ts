/** The Docker Engine implementation of ContainerRuntime, through dockerode. */
import { inOrder } from "./inorder";
import Docker from "dockerode";
import { statSync } from "node:fs";
import { type Duplex, PassThrough } from "node:stream";
import type { PodNetwork } from "../network/cidr";
import { ensureDockerNetwork, hairpinBridgePorts } from "../network/docker";
import type { ContainerInfo, ContainerRuntime, ContainerSpec, EngineEventHandlers, LogLine, StreamOptions, StreamProcess } from "./runtime";
import { ImagePullError } from "./runtime";
import { dockerSample, type Sample } from "../stats/cgroup";

const stateOf = (s: string | undefined): ContainerInfo["state"] =>
  s === "running" ? "running" : s === "exited" || s === "dead" ? "exited" : s === "created" ? "created" : "unknown";

/** the container events that change what list() says (exec events, which probes make, and the rest are not asked for) */
const CONTAINER_ACTIONS = ["create", "start", "die", "oom", "destroy", "pause", "unpause"];

/** Docker's label filter: KEY=VALUE, or KEY alone (an empty value) for the label's presence */
const labelFilter = (labels: Record<string, string>) => Object.entries(labels).map(([k, v]) => (v === "" ? k : `${k}=${v}`));

const zeroTime = (t: string | undefined) => (!t || t.startsWith("0001-01-01") ? undefined : t.replace(/\.\d+Z$/, "Z"));

export class DockerRuntime implements ContainerRuntime {
  readonly name = "docker" as const;
  private readonly docker: Docker;
  /** the pod network's Docker network name, once the agent knows its podCIDR */
  private podNetwork: string | undefined;
  /** its Linux bridge, whose ports get hairpin mode */
  private podBridge: string | undefined;

  /** DOCKER_HOST or /var/run/docker.sock, unless told otherwise */
  constructor(opts: Docker.DockerOptions = {}) {
    // (no keep-alive http.Agent: docker-modem formats its request options with util.inspect,
    // unbounded, on every request, debug on or off, and an Agent with its sockets is a large
    // object to format: measured, that cost more CPU than the connections it saves)
    this.docker = new Docker(opts);
  }

  /** per container: its json-file log (LogPath), "" for a log driver without one */
  private readonly logPaths = new Map<string, string>();

  /**
   * The size and time of the container's json-file log, read from the file system (no
   * engine request once its path is known): one stat, made synchronously (a local file's
   * stat takes microseconds; the promise's round trip through libuv's thread pool cost
   * more than the stat, every 2 s for every container).
   */
  async logMark(id: string): Promise<string | undefined> {
    let path = this.logPaths.get(id);
    if (path === undefined) {
      if (this.logPaths.size > 1000) this.logPaths.clear();
      path =
        (
          await this.docker
            .getContainer(id)
            .inspect()
            .catch(() => undefined)
        )?.LogPath ?? "";
      this.logPaths.set(id, path);
    }
    if (!path) return undefined;
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) this.logPaths.delete(id);
    return st ? `${st.size}/${st.mtimeMs}` : undefined;
  }

  async setPodNetwork(net: PodNetwork): Promise<void> {
    await ensureDockerNetwork(this.docker, net);
    this.podNetwork = net.name;
    this.podBridge = net.bridge;
  }

  async version(): Promise<string> {
    const v = await this.docker.version();
    return `docker://${v.Version}`;
  }

  async hasImage(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch {
      return false;
    }
  }

  async pullImage(image: string): Promise<void> {
    try {
      const stream = await this.docker.pull(image);
      await new Promise<void>((resolve, reject) => this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
    } catch (e) {
      throw new ImagePullError(`failed to pull image "${image}": ${(e as Error).message}`);
    }
  }

  async list(labels: Record<string, string>): Promise<ContainerInfo[]> {
    const filters = { label: labelFilter(labels) };
    const items = await this.docker.listContainers({ all: true, filters });
    return items.map((c) => ({
      id: c.Id,
      name: (c.Names?.[0] ?? "").replace(/^\//, ""),
      image: c.Image,
      imageId: c.ImageID,
      labels: c.Labels ?? {},
      state: stateOf(c.State),
    }));
  }

  /**
   * Docker's /events for containers with these labels, the state changes only (filtered
   * by the engine: type=container, event=create|start|die|...): one JSON object a line.
   * Docker answers the request's headers once it has subscribed, so open() is then.
   */
  async events(labels: Record<string, string>, on: EngineEventHandlers, signal: AbortSignal): Promise<void> {
    const filters = { type: ["container" as const], event: CONTAINER_ACTIONS, label: labelFilter(labels) };
    const stream = await this.docker.getEvents({ filters, abortSignal: signal });
    on.open();
    await new Promise<void>((resolve, reject) => {
      let buf = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        buf += chunk;
        for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          let e: { Type?: string; Action?: string; status?: string; id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
          try {
            e = JSON.parse(line);
          } catch {
            continue;
          }
          // (exec_create: ..., exec_die and health_status are not asked for; an engine that sent them anyway is not heard)
          const action = e.Action ?? e.status ?? "";
          const id = e.Actor?.ID ?? e.id;
          if (e.Type !== "container" || !id || !CONTAINER_ACTIONS.includes(action)) continue;
          on.event({ action, id, labels: e.Actor?.Attributes ?? {} });
        }
      });
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", (err: Error) => (signal.aborted ? resolve() : reject(err)));
    });
  }

  /** Docker's one-shot stats (no second reading inside the engine): cumulative CPU and the working set */
  async stats(id: string): Promise<Sample | undefined> {
    try {
      const s = await this.docker.getContainer(id).stats({ stream: false, "one-shot": true });
      return dockerSample(s, Date.now());
    } catch {
      return undefined;
    }
  }

  async inspect(id: string): Promise<ContainerInfo | null> {
    try {
      const c = await this.docker.getContainer(id).inspect();
      const byName = c.NetworkSettings?.Networks ?? {};
      // the pod network's address first (a sandbox is on that one network only, but say so)
      const nets = [...(this.podNetwork && byName[this.podNetwork] ? [byName[this.podNetwork]] : []), ...Object.values(byName)];
      return {
        id: c.Id,
        name: c.Name.replace(/^\//, ""),
        image: c.Config.Image,
        imageId: c.Image,
        labels: c.Config.Labels ?? {},
        state: stateOf(c.State.Status),
        exitCode: c.State.ExitCode,
        startedAt: zeroTime(c.State.StartedAt),
        finishedAt: zeroTime(c.State.FinishedAt),
        oomKilled: c.State.OOMKilled,
        ip: nets.find((n) => n.IPAddress)?.IPAddress || undefined,
      };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return null;
      throw e;
    }
  }

  async create(spec: ContainerSpec): Promise<string> {
    const networkMode = spec.hostNetwork ? "host" : spec.networkFrom ? `container:${spec.networkFrom}` : (this.podNetwork ?? "bridge");
    const c = await this.docker.createContainer({
      name: spec.name,
      // containers in another's network (the pod's sandbox) get that one's host name from Docker
      ...(spec.hostname && !spec.hostNetwork && !spec.networkFrom ? { Hostname: spec.hostname } : {}),
      Image: spec.image,
      ...(spec.command?.length ? { Entrypoint: spec.command } : {}),
      ...(spec.args?.length ? { Cmd: spec.args } : {}),
      WorkingDir: spec.workingDir,
      Env: spec.env,
      Labels: spec.labels,
      Tty: !!spec.tty,
      OpenStdin: !!spec.stdin,
      ExposedPorts: Object.fromEntries((spec.hostPorts ?? []).map((p) => [`${p.containerPort}/${p.protocol.toLowerCase()}`, {}])),
      HostConfig: {
        NetworkMode: networkMode,
        Binds: spec.mounts.map((m) => `${m.hostPath}:${m.containerPath}${m.readOnly ? ":ro" : ""}`),
        ...(spec.memoryLimitBytes ? { Memory: spec.memoryLimitBytes, MemorySwap: spec.memoryLimitBytes } : {}),
        ...(spec.cpuLimitMillis ? { NanoCpus: spec.cpuLimitMillis * 1_000_000 } : {}),
        PortBindings: Object.fromEntries(
          (spec.hostPorts ?? []).map((p) => [`${p.containerPort}/${p.protocol.toLowerCase()}`, [{ HostPort: String(p.hostPort) }]]),
        ),
        // the agent restarts containers itself, with Kubernetes' backoff
        RestartPolicy: { Name: "no" },
      },
    });
    return c.id;
  }

  async start(id: string): Promise<void> {
    await this.docker.getContainer(id).start();
    // a sandbox on the pod network has a new veth on the bridge now (other containers' ports are unchanged)
    if (this.podBridge) hairpinBridgePorts(this.podBridge);
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.round(graceSeconds)) });
    } catch (e) {
      const code = (e as { statusCode?: number }).statusCode;
      if (code !== 304 && code !== 404) throw e; // already stopped / gone
    }
  }

  async remove(id: string): Promise<void> {
    this.logPaths.delete(id);
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }

  async exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const exec = await this.docker.getContainer(id).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    let output = "";
    out.on("data", (d) => (output += d));
    this.docker.modem.demuxStream(stream, out, out);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        stream.destroy();
        resolve();
      }, timeoutMs);
      stream.on("end", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const info = await exec.inspect();
    return { exitCode: info.Running ? -1 : (info.ExitCode ?? -1), output };
  }

  /**
   * The hijacked connection of an exec or attach as a StreamProcess: without a TTY Docker
   * multiplexes stdout and stderr on it (demuxed here); the client's stdin is written to
   * it, and its end half-closes the connection, which closes the process's stdin.
   */
  private streamProcess(
    sock: Duplex,
    o: StreamOptions & { tty: boolean },
    resize: (w: number, h: number) => Promise<unknown>,
    exitCode: () => Promise<number | null>,
  ): StreamProcess {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    if (o.tty) sock.pipe(stdout);
    else {
      this.docker.modem.demuxStream(sock, stdout, stderr);
      sock.on("end", () => {
        stdout.end();
        stderr.end();
      });
    }
    const ended = new Promise<void>((resolve) => {
      sock.on("end", resolve);
      sock.on("close", resolve);
      sock.on("error", resolve);
    });
    let stdin: PassThrough | undefined;
    if (o.stdin) {
      stdin = new PassThrough();
      stdin.pipe(sock, { end: false });
      stdin.on("end", () => {
        if (!sock.destroyed) sock.end();
      });
    }
    return {
      stdin,
      stdout,
      stderr: o.tty ? undefined : stderr,
      resize: inOrder(resize),
      done: ended.then(exitCode),
      close: () => sock.destroy(),
    };
  }

  async execStream(id: string, command: string[], o: StreamOptions): Promise<StreamProcess> {
    const exec = await this.docker.getContainer(id).exec({ Cmd: command, AttachStdin: o.stdin, AttachStdout: true, AttachStderr: !o.tty, Tty: o.tty });
    const sock = (await exec.start({ hijack: true, stdin: o.stdin, Tty: o.tty })) as Duplex;
    return this.streamProcess(
      sock,
      o,
      (w, h) => exec.resize({ w, h }),
      async () => {
        // the output ends a moment before Docker records the exit
        for (let i = 0; i < 50; i++) {
          const info = await exec.inspect();
          if (!info.Running) return info.ExitCode ?? null;
          await new Promise((r) => setTimeout(r, 100));
        }
        return null;
      },
    );
  }

  async attachStream(id: string, o: StreamOptions): Promise<StreamProcess> {
    const c = this.docker.getContainer(id);
    const tty = !!(await c.inspect()).Config.Tty;
    const sock = (await c.attach({ stream: true, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr, hijack: true })) as unknown as Duplex;
    return this.streamProcess(
      sock,
      { ...o, tty },
      (w, h) => c.resize({ w, h }),
      async () => null,
    );
  }

  async pid(id: string): Promise<number | undefined> {
    try {
      const c = await this.docker.getContainer(id).inspect();
      return c.State.Running && c.State.Pid > 0 ? c.State.Pid : undefined;
    } catch {
      return undefined;
    }
  }

  async logs(id: string, sinceMs?: number): Promise<LogLine[]> {
    const buf = (await this.docker.getContainer(id).logs({
      stdout: true,
      stderr: true,
      timestamps: true,
      follow: false,
      ...(sinceMs ? { since: Math.floor(sinceMs / 1000) } : {}),
    })) as unknown as Buffer;
    const lines: LogLine[] = [];
    // the multiplexed format: 8-byte header (stream, 0, 0, 0, size BE32) per frame
    let off = 0;
    while (off + 8 <= buf.length) {
      const stream = buf[off] === 2 ? "stderr" : "stdout";
      const size = buf.readUInt32BE(off + 4);
      const frame = buf.subarray(off + 8, off + 8 + size).toString("utf8");
      off += 8 + size;
      for (const raw of frame.split("\n")) {
        if (!raw) continue;
        const sp = raw.indexOf(" ");
        const time = raw.slice(0, sp);
        if (sinceMs && Date.parse(time) < sinceMs) continue;
        lines.push({ stream, time, text: raw.slice(sp + 1) });
      }
    }
    return lines;
  }
}
