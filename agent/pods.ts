/**
 * Running one pod on the local engine, level-triggered: compare the pod's spec with
 * the containers that carry its uid, make one step of progress (create, start,
 * restart after backoff, stop, remove), and compute the status to report.
 */
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { milliValue, value } from "../shared/quantity";
import type { KObject } from "../shared/types";
import type { ApiClient } from "./api";
import { Backoff } from "./backoff";
import { containerPath, type EventSink, goDuration } from "./events";
import { ImagePullError, LABELS, type ContainerInfo, type ContainerRuntime, type Mount } from "./runtime/runtime";
import { Sandboxes } from "./sandbox";

export interface PodContext {
  runtime: ContainerRuntime;
  api: ApiClient;
  nodeName: string;
  hostIP: string;
  dataDir: string;
  pauseImage: string;
  now(): number;
  log(msg: string): void;
  /** core/v1 Events about the pods (kubelet's Pulling, Created, BackOff, ...) */
  events: EventSink;
  /** how often ConfigMap/Secret volumes are refreshed from the API (default a minute) */
  volumeRefreshMs?: number;
}

/**
 * How often an event about a step the agent retries (a config error, a pull in
 * backoff, a crash loop) is recorded again: the agent looks at every pod each second,
 * kubelet retries a failing pod about every 10 s, and event counts should read alike.
 */
const RETRY_EVENT_MS = 10_000;

/** how often ConfigMap and Secret volumes are read again from the API (kubelet's --sync-frequency: a minute) */
const VOLUME_REFRESH_MS = 60_000;

/** Why a container is not running yet, when the agent knows (image pull, config). */
type Waiting = { reason: string; message?: string };

export interface ProbeState {
  ready: boolean;
  started: boolean;
}

export class PodWorker {
  readonly backoff = new Backoff();
  /** per container key: a reason it can't start (ErrImagePull, CreateContainerConfigError) */
  readonly waiting = new Map<string, Waiting>();
  /** per container id: probe results, maintained by the prober */
  readonly probes = new Map<string, ProbeState>();
  /** per pod/container/reason/message: when a repeatable event was last recorded, and for what (see emit) */
  private readonly emitted = new Map<string, { tag: string; at: number }>();
  /** the pods' sandboxes (pause containers), with their own creation back-off */
  private readonly sandboxes: Sandboxes;

  constructor(private readonly ctx: PodContext) {
    this.sandboxes = new Sandboxes(ctx, this.backoff);
  }

  private key = (pod: KObject, container: string) => `${pod.metadata.uid}/${container}`;

  /** image pull backoff: its own key space in the same Backoff, so a crash loop and a failing pull don't mix */
  private pullKey = (pod: KObject, container: string) => `pull/${pod.metadata.uid}/${container}`;

  /**
   * Record an event about a container, unless the same one (same reason and message)
   * was recorded for the same `tag` less than `everyMs` ago. Steps retried on every
   * sync tick pass the default (at most every 10 s); once-per-instance events pass the
   * attempt as tag and Infinity.
   */
  private emit(pod: KObject, fieldPath: string, type: "Normal" | "Warning", reason: string, message: string, tag = "", everyMs = RETRY_EVENT_MS): void {
    const key = `${pod.metadata.uid}/${fieldPath}/${reason}/${message}`;
    const now = this.ctx.now();
    const last = this.emitted.get(key);
    if (last && last.tag === tag && now - last.at < everyMs) return;
    this.emitted.set(key, { tag, at: now });
    this.ctx.events.record(pod, type, reason, message, fieldPath);
  }

  private name = (pod: KObject, container: string, attempt: number) =>
    `k8s_${container}_${pod.metadata.name}_${pod.metadata.namespace}_${pod.metadata.uid!.slice(0, 8)}_${attempt}`;

  // ------------------------------------------------------------ what the engine runs

