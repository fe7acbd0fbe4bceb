/**
 * The one interface the agent needs from a container engine. Docker and containerd
 * implement it; the agent keeps no state of its own beyond what these labels say, so
 * a restarted agent re-adopts what runs.
 */

import type { Readable, Writable } from "node:stream";
import type { PodNetwork } from "../network/cidr";
import type { Sample } from "../stats/cgroup";

/** Labels the agent puts on every container it creates. */
export const LABELS = {
  /** the node (agent) that owns the container: agents sharing one engine leave each other's containers alone */
  node: "io.kubeflare.node",
  podUid: "io.kubeflare.pod.uid",
  podName: "io.kubeflare.pod.name",
  podNamespace: "io.kubeflare.pod.namespace",
  container: "io.kubeflare.container.name",
  /** "sandbox" for the pod's network holder, "init" or "app" for containers */
  role: "io.kubeflare.container.role",
  /** how many times this container was restarted before this instance */
  attempt: "io.kubeflare.container.attempt",
  /** hash of the container spec, so a changed image (kubectl set image on a pod) replaces it */
  specHash: "io.kubeflare.container.hash",
} as const;

export interface Mount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface ContainerSpec {
  /** the engine's container name */
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  /** KEY=VALUE */
  env: string[];
  labels: Record<string, string>;
  /** share the host's network namespace */
  hostNetwork: boolean;
  /** join the network namespace of this container (the pod sandbox) */
  networkFrom?: string;
  /** the host name of a sandbox (kubelet: the pod's spec.hostname or name); its containers share it */
  hostname?: string;
  mounts: Mount[];
  memoryLimitBytes?: number;
  cpuLimitMillis?: number;
  tty?: boolean;
  stdin?: boolean;
  /** ports to publish on the host (only for a sandbox without host networking) */
  hostPorts?: { containerPort: number; hostPort: number; protocol: string }[];
}

export type ContainerState = "created" | "running" | "exited" | "unknown";

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  imageId?: string;
  labels: Record<string, string>;
  state: ContainerState;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  oomKilled?: boolean;
  /** IP in its own network namespace, when it has one */
  ip?: string;
}

export interface LogLine {
  stream: "stdout" | "stderr";
  /** RFC 3339 with nanoseconds, as the engine stamped it */
  time: string;
  text: string;
}

export class ImagePullError extends Error {}

/**
 * A process's streams for exec and attach (agent/streams): what the client writes goes
 * to `stdin`, `stdout` and `stderr` (none with a TTY: a terminal has one output) go to
 * the client, and `done` says how it ended.
 */
export interface StreamProcess {
  /** present when stdin was asked for; end() closes the process's stdin */
  stdin?: Writable;
  stdout: Readable;
  stderr?: Readable;
  /** the terminal's size (TTY only; ignored otherwise) */
  resize(width: number, height: number): void;
  /** the exit code once the process and its output ended (exec), or null (attach: the container's end, or the engine's) */
  done: Promise<number | null>;
  /** the client went away: let go of the process's streams (the process itself goes on, as with kubelet) */
  close(): void;
}

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/**
 * A change to one of the engine's containers, as the engine's event stream tells it
 * (Docker's /events): create, start, die, oom, destroy, pause, unpause.
 */
export interface EngineEvent {
  action: string;
  /** the container's id */
  id: string;
  /** the container's labels, as the event carries them */
  labels: Record<string, string>;
}

/** What the engine's event stream reports to (ContainerRuntime.events). */
export interface EngineEventHandlers {
  /** the engine has taken the subscription: every change from now on is reported */
  open(): void;
  event(e: EngineEvent): void;
}

/** The node's pod network (see agent/network/cidr.ts). */
export type { PodNetwork };

export interface ContainerRuntime {
  readonly name: "docker" | "containerd";
  /** engine version, for node.status.nodeInfo.containerRuntimeVersion ("docker://24.0.7") */
  version(): Promise<string>;
  hasImage(image: string): Promise<boolean>;
  /** throws ImagePullError when the image cannot be pulled */
  pullImage(image: string): Promise<void>;
  /** containers carrying all these labels (an empty value: the label is present), running or not */
  list(labels: Record<string, string>): Promise<ContainerInfo[]>;
  inspect(id: string): Promise<ContainerInfo | null>;
  create(spec: ContainerSpec): Promise<string>;
  start(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceSeconds` */
  stop(id: string, graceSeconds: number): Promise<void>;
  remove(id: string): Promise<void>;
  /** run a command in a running container (exec probes) */
  exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /** run a command in a running container with the client's streams (kubectl exec) */
  execStream?(id: string, command: string[], o: StreamOptions): Promise<StreamProcess>;
  /** attach to a running container's own streams (kubectl attach) */
  attachStream?(id: string, o: StreamOptions): Promise<StreamProcess>;
  /** the host pid of a running container's process (its network namespace, for port-forward), or undefined */
  pid?(id: string): Promise<number | undefined>;
  /** a running container's cumulative CPU time and memory working set now (agent/stats), or undefined */
  stats?(id: string): Promise<Sample | undefined>;
  /** the container's output since `sinceMs` (epoch ms), with timestamps */
  logs(id: string, sinceMs?: number): Promise<LogLine[]>;
  /**
   * Something that changes whenever the container writes output (the size of its log
   * file), where the engine lets it be known without a request; undefined otherwise. The
   * log shipper asks logs() only when it changed: an idle pod costs no engine request.
   */
  logMark?(id: string): Promise<string | undefined>;
  /**
   * Follow the engine's events about the containers carrying all these labels (as in
   * list) until `signal` aborts: resolves when the stream ends (aborted, or closed by
   * the engine), rejects when it can't be opened or breaks. Only container state
   * changes are reported (no exec events: exec probes would make them all the time).
   * With it, the agent lists the engine only when something changed rather than every
   * second (agent.ts, syncAll). Docker has it; containerd (through `ctr`) does not: the
   * agent lists that engine every second, as before.
   */
  events?(labels: Record<string, string>, on: EngineEventHandlers, signal: AbortSignal): Promise<void>;
  /**
   * Attach sandboxes made from now on (no host network, no networkFrom) to the node's pod
   * network, making it on the engine if needed. Until this is called, sandboxes get the
   * engine's default network (Docker's bridge; loopback only on containerd).
   */
  setPodNetwork(net: PodNetwork): Promise<void>;
}
