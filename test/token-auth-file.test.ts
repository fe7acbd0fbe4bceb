/**
 * Static token files (kube-apiserver's --token-auth-file format) on both runtimes:
 * `npm start -- --token-auth-file FILE` and the Worker's TOKEN_AUTH_FILE secret.
 * Users in group system:masters are admins, everyone else reads only.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTokenFile } from "../workers/api/auth";
import { type RunningServer, startServer } from "../node/server";
import { startWorkerTarget, type Target } from "./targets";

const FILE = [
  // RBAC decides for users not in system:masters: kubeflare:viewers is bound to view (as viewer tokens are)
  "viewer-token-0123456789,jane,1001,kubeflare:viewers",
  "",
  'root-token-0123456789,root,1002,"system:masters,devs"',
  'dev-token-0123456789,dev,1003,"devs,kubeflare:viewers"',
].join("\n");

describe("parseTokenFile", () => {
  it("reads kube-apiserver's format: token,user,uid and quoted groups; blank lines skipped", () => {
    const { entries, warnings } = parseTokenFile(FILE + "\r\n");
    expect(entries).toEqual([
      { token: "viewer-token-0123456789", user: "jane", uid: "1001", groups: ["kubeflare:viewers"] },
      { token: "root-token-0123456789", user: "root", uid: "1002", groups: ["system:masters", "devs"] },
      { token: "dev-token-0123456789", user: "dev", uid: "1003", groups: ["devs", "kubeflare:viewers"] },
    ]);
    expect(warnings).toEqual([]);
  });

  it('understands CSV quoting ("" inside quotes)', () => {
    expect(parseTokenFile('t,"a ""quoted"" user",u1\n').entries[0].user).toBe('a "quoted" user');
  });

  it("refuses lines with fewer than 3 columns and broken quoting, naming the line", () => {
    expect(() => parseTokenFile("a,b,c\nonly,two\n", "tokens.csv")).toThrow(
      "tokens.csv: line 2: must have at least 3 columns (token, user name, user uid), found 2",
    );
    expect(() => parseTokenFile('a,b,c,"g1,g2\n', "tokens.csv")).toThrow("tokens.csv: line 1: a quoted field is not closed");
    expect(() => parseTokenFile('a,b"x,c\n', "tokens.csv")).toThrow('tokens.csv: line 1: bare " in non-quoted field');
    expect(() => parseTokenFile('a,"b"x,c\n', "tokens.csv")).toThrow("tokens.csv: line 1: extraneous or missing");
  });

  it("skips empty tokens and lets a repeated token's later line win, as kube-apiserver does, with warnings", () => {
    const { entries, warnings } = parseTokenFile(",nobody,1\nt,first,1\nt,second,2\n");
    expect(entries).toEqual([{ token: "t", user: "second", uid: "2", groups: [] }]);
    expect(warnings).toEqual(["token file: line 1: empty token, line ignored", "token file: line 3: duplicate token, the later line wins"]);
  });
});

/** The checks both runtimes must pass: what each user of FILE may do. */
const checkRoles = async (call: (method: string, path: string, token: string, body?: unknown) => Promise<{ status: number; body: any }>) => {
  const cm = (name: string) => ({ metadata: { name }, data: { k: "v" } });
  // a viewer reads...
  expect((await call("GET", "/api/v1/namespaces", "viewer-token-0123456789")).status).toBe(200);
  expect((await call("GET", "/api/v1/namespaces/default/configmaps", "dev-token-0123456789")).status).toBe(200);
  // ...but may not write
  const denied = await call("POST", "/api/v1/namespaces/default/configmaps", "viewer-token-0123456789", cm("by-viewer"));
  expect([denied.status, denied.body.reason]).toEqual([403, "Forbidden"]);
  expect(denied.body.message).toContain('User "jane" cannot create resource "configmaps"');
  expect((await call("DELETE", "/api/v1/namespaces/default", "dev-token-0123456789")).status).toBe(403);
  // system:masters may
  expect((await call("POST", "/api/v1/namespaces/default/configmaps", "root-token-0123456789", cm("by-root"))).status).toBe(201);
  // unknown tokens are not let in
  expect((await call("GET", "/api/v1/namespaces", "not-in-the-file")).status).toBe(401);
  const list = await call("GET", "/api/v1/namespaces/default/configmaps", "viewer-token-0123456789");
  expect(list.body.items.map((i: any) => i.metadata.name)).toEqual(["by-root"]);
};

