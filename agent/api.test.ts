import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ApiClient } from "./api";

describe("ApiClient.requestUrgent", () => {
  let server: Server | undefined;
  let client: ApiClient | undefined;
  afterEach(async () => {
    await client?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it("is not queued behind the requests that hold every pooled connection", async () => {
    const held: ServerResponse[] = [];
    const ports = new Set<number>();
    server = createServer((req, res) => {
      ports.add(req.socket.remotePort!);
      if (req.url === "/slow") return void held.push(res);
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ path: req.url }));
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    client = new ApiClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: "t", maxConnections: 1 });
    const slow = client.request("GET", "/slow");
    while (!held.length) await new Promise((r) => setTimeout(r, 5));
    // the pool's one connection is busy: an ordinary request waits for it, an urgent one does not
    let ordinaryDone = false;
    const ordinary = client.request("GET", "/ordinary").then((x) => {
      ordinaryDone = true;
      return x;
    });
    expect(await client.requestUrgent("PUT", "/lease", { spec: {} })).toEqual({ path: "/lease" });
    expect(await client.find("/node", { urgent: true })).toEqual({ path: "/node" });
    expect(ordinaryDone).toBe(false);
    held[0].end("{}");
    await slow;
    expect(await ordinary).toEqual({ path: "/ordinary" });
    // two connections in all: the pool's one, and the urgent one (kept alive for both urgent requests)
    expect(ports.size).toBe(2);
  });
});
