/**
 * A pod's volumes on the node, as kubelet's volume manager sets them up: a hostPath
 * is the host's directory (made first for DirectoryOrCreate); emptyDir, ConfigMap and
 * Secret volumes are directories under the agent's data dir (`pods/<uid>/volumes/<name>`),
 * the last two filled with the object's keys as files. The pod's directory goes when
 * the pod does.
 */
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { KObject } from "../shared/types";
import type { ApiClient } from "./api";
import { ConfigError } from "./env";
import { RETRY_EVENT_MS, type RetryEvents } from "./events";
import type { Mount } from "./runtime/runtime";

/** how often ConfigMap and Secret volumes are read again from the API (kubelet's --sync-frequency: a minute) */
const VOLUME_REFRESH_MS = 60_000;

export interface VolumeContext {
  api: Pick<ApiClient, "find">;
  dataDir: string;
  now(): number;
  /** how often ConfigMap/Secret volumes are refreshed from the API (default a minute) */
  volumeRefreshMs?: number;
}

export class PodVolumes {
  /** per pod uid: when its ConfigMap/Secret volumes were last read, and the error if one was missing */
  private readonly volumesAt = new Map<string, { at: number; error?: Error }>();

  constructor(
    private readonly ctx: VolumeContext,
    private readonly events: RetryEvents,
  ) {}

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
    const ns = pod.metadata.namespace!;
    const now = this.ctx.now();
    const last = this.volumesAt.get(uid);
    const refresh = !last || now - last.at >= (last.error ? RETRY_EVENT_MS : (this.ctx.volumeRefreshMs ?? VOLUME_REFRESH_MS));
    if (!refresh && last?.error) throw last.error;
    const out = new Map<string, string>();
    for (const v of pod.spec?.volumes ?? []) {
      if (v.hostPath) {
        if (v.hostPath.type === "DirectoryOrCreate") mkdirSync(v.hostPath.path, { recursive: true });
        out.set(v.name, v.hostPath.path);
        continue;
      }
      const dir = join(base, v.name);
      out.set(v.name, dir);
      mkdirSync(dir, { recursive: true });
      const src = v.configMap ?? v.secret;
      if (!src || !refresh) continue;
      const kind = v.configMap ? "configmaps" : "secrets";
      const name = v.configMap?.name ?? v.secret?.secretName;
      const obj = await this.ctx.api.find(`/api/v1/namespaces/${ns}/${kind}/${name}`);
      if (!obj) {
        if (src.optional) continue;
        const error = new ConfigError(`${kind === "configmaps" ? "configmap" : "secret"} "${name}" not found`);
        this.volumesAt.set(uid, { at: now, error });
        this.events.emit(pod, "", "Warning", "FailedMount", `MountVolume.SetUp failed for volume "${v.name}" : ${error.message}`);
        throw error;
      }
      const data: Record<string, string> = obj.data ?? {};
      const items: { key: string; path: string; mode?: number }[] = src.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      const mode = src.defaultMode ?? 0o644;
      for (const it of items) {
        const file = join(dir, it.path);
        mkdirSync(dirname(file), { recursive: true });
        const val = data[it.key] ?? "";
        const tmp = join(dirname(file), `..${basename(file)}.tmp`);
        writeFileSync(tmp, kind === "secrets" ? Buffer.from(val, "base64") : val, { mode: it.mode ?? mode });
        chmodSync(tmp, it.mode ?? mode);
        renameSync(tmp, file);
      }
      // keys that left the object leave the volume
      const keep = new Set(items.map((it) => it.path.split("/")[0]));
      for (const entry of readdirSync(dir)) if (!keep.has(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
    }
    if (refresh) this.volumesAt.set(uid, { at: now });
    return out;
  }

  /** The pod is gone: its directory (and the volumes in it) goes too. */
  forget(uid: string): void {
    rmSync(join(this.ctx.dataDir, "pods", uid), { recursive: true, force: true });
    this.volumesAt.delete(uid);
  }
}

/** The container's volumeMounts on the host directories `vols` (ConfigMap and Secret volumes always read-only). */
export const containerMounts = (pod: KObject, c: any, vols: Map<string, string>): Mount[] =>
  (c.volumeMounts ?? []).map((m: any) => ({
    hostPath: join(vols.get(m.name) ?? "/nonexistent", m.subPath ?? ""),
    containerPath: m.mountPath,
    readOnly: !!m.readOnly || !!pod.spec.volumes?.find((v: any) => v.name === m.name && (v.configMap || v.secret)),
  }));
