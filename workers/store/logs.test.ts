import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../node/db";
import { LogStore } from "./logs";

let dir: string;
let client: Client;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kf-logs-"));
  client = await openDatabase(`file:${join(dir, "db.sqlite")}`, { synchronous: "NORMAL" });
});
afterAll(() => {
  client.close();
  rmSync(dir, { recursive: true, force: true });
});

const t = (s: number) => `2026-01-01T00:00:${String(s).padStart(2, "0")}.000000000Z`;
const lines = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ time: t(from + i), stream: "stdout" as const, text: `line ${from + i}` }));

describe("log store", () => {
  it("appends idempotently and reads tails", async () => {
    const logs = new LogStore(client);
    expect(await logs.append("u1", "c", 0, lines(1, 5))).toBe(5);
    expect(await logs.append("u1", "c", 0, lines(3, 7))).toBe(2); // 3..5 were there already
    expect((await logs.read("u1", "c", 0)).map((l) => l.line)).toEqual(["line 1", "line 2", "line 3", "line 4", "line 5", "line 6", "line 7"]);
    expect((await logs.read("u1", "c", 0, { tail: 2 })).map((l) => l.line)).toEqual(["line 6", "line 7"]);
    const all = await logs.read("u1", "c", 0);
    expect((await logs.read("u1", "c", 0, { afterId: all[4].id })).map((l) => l.line)).toEqual(["line 6", "line 7"]);
    expect((await logs.read("u1", "c", 0, { sinceTime: t(6) })).map((l) => l.line)).toEqual(["line 6", "line 7"]);
  });

  it("keeps the current and previous instance only, within the byte limit", async () => {
    const logs = new LogStore(client, 10 * (6 + 48));
    await logs.append("u2", "c", 0, lines(1, 3));
    await logs.append("u2", "c", 1, lines(4, 6));
    await logs.append("u2", "c", 2, lines(7, 9));
    expect(await logs.read("u2", "c", 0)).toEqual([]);
    expect((await logs.read("u2", "c", 1)).map((l) => l.line)).toEqual(["line 4", "line 5", "line 6"]);
    await logs.append("u2", "c", 2, lines(10, 20));
    const kept = [...(await logs.read("u2", "c", 1)), ...(await logs.read("u2", "c", 2))];
    expect(kept.length).toBeLessThanOrEqual(10);
    expect(kept[kept.length - 1].line).toBe("line 20");
  });
});
