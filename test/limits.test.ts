/**
 * Request bodies cannot exhaust memory: credentials are checked before a body is read
 * (the join token too), and the body limit is enforced while the body streams in.
 * Against `npm start`'s server in a child process (so its RSS is its own) and against
 * the Worker in Miniflare (status codes).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkerTarget, type Target } from "./targets";

const MiB = 1024 * 1024;
const BOGUS_JOIN_TOKEN = "abcdef.0123456789abcdef";

interface Sent {
  status: number;
  headers: Record<string, string>;
  body: any;
  /** body bytes the client managed to write before the answer came */
  sentBytes: number;
}

/**
 * POST a `total`-byte body over a raw TLS connection (chunked unless `declare`, which
 * sends a Content-Length and no body at all), stopping as soon as the answer arrives.
 */
const bigPost = (
  url: string,
  ca: string,
  path: string,
  token: string,
  total: number,
  o: { declare?: boolean; prefix?: string /** an attacker: keep sending after the answer, until the server closes */; untilClosed?: boolean } = {},
): Promise<Sent> =>
  new Promise((resolve, reject) => {
    const u = new URL(url);
    const sock = tlsConnect({ host: u.hostname, port: Number(u.port), ca });
    let raw = Buffer.alloc(0);
    let sent = 0;
    let done = false;
    let answer: Sent | undefined;
    const finish = (r: Sent | Error) => {
      if (done) return;
      if (o.untilClosed && !(r instanceof Error)) {
        answer ??= r;
        return;
      }
      done = true;
      sock.destroy();
      if (r instanceof Error && answer) resolve({ ...answer, sentBytes: sent });
      else if (r instanceof Error) reject(r);
      else resolve(r);
    };
    sock.on("error", (e) => finish(e));
    sock.on("close", () => finish(new Error(`connection closed without an answer after ${sent} body bytes`)));
    sock.on("data", (d: Buffer) => {
      raw = Buffer.concat([raw, d]);
      const end = raw.indexOf("\r\n\r\n");
      if (end < 0) return;
      const [statusLine, ...lines] = raw.subarray(0, end).toString().split("\r\n");
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      const length = Number(headers["content-length"]);
      if (answer || !(raw.length - end - 4 >= length)) return;
      const text = raw.subarray(end + 4, end + 4 + length).toString();
      finish({ status: Number(statusLine.split(" ")[1]), headers, body: JSON.parse(text), sentBytes: sent });
    });
    sock.on("secureConnect", async () => {
      const head = `POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n`;
      if (o.declare) {
        sock.write(`${head}Content-Length: ${total}\r\n\r\n`);
        return;
      }
      sock.write(`${head}Transfer-Encoding: chunked\r\n\r\n`);
      const chunk = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from("\r\n")]);
      if (o.prefix) sock.write(chunk(Buffer.from(o.prefix)));
      const frame = chunk(Buffer.alloc(64 * 1024, 0x61));
      while (sent < total && !done) {
        if (!sock.write(frame)) {
          await new Promise<void>((r) => {
            const go = () => {
              sock.off("drain", go);
              sock.off("close", go);
              r();
            };
            sock.on("drain", go);
            sock.on("close", go);
          });
        }
        sent += 64 * 1024;
      }
      if (!done) sock.write("0\r\n\r\n");
    });
  });

const rssBytes = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) * 1024;
};

/** The largest RSS growth of `pid` over `baseline` while `work` runs. */
const peakGrowth = async <T>(pid: number, baseline: number, work: () => Promise<T>): Promise<{ result: T; growth: number }> => {
  let peak = rssBytes(pid);
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, 20);
  try {
    const result = await work();
    await new Promise((r) => setTimeout(r, 300)); // anything still arriving
    peak = Math.max(peak, rssBytes(pid));
    return { result, growth: peak - baseline };
  } finally {
    clearInterval(sampler);
  }
};

