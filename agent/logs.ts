/**
 * Log shipping: the boxes take no inbound connections, so the agent sends each
 * container's new output (with the engine's timestamps) to the control plane, which
 * keeps a bounded tail for `kubectl logs`. Only new lines are sent, in batches, so an
 * idle pod costs nothing; the server drops lines it already has, so a restarted agent
 * can simply send again.
 */
import type { KObject } from "../shared/types";
import type { ApiClient } from "./api";
import { type ContainerInfo, LABELS, type ContainerRuntime } from "./runtime/runtime";

const MAX_LINES = 2000;

export class LogShipper {
  /** per container id: the time of the last line shipped */
  private readonly shipped = new Map<string, string>();
  /** per container id: the engine's log mark when its output was last read (runtime.logMark) */
  private readonly marks = new Map<string, string>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly api: ApiClient,
  ) {}

  /** ship new output of the pods' containers, as listed by the agent's last sync pass */
  async ship(pods: KObject[], listing: ContainerInfo[]): Promise<void> {
    const seen = new Set<string>();
    const byPod = new Map<string, ContainerInfo[]>();
    for (const c of listing) byPod.set(c.labels[LABELS.podUid], [...(byPod.get(c.labels[LABELS.podUid]) ?? []), c]);
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      for (const c of byPod.get(pod.metadata.uid!) ?? []) {
        if (c.labels[LABELS.role] === "sandbox") continue;
        seen.add(c.id);
        await this.shipContainer(pod, c);
      }
    }
    for (const id of this.shipped.keys()) if (!seen.has(id)) this.shipped.delete(id);
    for (const id of this.marks.keys()) if (!seen.has(id)) this.marks.delete(id);
  }

  /**
   * Ship one pod's new output now. kubelet serves logs from the engine, so they are
   * complete the moment a status says a container terminated; the agent ships every few
   * seconds, so it calls this before writing such a status, or `kubectl logs` right after
   * the pod finished would miss the last lines (or all of them).
   */
  async shipPod(pod: KObject, containers: ContainerInfo[]): Promise<void> {
    for (const c of containers) if (c.labels[LABELS.role] !== "sandbox" && c.labels[LABELS.podUid] === pod.metadata.uid) await this.shipContainer(pod, c);
  }

  /** per container id: the shipping under way (the periodic pass and a pod's final status may overlap) */
  private readonly inFlight = new Map<string, Promise<void>>();

  /** one shipping at a time per container, so `shipped` only moves forward */
  private shipContainer(pod: KObject, c: ContainerInfo): Promise<void> {
    const next = (this.inFlight.get(c.id) ?? Promise.resolve()).catch(() => undefined).then(() => this.shipNow(pod, c));
    this.inFlight.set(c.id, next);
    const done = () => {
      if (this.inFlight.get(c.id) === next) this.inFlight.delete(c.id);
    };
    next.then(done, done);
    return next;
  }

  private async shipNow(pod: KObject, c: ContainerInfo): Promise<void> {
    // nothing written since the output was last read: no request to the engine
    const mark = await this.runtime.logMark?.(c.id);
    if (mark !== undefined && this.marks.get(c.id) === mark) return;
    const last = this.shipped.get(c.id);
    const lines = (await this.runtime.logs(c.id, last ? Date.parse(last) : undefined)).filter((l) => !last || l.time > last).slice(-MAX_LINES);
    const read = () => (mark === undefined ? this.marks.delete(c.id) : this.marks.set(c.id, mark));
    if (!lines.length) return void read();
    await this.api.request("POST", `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/log`, {
      container: c.labels[LABELS.container],
      attempt: Number(c.labels[LABELS.attempt] ?? 0),
      lines,
    });
    this.shipped.set(c.id, lines[lines.length - 1].time);
    read();
  }
}
