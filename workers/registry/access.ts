/**
 * Who may do what, object by object: the coarse authorizer (auth.ts) and, for node
 * credentials, the Node authorizer and NodeRestriction admission (noderestriction.ts),
 * which need the store to see what a pod or node is bound to.
 */
import type { ResourceInfo } from "../../shared/resources";
import type { Store } from "../store/store";
import { authorize } from "./auth";
import { checkNode, type NodeCheck } from "./noderestriction";
import type { User, Verb } from "./user";

export class Access {
  constructor(private readonly store: Store) {}

  /**
   * Authorization from the request line alone, before the body is read or checked, as
   * kube-apiserver's authorization filter runs before its handlers (for a node: the
   * Node authorizer, which for a named pod looks the pod up).
   */
  async request(user: User, verb: Verb, info: ResourceInfo, namespace: string, name?: string, subresource = ""): Promise<void> {
    authorize(user, verb, info, namespace, subresource);
    if (name !== undefined) await this.target(user, verb, info, namespace, name, subresource);
    else await this.restrict(user, verb, info, namespace, { sub: subresource });
  }

  /** A node's target check of a named object, reading the pod when the target is a pod. */
  async target(user: User, verb: Verb, info: ResourceInfo, namespace: string, name: string, sub = ""): Promise<void> {
    if (user.role !== "node") return;
    const current =
      info.resource === "pods" || info.resource === "persistentvolumes" ? await this.store.get({ resource: info.resource, namespace, name }) : undefined;
    await this.restrict(user, verb, info, namespace, { name, sub, current });
  }

  /** Object-level limits of node credentials (noderestriction.ts); a no-op for everyone else. */
  async restrict(user: User, verb: Verb, info: ResourceInfo, namespace: string, extra: Partial<NodeCheck>): Promise<void> {
    if (user.role !== "node") return;
    await checkNode({
      user,
      verb,
      info,
      namespace,
      ...extra,
      ingressesInNamespace: async () => (await this.store.list("ingresses", { namespace })).items,
      podsOnNode: async () => (await this.store.list("pods", { namespace, fields: [{ field: "spec.nodeName", op: "=", value: user.nodeName ?? "" }] })).items,
    });
  }
}
