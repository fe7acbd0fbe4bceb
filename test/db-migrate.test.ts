/** `npm run db:migrate` brings a remote libSQL (here: the dev Hrana endpoint) up to date, and is idempotent. */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient } from "@libsql/client";
import { expect, it } from "vitest";
import { serveHrana } from "../dev/hrana";

it("migrates a remote database over HTTP", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kf-migrate-"));
  const hrana = await serveHrana({ path: join(dir, "db.sqlite"), port: 0, host: "127.0.0.1" });
  try {
    const run = () => promisify(execFile)("npx", ["tsx", "scripts/db-migrate.ts"], { env: { ...process.env, LIBSQL_URL: hrana.url } });
    const first = await run();
    expect(first.stdout).toMatch(/done: \d+ migrations applied/);
    const second = await run();
    expect(second.stdout).toBe(first.stdout);
    const client = createClient({ url: hrana.url });
    const tables = (await client.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).rows.map((r) => r.name);
    client.close();
    expect(tables).toEqual(expect.arrayContaining(["changes", "objects", "owner_refs"]));
  } finally {
    await hrana.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
