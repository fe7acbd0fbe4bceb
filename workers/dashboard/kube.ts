/**
 * The dashboard's API client: every read and write goes through the Kubernetes-shaped
 * HTTP API (the same app, called in-process) with the signed-in user's own bearer token,
 * as kubectl would send it. The API authenticates, authorizes, validates and admits; the
 * dashboard never reaches the registry or the store around it.
 */
export type ApiFetch = (req: Request) => Promise<Response>;

export interface Status {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly status: Status,
  ) {
    super(status.message || `HTTP ${code}`);
  }
}

export const TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

export class Kube {
  constructor(
    private readonly api: ApiFetch,
    private readonly token: string,
  ) {}

  /** One request; the raw response (logs are streamed through). */
  async raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    const h = new Headers({ Accept: "application/json", ...headers, Authorization: `Bearer ${this.token}`, "User-Agent": "kubeflare-dashboard" });
    if (body !== undefined && !h.has("Content-Type")) h.set("Content-Type", "application/json");
    return this.api(
      new Request(`http://dashboard.internal${path}`, {
        method,
        headers: h,
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
        signal,
      }),
    );
  }

  async call<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    const res = await this.raw(method, path, body, headers);
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) throw new KubeError(res.status, json && typeof json === "object" ? json : { message: text.slice(0, 500) || `HTTP ${res.status}` });
    return json as T;
  }

  get = <T = any>(path: string, headers?: Record<string, string>) => this.call<T>("GET", path, undefined, headers);
  list = async (path: string): Promise<any[]> => (await this.get<{ items?: any[] }>(path)).items ?? [];
}

/** Path of a collection: core (`v1`) or a group's (`apps/v1`). */
export const collectionPath = (apiVersion: string, plural: string, namespace?: string): string => {
  const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `${base}/${plural}`;
};

/** What a Status says, in one line, with its causes. */
export const statusText = (e: unknown): string => {
  if (e instanceof KubeError) {
    const causes = e.status.details?.causes ?? [];
    const extra = causes.filter((c) => c.message && !(e.status.message ?? "").includes(c.message));
    return [e.status.message ?? `HTTP ${e.code}`, ...extra.map((c) => `${c.field ? `${c.field}: ` : ""}${c.message}`)].join("; ");
  }
  return (e as Error)?.message ?? String(e);
};
