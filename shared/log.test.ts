import { describe, expect, it } from "vitest";
import { asLogger, createLogger, type Level, logError, logFlags, logWarn } from "./log";

const capture = (o: { format?: "text" | "json"; level?: Level; verbosity?: number } = {}) => {
  const lines: { line: string; level: Level }[] = [];
  const log = createLogger({ ...o, sink: (line, level) => lines.push({ line, level }), now: () => new Date("2026-12-02T04:21:16.123Z") });
  return { log, lines, text: () => lines.map((l) => l.line) };
};

describe("structured logs", () => {
  it("JSON: one object per line with ts, level and msg, and the logger's and the call's fields", () => {
    const { log, text } = capture({ format: "json" });
    const agent = log.with({ component: "agent", node: "box-1" });
    agent("registered; runtime docker://27");
    agent.error("pod default/web: image pull failed\nsecond line", { pod: "default/web", err: new Error("boom") });
    agent.warn("lease renewal failed (1)", { attempt: 1 });
    const out = text().join("\n") + "\n";
    const parsed = out
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(parsed).toHaveLength(3);
    for (const p of parsed) {
      expect(Number.isNaN(Date.parse(p.ts))).toBe(false);
      expect(typeof p.msg).toBe("string");
      expect(p.component).toBe("agent");
      expect(p.node).toBe("box-1");
    }
    expect(parsed.map((p) => p.level)).toEqual(["info", "error", "warn"]);
    expect(parsed[0]).toEqual({ ts: "2026-12-02T04:21:16.123Z", level: "info", msg: "registered; runtime docker://27", component: "agent", node: "box-1" });
    expect(parsed[1]).toMatchObject({ msg: "pod default/web: image pull failed\nsecond line", pod: "default/web", err: "boom" });
    expect(parsed[2].attempt).toBe(1);
  });

  it("text by default: readable, one line per event, time, level, component, message, key=value", () => {
    const { log, text, lines } = capture();
    const c = log.with({ component: "node-lifecycle" });
    c("node box-1 is unreachable", { node: "box-1", grace: "40s" });
    c.error("resync failed:\nconnection refused", { reason: "ECONNREFUSED", detail: "two words" });
    expect(text()).toEqual([
      "2026-12-02T04:21:16.123Z INFO  node-lifecycle: node box-1 is unreachable node=box-1 grace=40s",
      '2026-12-02T04:21:16.123Z ERROR node-lifecycle: resync failed:\\nconnection refused reason=ECONNREFUSED detail="two words"',
    ]);
    expect(lines.map((l) => l.level)).toEqual(["info", "error"]);
    expect(text().every((l) => !l.includes("{"))).toBe(true);
  });

  it("levels and klog verbosity decide what is written", () => {
    const quiet = capture({ level: "warn" });
    quiet.log("info");
    quiet.log.debug("debug");
    quiet.log.warn("warn");
    quiet.log.error("error");
    expect(quiet.text().map((l) => l.split(" ").at(-1))).toEqual(["warn", "error"]);

    const normal = capture();
    normal.log.debug("hidden");
    normal.log.v(2)("hidden too");
    normal.log("shown");
    expect(normal.text()).toHaveLength(1);

    const v2 = capture({ verbosity: 2 });
    v2.log.v(2)("v2");
    v2.log.v(3)("v3");
    v2.log.debug("debug");
    expect(v2.text().map((l) => l.split(" ").at(-1))).toEqual(["v2"]);

    const debug = capture({ level: "debug" });
    debug.log.debug("debug");
    debug.log.v(4)("v4");
    debug.log.v(5)("v5");
    expect(debug.text().map((l) => l.split(" ").at(-1))).toEqual(["debug", "v4"]);
    expect(debug.lines.map((l) => l.level)).toEqual(["debug", "debug"]);
  });

  it("a plain log(msg) function still works where a Logger is taken, and levels reach a Logger through it", () => {
    const got: string[] = [];
    const plain = asLogger((m: string) => void got.push(m), { component: "x" }, "[agent a] ");
    plain("hello");
    plain.error("bad");
    expect(got).toEqual(["[agent a] hello", "[agent a] bad"]);
    logError((m: string) => got.push(m), "through a function");
    expect(got.at(-1)).toBe("through a function");

    const { log, lines } = capture({ format: "json" });
    const handed: (msg: string) => void = log;
    logError(handed, "as error");
    logWarn(handed, "as warning");
    handed("as info");
    expect(lines.map((l) => JSON.parse(l.line).level)).toEqual(["error", "warn", "info"]);
  });

  it("checks the flags, both spellings of the format flag", () => {
    expect(logFlags({})).toEqual({ format: "text", level: "info", verbosity: 0 });
    expect(logFlags({ "log-format": "json" }).format).toBe("json");
    expect(logFlags({ "logging-format": "json" }).format).toBe("json");
    expect(logFlags({ output: "json", "log-level": "DEBUG", v: "3" })).toEqual({ format: "json", level: "debug", verbosity: 3 });
    expect(() => logFlags({ "logging-format": "yaml" })).toThrow(/--logging-format must be text or json, got "yaml"/);
    expect(() => logFlags({ "log-level": "loud" })).toThrow(/--log-level/);
    expect(() => logFlags({ v: "x" })).toThrow(/-v must be/);
  });
});
