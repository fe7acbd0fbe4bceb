/**
 * The agent's HTTP client for the control plane: JSON requests and watch streams, like
 * any client. Built on node:https (keep-alive, the cluster's CA) rather than an HTTP
 * library: the agent lives on small boxes, and every module it loads costs memory.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
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

const readAll = async (res: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

export class ApiClient {
  private readonly url: URL;
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(private readonly o: ApiClientOptions) {
    this.url = new URL(o.server);
    this.agent = this.url.protocol === "https:" ? new HttpsAgent({ keepAlive: true, ...(o.caPem ? { ca: o.caPem } : {}) }) : new HttpAgent({ keepAlive: true });
  }

  /** Send a request; resolves with the response once its headers are in. */
  private send(method: string, path: string, body: string | undefined, headers: Record<string, string>, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = (this.url.protocol === "https:" ? httpsRequest : httpRequest)(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname.replace(/^\[|\]$/g, ""),
          port: this.url.port || undefined,
          path: this.url.pathname.replace(/\/$/, "") + path,
          method,
          agent: this.agent,
          signal,
          headers: {
            Authorization: `Bearer ${this.o.token}`,
            Accept: "application/json",
            ...headers,
            ...(body !== undefined ? { "Content-Length": String(Buffer.byteLength(body)) } : {}),
          },
        },
        resolve,
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  async request<T = any>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
    const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const signal = AbortSignal.timeout(this.o.timeoutMs ?? 30_000);
    const res = await this.send(method, path, text, text !== undefined ? { "Content-Type": contentType } : {}, signal);
    const raw = await readAll(res);
    let json: any;
    try {
      json = raw ? JSON.parse(raw) : undefined;
    } catch {
      json = undefined;
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw new ApiRequestError(status, json?.reason ?? res.statusMessage ?? "", json?.message ?? raw);
    return json as T;
  }

  /** the control plane's URL and the CA it is trusted with, never the credential (the API relay forwards pods' own requests there) */
  get upstream(): { server: string; caPem?: string } {
    return { server: this.o.server, caPem: this.o.caPem };
  }

  /** where and as whom the agent connects (its tunnel opens WebSockets with the same credential and CA) */
  get credentials(): { server: string; token: string; caPem?: string } {
    return { server: this.o.server, token: this.o.token, caPem: this.o.caPem };
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
    const res = await this.send(
      "GET",
      `${path}${sep}watch=true&allowWatchBookmarks=true&resourceVersion=${resourceVersion}&timeoutSeconds=${timeoutSeconds}`,
      undefined,
      {},
      signal,
    );
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const text = await readAll(res);
      let st: { reason?: string; message?: string } = {};
      try {
        st = JSON.parse(text);
      } catch {
        // not a Status
      }
      throw new ApiRequestError(status, st.reason ?? res.statusMessage ?? "", st.message ?? text);
    }
    let buf = "";
    res.setEncoding("utf8");
    for await (const chunk of res) {
      buf += chunk as string;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const ev = JSON.parse(line) as WatchEvent;
        if (ev.type === "ERROR") {
          const st = ev.object as unknown as { code?: number; reason?: string; message?: string };
          res.destroy();
          throw new ApiRequestError(st.code ?? 500, st.reason ?? "Error", st.message ?? "watch error");
        }
        onEvent(ev);
      }
    }
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
