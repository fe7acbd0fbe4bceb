/**
 * A pod's volumes on the node, as kubelet's volume manager sets them up: a hostPath
 * is the host's directory (made first for DirectoryOrCreate); emptyDir, ConfigMap,
 * Secret, downward API and projected volumes are directories under the agent's data
 * dir (`pods/<uid>/volumes/<name>`), the others filled with files: the objects' keys
 * (all, or the `items` asked for, with their modes), the pod's fields, or for a
 * projected volume all of its sources' files in one directory (the kube-api-access
 * volume: ca.crt from kube-root-ca.crt, and namespace); a persistentVolumeClaim is its
 * bound volume's directory, once the claim is Bound (storage/claims.ts; the agent
 * provisions local-path claims given to its node first). The pod's directory goes when
 * the pod does; a claim's volume stays.
 */
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { KObject } from "../shared/types";
import type { ApiClient } from "./api";
import { ConfigError } from "./env";
import type { RetryEvents } from "./events";
import type { Mount } from "./runtime/runtime";
import { ClaimNotReady, ClaimVolumes } from "./storage/claims";
import type { LocalPathProvisioner } from "./storage/localpath";
import { TokenManager } from "./tokens";
import type { WatchedObjects } from "./watchedobjects";

/** how often ConfigMap and Secret volumes are read again from the API (kubelet's --sync-frequency: a minute) */
const VOLUME_REFRESH_MS = 60_000;
/** how soon a volume whose ConfigMap or Secret was missing is tried again (its FailedMount events are throttled apart) */
const VOLUME_RETRY_MS = 1000;

export interface VolumeContext {
  /** `request`: for the bound ServiceAccount tokens of projected volumes (tokens.ts) */
  api: Pick<ApiClient, "find"> & Partial<Pick<ApiClient, "request">>;
  dataDir: string;
  now(): number;
  /** how often ConfigMap/Secret volumes are refreshed from the API (default a minute) */
  volumeRefreshMs?: number;
  /** the node's local-path provisioner (claims given to this node are provisioned before they are mounted) */
  provisioner?: LocalPathProvisioner;
  /** ConfigMaps and Secrets kept current by a watch each: a refresh reads them from memory (watchedobjects.ts) */
  watched?: WatchedObjects;
}

export class PodVolumes {
  /** per pod uid: when its ConfigMap/Secret volumes were last read, and the error if one was missing */
  private readonly volumesAt = new Map<string, { at: number; error?: Error }>();
  /**
   * ConfigMaps and Secrets as last read, by path: a pod's periodic refresh uses a copy
   * younger than the refresh interval (read for another pod), as kubelet's cache-based
   * ConfigMap/Secret manager does, so pods that share one (every pod mounts its
   * namespace's kube-root-ca.crt) cost one read per interval, not one each. A pod's
   * first setup always reads afresh.
   */
  private readonly objects = new Map<string, { at: number; obj: Promise<KObject | null> }>();
  /** the pods' persistentVolumeClaim volumes */
  private readonly claims: ClaimVolumes;

  /** bound ServiceAccount tokens (the kube-api-access volume's `token`), refreshed at 80 % of their lifetime */
  private readonly tokens?: TokenManager;
  /** per volume directory: the files last written there, so a refresh that changes nothing writes nothing */
  private readonly written = new Map<string, Map<string, VolumeFile>>();

  constructor(
    private readonly ctx: VolumeContext,
    private readonly events: RetryEvents,
  ) {
    this.claims = new ClaimVolumes({ api: ctx.api, now: ctx.now, provisioner: ctx.provisioner });
    const api = ctx.api;
    if (api.request) this.tokens = new TokenManager({ api: { request: api.request.bind(api) as ApiClient["request"] }, now: () => ctx.now() });
  }