  /**
   * One engine listing per sync pass (beginPass), by pod uid, so a pass over N pods
   * costs one list call rather than several per pod. A pod whose containers this
   * worker changed during the pass (dirty) is listed again.
   */
  private pass: Map<string, ContainerInfo[]> | undefined;
  private readonly dirty = new Set<string>();
  /** inspect results by container id, reused while the engine reports the same state */
  private readonly details = new Map<string, ContainerInfo>();
  /** containers being stopped in the background (replaced after a spec change) */
  private readonly stopping = new Set<string>();
  /** per pod uid: when its ConfigMap/Secret volumes were last read, and the error if one was missing */
  private readonly volumesAt = new Map<string, { at: number; error?: Error }>();

  beginPass(all: ContainerInfo[]): void {
    this.pass = new Map();
    this.dirty.clear();
    for (const c of all) {
      const uid = c.labels[LABELS.podUid];
      if (uid) this.pass.set(uid, [...(this.pass.get(uid) ?? []), c]);
    }
    const ids = new Set(all.map((c) => c.id));
    for (const id of this.details.keys()) if (!ids.has(id)) this.details.delete(id);
  }

  endPass(): void {
    this.pass = undefined;
    this.dirty.clear();
  }

  private touched(pod: KObject): void {
    this.dirty.add(pod.metadata.uid!);
  }

  /**
   * A listed container with the details status needs (start and finish times, exit
   * code): the listing's own when it has them (containerd), else an inspect, cached
   * while the state holds (the agent never restarts a container in place).
   */
  async detail(c: ContainerInfo): Promise<ContainerInfo | null> {
    if ((c.state === "running" && c.startedAt) || (c.state === "exited" && c.exitCode !== undefined)) return c;
    const cached = this.details.get(c.id);
    if (cached && cached.state === c.state && (c.state === "running" || c.state === "exited")) return cached;
    const info = await this.ctx.runtime.inspect(c.id);
    // Docker learns of an OOM kill from a separate event that can land just after the exit:
    // a fresh SIGKILL exit is looked at again for a few seconds before it is believed
    const unsettled = info?.state === "exited" && info.exitCode === 137 && !info.oomKilled && this.ctx.now() - (Date.parse(info.finishedAt ?? "") || 0) < 10_000;
    if (info && !unsettled) this.details.set(c.id, info);
    else this.details.delete(c.id);
    return info;
  }

  /** The latest instance of each container of the pod (by attempt). */
  async containers(pod: KObject): Promise<Map<string, ContainerInfo[]>> {
    const uid = pod.metadata.uid!;
    const all = this.pass && !this.dirty.has(uid) ? (this.pass.get(uid) ?? []) : await this.ctx.runtime.list({ [LABELS.node]: this.ctx.nodeName, [LABELS.podUid]: uid });
    const by = new Map<string, ContainerInfo[]>();
    for (const c of all) {
      const n = c.labels[LABELS.container];
      by.set(n, [...(by.get(n) ?? []), c].sort((a, b) => Number(b.labels[LABELS.attempt]) - Number(a.labels[LABELS.attempt])));
    }
    return by;
  }

  /**
   * Stop and remove everything of a pod (deletion, or a pod no longer bound here).
   * With the pod at hand (deletion), each stop is recorded as kubelet's Killing event.
   */
  async teardown(uid: string, graceSeconds: number, pod?: KObject): Promise<void> {
    const all = await this.ctx.runtime.list({ [LABELS.node]: this.ctx.nodeName, [LABELS.podUid]: uid });
    const apps = all.filter((c) => c.labels[LABELS.role] !== "sandbox");
    if (pod) {
      for (const c of apps.filter((x) => x.state === "running")) {
        const name = c.labels[LABELS.container];
        this.ctx.events.record(pod, "Normal", "Killing", `Stopping container ${name}`, containerPath(c.labels[LABELS.role] === "init" ? "init" : "app", name));
      }
    }
    await Promise.all(apps.filter((c) => c.state === "running").map((c) => this.ctx.runtime.stop(c.id, graceSeconds)));
    for (const c of all) {
      if (c.labels[LABELS.role] === "sandbox") await this.ctx.runtime.stop(c.id, 0);
      await this.ctx.runtime.remove(c.id);
      this.probes.delete(c.id);
    }
    rmSync(join(this.ctx.dataDir, "pods", uid), { recursive: true, force: true });
    this.volumesAt.delete(uid);
    this.backoff.forget(`${uid}/`);
    this.backoff.forget(`pull/${uid}/`);
    this.sandboxes.forget(uid);
    for (const k of this.waiting.keys()) if (k.startsWith(`${uid}/`)) this.waiting.delete(k);
    for (const k of this.emitted.keys()) if (k.startsWith(`${uid}/`)) this.emitted.delete(k);
  }

