/**
 * Joining nodes: an admin makes a join token (a bootstrap-token Secret in
 * kube-system), an agent trades it for a credential of its own node, and requests
 * with that credential authenticate as `system:node:<name>` (tokens.ts has the
 * token formats and checks).
 */
import type { ResourceInfo } from "../../shared/resources";
import { newEvent } from "../../shared/events";
import { ApiError } from "../../shared/status";
import type { KObject } from "../../shared/types";
import { authorize } from "./auth";
import { resourceByKind, resourceByName } from "./kinds";
import { randomSuffix } from "./meta";
import type { RegistryCore } from "./types";
import {
  CREDENTIAL_TYPE,
  bootstrapSecretName,
  countJoin,
  newBootstrapToken,
  newNodeCredential,
  nodeOfCredential,
  parseJoinRequest,
  parseTokenOptions,
  replaceableNode,
  verifyBootstrapToken,
  verifyNodeCredential,
} from "./tokens";
import { SYSTEM_USER, type User } from "./user";

/**
 * The hashes of node credentials, kept a short while (per isolate on Workers, per
 * server on Node) so that a node's requests do not each spend a database read on the
 * credential. Only hashes of Secrets that exist are kept, at most `max` of them. A
 * credential revoked elsewhere (its Secret deleted or replaced by another isolate)
 * stops working within `ttlMs`; in this isolate at once (NodeCredentials.forget).
 */
export class CredentialCache {
  private readonly entries = new Map<string, { hash: string; until: number }>();
  constructor(
    readonly ttlMs = 10_000,
    private readonly max = 1000,
  ) {}

  get(node: string, now: number): string | undefined {
    const e = this.entries.get(node);
    if (e && e.until > now) return e.hash;
    if (e) this.entries.delete(node);
    return undefined;
  }

  set(node: string, hash: string, now: number): void {
    this.entries.delete(node);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(node, { hash, until: now + this.ttlMs });
  }

  delete(node: string): void {
    this.entries.delete(node);
  }
}

export class NodeCredentials {
  private readonly secrets: ResourceInfo = resourceByName("secrets");

  constructor(
    private readonly registry: RegistryCore,
    private readonly cache = new CredentialCache(),
  ) {}

  /** A write of a Secret: if it is a node credential's, what this isolate kept of it goes. */
  forget(secret: KObject): void {
    const name = secret.metadata.name ?? "";
    if (secret.metadata.namespace === "kube-system" && name.startsWith("node-credential-")) this.cache.delete(name.slice("node-credential-".length));
  }

  /**
   * An admin makes a join token (a bootstrap-token Secret in kube-system): single-use
   * unless `maxNodes` says more, and allowed to replace one existing node only when
   * `allowReplace` names it. `options` is the request body, checked here (400 per field).
   */
  async createBootstrapToken(
    user: User,
    options: unknown = {},
  ): Promise<{ token: string; expiration: string; usages: string[]; maxNodes: number; allowReplace?: string }> {
    authorize(user, "create", this.secrets, "kube-system");
    const opts = parseTokenOptions(options);
    const { token, secret } = newBootstrapToken(opts, this.registry.now());
    await this.registry.create(user, this.secrets, "kube-system", secret);
    return {
      token,
      expiration: atob(secret.data.expiration),
      usages: opts.usages,
      maxNodes: opts.maxNodes,
      ...(opts.allowReplace ? { allowReplace: opts.allowReplace } : {}),
    };
  }

  /** 401 unless `joinToken` is a bootstrap token that can still be used now; its Secret otherwise. */
  async checkJoinToken(joinToken: string): Promise<KObject> {
    const stored = /^[a-z0-9]{6}\./.test(joinToken)
      ? await this.registry.store.get({ resource: "secrets", namespace: "kube-system", name: bootstrapSecretName(joinToken) })
      : null;
    verifyBootstrapToken(joinToken, stored, this.registry.now());
    return stored!;
  }