  /**
   * Prepare the pod's volumes on disk; returns the host directory of each. ConfigMap
   * and Secret contents are read from the API when the pod first syncs and then about
   * once a minute (kubelet's cadence), not on every sync, and written file by file
   * with a rename so a container never reads half a file. Throws ConfigError (and
   * records FailedMount) while a required ConfigMap or Secret is missing.
   */
  async setUp(pod: KObject): Promise<Map<string, string>> {
    const uid = pod.metadata.uid!;
    const base = join(this.ctx.dataDir, "pods", uid, "volumes");
    const now = this.ctx.now();
    const last = this.volumesAt.get(uid);
    const refresh = !last || now - last.at >= (last.error ? VOLUME_RETRY_MS : (this.ctx.volumeRefreshMs ?? VOLUME_REFRESH_MS));
    if (!refresh && last?.error) throw last.error;
    const out = new Map<string, string>();
    // claims first: while one waits to be bound, nothing else is set up (or read again)
    for (const v of pod.spec?.volumes ?? []) {
      if (!v.persistentVolumeClaim) continue;
      try {
        out.set(v.name, await this.claims.path(pod, v));
      } catch (e) {
        if (e instanceof ClaimNotReady && !e.quiet)
          this.events.emit(pod, "", "Warning", "FailedMount", `Unable to attach or mount volumes: unmounted volumes=[${v.name}]: ${e.message}`);
        throw e;
      }
    }
    for (const v of pod.spec?.volumes ?? []) {
      if (v.persistentVolumeClaim) continue;
      if (v.hostPath) {
        if (v.hostPath.type === "DirectoryOrCreate") mkdirSync(v.hostPath.path, { recursive: true });
        out.set(v.name, v.hostPath.path);
        continue;
      }
      const dir = join(base, v.name);
      out.set(v.name, dir);
      mkdirSync(dir, { recursive: true });
      if (!refresh || !(v.configMap || v.secret || v.downwardAPI || v.projected)) continue;
      let files: Map<string, VolumeFile>;
      try {
        files = await this.payload(pod, v, !last || !!last.error);
      } catch (e) {
        // the control plane out of reach: a volume set up before keeps its files (kubelet
        // serves them from its cache), so containers still start while the node is cut off
        if (!(e instanceof ConfigError) && last && !last.error) continue;
        if (!(e instanceof ConfigError)) throw e;
        this.volumesAt.set(uid, { at: now, error: e });
        this.events.emit(pod, "", "Warning", "FailedMount", `MountVolume.SetUp failed for volume "${v.name}" : ${e.message}`);
        throw e;
      }
      writeVolume(dir, files, this.written.get(dir));
      this.written.set(dir, files);
    }
    if (refresh) this.volumesAt.set(uid, { at: now });
    return out;
  }

  /**
   * The files of a ConfigMap, Secret, downward API or projected volume, as kubelet's
   * AtomicWriter payload: path -> content and mode. A missing object or key that is
   * not optional is a ConfigError (kubelet's messages).
   */
  private async payload(pod: KObject, v: any, fresh: boolean): Promise<Map<string, VolumeFile>> {
    const files = new Map<string, VolumeFile>();
    const mode = (m: unknown, fallback: number) => (Number.isInteger(m) ? (m as number) : fallback);
    if (v.configMap || v.secret) {
      const src = v.configMap ?? v.secret;
      await this.objectFiles(
        pod,
        v.configMap ? "configmaps" : "secrets",
        { ...src, name: src.name ?? src.secretName },
        mode(src.defaultMode, 0o644),
        files,
        fresh,
      );
    } else if (v.downwardAPI) {
      downwardFiles(pod, v.downwardAPI.items, mode(v.downwardAPI.defaultMode, 0o644), files);
    } else if (v.projected) {
      const def = mode(v.projected.defaultMode, 0o644);
      for (const s of v.projected.sources ?? []) {
        if (s.configMap) await this.objectFiles(pod, "configmaps", s.configMap, def, files, fresh);
        else if (s.secret) await this.objectFiles(pod, "secrets", s.secret, def, files, fresh);
        else if (s.downwardAPI) downwardFiles(pod, s.downwardAPI.items, def, files);
        else if (s.serviceAccountToken && this.tokens) {
          const t = s.serviceAccountToken;
          files.set(t.path, { content: Buffer.from(await this.tokens.token(pod, t)), mode: def });
        }
        // clusterTrustBundle sources: not in Kubeflare; nothing to write
      }
    }
    return files;
  }

  private async objectFiles(
    pod: KObject,
    kind: "configmaps" | "secrets",
    src: { name?: string; items?: { key: string; path: string; mode?: number }[]; optional?: boolean },
    defaultMode: number,
    files: Map<string, VolumeFile>,
    fresh: boolean,
  ): Promise<void> {
    const what = kind === "configmaps" ? "configmap" : "secret";
    const path = `/api/v1/namespaces/${pod.metadata.namespace}/${kind}/${src.name}`;
    const now = this.ctx.now();
    const cached = this.objects.get(path);
    let read: Promise<KObject | null>;
    // a refresh takes the watched copy once its watch has listed (kubelet's Watch strategy); a first setup reads afresh
    const watched = this.ctx.watched?.get(kind, pod.metadata.namespace ?? "", src.name ?? "");
    if (!fresh && watched !== undefined) read = Promise.resolve(watched);
    else if (!fresh && cached && now - cached.at < (this.ctx.volumeRefreshMs ?? VOLUME_REFRESH_MS)) read = cached.obj;
    else {
      // kept before it is answered: pods refreshing at the same moment share the one read
      read = this.ctx.api.find(path);
      const entry = { at: now, obj: read };
      this.objects.set(path, entry);
      read.then(
        (o) => {
          if (!o && this.objects.get(path) === entry) this.objects.delete(path);
        },
        () => {
          if (this.objects.get(path) === entry) this.objects.delete(path);
        },
      );
    }
    const obj = await read;
    if (!obj) {
      if (src.optional) return;
      throw new ConfigError(`${what} "${src.name}" not found`);
    }
    const data: Record<string, string> = obj.data ?? {};
    const decode = (val: string) => (kind === "secrets" ? Buffer.from(val, "base64") : Buffer.from(val));
    const binary: Record<string, string> = kind === "configmaps" ? (obj.binaryData ?? {}) : {};
    const items: { key: string; path: string; mode?: number }[] =
      src.items ?? [...Object.keys(data), ...Object.keys(binary)].map((key) => ({ key, path: key }));
    for (const it of items) {
      const val = it.key in data ? decode(data[it.key]) : it.key in binary ? Buffer.from(binary[it.key], "base64") : undefined;
      if (val === undefined) {
        if (src.optional) continue;
        throw new ConfigError(`${what} references non-existent ${kind === "configmaps" ? "config " : "secret "}key: ${it.key}`);
      }
      files.set(it.path, { content: val, mode: Number.isInteger(it.mode) ? it.mode! : defaultMode });
    }
  }

