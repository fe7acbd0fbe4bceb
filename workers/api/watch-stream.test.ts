/**
 * The watch response (rest.ts watchResponse): events that pile up while the connection
 * cannot take more go out together, in order; what it holds for a client that does not
 * read is bounded; errors end the stream with an ERROR event; cancelling ends the watch.
 */
import { describe, expect, it } from "vitest";
import type { WatchEvent } from "../../shared/types";
import { WATCH_BUFFER_CHARS, watchResponse } from "./rest";

const ev = (i: number, pad = 0): WatchEvent => ({
  type: "ADDED",
  object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `c${i}`, resourceVersion: String(i) }, data: { pad: "x".repeat(pad) } },
});

const readAll = async (res: Response) => {
  const chunks: string[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return chunks;
    chunks.push(dec.decode(value));
  }
};

describe("watch response", () => {
  it("sends the events that piled up while nothing was read as one chunk, in order", async () => {
    async function* events() {
      for (let i = 0; i < 200; i++) yield ev(i);
    }
    const res = watchResponse(events(), new AbortController(), (e) => e);
    await new Promise((r) => setTimeout(r, 50));
    const chunks = await readAll(res);
    const lines = chunks.join("").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).object.metadata.name)).toEqual(Array.from({ length: 200 }, (_, i) => `c${i}`));
    expect(chunks.length).toBeLessThan(5);
  });

  it("stops reading the watch when a client does not read what it holds", async () => {
    let produced = 0;
    async function* events() {
      for (let i = 0; ; i++) {
        produced++;
        yield ev(i, 1000);
      }
    }
    const ac = new AbortController();
    const res = watchResponse(events(), ac, (e) => e);
    await new Promise((r) => setTimeout(r, 200));
    // about WATCH_BUFFER_CHARS of ~1 KB events, then it waits
    expect(produced).toBeGreaterThan(10);
    expect(produced).toBeLessThan(WATCH_BUFFER_CHARS / 1000 + 10);
    const before = produced;
    await new Promise((r) => setTimeout(r, 100));
    expect(produced).toBe(before);
    await res.body!.cancel();
    expect(ac.signal.aborted).toBe(true);
  });

  it("ends with an ERROR event after the events before a failure", async () => {
    async function* events(): AsyncGenerator<WatchEvent> {
      yield ev(1);
      throw new Error("boom");
    }
    const lines = (await readAll(watchResponse(events(), new AbortController(), (e) => e)))
      .join("")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(["ADDED", "ERROR"]);
    expect(lines[1].object).toMatchObject({ kind: "Status", code: 500, message: "boom" });
  });

  it("ends the watch when the client goes away", async () => {
    let finished = false;
    async function* events(): AsyncGenerator<WatchEvent> {
      try {
        for (let i = 0; ; i++) {
          yield ev(i);
          await new Promise((r) => setTimeout(r, 5));
        }
      } finally {
        finished = true;
      }
    }
    const ac = new AbortController();
    const res = watchResponse(events(), ac, (e) => e);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await new Promise((r) => setTimeout(r, 50));
    expect(ac.signal.aborted).toBe(true);
    expect(finished).toBe(true);
  });
});
