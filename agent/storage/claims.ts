/**
 * A pod's persistentVolumeClaim volumes on the node, as kubelet's volume manager finds
 * them: the claim must exist and be Bound (the agent waits, ContainerCreating, until
 * it is; it provisions it first when it is the claim's local-path provisioner), and its
 * volume's directory is what the containers mount: `local.path`, or `hostPath.path`
 * (made first for DirectoryOrCreate). A resolved claim is kept for the pod's life (a
 * bound claim's volume does not change); one still waiting is read again at most every
 * second.
 */
import { mkdirSync } from "node:fs";
import type { KObject } from "../../shared/types";
import type { ApiClient } from "../api";
import { ConfigError } from "../env";
import type { LocalPathProvisioner } from "./localpath";

/** how soon a claim that was not ready is read again */
const CLAIM_RETRY_MS = 1000;

export interface ClaimContext {
  api: Pick<ApiClient, "find">;
  now(): number;
  provisioner?: LocalPathProvisioner;
}

/** A claim not ready for the pod yet: the message, and whether it deserves a FailedMount warning (not while provisioning here). */
export class ClaimNotReady extends ConfigError {
  constructor(
    message: string,
    readonly quiet: boolean,
  ) {
    super(message);
  }
}

export class ClaimVolumes {
  /** per pod uid: volume name → host directory */
  private readonly resolved = new Map<string, Map<string, string>>();
  /** per pod uid/volume: when it was last tried, and why it was not ready */
  private readonly waiting = new Map<string, { at: number; error: ClaimNotReady }>();

  constructor(private readonly ctx: ClaimContext) {}

  /** The host directory of the pod's claim volume `v`; throws ClaimNotReady until it can be mounted. */
  async path(pod: KObject, v: { name: string; persistentVolumeClaim: { claimName: string } }): Promise<string> {
    const uid = pod.metadata.uid!;
    const done = this.resolved.get(uid)?.get(v.name);
    if (done) return done;
    const key = `${uid}/${v.name}`;
    const last = this.waiting.get(key);
    if (last && this.ctx.now() - last.at < CLAIM_RETRY_MS) throw last.error;
    try {
      const dir = await this.resolve(pod, v.persistentVolumeClaim.claimName);
      this.waiting.delete(key);
      let m = this.resolved.get(uid);
      if (!m) this.resolved.set(uid, (m = new Map()));
      m.set(v.name, dir);
      return dir;
    } catch (e) {
      if (e instanceof ClaimNotReady) this.waiting.set(key, { at: this.ctx.now(), error: e });
      throw e;
    }
  }

  private async resolve(pod: KObject, claimName: string): Promise<string> {
    const ns = pod.metadata.namespace ?? "default";
    const claim = await this.ctx.api.find(`/api/v1/namespaces/${encodeURIComponent(ns)}/persistentvolumeclaims/${encodeURIComponent(claimName)}`);
    if (!claim) throw new ClaimNotReady(`persistentvolumeclaim "${claimName}" not found`, false);
    if (claim.metadata.deletionTimestamp) throw new ClaimNotReady(`persistentvolumeclaim "${claimName}" is being deleted`, false);
    if (claim.status?.phase !== "Bound" || !claim.spec?.volumeName) {
      const mine = (await this.ctx.provisioner?.provisionIfMine(claim)) ?? false;
      throw new ClaimNotReady(`error processing PVC ${ns}/${claimName}: PVC is not bound`, mine);
    }
    const pv = await this.ctx.api.find(`/api/v1/persistentvolumes/${encodeURIComponent(claim.spec.volumeName)}`);
    if (!pv) throw new ClaimNotReady(`error processing PVC ${ns}/${claimName}: persistentvolume "${claim.spec.volumeName}" not found`, false);
    if (pv.spec?.local?.path) return pv.spec.local.path;
    if (pv.spec?.hostPath?.path) {
      if (pv.spec.hostPath.type === "DirectoryOrCreate") mkdirSync(pv.spec.hostPath.path, { recursive: true });
      return pv.spec.hostPath.path;
    }
    throw new ClaimNotReady(`persistentvolume "${pv.metadata.name}": no volume source this node can mount (hostPath or local)`, false);
  }

  /** The pod is gone (the provisioner looks sooner for volumes to delete, if it mounted claims). */
  forget(uid: string): void {
    if (this.resolved.delete(uid)) this.ctx.provisioner?.nudge();
    for (const k of this.waiting.keys()) if (k.startsWith(`${uid}/`)) this.waiting.delete(k);
  }
}
