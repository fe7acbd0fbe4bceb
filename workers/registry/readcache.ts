/**
 * Reads that nearly every write makes and whose answer rarely changes, kept in memory
 * where this process is the database's only writer (the Node server): the namespace a
 * create goes into (NamespaceLifecycle), a namespace's LimitRanges and ResourceQuotas
 * (the quota plugins, which on most namespaces find none), and a new pod's
 * ServiceAccount (its admission). Every write
 * the Store commits drops what it may have changed (Store.onWrite), so a cached answer
 * is always the current one; a read that a write overtook is not kept.
 *
 * Where other writers exist (the Worker: other isolates; a remote libSQL shared with
 * others) there is no ReadCache and every read goes to the database.
 *
 * Cached objects are frozen (a caller that tried to change one would throw, not
 * corrupt the cache); lists come back as fresh arrays of them.
 */
import type { KObject, ObjectKey } from "../../shared/types";
import type { Store } from "../store/store";
import { WriteGenerations } from "./generations";

const deepFreeze = <T>(v: T): T => {
  if (v && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) deepFreeze(x);
  }
  return v;
};

export class ReadCache {
  /** resource → namespace → the namespace's list, or name → object (null: not found) */
  private readonly lists = new Map<string, Map<string, KObject[]>>();
  private readonly objects = new Map<string, Map<string, KObject | null>>();
  /** writes seen, by resource: a read that one overtook is not kept */
  private readonly generations = new WriteGenerations();
  private size = 0;

  constructor(
    private readonly store: Store,
    private readonly max = 10_000,
  ) {
    store.onWrite((key) => this.written(key));
  }

  /** The objects of `resource` in `namespace` (a copy of the array; the objects are frozen). */
  async list(resource: string, namespace: string): Promise<KObject[]> {
    const hit = this.lists.get(resource)?.get(namespace);
    if (hit) return [...hit];
    const mark = this.generations.mark();
    const items = (await this.store.list(resource, { namespace })).items;
    if (this.generations.unchangedSince(mark, resource)) this.put(this.lists, resource, namespace, deepFreeze(items));
    return [...items];
  }

  /** One object (frozen), or null. */
  async get(key: ObjectKey): Promise<KObject | null> {
    const id = `${key.namespace}/${key.name}`;
    const byName = this.objects.get(key.resource);
    if (byName?.has(id)) return byName.get(id)!;
    const mark = this.generations.mark();
    const obj = await this.store.get(key);
    if (this.generations.unchangedSince(mark, key.resource)) this.put(this.objects, key.resource, id, deepFreeze(obj));
    return obj;
  }

  private put<V>(m: Map<string, Map<string, V>>, resource: string, id: string, v: V) {
    if (this.size >= this.max) {
      this.lists.clear();
      this.objects.clear();
      this.size = 0;
    }
    let inner = m.get(resource);
    if (!inner) m.set(resource, (inner = new Map()));
    if (!inner.has(id)) this.size++;
    inner.set(id, v);
  }

  private written(key: ObjectKey) {
    this.generations.bump(key.resource);
    if (this.lists.get(key.resource)?.delete(key.namespace)) this.size--;
    if (this.objects.get(key.resource)?.delete(`${key.namespace}/${key.name}`)) this.size--;
  }
}