describe("npm start --token-auth-file", () => {
  let s: RunningServer;
  let dir = "";
  let dispatcher: Agent;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kf-tokens-"));
    writeFileSync(join(dir, "tokens.csv"), FILE);
    s = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: join(dir, "data"),
      synchronous: "NORMAL",
      controllers: [],
      log: () => {},
      tokenAuthFile: join(dir, "tokens.csv"),
    });
    dispatcher = new Agent({ connect: { ca: s.caPem } });
  });
  afterAll(async () => {
    await s?.close();
    await dispatcher?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("authenticates the file's users: viewers read, system:masters write", async () => {
    await checkRoles(async (method, path, token, body) => {
      const res = await undiciFetch(s.url + path, {
        method,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        dispatcher,
      });
      return { status: res.status, body: await res.json() };
    });
    // the admin token still works
    const res = await undiciFetch(s.url + "/api/v1/namespaces", { headers: { Authorization: `Bearer ${s.adminToken}` }, dispatcher });
    expect(res.status).toBe(200);
  });

  it("refuses to start with a malformed file, saying where", async () => {
    writeFileSync(join(dir, "bad.csv"), "good-token,user,1\nbroken-line-without-uid,user\n");
    await expect(
      startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "data2"), controllers: [], log: () => {}, tokenAuthFile: join(dir, "bad.csv") }),
    ).rejects.toThrow(`token file ${join(dir, "bad.csv")}: line 2: must have at least 3 columns (token, user name, user uid), found 2`);
    await expect(
      startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "data2"), controllers: [], log: () => {}, tokenAuthFile: join(dir, "missing.csv") }),
    ).rejects.toThrow(`cannot read the token file ${join(dir, "missing.csv")}`);
  });

  it("npm start exits with the error", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "node/main.ts", "--no-agent", "--port", "0", "--data-dir", join(dir, "data3"), "--token-auth-file", join(dir, "bad.csv")],
      {
        cwd: join(__dirname, ".."),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(code).toBe(1);
    expect(err).toContain(`error: token file ${join(dir, "bad.csv")}: line 2: must have at least 3 columns`);
  });
});

describe("Worker TOKEN_AUTH_FILE", () => {
  let t: Target;
  beforeAll(async () => {
    t = await startWorkerTarget({ bindings: { TOKEN_AUTH_FILE: FILE, VIEWER_TOKENS: "old-style-viewer-token" } });
  }, 120_000);
  afterAll(async () => t?.close());

  it("authenticates the file's users the same way, and VIEWER_TOKENS still work", async () => {
    await checkRoles(async (method, path, token, body) => {
      const res = await t.fetch(path, {
        method,
        token,
        headers: { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    });
    expect((await t.fetch("/api/v1/namespaces", { token: "old-style-viewer-token" })).status).toBe(200);
    expect((await t.fetch("/api/v1/namespaces/default/configmaps", { method: "POST", token: "old-style-viewer-token", body: "{}" })).status).toBe(403);
  });
});

describe("Worker with a malformed TOKEN_AUTH_FILE", () => {
  let t: Target;
  beforeAll(async () => {
    t = await startWorkerTarget({ bindings: { TOKEN_AUTH_FILE: "a,b,c\nshort\n" } });
  }, 120_000);
  afterAll(async () => t?.close());

  it("answers a 500 Status that names the problem, not an opaque exception", async () => {
    const res = await t.fetch("/api/v1/namespaces");
    expect(res.status).toBe(500);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ kind: "Status", reason: "InternalError" });
    expect(body.message).toContain("TOKEN_AUTH_FILE: line 2: must have at least 3 columns");
  });
});
