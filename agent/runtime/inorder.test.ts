import { describe, expect, it } from "vitest";
import { inOrder } from "./inorder";

describe("inOrder (terminal resizes)", () => {
  it("applies resizes one at a time, in order, and skips one overtaken while it waited", async () => {
    const applied: string[] = [];
    let running = 0;
    let most = 0;
    const slow = async (w: number, h: number) => {
      running++;
      most = Math.max(most, running);
      // the first is slow: the later ones would overtake it if sent at once
      await new Promise((r) => setTimeout(r, w === 101 ? 50 : 1));
      applied.push(`${w}x${h}`);
      running--;
    };
    const resize = inOrder(slow);
    resize(101, 30);
    await new Promise((r) => setTimeout(r, 10));
    // the first is under way; two more come
    resize(136, 30);
    resize(136, 39);
    await new Promise((r) => setTimeout(r, 100));
    expect(most).toBe(1);
    // the second was overtaken by the third before its turn: the newest is applied last
    expect(applied).toEqual(["101x30", "136x39"]);
    // sent at once, only the newest is applied
    resize(90, 20);
    resize(91, 21);
    await new Promise((r) => setTimeout(r, 20));
    expect(applied.slice(2)).toEqual(["91x21"]);
  });

  it("goes on after a failed resize", async () => {
    const applied: string[] = [];
    const resize = inOrder(async (w, h) => {
      if (w === 1) throw new Error("engine said no");
      applied.push(`${w}x${h}`);
    });
    resize(1, 1);
    await new Promise((r) => setTimeout(r, 5));
    resize(80, 24);
    await new Promise((r) => setTimeout(r, 5));
    expect(applied).toEqual(["80x24"]);
  });
});
