/**
 * The agent syncs pods in parallel, like kubelet's pod workers: the real NodeAgent on an
 * in-memory engine against the real Node server. One pod whose sandbox takes as long as
 * the test wants must not hold up the others: they are reported Running while it is
 * still being made, and no pod gets a container twice from syncs that overlap.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NodeAgent } from "../agent/agent";
import { ApiClient } from "../agent/api";
import { PodWorker } from "../agent/pods";
import { LABELS } from "../agent/runtime/runtime";
import { HollowRuntime } from "./hollow-runtime";
import { eventually } from "./kubectl";
import { send, startNodeTarget } from "./targets";

const NODE = `workers-box-${process.pid}`;
const NS = "default";

describe("the agent's pod workers", () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it("reports quick pods Running while another pod's sandbox is still being made", async () => {
    const t = await startNodeTarget();
    const dir = mkdtempSync(join(tmpdir(), "kf-agent-podworkers-"));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let slowRequested = false;
    let released = false;
    const runtime = new HollowRuntime(`w${process.pid % 10000}`, (spec) => {
      if (spec.labels[LABELS.podName] !== "slow" || spec.labels[LABELS.role] !== "sandbox") return undefined;
      slowRequested = true;
      return gate;
    });
    const agent = new NodeAgent({
      api: new ApiClient({ server: t.url, token: t.token, caPem: t.caPem }),
      runtime,
      nodeName: NODE,
      nodeIP: "127.0.0.1",
      dataDir: dir,
      podCIDR: "10.42.78.0/24",
      clusterDNS: "",
      dnsListen: null,
      syncIntervalMs: 200,
      log: process.env.DEBUG_AGENT ? undefined : () => {},
    });
    await agent.start();
    cleanup = async () => {
      release();
      await agent.stop();
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    };
    const pod = (name: string) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: NS },
      // no kube-api-access volume: this control plane runs no controllers to publish its CA ConfigMap
      spec: {
        nodeName: NODE,
        automountServiceAccountToken: false,
        containers: [{ name: "c", image: "kubeflare/busybox:test", command: ["sleep", "infinity"] }],
      },
    });
    const create = async (name: string) => expect((await send(t, "POST", `/api/v1/namespaces/${NS}/pods`, pod(name))).status).toBe(201);
    const phases = async () => {
      const list = (await send(t, "GET", `/api/v1/namespaces/${NS}/pods`)).json;
      return new Map<string, string>(list.items.map((p: any) => [p.metadata.name, p.status?.phase ?? ""]));
    };

    // the slow pod first: the agent is busy making its sandbox when the others arrive
    await create("slow");
    await eventually(async () => slowRequested);
    const quick = ["q1", "q2", "q3", "q4", "q5"];
    for (const q of quick) await create(q);

    const seen = await eventually(async () => {
      const p = await phases();
      return quick.every((q) => p.get(q) === "Running") && p;
    });
    // while the slow pod's sandbox is still held up
    expect(released).toBe(false);
    expect(seen.get("slow")).not.toBe("Running");
    expect((await phases()).get("slow")).not.toBe("Running");

    released = true;
    release();
    await eventually(async () => (await phases()).get("slow") === "Running");

    // a few more passes and watch-driven syncs: each pod still has one sandbox and one container
    await new Promise((r) => setTimeout(r, 1000));
    const all = await runtime.list({ [LABELS.podUid]: "" });
    for (const name of ["slow", ...quick]) {
      const mine = all.filter((c) => c.labels[LABELS.podName] === name);
      expect(mine.map((c) => `${c.labels[LABELS.container]}:${c.state}`).sort(), name).toEqual(["POD:running", "c:running"]);
    }
  });
});

describe("the node listing shared by overlapping pod syncs", () => {
  it("is not used for a pod whose containers changed after it was taken, and is used once it is newer", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-agent-listing-"));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = false;
    const runtime = new HollowRuntime(`x${process.pid % 10000}`, (spec) => {
      if (spec.labels[LABELS.container] !== "c") return undefined;
      held = true;
      return gate;
    });
    const perPodLists: string[] = [];
    const list = runtime.list;
    runtime.list = async (labels) => {
      if (labels[LABELS.podUid]) perPodLists.push(labels[LABELS.podUid]);
      return list(labels);
    };
    const worker = new PodWorker({
      runtime,
      api: {} as ApiClient, // no ConfigMap, Secret or env reference: the API is never asked
      nodeName: "box",
      hostIP: "192.0.2.1",
      dataDir: dir,
      pauseImage: "kubeflare/pause:test",
      now: Date.now,
      log: () => {},
      events: { record: () => {} },
    });
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", namespace: "shop", uid: "uid-1" },
      spec: { nodeName: "box", containers: [{ name: "c", image: "kubeflare/busybox:test" }] },
    };
    const apps = async () => (await runtime.list({ [LABELS.podUid]: "uid-1" })).filter((c) => c.labels[LABELS.container] === "c");
    try {
      await worker.listAll();
      // a sync makes the sandbox, then waits in the making of the container ...
      const first = worker.sync(pod);
      await eventually(async () => held);
      // ... while the next pass lists the node: the sandbox, not yet the container
      const listing = await worker.listAll();
      expect(listing.map((c) => c.labels[LABELS.container])).toEqual(["POD"]);
      release();
      await first;
      expect(await apps()).toHaveLength(1);
      // the next sync of the pod must not trust that listing: it would make the container again
      perPodLists.length = 0;
      const status = await worker.sync(pod);
      expect(await apps()).toHaveLength(1);
      expect(status.containerStatuses[0].state.running).toBeTruthy();
      expect(perPodLists).toContain("uid-1");
      // a listing taken after the change serves the pod's syncs without a list of its own
      await worker.listAll();
      perPodLists.length = 0;
      await worker.sync(pod);
      expect(perPodLists).toEqual([]);
      expect(await apps()).toHaveLength(1);
    } finally {
      release();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
