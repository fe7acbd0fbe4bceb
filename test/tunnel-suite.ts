/**
 * The control plane's half of the agent tunnel, against a running control plane (the
 * Node server or the Worker in Miniflare) with toy agents (test/tunnel-toy-agent.ts):
 * real HTTPS, real `ws` clients, the real kubectl.
 */
import { createServer, type Server } from "node:http";
import { PassThrough, Writable } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";
import { expect } from "vitest";
import { WebSocket } from "ws";
import { STREAM_PATH, TUNNEL_PATH, TUNNEL_PROTOCOL } from "../shared/tunnel";
import { startToyAgent, type ToyAgent } from "./tunnel-toy-agent";

export interface TunnelEnv {
  /** https://127.0.0.1:port */
  url: string;
  ca: string;
  admin: string;
  viewer: string;
  kubeconfigPath: string;
}

export type Api = (method: string, path: string, body?: unknown, token?: string) => Promise<{ status: number; json: any; text: string }>;

export const apiOf = (env: TunnelEnv): Api => {
  const dispatcher = new Agent({ connect: { ca: env.ca } });
  return async (method, path, body, token = env.admin) => {
    const res = await undiciFetch(env.url + path, {
      method,
      dispatcher,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, json, text };
  };
};

export const wsUrl = (env: TunnelEnv, path: string) => env.url.replace(/^http/, "ws") + path;

/** A WebSocket handshake that was refused: its HTTP status and Status body (with `token` as the bearer token, and `headers`). */
export const refused = (env: TunnelEnv, path: string, protocols: string[], token?: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; json: any }>((resolve, reject) => {
    const ws = new WebSocket(wsUrl(env, path), protocols, { ca: env.ca, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers } });
    ws.on("open", () => {
      ws.terminate();
      reject(new Error("the handshake succeeded"));
    });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => {
        let json: any;
        try {
          json = JSON.parse(body);
        } catch {}
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    ws.on("error", () => {});
  });

/** An open exec/attach session over WebSocket, its output per channel so far. */
export interface Session {
  ws: WebSocket;
  protocol: string;
  out: Record<number, string>;
  /** resolves with the close code */
  closed: Promise<number>;
  /** wait until the output of a channel contains s */
  waitFor(ch: number, s: string, ms?: number): Promise<void>;
  stdin(s: string | Buffer): void;
}

export const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

export const session = (env: TunnelEnv, path: string, protocols = EXEC_PROTOCOLS, token = env.admin) =>
  new Promise<Session>((resolve, reject) => {
    const ws = new WebSocket(wsUrl(env, path), protocols, { ca: env.ca, headers: { Authorization: `Bearer ${token}` } });
    const out: Record<number, string> = {};
    const waiters = new Set<() => void>();
    ws.on("message", (d: Buffer) => {
      out[d[0]] = (out[d[0]] ?? "") + d.subarray(1).toString();
      for (const w of waiters) w();
    });
    const closed = new Promise<number>((r) => ws.on("close", (code) => r(code)));
    ws.on("unexpected-response", (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    ws.on("error", reject);
    ws.on("open", () =>
      resolve({
        ws,
        protocol: ws.protocol,
        out,
        closed,
        stdin: (s) => ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(s)])),
        waitFor: (ch, s, ms = 5000) =>
          new Promise<void>((res, rej) => {
            const check = () => {
              if ((out[ch] ?? "").includes(s)) {
                waiters.delete(check);
                clearTimeout(t);
                res();
              }
            };
            const t = setTimeout(() => {
              waiters.delete(check);
              rej(new Error(`channel ${ch} never had ${JSON.stringify(s)}; it has ${JSON.stringify(out[ch] ?? "")}`));
            }, ms);
            waiters.add(check);
            check();
          }),
      }),
    );
  });

/** A session, retried while the node is at its stream limit (streams closed a moment ago are still being counted down). */
export const sessionWhenFree = async (env: TunnelEnv, path: string): Promise<Session> => {
  for (let i = 0; ; i++) {
    try {
      return await session(env, path);
    } catch (e) {
      if (i > 50 || !String(e).includes("429")) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
};

export const execPath = (pod: string, extra = "") => `/api/v1/namespaces/default/pods/${pod}/exec?command=sh&stdin=true&stdout=true&stderr=true${extra}`;

/** Two joined nodes, pods on them, a Service with a slice, and a local HTTP server behind the pod port 8080. */
export interface World {
  api: Api;
  creds: Record<string, string>;
  http: Server;
  httpPort: number;
  seen: { method: string; url: string; authorization?: string; body: string }[];
  agents: Record<string, ToyAgent>;
  startAgent(node: string, extra?: { silent?: Set<string>; late?: Map<string, number> }): Promise<ToyAgent>;
  close(): Promise<void>;
}

/** A 3 MiB body of varied bytes. */
const BIG = Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => (i * 7 + (i >> 10)) & 0xff));

