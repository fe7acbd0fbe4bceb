/** Kubernetes `Status` errors (meta/v1 Status), as kube-apiserver shapes them. */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = "ApiError";
  }

  toStatus(): Status {
    const s: Omit<Status, "code"> & { code?: number } = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
    };
    // field order and omitempty as Go's encoding of metav1.Status (clients compare bodies)
    const d = this.details;
    if (d) {
      const details: StatusDetails = {};
      if (d.name) details.name = d.name;
      if (d.group) details.group = d.group;
      if (d.kind) details.kind = d.kind;
      if (d.uid) details.uid = d.uid;
      if (d.causes?.length) details.causes = d.causes;
      if (d.retryAfterSeconds) details.retryAfterSeconds = d.retryAfterSeconds;
      s.details = details;
    }
    s.code = this.code;
    return s as Status;
  }
}

/** "pods" or "deployments.apps": how kube-apiserver names a resource in messages. */
export const qualifiedResource = (resource: string, group: string) => (group ? `${resource}.${group}` : resource);

export const notFound = (resource: string, group: string, name: string) =>
  new ApiError(404, "NotFound", `${qualifiedResource(resource, group)} "${name}" not found`, {
    name,
    group,
    kind: resource,
  });

export const alreadyExists = (resource: string, group: string, name: string) =>
  new ApiError(409, "AlreadyExists", `${qualifiedResource(resource, group)} "${name}" already exists`, {
    name,
    group,
    kind: resource,
  });

export const conflict = (resource: string, group: string, name: string, why?: string) =>
  new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(resource, group)} "${name}": ${
      why ?? "the object has been modified; please apply your changes to the latest version and try again"
    }`,
    { name, group, kind: resource },
  );

export const invalid = (kind: string, group: string, name: string, causes: StatusCause[]) =>
  new ApiError(
    422,
    "Invalid",
    `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ${(() => {
      const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
      return parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
    })()}`,
    { name, group, kind, causes },
  );

export const badRequest = (message: string) => new ApiError(400, "BadRequest", message);
export const forbidden = (message: string) => new ApiError(403, "Forbidden", message);
export const unauthorized = (message = "Unauthorized") => new ApiError(401, "Unauthorized", message);
export const methodNotAllowed = (message: string) => new ApiError(405, "MethodNotAllowed", message);
export const unsupportedMediaType = (type: string) =>
  new ApiError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got "${type}")`,
  );
export const expired = (message: string) => new ApiError(410, "Expired", message);
export const tooLarge = (limit: number) => new ApiError(413, "RequestEntityTooLarge", `the request body is larger than the server limit of ${limit} bytes`);
export const internalError = (message: string) => new ApiError(500, "InternalError", message);
