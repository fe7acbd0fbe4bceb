/**
 * Who may do what, object by object: the authorizer chain (auth.ts: system:masters,
 * the Node authorizer, RBAC) and, for node credentials, the Node authorizer's object
 * checks and NodeRestriction admission (noderestriction.ts), which need the store to
 * see what a pod or node is bound to; for everyone else RBAC's resourceNames and
 * escalation prevention (rbac/escalation.ts).
 */
import type { ResourceInfo } from "../../shared/resources";
import type { Store } from "../store/store";
import { authorize, authorizeNamed } from "./auth";
import { checkNode, type NodeCheck } from "./noderestriction";
import { checkEscalation } from "./rbac/escalation";
import type { User, Verb } from "./user";

const NAMED: ReadonlySet<string> = new Set(["get", "update", "patch", "delete"]);

export class Access {
  constructor(private readonly store: Store) {}

  /**
   * Authorization from the request line alone, before the body is read or checked, as
   * kube-apiserver's authorization filter runs before its handlers (for a node: the
   * Node authorizer, which for a named pod looks the pod up).
   */
  async request(user: User, verb: Verb, info: ResourceInfo, namespace: string, name?: string, subresource = ""): Promise<void> {
    authorize(user, verb, info, namespace, subresource, name);
    if (name !== undefined) await this.target(user, verb, info, namespace, name, subresource);
    else await this.restrict(user, verb, info, namespace, { sub: subresource });
  }

  /** A node's target check of a named object, reading the pod when the target is a pod. */
  async target(user: User, verb: Verb, info: ResourceInfo, namespace: string, name: string, sub = ""): Promise<void> {
    if (user.role === "user") return this.restrict(user, verb, info, namespace, { name, sub });
    if (user.role !== "node") return;
    const current =
      info.resource === "pods" || info.resource === "persistentvolumes" ? await this.store.get({ resource: info.resource, namespace, name }) : undefined;
    await this.restrict(user, verb, info, namespace, { name, sub, current });
  }

  /** Object-level limits: node credentials' (noderestriction.ts), RBAC's resourceNames and escalation prevention. */
  async restrict(user: User, verb: Verb, info: ResourceInfo, namespace: string, extra: Partial<NodeCheck>): Promise<void> {
    if (user.role === "user") {
      if (extra.name !== undefined && NAMED.has(verb)) authorizeNamed(user, verb, info, namespace, extra.name, extra.sub ?? "");
      if (extra.incoming && !extra.sub) checkEscalation(user, info.resource, namespace || (extra.incoming.metadata?.namespace ?? ""), extra.incoming);
      return;
    }
    if (user.role !== "node") return;
    await checkNode({
      user,
      verb,
      info,
      namespace,
      ...extra,
      ingressesInNamespace: async () => (await this.store.list("ingresses", { namespace })).items,
      ingressClasses: async () => (await this.store.list("ingressclasses", {})).items,
      podsOnNode: async () => (await this.store.list("pods", { namespace, fields: [{ field: "spec.nodeName", op: "=", value: user.nodeName ?? "" }] })).items,
    });
  }
}
