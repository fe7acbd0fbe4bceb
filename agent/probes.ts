/**
 * Liveness, readiness and startup probes (exec, httpGet, tcpSocket) with Kubernetes'
 * timing: initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold and
 * failureThreshold. Results feed the pod status; a failed liveness or startup probe
 * stops the container, and the restart policy takes it from there.
 */
import { connect } from "node:net";
import type { KObject } from "../shared/types";
import type { ProbeState } from "./pods";
import type { ContainerInfo, ContainerRuntime } from "./runtime/runtime";

type Kind = "startup" | "liveness" | "readiness";

interface Track {
  next: number;
  successes: number;
  failures: number;
  running: boolean;
}

const portOf = (pod: KObject, container: any, port: number | string): number => {
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
    private readonly onKill: (containerId: string, why: string) => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  /** One probe run; true on success. */
  async run(pod: KObject, container: any, probe: any, inst: ContainerInfo, podIP: string): Promise<boolean> {
    const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
    if (probe.exec) {
      const r = await this.runtime.exec(inst.id, probe.exec.command ?? [], timeoutMs).catch(() => ({ exitCode: -1, output: "" }));
      return r.exitCode === 0;
    }
    if (probe.httpGet) {
      const port = portOf(pod, container, probe.httpGet.port);
      const host = probe.httpGet.host || podIP || "127.0.0.1";
      const scheme = (probe.httpGet.scheme ?? "HTTP").toLowerCase();
      try {
        const res = await fetch(`${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}${probe.httpGet.path ?? "/"}`, {
          headers: Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h: any) => [h.name, h.value])),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: "manual",
        });
        await res.arrayBuffer().catch(() => undefined);
        return res.status >= 200 && res.status < 400;
      } catch {
        return false;
      }
    }
    if (probe.tcpSocket) {
      const port = portOf(pod, container, probe.tcpSocket.port);
      const host = probe.tcpSocket.host || podIP || "127.0.0.1";
      return new Promise((resolve) => {
        const s = connect({ host, port, timeout: timeoutMs });
        s.once("connect", () => (s.destroy(), resolve(true)));
        s.once("timeout", () => (s.destroy(), resolve(false)));
        s.once("error", () => resolve(false));
      });
    }
    return true;
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
      const t = this.tracks.get(id) ?? { next: startedAt + (probe.initialDelaySeconds ?? 0) * 1000, successes: 0, failures: 0, running: false };
      this.tracks.set(id, t);
      if (t.running || this.now() < t.next) continue;
      t.running = true;
      t.next = this.now() + (probe.periodSeconds ?? 10) * 1000;
      void this.run(pod, container, probe, inst, podIP).then(async (ok) => {
        t.running = false;
        if (ok) {
          t.successes++;
          t.failures = 0;
        } else {
          t.failures++;
          t.successes = 0;
        }
        const failed = t.failures >= (probe.failureThreshold ?? 3);
        const passed = t.successes >= (kind === "readiness" ? probe.successThreshold ?? 1 : 1);
        if (kind === "readiness") {
          if (passed) state.ready = true;
          if (failed) state.ready = false;
        } else if (kind === "startup") {
          if (passed) state.started = true;
          if (failed) await this.onKill(inst.id, `Startup probe failed`);
        } else if (failed) {
          t.failures = 0;
          await this.onKill(inst.id, `Liveness probe failed`);
        }
      });
    }
  }

  forget(containerId: string): void {
    for (const k of this.tracks.keys()) if (k.startsWith(`${containerId}/`)) this.tracks.delete(k);
    this.results.delete(containerId);
  }
}
