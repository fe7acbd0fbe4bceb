import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { distinctMB, ownMB, residentFrames } from "../bench/resident-pages";

const rssMB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1000;
const root = process.getuid?.() === 0;

describe.skipIf(!root)(`resident pages of a process tree${root ? "" : " (skipped: page frames need root)"}`, () => {
  it("counts the pages two Node processes share once, and what one adds over the other", async () => {
    const idle = spawn(process.execPath, ["-e", "process.stdout.write('up'); setTimeout(() => {}, 60000)"]);
    const big = spawn(process.execPath, ["-e", "globalThis.b = Buffer.alloc(40e6, 1); process.stdout.write('up'); setTimeout(() => {}, 60000)"]);
    try {
      await Promise.all([idle, big].map((c) => new Promise((r) => c.stdout!.once("data", r))));
      const [a, b] = [idle.pid!, big.pid!];
      const frames = residentFrames(a)!;
      // the frames are the process's resident pages (VmRSS, give or take what moved meanwhile)
      expect(Math.abs((frames.size * 4096) / 1e6 - rssMB(a))).toBeLessThan(3);
      const both = distinctMB([a, b])!;
      // both map the same node binary and libraries: together less than the sum of their RSS
      expect(both).toBeLessThan(rssMB(a) + rssMB(b) - 10);
      // the big one adds its 40 MB buffer and its own heap over the idle one, the idle one little
      expect(ownMB([b], [a])!).toBeGreaterThan(40);
      expect(ownMB([a], [b])!).toBeLessThan(rssMB(a) - 10);
    } finally {
      idle.kill("SIGKILL");
      big.kill("SIGKILL");
    }
  });
});
