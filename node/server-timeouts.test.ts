/**
 * Connection limits of the Node server, with real sockets to 127.0.0.1: TLS handshake,
 * header, idle and request timeouts (long-running requests exempt), the per-address
 * connection cap, and parser errors answered with a Status body.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestTimeout } from "../workers/api/app";
import { onError } from "../workers/api/errors";
import { type RunningServer, type ServerOptions, startServer } from "./server";

const start = async (o: Partial<ServerOptions>): Promise<RunningServer> =>
  startServer({
    port: 0,
    host: "127.0.0.1",
    dataDir: mkdtempSync(join(tmpdir(), "kf-timeouts-")),
    synchronous: "NORMAL",
    controllers: [],
    log: () => {},
    ...o,
  });

const stop = async (s: RunningServer | undefined) => {
  if (!s) return;
  await s.close();
  rmSync(s.dataDir, { recursive: true, force: true });
};

/** Resolves with how long (ms) until the socket was closed by the other side, or "open" after `within` ms. */
const closedWithin = (sock: Socket, within: number): Promise<number | "open"> =>
  new Promise((resolve) => {
    const t0 = Date.now();
    if (sock.destroyed) return resolve(0);
    const timer = setTimeout(() => resolve("open"), within);
    sock.on("error", () => {});
    sock.once("close", () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    });
    sock.resume(); // read whatever comes, so that the end of the stream is seen
  });

const tlsTo = (s: RunningServer): Promise<TLSSocket> =>
  new Promise((resolve, reject) => {
    const sock = tlsConnect({ host: "127.0.0.1", port: s.port, ca: s.caPem }, () => resolve(sock));
    sock.once("error", reject);
  });

