/**
 * Joining nodes: an admin makes a join token (a bootstrap-token Secret in
 * kube-system), an agent trades it for a credential of its own node, and requests
 * with that credential authenticate as `system:node:<name>` (tokens.ts has the
 * token formats and checks).
 */
import type { ResourceInfo } from "../../shared/resources";
import { resourceByName } from "./kinds";
import type { Registry } from "./registry";
import { bootstrapSecretName, newBootstrapToken, newNodeCredential, nodeOfCredential, verifyBootstrapToken, verifyNodeCredential } from "./tokens";
import { SYSTEM_USER, type User } from "./user";

export class NodeCredentials {
  private readonly secrets: ResourceInfo = resourceByName("secrets");

  constructor(private readonly registry: Registry) {}

  /** An admin makes a join token (a bootstrap-token Secret in kube-system). */
  async createBootstrapToken(user: User, ttlSeconds = 24 * 3600): Promise<{ token: string; expiration: string }> {
    const { token, secret } = newBootstrapToken(ttlSeconds, this.registry.now());
    await this.registry.create(user, this.secrets, "kube-system", secret);
    return { token, expiration: atob(secret.data.expiration) };
  }

  /** An agent trades a join token for a credential of its own node (replacing any earlier one). */
  async join(joinToken: string, nodeName: string): Promise<{ nodeName: string; token: string }> {
    const stored = /^[a-z0-9]{6}\./.test(joinToken) ? await this.registry.store.get({ resource: "secrets", namespace: "kube-system", name: bootstrapSecretName(joinToken) }) : null;
    verifyBootstrapToken(joinToken, stored, this.registry.now());
    return this.issue(nodeName);
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

  /** The user a node credential stands for, or null. */
  async authenticate(token: string): Promise<User | null> {
    const node = nodeOfCredential(token);
    if (!node) return null;
    return verifyNodeCredential(token, await this.registry.store.get({ resource: "secrets", namespace: "kube-system", name: `node-credential-${node}` }));
  }
}
