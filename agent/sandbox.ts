/**
 * A pod's sandbox: the pause container whose network (and on containerd also IPC and
 * UTS) namespace the pod's containers join, made as kubelet's SyncPod makes one.
 *
 * Making it can fail: the pause image can't be pulled, the engine refuses the
 * container. kubelet then records a Warning FailedCreatePodSandBox event, starts none
 * of the pod's containers (they stay waiting, ContainerCreating, and the pod's
 * PodReadyToStartContainers condition is False) and tries again later. "Later" here is
 * the image-pull back-off, per pod: 10 s doubling to 5 min, so a pause image that
 * can't be pulled costs a handful of pull attempts rather than one per pod per second.
 * (kubelet's pod worker itself retries a failed sync about every 10 s; the doubling is
 * its image puller's, which suits a failure that is most often a pull.)
 */
import type { KObject } from "../shared/types";
import { Backoff } from "./backoff";
import { type EventSink, goDuration } from "./events";
import type { Slots } from "./podworkers";
import type { ContainerInfo, ContainerRuntime } from "./runtime/runtime";

export interface SandboxContext {
  runtime: ContainerRuntime;
  pauseImage: string;
  now(): number;
  log(msg: string): void;
  events: EventSink;
  /** how much engine work runs at once (the pod worker's engine slots) */
  slots?: Slots;
}

/**
 * The pod's host name, as kubelet sets it: spec.hostname, else the pod's name cut to 63
 * characters without a trailing "-" or "." (a name longer than a DNS label would not be one).
 */
export const podHostname = (pod: KObject): string => {
  if (pod.spec?.hostname) return String(pod.spec.hostname);
  return String(pod.metadata.name ?? "")
    .slice(0, 63)
    .replace(/[-.]+$/, "");
};

/** The pod's running sandbox: its container id and the pod IP it has. */
export interface Sandbox {
  id: string;
  ip: string;
}

/** What making a sandbox needs from the pod worker. */
export interface SandboxHooks {
  /** the engine's name and labels for a new sandbox container */
  name: string;
  labels: Record<string, string>;
  /** the details (IP) of a listed container */
  detail(c: ContainerInfo): Promise<ContainerInfo | null>;
  /** the engine's containers of the pod are about to change (the pass's listing is stale) */
  changing(): void;
  /** stop the containers that run in the old sandbox (a new sandbox is a new network) */
  leaving(): Promise<void>;
}

/** kubelet's message when a sandbox goes away under a pod (events.SandboxChanged). */
export const SANDBOX_CHANGED = "Pod sandbox changed, it will be killed and re-created.";

export class Sandboxes {
  constructor(
    private readonly ctx: SandboxContext,
    private readonly backoff = new Backoff(),
  ) {}

  private key = (uid: string) => `sandbox/${uid}`;

  /**
   * The pod's sandbox, made if it has none (or it stopped), or null while it can't be
   * made: the attempt failed now (FailedCreatePodSandBox recorded) or a failed attempt's
   * back-off has not run out yet (nothing is tried, nothing recorded).
   */
  async ensure(pod: KObject, current: ContainerInfo | undefined, hooks: SandboxHooks): Promise<Sandbox | null> {
    const uid = pod.metadata.uid!;
    if (current?.state === "running") {
      const info = await hooks.detail(current);
      return { id: current.id, ip: info?.ip ?? "" };
    }
    const key = this.key(uid);
    if (this.backoff.inBackoffSinceUpdate(key, this.ctx.now())) return null;
    hooks.changing();
    if (current) {
      this.ctx.events.record(pod, "Normal", "SandboxChanged", SANDBOX_CHANGED);
      await hooks.leaving();
      await this.ctx.runtime.remove(current.id);
    }
    try {
      const sandbox = await this.create(pod, hooks);
      this.backoff.reset(key);
      return sandbox;
    } catch (e) {
      const message = (e as Error).message.trim();
      this.backoff.next(key, this.ctx.now());
      this.ctx.log(
        `pod ${pod.metadata.namespace}/${pod.metadata.name}: CreatePodSandbox failed, next attempt in ${goDuration(this.backoff.delay(key))}: ${message}`,
      );
      this.ctx.events.record(pod, "Warning", "FailedCreatePodSandBox", `Failed to create pod sandbox: ${message}`);
      return null;
    }
  }

  /** The pod is gone: its back-off goes with it. */
  forget(uid: string): void {
    this.backoff.reset(this.key(uid));
  }

  /** Pull the pause image if missing, create and start the sandbox; a half-made one is removed again. */
  private async create(pod: KObject, hooks: SandboxHooks): Promise<Sandbox> {
    const { runtime, pauseImage } = this.ctx;
    if (!(await runtime.hasImage(pauseImage))) {
      try {
        await runtime.pullImage(pauseImage);
      } catch (e) {
        // containerd's CRI wording: failed to get sandbox image "x": failed to pull image "x": ...
        throw new Error(`failed to get sandbox image "${pauseImage}": ${(e as Error).message.trim()}`);
      }
    }
    const hostPorts = (pod.spec?.containers ?? []).flatMap((c: any) =>
      (c.ports ?? []).filter((p: any) => p.hostPort).map((p: any) => ({ containerPort: p.containerPort, hostPort: p.hostPort, protocol: p.protocol ?? "TCP" })),
    );
    const make = async () => {
      const id = await runtime.create({
        name: hooks.name,
        image: pauseImage,
        env: [],
        labels: hooks.labels,
        hostNetwork: false,
        mounts: [],
        hostPorts,
        hostname: podHostname(pod),
      });
      try {
        await runtime.start(id);
      } catch (e) {
        await runtime.remove(id).catch(() => undefined);
        throw new Error(`failed to start sandbox container ${id.slice(0, 12)}: ${(e as Error).message.trim()}`);
      }
      return id;
    };
    const id = await (this.ctx.slots ? this.ctx.slots.run(make) : make());
    const info = await runtime.inspect(id);
    return { id, ip: info?.ip ?? "" };
  }
}
