/**
 * PATCH without a resourceVersion is re-applied onto the newest object when another
 * writer got there first (kube-apiserver's GuaranteedUpdate), so concurrent patches all
 * succeed; one that names a resourceVersion still gets 409 Conflict once it is stale.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNodeTarget } from "./targets";

let target: Awaited<ReturnType<typeof startNodeTarget>>;
beforeAll(async () => {
  target = await startNodeTarget();
});
afterAll(() => target?.close());

const merge = (body: unknown) => ({
  method: "PATCH",
  headers: { "Content-Type": "application/merge-patch+json" },
  body: JSON.stringify(body),
});

describe("concurrent patches", () => {
  for (const [resource, body] of [
    ["configmaps", { data: {} }],
    ["pods", { spec: { containers: [{ name: "c", image: "busybox" }] } }],
  ] as const) {
    it(`applies 20 concurrent merge patches of one of the ${resource} without resourceVersion, none refused`, async () => {
      const path = `/api/v1/namespaces/default/${resource}/shared`;
      const created = await target.fetch(`/api/v1/namespaces/default/${resource}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ metadata: { name: "shared" }, ...body }),
      });
      expect(created.status).toBe(201);
      const codes = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => (await target.fetch(path, merge({ metadata: { labels: { [`k${i}`]: String(i) } } }))).status),
      );
      expect(codes).toEqual(Array(20).fill(200));
      const got = (await (await target.fetch(path)).json()) as any;
      expect(Object.keys(got.metadata.labels).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `k${i}`).sort());
    });
  }

  it("still refuses a patch that pins a resourceVersion that is no longer current", async () => {
    const path = "/api/v1/namespaces/default/configmaps/pinned";
    const created = await target.fetch("/api/v1/namespaces/default/configmaps", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ metadata: { name: "pinned" }, data: { a: "1" } }),
    });
    const rv = ((await created.json()) as any).metadata.resourceVersion;
    expect((await target.fetch(path, merge({ data: { a: "2" } }))).status).toBe(200);
    const stale = await target.fetch(path, merge({ metadata: { resourceVersion: rv }, data: { a: "3" } }));
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as any).reason).toBe("Conflict");
    expect(((await (await target.fetch(path)).json()) as any).data).toEqual({ a: "2" });
  });
});
