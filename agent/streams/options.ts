/**
 * What a stream asks for, read from the client's query string as kubelet reads it
 * (pkg/kubelet/cri/streaming: remotecommand.NewOptions, portforward.NewV4Options), and
 * the Kubernetes Status the agent answers with when it refuses one.
 */
import type { StreamAnswer } from "../../shared/tunnel";

export type RejectStatus = Extract<StreamAnswer, { type: "reject" }>["status"];

export class StreamError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
  get status(): RejectStatus {
    return { kind: "Status", apiVersion: "v1", status: "Failure", code: this.code, reason: this.reason, message: this.message };
  }
}

export const badRequest = (m: string) => new StreamError(400, "BadRequest", m);
export const notFound = (m: string) => new StreamError(404, "NotFound", m);

export interface ExecOptions {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** PodExecOptions' booleans as kube-apiserver decodes them (Convert_Slice_string_To_bool): absent, "0" and "false" (any case) are false, all else true */
const flag = (q: URLSearchParams, name: string) => {
  const v = q.get(name);
  return v !== null && !["0", "false"].includes(v.toLowerCase());
};

/** exec (command required) and attach (no command) */
export function execOptions(query: string | undefined, withCommand: boolean): ExecOptions {
  const q = new URLSearchParams(query ?? "");
  const command = q.getAll("command");
  if (withCommand && (command.length === 0 || command.every((c) => c === ""))) throw badRequest("you must specify at least one command for the container");
  const tty = flag(q, "tty");
  const o = { command, stdin: flag(q, "stdin"), stdout: flag(q, "stdout"), stderr: flag(q, "stderr") && !tty, tty };
  if (!o.stdin && !o.stdout && !flag(q, "stderr")) throw badRequest("you must specify at least 1 of stdin, stdout, stderr");
  return o;
}

/** port-forward's `ports` (repeated or comma-separated), for the WebSocket protocols (SPDY names ports per stream) */
export function forwardPorts(query: string | undefined): number[] {
  const q = new URLSearchParams(query ?? "");
  const all = q.getAll("ports");
  if (all.length === 0) throw badRequest('query parameter "ports" is required');
  const ports: number[] = [];
  for (const s of all) {
    if (s === "") throw badRequest('query parameter "ports" cannot be empty');
    for (const p of s.split(",")) {
      if (!/^\d{1,5}$/.test(p) || Number(p) > 65535) throw badRequest(`unable to parse "${s}" as a port`);
      if (Number(p) < 1) throw badRequest(`port "${s}" must be > 0`);
      ports.push(Number(p));
    }
  }
  // each port is two channels, numbered by one byte
  if (ports.length > 127) throw badRequest("too many ports: at most 127");
  return ports;
}

/** the Status of a command's end (kubelet's ServeExec): Success, or NonZeroExitCode with the code as a cause */
export function exitStatus(code: number | null, command: string[]): Record<string, unknown> {
  if (code === 0 || code === null) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: command '${command.join(" ")}' exited with ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

export const internalStatus = (message: string): Record<string, unknown> => ({ metadata: {}, status: "Failure", message, reason: "InternalError", code: 500 });
