import { createClient, type Client } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";

/** The committed migrations; a bundled build (bin/bundle.mjs) says where they are, since its own URL is elsewhere. */
export const MIGRATIONS_DIR = process.env.KUBEFLARE_MIGRATIONS_DIR || fileURLToPath(new URL("../migrations", import.meta.url));

export interface OpenOptions {
  authToken?: string;
  /** SQLite `synchronous` for file databases: FULL (default; survives power loss) or NORMAL (faster; survives process crashes) */
  synchronous?: "FULL" | "NORMAL";
}

/**
 * Open a libSQL database (a `file:` URL for the embedded store, or http(s)/libsql for
 * sqld/Turso) and bring its schema up to date with the committed migrations.
 */
export async function openDatabase(url: string, opts: OpenOptions = {}): Promise<Client> {
  const local = url.startsWith("file:");
  const client = createClient({
    url,
    authToken: opts.authToken,
    intMode: "number",
    // One connection: writes are short single statements, and per-connection PRAGMAs stick.
    ...(local ? { concurrency: 1 } : {}),
  });
  if (local) {
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute(`PRAGMA synchronous = ${opts.synchronous ?? "FULL"}`);
    // Never wait for another process's lock on the event loop: the store retries asynchronously.
    await client.execute("PRAGMA busy_timeout = 0");
  }
  await migrateDatabase(client);
  return client;
}

export async function migrateDatabase(client: Client): Promise<void> {
  await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
}
