/**
 * Running one pod on the local engine, level-triggered: compare the pod's spec with
 * the containers that carry its uid, make one step of progress (create, start,
 * restart after backoff, stop, remove), and compute the status to report. Its parts,
 * along kubelet's seams: the container environment (env.ts), volumes (volumes.ts),
 * the sandbox (sandbox.ts), image pulls (images.ts) and the status (status.ts).
 */
import type { WatchedObjects } from "./watchedobjects";
import { createHash } from "node:crypto";
import { milliValue, value } from "../shared/quantity";
import type { KObject } from "../shared/types";
import type { ApiClient } from "./api";
import { Backoff } from "./backoff";
import { ConfigError, containerEnv } from "./env";
import { expandCommandAndArgs } from "./expansion";
import { containerPath, type EventSink, RetryEvents } from "./events";
import { ImagePuller, PullError } from "./images";
import { ImagePullError, LABELS, type ContainerInfo, type ContainerRuntime, type Mount } from "./runtime/runtime";
import { hostsMount } from "./etchosts";
import type { Slots } from "./podworkers";
import { trace } from "./trace";
import { Sandboxes } from "./sandbox";
import { type ContainerView, podStatus, type ProbeState, shouldRestart, type Waiting } from "./status";
import type { LocalPathProvisioner } from "./storage/localpath";
import { containerMounts, PodVolumes } from "./volumes";

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
  /** the cluster's Services for the service environment (null until listed once) */
  services?(): Iterable<KObject> | null;
  /** the pod's resolv.conf, written, as a mount at /etc/resolv.conf (kubelet's DNS configurer) */
  /** the pod's resolv.conf, when the cluster DNS is to be used */
  resolvConf?(pod: KObject): Mount | undefined;
  /** the cluster's DNS domain, for the /etc/hosts name of a pod with spec.subdomain (default cluster.local) */
  clusterDomain?: string;
  /** the node's local-path provisioner (agent/storage) */
  provisioner?: LocalPathProvisioner;
  /** ConfigMaps and Secrets kept current by a watch each (agent/watchedobjects.ts) */
  watched?: WatchedObjects;
  /** how much engine work (a container's create and start) runs at once; unbounded without */
  slots?: Slots;
}

export class PodWorker {
  readonly backoff = new Backoff();
  /** per container key: a reason it can't start (ErrImagePull, CreateContainerConfigError) */
  readonly waiting = new Map<string, Waiting>();
  /** per container id: probe results, maintained by the prober */
  readonly probes = new Map<string, ProbeState>();
  /** events about steps retried on every sync, recorded at most every 10 s each */
  private readonly retryEvents: RetryEvents;
  /** the pods' sandboxes (pause containers), with their own creation back-off */
  private readonly sandboxes: Sandboxes;
  /** the pods' volume directories, ConfigMap and Secret contents refreshed about once a minute */
  private readonly volumes: PodVolumes;
  /** image pulls, with their back-off in this worker's Backoff */
  private readonly images: ImagePuller;

  constructor(private readonly ctx: PodContext) {
    this.retryEvents = new RetryEvents(ctx.events, () => ctx.now());
    this.sandboxes = new Sandboxes(ctx, this.backoff);
    this.volumes = new PodVolumes(ctx, this.retryEvents);
    this.images = new ImagePuller(ctx, this.backoff, this.retryEvents);
  }

  /** engine work in one of the engine's slots (ctx.slots), or right away without */
  private engine = <T>(work: () => Promise<T>): Promise<T> => (this.ctx.slots ? this.ctx.slots.run(work) : work());

  private key = (pod: KObject, container: string) => `${pod.metadata.uid}/${container}`;

  private name = (pod: KObject, container: string, attempt: number) =>
    `k8s_${container}_${pod.metadata.name}_${pod.metadata.namespace}_${pod.metadata.uid!.slice(0, 8)}_${attempt}`;

  // ------------------------------------------------------------ what the engine runs

  /**
   * The engine's containers of this node as last listed (listAll, once per sync pass),
   * by pod uid, so syncing N pods costs one list call rather than several per pod. Syncs
   * of different pods overlap, so the listing serves a pod only if it was taken after
   * the pod's last change ended: a pod whose containers a sync is changing, or changed
   * after the listing began, is listed on its own (else it might make a container twice).
   */
  private listing: { at: number; byUid: Map<string, ContainerInfo[]> } | undefined;
  /** orders listings and changes: bumped when a listing starts and when a changing sync ends */
  private clock = 0;
  /** per pod uid: the clock when the last sync that changed its containers ended (Infinity while it runs) */
  private readonly changed = new Map<string, number>();
  /** inspect results by container id, reused while the engine reports the same state */
  private readonly details = new Map<string, ContainerInfo>();
  /** containers being stopped in the background (replaced after a spec change) */
  private readonly stopping = new Set<string>();

