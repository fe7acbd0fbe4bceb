import { describe, expect, it } from "vitest";
import { jsonEqual, jsonKey } from "./json";

describe("jsonKey", () => {
  it("is shared by two values exactly when jsonEqual holds", () => {
    const values: unknown[] = [
      1,
      "1",
      true,
      "true",
      null,
      "null",
      [],
      {},
      [1, "1"],
      ["1", 1],
      { a: 1, b: [2, { c: "3" }] },
      { b: [2, { c: "3" }], a: 1 },
      { a: 1, b: [2, { c: 3 }] },
      { a: 1, u: undefined },
      { a: 1 },
      { "a,b": 1 },
      { a: ",b" },
      'x":1',
    ];
    for (const x of values) for (const y of values) expect([x, y, jsonKey(x) === jsonKey(y)]).toEqual([x, y, jsonEqual(x, y)]);
  });
});
