import { ContainerdRuntime } from "./containerd";
import { DockerRuntime } from "./docker";
import type { ContainerRuntime } from "./runtime";

/** The container engine to use: the one asked for, or (auto) Docker if reachable, else containerd. */
export const pickRuntime = async (
  want: string,
  dataDir = "/var/lib/kubeflare-agent",
): Promise<{ runtime: ContainerRuntime; version: string; name: "docker" | "containerd" }> => {
  if (!["docker", "containerd", "auto"].includes(want)) throw new Error(`--runtime must be docker, containerd or auto, got "${want}"`);
  const errors: string[] = [];
  if (want !== "containerd") {
    const docker = new DockerRuntime();
    try {
      return { runtime: docker, version: await docker.version(), name: "docker" };
    } catch (e) {
      errors.push(`Docker is not reachable at ${process.env.DOCKER_HOST ?? "/var/run/docker.sock"} (${(e as Error).message})`);
    }
  }
  if (want !== "docker") {
    try {
      const containerd = new ContainerdRuntime(`${dataDir}/containerd`);
      return { runtime: containerd, version: await containerd.version(), name: "containerd" };
    } catch (e) {
      errors.push(
        `containerd is not reachable (${
          String((e as { stderr?: string }).stderr ?? (e as Error).message)
            .trim()
            .split("\n")[0]
        })`,
      );
    }
  }
  throw new Error(`no container runtime found: ${errors.join("; ")}`);
};
