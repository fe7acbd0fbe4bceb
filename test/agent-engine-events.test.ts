/**
 * The agent on Docker follows the engine's event stream (runtime.events) rather than
 * listing the engine every second: the real NodeAgent on the real Docker engine against
 * the real Node server, its runtime's list calls counted. A container killed behind the
 * agent's back (docker kill) is restarted and reported at once, with a pass interval so
 * long that only the event can explain it; an idle agent does not list the engine; and
 * without events (containerd, or a stream that is down) it lists every pass, as before.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import { DockerRuntime } from "../agent/runtime/docker";
import { LABELS } from "../agent/runtime/runtime";
import { eventually } from "./kubectl";
import { send, startNodeTarget } from "./targets";

const run = promisify(execFile);
const IMAGE = "kubeflare/busybox:test";
const up = await new DockerRuntime().hasImage(IMAGE).catch(() => false);
if (!up && process.env.CI) throw new Error(`CI must run the engine-events test: Docker or ${IMAGE} missing`);

/** Docker, its list calls counted */
class CountingDocker extends DockerRuntime {
  lists = 0;
  override list(labels: Record<string, string>) {
    this.lists++;
    return super.list(labels);
  }
}

describe.skipIf(!up)("the agent on Docker's event stream", () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  const start = async (name: string, o: { syncIntervalMs?: number; engineRelistMs?: number; events?: boolean }) => {
    const t = await startNodeTarget();
    const dir = mkdtempSync(join(tmpdir(), "kf-agent-events-"));
    const node = `${name}-${process.pid}`;
    const runtime = new CountingDocker();
    // an engine without an event stream (containerd's case)
    if (o.events === false) Object.defineProperty(runtime, "events", { value: undefined });
    const agent = new NodeAgent({
      api: new ApiClient({ server: t.url, token: t.token, caPem: t.caPem }),
      runtime,
      nodeName: node,
      nodeIP: "127.0.0.1",
      dataDir: dir,
      clusterDNS: "",
      dnsListen: null,
      tunnel: false,
      syncIntervalMs: o.syncIntervalMs,
      engineRelistMs: o.engineRelistMs,
      log: process.env.DEBUG_AGENT ? undefined : () => {},
    });
    await agent.start();
    cleanup = async () => {
      await agent.stop();
      for (const c of await new DockerRuntime().list({ [LABELS.node]: node })) await runtime.remove(c.id);
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    };
    const pod = async (podName: string) => {
      const created = await send(t, "POST", "/api/v1/namespaces/default/pods", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: podName, namespace: "default" },
        // hostNetwork: no sandbox and no pod network on the host; no kube-api-access (no controllers publish the CA here)
        spec: {
          nodeName: node,
          hostNetwork: true,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 1,
          containers: [{ name: "c", image: IMAGE, imagePullPolicy: "Never", command: ["sleep", "3600"] }],
        },
      });
      expect(created.status).toBe(201);
    };
    const status = async (podName: string) => (await send(t, "GET", `/api/v1/namespaces/default/pods/${podName}`)).json?.status;
    return { t, node, runtime, pod, status };
  };

  it("restarts and reports a container killed behind its back at once, from the event alone", async () => {
    // one pass an hour: a restart within seconds can only come from the engine's event
    const a = await start("events-kill", { syncIntervalMs: 3_600_000, engineRelistMs: 3_600_000 });
    await a.pod("victim");
    const first = await eventually(async () => {
      const s = await a.status("victim");
      return s?.phase === "Running" && s.containerStatuses?.[0]?.state?.running && s.containerStatuses[0].containerID;
    }, 30_000);
    const id = String(first).replace(/^docker:\/\//, "");
    const killedAt = Date.now();
    await run("docker", ["kill", id]);
    const restarted = await eventually(async () => {
      const c = (await a.status("victim"))?.containerStatuses?.[0];
      return c?.restartCount === 1 && c.state?.running && c.lastState?.terminated ? c : undefined;
    }, 15_000);
    const took = Date.now() - killedAt;
    expect(restarted.lastState.terminated.exitCode).toBe(137);
    expect(restarted.containerID).not.toBe(first);
    // (the first restart is at once: kubelet's back-off starts at the second)
    expect(took).toBeLessThan(10_000);
  });

  it("does not list the engine while idle, and lists every pass without events", async () => {
    const a = await start("events-idle", { engineRelistMs: 3_600_000 });
    for (const n of ["idle-1", "idle-2", "idle-3"]) await a.pod(n);
    await eventually(async () => {
      for (const n of ["idle-1", "idle-2", "idle-3"]) if ((await a.status(n))?.phase !== "Running") return false;
      return true;
    }, 30_000);
    // the starts' own events and the status writes die down
    await new Promise((r) => setTimeout(r, 2000));
    const before = a.runtime.lists;
    await new Promise((r) => setTimeout(r, 5000));
    expect(a.runtime.lists - before).toBe(0);
    await cleanup?.();
    cleanup = undefined;

    // the same without an event stream: the engine listed on every pass (1 s)
    const b = await start("events-none", { events: false });
    await b.pod("plain");
    await eventually(async () => (await b.status("plain"))?.phase === "Running", 30_000);
    const from = b.runtime.lists;
    await new Promise((r) => setTimeout(r, 5000));
    expect(b.runtime.lists - from).toBeGreaterThanOrEqual(4);
  });
});
