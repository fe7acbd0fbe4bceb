import { describe, expect, it } from "vitest";
import { attribute, cpuByArea } from "../bench/cpu-profile";

const frame = (id: number, url: string, functionName: string, children: number[] = []) => ({ id, callFrame: { url, functionName }, children });

describe("the bench's CPU attribution", () => {
  it("charges a sample to the first frame of an area from the top of its stack, passes libraries through, shares out GC and drops idle", () => {
    const profile = {
      nodes: [
        frame(1, "", "(root)", [2, 6, 7, 8]),
        frame(2, "file:///x/bench/edge.ts", "main", [3]),
        frame(3, "file:///x/workers/index.ts", "scheduled", [4]),
        frame(4, "file:///x/node_modules/@libsql/client/web.js", "execute", [5]),
        frame(5, "file:///x/dev/hrana.ts", "handler"),
        frame(6, "", "(garbage collector)"),
        frame(7, "", "(idle)"),
        frame(8, "node:internal/timers", "listOnTimeout", [9]),
        frame(9, "file:///x/node_modules/hono/dist/index.js", "fetch"),
      ],
      // µs per sample: workers 300 (node 3) + 100 (node 4: a library, its caller's), database 200, GC 400, idle 1000, unattributed 200
      samples: [3, 4, 5, 6, 7, 9],
      timeDeltas: [300, 100, 200, 400, 1000, 200],
    };
    const areaOf = (url: string) => (/\/(workers|shared)\//.test(url) ? "worker" : /\/(dev|bench)\//.test(url) ? "elsewhere" : undefined);
    const ms = attribute(profile, areaOf);
    // busy 800 µs: worker 400, elsewhere 200, other 200; GC 400 shared 2:1:1
    expect(ms.worker).toBeCloseTo(0.6);
    expect(ms.elsewhere).toBeCloseTo(0.3);
    expect(ms["(other)"]).toBeCloseTo(0.3);
    expect(ms["(idle)"]).toBeUndefined();
  });

  it("profiles real work in this process, charging it to its own file", async () => {
    const ms = await cpuByArea(
      async () => {
        let x = 0;
        for (let i = 0; i < 30_000_000; i++) x += Math.sqrt(x + i);
        expect(x).toBeGreaterThan(0);
      },
      (url) => (url.includes("bench-cpu-profile.test") ? "test" : undefined),
    );
    // the loop is nearly all the busy time sampled (no assumption about how long it takes)
    expect(ms.test).toBeGreaterThan(0);
    expect(ms.test).toBeGreaterThan(ms["(other)"] ?? 0);
  });
});