  /** List the node's containers (all pods) for the syncs that follow; returns the listing. */
  async listAll(): Promise<ContainerInfo[]> {
    const at = ++this.clock;
    const all = await this.ctx.runtime.list({ [LABELS.node]: this.ctx.nodeName, [LABELS.podUid]: "" });
    const byUid = new Map<string, ContainerInfo[]>();
    for (const c of all) {
      const uid = c.labels[LABELS.podUid];
      if (uid) byUid.set(uid, [...(byUid.get(uid) ?? []), c]);
    }
    if (at > (this.listing?.at ?? 0)) this.listing = { at, byUid };
    const ids = new Set(all.map((c) => c.id));
    for (const id of this.details.keys()) if (!ids.has(id)) this.details.delete(id);
    return all;
  }

  private touched(pod: KObject): void {
    this.changed.set(pod.metadata.uid!, Number.POSITIVE_INFINITY);
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
    const unsettled =
      info?.state === "exited" && info.exitCode === 137 && !info.oomKilled && this.ctx.now() - (Date.parse(info.finishedAt ?? "") || 0) < 10_000;
    if (info && !unsettled) this.details.set(c.id, info);
    else this.details.delete(c.id);
    return info;
  }

  /** The latest instance of each container of the pod (by attempt). */
  async containers(pod: KObject): Promise<Map<string, ContainerInfo[]>> {
    const uid = pod.metadata.uid!;
    const listing = this.listing;
    const all =
      listing && listing.at > (this.changed.get(uid) ?? 0)
        ? (listing.byUid.get(uid) ?? [])
        : await this.ctx.runtime.list({ [LABELS.node]: this.ctx.nodeName, [LABELS.podUid]: uid });
    const by = new Map<string, ContainerInfo[]>();
    for (const c of all) {
      const n = c.labels[LABELS.container];
      by.set(
        n,
        [...(by.get(n) ?? []), c].sort((a, b) => Number(b.labels[LABELS.attempt]) - Number(a.labels[LABELS.attempt])),
      );
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
    this.changed.delete(uid);
    this.volumes.forget(uid);
    this.backoff.forget(`${uid}/`);
    this.images.forget(uid);
    this.sandboxes.forget(uid);
    for (const k of this.waiting.keys()) if (k.startsWith(`${uid}/`)) this.waiting.delete(k);
    this.retryEvents.forget(uid);
  }

  // ------------------------------------------------------------ building containers

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

  private async startContainer(
    pod: KObject,
    c: any,
    role: "init" | "app",
    attempt: number,
    sandbox: { id?: string; ip: string },
    vols: Map<string, string>,
  ): Promise<void> {
    this.touched(pod);
    const key = this.key(pod, c.name);
    const at = containerPath(role, c.name);
    try {
      await this.images.ensureImage(pod, c, at, attempt);
      trace(pod.metadata.uid!, "image");
      const env = await containerEnv(this.ctx.api, pod, c, sandbox.ip, this.ctx.hostIP, this.ctx.services?.());
      // $(NAME) in command and args, against the final environment (kubelet's ExpandContainerCommandAndArgs)
      const { command, args } = expandCommandAndArgs(c, env);
      const mounts = containerMounts(pod, c, vols);
      const dns = this.ctx.resolvConf?.(pod);
      if (dns && !mounts.some((m) => m.containerPath === dns.containerPath)) mounts.push(dns);
      // kubelet's managed /etc/hosts for pods on the pod network (unless a volume is mounted there)
      if (!pod.spec?.hostNetwork && sandbox.ip && !mounts.some((m) => m.containerPath === "/etc/hosts"))
        mounts.push(hostsMount(this.ctx.dataDir, pod, sandbox.ip, this.ctx.clusterDomain));
      const limits = c.resources?.limits ?? {};
      const spec = {
        name: this.name(pod, c.name, attempt),
        image: c.image,
        command,
        args,
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
      };
      // create and start in one engine slot: started in the order the pods came
      await this.engine(async () => {
        const id = await this.ctx.runtime.create(spec);
        trace(pod.metadata.uid!, "created");
        this.ctx.events.record(pod, "Normal", "Created", `Created container ${c.name}`, at);
        await this.ctx.runtime.start(id);
        trace(pod.metadata.uid!, "started");
      });
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
      else this.retryEvents.emit(pod, at, "Warning", "Failed", msg);
    }
  }

  /**
   * One step toward the desired state of a running (not deleted) pod. Returns the
   * status to report. At most one sync of a pod at a time (the agent's pod workers).
   */
  async sync(pod: KObject): Promise<Record<string, any>> {
    const uid = pod.metadata.uid!;
    try {
      return await this.step(pod);
    } finally {
      // its changes are done: listings from now on show them
      if (this.changed.get(uid) === Number.POSITIVE_INFINITY) this.changed.set(uid, ++this.clock);
    }
  }

  private async step(pod: KObject): Promise<Record<string, any>> {
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
      vols = await this.volumes.setUp(pod);
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
      } else if (latest.state === "exited" && shouldRestart(pod, "init", latest.exitCode)) {
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
          const started = await this.engine(() => this.ctx.runtime.start(latest.id)).then(
            () => true,
            () => false,
          );
          if (started) this.ctx.events.record(pod, "Normal", "Started", `Started container ${c.name}`, containerPath("app", c.name));
        } else if (latest.state === "exited" && (shouldRestart(pod, "app", latest.exitCode) || latest.labels[LABELS.specHash] !== specHash(c))) {
          await this.restartIfDue(pod, c, "app", latest, inst, sandbox, vols, now);
        }
      }
    }
    return this.status(pod, sandbox.ip, initDone);
  }

  private async restartIfDue(
    pod: KObject,
    c: any,
    role: "init" | "app",
    latest: ContainerInfo,
    inst: ContainerInfo[],
    sandbox: { id?: string; ip: string },
    vols: Map<string, string>,
    now: number,
  ) {
    const key = this.key(pod, c.name);
    const finished = Date.parse(latest.finishedAt ?? "") || now;
    if (this.backoff.inBackoffSince(key, finished, now)) {
      const p = pod.metadata;
      this.retryEvents.emit(
        pod,
        containerPath(role, c.name),
        "Warning",
        "BackOff",
        `Back-off restarting failed container ${c.name} in pod ${p.name}_${p.namespace}(${p.uid})`,
      );
      return;
    }
    this.backoff.next(key, now);
    const attempt = Number(latest.labels[LABELS.attempt] ?? 0) + 1;
    // keep the previous instance (for `kubectl logs --previous`), drop older ones
    this.touched(pod);
    for (const old of inst.slice(1)) await this.ctx.runtime.remove(old.id);
    await this.startContainer(pod, c, role, attempt, sandbox, vols);
  }

  /** The pod status from what the engine reports now (see status.ts). */
  async status(pod: KObject, podIP: string, initDone: boolean, sandboxReady = true): Promise<Record<string, any>> {
    const existing = await this.containers(pod);
    const now = this.ctx.now();
    const view = async (c: any): Promise<ContainerView> => {
      const inst = existing.get(c.name) ?? [];
      const latest = inst[0] ? await this.detail(inst[0]) : null;
      const prev = inst[1] ? await this.detail(inst[1]) : null;
      const key = this.key(pod, c.name);
      const crashLoop = latest?.state === "exited" && this.backoff.inBackoffSince(key, Date.parse(latest.finishedAt ?? "") || now, now);
      return {
        spec: c,
        latest,
        prev,
        waiting: this.waiting.get(key),
        probe: latest ? this.probes.get(latest.id) : undefined,
        ...(crashLoop ? { backoffMs: this.backoff.delay(key) } : {}),
      };
    };
    const init: ContainerView[] = [];
    for (const c of pod.spec?.initContainers ?? []) init.push(await view(c));
    const app: ContainerView[] = [];
    for (const c of pod.spec?.containers ?? []) app.push(await view(c));
    trace(pod.metadata.uid!, "status");
    return podStatus({ pod, podIP, hostIP: this.ctx.hostIP, initDone, sandboxReady, now, runtime: this.ctx.runtime.name, init, app });
  }
}

/** specHash by container spec object: a pod's copy is the same object until a watch event replaces it */
const specHashes = new WeakMap<object, string>();

/** A container's spec fingerprint: a change means the running container is outdated. */
export const specHash = (c: unknown): string => {
  const cached = c && typeof c === "object" ? specHashes.get(c) : undefined;
  if (cached) return cached;
  const h = createHash("sha256").update(JSON.stringify(c)).digest("hex").slice(0, 16);
  if (c && typeof c === "object") specHashes.set(c, h);
  return h;
};
