/**
 * pods/log: container output the agents ship (they take no inbound connections),
 * kept in the store's log table and read back as `kubectl logs` wants it.
 */
import { badRequest, invalid, notFound, type StatusCause } from "../../shared/status";
import type { KObject } from "../../shared/types";
import type { LogLineIn, LogStore } from "../store/logs";
import { authorize } from "./auth";
import { resourceByName } from "./kinds";
import type { RegistryCore } from "./types";
import type { User } from "./user";

export interface LogQuery {
  container?: string;
  previous?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: string;
  timestamps?: boolean;
  limitBytes?: number;
}

export interface LogUpload {
  container: string;
  /** the container instance: its restart count when it started */
  attempt: number;
  lines: LogLineIn[];
}

/** More lines than a container keeps: a larger tailLines (any int64 is valid) means "all". */
const MAX_TAIL_LINES = 2 ** 31 - 1;

/** kube-apiserver's ValidatePodLogOptions, before the pod is read: 422 PodLogOptions Invalid. */
export const validateLogQuery = (name: string, q: LogQuery): void => {
  const causes: StatusCause[] = [];
  if (q.tailLines !== undefined && q.tailLines < 0)
    causes.push({ reason: "FieldValueInvalid", field: "tailLines", message: `Invalid value: ${q.tailLines}: must be greater than or equal to 0` });
  if (q.limitBytes !== undefined && q.limitBytes < 1)
    causes.push({ reason: "FieldValueInvalid", field: "limitBytes", message: `Invalid value: ${q.limitBytes}: must be greater than 0` });
  if (q.sinceSeconds !== undefined && q.sinceTime !== undefined) {
    causes.push({ reason: "FieldValueForbidden", field: "", message: "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified" });
  } else if (q.sinceSeconds !== undefined && q.sinceSeconds < 1) {
    causes.push({ reason: "FieldValueInvalid", field: "sinceSeconds", message: `Invalid value: ${q.sinceSeconds}: must be greater than 0` });
  }
  if (causes.length) throw invalid("PodLogOptions", "", name, causes);
};

/** Which container a log request means: the named one, or the only one. */
const logContainer = (pod: KObject, name: string | undefined): any => {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  if (!name) {
    if ((pod.spec?.containers ?? []).length === 1 && !(pod.spec?.initContainers ?? []).length) return pod.spec.containers[0];
    throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${all.map((c: any) => c.name).join(" ")}]`);
  }
  const c = all.find((x: any) => x.name === name);
  if (!c) throw badRequest(`container ${name} is not valid for pod ${pod.metadata.name}`);
  return c;
};

export class PodLogs {
  constructor(
    private readonly registry: RegistryCore,
    private readonly store: LogStore,
  ) {}

  /**
   * The stored output of a pod's container, as `kubectl logs` wants it; also the instance it
   * read (`attempt`; a follow passes it back to keep reading that one) and, once that instance
   * has stopped, when (`endedAt`, ms; a follow ends then, as kubelet's does when the container exits).
   */
  async read(
    user: User,
    namespace: string,
    name: string,
    q: LogQuery,
    afterId = 0,
    pinned?: number,
  ): Promise<{ text: string; lastId: number; pod: KObject; attempt: number; endedAt?: number }> {
    validateLogQuery(name, q);
    const pod = await this.registry.get(user, resourceByName("pods"), namespace, name, "log");
    const c = logContainer(pod, q.container);
    const statuses: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const current = statuses.find((s) => s.name === c.name)?.restartCount ?? 0;
    if (q.previous && current === 0) {
      throw badRequest(`previous terminated container "${c.name}" in pod "${name}" not found`);
    }
    const attempt = pinned ?? (q.previous ? current - 1 : current);
    // any int64 sinceSeconds is valid: one reaching before 1970 means "all"
    const sinceTime = q.sinceSeconds !== undefined ? new Date(Math.max(this.registry.now().getTime() - q.sinceSeconds * 1000, 0)).toISOString() : q.sinceTime;
    const tail = afterId || q.tailLines === undefined ? undefined : Math.min(q.tailLines, MAX_TAIL_LINES);
    const lines = await this.store.read(pod.metadata.uid!, c.name, attempt, { afterId, tail, sinceTime });
    let text = lines.map((l) => (q.timestamps ? `${l.time} ${l.line}\n` : `${l.line}\n`)).join("");
    if (q.limitBytes !== undefined) text = new TextDecoder().decode(new TextEncoder().encode(text).slice(0, q.limitBytes));
    return { text, lastId: lines.length ? lines[lines.length - 1].id : afterId, pod, attempt, endedAt: this.endedAt(pod, c.name, attempt) };
  }

  /** When instance `attempt` of a container stopped (ms since the epoch), or undefined while it may still write. */
  private endedAt(pod: KObject, container: string, attempt: number): number | undefined {
    const now = this.registry.now().getTime();
    const at = (t: any) => (typeof t?.finishedAt === "string" && Date.parse(t.finishedAt)) || now;
    const statuses: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const s = statuses.find((x) => x.name === container);
    const current = s?.restartCount ?? 0;
    if (attempt < current) return attempt === current - 1 ? at(s?.lastState?.terminated) : 0; // a later instance runs
    if (s?.state?.terminated) return at(s.state.terminated);
    // waiting to restart (CrashLoopBackOff): the instance last run has stopped
    if (s?.state?.waiting && s.lastState?.terminated) return at(s.lastState.terminated);
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return now;
    return undefined;
  }

  /** An agent ships a container instance's output. */
  async append(user: User, namespace: string, name: string, body: unknown): Promise<number> {
    const info = resourceByName("pods");
    authorize(user, "create", info, namespace, "log");
    const pod = await this.registry.store.get(this.registry.key(info, namespace, name));
    await this.registry.restrict(user, "create", info, namespace, { name, sub: "log", current: pod });
    if (!pod) throw notFound("pods", "", name);
    const up = body as LogUpload;
    if (!up || typeof up.container !== "string" || !Number.isInteger(up.attempt) || !Array.isArray(up.lines)) {
      throw badRequest("a log upload needs container (string), attempt (integer) and lines ([{time, stream, text}])");
    }
    for (const l of up.lines) {
      if (!l || typeof l.time !== "string" || typeof l.text !== "string" || (l.stream !== "stdout" && l.stream !== "stderr")) {
        throw badRequest("each log line needs time (RFC 3339), stream (stdout or stderr) and text");
      }
    }
    logContainer(pod, up.container);
    return this.store.append(pod.metadata.uid!, up.container, up.attempt, up.lines);
  }

  /** Drop the output of pods that are gone. */
  sweep(): Promise<number> {
    return this.store.sweep();
  }
}
