/**
 * Image pulls for a pod's containers, as kubelet's image manager makes them: per pull
 * policy, with a back-off after a failed pull so a missing image costs a handful of
 * registry requests rather than one per sync.
 */
import type { KObject } from "../shared/types";
import type { Backoff } from "./backoff";
import { type EventSink, goDuration, type RetryEvents } from "./events";
import type { ContainerRuntime } from "./runtime/runtime";

export interface ImageContext {
  runtime: ContainerRuntime;
  now(): number;
  events: EventSink;
}

/** Why a container's image is not there: the status reason (ErrImagePull, ImagePullBackOff, ErrImageNeverPull) and message. */
export class PullError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** how long the engine's "the image is here" is believed */
const PRESENT_MS = 5000;

export class ImagePuller {
  constructor(
    private readonly ctx: ImageContext,
    /** the pod worker's back-off; pulls use their own key space in it, so a crash loop and a failing pull don't mix */
    private readonly backoff: Backoff,
    private readonly events: RetryEvents,
  ) {}

  /** per image: the engine's answer to "is it here?", shared by the containers asking at once and kept a few seconds when yes */
  private readonly checked = new Map<string, { at: number; have: Promise<boolean> }>();

  /**
   * Whether the engine has the image. Twenty pods of one image starting together ask the
   * engine once, not twenty times (a busy engine answers each in tens of milliseconds);
   * a "yes" is believed for PRESENT_MS (an image removed meanwhile fails the container's
   * creation, which is retried), a "no" only by the callers that asked together.
   */
  private present(image: string): Promise<boolean> {
    const now = this.ctx.now();
    const known = this.checked.get(image);
    if (known && now - known.at < PRESENT_MS) return known.have;
    const have = this.ctx.runtime.hasImage(image);
    const entry = { at: now, have };
    this.checked.set(image, entry);
    const drop = () => {
      if (this.checked.get(image) === entry) this.checked.delete(image);
    };
    have.then((yes) => (yes ? undefined : drop()), drop);
    return have;
  }

  private pullKey = (pod: KObject, container: string) => `pull/${pod.metadata.uid}/${container}`;

  /**
   * Make the container's image present, as kubelet's image manager does: per pull
   * policy; after a failed pull, no new attempt (no registry traffic) until a backoff
   * of 10 s doubling to 5 min expires. Throws PullError with the status reason:
   * ErrImagePull for an attempt that failed, ImagePullBackOff while waiting,
   * ErrImageNeverPull for a missing image under policy Never.
   */
  async ensureImage(pod: KObject, c: any, fieldPath: string, attempt: number): Promise<void> {
    const policy = c.imagePullPolicy ?? "IfNotPresent";
    const pullKey = this.pullKey(pod, c.name);
    const have = await this.present(c.image);
    if (policy === "Never" && !have) {
      const msg = `Container image "${c.image}" is not present with pull policy of Never`;
      this.events.emit(pod, fieldPath, "Warning", "ErrImageNeverPull", msg);
      throw new PullError("ErrImageNeverPull", msg);
    }
    if (have && policy !== "Always") {
      this.backoff.reset(pullKey);
      this.events.emit(pod, fieldPath, "Normal", "Pulled", `Container image "${c.image}" already present on machine`, String(attempt), Infinity);
      return;
    }
    if (this.backoff.inBackoffSinceUpdate(pullKey, this.ctx.now())) {
      const msg = `Back-off pulling image "${c.image}"`;
      // kubelet records this one as Normal; the Failed "Error: ImagePullBackOff" beside it is the Warning
      this.events.emit(pod, fieldPath, "Normal", "BackOff", msg);
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
    this.checked.delete(c.image);
    this.ctx.events.record(pod, "Normal", "Pulled", `Successfully pulled image "${c.image}" in ${goDuration(this.ctx.now() - started)}`, fieldPath);
  }

  /** The pod is gone: its pull back-offs go with it. */
  forget(uid: string): void {
    this.backoff.forget(`pull/${uid}/`);
  }
}

/** An image runtime's pull error without its own `failed to pull image "x": ` lead (the event says it already). */
const stripPullPrefix = (message: string, image: string): string => {
  const lead = `failed to pull image "${image}": `;
  return message.startsWith(lead) ? message.slice(lead.length) : message;
};
