/**
 * The references for `npm run bench -- startup` on Docker (issue #14, goal 2), measured on
 * the same engine, in the same run, with the same image and command as Kubeflare's pods:
 *
 * - Docker Swarm: a single-node swarm on loopback (`docker swarm init --advertise-addr
 *   127.0.0.1`), a service of N hostNetwork replicas that sleep (`docker service create -d
 *   --replicas N --network host --no-resolve-image`: the image is a local one, not in a
 *   registry). Per replica: `service create` sent → its container seen running.
 * - The engine itself: N containers created and started through the Docker API all at
 *   once, no orchestrator: the floor any orchestrator on this engine stands on.
 *
 * Both are seen running by polling the engine's container list every POLL_MS (a replica's
 * time is when a poll first lists it running). The swarm is only used when the engine is
 * in none; it is left again (`docker swarm leave --force`) and the services and the
 * docker_gwbridge network it made are removed, whatever happens.
 */
import { execFile } from "node:child_process";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import Docker from "dockerode";

const run = promisify(execFile);
export const POLL_MS = 50;

export interface RefRound {
  /** per container: start of the round → seen running (ms) */
  latencies: number[];
  allRunningMs: number;
}

const docker = new Docker();

/** Poll the engine until `n` containers with `label` run; each one's time from t0 to the poll that first saw it running. */
async function seenRunning(label: string, n: number, t0: number, timeoutMs = 120_000): Promise<RefRound> {
  const seen = new Map<string, number>();
  while (seen.size < n) {
    const list = await docker.listContainers({ filters: { label: [label], status: ["running"] } });
    const now = performance.now();
    for (const c of list) if (!seen.has(c.Id)) seen.set(c.Id, now - t0);
    if (seen.size >= n) break;
    if (now - t0 > timeoutMs) throw new Error(`only ${seen.size} of ${n} containers (${label}) running after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const latencies = [...seen.values()];
  return { latencies, allRunningMs: Math.max(...latencies) };
}

/** Remove the containers carrying `label` and wait until the engine lists none. */
async function removeAll(label: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const left = await docker.listContainers({ all: true, filters: { label: [label] } });
    if (!left.length) return;
    await Promise.all(
      left.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The engine alone: N containers created and started at once through the API. */
export async function engineRound(image: string, n: number, tag: string): Promise<RefRound> {
  const label = `io.kubeflare.bench.engine=${tag}`;
  try {
    const t0 = performance.now();
    const seen = seenRunning(label, n, t0);
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const c = await docker.createContainer({
          name: `kf-bench-engine-${tag}-${i}`,
          Image: image,
          Entrypoint: ["sleep", "3600"],
          Labels: { "io.kubeflare.bench.engine": tag },
          HostConfig: { NetworkMode: "host", RestartPolicy: { Name: "no" } },
        });
        await c.start();
      }),
    );
    return await seen;
  } finally {
    await removeAll(label);
  }
}

/** A swarm on this engine for the benchmark's rounds; undefined (and why) when there can't be one. */
export class BenchSwarm {
  private constructor(private readonly madeGwbridge: boolean) {}

  static async join(): Promise<BenchSwarm | string> {
    const state = (await run("docker", ["info", "--format", "{{.Swarm.LocalNodeState}}"])).stdout.trim();
    if (state !== "inactive") return `the engine is already in a swarm (${state}); not touching it`;
    const hadGwbridge = await run("docker", ["network", "inspect", "docker_gwbridge"]).then(
      () => true,
      () => false,
    );
    try {
      await run("docker", ["swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:0"]);
    } catch (e) {
      await run("docker", ["swarm", "leave", "--force"]).catch(() => undefined);
      return `docker swarm init failed: ${String((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`;
    }
    return new BenchSwarm(!hadGwbridge);
  }

  /** One round: a service of N hostNetwork replicas, created → all seen running; then removed. */
  async round(image: string, n: number, tag: string): Promise<RefRound> {
    const name = `kf-bench-swarm-${tag}`;
    const label = `com.docker.swarm.service.name=${name}`;
    try {
      const t0 = performance.now();
      const seen = seenRunning(label, n, t0);
      await run("docker", [
        "service",
        "create",
        "--detach",
        "--quiet",
        "--name",
        name,
        "--replicas",
        String(n),
        "--network",
        "host",
        "--no-resolve-image",
        "--restart-condition",
        "none",
        image,
        "sleep",
        "3600",
      ]);
      return await seen;
    } finally {
      await run("docker", ["service", "rm", name]).catch(() => undefined);
      await removeAll(label);
    }
  }

  /** Leave the swarm (its services go with it) and remove the bridge it made. */
  async leave(): Promise<void> {
    await run("docker", ["swarm", "leave", "--force"]).catch(() => undefined);
    if (this.madeGwbridge) await run("docker", ["network", "rm", "docker_gwbridge"]).catch(() => undefined);
  }
}
