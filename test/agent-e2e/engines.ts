/**
 * What the end-to-end tests need to see and do on a container engine, through the
 * engine's own CLI (`docker`, `ctr`), independent of the agent's runtime code: find the
 * agent's containers by label, kill one, exec in one, read its memory limit.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export const IMAGE = "kubeflare/busybox:test";

export interface EngineContainer {
  id: string;
  running: boolean;
  labels: Record<string, string>;
  /** the cgroup memory limit in bytes (0: none) */
  memoryLimit: number;
}

export interface Engine {
  name: "docker" | "containerd";
  /** the engine is up and has the test image */
  available(): Promise<boolean>;
  /** containers carrying all these labels */
  containers(labels: Record<string, string>): Promise<EngineContainer[]>;
  kill(id: string): Promise<void>;
  exec(id: string, argv: string[]): Promise<void>;
  remove(id: string): Promise<void>;
}

const ok = (p: Promise<unknown>) =>
  p.then(
    () => true,
    () => false,
  );

export const docker: Engine = {
  name: "docker",
  available: () => ok(run("docker", ["image", "inspect", IMAGE])),
  async containers(labels) {
    const filters = Object.entries(labels).flatMap(([k, v]) => ["--filter", `label=${k}=${v}`]);
    const ids = (await run("docker", ["ps", "-aq", "--no-trunc", ...filters])).stdout.split("\n").filter(Boolean);
    if (!ids.length) return [];
    const all = JSON.parse((await run("docker", ["inspect", ...ids])).stdout);
    return all.map((c: any) => ({ id: c.Id, running: c.State.Running, labels: c.Config.Labels ?? {}, memoryLimit: c.HostConfig.Memory ?? 0 }));
  },
  kill: async (id) => void (await run("docker", ["kill", id])),
  exec: async (id, argv) => void (await run("docker", ["exec", id, ...argv])),
  remove: async (id) => void (await run("docker", ["rm", "-f", id]).catch(() => undefined)),
};

const ctr = (args: string[]) => run("ctr", ["--namespace", "kubeflare", ...args]);

export const containerd: Engine = {
  name: "containerd",
  available: async () => (await ok(ctr(["version"]))) && (await ctr(["images", "ls", "-q"])).stdout.split("\n").includes(`docker.io/${IMAGE}`),
  async containers(labels) {
    // one filter argument with comma-joined terms is an AND
    const filter = Object.entries(labels)
      .map(([k, v]) => `labels."${k}"==${v}`)
      .join(",");
    const ids = (await ctr(["containers", "ls", "-q", filter])).stdout.split("\n").filter(Boolean);
    const tasks = new Map(
      (await ctr(["tasks", "ls"])).stdout
        .split("\n")
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .map(([id, , status]) => [id, status] as const),
    );
    const out: EngineContainer[] = [];
    for (const id of ids) {
      const info = JSON.parse((await ctr(["containers", "info", id])).stdout);
      out.push({ id, running: tasks.get(id) === "RUNNING", labels: info.Labels ?? {}, memoryLimit: info.Spec?.linux?.resources?.memory?.limit ?? 0 });
    }
    return out;
  },
  kill: async (id) => void (await ctr(["tasks", "kill", "-s", "SIGKILL", id])),
  // ctr reads the container's argv after its own options; no "--" here (it would be run)
  exec: async (id, argv) => void (await ctr(["tasks", "exec", "--exec-id", `e2e-${Date.now().toString(36)}`, id, ...argv])),
  async remove(id) {
    await ctr(["tasks", "delete", "--force", id]).catch(() => undefined);
    await ctr(["containers", "delete", id]).catch(() => undefined);
  },
};
