/**
 * The local-path provisioner (k3s ships Rancher's; this is the agent's own), for the
 * StorageClasses whose provisioner is `kubeflare.dev/local-path`:
 *
 * - Provision: a claim of such a class that the scheduler gave this node
 *   (volume.kubernetes.io/selected-node) gets a directory
 *   `<data-dir>/storage/pvc-<claim uid>_<namespace>_<claim>` and a PersistentVolume
 *   `pvc-<claim uid>`: a `local` volume on that path, node affinity to this node alone,
 *   reserved for the claim (claimRef with its uid), the class's reclaim policy, the
 *   provisioned-by annotation, and the provisioner's finalizer. The PV controller binds
 *   the two. The agent finds such claims through its pods (the scheduler binds a pod
 *   with its claim's node at once), so the node credential needs no list of claims.
 * - Delete: a volume being deleted (the PV controller deletes a Released volume whose
 *   policy is Delete) loses its directory, then the finalizer, which lets it go. A
 *   retained volume's directory is kept when an administrator deletes it, as
 *   external-provisioner does for Retain. The agent looks at the volumes whose
 *   directories it holds every `sweepMs` (default 30 s): one GET per volume.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { KObject } from "../../shared/types";
import type { ApiClient } from "../api";
import { ApiRequestError } from "../api";
import { sleep } from "../sleep";

export const LOCAL_PATH = "kubeflare.dev/local-path";
export const ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node";
export const ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";
/** the finalizer a provisioner puts on its volumes (external-provisioner's name) */
export const PROVISIONER_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer";

const DIR_RE = /^pvc-([0-9a-f-]{36})_/;

export interface LocalPathOptions {
  api: Pick<ApiClient, "find" | "request">;
  nodeName: string;
  dataDir: string;
  log(msg: string): void;
  /** how often the volumes of the directories held are looked at (default 30 s) */
  sweepMs?: number;
}

export class LocalPathProvisioner {
  /** claim uids whose volume was created (or found) by this agent */
  private readonly made = new Set<string>();

  constructor(private readonly o: LocalPathOptions) {}

  get root(): string {
    return join(this.o.dataDir, "storage");
  }

  /** The directory of a claim's volume. */
  dirOf(claim: KObject): string {
    return join(this.root, `pvc-${claim.metadata.uid}_${claim.metadata.namespace}_${claim.metadata.name}`);
  }

  /**
   * Provision the claim on this node if it is this provisioner's to do: unbound, its
   * class is local-path, and the scheduler picked this node. True when it did (or had).
   */
  async provisionIfMine(claim: KObject): Promise<boolean> {
    if (claim.spec?.volumeName || claim.metadata.deletionTimestamp) return false;
    if (claim.metadata.annotations?.[ANN_SELECTED_NODE] !== this.o.nodeName) return false;
    const uid = claim.metadata.uid!;
    if (this.made.has(uid)) return true;
    const clsName = claim.spec?.storageClassName;
    if (!clsName) return false;
    const cls = await this.o.api.find(`/apis/storage.k8s.io/v1/storageclasses/${encodeURIComponent(clsName)}`);
    if (cls?.provisioner !== LOCAL_PATH) return false;
    const dir = this.dirOf(claim);
    mkdirSync(dir, { recursive: true });
    // any user of any container may write (local-path's default: the pod's uid is not known here)
    chmodSync(dir, 0o777);
    const pv: KObject = {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: `pvc-${uid}`, annotations: { [ANN_PROVISIONED_BY]: LOCAL_PATH }, finalizers: [PROVISIONER_FINALIZER] },
      spec: {
        capacity: { storage: claim.spec?.resources?.requests?.storage },
        accessModes: claim.spec?.accessModes,
        persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? "Delete",
        storageClassName: clsName,
        volumeMode: "Filesystem",
        claimRef: {
          kind: "PersistentVolumeClaim",
          apiVersion: "v1",
          namespace: claim.metadata.namespace,
          name: claim.metadata.name,
          uid,
          resourceVersion: claim.metadata.resourceVersion,
        },
        local: { path: dir },
        nodeAffinity: {
          required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [this.o.nodeName] }] }] },
        },
        ...(Array.isArray(cls.mountOptions) ? { mountOptions: cls.mountOptions } : {}),
      },
    };
    try {
      await this.o.api.request("POST", "/api/v1/persistentvolumes", pv);
      this.o.log(`local-path: provisioned ${pv.metadata.name} for ${claim.metadata.namespace}/${claim.metadata.name} at ${dir}`);
    } catch (e) {
      if (!(e instanceof ApiRequestError && e.status === 409)) throw e;
    }
    this.made.add(uid);
    return true;
  }

  /** One look at every volume whose directory this node holds: a volume being deleted loses its directory, then its finalizer. */
  async sweep(): Promise<void> {
    if (!existsSync(this.root)) return;
    for (const entry of readdirSync(this.root)) {
      const m = DIR_RE.exec(entry);
      if (!m) continue;
      const name = `pvc-${m[1]}`;
      const pv = await this.o.api.find(`/api/v1/persistentvolumes/${name}`);
      if (!pv?.metadata.deletionTimestamp) continue;
      const finalizers: string[] = pv.metadata.finalizers ?? [];
      if (pv.spec?.persistentVolumeReclaimPolicy === "Delete") {
        rmSync(join(this.root, entry), { recursive: true, force: true });
        this.o.log(`local-path: deleted ${name} (${entry})`);
      }
      this.made.delete(m[1]);
      if (finalizers.includes(PROVISIONER_FINALIZER)) await this.release(pv);
    }
  }

  /**
   * Take this provisioner's finalizer off a volume whose storage is gone. The volume
   * controller writes the same object at the same time (Released, pv-protection), so a
   * 409 reads it again and retries, as client-go's RetryOnConflict does; a volume gone
   * meanwhile needs nothing; after a few lost races the next sweep looks again.
   */
  async release(first: KObject): Promise<void> {
    let pv: KObject | null = first;
    for (let attempt = 0; pv && attempt < 5; attempt++) {
      const finalizers: string[] = pv.metadata.finalizers ?? [];
      if (!finalizers.includes(PROVISIONER_FINALIZER)) return;
      try {
        await this.o.api.request("PUT", `/api/v1/persistentvolumes/${pv.metadata.name}`, {
          ...pv,
          metadata: { ...pv.metadata, finalizers: finalizers.filter((f) => f !== PROVISIONER_FINALIZER) },
        });
        return;
      } catch (e) {
        if (!(e instanceof ApiRequestError && (e.status === 404 || e.status === 409))) throw e;
        if (e.status === 404) return;
      }
      pv = await this.o.api.find(`/api/v1/persistentvolumes/${pv.metadata.name}`);
    }
  }

  /** until when the sweeps come every 2 s (a pod with claims went: its claim may be deleted next) */
  private fastUntil = 0;
  private wake?: () => void;

  /** A pod that mounted claims is gone: look every 2 s for a minute (its claim's deletion usually follows). */
  nudge(): void {
    this.fastUntil = Date.now() + 60_000;
    this.wake?.();
  }

  /** Sweep every `sweepMs` (every 2 s for a minute after a nudge) until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(Date.now() < this.fastUntil ? 2000 : (this.o.sweepMs ?? 30_000), signal, (wake) => (this.wake = wake));
      this.wake = undefined;
      if (signal.aborted) break;
      try {
        await this.sweep();
      } catch (e) {
        this.o.log(`local-path: sweep failed: ${(e as Error).message}`);
      }
    }
  }
}