  /**
   * An agent trades a join token for a credential of its own node. The token must be
   * valid and not used up (401); the name valid (400). A name that an existing Node
   * already has is refused (409): joining under it would revoke that node's credential
   * and hand over its identity (labels, pods, the Secrets they use). Only a token the
   * admin made with allowReplace naming that node, presented with forceReplace, may
   * replace it (403 when forceReplace lacks that allowance); the replacement is recorded
   * as a Warning Event `NodeReplaced` on the Node. Each join counts against the token's
   * max-nodes with a compare-and-swap on its Secret, so of concurrent joins with a
   * single-use token exactly one wins; a refused join does not use the token up.
   */
  async join(joinToken: string, nodeName: unknown, opts: { forceReplace?: unknown } = {}): Promise<{ nodeName: string; token: string }> {
    let stored = await this.checkJoinToken(joinToken);
    const req = parseJoinRequest(nodeName, opts.forceReplace);
    const node = await this.registry.store.get({ resource: "nodes", namespace: "", name: req.nodeName });
    if (node) this.admitReplacement(node, stored, req.forceReplace);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.registry.update(SYSTEM_USER, this.secrets, "kube-system", stored.metadata.name!, countJoin(stored));
        break;
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === "Conflict") || attempt >= 20) throw e;
        // another join (or an admin) changed the token first: look again
        stored = await this.checkJoinToken(joinToken);
      }
    }
    const cred = await this.issue(req.nodeName);
    if (node) {
      await this.recordEvent(
        node,
        "Warning",
        "NodeReplaced",
        `Node ${req.nodeName} was replaced by a join with token ${stored.metadata.name}: the previous credential of this node no longer works`,
      );
    }
    return cred;
  }

  /** Whether a join may replace this existing node: 409 or 403 with what the admin can do. */
  private admitReplacement(node: KObject, token: KObject, forceReplace: boolean): void {
    const name = node.metadata.name!;
    const ready = (node.status?.conditions ?? []).find((c: any) => c?.type === "Ready")?.status ?? "Unknown";
    const state = ready === "True" ? "already exists and is Ready" : `already exists (Ready: ${ready})`;
    const how = `an admin creates a token that allows it (kubeflare-agent token create --allow-replace ${name}) and the new box joins with --force-replace`;
    if (!forceReplace) {
      throw new ApiError(
        409,
        "Conflict",
        `node "${name}" ${state}: joining under its name would take over its identity (its credential would stop working). ` +
          `To join a new node, use another name (--name). To replace this one, ${how}; ` +
          `if it is gone for good, an admin can instead delete it (kubectl delete node ${name}) and join with a fresh token`,
        { name, group: "", kind: "nodes" },
      );
    }
    if (replaceableNode(token) !== name) {
      throw new ApiError(403, "Forbidden", `nodes "${name}" is forbidden: the join token does not allow replacing node "${name}"; ${how}`, {
        name,
        group: "",
        kind: "nodes",
      });
    }
  }

  /** An Event about `obj` (cluster-scoped objects' events live in "default", as kubelet records them). */
  private async recordEvent(obj: KObject, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const info = resourceByKind(obj.apiVersion ?? "v1", obj.kind ?? "") ?? resourceByName("nodes");
    const now = this.registry.now();
    // named as Kubernetes' recorder names them, <object>.<time in hex> (plus a little randomness)
    const name = `${obj.metadata.name}.${now.getTime().toString(16)}${randomSuffix(3)}`;
    try {
      const event = newEvent(this.registry.typed(info, obj), { name, type, reason, message, source: { component: "kubeflare-apiserver" }, first: now });
      await this.registry.create(SYSTEM_USER, resourceByName("events"), event.metadata.namespace!, event);
    } catch (e) {
      // the replacement happened; an Event is best effort, as in Kubernetes
      console.error(`event ${reason} for ${obj.metadata.name} not recorded: ${(e as Error).message}`);
    }
  }

  /** A credential for `nodeName` (the in-process agent of `npm start` gets one directly). */
  async issue(nodeName: string): Promise<{ nodeName: string; token: string }> {
    const cred = await newNodeCredential(nodeName);
    const name = cred.secret.metadata.name!;
    const current = await this.registry.store.get({ resource: "secrets", namespace: "kube-system", name });
    if (current) {
      await this.registry.update(SYSTEM_USER, this.secrets, "kube-system", name, {
        ...cred.secret,
        metadata: { ...cred.secret.metadata, resourceVersion: current.metadata.resourceVersion },
      });
    } else await this.registry.create(SYSTEM_USER, this.secrets, "kube-system", cred.secret);
    return { nodeName, token: cred.token };
  }

  /**
   * The user a node credential stands for, or null. The credential's hash comes from
   * the cache while it is fresh; a token that does not match it (a credential issued
   * since, by another isolate) is checked against the Secret as stored.
   */
  async authenticate(token: string): Promise<User | null> {
    const node = nodeOfCredential(token);
    if (!node) return null;
    const now = this.registry.now().getTime();
    const hash = this.cache.get(node, now);
    if (hash !== undefined) {
      const user = await verifyNodeCredential(token, { metadata: {}, type: CREDENTIAL_TYPE, data: { "token-sha256": hash } });
      if (user) return user;
    }
    const secret = await this.registry.store.get({ resource: "secrets", namespace: "kube-system", name: `node-credential-${node}` });
    const stored = secret?.type === CREDENTIAL_TYPE ? secret.data?.["token-sha256"] : undefined;
    if (typeof stored === "string") this.cache.set(node, stored, now);
    else this.cache.delete(node);
    return verifyNodeCredential(token, secret);
  }
}
