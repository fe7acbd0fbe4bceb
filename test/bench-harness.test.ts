/**
 * A smoke test of the bench harness (bench/run.ts, bench/report.ts) with scenarios that
 * take no time: rounds become medians with min and max, skips and failures are reported
 * rather than fatal, the table says pass or miss against each aim, -o json parses, the
 * Markdown report links charts that are SVG. The benchmarks themselves never run here.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type AllinoneResult, allinoneFigures, allinoneReport } from "../bench/allinone";
import type { Figure } from "../bench/figures";
import { chartFor, machine, markdown, mergeRounds, progress, table, writeReport } from "../bench/report";
import { runScenarios, type Scenario } from "../bench/run";

const quiet = progress({ write: () => true });

describe("bench harness", () => {
  it("runs scenarios: repeated ones as medians with min and max, a skip and a failure reported, the others still run", async () => {
    let round = 0;
    const scenarios: Scenario[] = [
      {
        name: "quick",
        about: "",
        repeat: 3,
        run: async (_o, say) => {
          say("working", 0.5);
          const v = [30, 10, 20][round++];
          return { figures: [{ name: "quick: latency", value: v, unit: "ms", aim: { op: "<=", value: 25 }, samples: [v, v + 1] }] };
        },
      },
      { name: "needs-docker", about: "", run: async () => "skipped: no Docker" },
      {
        name: "broken",
        about: "",
        run: async () => {
          throw new Error("boom");
        },
      },
      { name: "rate", about: "", run: async () => ({ figures: [{ name: "rate: throughput", value: 4000, unit: "req/s", aim: { op: ">=", value: 3000 } }] }) },
    ];
    const out = await runScenarios(scenarios, {}, quiet);
    expect(out.map((o) => o.scenario)).toEqual(["quick", "needs-docker", "broken", "rate"]);
    const quick = out[0].figures![0];
    expect([quick.value, quick.min, quick.max]).toEqual([20, 10, 30]);
    expect(quick.samples).toEqual([30, 31, 10, 11, 20, 21]);
    expect(out[1].skipped).toBe("skipped: no Docker");
    expect(out[2].error).toBe("boom");

    const text = table(out);
    const row = (name: string) => text.split("\n").find((l) => l.startsWith(name))!;
    expect(row("quick: latency")).toMatch(/20\.0 ms \(10\.0–30\.0\)\s+≤ 25\.0 ms\s+pass$/);
    expect(row("rate: throughput")).toMatch(/4,000 req\/s\s+≥ 3,000 req\/s\s+pass$/);
    expect(text).toContain("2 of 2 aims met");
    expect(text).toContain("needs-docker: skipped: no Docker");
    expect(text).toContain("broken: failed: boom");

    // a round over the aim is a miss
    expect(table([{ scenario: "x", figures: [{ name: "slow", value: 61, unit: "s", aim: { op: "<=", value: 60 } }] }])).toMatch(/slow .* miss$/m);

    const json = JSON.parse(JSON.stringify(machine(out, { date: "d" })));
    expect(json.scenarios[0].figures[0]).toMatchObject({ name: "quick: latency", value: 20, min: 10, max: 30, result: "pass" });
    expect(json.scenarios[1]).toMatchObject({ scenario: "needs-docker", skipped: "skipped: no Docker", figures: [] });
  });

  it("writes a Markdown report whose charts are SVG files beside it: distributions as histograms, rates over time as lines", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-bench-report-"));
    try {
      const lat: Figure = { name: "api <create> & p99", value: 5, unit: "ms", aim: { op: "<=", value: 25 }, samples: [1, 2, 2, 3, 5, 8, 40] };
      const rate: Figure = { name: "throughput", value: 3000, unit: "req/s", samples: [2900, 3100, 3000] };
      const path = writeReport(dir, [{ scenario: "api", figures: [lat, rate, { name: "plain", value: 1, unit: "s" }], text: "api: details" }], {
        date: "2026-12-02T04:00:00.000Z",
        host: "box",
        command: "npm run bench -- api",
      });
      const md = readFileSync(path, "utf8");
      expect(md).toContain("| api <create> & p99 | 5.00 ms | ≤ 25.0 ms |  | **pass** |");
      const svgs = readdirSync(dir).filter((f) => f.endsWith(".svg"));
      expect(svgs).toHaveLength(2);
      for (const f of svgs) expect(md).toContain(`](${f})`);
      const hist = readFileSync(join(dir, svgs.find((f) => f.includes("create"))!), "utf8");
      expect(hist.startsWith("<svg ")).toBe(true);
      expect(hist).toContain("api &lt;create&gt; &amp; p99");
      expect(hist).not.toContain("<create>");
      expect(hist.match(/<rect /g)!.length).toBeGreaterThan(2);
      expect(chartFor(rate)).toContain('<path d="M');
      expect(chartFor({ name: "one", value: 1, unit: "s", samples: [1] })).toBeUndefined();
      expect(readFileSync(join(dir, "latest.md"), "utf8")).toBe(md);
      expect(markdown([{ scenario: "s", skipped: "skipped: no Docker" }], { date: "d", host: "h", command: "c" }, new Map())).toContain(
        "- s: skipped: no Docker",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("progress: plain lines when not a terminal, a long step's ticks at most every 10 s; redrawn in place on a terminal", () => {
    let t = 0;
    const plain: string[] = [];
    const p = progress({ write: (s: string) => plain.push(s) }, () => t);
    p.scenario("deadnode", 0, 2);
    p("starting");
    for (let i = 0; i < 50; i++) {
      t += 1000;
      p(`tick ${i}`, i / 50);
    }
    expect(plain[0]).toBe("[1/2 deadnode] 0s starting\n");
    expect(plain.length).toBeLessThanOrEqual(7);
    expect(plain.every((l) => l.endsWith("\n") && !l.includes("\r"))).toBe(true);
    const tty: string[] = [];
    const q = progress({ write: (s: string) => tty.push(s), isTTY: true }, () => t);
    q.scenario("core", 1, 2);
    q("half way", 0.5);
    expect(tty[0]).toBe(`\r\x1b[2K[2/2 core] [${"#".repeat(10)}${"-".repeat(10)}]  50% 0s half way`);
    q.done();
    expect(tty.at(-1)).toBe("\r\x1b[2K");
  });

  it("the all-in-one's footprint: the server's median against 150 MB, and npm start's wrappers added to it", () => {
    const window = (samples: number[]) => ({ samples, median: samples[1], max: Math.max(...samples), cpuPercent: 3 });
    const r: AllinoneResult = {
      engine: "docker",
      nodes: 10,
      pods: 100,
      windowSeconds: 3,
      idle: window([129, 130, 131]),
      loaded: window([140, 145, 160]),
      peakMB: 189,
      startSeconds: 20,
      cpuMsPerPod: 70,
      split: { "V8 heap used": 42 },
      npmTree: [
        { pid: 1, command: "npm start", rssMB: 61 },
        { pid: 2, command: "sh -c node bin/kubeflare.mjs", rssMB: 2 },
        { pid: 3, command: "node bin/kubeflare.mjs --port 0", rssMB: 134 },
      ],
      wrappersMB: 63,
      leftover: 0,
    };
    const text = table([{ scenario: "allinone", figures: allinoneFigures(r) }]);
    const row = (start: string) => text.split("\n").find((l) => l.startsWith(start))!;
    expect(row("allinone: server resident memory, 10 nodes, 100 pods")).toMatch(/145 MB \(140–160\)\s+≤ 150 MB .* pass$/);
    // without root there are no page frames: the sum of VmRSS is what is held to the aim
    expect(row("allinone: npm start, server VmRSS + the wrappers' VmRSS")).toMatch(/208 MB\s+≤ 150 MB .* miss$/);
    expect(row("allinone: npm start in all")).toBeUndefined();
    expect(allinoneReport(r)).toContain("npm start 61.0 MB → sh -c node bin/kubeflare.mjs 2.0 MB → node bin/kubeflare.mjs 134.0 MB");
    // with them, what the wrappers add (pages the server does not map too) is, and the sum is shown beside it
    const own = table([{ scenario: "allinone", figures: allinoneFigures({ ...r, wrappersOwnMB: 22 }) }]);
    const ownRow = (start: string) => own.split("\n").find((l) => l.startsWith(start))!;
    expect(ownRow("allinone: npm start in all, server + what npm's wrappers add")).toMatch(/167 MB\s+≤ 150 MB .* miss$/);
    expect(ownRow("allinone: npm start, server VmRSS + the wrappers' VmRSS")).toMatch(/208 MB\s+(?!≤)/);
    expect(allinoneReport({ ...r, wrappersOwnMB: 22 })).toContain("the wrappers' own pages (not also the server's) 22.0 MB");
  });

  it("merges nothing when there is one round", () => {
    const f: Figure[] = [{ name: "a", value: 1, unit: "s" }];
    expect(mergeRounds([f])).toBe(f);
  });
});