export const setupWorld = async (env: TunnelEnv): Promise<World> => {
  const api = apiOf(env);
  const seen: World["seen"] = [];
  const http = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      if (req.url === "/chunked") {
        // no Content-Length: Node sends it chunked
        res.writeHead(201, { "Content-Type": "text/plain", "X-Backend": "toy" });
        res.write("one,");
        setTimeout(() => {
          res.write("two,");
          res.end("three");
        }, 20);
        return;
      }
      if (req.url === "/big") {
        res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": String(BIG.length) });
        return res.end(BIG);
      }
      if (req.url === "/missing") {
        res.writeHead(404, { "Content-Type": "text/plain", "X-Backend": "toy" });
        return res.end("not here");
      }
      res.writeHead(200, { "Content-Type": "text/plain", "X-Backend": "toy" });
      res.end(`backend saw ${req.method} ${req.url} ${body}`);
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  const httpPort = (http.address() as AddressInfo).port;

  const tok = await api("POST", "/apis/kubeflare.dev/v1/bootstraptokens", { maxNodes: 3 });
  expect(tok.status).toBe(201);
  const creds: Record<string, string> = {};
  for (const n of ["node-a", "node-b", "node-c"]) {
    const j = await api("POST", "/apis/kubeflare.dev/v1/join", { nodeName: n }, tok.json.token);
    expect(j.status).toBe(201);
    creds[n] = j.json.token;
  }
  const pod = (name: string, node: string | undefined, phase: string, containers: any[], annotations?: Record<string, string>) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: name.startsWith("web") ? "web" : name }, ...(annotations ? { annotations } : {}) },
    spec: { ...(node ? { nodeName: node } : {}), containers },
    phase,
  });
  const pods = [
    pod("p-a", "node-a", "Running", [
      { name: "main", image: "x", ports: [{ containerPort: 8080 }] },
      { name: "reject-me", image: "x" },
    ]),
    pod("p-b", "node-b", "Running", [{ name: "main", image: "x" }]),
    pod(
      "multi",
      "node-a",
      "Running",
      [
        { name: "first", image: "x" },
        { name: "side", image: "x" },
      ],
      { "kubectl.kubernetes.io/default-container": "side" },
    ),
    pod("quiet", "node-a", "Running", [{ name: "main", image: "x" }]),
    pod("done", "node-a", "Succeeded", [{ name: "main", image: "x" }]),
    pod("unbound", undefined, "Pending", [{ name: "main", image: "x" }]),
    pod("lonely", "node-c", "Running", [{ name: "main", image: "x" }]),
    pod("web-1", "node-b", "Running", [{ name: "main", image: "x", ports: [{ containerPort: 8080 }] }]),
  ];
  for (const p of pods) {
    const { phase, ...obj } = p;
    const c = await api("POST", "/api/v1/namespaces/default/pods", obj);
    expect(c.status, c.text).toBe(201);
    const s = await api("PUT", `/api/v1/namespaces/default/pods/${p.metadata.name}/status`, { ...c.json, status: { phase } });
    expect(s.status, s.text).toBe(200);
  }
  const svc = await api("POST", "/api/v1/namespaces/default/services", {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web" },
    spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
  });
  expect(svc.status, svc.text).toBe(201);
  const slice = await api("POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-abc", labels: { "kubernetes.io/service-name": "web" } },
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.42.0.9"], conditions: { ready: true }, nodeName: "node-b", targetRef: { kind: "Pod", namespace: "default", name: "web-1" } }],
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  });
  expect(slice.status, slice.text).toBe(201);

  const agents: Record<string, ToyAgent> = {};
  const startAgent = async (node: string, extra: { silent?: Set<string>; late?: Map<string, number> } = {}) => {
    const a = startToyAgent({ url: env.url, node, token: creds[node], ca: env.ca, ports: { 8080: httpPort }, ...extra });
    await a.connected;
    agents[node] = a;
    return a;
  };
  await startAgent("node-a", { silent: new Set(["quiet"]) });
  await startAgent("node-b");
  return {
    api,
    creds,
    http,
    httpPort,
    seen,
    agents,
    startAgent,
    close: async () => {
      for (const a of Object.values(agents)) await a.close();
      await new Promise((r) => http.close(r));
    },
  };
};