  // ------------------------------------------------------------ building containers

  private async env(pod: KObject, c: any, podIP: string): Promise<string[]> {
    const ns = pod.metadata.namespace!;
    const out: string[] = [];
    const cache = new Map<string, KObject | null>();
    const fetchObj = async (kind: "configmaps" | "secrets", name: string) => {
      const k = `${kind}/${name}`;
      if (!cache.has(k)) cache.set(k, await this.ctx.api.find(`/api/v1/namespaces/${ns}/${kind}/${name}`));
      return cache.get(k)!;
    };
    const decode = (kind: string, v: string) => (kind === "secrets" ? Buffer.from(v, "base64").toString("utf8") : v);
    for (const src of c.envFrom ?? []) {
      const kind = src.configMapRef ? "configmaps" : "secrets";
      const ref = src.configMapRef ?? src.secretRef;
      const obj = await fetchObj(kind, ref.name);
      if (!obj) {
        if (ref.optional) continue;
        throw new ConfigError(`${kind === "configmaps" ? "configmap" : "secret"} "${ref.name}" not found`);
      }
      for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) out.push(`${src.prefix ?? ""}${k}=${decode(kind, v)}`);
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined || !e.valueFrom) {
        out.push(`${e.name}=${e.value ?? ""}`);
        continue;
      }
      const f = e.valueFrom;
      if (f.fieldRef) {
        out.push(`${e.name}=${fieldRef(pod, f.fieldRef.fieldPath, podIP, this.ctx.hostIP)}`);
      } else if (f.configMapKeyRef || f.secretKeyRef) {
        const kind = f.configMapKeyRef ? "configmaps" : "secrets";
        const ref = f.configMapKeyRef ?? f.secretKeyRef;
        const obj = await fetchObj(kind, ref.name);
        const v = obj?.data?.[ref.key];
        if (v === undefined) {
          if (ref.optional) continue;
          throw new ConfigError(obj ? `couldn't find key ${ref.key} in ${kind === "configmaps" ? "ConfigMap" : "Secret"} ${ns}/${ref.name}` : `${kind === "configmaps" ? "configmap" : "secret"} "${ref.name}" not found`);
        }
        out.push(`${e.name}=${decode(kind, v)}`);
      } else if (f.resourceFieldRef) {
        const [kind, res] = String(f.resourceFieldRef.resource).split(".");
        const q = c.resources?.[kind]?.[res];
        out.push(`${e.name}=${q === undefined ? "" : res === "cpu" ? Math.ceil(milliValue(q) / 1000) : value(q)}`);
      }
    }
    return out;
  }

  /**
   * Prepare the pod's volumes on disk; returns the host directory of each. ConfigMap
   * and Secret contents are read from the API when the pod first syncs and then about
   * once a minute (kubelet's cadence), not on every sync, and written file by file
   * with a rename so a container never reads half a file. Throws ConfigError (and
   * records FailedMount) while a required ConfigMap or Secret is missing.
   */
  private async volumes(pod: KObject): Promise<Map<string, string>> {
    const uid = pod.metadata.uid!;
    const base = join(this.ctx.dataDir, "pods", uid, "volumes");
    const ns = pod.metadata.namespace!;
    const now = this.ctx.now();
    const last = this.volumesAt.get(uid);
    const refresh = !last || now - last.at >= (last.error ? RETRY_EVENT_MS : (this.ctx.volumeRefreshMs ?? VOLUME_REFRESH_MS));
    if (!refresh && last?.error) throw last.error;
    const out = new Map<string, string>();
    for (const v of pod.spec?.volumes ?? []) {
      if (v.hostPath) {
        if (v.hostPath.type === "DirectoryOrCreate") mkdirSync(v.hostPath.path, { recursive: true });
        out.set(v.name, v.hostPath.path);
        continue;
      }
      const dir = join(base, v.name);
      out.set(v.name, dir);
      mkdirSync(dir, { recursive: true });
      const src = v.configMap ?? v.secret;
      if (!src || !refresh) continue;
      const kind = v.configMap ? "configmaps" : "secrets";
      const name = v.configMap?.name ?? v.secret?.secretName;
      const obj = await this.ctx.api.find(`/api/v1/namespaces/${ns}/${kind}/${name}`);
      if (!obj) {
        if (src.optional) continue;
        const error = new ConfigError(`${kind === "configmaps" ? "configmap" : "secret"} "${name}" not found`);
        this.volumesAt.set(uid, { at: now, error });
        this.emit(pod, "", "Warning", "FailedMount", `MountVolume.SetUp failed for volume "${v.name}" : ${error.message}`);
        throw error;
      }
      const data: Record<string, string> = obj.data ?? {};
      const items: { key: string; path: string; mode?: number }[] = src.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      const mode = src.defaultMode ?? 0o644;
      for (const it of items) {
        const file = join(dir, it.path);
        mkdirSync(dirname(file), { recursive: true });
        const val = data[it.key] ?? "";
        const tmp = join(dirname(file), `..${basename(file)}.tmp`);
        writeFileSync(tmp, kind === "secrets" ? Buffer.from(val, "base64") : val, { mode: it.mode ?? mode });
        chmodSync(tmp, it.mode ?? mode);
        renameSync(tmp, file);
      }
      // keys that left the object leave the volume
      const keep = new Set(items.map((it) => it.path.split("/")[0]));
      for (const entry of readdirSync(dir)) if (!keep.has(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
    }
    if (refresh) this.volumesAt.set(uid, { at: now });
    return out;
  }

  /**
   * Make the container's image present, as kubelet's image manager does: per pull
   * policy; after a failed pull, no new attempt (no registry traffic) until a backoff
   * of 10 s doubling to 5 min expires. Throws PullError with the status reason:
   * ErrImagePull for an attempt that failed, ImagePullBackOff while waiting,
   * ErrImageNeverPull for a missing image under policy Never.
   */
  private async ensureImage(pod: KObject, c: any, fieldPath: string, attempt: number): Promise<void> {
    const policy = c.imagePullPolicy ?? "IfNotPresent";
    const pullKey = this.pullKey(pod, c.name);
    const have = await this.ctx.runtime.hasImage(c.image);
    if (policy === "Never" && !have) {
      const msg = `Container image "${c.image}" is not present with pull policy of Never`;
      this.emit(pod, fieldPath, "Warning", "ErrImageNeverPull", msg);
      throw new PullError("ErrImageNeverPull", msg);
    }
    if (have && policy !== "Always") {
      this.backoff.reset(pullKey);
      this.emit(pod, fieldPath, "Normal", "Pulled", `Container image "${c.image}" already present on machine`, String(attempt), Infinity);
      return;
    }
    if (this.backoff.inBackoffSinceUpdate(pullKey, this.ctx.now())) {
      const msg = `Back-off pulling image "${c.image}"`;
      // kubelet records this one as Normal; the Failed "Error: ImagePullBackOff" beside it is the Warning
      this.emit(pod, fieldPath, "Normal", "BackOff", msg);
      throw new PullError("ImagePullBackOff", msg);
    }
    this.ctx.events.record(pod, "Normal", "Pulling", `Pulling image "${c.image}"`, fieldPath);
    const started = this.ctx.now();
    try {
      await this.ctx.runtime.pullImage(c.image);
    } catch (e) {
      const err = (e as Error).message.trim();
      this.ctx.events.record(pod, "Warning", "Failed", `Failed to pull image "${c.image}": ${stripPullPrefix(err, c.image)}`, fieldPath);
      if (have) return; // Always, but the registry is away: run what we have
      this.backoff.next(pullKey, this.ctx.now());
      throw new PullError("ErrImagePull", err);
    }
    this.backoff.reset(pullKey);
    this.ctx.events.record(pod, "Normal", "Pulled", `Successfully pulled image "${c.image}" in ${goDuration(this.ctx.now() - started)}`, fieldPath);
  }

  /**
   * The pod's network: the host's, or its sandbox's (made if missing; see sandbox.ts).
   * Null while the sandbox can't be made: nothing of the pod starts then.
   */
  private async sandbox(pod: KObject, existing: Map<string, ContainerInfo[]>): Promise<{ id?: string; ip: string } | null> {
    if (pod.spec?.hostNetwork) return { ip: this.ctx.hostIP };
    return this.sandboxes.ensure(pod, existing.get("POD")?.[0], {
      name: this.name(pod, "POD", 0),
      labels: this.labels(pod, "POD", "sandbox", 0, ""),
      detail: (c) => this.detail(c),
      changing: () => this.touched(pod),
      leaving: async () => {
        for (const [name, inst] of existing) {
          if (name !== "POD" && inst[0]?.state === "running") await this.ctx.runtime.stop(inst[0].id, pod.spec?.terminationGracePeriodSeconds ?? 30);
        }
      },
    });
  }

  private labels(pod: KObject, container: string, role: string, attempt: number, hash: string) {
    return {
      [LABELS.node]: this.ctx.nodeName,
      [LABELS.podUid]: pod.metadata.uid!,
      [LABELS.podName]: pod.metadata.name!,
      [LABELS.podNamespace]: pod.metadata.namespace!,
      [LABELS.container]: container,
      [LABELS.role]: role,
      [LABELS.attempt]: String(attempt),
      [LABELS.specHash]: hash,
    };
  }

  private async startContainer(pod: KObject, c: any, role: "init" | "app", attempt: number, sandbox: { id?: string; ip: string }, vols: Map<string, string>): Promise<void> {
    this.touched(pod);
    const key = this.key(pod, c.name);
    const at = containerPath(role, c.name);
    try {
      await this.ensureImage(pod, c, at, attempt);
      const env = await this.env(pod, c, sandbox.ip);
      const mounts: Mount[] = (c.volumeMounts ?? []).map((m: any) => ({
        hostPath: join(vols.get(m.name) ?? "/nonexistent", m.subPath ?? ""),
        containerPath: m.mountPath,
        readOnly: !!m.readOnly || !!pod.spec.volumes?.find((v: any) => v.name === m.name && (v.configMap || v.secret)),
      }));
      const limits = c.resources?.limits ?? {};
      const id = await this.ctx.runtime.create({
        name: this.name(pod, c.name, attempt),
        image: c.image,
        command: c.command,
        args: c.args,
        workingDir: c.workingDir,
        env,
        labels: this.labels(pod, c.name, role, attempt, specHash(c)),
        hostNetwork: !!pod.spec?.hostNetwork,
        networkFrom: sandbox.id,
        mounts,
        memoryLimitBytes: limits.memory !== undefined ? value(limits.memory) : undefined,
        cpuLimitMillis: limits.cpu !== undefined ? milliValue(limits.cpu) : undefined,
        tty: c.tty,
        stdin: c.stdin,
      });
      this.ctx.events.record(pod, "Normal", "Created", `Created container ${c.name}`, at);
      await this.ctx.runtime.start(id);
      this.ctx.events.record(pod, "Normal", "Started", `Started container ${c.name}`, at);
      this.waiting.delete(key);
    } catch (e) {
      const w =
        e instanceof PullError
          ? { reason: e.reason, message: e.message }
          : e instanceof ConfigError
            ? { reason: "CreateContainerConfigError", message: e.message }
            : e instanceof ImagePullError
              ? { reason: "ErrImagePull", message: e.message }
              : { reason: "CreateContainerError", message: (e as Error).message };
      this.waiting.set(key, w);
      // kubelet's summary event: "Error: ErrImagePull" for pulls, the message itself otherwise
      const msg = `Error: ${e instanceof PullError || e instanceof ImagePullError ? w.reason : w.message}`;
      // a failed pull attempt is already spaced out by the pull backoff; everything else retries each tick
      if (w.reason === "ErrImagePull") this.ctx.events.record(pod, "Warning", "Failed", msg, at);
      else this.emit(pod, at, "Warning", "Failed", msg);
    }
  }

  /** Whether a terminated container should run again under the pod's restartPolicy. */
  private shouldRestart(pod: KObject, role: "init" | "app", exitCode: number | undefined): boolean {
    const policy = pod.spec?.restartPolicy ?? "Always";
    if (role === "init") return exitCode !== 0 && policy !== "Never";
    return policy === "Always" || (policy === "OnFailure" && exitCode !== 0);
  }

  /**
   * One step toward the desired state of a running (not deleted) pod. Returns the
   * status to report.
   */
  async sync(pod: KObject): Promise<Record<string, any>> {
    const now = this.ctx.now();
    const existing = await this.containers(pod);
    // containers of a changed spec (kubectl set image on a bare pod) are replaced
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const latest = existing.get(c.name)?.[0];
      if (latest && latest.labels[LABELS.specHash] !== specHash(c) && latest.state === "running" && !this.stopping.has(latest.id)) {
        const role = latest.labels[LABELS.role] === "init" ? "init" : "app";
        this.ctx.events.record(pod, "Normal", "Killing", `Container ${c.name} definition changed, will be restarted`, containerPath(role, c.name));
        // in the background: its grace period must not hold up the other pods; a later pass starts the new one
        const id = latest.id;
        this.stopping.add(id);
        void this.ctx.runtime
          .stop(id, pod.spec?.terminationGracePeriodSeconds ?? 30)
          .catch((e) => this.ctx.log(`stopping ${id.slice(0, 12)}: ${(e as Error).message}`))
          .finally(() => this.stopping.delete(id));
      }
    }
    const sandbox = await this.sandbox(pod, existing);
    // no sandbox (FailedCreatePodSandBox, or its back-off): the containers wait, ContainerCreating
    if (!sandbox) return this.status(pod, "", !pod.spec?.initContainers?.length, false);
    let vols: Map<string, string>;
    try {
      vols = await this.volumes(pod);
    } catch (e) {
      // nothing starts until its volumes can be set up (ContainerCreating, a FailedMount event)
      if (e instanceof ConfigError) return this.status(pod, sandbox.ip, !pod.spec?.initContainers?.length);
      throw e;
    }

    // init containers, one at a time, in order
    let initDone = true;
    for (const c of pod.spec?.initContainers ?? []) {
      const inst = existing.get(c.name) ?? [];
      const latest = inst[0] ? await this.detail(inst[0]) : null;
      if (latest?.state === "exited" && latest.exitCode === 0) continue;
      initDone = false;
      if (!latest) {
        await this.startContainer(pod, c, "init", 0, sandbox, vols);
      } else if (latest.state === "exited" && this.shouldRestart(pod, "init", latest.exitCode)) {
        await this.restartIfDue(pod, c, "init", latest, inst, sandbox, vols, now);
      }
      break;
    }

    if (initDone) {
      for (const c of pod.spec?.containers ?? []) {
        const inst = existing.get(c.name) ?? [];
        const latest = inst[0] ? await this.detail(inst[0]) : null;
        if (!latest) {
          await this.startContainer(pod, c, "app", 0, sandbox, vols);
        } else if (latest.state === "created") {
          // created but never started (the agent stopped in between)
          this.touched(pod);
          const started = await this.ctx.runtime.start(latest.id).then(
            () => true,
            () => false,
          );
          if (started) this.ctx.events.record(pod, "Normal", "Started", `Started container ${c.name}`, containerPath("app", c.name));
        } else if (latest.state === "exited" && (this.shouldRestart(pod, "app", latest.exitCode) || latest.labels[LABELS.specHash] !== specHash(c))) {
          await this.restartIfDue(pod, c, "app", latest, inst, sandbox, vols, now);
        }
      }
    }
    return this.status(pod, sandbox.ip, initDone);
  }

  private async restartIfDue(pod: KObject, c: any, role: "init" | "app", latest: ContainerInfo, inst: ContainerInfo[], sandbox: { id?: string; ip: string }, vols: Map<string, string>, now: number) {
    const key = this.key(pod, c.name);
    const finished = Date.parse(latest.finishedAt ?? "") || now;
    if (this.backoff.inBackoffSince(key, finished, now)) {
      const p = pod.metadata;
      this.emit(pod, containerPath(role, c.name), "Warning", "BackOff", `Back-off restarting failed container ${c.name} in pod ${p.name}_${p.namespace}(${p.uid})`);
      return;
    }
    this.backoff.next(key, now);
    const attempt = Number(latest.labels[LABELS.attempt] ?? 0) + 1;
    // keep the previous instance (for `kubectl logs --previous`), drop older ones
    this.touched(pod);
    for (const old of inst.slice(1)) await this.ctx.runtime.remove(old.id);
    await this.startContainer(pod, c, role, attempt, sandbox, vols);
  }

  /** The pod status from what the engine reports now. */
  async status(pod: KObject, podIP: string, initDone: boolean, sandboxReady = true): Promise<Record<string, any>> {
    const existing = await this.containers(pod);
    const now = this.ctx.now();
    const statusOf = async (c: any, role: "init" | "app") => {
      const inst = existing.get(c.name) ?? [];
      const latest = inst[0] ? await this.detail(inst[0]) : null;
      const prev = inst[1] ? await this.detail(inst[1]) : null;
      const key = this.key(pod, c.name);
      const restartCount = latest ? Number(latest.labels[LABELS.attempt] ?? 0) : 0;
      const terminated = (i: ContainerInfo) => ({
        exitCode: i.exitCode ?? 0,
        reason: i.oomKilled ? "OOMKilled" : i.exitCode === 0 ? "Completed" : "Error",
        ...(i.startedAt ? { startedAt: i.startedAt } : {}),
        ...(i.finishedAt ? { finishedAt: i.finishedAt } : {}),
        containerID: `${this.ctx.runtime.name}://${i.id}`,
      });
      const base = { name: c.name, image: c.image, imageID: latest?.imageId ?? "", restartCount, ...(latest ? { containerID: `${this.ctx.runtime.name}://${latest.id}` } : {}) };
      if (!latest) {
        const w = this.waiting.get(key) ?? { reason: role === "init" ? "PodInitializing" : initDone ? "ContainerCreating" : "PodInitializing" };
        return { ...base, state: { waiting: w }, lastState: {}, ready: false, started: false };
      }
      const lastState = prev ? { terminated: terminated(prev) } : {};
      if (latest.state === "running") {
        const p = this.probes.get(latest.id);
        // before the first probe result: not ready while a readiness probe is pending, not started while a startup probe is
        // and never ready before started (readiness probes wait for the startup probe)
        const started = p ? p.started : !c.startupProbe;
        const ready = role === "app" && started && (p ? p.ready : !c.readinessProbe);
        return { ...base, state: { running: { startedAt: latest.startedAt } }, lastState, ready, started };
      }
      if (latest.state === "exited") {
        const willRestart = this.shouldRestart(pod, role, latest.exitCode);
        // the next instance can't start (its image can't be pulled, its config is missing): say why, as kubelet does
        const blocked = this.waiting.get(key);
        if (willRestart && blocked) return { ...base, state: { waiting: blocked }, lastState: { terminated: terminated(latest) }, ready: false, started: false };
        if (willRestart && this.backoff.inBackoffSince(key, Date.parse(latest.finishedAt ?? "") || now, now)) {
          return {
            ...base,
            state: { waiting: { reason: "CrashLoopBackOff", message: `back-off ${Math.round(this.backoff.delay(key) / 1000)}s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})` } },
            lastState: { terminated: terminated(latest) },
            ready: false,
            started: false,
          };
        }
        return { ...base, state: { terminated: terminated(latest) }, lastState, ready: false, started: false };
      }
      const w = this.waiting.get(key) ?? { reason: "ContainerCreating" };
      return { ...base, state: { waiting: w }, lastState, ready: false, started: false };
    };
    const initStatuses = [];
    for (const c of pod.spec?.initContainers ?? []) initStatuses.push(await statusOf(c, "init"));
    const statuses = [];
    for (const c of pod.spec?.containers ?? []) statuses.push(await statusOf(c, "app"));
    // kubelet lists app container statuses by name (init containers keep their order)
    statuses.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

    const policy = pod.spec?.restartPolicy ?? "Always";
    const allTerminated = statuses.length > 0 && statuses.every((s) => s.state.terminated);
    const anyFailed = statuses.some((s) => s.state.terminated && s.state.terminated.exitCode !== 0);
    const initFailed = initStatuses.some((s) => s.state.terminated && s.state.terminated.exitCode !== 0) && policy === "Never";
    let phase = "Pending";
    if (initFailed) phase = "Failed";
    // kubelet's getPhase: under OnFailure a failed container is about to run again, so the pod is still Running
    else if (initDone && allTerminated && policy !== "Always") phase = !anyFailed ? "Succeeded" : policy === "Never" ? "Failed" : "Running";
    else if (initDone && statuses.some((s) => s.state.running || s.lastState.terminated)) phase = "Running";
    const ready = initDone && statuses.length > 0 && statuses.every((s) => s.ready);
    const prevConds: any[] = pod.status?.conditions ?? [];
    const ts = new Date(now).toISOString().replace(/\.\d+Z$/, "Z");
    const cond = (type: string, ok: boolean, reason?: string) => {
      const status = ok ? "True" : "False";
      const prev = prevConds.find((c) => c.type === type);
      return { type, status, lastProbeTime: null, lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : ts, ...(ok || !reason ? {} : { reason }) };
    };
    const conditions = [
      // kubelet: True once the pod has a sandbox with its network set up
      cond("PodReadyToStartContainers", sandboxReady),
      cond("Initialized", initDone, "ContainersNotInitialized"),
      cond("Ready", ready, "ContainersNotReady"),
      cond("ContainersReady", ready, "ContainersNotReady"),
      prevConds.find((c) => c.type === "PodScheduled") ?? cond("PodScheduled", true),
    ];
    const started = pod.status?.startTime ?? ts;
    return {
      ...(pod.status?.qosClass ? { qosClass: pod.status.qosClass } : {}),
      phase,
      conditions,
      hostIP: this.ctx.hostIP,
      hostIPs: [{ ip: this.ctx.hostIP }],
      ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
      startTime: started,
      ...(initStatuses.length ? { initContainerStatuses: initStatuses } : {}),
      containerStatuses: statuses,
    };
  }
}

class ConfigError extends Error {}
class PullError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** An image runtime's pull error without its own `failed to pull image "x": ` lead (the event says it already). */
const stripPullPrefix = (message: string, image: string): string => {
  const lead = `failed to pull image "${image}": `;
  return message.startsWith(lead) ? message.slice(lead.length) : message;
};

/** A container's spec fingerprint: a change means the running container is outdated. */
export const specHash = (c: unknown): string => createHash("sha256").update(JSON.stringify(c)).digest("hex").slice(0, 16);

const fieldRef = (pod: KObject, path: string, podIP: string, hostIP: string): string => {
  const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (label) return (pod.metadata as any)[label[1]]?.[label[2]] ?? "";
  switch (path) {
    case "metadata.name":
      return pod.metadata.name ?? "";
    case "metadata.namespace":
      return pod.metadata.namespace ?? "";
    case "metadata.uid":
      return pod.metadata.uid ?? "";
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.podIP":
      return podIP;
    case "status.hostIP":
      return hostIP;
    default:
      return "";
  }
};