describe.skipIf(process.platform !== "linux")("npm start: big bodies do not exhaust memory", () => {
  const adminToken = "limits-test-admin-token";
  let dir = "";
  let child: ChildProcess;
  let url = "";
  let ca = "";
  let baseline = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kf-limits-"));
    child = spawn(process.execPath, ["--import", "tsx", "node/main.ts", "--no-agent", "--port", "0", "--data-dir", dir, "--sync", "normal"], {
      cwd: join(__dirname, ".."),
      env: { ...process.env, KUBEFLARE_ADMIN_TOKEN: adminToken },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stderr!.on("data", (d) => (out += d));
    url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", (d) => {
        out += d;
        const m = /listening on (https:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on("exit", (code) => reject(new Error(`npm start exited (${code}): ${out}`)));
    });
    ca = readFileSync(join(dir, "tls", "ca.crt"), "utf8");
    // warm up every path the attacks take, then take the resting RSS
    for (let i = 0; i < 3; i++) {
      await bigPost(url, ca, "/apis/kubeflare.dev/v1/join", BOGUS_JOIN_TOKEN, 4 * MiB);
      await bigPost(url, ca, "/api/v1/namespaces/default/configmaps", adminToken, 4 * MiB);
      await bigPost(url, ca, "/apis/kubeflare.dev/v1/bootstraptokens", adminToken, 1 * MiB);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      samples.push(rssBytes(child.pid!));
      await new Promise((r) => setTimeout(r, 100));
    }
    baseline = Math.max(...samples);
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses three concurrent 200 MB chunked join bodies with a bogus token before reading them", async () => {
    const { result, growth } = await peakGrowth(child.pid!, baseline, () =>
      Promise.all(
        [0, 1, 2].map(() =>
          bigPost(url, ca, "/apis/kubeflare.dev/v1/join", BOGUS_JOIN_TOKEN, 200 * MiB, { prefix: '{"nodeName":"x","pad":"', untilClosed: true }),
        ),
      ),
    );
    for (const r of result) {
      expect([r.status, r.body.kind, r.body.reason]).toEqual([401, "Status", "Unauthorized"]);
      // the server stopped reading (what was sent sits in socket buffers) and closed, though the client kept sending
      expect(r.sentBytes).toBeLessThan(32 * MiB);
    }
    expect(growth).toBeLessThan(30 * MiB);
  });

  it("stops reading an authenticated 200 MB chunked body at the limit: 413 Status", async () => {
    const { result, growth } = await peakGrowth(child.pid!, baseline, () =>
      Promise.all([0, 1, 2].map(() => bigPost(url, ca, "/api/v1/namespaces/default/configmaps", adminToken, 200 * MiB, { untilClosed: true }))),
    );
    for (const r of result) {
      expect([r.status, r.body.kind, r.body.reason]).toEqual([413, "Status", "RequestEntityTooLarge"]);
      expect(r.sentBytes).toBeLessThan(32 * MiB);
    }
    expect(growth).toBeLessThan(30 * MiB);
  });

  it("limits the bootstraptokens body too (chunked and declared)", async () => {
    const { result, growth } = await peakGrowth(child.pid!, baseline, async () => [
      await bigPost(url, ca, "/apis/kubeflare.dev/v1/bootstraptokens", adminToken, 50 * MiB, { prefix: '{"ttlSeconds":60,"pad":"' }),
      await bigPost(url, ca, "/apis/kubeflare.dev/v1/bootstraptokens", adminToken, 50 * MiB, { declare: true }),
    ]);
    for (const r of result) expect([r.status, r.body.kind, r.body.reason]).toEqual([413, "Status", "RequestEntityTooLarge"]);
    expect(growth).toBeLessThan(30 * MiB);
  });

  it("answers a declared oversize body at once, and a bogus join token without reading its body", async () => {
    const declared = await bigPost(url, ca, "/api/v1/namespaces/default/configmaps", adminToken, 200 * MiB, { declare: true });
    expect([declared.status, declared.body.reason]).toEqual([413, "RequestEntityTooLarge"]);
    const join = await bigPost(url, ca, "/apis/kubeflare.dev/v1/join", BOGUS_JOIN_TOKEN, 200 * MiB, { declare: true });
    expect([join.status, join.body.reason]).toEqual([401, "Unauthorized"]);
    // and nobody is locked out afterwards
    const ok = await fetchJson(url, ca, "/api/v1/namespaces", adminToken);
    expect(ok.status).toBe(200);
  });
});

