/** The agent's HTTP client for the control plane: JSON requests and watch streams, like any client. */
import { Agent, fetch } from "undici";
import type { KObject, WatchEvent } from "../shared/types";

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  server: string;
  token: string;
  /** PEM of the CA that signed the server's certificate (self-hosted control planes) */
  caPem?: string;
  timeoutMs?: number;
}

export class ApiClient {
  private readonly dispatcher: Agent;

  constructor(private readonly o: ApiClientOptions) {
    this.dispatcher = new Agent({ connect: o.caPem ? { ca: o.caPem } : {}, keepAliveTimeout: 30_000 });
  }

  async request<T = any>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
    const res = await fetch(this.o.server + path, {
      method,
      dispatcher: this.dispatcher,
      headers: { Authorization: `Bearer ${this.o.token}`, Accept: "application/json", ...(body !== undefined ? { "Content-Type": contentType } : {}) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ApiRequestError(res.status, json?.reason ?? res.statusText, json?.message ?? text);
    return json as T;
  }

  get = (path: string) => this.request<KObject>("GET", path);

  /** GET, or null on 404. */
  async find(path: string): Promise<KObject | null> {
    try {
      return await this.get(path);
    } catch (e) {
      if (e instanceof ApiRequestError && e.status === 404) return null;
      throw e;
    }
  }

  /**
   * Watch a collection from `resourceVersion`, calling `onEvent` for each event, until
   * the server ends the stream, `signal` aborts, or an error (410 Expired included) ends it.
   */
  async watch(path: string, resourceVersion: string, onEvent: (ev: WatchEvent) => void, signal: AbortSignal, timeoutSeconds = 300): Promise<void> {
    const sep = path.includes("?") ? "&" : "?";
    const res = await fetch(`${this.o.server}${path}${sep}watch=true&allowWatchBookmarks=true&resourceVersion=${resourceVersion}&timeoutSeconds=${timeoutSeconds}`, {
      dispatcher: this.dispatcher,
      headers: { Authorization: `Bearer ${this.o.token}`, Accept: "application/json" },
      signal,
    });
    if (!res.ok || !res.body) {
      const text = await res.text();
      throw new ApiRequestError(res.status, res.statusText, text);
    }
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const ev = JSON.parse(line) as WatchEvent;
        if (ev.type === "ERROR") {
          const st = ev.object as unknown as { code?: number; reason?: string; message?: string };
          throw new ApiRequestError(st.code ?? 500, st.reason ?? "Error", st.message ?? "watch error");
        }
        onEvent(ev);
      }
    }
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
