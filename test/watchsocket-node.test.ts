/**
 * WebSocket watches on the Node server (node/watchsocket.ts): kube-apiserver's protocol,
 * `GET …?watch=true` with `Upgrade: websocket`, one JSON event per text message, so the
 * agent speaks one protocol to both runtimes. A refused watch is refused before the upgrade.
 */
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WatchEvent } from "../shared/types";
import { eventually } from "./kubectl";
import { send, startNodeTarget } from "./targets";

let t: Awaited<ReturnType<typeof startNodeTarget>>;
beforeAll(async () => {
  t = await startNodeTarget({ watchPollMs: 50 });
}, 60_000);
afterAll(async () => t?.close());

const open = (token: string, path: string) =>
  new WebSocket(`${t.url.replace(/^http/, "ws")}${path}`, { headers: { Authorization: `Bearer ${token}` }, ca: t.caPem });

describe("WebSocket watches on the Node server", () => {
  it("sends one watch event per message, from the resourceVersion asked for, filtered", async () => {
    const first = await send(t, "POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "ws-a", labels: { k: "v" } } });
    const ws = open(
      t.token,
      `/api/v1/namespaces/default/configmaps?watch=true&labelSelector=k%3Dv&resourceVersion=${Number(first.json.metadata.resourceVersion) - 1}`,
    );
    const events: WatchEvent[] = [];
    ws.on("message", (d, binary) => {
      expect(binary).toBe(false);
      events.push(JSON.parse(d.toString()));
    });
    await new Promise((r, j) => {
      ws.once("open", r);
      ws.once("error", j);
    });
    try {
      await send(t, "POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "ws-other" } });
      await send(t, "POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "ws-b", labels: { k: "v" } } });
      // a heartbeat from the client is ignored (no answer, no harm)
      ws.send("ping");
      await eventually(async () => events.length === 2, 5000);
      expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED ws-a", "ADDED ws-b"]);
    } finally {
      ws.close();
    }
  });

  it("refuses an unauthenticated watch with 401 before upgrading", async () => {
    const ws = open("nope", "/api/v1/configmaps?watch=true");
    const status = await new Promise<number>((resolve) => {
      ws.once("unexpected-response", (_q, res) => resolve(res.statusCode ?? 0));
      ws.once("open", () => resolve(101));
      ws.once("error", () => resolve(-1));
    });
    expect(status).toBe(401);
  });
});