  /** The pod is gone: its directory (and the volumes in it) goes too. */
  forget(uid: string): void {
    const podDir = join(this.ctx.dataDir, "pods", uid);
    rmSync(podDir, { recursive: true, force: true });
    for (const dir of this.written.keys()) if (dir.startsWith(`${podDir}/`)) this.written.delete(dir);
    this.volumesAt.delete(uid);
    this.claims.forget(uid);
    this.tokens?.forget(uid);
    // copies nobody could still use go too
    const now = this.ctx.now();
    for (const [path, c] of this.objects) if (now - c.at >= (this.ctx.volumeRefreshMs ?? VOLUME_REFRESH_MS)) this.objects.delete(path);
  }
}

/** The container's volumeMounts on the host directories `vols` (ConfigMap, Secret, downward API and projected volumes always read-only, claims when the pod says so). */
export const containerMounts = (pod: KObject, c: any, vols: Map<string, string>): Mount[] =>
  (c.volumeMounts ?? []).map((m: any) => ({
    hostPath: join(vols.get(m.name) ?? "/nonexistent", m.subPath ?? ""),
    containerPath: m.mountPath,
    readOnly:
      !!m.readOnly ||
      !!pod.spec.volumes?.find((v: any) => v.name === m.name && (v.configMap || v.secret || v.downwardAPI || v.projected || v.persistentVolumeClaim?.readOnly)),
  }));

export interface VolumeFile {
  content: Buffer;
  mode: number;
}

/** Go's %q of a string, as kubelet writes label and annotation values */
const quote = (s: string) => JSON.stringify(s).replace(/\\u00([0-7][0-9a-f])/g, "\\x$1");

/** a pod field as the downward API writes it (metadata.labels/annotations: `key="value"` lines, sorted) */
export const downwardValue = (pod: KObject, fieldPath: string): string => {
  const meta = pod.metadata;
  const map = (m: Record<string, string> | undefined) =>
    Object.keys(m ?? {})
      .sort()
      .map((k) => `${k}=${quote(String(m![k]))}\n`)
      .join("");
  const one = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (one) return String((meta[one[1] as "labels" | "annotations"] as Record<string, string> | undefined)?.[one[2]] ?? "");
  switch (fieldPath) {
    case "metadata.name":
      return meta.name ?? "";
    case "metadata.namespace":
      return meta.namespace ?? "";
    case "metadata.uid":
      return meta.uid ?? "";
    case "metadata.labels":
      return map(meta.labels);
    case "metadata.annotations":
      return map(meta.annotations);
    default:
      throw new ConfigError(`unsupported fieldPath: ${fieldPath}`);
  }
};

const downwardFiles = (pod: KObject, items: any[] | undefined, defaultMode: number, files: Map<string, VolumeFile>) => {
  for (const it of items ?? []) {
    // resourceFieldRef (container limits and requests) is not in Kubeflare's downward API yet
    if (!it?.fieldRef?.fieldPath) continue;
    files.set(it.path, { content: Buffer.from(downwardValue(pod, it.fieldRef.fieldPath)), mode: Number.isInteger(it.mode) ? it.mode : defaultMode });
  }
};

/**
 * Write a volume's files into its directory, each through a temporary file and a
 * rename (a container never reads half a file), and remove what is no longer in it.
 * `before`, the files this process last wrote there: those unchanged are left alone
 * (the periodic refresh of an unchanged ConfigMap or Secret costs no write).
 */
export const writeVolume = (dir: string, files: Map<string, VolumeFile>, before?: Map<string, VolumeFile>): void => {
  for (const [path, f] of files) {
    const was = before?.get(path);
    if (was && was.mode === f.mode && was.content.equals(f.content)) continue;
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    const tmp = join(dirname(file), `..${basename(file)}.tmp`);
    writeFileSync(tmp, f.content, { mode: f.mode });
    chmodSync(tmp, f.mode);
    renameSync(tmp, file);
  }
  // keys that left the object leave the volume
  if (before && before.size === files.size && [...files.keys()].every((p) => before.has(p))) return;
  const keep = new Set([...files.keys()].map((p) => p.split("/")[0]));
  for (const entry of readdirSync(dir)) if (!keep.has(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
};
