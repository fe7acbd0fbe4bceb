import { afterEach, expect, it } from "vitest";
import { fakeClock, startControlPlane, type TestControlPlane } from "../../test/controlplane";
import { eventTtlController } from "./eventttl";

let cp: TestControlPlane;
afterEach(async () => cp?.close());

it("deletes events older than the TTL on resync, and keeps recent ones", async () => {
  const clock = fakeClock();
  cp = await startControlPlane({ controllers: [eventTtlController], now: clock.now, config: { eventTtlMs: 60 * 60 * 1000 } });
  const pod = await cp.api.create("pods", "default", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p" },
    spec: { containers: [{ name: "c", image: "i" }] },
  });
  await cp.manager.ctx.events.record(pod, "Normal", "Old", "long ago");
  clock.advance(50 * 60 * 1000);
  await cp.manager.ctx.events.record(pod, "Normal", "Recent", "just now");
  clock.advance(11 * 60 * 1000);
  await cp.manager.resync();
  expect((await cp.api.list("events", "default")).map((e) => e.reason)).toEqual(["Recent"]);
});
