/**
 * The TLS Secrets the ingress proxy's Ingresses name, each kept current by a watch of
 * that one Secret (`fieldSelector=metadata.name=<name>`, as kubelet watches the Secrets
 * its pods use; the Node authorizer allows it for Secrets an Ingress of our class names
 * in spec.tls). A renewed or replaced certificate is served as soon as its event
 * arrives; a Secret created after its Ingress likewise. A watch stops when no Ingress
 * names its Secret any more.
 */
import { createSecureContext, type SecureContext } from "node:tls";
import type { KObject } from "../../shared/types";
import type { ApiClient } from "../api";
import { Informer } from "../informer";

interface Entry {
  informer: Informer;
  ac: AbortController;
  /** the Secret's TLS context: null when missing or unusable */
  ctx: SecureContext | null;
  rv: string;
  done: Promise<void>;
}

export class TlsSecrets {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly api: Pick<ApiClient, "request" | "watch">,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  /** Watch exactly these Secrets (namespace/name): start the new ones, stop the others. */
  want(keys: Set<string>): void {
    for (const [k, e] of this.entries) {
      if (keys.has(k)) continue;
      e.ac.abort();
      this.entries.delete(k);
    }
    for (const k of keys) if (!this.entries.has(k)) this.start(k);
  }

  /** The context for a Secret (namespace/name), or null while it is missing, unusable or not listed yet. */
  context(key: string): SecureContext | null {
    return this.entries.get(key)?.ctx ?? null;
  }

  /** how many Secrets are watched */
  get size(): number {
    return this.entries.size;
  }

  async stop(): Promise<void> {
    const done = [...this.entries.values()].map((e) => {
      e.ac.abort();
      return e.done;
    });
    this.entries.clear();
    await Promise.allSettled(done);
  }

  private start(key: string) {
    const [ns, name] = key.split("/");
    const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`;
    const informer = new Informer(this.api, path, this.log);
    const ac = new AbortController();
    const e: Entry = { informer, ac, ctx: null, rv: "", done: Promise.resolve() };
    const update = () => {
      if (ac.signal.aborted) return;
      const s = informer.get(key);
      const rv = s?.metadata.resourceVersion ?? "";
      if (rv === e.rv && rv) return;
      const had = e.rv !== "" || e.ctx !== null;
      e.rv = rv;
      e.ctx = s ? tlsContext(s) : null;
      if (!s) this.log(`TLS Secret ${key} not found: serving the fake certificate for its hosts`);
      else if (!e.ctx) this.log(`TLS Secret ${key} has no usable tls.crt and tls.key: serving the fake certificate for its hosts`);
      else if (had) this.log(`TLS Secret ${key} changed (resourceVersion ${rv}): serving its certificate`);
    };
    informer.addHandler({ onReset: update, onEvent: update });
    e.done = informer.run(ac.signal);
    this.entries.set(key, e);
  }
}

/** A TLS context from a Secret's tls.crt and tls.key (kubernetes.io/tls), or null when they are missing or do not parse. */
export const tlsContext = (s: KObject): SecureContext | null => {
  const cert = s.data?.["tls.crt"];
  const key = s.data?.["tls.key"];
  if (typeof cert !== "string" || typeof key !== "string") return null;
  try {
    return createSecureContext({ cert: Buffer.from(cert, "base64"), key: Buffer.from(key, "base64") });
  } catch {
    return null;
  }
};
