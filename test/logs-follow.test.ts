/**
 * `kubectl logs -f` ends when the container it follows has stopped, as kubelet's follow does
 * (found walking the README: `kubectl logs -f job/pi` on a finished Job hung for good).
 * The API alone on both runtimes: the admin plays the agent (log uploads, pod status).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send, startNodeTarget, startWorkerTarget, type Target } from "./targets";

describe.each([
  ["Node server", () => startNodeTarget()],
  ["Worker in Miniflare", () => startWorkerTarget()],
] as const)("pods/log?follow=true: %s", (_name, start) => {
  let t: Target;
  beforeAll(async () => {
    t = await start();
  }, 120_000);
  afterAll(async () => t?.close());

  const call = (method: string, path: string, body?: unknown) => send(t, method, path, body);
  const pods = "/api/v1/namespaces/default/pods";
  const makePod = async (name: string) => {
    const r = await call("POST", pods, { metadata: { name }, spec: { nodeName: "box", containers: [{ name: "main", image: "busybox" }] } });
    expect(r.status).toBe(201);
  };
  const setStatus = async (name: string, status: unknown) => {
    const pod = (await call("GET", `${pods}/${name}`)).json;
    const r = await call("PUT", `${pods}/${name}/status`, { ...pod, status });
    expect(r.status).toBe(200);
  };
  const ship = async (name: string, attempt: number, ...texts: string[]) => {
    const lines = texts.map((text) => ({ time: new Date().toISOString(), stream: "stdout", text }));
    expect((await call("POST", `${pods}/${name}/log`, { container: "main", attempt, lines })).status).toBe(201);
  };
  /** GET ...log?follow=true: the text so far, and whether the stream has ended */
  const follow = async (name: string) => {
    const res = await t.fetch(`${pods}/${name}/log?follow=true`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = "";
    let ended = false;
    const done = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += dec.decode(value, { stream: true });
      }
      ended = true;
    })();
    return { text: () => text, ended: () => ended, done, cancel: () => reader.cancel().catch(() => undefined) };
  };
  const until = async (ok: () => boolean, what: string) => {
    for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
    if (!ok()) throw new Error(`timed out waiting for ${what}`);
  };
  const running = {
    phase: "Running",
    containerStatuses: [{ name: "main", ready: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } }],
  };
  const terminated = (finishedAt: string, phase = "Succeeded") => ({
    phase,
    containerStatuses: [{ name: "main", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed", finishedAt } } }],
  });

  it("of a container that finished a while ago: the whole output, then the stream ends", async () => {
    await makePod("done-long-ago");
    await ship("done-long-ago", 0, "done");
    await setStatus("done-long-ago", terminated(new Date(Date.now() - 60_000).toISOString()));
    const f = await follow("done-long-ago");
    try {
      await f.done;
      expect(f.text()).toBe("done\n");
    } finally {
      await f.cancel();
    }
  }, 60_000);

  it("of a running container: new lines as shipped; after it stops, its last shipped lines, then the end", async () => {
    await makePod("talker");
    await setStatus("talker", running);
    await ship("talker", 0, "one");
    const f = await follow("talker");
    try {
      await until(() => f.text() === "one\n", "the first line");
      await ship("talker", 0, "two");
      await until(() => f.text() === "one\ntwo\n", "a line shipped while following");
      expect(f.ended()).toBe(false);
      // the container exits; its last output reaches the control plane after its status, as an agent ships it
      await setStatus("talker", terminated(new Date().toISOString()));
      await ship("talker", 0, "three");
      await f.done;
      expect(f.text()).toBe("one\ntwo\nthree\n");
    } finally {
      await f.cancel();
    }
  }, 60_000);

  it("of a container that restarted: that instance's output, and the end when the next one starts", async () => {
    await makePod("crasher");
    await setStatus("crasher", running);
    await ship("crasher", 0, "first life");
    const f = await follow("crasher");
    try {
      await until(() => f.text() === "first life\n", "the first instance's line");
      const died = new Date(Date.now() - 60_000).toISOString();
      await setStatus("crasher", {
        phase: "Running",
        containerStatuses: [
          {
            name: "main",
            ready: true,
            restartCount: 1,
            state: { running: { startedAt: new Date().toISOString() } },
            lastState: { terminated: { exitCode: 1, reason: "Error", finishedAt: died } },
          },
        ],
      });
      await ship("crasher", 1, "second life");
      await f.done;
      expect(f.text()).toBe("first life\n");
    } finally {
      await f.cancel();
    }
  }, 60_000);
});
