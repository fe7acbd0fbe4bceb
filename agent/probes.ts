/**
 * Liveness, readiness and startup probes (exec, httpGet, tcpSocket) with Kubernetes'
 * timing: initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold and
 * failureThreshold. Results feed the pod status; a failed liveness or startup probe
 * stops the container, and the restart policy takes it from there. Failures are
 * recorded as kubelet's events (Unhealthy, Killing), with the probe's output.
 */
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { connect } from "node:net";
import type { KObject } from "../shared/types";
import { containerPath, type EventSink } from "./events";
import type { ProbeState } from "./status";
import type { ContainerInfo, ContainerRuntime } from "./runtime/runtime";

type Kind = "startup" | "liveness" | "readiness";

const LABEL: Record<Kind, string> = { startup: "Startup", liveness: "Liveness", readiness: "Readiness" };

interface Track {
  next: number;
  successes: number;
  failures: number;
  running: boolean;
  /** the container is being stopped for this probe's failure: no more runs (kubelet's onHold) */
  held: boolean;
}

/** One probe run: success, and on failure what kubelet would say about it. */
export interface ProbeResult {
  ok: boolean;
  output: string;
}

/** host:port as Go prints it (IPv6 in brackets), for probe messages. */
const hostPort = (host: string, port: number) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

/** A connection error in the words of Go's net package, as kubelet's probe messages carry them. */
const dialError = (e: unknown, host: string, port: number): string => {
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err?.code ?? err?.cause?.code;
  const at = `dial tcp ${hostPort(host, port)}`;
  if (code === "ECONNREFUSED") return `${at}: connect: connection refused`;
  if (code === "EHOSTUNREACH") return `${at}: connect: no route to host`;
  if (code === "ENETUNREACH") return `${at}: connect: network is unreachable`;
  if (code === "ETIMEDOUT") return `${at}: i/o timeout`;
  return `${at}: ${err?.cause?.message ?? err?.message ?? String(e)}`;
};

/**
 * The status code of one GET (redirects not followed; HTTPS without certificate
 * checks, as kubelet probes do), through node:http rather than fetch, which would
 * load a whole HTTP client into the agent's memory.
 */
const httpStatus = (url: string, headers: Record<string, string>, timeoutMs: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const signal = AbortSignal.timeout(timeoutMs);
    const get = url.startsWith("https:") ? httpsGet : httpGet;
    const req = get(
      url,
      { headers: { "User-Agent": "kube-probe/1.33", ...headers }, signal, ...(url.startsWith("https:") ? { rejectUnauthorized: false } : {}) },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", (e) => reject(signal.aborted ? Object.assign(new Error("timeout"), { name: "TimeoutError" }) : e));
  });

const portOf = (_pod: KObject, container: any, port: number | string): number => {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  for (const p of container.ports ?? []) if (p.name === port) return p.containerPort;
  return NaN;
};