/** Everything the server sends until it closes (or `within` ms pass). */
const readAll = (sock: Socket, within = 5000): Promise<string> =>
  new Promise((resolve) => {
    let out = "";
    sock.on("data", (d) => (out += d));
    const timer = setTimeout(() => resolve(out), within);
    sock.on("error", () => {});
    sock.once("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
  });

const parseResponse = (raw: string) => {
  const end = raw.indexOf("\r\n\r\n");
  const [statusLine, ...headers] = raw.slice(0, end).split("\r\n");
  return { status: Number(statusLine.split(" ")[1]), headers: headers.map((h) => h.toLowerCase()), body: JSON.parse(raw.slice(end + 4)) };
};

describe("timeouts", () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await start({ handshakeTimeoutMs: 500, headersTimeoutMs: 600, idleTimeoutMs: 600, requestTimeoutMs: 1200 });
  });
  afterAll(() => stop(s));

  it("closes a TCP connection that never starts TLS", async () => {
    const raw = netConnect(s.port, "127.0.0.1");
    expect(await closedWithin(raw, 5000)).not.toBe("open");
  });

  it("closes a TLS connection that never sends a request", async () => {
    const sock = await tlsTo(s);
    expect(await closedWithin(sock, 5000)).not.toBe("open");
  });

  it("closes a keep-alive connection idle after its request", async () => {
    const sock = await tlsTo(s);
    const got = readAll(sock);
    sock.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect(await closedWithin(sock, 5000)).not.toBe("open");
    expect(await got).toMatch(/^HTTP\/1.1 200 /);
  });

  it("cuts off headers trickled a line at a time after the header timeout (408 Status)", async () => {
    const sock = await tlsTo(s);
    const got = readAll(sock);
    sock.write(`GET /api/v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    let n = 0;
    const trickle = setInterval(() => sock.writable && sock.write(`X-Slow-${n++}: a\r\n`), 100);
    try {
      expect(await closedWithin(sock, 5000)).not.toBe("open");
    } finally {
      clearInterval(trickle);
    }
    expect(n).toBeGreaterThan(3); // it was still sending
    const r = parseResponse(await got);
    expect([r.status, r.body.kind, r.body.reason]).toEqual([408, "Status", "Timeout"]);
  });

  it("closes a connection whose body trickles past the request timeout", async () => {
    const sock = await tlsTo(s);
    sock.write(
      `POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.adminToken}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`,
    );
    const trickle = setInterval(() => sock.writable && sock.write(" "), 100);
    try {
      expect(await closedWithin(sock, 5000)).not.toBe("open");
    } finally {
      clearInterval(trickle);
    }
  });

  it("keeps a watch open past the request and idle timeouts, and it still delivers events", async () => {
    const sock = await tlsTo(s);
    let out = "";
    sock.on("data", (d) => (out += d));
    sock.write(`GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.adminToken}\r\n\r\n`);
    // longer than every timeout above
    expect(await closedWithin(sock, 2500)).toBe("open");
    const res = await fetchAs(s, "POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "after-timeouts" } });
    expect(res.status).toBe(201);
    await until(() => out.includes('"after-timeouts"'));
    expect(out).toMatch(/^HTTP\/1.1 200 /);
    expect(out).toContain('"type":"ADDED"');
    sock.destroy();
  });

  it("keeps logs -f open past the request timeout", async () => {
    const pod = { metadata: { name: "talker" }, spec: { nodeName: "n1", containers: [{ name: "c", image: "busybox" }] } };
    expect((await fetchAs(s, "POST", "/api/v1/namespaces/default/pods", pod)).status).toBe(201);
    const ship = (text: string) =>
      fetchAs(s, "POST", "/api/v1/namespaces/default/pods/talker/log", {
        container: "c",
        attempt: 0,
        lines: [{ time: new Date().toISOString(), stream: "stdout", text }],
      });
    expect((await ship("first line")).status).toBe(201);
    const sock = await tlsTo(s);
    let out = "";
    sock.on("data", (d) => (out += d));
    sock.write(`GET /api/v1/namespaces/default/pods/talker/log?follow=true HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.adminToken}\r\n\r\n`);
    await until(() => out.includes("first line"));
    expect(await closedWithin(sock, 2500)).toBe("open");
    expect((await ship("second line")).status).toBe(201);
    await until(() => out.includes("second line"));
    sock.destroy();
  });
});

describe("request timeout (504) for requests that are not long-running", () => {
  // the handler side of kube-apiserver's --request-timeout, on a stand-in handler that never answers in time
  const app = new Hono();
  app.onError(onError);
  app.use("*", requestTimeout(100));
  app.get("*", async (c) => {
    await new Promise((r) => setTimeout(r, 1000));
    return c.text("late");
  });

  it("answers 504 Timeout Status", async () => {
    const res = await app.request("/api/v1/namespaces");
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ kind: "Status", code: 504, reason: "Timeout" });
  });

  it("exempts watches and logs", async () => {
    expect(await (await app.request("/api/v1/namespaces?watch=true")).text()).toBe("late");
    expect(await (await app.request("/api/v1/namespaces/default/pods/p/log?follow=true")).text()).toBe("late");
  });
});

describe("connection cap per client address", () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await start({ maxConnectionsPerAddress: 4 });
  });
  afterAll(() => stop(s));

  it("closes connections over the cap at once, and takes new ones when some close", async () => {
    const held = await Promise.all([0, 1, 2, 3].map(() => tlsTo(s)));
    const extra = netConnect(s.port, "127.0.0.1");
    expect(await closedWithin(extra, 3000)).not.toBe("open");
    await expect(tlsTo(s)).rejects.toThrow();
    // the held ones still work
    const got = readAll(held[0]);
    held[0].write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(await got).toMatch(/^HTTP\/1.1 200 /);
    // held[0] is closed now: there is room for one more
    await until(async () => {
      try {
        const again = await tlsTo(s);
        held.push(again);
        return true;
      } catch {
        return false;
      }
    });
    for (const h of held) h.destroy();
  });
});

describe("limits of the request line and headers", () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await start({});
  });
  afterAll(() => stop(s));

  const send = async (request: string) => {
    const sock = await tlsTo(s);
    const got = readAll(sock);
    sock.write(request);
    return parseResponse(await got);
  };

  it("oversized headers: 431 with a Status body", async () => {
    const r = await send(`GET /api/v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`);
    expect(r.status).toBe(431);
    expect(r.body).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", code: 431, reason: "RequestHeaderFieldsTooLarge" });
    expect(r.headers).toContain("content-type: application/json");
  });

  it("an oversized URL: 431 with a Status body (the request line counts towards the limit, as in kube-apiserver)", async () => {
    const r = await send(`GET /api/v1/namespaces?labelSelector=${"a".repeat(64 * 1024)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect([r.status, r.body.kind, r.body.code]).toEqual([431, "Status", 431]);
  });

  it("a malformed request: 400 with a Status body", async () => {
    const r = await send(`GET /api/v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n`);
    expect([r.status, r.body.kind, r.body.reason]).toEqual([400, "Status", "BadRequest"]);
  });
});

const fetchAs = async (s: RunningServer, method: string, path: string, body?: unknown) => {
  const { Agent, fetch } = await import("undici");
  const dispatcher = new Agent({ connect: { ca: s.caPem } });
  try {
    const res = await fetch(s.url + path, {
      method,
      headers: { Authorization: `Bearer ${s.adminToken}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher,
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  } finally {
    await dispatcher.close();
  }
};

const until = async (f: () => boolean | Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
};
