/**
 * A write acknowledged with 2xx survives kill -9 of the server process, also when
 * many writes share one commit (the embedded store's group commit).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, fetch } from "undici";
import { afterAll, describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const start = (dataDir: string, port: number) => {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "node/main.ts"), "--port", String(port), "--data-dir", dataDir, "--no-agent"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("listening on")) resolve();
    });
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  return { child, ready };
};

const freePort = async () => {
  const { createServer } = await import("node:net");
  return new Promise<number>((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
};

describe("durability", () => {
  it("keeps an acknowledged write across kill -9 and restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "kf-kill-"));
    dirs.push(dataDir);
    const port = await freePort();
    const first = start(dataDir, port);
    await first.ready;
    const token = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    const ca = readFileSync(join(dataDir, "tls", "ca.crt"), "utf8");
    const dispatcher = new Agent({ connect: { ca } });
    const url = `https://127.0.0.1:${port}`;
    const auth = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    const created = await fetch(`${url}/api/v1/namespaces/default/configmaps`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ metadata: { name: "survivor" }, data: { k: "v" } }),
      dispatcher,
    });
    expect(created.status).toBe(201);
    const rv = ((await created.json()) as any).metadata.resourceVersion;
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));

    const second = start(dataDir, port);
    await second.ready;
    const got = await fetch(`${url}/api/v1/namespaces/default/configmaps/survivor`, { headers: auth, dispatcher });
    expect(got.status).toBe(200);
    const body = (await got.json()) as any;
    expect(body.data).toEqual({ k: "v" });
    expect(body.metadata.resourceVersion).toBe(rv);
    // same admin token and CA after restart
    expect(readFileSync(join(dataDir, "admin-token"), "utf8").trim()).toBe(token);
    second.child.kill("SIGTERM");
    const code = await new Promise((r) => second.child.once("exit", r));
    expect(code).toBe(0);
    await dispatcher.close();
  });

  it("keeps every write acknowledged under concurrent load across kill -9 (group commit)", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "kf-kill-load-"));
    dirs.push(dataDir);
    const port = await freePort();
    const first = start(dataDir, port);
    await first.ready;
    const token = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    const ca = readFileSync(join(dataDir, "tls", "ca.crt"), "utf8");
    const dispatcher = new Agent({ connect: { ca }, connections: 30 });
    const url = `https://127.0.0.1:${port}`;
    const auth = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    // 20 writers create configmaps as fast as they can; the server is killed while they do
    const acked = new Map<string, string>();
    let killed = false;
    const writers = Array.from({ length: 20 }, async (_, w) => {
      for (let i = 0; !killed; i++) {
        const name = `w${w}-${i}`;
        try {
          const res = await fetch(`${url}/api/v1/namespaces/default/configmaps`, {
            method: "POST",
            headers: auth,
            body: JSON.stringify({ metadata: { name }, data: { i: String(i) } }),
            dispatcher,
          });
          const body = (await res.json()) as any;
          if (res.status === 201) acked.set(name, body.metadata.resourceVersion);
        } catch {
          return; // the connection died with the server
        }
      }
    });
    while (acked.size < 100) await new Promise((r) => setTimeout(r, 10));
    first.child.kill("SIGKILL");
    killed = true;
    await new Promise((r) => first.child.once("exit", r));
    await Promise.all(writers);
    await dispatcher.close();

    const second = start(dataDir, port);
    await second.ready;
    const again = new Agent({ connect: { ca } });
    const list = await fetch(`${url}/api/v1/namespaces/default/configmaps`, { headers: auth, dispatcher: again });
    const stored = new Map(((await list.json()) as any).items.map((o: any) => [o.metadata.name, o.metadata.resourceVersion]));
    const lost = [...acked].filter(([name, rv]) => stored.get(name) !== rv);
    expect(acked.size).toBeGreaterThanOrEqual(100);
    expect(lost).toEqual([]);
    second.child.kill("SIGTERM");
    await new Promise((r) => second.child.once("exit", r));
    await again.close();
  });
});
