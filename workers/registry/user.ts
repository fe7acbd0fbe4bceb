import type { RbacView } from "./rbac/rules";

/** Who is asking. Authentication (tokens) is the API layer's; this is what it yields. */
export interface User {
  name: string;
  uid?: string;
  /** the user's groups (system:authenticated, system:serviceaccounts, a token file's, ...) */
  groups?: string[];
  /** kube's user.Info extra (a bound token's pod name and uid) */
  extra?: Record<string, string[]>;
  /**
   * admin: everything (the group system:masters, and the control plane itself);
   * node: the Node authorizer (noderestriction.ts); user: RBAC decides (rbac/).
   */
  role: "admin" | "node" | "user";
  nodeName?: string;
  /** the RBAC objects this request is authorized against (attached after authentication, rbac/cache.ts) */
  rbac?: RbacView;
}

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

/** The control plane itself (seeding, node credentials): an admin. */
export const SYSTEM_USER: User = { name: "system:kubeflare", role: "admin", groups: ["system:masters", "system:authenticated"] };
