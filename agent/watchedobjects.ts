/**
 * The ConfigMaps and Secrets this node's pods mount, each kept current by a watch of
 * that one object (kubelet's default `configMapAndSecretChangeDetectionStrategy:
 * Watch`: a reflector per referenced object, `fieldSelector=metadata.name=<name>`),
 * so a pod's periodic volume refresh reads memory, not the API. On the Worker each
 * watch is a hibernating WebSocket on the watch hub: an unchanged object costs no
 * request at all, where reading it again every minute cost one per node.
 *
 * A watch starts when a pod first asks for its object and stops when no pod has asked
 * for `idleMs` (the pods using it are gone; kubelet stops the reflector when its last
 * pod is unregistered). Until its first list the caller reads the object itself.
 */
import type { KObject } from "../shared/types";
import type { ApiClient } from "./api";
import { Informer } from "./informer";

interface Entry {
  informer: Informer;
  ac: AbortController;
  usedAt: number;
}

export class WatchedObjects {
  private readonly entries = new Map<string, Entry>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly o: {
      api: Pick<ApiClient, "request" | "watch">;
      now(): number;
      log?: (msg: string) => void;
      /** a watch nobody asked for this long stops (default 5 min) */
      idleMs?: number;
    },
  ) {
    this.timer = setInterval(() => this.sweep(), Math.min(60_000, this.idleMs));
    this.timer.unref?.();
  }

  private get idleMs() {
    return this.o.idleMs ?? 5 * 60_000;
  }

  /**
   * The object as its watch holds it: the object, null when it does not exist, or
   * undefined while its watch has not listed yet (read it yourself this time).
   */
  get(kind: "configmaps" | "secrets", namespace: string, name: string): KObject | null | undefined {
    const key = `${kind}/${namespace}/${name}`;
    let e = this.entries.get(key);
    if (!e) {
      const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/${kind}?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`;
      e = { informer: new Informer(this.o.api, path, this.o.log), ac: new AbortController(), usedAt: 0 };
      this.entries.set(key, e);
      void e.informer.run(e.ac.signal);
    }
    e.usedAt = this.o.now();
    if (!e.informer.synced) return undefined;
    return e.informer.get(`${namespace}/${name}`) ?? null;
  }

  /** how many objects are watched */
  get size(): number {
    return this.entries.size;
  }

  /** Stop the watches no pod asked for within idleMs. */
  sweep(): void {
    const now = this.o.now();
    for (const [key, e] of this.entries) {
      if (now - e.usedAt < this.idleMs) continue;
      e.ac.abort();
      this.entries.delete(key);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    for (const e of this.entries.values()) e.ac.abort();
    this.entries.clear();
  }
}
