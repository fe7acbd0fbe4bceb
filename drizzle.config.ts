import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "turso",
  schema: "./workers/store/schema.ts",
  out: "./migrations",
  dbCredentials: {
    url: process.env.LIBSQL_URL ?? "file:.kubeflare/kubeflare.db",
    authToken: process.env.LIBSQL_AUTH_TOKEN,
  },
});
