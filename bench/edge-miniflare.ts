/**
 * The metered Worker (bench/edge-worker.ts) bundled and run in Miniflare, as the edge and
 * scale scenarios run it: its libSQL database a file in `dir` (the schema made first, as
 * `npm run db:migrate` does) served over Hrana through the DB service binding, its work
 * queue a Miniflare queue, the watch hub and the tunnel as Durable Objects. Kept apart
 * from edge-worker.ts, which is the Worker's own entry and is bundled for workerd.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { createHranaHandler, type HranaServer } from "../dev/hrana";
import { openDatabase } from "../node/db";
import { buildWorker } from "../scripts/build-worker";

const root = fileURLToPath(new URL("..", import.meta.url));

export interface EdgeWorker<H extends HranaServer> {
  mf: Miniflare;
  /** http://127.0.0.1:port */
  url: string;
  adminToken: string;
  hrana: H;
  /** stops the cron, disposes of Miniflare (waiting 10 s at most) and closes the database server */
  close(): Promise<void>;
}

/**
 * Starts the Worker with its files in `dir`; `serve` makes the database server for the
 * file's path (default: dev/hrana.ts's handler). With `cron`, the cron trigger runs once
 * a minute as on Cloudflare (node lifecycle, resyncs). `miniflare`: more Miniflare options
 * (e.g. handleRuntimeStdio), added to these; `bindings`: more of the Worker's vars (e.g.
 * SUBREQUESTS_PER_INVOCATION); `batchTimeout`: the queue consumer's max_batch_timeout in
 * seconds (default 0, as wrangler.toml).
 */
export async function startEdgeWorker<H extends HranaServer = HranaServer>(
  dir: string,
  o: { serve?: (path: string) => H; cron?: boolean; bindings?: Record<string, string>; batchTimeout?: number; miniflare?: Record<string, unknown> } = {},
): Promise<EdgeWorker<H>> {
  const dbPath = join(dir, "db.sqlite");
  (await openDatabase(`file:${dbPath}`, { synchronous: "NORMAL" })).close();
  const hrana = o.serve ? o.serve(dbPath) : (createHranaHandler({ path: dbPath }) as H);
  let mf: Miniflare | undefined;
  let cron: ReturnType<typeof setInterval> | undefined;
  const close = async () => {
    clearInterval(cron);
    if (mf) await Promise.race([mf.dispose(), new Promise((r) => setTimeout(r, 10_000))]);
    hrana.close();
  };
  try {
    const scriptPath = join(dir, "worker.js");
    await buildWorker(scriptPath, join(root, "bench/edge-worker.ts"));
    const adminToken = "bench-admin-token";
    mf = new Miniflare({
      host: "127.0.0.1",
      port: 0,
      modules: true,
      scriptPath,
      modulesRoot: dir,
      compatibilityDate: "2025-09-01",
      compatibilityFlags: ["nodejs_compat"],
      bindings: { LIBSQL_URL: "http://db.internal", ADMIN_TOKEN: adminToken, MAX_BODY_BYTES: String(3 * 1024 * 1024), ...o.bindings },
      serviceBindings: { DB: (req: Request) => hrana.handler(req) as any },
      queueProducers: { QUEUE: { queueName: "kubeflare-work" } },
      queueConsumers: { "kubeflare-work": { maxBatchSize: 100, maxBatchTimeout: o.batchTimeout ?? 0 } },
      durableObjects: { HUB: { className: "WatchHub", useSQLite: true }, TUNNEL: { className: "TunnelObject", useSQLite: true } },
      ...o.miniflare,
    } as any);
    const url = (await mf.ready).toString().replace(/\/$/, "");
    if (o.cron) {
      const worker = await mf.getWorker();
      cron = setInterval(() => void (worker as any).scheduled({ cron: "* * * * *", scheduledTime: new Date() }).catch(() => {}), 60_000);
    }
    return { mf, url, adminToken, hrana, close };
  } catch (e) {
    await close();
    throw e;
  }
}
