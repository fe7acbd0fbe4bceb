/**
 * LogShipper.shipPod: one pod's output shipped at once (before the agent reports its
 * containers finished), and not again by the periodic ship(). Pure logic: an engine's
 * logs() and the API's request() as fakes that record what they are asked.
 */
import { describe, expect, it } from "vitest";
import type { ApiClient } from "./api";
import { LogShipper } from "./logs";
import { type ContainerInfo, type ContainerRuntime, LABELS, type LogLine } from "./runtime/runtime";

const container = (id: string, uid: string, role: string, name = id): ContainerInfo => ({
  id,
  name: id,
  image: "i",
  state: "exited",
  labels: { [LABELS.podUid]: uid, [LABELS.role]: role, [LABELS.container]: name, [LABELS.attempt]: "0" },
});
const pod = (uid: string, name: string) => ({ apiVersion: "v1", kind: "Pod", metadata: { uid, name, namespace: "default" } });

describe("shipping one pod's output at once", () => {
  it("sends its app containers' new lines, nothing of other pods or sandboxes, and nothing twice", async () => {
    const out: Record<string, LogLine[]> = {
      a1: [{ stream: "stdout", time: "2026-01-01T00:00:01.000000000Z", text: "hello" }],
      s1: [{ stream: "stdout", time: "2026-01-01T00:00:01.000000000Z", text: "sandbox" }],
      b1: [{ stream: "stdout", time: "2026-01-01T00:00:01.000000000Z", text: "other" }],
    };
    const runtime = { logs: async (id: string) => out[id] ?? [] } as unknown as ContainerRuntime;
    const posted: { path: string; body: any }[] = [];
    const api = { request: async (_m: string, path: string, body: unknown) => void posted.push({ path, body }) } as unknown as ApiClient;
    const shipper = new LogShipper(runtime, api);
    const listing = [container("a1", "u-a", "app", "main"), container("s1", "u-a", "sandbox"), container("b1", "u-b", "app")];

    await shipper.shipPod(pod("u-a", "a"), listing);
    expect(posted).toEqual([{ path: "/api/v1/namespaces/default/pods/a/log", body: { container: "main", attempt: 0, lines: [out.a1[0]] } }]);
    await shipper.shipPod(pod("u-a", "a"), listing);
    expect(posted).toHaveLength(1);
    // the periodic pass sends the other pod's lines, not pod a's again
    await shipper.ship([pod("u-a", "a"), pod("u-b", "b")], listing);
    expect(posted.map((p) => p.path)).toEqual(["/api/v1/namespaces/default/pods/a/log", "/api/v1/namespaces/default/pods/b/log"]);
  });

  it("overlapping ships of one container (the periodic pass and a final status) send each line once, in order", async () => {
    const lines: LogLine[] = [];
    const at = (n: number) => `2026-01-01T00:00:0${n}.000000000Z`;
    const runtime = { logs: async () => [...lines] } as unknown as ContainerRuntime;
    const posted: string[][] = [];
    let release: () => void = () => {};
    const api = {
      request: async (_m: string, _p: string, body: any) => {
        posted.push(body.lines.map((l: LogLine) => l.text));
        // the first POST is slow: the second ship starts meanwhile
        if (posted.length === 1) await new Promise<void>((r) => (release = r));
      },
    } as unknown as ApiClient;
    const shipper = new LogShipper(runtime, api);
    const c = container("a1", "u-a", "app", "main");
    lines.push({ stream: "stdout", time: at(1), text: "one" });
    const first = shipper.ship([pod("u-a", "a")], [c]);
    await new Promise((r) => setTimeout(r, 10));
    lines.push({ stream: "stdout", time: at(2), text: "two" });
    const second = shipper.shipPod(pod("u-a", "a"), [c]);
    await new Promise((r) => setTimeout(r, 10));
    release();
    await Promise.all([first, second]);
    await shipper.ship([pod("u-a", "a")], [c]);
    expect(posted).toEqual([["one"], ["two"]]);
  });

  it("asks the engine for output only when the container's log mark changed", async () => {
    const lines: LogLine[] = [{ stream: "stdout", time: "2026-01-01T00:00:01.000000000Z", text: "one" }];
    let mark = "1";
    let reads = 0;
    const runtime = {
      logs: async () => {
        reads++;
        return [...lines];
      },
      logMark: async () => mark,
    } as unknown as ContainerRuntime;
    const posted: string[][] = [];
    const api = { request: async (_m: string, _p: string, body: any) => void posted.push(body.lines.map((l: LogLine) => l.text)) } as unknown as ApiClient;
    const shipper = new LogShipper(runtime, api);
    const c = container("a1", "u-a", "app", "main");
    await shipper.ship([pod("u-a", "a")], [c]);
    await shipper.ship([pod("u-a", "a")], [c]);
    expect(reads).toBe(1);
    lines.push({ stream: "stdout", time: "2026-01-01T00:00:02.000000000Z", text: "two" });
    mark = "2";
    await shipper.ship([pod("u-a", "a")], [c]);
    await shipper.ship([pod("u-a", "a")], [c]);
    expect(reads).toBe(2);
    expect(posted).toEqual([["one"], ["two"]]);
  });
});
