import type { ResourceInfo } from "../../shared/resources";
import { forbidden, qualifiedResource } from "../../shared/status";
import { nodeMayAttempt } from "./noderestriction";
import type { User, Verb } from "./user";

const READ: Verb[] = ["get", "list", "watch"];

/** Throws 403 Forbidden, worded as kube-apiserver words it, when `user` may not do `verb`. */
export const authorize = (user: User, verb: Verb, info: ResourceInfo, namespace: string, subresource = ""): void => {
  if (user.role === "admin") return;
  // nodes: object-level checks follow in the registry (noderestriction.ts)
  if (user.role === "node" && nodeMayAttempt(verb, info, subresource)) return;
  if (user.role === "viewer" && READ.includes(verb) && subresource !== "log") return;
  if (user.role === "viewer" && verb === "get" && subresource === "log") return;
  const res = qualifiedResource(info.resource, info.group) + (subresource ? `/${subresource}` : "");
  throw forbidden(
    `${res} is forbidden: User "${user.name}" cannot ${verb} resource "${info.resource}${subresource ? `/${subresource}` : ""}" in API group "${info.group}"${
      namespace ? ` in the namespace "${namespace}"` : " at the cluster scope"
    }`,
  );
};
