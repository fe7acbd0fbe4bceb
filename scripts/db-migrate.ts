/**
 * `npm run db:migrate`: apply the committed migrations to a libSQL database
 * (Turso / sqld at LIBSQL_URL with LIBSQL_AUTH_TOKEN, or a `file:` URL).
 * The Node server migrates its embedded database on start-up by itself.
 */
import { migrateDatabase } from "../node/db";
import { createClient } from "@libsql/client";

const url = process.argv[2] ?? process.env.LIBSQL_URL;
if (!url) {
  console.error("usage: LIBSQL_URL=libsql://... [LIBSQL_AUTH_TOKEN=...] npm run db:migrate   (or: npm run db:migrate -- <url>)");
  process.exit(2);
}
const client = createClient({ url, authToken: process.env.LIBSQL_AUTH_TOKEN, intMode: "number" });
try {
  console.log(`migrating ${url.replace(/\?.*$/, "")} ...`);
  await migrateDatabase(client);
  const rows = await client.execute("SELECT count(*) AS n FROM __drizzle_migrations");
  console.log(`done: ${rows.rows[0]?.n} migrations applied`);
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  client.close();
}
