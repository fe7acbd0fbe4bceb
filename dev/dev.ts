/**
 * `npm run dev`: the Worker under `wrangler dev` (workerd, HTTPS with wrangler's
 * self-signed certificate) over a local libSQL database served by the bundled
 * Hrana endpoint, plus a kubeconfig for it.
 *
 *   npm run dev                 # https://127.0.0.1:8787, kubeconfig in .kubeflare-dev/
 *   npm run dev -- --port 9000
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { openDatabase } from "../node/db";
import { serveHrana } from "./hrana";
import { kubeconfigYaml, writeKubeconfig } from "../node/kubeconfig";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8787" },
    "db-port": { type: "string", default: "8788" },
    "data-dir": { type: "string", default: "./.kubeflare-dev" },
  },
});
const dir = resolve(values["data-dir"]!);
mkdirSync(dir, { recursive: true, mode: 0o700 });
const dbPath = join(dir, "kubeflare.db");
(await openDatabase(`file:${dbPath}`)).close();
const hrana = await serveHrana({ path: dbPath, port: Number(values["db-port"]), host: "127.0.0.1" });

const tokenFile = join(dir, "admin-token");
if (!existsSync(tokenFile)) writeFileSync(tokenFile, randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
const token = readFileSync(tokenFile, "utf8").trim();
const server = `https://127.0.0.1:${values.port}`;
const kubeconfig = join(dir, "kubeconfig");
// wrangler dev's certificate is self-signed and changes: skip verification for local dev only.
writeKubeconfig(kubeconfig, kubeconfigYaml({ server, token, clusterName: "kubeflare-dev", insecureSkipTlsVerify: true }));

console.log(`libSQL (Hrana) at ${hrana.url}, database ${dbPath}`);
console.log(`kubeconfig: ${kubeconfig}   try: kubectl --kubeconfig ${kubeconfig} get ns`);
const wrangler = spawn(
  join(process.cwd(), "node_modules/.bin/wrangler"),
  [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(values.port),
    "--local-protocol",
    "https",
    "--test-scheduled",
    "--var",
    `LIBSQL_URL:${hrana.url}`,
    "--var",
    `ADMIN_TOKEN:${token}`,
  ],
  // its own process group: wrangler leaves workerd children behind unless the whole group is stopped
  { stdio: "inherit", detached: true },
);
const stop = () => {
  try {
    process.kill(-wrangler.pid!, "SIGTERM");
  } catch {
    wrangler.kill("SIGTERM");
  }
  void hrana.close();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
wrangler.on("exit", (code) => {
  void hrana.close();
  process.exit(code ?? 0);
});
