/**
 * A container engine in memory for the real node agent where no engine is wanted (the
 * edge bench, agent tests that are about its API traffic): containers are records that
 * "run" until stopped and print nothing. A test can hold up the making of chosen
 * containers (a slow sandbox or image) with `hold`.
 */
import { type ContainerInfo, type ContainerRuntime, type ContainerSpec, LABELS } from "../agent/runtime/runtime";

export class HollowRuntime implements ContainerRuntime {
  readonly name = "docker" as const;
  private readonly containers = new Map<string, ContainerInfo>();
  private seq = 0;
  constructor(
    private readonly tag: string,
    /** a promise to wait for before this container is made (e.g. one pod's sandbox), or nothing */
    private readonly hold?: (spec: ContainerSpec) => Promise<void> | undefined,
  ) {}
  version = async () => "docker://hollow";
  hasImage = async () => true;
  pullImage = async () => {};
  setPodNetwork = async () => {};
  list = async (labels: Record<string, string>) =>
    [...this.containers.values()]
      .filter((c) => Object.entries(labels).every(([k, v]) => (v === "" ? k in c.labels : c.labels[k] === v)))
      .map((c) => ({ ...c }));
  inspect = async (id: string) => (this.containers.has(id) ? { ...this.containers.get(id)! } : null);
  async create(spec: ContainerSpec) {
    await this.hold?.(spec);
    const id = `${this.tag}${(++this.seq).toString(16)}`.padEnd(64, "0");
    this.containers.set(id, { id, name: spec.name, image: spec.image, imageId: `sha256:${"0".repeat(64)}`, labels: spec.labels, state: "created" });
    return id;
  }
  async start(id: string) {
    const c = this.containers.get(id)!;
    Object.assign(c, {
      state: "running",
      startedAt: new Date().toISOString(),
      ip: c.labels[LABELS.role] === "sandbox" ? `10.88.0.${this.seq % 250}` : undefined,
    });
  }
  async stop(id: string) {
    const c = this.containers.get(id);
    if (c) Object.assign(c, { state: "exited", exitCode: 0, finishedAt: new Date().toISOString() });
  }
  remove = async (id: string) => void this.containers.delete(id);
  exec = async () => ({ exitCode: 0, output: "" });
  logs = async () => [];
}
