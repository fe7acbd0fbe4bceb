/**
 * A shared informer, the way client-go's is: list a collection, then watch it from the
 * list's resourceVersion; on 410 Expired or any error, list again after a capped,
 * jittered back-off. It keeps a store keyed `namespace/name` and tells every registered
 * handler about the fresh list (`onReset`) and each change (`onEvent`); BOOKMARKs only
 * move the resourceVersion on. The agent runs one per resource (Services and
 * EndpointSlices, for cluster DNS and kube-proxy alike: one watch each, not one per user).
 */
import type { KObject, WatchEvent } from "../shared/types";
import { type ApiClient, ApiRequestError } from "./api";
import { sleep, watchBackoffMs } from "./sleep";

export type InformerEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface InformerHandler {
  /** a fresh list: everything there is now (the first list, and every relist) */
  onReset?(items: KObject[]): void;
  /** one change, after the store has it */
  onEvent?(type: InformerEventType, obj: KObject): void;
}

/** client-go's MetaNamespaceKeyFunc: `namespace/name`, or `name` for cluster-scoped objects */
export const objectKey = (o: KObject) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : `${o.metadata.name}`);

export class Informer {
  private readonly store = new Map<string, KObject>();
  private readonly handlers = new Set<InformerHandler>();
  private listed = false;

  constructor(
    private readonly api: Pick<ApiClient, "request" | "watch">,
    /** the collection, e.g. /api/v1/services */
    readonly path: string,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  /** listed at least once (stays true across relists, as client-go's HasSynced) */
  get synced(): boolean {
    return this.listed;
  }

  /** the objects as of the last list and the events since */
  items(): KObject[] {
    return [...this.store.values()];
  }

  get(key: string): KObject | undefined {
    return this.store.get(key);
  }

  /**
   * Register a handler; returns its removal. A handler added after the first list is
   * told the current items at once, so it does not matter who comes first.
   */
  addHandler(h: InformerHandler): () => void {
    this.handlers.add(h);
    if (this.listed) this.call(() => h.onReset?.(this.items()));
    return () => {
      this.handlers.delete(h);
    };
  }

  /** one consumer's failure is its own: the others and the watch go on */
  private call(f: () => void) {
    try {
      f();
    } catch (e) {
      this.log(`watch ${this.path}: a handler failed: ${(e as Error).message}`);
    }
  }

  /**
   * List and watch until `signal` aborts; resolves then (never rejects). A watch that
   * ends or breaks is resumed from the last resourceVersion seen (after a back-off when
   * it broke); only a 410 Expired (or a failed list) lists again.
   */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const list = await this.api.request<{ metadata: { resourceVersion: string }; items: KObject[] }>("GET", this.path);
        if (signal.aborted) return;
        this.store.clear();
        for (const o of list.items) this.store.set(objectKey(o), o);
        this.listed = true;
        const items = this.items();
        for (const h of [...this.handlers]) this.call(() => h.onReset?.(items));
        failures = 0;
        let rv = list.metadata.resourceVersion;
        await resumeWatch(
          (onEvent) => this.api.watch(this.path, rv, onEvent, signal),
          (ev) => {
            rv = ev.object.metadata.resourceVersion ?? rv;
            if (ev.type !== "ADDED" && ev.type !== "MODIFIED" && ev.type !== "DELETED") return;
            const type = ev.type;
            if (type === "DELETED") this.store.delete(objectKey(ev.object));
            else this.store.set(objectKey(ev.object), ev.object);
            for (const h of [...this.handlers]) this.call(() => h.onEvent?.(type, ev.object));
          },
          signal,
          (n, e) => this.log(`watch ${this.path} broke (${n}), resuming: ${e.message}`),
        );
      } catch (e) {
        if (signal.aborted) return;
        failures++;
        if (!(e instanceof ApiRequestError && e.status === 410)) this.log(`watch ${this.path} failed (${failures}): ${(e as Error).message}`);
        await sleep(watchBackoffMs(failures), signal);
      }
    }
  }
}

/**
 * Keep a watch going from the last resourceVersion until `signal` aborts: `open` is
 * called again when the watch ends (at once) or breaks (after a capped, jittered
 * back-off). Throws what needs a fresh list: a 410 Expired, or any refusal from the
 * server (4xx), which a resumed watch would only meet again.
 */
export const resumeWatch = async (
  open: (onEvent: (ev: WatchEvent) => void) => Promise<void>,
  onEvent: (ev: WatchEvent) => void,
  signal: AbortSignal,
  onBreak: (failures: number, e: Error) => void = () => {},
): Promise<void> => {
  let failures = 0;
  while (!signal.aborted) {
    try {
      await open((ev) => {
        failures = 0;
        onEvent(ev);
      });
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiRequestError && e.status >= 400 && e.status < 500) throw e;
      failures++;
      onBreak(failures, e as Error);
      await sleep(watchBackoffMs(failures), signal);
    }
  }
};

/** The two informers Services networking runs on (cluster DNS, the service environment, kube-proxy). */
export interface ServiceInformers {
  services: Informer;
  endpointSlices: Informer;
}

export const serviceInformers = (api: Pick<ApiClient, "request" | "watch">, log?: (msg: string) => void): ServiceInformers => ({
  services: new Informer(api, "/api/v1/services", log),
  endpointSlices: new Informer(api, "/apis/discovery.k8s.io/v1/endpointslices", log),
});

/** Run informers until `signal` aborts (tests and the agent). */
export const runInformers = (i: ServiceInformers, signal: AbortSignal) => Promise.all([i.services.run(signal), i.endpointSlices.run(signal)]).then(() => {});
