import type { Context } from "hono";
import { ApiError, internalError } from "../../shared/status";

/** Every error leaves the API as a Kubernetes `Status` with the matching HTTP code. */
export const statusResponse = (err: unknown): Response => {
  const e =
    err instanceof ApiError
      ? err
      : internalError(`an error on the server ("${(err as Error)?.message ?? String(err)}") has prevented the request from succeeding`);
  if (!(err instanceof ApiError)) console.error(err);
  // Go's JSON encoder ends the body with a newline, as kube-apiserver's do
  return new Response(`${JSON.stringify(e.toStatus())}\n`, {
    status: e.code,
    headers: { "Content-Type": "application/json" },
  });
};

export const onError = (err: Error, _c: Context): Response => statusResponse(err);