export class Prober {
  private readonly tracks = new Map<string, Track>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly results: Map<string, ProbeState>,
    /** stop a container whose liveness or startup probe failed, SIGKILL after `graceSeconds` */
    private readonly onKill: (containerId: string, graceSeconds: number, why: string) => Promise<void>,
    private readonly events: EventSink = { record() {} },
    private readonly now: () => number = Date.now,
  ) {}

  /** One probe run, with kubelet's failure messages. */
  async run(pod: KObject, container: any, probe: any, inst: ContainerInfo, podIP: string): Promise<ProbeResult> {
    const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
    if (probe.exec) {
      const command: string[] = probe.exec.command ?? [];
      const began = Date.now();
      let r: { exitCode: number; output: string };
      try {
        r = await this.runtime.exec(inst.id, command, timeoutMs);
      } catch (e) {
        return { ok: false, output: (e as Error).message };
      }
      if (r.exitCode === 0) return { ok: true, output: r.output };
      // the runtimes report a command cut off at the timeout as exit code -1
      if (r.exitCode === -1 && Date.now() - began >= timeoutMs) return { ok: false, output: `command "${command.join(" ")}" timed out` };
      return { ok: false, output: r.output.trimEnd() };
    }
    if (probe.httpGet) {
      const port = portOf(pod, container, probe.httpGet.port);
      const host = probe.httpGet.host || podIP || "127.0.0.1";
      const scheme = (probe.httpGet.scheme ?? "HTTP").toLowerCase();
      const url = `${scheme}://${hostPort(host, port)}${probe.httpGet.path ?? "/"}`;
      try {
        const status = await httpStatus(url, Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h: any) => [h.name, h.value])), timeoutMs);
        if (status >= 200 && status < 400) return { ok: true, output: "" };
        return { ok: false, output: `HTTP probe failed with statuscode: ${status}` };
      } catch (e) {
        const why =
          (e as Error).name === "TimeoutError" ? "context deadline exceeded (Client.Timeout exceeded while awaiting headers)" : dialError(e, host, port);
        return { ok: false, output: `Get "${url}": ${why}` };
      }
    }
    if (probe.tcpSocket) {
      const port = portOf(pod, container, probe.tcpSocket.port);
      const host = probe.tcpSocket.host || podIP || "127.0.0.1";
      return new Promise((resolve) => {
        const s = connect({ host, port, timeout: timeoutMs });
        s.once("connect", () => {
          s.destroy();
          resolve({ ok: true, output: "" });
        });
        s.once("timeout", () => {
          s.destroy();
          resolve({ ok: false, output: `dial tcp ${hostPort(host, port)}: i/o timeout` });
        });
        s.once("error", (e) => resolve({ ok: false, output: dialError(e, host, port) }));
      });
    }
    return { ok: true, output: "" };
  }

  /** Start due probes for a running container; results land in `results` asynchronously. */
  tick(pod: KObject, container: any, inst: ContainerInfo, podIP: string): void {
    const state = this.results.get(inst.id) ?? { ready: !container.readinessProbe, started: !container.startupProbe };
    this.results.set(inst.id, state);
    const startedAt = Date.parse(inst.startedAt ?? "") || this.now();
    const kinds: Kind[] = state.started ? ["liveness", "readiness"] : ["startup"];
    for (const kind of kinds) {
      const probe = container[`${kind}Probe`];
      if (!probe) continue;
      const id = `${inst.id}/${kind}`;
      const t = this.tracks.get(id) ?? { next: startedAt + (probe.initialDelaySeconds ?? 0) * 1000, successes: 0, failures: 0, running: false, held: false };
      this.tracks.set(id, t);
      if (t.running || t.held || this.now() < t.next) continue;
      t.running = true;
      t.next = this.now() + (probe.periodSeconds ?? 10) * 1000;
      void this.run(pod, container, probe, inst, podIP)
        .catch((e): ProbeResult => ({ ok: false, output: (e as Error).message })) // e.g. a named port the container doesn't have
        .then((r) => this.settle(pod, container, probe, inst, kind, t, state, r))
        .catch(() => undefined); // settle doesn't throw; nothing may escape as an unhandled rejection
    }
  }

  /** Count a probe result toward its thresholds and act on them. */
  private async settle(pod: KObject, container: any, probe: any, inst: ContainerInfo, kind: Kind, t: Track, state: ProbeState, r: ProbeResult): Promise<void> {
    t.running = false;
    if (r.ok) {
      t.successes++;
      t.failures = 0;
    } else {
      t.failures++;
      t.successes = 0;
      // every failed run, as kubelet does; repeats are aggregated into the event's count
      this.events.record(pod, "Warning", "Unhealthy", `${LABEL[kind]} probe failed: ${r.output}`.trimEnd(), containerPath("app", container.name));
    }
    const failed = t.failures >= (probe.failureThreshold ?? 3);
    const passed = t.successes >= (kind === "readiness" ? (probe.successThreshold ?? 1) : 1);
    if (kind === "readiness") {
      if (passed) state.ready = true;
      if (failed) state.ready = false;
    } else if (kind === "startup") {
      if (passed) state.started = true;
      if (failed) await this.kill(pod, container, probe, inst, kind, t);
    } else if (failed) {
      t.failures = 0;
      await this.kill(pod, container, probe, inst, kind, t);
    }
  }

  /**
   * Stop a container for a failed liveness or startup probe, with the grace kubelet
   * gives: the probe's own terminationGracePeriodSeconds, else the pod's (default 30).
   * The probe holds while the container stops, so it doesn't fail (and kill) again.
   */
  private async kill(pod: KObject, container: any, probe: any, inst: ContainerInfo, kind: Kind, t: Track): Promise<void> {
    const grace = probe.terminationGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    t.held = true;
    this.events.record(pod, "Normal", "Killing", `Container ${container.name} failed ${kind} probe, will be restarted`, containerPath("app", container.name));
    try {
      await this.onKill(inst.id, grace, `${LABEL[kind]} probe failed`);
    } catch {
      t.held = false; // not stopped: the probe goes on and tries again
    }
  }

  forget(containerId: string): void {
    for (const k of this.tracks.keys()) if (k.startsWith(`${containerId}/`)) this.tracks.delete(k);
    this.results.delete(containerId);
  }
}
