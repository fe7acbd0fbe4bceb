/** Who is asking. Authentication (tokens) is the API layer's; this is what it yields. */
export interface User {
  name: string;
  /** admin: everything; viewer: read-only; node: its own node's objects (noderestriction.ts) */
  role: "admin" | "viewer" | "node";
  nodeName?: string;
}

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

/** The control plane itself (seeding, node credentials): an admin. */
export const SYSTEM_USER: User = { name: "system:kubeflare", role: "admin" };