/** A TCP echo server (for concurrency tests). */
export const echoServer = async () => {
  const s = createTcpServer((c) => c.pipe(c));
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  return { port: (s.address() as AddressInfo).port, close: () => new Promise((r) => s.close(r)) };
};

export { STREAM_PATH, TUNNEL_PATH, TUNNEL_PROTOCOL };

/** The cases both runtimes pass. */
export const commonCases = (it: typeof import("vitest").it, ctx: { env(): TunnelEnv; world(): World; answerTimeoutS: number; maxStreams: number }) => {
  it("exec over WebSocket reaches the agent of the pod's node: v5 negotiated, stdin echoed, the exit status on channel 3", async () => {
    const env = ctx.env();
    const s = await session(env, execPath("p-a"));
    expect(s.protocol).toBe("v5.channel.k8s.io");
    await s.waitFor(1, "hello from node-a/p-a/main\n");
    s.stdin("ping\n");
    await s.waitFor(1, "ping\n");
    s.stdin("exit 3\n");
    expect(await s.closed).toBe(1000);
    expect(JSON.parse(s.out[3])).toMatchObject({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "3" }] } });
    // the other node's pod, through the other node's tunnel; v4 when the client offers only v4
    const b = await session(env, execPath("p-b"), ["v4.channel.k8s.io"]);
    expect(b.protocol).toBe("v4.channel.k8s.io");
    await b.waitFor(1, "hello from node-b/p-b/main\n");
    b.ws.close();
    const opens = ctx.world().agents["node-a"].opens;
    const open = opens.find((o) => o.pod === "p-a")!;
    expect(open).toMatchObject({ kind: "exec", namespace: "default", container: "main", framing: "websocket", protocols: EXEC_PROTOCOLS });
    expect(open.query).toContain("command=sh");
    expect(ctx.world().agents["node-b"].opens.some((o) => o.pod === "p-a")).toBe(false);
  });

  it("defaults the container (kubectl.kubernetes.io/default-container, else the first) and refuses one the pod does not have (400)", async () => {
    const env = ctx.env();
    const s = await session(env, execPath("multi"));
    await s.waitFor(1, "hello from node-a/multi/side\n");
    s.ws.close();
    const named = await session(env, `${execPath("multi")}&container=first`);
    await named.waitFor(1, "hello from node-a/multi/first\n");
    named.ws.close();
    const bad = await refused(env, `${execPath("multi")}&container=nope`, EXEC_PROTOCOLS, env.admin);
    expect([bad.status, bad.json?.reason, bad.json?.message]).toEqual([400, "BadRequest", "container nope is not valid for pod multi"]);
    const attach = await session(env, "/api/v1/namespaces/default/pods/p-a/attach?stdin=true&stdout=true");
    await attach.waitFor(1, "hello from node-a/p-a/main\n");
    attach.ws.close();
    expect(ctx.world().agents["node-a"].opens.at(-1)).toMatchObject({ kind: "attach", pod: "p-a", container: "main" });
  });

  it("kube-apiserver's checks: viewer and node credentials 403, no token 401, unknown pod 404, unbound and completed pods 400", async () => {
    const env = ctx.env();
    const w = ctx.world();
    const viewer = await refused(env, execPath("p-a"), EXEC_PROTOCOLS, env.viewer);
    expect(viewer.status).toBe(403);
    expect(viewer.json.message).toMatch(
      /^pods "p-a" is forbidden: User "[^"]+" cannot create resource "pods\/exec" in API group "" in the namespace "default"$/,
    );
    const node = await refused(env, execPath("p-a"), EXEC_PROTOCOLS, w.creds["node-a"]);
    expect([node.status, node.json.reason]).toEqual([403, "Forbidden"]);
    expect(node.json.message).toContain('User "system:node:node-a" cannot create resource "pods/exec"');
    const pf = await refused(env, "/api/v1/namespaces/default/pods/p-a/portforward?ports=8080", ["v4.channel.k8s.io"], env.viewer);
    expect(pf.json.message).toContain('cannot create resource "pods/portforward"');
    expect((await refused(env, execPath("p-a"), EXEC_PROTOCOLS)).status).toBe(401);
    const missing = await refused(env, execPath("ghost"), EXEC_PROTOCOLS, env.admin);
    expect([missing.status, missing.json.message]).toEqual([404, 'pods "ghost" not found']);
    const unbound = await refused(env, execPath("unbound"), EXEC_PROTOCOLS, env.admin);
    expect([unbound.status, unbound.json.message]).toEqual([400, "pod unbound does not have a host assigned"]);
    const done = await refused(env, execPath("done"), EXEC_PROTOCOLS, env.admin);
    expect([done.status, done.json.message]).toEqual([400, "cannot exec into a container in a completed pod; current phase is Succeeded"]);
    const pfDone = await refused(env, "/api/v1/namespaces/default/pods/done/portforward?ports=80", ["v4.channel.k8s.io"], env.admin);
    expect([pfDone.status, pfDone.json.message]).toEqual([400, "unable to forward port because pod is not running. Current status=Succeeded"]);
    // none of these asked an agent for anything
    expect(w.agents["node-a"].opens.filter((o) => ["ghost", "unbound", "done"].includes(o.pod))).toEqual([]);
    // a plain request (no upgrade) is told to upgrade, after the same checks
    const plain = await w.api("POST", execPath("p-a"));
    expect([plain.status, plain.json?.message]).toEqual([400, "Upgrade request required"]);
    expect((await w.api("POST", execPath("p-a"), undefined, env.viewer)).status).toBe(403);
  });

  it("the tunnel takes only a node's own credential: another node's tunnel, an admin, a viewer get 403; an unknown stream 404", async () => {
    const env = ctx.env();
    const w = ctx.world();
    const other = await refused(env, TUNNEL_PATH("node-b"), [TUNNEL_PROTOCOL], w.creds["node-a"]);
    expect([other.status, other.json.reason]).toEqual([403, "Forbidden"]);
    expect(other.json.message).toContain('User "system:node:node-a"');
    expect((await refused(env, TUNNEL_PATH("node-a"), [TUNNEL_PROTOCOL], env.admin)).status).toBe(403);
    expect((await refused(env, TUNNEL_PATH("node-a"), [TUNNEL_PROTOCOL], env.viewer)).status).toBe(403);
    expect((await refused(env, TUNNEL_PATH("node-a"), [TUNNEL_PROTOCOL])).status).toBe(401);
    const stream = await refused(env, STREAM_PATH("node-b", "0".repeat(32)), [TUNNEL_PROTOCOL], w.creds["node-a"]);
    expect(stream.status).toBe(403);
    const unknown = await refused(env, STREAM_PATH("node-a", "0".repeat(32)), [TUNNEL_PROTOCOL], w.creds["node-a"]);
    expect([unknown.status, unknown.json.reason]).toEqual([404, "NotFound"]);
    // node-b's still working tunnel was not disturbed by node-a's attempt
    const b = await session(env, execPath("p-b"));
    await b.waitFor(1, "hello from node-b");
    b.ws.close();
  });

  it("an agent's refusal reaches the client as its Status; no tunnel and no answer in time are 500 'error dialing backend'", async () => {
    const env = ctx.env();
    const rej = await refused(env, `${execPath("p-a")}&container=reject-me`, EXEC_PROTOCOLS, env.admin);
    expect([rej.status, rej.json.message]).toEqual([500, 'container not found ("reject-me")']);
    const none = await refused(env, execPath("lonely"), EXEC_PROTOCOLS, env.admin);
    expect([none.status, none.json.reason]).toEqual([500, "InternalError"]);
    expect(none.json.message).toBe('error dialing backend: node "node-c": its agent has no tunnel open');
    const quiet = await refused(env, execPath("quiet"), EXEC_PROTOCOLS, env.admin);
    expect([quiet.status, quiet.json.message]).toEqual([500, `error dialing backend: node "node-a": its agent did not answer within ${ctx.answerTimeoutS}s`]);
  });

  it(`bounds the open streams of a node (429 past the limit); streams of other nodes and freed slots go on`, async () => {
    const env = ctx.env();
    const held: Session[] = [];
    for (let i = 0; i < ctx.maxStreams; i++) held.push(await session(env, execPath("p-a")));
    const over = await refused(env, execPath("p-a"), EXEC_PROTOCOLS, env.admin);
    expect([over.status, over.json.reason]).toEqual([429, "TooManyRequests"]);
    // another node is not limited by node-a's streams
    const b = await session(env, execPath("p-b"));
    await b.waitFor(1, "hello");
    b.ws.close();
    held.pop()!.ws.close();
    // the freed slot is usable (the server sees the close a moment later)
    const again = await sessionWhenFree(env, execPath("p-a"));
    await again.waitFor(1, "hello");
    for (const s of [...held, again]) s.ws.close();
  });

  it("a stream whose client does not read does not hold up another stream of the same node", async () => {
    const env = ctx.env();
    const slow = await sessionWhenFree(env, execPath("p-a"));
    await slow.waitFor(1, "hello");
    // the slow client stops reading; 8 MiB of stdin echoed back to it piles up behind it
    (slow.ws as any)._socket.pause();
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    for (let i = 0; i < 32; i++) slow.stdin(chunk);
    const fast = await sessionWhenFree(env, execPath("p-a"));
    await fast.waitFor(1, "hello");
    for (let i = 0; i < 5; i++) {
      fast.stdin(`round ${i}\n`);
      await fast.waitFor(1, `round ${i}\n`, 2000);
    }
    fast.ws.close();
    slow.ws.terminate();
  });

  it("a node's new control channel replaces the old; with none, streams fail; after a reconnect they work again", async () => {
    const env = ctx.env();
    const w = ctx.world();
    const first = w.agents["node-b"];
    const second = await w.startAgent("node-b");
    // the server closes the replaced channel (its close frame; the TCP connection may linger)
    for (let i = 0; i < 100 && first.control.readyState === WebSocket.OPEN; i++) await new Promise((r) => setTimeout(r, 50));
    expect(first.control.readyState).not.toBe(WebSocket.OPEN);
    const s = await session(env, execPath("p-b"));
    await s.waitFor(1, "hello from node-b");
    s.ws.close();
    expect(second.opens.some((o) => o.pod === "p-b")).toBe(true);
    // the agent dies with a stream open: the client's stream ends, saying why
    const live = await session(env, execPath("p-b"));
    await live.waitFor(1, "hello from node-b");
    const liveClosed = new Promise<{ code: number; reason: string }>((r) => live.ws.once("close", (code, reason) => r({ code, reason: String(reason) })));
    await second.close();
    expect(await liveClosed).toEqual({ code: 1011, reason: "the other end of the stream went away" });
    let none: { status: number; json: any } | undefined;
    for (let i = 0; i < 50; i++) {
      none = await refused(env, execPath("p-b"), EXEC_PROTOCOLS, env.admin).catch(() => undefined);
      if (none?.status === 500) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(none?.json?.message).toContain("no tunnel open");
    await w.startAgent("node-b");
    const again = await session(env, execPath("p-b"));
    await again.waitFor(1, "hello from node-b");
    again.ws.close();
  });

  it("proxied responses keep their status, headers and bodies: chunked, 3 MiB, HEAD, a 404 of the pod's own", async () => {
    const env = ctx.env();
    const dispatcher = new Agent({ connect: { ca: env.ca } });
    const get = (path: string, method = "GET") =>
      undiciFetch(`${env.url}/api/v1/namespaces/default/pods/p-a:8080/proxy${path}`, { method, dispatcher, headers: { Authorization: `Bearer ${env.admin}` } });
    const chunked = await get("/chunked");
    expect([chunked.status, chunked.headers.get("x-backend"), await chunked.text()]).toEqual([201, "toy", "one,two,three"]);
    const big = await get("/big");
    expect(big.status).toBe(200);
    const bytes = Buffer.from(await big.arrayBuffer());
    expect(bytes.length).toBe(BIG.length);
    expect(bytes.equals(BIG)).toBe(true);
    const head = await get("/hello", "HEAD");
    expect([head.status, head.headers.get("x-backend"), await head.text()]).toEqual([200, "toy", ""]);
    const missing = await get("/missing");
    expect([missing.status, await missing.text()]).toEqual([404, "not here"]);
    await dispatcher.close();
  });

  it("@kubernetes/client-node's Exec: stdin, stdout and the exit status through its callback", async () => {
    const env = ctx.env();
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(env.kubeconfigPath);
    let stdout = "";
    const out = new Writable({
      write(chunk, _enc, cb) {
        stdout += chunk;
        cb();
      },
    });
    const stdin = new PassThrough();
    const status = new Promise<k8s.V1Status>((resolve) => {
      new k8s.Exec(kc).exec("default", "p-b", "main", ["sh"], out, null, stdin, false, resolve);
    });
    stdin.write("from the library\n");
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (stdout.includes("from the library\n")) {
          clearInterval(t);
          r();
        }
      }, 20);
    });
    stdin.write("exit 7\n");
    const s = await status;
    expect(s).toMatchObject({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "7" }] } });
    expect(stdout).toBe("hello from node-b/p-b/main\nfrom the library\n");
  });
};