const fetchJson = async (url: string, ca: string, path: string, token: string) => {
  const { Agent, fetch } = await import("undici");
  const dispatcher = new Agent({ connect: { ca } });
  try {
    const res = await fetch(url + path, { headers: { Authorization: `Bearer ${token}` }, dispatcher });
    return { status: res.status, body: await res.json() };
  } finally {
    await dispatcher.close();
  }
};

describe("Worker: big bodies", () => {
  let t: Target;
  beforeAll(async () => {
    t = await startWorkerTarget({ bindings: { MAX_BODY_BYTES: String(256 * 1024) } });
  }, 120_000);
  afterAll(async () => t?.close());

  /**
   * A chunked body that sends `total` bytes (starting with `prefix`) and then stalls, as a
   * slow client still sending would: the answer must come without the rest. (A client
   * that keeps writing after the runtime answered and closed may see a reset instead of
   * the answer, so this one stops.)
   */
  const stream = (total: number, prefix = "") => {
    let sent = 0;
    const enc = new TextEncoder();
    return new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent === 0 && prefix) {
          sent += prefix.length;
          c.enqueue(enc.encode(prefix));
          return;
        }
        if (sent >= total) return new Promise<void>(() => {});
        sent += 64 * 1024;
        c.enqueue(new Uint8Array(64 * 1024).fill(0x61));
      },
    });
  };
  const post = async (path: string, body: ReadableStream<Uint8Array> | string, token: string | null) => {
    const res = await t.fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
      token,
      duplex: "half",
      signal: AbortSignal.timeout(20_000),
    } as RequestInit);
    return { status: res.status, body: (await res.json()) as any };
  };

  // the bodies below never end (they stall after their first bytes): an answer proves the
  // server did not wait for them; a small start keeps the client from writing into a
  // connection the runtime already closed (a reset instead of the answer)
  it("a bogus join token gets 401 before its body is read", async () => {
    // not JSON at all: read first, this was a 400
    const r = await post("/apis/kubeflare.dev/v1/join", stream(64 * 1024), BOGUS_JOIN_TOKEN);
    expect([r.status, r.body.kind, r.body.reason]).toEqual([401, "Status", "Unauthorized"]);
  });

  it("no token on an authenticated route: 401 before the body", async () => {
    const r = await post("/api/v1/namespaces/default/configmaps", stream(64 * 1024), null);
    expect([r.status, r.body.reason]).toEqual([401, "Unauthorized"]);
  });

  it("oversize chunked bodies get 413 Status, bootstraptokens included", async () => {
    const cm = await post("/api/v1/namespaces/default/configmaps", stream(1 * MiB), t.token);
    expect([cm.status, cm.body.kind, cm.body.reason]).toEqual([413, "Status", "RequestEntityTooLarge"]);
    // 40 KiB: under the API's body limit, over the one of this tiny endpoint
    const bt = await post("/apis/kubeflare.dev/v1/bootstraptokens", stream(40 * 1024, '{"ttlSeconds":60,"pad":"'), t.token);
    expect([bt.status, bt.body.kind, bt.body.reason]).toEqual([413, "Status", "RequestEntityTooLarge"]);
    // nothing was created
    const secrets = await t.fetch("/api/v1/namespaces/kube-system/secrets");
    expect(((await secrets.json()) as any).items.filter((s: any) => s.type === "bootstrap.kubernetes.io/token")).toEqual([]);
  });

  it("a valid join token still joins (small body), and the body must be a JSON object", async () => {
    const tok = (await (await t.fetch("/apis/kubeflare.dev/v1/bootstraptokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600 }) })).json()) as any;
    const bad = await post("/apis/kubeflare.dev/v1/join", "[1,2]", tok.token);
    expect([bad.status, bad.body.reason]).toEqual([400, "BadRequest"]);
    const ok = await post("/apis/kubeflare.dev/v1/join", JSON.stringify({ nodeName: "limits-box" }), tok.token);
    expect([ok.status, ok.body.kind]).toEqual([201, "NodeCredential"]);
  });
});
