/**
 * What the node-local DNS server knows of the cluster: the Services and the
 * EndpointSlices, as the agent's watches deliver them (CoreDNS's kubernetes plugin
 * keeps the same two informers; pod records are answered in "pods insecure" mode,
 * which needs no pod list). Plain maps, updated in place; the resolver reads them.
 */
import type { KObject } from "../../shared/types";

export interface EndpointPort {
  name: string;
  port: number;
  protocol: string;
}

/** One ready address of a Service, with the ports of its slice. */
export interface Endpoint {
  ip: string;
  /** spec hostname (StatefulSet pods with a subdomain), or "" */
  hostname: string;
  ports: EndpointPort[];
}

const key = (ns: string, name: string) => `${ns}/${name}`;
const SERVICE_NAME = "kubernetes.io/service-name";

export class ClusterView {
  private readonly services = new Map<string, KObject>();
  private readonly slices = new Map<string, KObject>();
  /** `ns/service` → keys of its slices */
  private readonly slicesOf = new Map<string, Set<string>>();
  /** both kinds have been listed once (before that, names in the zone answer SERVFAIL, as CoreDNS does) */
  private synced = { services: false, slices: false };
  /** seconds since the epoch of the last change: the SOA serial */
  serial = Math.floor(Date.now() / 1000);

  get hasSynced(): boolean {
    return this.synced.services && this.synced.slices;
  }

  get servicesSynced(): boolean {
    return this.synced.services;
  }

  private touch(): void {
    this.serial = Math.floor(Date.now() / 1000);
  }

  /** Replace all Services (a fresh list). */
  resetServices(items: KObject[]): void {
    this.services.clear();
    for (const s of items) this.services.set(key(s.metadata.namespace!, s.metadata.name!), s);
    this.synced.services = true;
    this.touch();
  }

  /** Replace all EndpointSlices (a fresh list). */
  resetSlices(items: KObject[]): void {
    this.slices.clear();
    this.slicesOf.clear();
    for (const s of items) this.putSlice(s);
    this.synced.slices = true;
    this.touch();
  }

  /** A watch event on services. */
  service(type: "ADDED" | "MODIFIED" | "DELETED", s: KObject): void {
    const k = key(s.metadata.namespace!, s.metadata.name!);
    if (type === "DELETED") this.services.delete(k);
    else this.services.set(k, s);
    this.touch();
  }

  /** A watch event on endpointslices. */
  slice(type: "ADDED" | "MODIFIED" | "DELETED", s: KObject): void {
    this.dropSlice(key(s.metadata.namespace!, s.metadata.name!));
    if (type !== "DELETED") this.putSlice(s);
    this.touch();
  }

  private putSlice(s: KObject): void {
    const k = key(s.metadata.namespace!, s.metadata.name!);
    this.slices.set(k, s);
    const svc = s.metadata.labels?.[SERVICE_NAME];
    if (!svc) return;
    const sk = key(s.metadata.namespace!, svc);
    let set = this.slicesOf.get(sk);
    if (!set) this.slicesOf.set(sk, (set = new Set()));
    set.add(k);
  }

  private dropSlice(k: string): void {
    const old = this.slices.get(k);
    if (!old) return;
    this.slices.delete(k);
    const svc = old.metadata.labels?.[SERVICE_NAME];
    if (!svc) return;
    const sk = key(old.metadata.namespace!, svc);
    const set = this.slicesOf.get(sk);
    set?.delete(k);
    if (set?.size === 0) this.slicesOf.delete(sk);
  }

  getService(ns: string, name: string): KObject | undefined {
    return this.services.get(key(ns, name));
  }

  allServices(): IterableIterator<KObject> {
    return this.services.values();
  }

  /**
   * The ready addresses of a Service's EndpointSlices (ready unset counts as ready,
   * as in CoreDNS), one entry per address and port set (slices split by ports), deduplicated.
   */
  endpoints(ns: string, name: string): Endpoint[] {
    const out: Endpoint[] = [];
    const seen = new Set<string>();
    for (const k of this.slicesOf.get(key(ns, name)) ?? []) {
      const s = this.slices.get(k)!;
      if (s.addressType !== "IPv4" && s.addressType !== "IPv6") continue;
      const ports: EndpointPort[] = (s.ports ?? []).map((p: any) => ({ name: p.name ?? "", port: p.port ?? -1, protocol: p.protocol ?? "TCP" }));
      const sig = JSON.stringify(ports);
      for (const e of s.endpoints ?? []) {
        if (e.conditions?.ready === false) continue;
        for (const ip of (e.addresses ?? []) as string[]) {
          if (seen.has(`${ip} ${sig}`)) continue;
          seen.add(`${ip} ${sig}`);
          out.push({ ip, hostname: e.hostname ?? "", ports });
        }
      }
    }
    return out;
  }
}
